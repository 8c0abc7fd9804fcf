"""Executor-side work of the Spark integration, in plain Python (no pyspark import): the model cached per process,
extraction of a batch of pages into result rows, and the records of one WARC file as rows.

Spark runs this code in its Python worker processes. Those are reused from task to task (``spark.python.worker.reuse``,
on by default), so the module-level Detector cache below loads the model once per executor Python process; task
closures carry only an :class:`ExtractOptions` (a few hundred bytes), never the model.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from ... import batch
from ...batch import Failed, Item, Skipped
from ...records import Extraction

if TYPE_CHECKING:  # pragma: no cover
    from ...extract import Detector

__all__ = [
    "RESULT_FIELDS",
    "ExtractOptions",
    "WarcRow",
    "content_score",
    "detector",
    "extract_rows",
    "model_loads",
    "open_warc",
    "warc_rows",
]

# Fields of one extraction result, in order (the UDF's struct; the JSONL record of `bpdetect extract` plus
# "confidence" and "error").
RESULT_FIELDS: tuple[str, ...] = (
    "text", "title", "confidence", "input", "encoding", "truncated", "threshold", "error",
)  # fmt: skip


@dataclass(frozen=True)
class ExtractOptions:
    """How pages are extracted; small and picklable: what a task closure carries instead of the model."""

    threshold: float | str | None = None  # a number in [0, 1] or a preset name; None: the model's own
    model: str | None = None  # a model file (a path on the executors, or a name shipped with --files); None: shipped
    force: bool = False  # load a model whose library versions differ
    rules: bool = True  # boilerplate-line rules (see bpdetect.boilerplate)
    input: str = "auto"  # "auto", "html" or "text"
    max_blocks: int | None = batch.MAX_BLOCKS
    chunk_size: int = batch.CHUNK_SIZE  # pages per batched model call


_DETECTORS: dict[tuple[str | None, bool, bool], Detector] = {}
_LOCK = threading.Lock()
_LOADS = 0


def _model_path(model: str | None) -> str | None:
    """A model file as the executor sees it: the path itself, or the copy Spark shipped with ``--files``."""
    if not model or os.path.exists(model):
        return model
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(os.path.basename(model))
    except Exception:  # not inside Spark, or no SparkFiles root: the loader reports the missing file
        return model
    return shipped if os.path.exists(shipped) else model


def detector(opts: ExtractOptions) -> Detector:
    """The Detector of this Python process for ``opts``: created on first use, then reused by every later task."""
    global _LOADS
    key = (opts.model, opts.force, opts.rules)
    det = _DETECTORS.get(key)
    if det is None:
        with _LOCK:
            det = _DETECTORS.get(key)
            if det is None:
                det = batch.get_detector(_model_path(opts.model), opts.force, opts.rules)
                for kind in ("html", "text") if opts.input == "auto" else (opts.input,):
                    det.bundle(kind)  # load the model files now, once, not inside the first page's timing
                _DETECTORS[key] = det
                _LOADS += 1
    return det


def model_loads() -> int:
    """How many times this process has loaded a model (1 per distinct model settings; the tests check it)."""
    return _LOADS


def content_score(ext: Extraction) -> float:
    """Page-level confidence: the kept blocks' mean content probability, weighted by characters (0.0: none kept).

    The same definition as the Scrapy pipeline's score (bpdetect.integrations.scrapy.content_score).
    """
    kept = ext.content_blocks
    chars = sum(sb.block.n_chars for sb in kept)
    if chars == 0:
        return 0.0
    return round(sum(sb.score * sb.block.n_chars for sb in kept) / chars, 4)


Result = tuple[Any, ...]  # one value per RESULT_FIELDS entry


def _ok(ext: Extraction) -> Result:
    return (
        ext.text, ext.title, content_score(ext), ext.source, ext.encoding, bool(ext.truncated),
        float(ext.threshold), None,
    )  # fmt: skip


def _error(reason: str) -> Result:
    return (None, None, None, None, None, None, None, reason)


def _extract_strings(pages: list[tuple[int, str]], det: Detector, opts: ExtractOptions, out: list[Result]) -> None:
    """Pages given as str (a string HTML column): one by one, each failure its own error result."""
    for i, page in pages:
        try:
            out[i] = _ok(det.extract(page, input=opts.input, threshold=opts.threshold, max_blocks=opts.max_blocks))
        except Exception as exc:
            out[i] = _error(f"cannot extract: {type(exc).__name__}: {exc}")


def extract_rows(
    html: Sequence[Any], urls: Sequence[str | None], charsets: Sequence[str | None], opts: ExtractOptions
) -> list[Result]:
    """One result per page: bytes pages in batched model calls (bpdetect.batch.extract_items, the CLI's code, with
    the charset passed as the encoding), str pages one by one; a page that fails gives an error result."""
    from threadpoolctl import threadpool_limits

    det = detector(opts)
    out: list[Result] = [_error("not extracted")] * len(html)
    items: list[tuple[int, Item]] = []
    strings: list[tuple[int, str]] = []
    for i, (page, url, charset) in enumerate(zip(html, urls, charsets, strict=True)):
        if isinstance(page, (bytes, bytearray, memoryview)):
            items.append((i, Item(str(i), url, bytes(page), charset or None)))
        elif isinstance(page, str):
            strings.append((i, page))
        else:  # None (a null cell, e.g. the reader's error rows) or a value of another type
            out[i] = _error("no HTML (the html value is null)" if page is None else f"not HTML: {type(page).__name__}")
    with threadpool_limits(limits=1):  # one OpenMP/BLAS thread per Spark task slot
        for start in range(0, len(items), max(1, opts.chunk_size)):
            chunk = items[start : start + opts.chunk_size]
            results = batch.extract_items(
                [item for _, item in chunk], det, input=opts.input, threshold=opts.threshold,
                max_blocks=opts.max_blocks,
            )  # fmt: skip
            for (i, _), res in zip(chunk, results, strict=True):
                out[i] = _error(res.reason) if isinstance(res, Failed) else _ok(res)
        _extract_strings(strings, det, opts, out)
    return out


# ---------------------------------------------------------------------------------------------------- WARC


class WarcRow(NamedTuple):
    """One row of the WARC reader: an HTML response (``html`` set) or an error (``error`` set)."""

    warc_path: str
    position: int  # 0, 1, 2, ... in file order (error rows included)
    record_id: str | None  # WARC-Record-ID; None for an error about the whole file
    url: str | None  # WARC-Target-URI
    http_headers: list[tuple[str, str]] | None  # lowercased names; repeated headers joined with ", "
    charset: str | None  # from the HTTP Content-Type header
    html: bytes | None
    error: str | None


class _RawStream(io.RawIOBase):
    """A raw binary stream over any object with ``read(n)`` and ``close()`` (a pyarrow input stream)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.source.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self.source.close()
        super().close()


