"""Scrapy integration: an item pipeline that adds the main content of crawled pages to items, and a spider helper.

Scrapy is an optional dependency (``pip install "bpdetect[scrapy]"``); this module imports it only when used, and
``import bpdetect`` never imports this module.

Enable the pipeline in your project's ``settings.py``::

    ITEM_PIPELINES = {"bpdetect.integrations.scrapy.BpdetectPipeline": 300}
    BPDETECT_HTML_FIELD = "html"          # item field holding the page (bytes or str); items without it pass through
    BPDETECT_ENCODING_FIELD = "encoding"  # item field with the charset Scrapy found (used when the page is bytes)
    BPDETECT_TEXT_FIELD = "text"          # where the main text goes
    BPDETECT_TITLE_FIELD = "title"        # filled from <title> unless the spider already set it (None: off)
    BPDETECT_URL_FIELD = "url"
    BPDETECT_THRESHOLD = "balanced"       # or "precision", "recall", or a number in [0, 1]
    BPDETECT_KEEP_HTML = False            # False (the default) removes the raw page from the item once processed
    # BPDETECT_MODEL = "models/my-model.npz"   # your own trained model (default: the shipped one)
    # BPDETECT_MARKDOWN_FIELD = "markdown"       # also store markdown (None: off, the default)
    # BPDETECT_SCORE_FIELD = "bpdetect_score"    # also store the kept blocks' mean content probability
    # BPDETECT_ERROR_FIELD = "bpdetect_error"    # set on items whose page could not be processed
    # BPDETECT_DROP_ON_ERROR = True              # drop such items (DropItem) instead
    # BPDETECT_DROP_EMPTY = True                 # drop items whose page has no main content

and yield the page from your spider::

    import scrapy

    class NewsSpider(scrapy.Spider):
        name = "news"
        start_urls = ["https://example.com/"]

        def parse(self, response):
            yield {"url": response.url, "html": response.body, "encoding": response.encoding}
            yield from response.follow_all(css="a.article-link", callback=self.parse)

Or extract inside the spider with :func:`extract_response`::

    from bpdetect.integrations.scrapy import extract_response

        def parse(self, response):
            ext = extract_response(response, threshold="precision")
            yield {"url": response.url, "title": ext.title, "text": ext.text}

The model is loaded once per process (when the spider opens) and shared by every pipeline and spider of that
process; the crawl stats record ``bpdetect/model_loads`` (loads this pipeline caused: 0 when the model was already
in memory), ``bpdetect/items``, ``bpdetect/empty``, ``bpdetect/errors``, ``bpdetect/skipped`` and
``bpdetect/dropped``.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..extract import Detector, Threshold
from ..records import Extraction
from ..segment import InputKind

__all__ = [
    "BpdetectPipeline",
    "PipelineOptions",
    "content_score",
    "detector_for",
    "extract_response",
    "model_loads",
    "parse_threshold",
]

logger = logging.getLogger(__name__)

PRESETS = ("precision", "balanced", "recall")
INPUT_KINDS = ("auto", "html", "text")

# Process-wide cache: one Detector per model (None = the shipped default), and the (model, input kind) pairs whose
# model is already in memory. Guarded by _LOCK so that threads (or several crawlers in one process) load once.
_LOCK = threading.Lock()
_DETECTORS: dict[str | None, Detector] = {}
_LOADED: set[tuple[str | None, str]] = set()
_LOADS = 0


def _model_key(model: str | Path | None) -> str | None:
    return None if model is None else str(Path(model).expanduser().resolve())


def _detector(model: str | Path | None, warm: str | None) -> tuple[Detector, int]:
    """The cached Detector for ``model``, with the ``warm`` input kind's model loaded; and how many loads it took."""
    global _LOADS
    from ..persist import load_model

    key = _model_key(model)
    loads = 0
    with _LOCK:
        det = _DETECTORS.get(key)
        if det is None:
            if key is None:
                det = Detector.default()
            else:
                bundle = load_model(key)  # ModelError (a ValueError) with a clear message when unusable
                det = Detector(**{f"{bundle.input}_model": bundle})
                _LOADED.add((key, bundle.input))
                loads += 1
            _DETECTORS[key] = det
        if warm is not None and (key, warm) not in _LOADED:
            det.bundle(warm)
            _LOADED.add((key, warm))
            loads += 1
        _LOADS += loads
    return det, loads


