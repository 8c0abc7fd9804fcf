"""Main-text extractors side by side: thin wrappers with one signature, ``(html: bytes) -> str``, that never raise.

Every wrapper runs its library with the settings a user gets by default (the exceptions are named below) and returns
the main text as plain text with line breaks between blocks (so words of adjacent blocks never fuse into one token).
A wrapper whose library fails on a page (empty document, parser error, recursion on a deep tree…) returns ``""``; a
wrapper whose library is not installed also returns ``""`` and ``available()`` says so.

- ``trafilatura``: ``trafilatura.extract(html, include_comments=False)``; everything else at its defaults (the
  gold of every corpus here leaves user comments out). trafilatura decodes the bytes itself.
- ``justext``: jusText with the union of all its stoplists (about 100 languages), the language-independent setting
  its documentation suggests when the page's language is unknown; the bytes are decoded with ``bpdetect.decode``
  first (jusText's own fallback is a fixed default encoding). The text of the paragraphs it keeps (not boilerplate).
- ``readability``: readability-lxml's ``Document(html).summary()`` (it decodes the bytes itself), and that HTML
  fragment flattened to text with a line break at every block element and ``<br>``.
- ``resiliparse``: ``extract_plain_text(tree, main_content=True)`` on ``HTMLTree.parse_from_bytes(html, enc)`` where
  ``enc`` is resiliparse's own ``detect_encoding``; other options at their defaults.
- ``bpdetect``: ``Detector.extract(html, input="html").text`` on the shipped default model or a given model file.

``versions()`` records what ran, for reports.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from collections.abc import Callable
from pathlib import Path

import lxml.html
from lxml import etree

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "available",
    "bpdetect_extractor",
    "html_fragment_text",
    "justext_extract",
    "readability_extract",
    "resiliparse_extract",
    "trafilatura_extract",
    "versions",
]

log = logging.getLogger(__name__)

Extractor = Callable[[bytes], str]

# Distribution name of each peer, for versions().
_DISTRIBUTIONS = {
    "trafilatura": "trafilatura",
    "justext": "jusText",
    "readability": "readability-lxml",
    "resiliparse": "resiliparse",
    "bpdetect": "bpdetect",
}
# Module each peer imports (to tell whether it is installed without importing it).
_MODULES = {
    "trafilatura": "trafilatura",
    "justext": "justext",
    "readability": "readability",
    "resiliparse": "resiliparse",
    "bpdetect": "bpdetect",
}


def _failed(name: str, exc: BaseException) -> str:
    log.debug("%s failed: %s: %s", name, type(exc).__name__, exc)
    return ""


# ---------------------------------------------------------------------------------------------------------------------
# trafilatura


def trafilatura_extract(html: bytes) -> str:
    """trafilatura's main text with default settings and no comments ("" when it finds nothing or fails)."""
    try:
        import trafilatura

        return trafilatura.extract(html, include_comments=False) or ""
    except Exception as exc:
        return _failed("trafilatura", exc)


# ---------------------------------------------------------------------------------------------------------------------
# jusText


@functools.cache
def _justext_stoplist() -> frozenset[str]:
    """The union of every stoplist jusText ships: its language-independent setting."""
    import justext

    words: set[str] = set()
    for language in sorted(justext.get_stoplists()):
        words |= justext.get_stoplist(language)
    return frozenset(words)


def justext_extract(html: bytes) -> str:
    """jusText's non-boilerplate paragraphs with all stoplists, one per line (bytes decoded by bpdetect.decode)."""
    try:
        import justext

        from bpdetect.decode import decode

        text = decode(html).text
        if not text.strip():
            return ""
        paragraphs = justext.justext(text, _justext_stoplist())
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)
    except Exception as exc:
        return _failed("justext", exc)


# ---------------------------------------------------------------------------------------------------------------------
# readability-lxml

# Elements whose boundaries end a line when an HTML fragment is flattened to text.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


def html_fragment_text(fragment: str) -> str:
    """Visible text of an HTML fragment, a line per block element (and per ``<br>``), whitespace collapsed."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = " ".join("".join(buf).split())
        if line:
            lines.append(line)
        buf.clear()

    # Comments, processing instructions and invisible elements go first (their tails stay).
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *_SKIP_TAGS, with_tail=False)
    # Iterative walk: readability's summaries of deep pages can exceed Python's recursion limit.
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        block = tag in _BLOCK_TAGS
        if event == "start":
            if block or tag == "br":
                flush()
            if el.text:
                buf.append(el.text)
        else:
            if block:
                flush()
            if el.tail and el is not root:
                buf.append(el.tail)
    flush()
    return "\n".join(lines)


@functools.cache
def _quiet_readability() -> None:
    """readability-lxml logs a traceback for every page it cannot read; the wrapper reports those as ""."""
    logging.getLogger("readability").setLevel(logging.CRITICAL)


def readability_extract(html: bytes) -> str:
    """readability-lxml's ``Document(html).summary()`` flattened to text, a line per block."""
    try:
        from readability import Document

        _quiet_readability()
        return html_fragment_text(Document(html).summary())
    except Exception as exc:
        return _failed("readability", exc)


# ---------------------------------------------------------------------------------------------------------------------
# resiliparse


def resiliparse_extract(html: bytes) -> str:
    """resiliparse's ``extract_plain_text(tree, main_content=True)`` on its own encoding detection and parser."""
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import detect_encoding
        from resiliparse.parse.html import HTMLTree

        tree = HTMLTree.parse_from_bytes(html, detect_encoding(html))
        return extract_plain_text(tree, main_content=True) or ""
    except Exception as exc:
        return _failed("resiliparse", exc)


# ---------------------------------------------------------------------------------------------------------------------
# bpdetect


@functools.cache
def _detector(html_model: str | None, text_model: str | None):  # -> bpdetect.Detector (imported lazily)
    """One Detector per process and model pair (models load on first use; None = the shipped default)."""
    from bpdetect.extract import Detector

    return Detector(html_model=html_model, text_model=text_model)


def bpdetect_extractor(model: str | Path | None = None) -> Extractor:
    """An extractor running bpdetect's HTML model (the shipped default when ``model`` is None).

    The Detector is created lazily and cached per process, so the returned function pickles cheaply to workers.
    """
    return functools.partial(_bpdetect_extract, None if model is None else str(model))


def _bpdetect_extract(model: str | None, html: bytes) -> str:
    try:
        return _detector(model, None).extract(html, input="html").text
    except Exception as exc:
        return _failed("bpdetect", exc)


def bpdetect_text_extract(text: str, model: str | None = None) -> str:
    """bpdetect's plain-text model on a scraper's text dump ("" on failure); ``model`` None = the shipped default."""
    try:
        return _detector(None, model).extract(text, input="text").text
    except Exception as exc:
        return _failed("bpdetect-text", exc)


# ---------------------------------------------------------------------------------------------------------------------
# Registry

EXTRACTORS: dict[str, Extractor] = {
    "trafilatura": trafilatura_extract,
    "justext": justext_extract,
    "readability": readability_extract,
    "resiliparse": resiliparse_extract,
    "bpdetect": bpdetect_extractor(),
}


def available(name: str) -> bool:
    """Whether the library behind an extractor is installed."""
    import importlib.util

    return importlib.util.find_spec(_MODULES[name]) is not None


def versions() -> dict[str, str | None]:
    """Installed version of every extractor's distribution (None when not installed)."""
    out: dict[str, str | None] = {}
    for name, dist in _DISTRIBUTIONS.items():
        try:
            out[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