# Schemes opener="auto" lets the executor open itself: local files, and S3 and GCS through pyarrow.fs (credentials
# from the usual chain: environment, instance profile, metadata server). hdfs:// is left to Spark, which reads it
# natively; pyarrow's HDFS client also works with opener="python" where libhdfs and CLASSPATH are set up.
PYTHON_SCHEMES = ("", "file", "s3", "s3a", "s3n", "gs", "gcs")


def scheme_of(path: str) -> str:
    """The URI scheme of a path ("" for a plain local path, including Windows drive letters)."""
    scheme = urlsplit(path).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


def open_warc(path: str) -> IO[bytes]:
    """Open a WARC path on this executor: a local path or file: URI directly, any other URI through pyarrow.fs
    (s3a:// and s3n:// read as s3://); the stream is not decompressed here (the reader sniffs gzip itself)."""
    scheme = scheme_of(path)
    if scheme == "":
        return open(path, "rb")
    if scheme == "file":
        return open(unquote(urlsplit(path).path), "rb")
    from pyarrow import fs

    uri = "s3" + path[len(scheme) :] if scheme in ("s3a", "s3n") else path
    filesystem, inner = fs.FileSystem.from_uri(uri)
    return io.BufferedReader(_RawStream(filesystem.open_input_stream(inner, compression=None)), 1 << 20)


def _headers(rec: Any) -> list[tuple[str, str]] | None:
    http = getattr(rec, "http_headers", None) if rec is not None and rec.rec_type == "response" else None
    if http is None:
        return None
    merged: dict[str, str] = {}
    for name, value in http.headers:
        key = name.strip().lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return list(merged.items())


def _record_id(item: Item, rec: Any) -> str | None:
    """The WARC-Record-ID of an item's record; None for an error about the whole file."""
    if rec is None:
        return None
    # bpdetect.batch names a record without an id "record-N" in its source id (path#record-N): the same here
    return rec.rec_headers.get_header("WARC-Record-ID") or item.source.rpartition("#")[2]


def warc_rows(
    path: str,
    *,
    max_bytes: int = batch.MAX_BYTES,
    stream: IO[bytes] | None = None,
    on_skipped: Callable[[Item], None] | None = None,
) -> Iterator[WarcRow]:
    """The HTML responses of one WARC file (read from ``stream``, else opened with :func:`open_warc`) as rows, and an
    error row for each record or file that cannot be read; other records (non-HTML, non-2xx) are left out, as in
    ``bpdetect extract``, and each one it counts as skipped is passed to ``on_skipped``. Never raises for bad input."""
    position = 0

    def row(**kw: Any) -> WarcRow:
        nonlocal position
        fields = {"record_id": None, "url": None, "http_headers": None, "charset": None, "html": None, "error": None}
        fields.update(kw)
        position += 1
        return WarcRow(path, position - 1, **fields)

    try:
        fh = stream if stream is not None else open_warc(path)
    except FileNotFoundError:
        yield row(error="no such file or directory")
        return
    except Exception as exc:  # OSError, pyarrow's errors for a bad URI or missing credentials
        yield row(error=f"cannot open: {type(exc).__name__}: {exc}")
        return
    try:
        for item, rec in batch.iter_warc_stream(fh, path, max_bytes=max_bytes):
            payload = item.payload
            if isinstance(payload, Skipped):
                if on_skipped is not None:
                    on_skipped(item)
                continue
            rid = _record_id(item, rec)
            common = {"record_id": rid, "url": item.url, "http_headers": _headers(rec) if rid else None}
            if isinstance(payload, Failed):
                yield row(**common, charset=item.encoding, error=payload.reason)
            else:
                yield row(**common, charset=item.encoding, html=payload)
    except Exception as exc:  # a failure outside the per-record guards (e.g. reading the first bytes)
        yield row(error=f"cannot read WARC: {type(exc).__name__}: {exc}")
    finally:
        if stream is None:
            fh.close()