def detector_for(model: str | Path | None = None, *, warm: str | None = None) -> Detector:
    """The process-wide Detector for a model file (None: the shipped default); ``warm="html"`` loads it now."""
    return _detector(model, warm)[0]


def model_loads() -> int:
    """How many model files this module has loaded in this process (each model is loaded at most once)."""
    return _LOADS


def parse_threshold(value: Any) -> Threshold:
    """A threshold from a setting: None/"" (the model's default), a preset name, or a number in [0, 1]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        name = value.strip().lower()
        if name in PRESETS:
            return name
        try:
            value = float(name)
        except ValueError:
            raise ValueError(
                f"BPDETECT_THRESHOLD must be a number in [0, 1] or one of {', '.join(PRESETS)}; got {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"BPDETECT_THRESHOLD must be a number in [0, 1] or a preset name; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class PipelineOptions:
    """What the pipeline reads and writes; ``from_settings`` maps the BPDETECT_* Scrapy settings onto it."""

    html_field: str = "html"
    encoding_field: str | None = "encoding"
    text_field: str = "text"
    title_field: str | None = "title"
    url_field: str | None = "url"
    markdown_field: str | None = None
    score_field: str | None = None
    error_field: str | None = "bpdetect_error"
    model: str | None = None
    threshold: Threshold = None
    input: InputKind = "html"  # the field holds a crawled page: read it as HTML even when it has little markup
    keep_html: bool = False
    drop_on_error: bool = False
    drop_empty: bool = False

    def __post_init__(self) -> None:
        if not self.html_field or not self.text_field:
            raise ValueError("BPDETECT_HTML_FIELD and BPDETECT_TEXT_FIELD must be non-empty field names")
        if self.input not in INPUT_KINDS:
            raise ValueError(f"BPDETECT_INPUT must be one of {', '.join(INPUT_KINDS)}; got {self.input!r}")
        object.__setattr__(self, "threshold", parse_threshold(self.threshold))

    @classmethod
    def from_settings(cls, settings: Any) -> PipelineOptions:
        """Options from Scrapy settings (any mapping with ``get``): BPDETECT_<OPTION NAME IN UPPER CASE>."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            name = f"BPDETECT_{f.name.upper()}"
            if name not in settings:
                continue
            if isinstance(f.default, bool):
                kwargs[f.name] = _as_bool(settings.get(name), name)
            else:
                value = settings.get(name)
                # An empty string turns an optional field off (handy on the command line: -s BPDETECT_TITLE_FIELD=).
                kwargs[f.name] = None if value == "" and f.name not in ("html_field", "text_field") else value
        return cls(**kwargs)


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", "", "none"):
        return False
    raise ValueError(f"{name} must be True or False; got {value!r}")


def _markdown_renderer() -> Callable[..., str]:
    """``bpdetect.formats.to_markdown``, or a clear error on a bpdetect that does not have it."""
    try:
        return importlib.import_module("bpdetect.formats").to_markdown
    except (ImportError, AttributeError):
        raise ValueError(
            "BPDETECT_MARKDOWN_FIELD needs bpdetect.formats.to_markdown, missing in this bpdetect"
        ) from None


def content_score(ext: Extraction) -> float:
    """Mean content probability of the kept blocks, weighted by their characters (0.0 when nothing is kept)."""
    kept = ext.content_blocks
    chars = sum(sb.block.n_chars for sb in kept)
    if chars == 0:
        return 0.0
    return round(sum(sb.score * sb.block.n_chars for sb in kept) / chars, 4)


def _page_bytes_or_str(value: Any, field: str) -> bytes | str:
    if isinstance(value, bytes | str):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if value is None:
        raise ValueError(f"the item's {field!r} field is empty (no page to extract from)")
    raise TypeError(f"the item's {field!r} field holds {type(value).__name__}; expected the page as bytes or str")


class BpdetectPipeline:
    """Item pipeline: extracts the main text (and title, markdown, score) of the page an item carries.

    Works with dicts, ``scrapy.Item`` and dataclass/attrs items (through itemadapter). Items without the HTML field
    pass through unchanged; a page that cannot be processed gets an error field (or is dropped when
    ``BPDETECT_DROP_ON_ERROR`` is set) and never stops the crawl.
    """

    def __init__(self, options: PipelineOptions | None = None, *, stats: Any = None) -> None:
        self.options = options or PipelineOptions()
        self.stats = stats
        self._detector: Detector | None = None
        self._to_markdown = _markdown_renderer() if self.options.markdown_field else None
        self._warned_skip = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> BpdetectPipeline:
        """Build the pipeline from the crawler's BPDETECT_* settings (Scrapy calls this)."""
        return cls(PipelineOptions.from_settings(crawler.settings), stats=getattr(crawler, "stats", None))

    # -- Scrapy hooks -------------------------------------------------------------------------------------------

    def open_spider(self, spider: Any = None) -> None:
        """Load the model now (once per process), so the first item is not slow and a bad model fails early."""
        kind = "text" if self.options.input == "text" else "html"
        self._detector, loads = _detector(self.options.model, warm=kind)
        # Checks a preset against the model's own presets, before any item is processed.
        self._detector.bundle(kind).threshold_for(self.options.threshold)
        self._stat("bpdetect/model_loads", loads, set_value=True)
        logger.info(
            "bpdetect: model %s ready (%d load(s) now, %d in this process)",
            self.options.model or "default",
            loads,
            model_loads(),
        )

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Add the extraction to the item; never raises for a bad page (unless configured to drop it)."""
        from itemadapter import ItemAdapter

        if not ItemAdapter.is_item(item):
            return item
        adapter = ItemAdapter(item)
        opts = self.options
        if opts.html_field not in adapter:
            self._skip(item)
            return item
        url = adapter.get(opts.url_field) if opts.url_field else None
        url = url if isinstance(url, str) else None
        try:
            ext = self._extract(adapter)
        except Exception as exc:  # a page must never stop a crawl: report it on the item instead
            return self._failed(item, adapter, url, exc)
        self._store(adapter, ext, url)
        self._stat("bpdetect/items")
        if not ext.text:
            self._stat("bpdetect/empty")
            if opts.drop_empty:
                self._stat("bpdetect/dropped")
                raise _drop_item(f"bpdetect found no main content in {url or 'the page'}")
        return item

    # -- helpers ------------------------------------------------------------------------------------------------

    def _extract(self, adapter: Any) -> Extraction:
        opts = self.options
        page = _page_bytes_or_str(adapter.get(opts.html_field), opts.html_field)
        encoding = adapter.get(opts.encoding_field) if opts.encoding_field and isinstance(page, bytes) else None
        if self._detector is None:  # process_item called without open_spider (e.g. outside a crawl)
            self._detector = detector_for(opts.model)
        return self._detector.extract(
            page,
            url=adapter.get(opts.url_field) if opts.url_field else None,
            input=opts.input,
            threshold=opts.threshold,
            encoding=encoding if isinstance(encoding, str) and encoding else None,
        )

    def _store(self, adapter: Any, ext: Extraction, url: str | None) -> None:
        opts = self.options
        _set(adapter, opts.text_field, ext.text, "BPDETECT_TEXT_FIELD")
        if opts.title_field and ext.title and not adapter.get(opts.title_field):
            _set(adapter, opts.title_field, ext.title, "BPDETECT_TITLE_FIELD")
        if opts.markdown_field and self._to_markdown is not None:
            _set(adapter, opts.markdown_field, self._to_markdown(ext, url=url), "BPDETECT_MARKDOWN_FIELD")
        if opts.score_field:
            _set(adapter, opts.score_field, content_score(ext), "BPDETECT_SCORE_FIELD")
        self._drop_html(adapter)

    def _failed(self, item: Any, adapter: Any, url: str | None, exc: Exception) -> Any:
        opts = self.options
        message = f"{type(exc).__name__}: {exc}"
        logger.warning("bpdetect could not process %s: %s", url or type(item).__name__, message)
        self._stat("bpdetect/errors")
        if opts.drop_on_error:
            self._stat("bpdetect/dropped")
            raise _drop_item(f"bpdetect could not process {url or 'the page'}: {message}")
        _set(adapter, opts.text_field, "", "BPDETECT_TEXT_FIELD")
        if opts.error_field:
            _set(adapter, opts.error_field, message, "BPDETECT_ERROR_FIELD")
        self._drop_html(adapter)
        return item

    def _drop_html(self, adapter: Any) -> None:
        # Raw pages are large and bytes do not serialize to JSON feeds: removed unless BPDETECT_KEEP_HTML is set.
        field = self.options.html_field
        if self.options.keep_html or field not in adapter:
            return
        if isinstance(adapter.item, MutableMapping):  # dict, scrapy.Item: the field goes away
            del adapter[field]
        else:  # dataclass, attrs, pydantic: deleting an attribute would break the object, so it becomes None
            try:
                adapter[field] = None
            except (TypeError, ValueError):  # a model that validates its fields and refuses None keeps the page
                pass

    def _skip(self, item: Any) -> None:
        self._stat("bpdetect/skipped")
        if not self._warned_skip:
            self._warned_skip = True
            logger.warning(
                "bpdetect: %s items without a %r field pass through unchanged (set BPDETECT_HTML_FIELD?)",
                type(item).__name__,
                self.options.html_field,
            )

    def _stat(self, key: str, value: int = 1, *, set_value: bool = False) -> None:
        if self.stats is None:
            return
        if set_value:
            self.stats.set_value(key, value)
        else:
            self.stats.inc_value(key, value)


def _set(adapter: Any, field: str, value: Any, setting: str) -> None:
    try:
        adapter[field] = value
    except KeyError:
        raise ValueError(
            f"{type(adapter.item).__name__} has no field {field!r}: declare it in the item class or change {setting}"
        ) from None


def _drop_item(message: str) -> Exception:
    from scrapy.exceptions import DropItem

    return DropItem(message)


def extract_response(
    response: Any,
    *,
    detector: Detector | None = None,
    model: str | Path | None = None,
    threshold: Threshold = None,
    input: InputKind | None = None,
) -> Extraction:
    """Extract the main content of a Scrapy response, with the body's bytes and the encoding Scrapy determined.

    ``input`` defaults to "html" for HTML responses and "auto" otherwise; ``model`` is a model file (cached once per
    process) and ``detector`` a Detector of your own.
    """
    body = getattr(response, "body", None)
    url = getattr(response, "url", None)
    if not isinstance(body, bytes) or not isinstance(url, str):
        raise TypeError(f"extract_response needs a scrapy Response, got {type(response).__name__}")
    # TextResponse.encoding: the HTTP header, a BOM or <meta charset>, else what Scrapy inferred from the body;
    # a binary Response has none and bpdetect's decoder decides.
    encoding = getattr(response, "encoding", None)
    if input is None:
        from scrapy.http import HtmlResponse

        input = "html" if isinstance(response, HtmlResponse) else "auto"
    det = detector if detector is not None else detector_for(model)
    return det.extract(body, url=url, input=input, threshold=parse_threshold(threshold), encoding=encoding)
