"""Many inputs → records: files, directories, stdin, WARC archives and URLs, extracted in batches, in parallel.

Three layers, each usable alone:

- **sources**: :func:`iter_items` turns SOURCE strings into a stream of :class:`Item` (source id, URL, bytes or a
  :class:`Failed`/:class:`Skipped` reason, declared encoding). Directories and WARC files are streamed, never read
  whole into memory.
- **runner**: :func:`run` groups items into chunks, extracts each chunk with one batched model call (in this process
  or in joblib/loky worker processes) and yields one :class:`Record` per non-skipped item, in input order.
- **writers**: :class:`StreamWriter`, :class:`FileWriter` and :class:`DirWriter` write records; files are written
  atomically (a temp file in the same directory, then ``os.replace``).

:func:`run_batch` wires the three together (it is what ``bpdetect extract`` calls).
"""

from __future__ import annotations

import contextlib
import fnmatch
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from ._version import __version__
from .records import Extraction

if TYPE_CHECKING:  # pragma: no cover
    from .extract import Detector

__all__ = [
    "DEFAULT_GLOBS",
    "MAX_BYTES",
    "AtomicFile",
    "BatchConfig",
    "DirWriter",
    "Failed",
    "Fetched",
    "FileWriter",
    "Item",
    "Options",
    "Record",
    "Skipped",
    "StreamWriter",
    "Summary",
    "extract_items",
    "fetch_url",
    "get_detector",
    "iter_directory",
    "iter_items",
    "iter_warc",
    "iter_warc_stream",
    "open_writer",
    "output_name",
    "parse_threshold",
    "process_chunk",
    "read_file",
    "run",
    "run_batch",
    "safe_name",
    "source_kind",
    "validate_options",
    "write_atomic",
]

# Files a directory source contributes when no --glob is given (matched case-insensitively on the file name).
DEFAULT_GLOBS: tuple[str, ...] = tuple(
    pat for ext in ("html", "htm", "xhtml", "shtml", "txt") for pat in (f"*.{ext}", f"*.{ext}.gz")
)
# Largest input (after gzip/transfer decoding) read into memory; bigger ones become error records. 50 MiB is far
# above real pages (the largest of the 5,374 corpus pages is 5.3 MB uncompressed) and bounds a worker's memory.
MAX_BYTES = 50 * 1024 * 1024
# Blocks segmented per page; a page beyond it is cut there and its record says truncated. Real pages have hundreds to
# a few thousand; the cap bounds the work a hostile page (100,000 tiny blocks) causes.
MAX_BLOCKS = 200_000
FETCH_TIMEOUT = 30.0  # seconds, per URL (connect and each read)
USER_AGENT = f"bpdetect/{__version__} (main-content extraction; +https://pypi.org/project/bpdetect/)"
# Pages per task sent to a worker: large enough to amortize process hops and batch the model call, small enough to
# keep memory bounded (at most ~2 chunks per worker are in flight). Measured on 1,344 corpus pages: 8 pages per chunk
# ran as fast as 32 with a peak of 299 MB instead of 343 MB (segmented pages and their records are what a chunk holds).
CHUNK_SIZE = 8
CHUNK_MAX_BYTES = 4 * 1024 * 1024  # a chunk also closes once its pages weigh this much
STDIN = "<stdin>"  # source id of standard input
WARC_SUFFIXES = (".warc", ".warc.gz")
JSONL_SUFFIXES = (".jsonl", ".json-lines", ".ndjson")
FORMAT_EXTENSIONS = {"text": ".txt", "markdown": ".md", "html": ".html", "json": ".json"}
ERRORS_FILE = "errors.jsonl"  # error records of a directory output
MAX_NAME_CHARS = 120  # output file names longer than this are cut and get a hash suffix

_GZIP_MAGIC = b"\x1f\x8b"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xhtml", "application/vnd.wap.xhtml+xml")
_URL_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# Bytes tolerated after a WARC's last complete record (stray blank lines) before it counts as truncated.
_WARC_SLACK_BYTES = 4


# ---------------------------------------------------------------------------------------------------- items


class Failed(NamedTuple):
    """An input that could not be read; it becomes an error record."""

    reason: str


class Skipped(NamedTuple):
    """A WARC record that is not an HTML page; counted as skipped, no record is written."""

    reason: str


class Deferred(NamedTuple):
    """A file to read where its item is processed: with worker processes the parent only lists paths, and each
    worker reads its own pages (no page bytes go through the parent)."""

    path: str
    max_bytes: int
    size: int  # bytes on disk when listed (weighs the chunk; 0 when unknown)


class Item(NamedTuple):
    """One input: where it came from, its bytes (or why there are none) and the charset its transport declared."""

    source: str  # file path, "<stdin>", URL, or "archive.warc.gz#<urn:uuid:...>" for a WARC record
    url: str | None
    payload: bytes | Failed | Skipped | Deferred
    encoding: str | None = None  # charset from an HTTP Content-Type header, if any


def _file_payload(path: str, max_bytes: int, defer: bool) -> bytes | Failed | Deferred:
    """A file's bytes now, or (``defer``) a Deferred to read them where the item is processed."""
    if not defer:
        return read_file(path, max_bytes=max_bytes)
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # read_file reports the problem when the item is processed
    return Deferred(path, max_bytes, size)


def resolve(item: Item) -> Item:
    """The item with a Deferred payload read (bytes or Failed); other items unchanged."""
    payload = item.payload
    if isinstance(payload, Deferred):
        return item._replace(payload=read_file(payload.path, max_bytes=payload.max_bytes))
    return item


def source_kind(source: str) -> str:
    """What a SOURCE string names: "stdin", "url", "warc", "dir" or "file" (checked on the file system)."""
    if source == "-":
        return "stdin"
    if _URL_RE.match(source):
        return "url"
    if source.lower().endswith(WARC_SUFFIXES) and not os.path.isdir(source):
        return "warc"
    if os.path.isdir(source):
        return "dir"
    return "file"


def _display(path: str) -> str:
    """A path as a printable source id: undecodable bytes of a file name (surrogate escapes) become U+FFFD."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return path


def _limited_read(stream: IO[bytes], max_bytes: int, what: str) -> bytes | Failed:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        return Failed(f"{what} is larger than the {max_bytes:,}-byte limit")
    return data


def _maybe_gunzip(data: bytes, max_bytes: int, what: str) -> bytes | Failed:
    """Decompress gzip data (sniffed by its magic bytes, whatever the file name says), capped at ``max_bytes``."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            return _limited_read(gz, max_bytes, f"{what} (decompressed)")
    except (OSError, EOFError, zlib.error) as exc:
        return Failed(f"corrupt or truncated gzip data: {exc}")


def read_file(path: str, *, max_bytes: int = MAX_BYTES) -> bytes | Failed:
    """The bytes of a file (gunzipped when gzip-compressed), or why they could not be read."""
    try:
        if os.path.isdir(path):
            return Failed("is a directory")
        with open(path, "rb") as fh:
            data = _limited_read(fh, max_bytes, "file")
    except FileNotFoundError:
        return Failed("no such file or directory")
    except OSError as exc:
        return Failed(f"cannot read: {exc.strerror or exc}")
    return data if isinstance(data, Failed) else _maybe_gunzip(data, max_bytes, "file")


def _matches(rel: str, name: str, patterns: Sequence[str]) -> bool:
    """Case-insensitive glob match: a pattern with "/" matches the relative path, other patterns the file name."""
    for pat in patterns:
        target = rel if "/" in pat else name
        if fnmatch.fnmatchcase(target.lower(), pat.lower()):
            return True
    return False


def iter_directory(top: str, patterns: Sequence[str] = DEFAULT_GLOBS) -> Iterator[str | Failed]:
    """Paths of the matching files under ``top`` in sorted order (hidden files/dirs skipped, symlinked dirs not
    followed), and a Failed for each unreadable sub-directory."""
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(top, onerror=errors.append, followlinks=False):
        while errors:
            exc = errors.pop(0)
            yield Failed(f"{exc.filename}: cannot list directory: {exc.strerror or exc}")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top).replace(os.sep, "/")
            if _matches(rel, name, patterns):
                yield path
    for exc in errors:
        yield Failed(f"{exc.filename}: cannot list directory: {exc.strerror or exc}")


def _content_type(value: str | None) -> tuple[str, str | None]:
    """(lowercased media type, charset or None) of a Content-Type header value."""
    if not value:
        return "", None
    parts = value.split(";")
    media = parts[0].strip().lower()
    charset = None
    for p in parts[1:]:
        key, _, val = p.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return media, charset


def _is_html_type(media: str) -> bool:
    return media in _HTML_TYPES


class _Counting(io.RawIOBase):
    """A read-only stream wrapper that counts the bytes read through it and turns a read error (a truncated or
    corrupt gzip stream) into end-of-file, keeping the error: every byte before it still reaches the reader."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self.raw = raw
        self.count = 0
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.error is not None:
            return 0
        try:
            # read1: one chunk at a time (GzipFile.read would drop the chunks it gathered when the stream breaks)
            data = self.raw.read1(len(b))
        except (OSError, EOFError, zlib.error) as exc:
            self.error = exc
            return 0
        n = len(data)
        b[:n] = data
        self.count += n
        return n


def iter_warc(path: str, *, max_bytes: int = MAX_BYTES) -> Iterator[Item]:
    """The HTTP responses of a WARC file as items: HTML ones with their bytes, others as Skipped.

    The source id of a record is ``path#<WARC-Record-ID>`` and its url the WARC-Target-URI; the charset of the
    HTTP Content-Type header is passed on as the item's encoding. A record cut short gives a Failed item; a file that
    cannot be read further (corrupt record, truncated gzip) gives a Failed item for the path and ends there.
    """
    try:
        import warcio.archiveiterator  # noqa: F401 - checked here, used by iter_warc_stream
    except ImportError:  # pragma: no cover - warcio is a dependency
        yield Item(_display(path), None, Failed("reading WARC files needs warcio (pip install warcio)"))
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below, after the generator is done
    except FileNotFoundError:
        yield Item(_display(path), None, Failed("no such file or directory"))
        return
    except OSError as exc:
        yield Item(_display(path), None, Failed(f"cannot read: {exc.strerror or exc}"))
        return
    try:
        yield from (item for item, _ in iter_warc_stream(fh, path, max_bytes=max_bytes))
    finally:
        fh.close()


def iter_warc_stream(fh: IO[bytes], name: str, *, max_bytes: int = MAX_BYTES) -> Iterator[tuple[Item, Any]]:
    """:func:`iter_warc`'s items from an open binary WARC stream, each with its warcio record (None: about the file)."""
    # ``name`` stands for the path in source ids (``name#<WARC-Record-ID>``). The stream is sniffed for gzip without
    # being consumed: read and seek back where it can seek, else peek (a buffered network stream); it is not closed.
    from warcio.archiveiterator import ArchiveIterator

    if fh.seekable():
        start = fh.tell()
        magic = fh.read(2)
        fh.seek(start)
    else:
        magic = fh.peek(2)[:2]  # type: ignore[attr-defined]
    # Python's gzip reader (not warcio's) so that a truncated .warc.gz is noticed instead of ending quietly; it
    # reads multi-member (per-record) gzip as one stream.
    counted = _Counting(gzip.GzipFile(fileobj=fh) if magic == _GZIP_MAGIC else fh)
    stream = io.BufferedReader(counted, buffer_size=1 << 16)
    records = ArchiveIterator(stream)
    records.INC_RECORD = ""  # warcio's stderr warning on a bad record boundary; it becomes an error record here
    yield from _warc_records(name, records, stream, counted, max_bytes)


def _warc_records(
    path: str, records: Any, stream: io.BufferedReader, counted: _Counting, max_bytes: int
) -> Iterator[tuple[Item, Any]]:
    """(item, record) pairs of a WARC stream; the record is None for an error about the whole file."""
    n_records = 0
    end = 0  # offset just past the last complete record
    last: Item | None = None
    try:
        for rec in records:
            n_records += 1
            if records.err_count:  # the previous record was not followed by a blank line: a wrong Content-Length
                records.err_count = 0
                yield Item(_display(path), None, Failed(f"record {n_records - 1} has an invalid Content-Length")), None
            if rec.format != "warc":  # warcio reads anything it does not recognize as ARC, line by line
                not_warc = f"not a WARC file (record {n_records} is not a WARC record)"
                yield Item(_display(path), None, Failed(not_warc)), None
                return
            last = _warc_item(path, rec, n_records, max_bytes)
            records.read_to_end(rec)
            missing = getattr(rec.raw_stream, "limit", 0) or 0
            if missing > 0:  # fewer bytes than the record's Content-Length: the file ends inside this record
                source, url = _record_source(path, rec, n_records)
                last = Item(source, url, Failed(f"truncated record: {missing} bytes missing"))
            end = records.get_record_offset() + records.get_record_length()
            if last is not None:
                yield last, rec
        while stream.read(1 << 20):  # to the end of the stream, where a truncated gzip shows
            pass
    except Exception as exc:  # warcio raises many types on corrupt input
        error: Exception | None = exc
    else:
        error = counted.error
    if isinstance(last, Item) and isinstance(last.payload, Failed) and last.payload.reason.startswith("truncated"):
        return  # the cut record was reported already
    if error is not None:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        yield Item(_display(path), None, Failed(f"corrupt or truncated WARC after {n_records} records: {reason}")), None
    elif counted.count - end > _WARC_SLACK_BYTES:
        # Bytes past the last complete record: warcio drops a record whose headers were cut without raising.
        missing = f"truncated WARC: {counted.count - end} bytes after the last complete record"
        yield Item(_display(path), None, Failed(missing)), None


def _record_source(path: str, rec: Any, number: int) -> tuple[str, str | None]:
    """(source id, url) of the ``number``-th record of a WARC file: path#WARC-Record-ID, WARC-Target-URI."""
    rid = rec.rec_headers.get_header("WARC-Record-ID") or f"record-{number}"
    return f"{_display(path)}#{rid}", rec.rec_headers.get_header("WARC-Target-URI")


def _warc_item(path: str, rec: Any, number: int, max_bytes: int) -> Item | None:
    """An item for one WARC record, or None for records that are not responses (requests, metadata, warcinfo)."""
    headers = rec.rec_headers
    source, url = _record_source(path, rec, number)
    if headers.get_header("Content-Length") is None:  # required by the WARC format: headers cut short
        return Item(source, url, Failed("truncated record: its WARC headers end before Content-Length"))
    if rec.rec_type not in ("response", "resource"):
        return None
    if rec.rec_type == "response" and rec.http_headers is not None:
        http = rec.http_headers
        status = http.get_statuscode() or ""
        media, charset = _content_type(http.get_header("Content-Type"))
    else:  # a resource record (wget --warc-file stores local files so) or a response without HTTP headers
        status = "200"
        media, charset = _content_type(headers.get_header("Content-Type"))
    if not status.startswith("2"):
        return Item(source, url, Skipped(f"HTTP status {status or 'unknown'}"))
    if media and not _is_html_type(media):
        return Item(source, url, Skipped(f"not HTML ({media})"))
    try:
        data = _limited_read(rec.content_stream(), max_bytes, "record")
    except Exception as exc:  # a bad chunked/gzip body in one record: report it, keep reading the file
        return Item(source, url, Failed(f"cannot decode record body: {type(exc).__name__}: {exc}"), charset)
    if isinstance(data, Failed):
        return Item(source, url, data, charset)
    if not media:  # no Content-Type at all: keep it only when the body looks like HTML
        from .segment import looks_like_html

        if not looks_like_html(data):
            return Item(source, url, Skipped("no Content-Type and not HTML"))
    return Item(source, url, data, charset)


class Fetched(NamedTuple):
    """A fetched URL: body bytes, charset from the headers, final URL after redirects, media type."""

    data: bytes
    encoding: str | None
    url: str
    media_type: str


def fetch_url(url: str, *, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched | Failed:
    """GET an http(s) URL (redirects followed, size capped, bpdetect User-Agent); HTTP and network errors → Failed."""
    import http.client
    import urllib.error
    import urllib.request

    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        return Failed(f"unsupported URL scheme {scheme!r} (http and https only)")
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = _limited_read(resp, max_bytes, "response")
            if isinstance(data, Failed):
                return data
            if (resp.headers.get("Content-Encoding") or "").strip().lower() in ("gzip", "x-gzip"):
                data = _maybe_gunzip(data, max_bytes, "response")
                if isinstance(data, Failed):
                    return data
            media, charset = _content_type(resp.headers.get("Content-Type"))
            return Fetched(data, charset, resp.geturl(), media)
    except urllib.error.HTTPError as exc:
        return Failed(f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return Failed(f"cannot fetch: {exc.reason}")
    except TimeoutError:
        return Failed(f"timed out after {timeout:g} s")
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return Failed(f"cannot fetch: {type(exc).__name__}: {exc}")


def _url_item(url: str, timeout: float, max_bytes: int) -> Item:
    got = fetch_url(url, timeout=timeout, max_bytes=max_bytes)
    if isinstance(got, Failed):
        return Item(url, url, got)
    media = got.media_type
    if media and not (_is_html_type(media) or media.startswith("text/") or media.endswith("+xml")):
        return Item(url, got.url, Failed(f"not an HTML or text page ({media})"))
    return Item(url, got.url, got.data, got.encoding)


def iter_items(
    sources: Iterable[str],
    *,
    globs: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = FETCH_TIMEOUT,
    defer_files: bool = False,
) -> Iterator[Item]:
    """Stream the inputs named by SOURCE strings, in order (directories sorted; WARC records in file order).

    With ``defer_files`` plain files (not stdin, URLs or WARC records) come as Deferred payloads, read by ``resolve``
    where they are processed.
    """
    patterns = tuple(globs) if globs else DEFAULT_GLOBS
    for src in sources:
        kind = source_kind(src)
        if kind == "stdin":
            if stdin is None:
                import sys

                stdin = sys.stdin.buffer
            data = _limited_read(stdin, max_bytes, "standard input")
            yield Item(STDIN, None, data if isinstance(data, Failed) else _maybe_gunzip(data, max_bytes, "input"))
        elif kind == "url":
            yield _url_item(src, timeout, max_bytes)
        elif kind == "warc":
            yield from iter_warc(src, max_bytes=max_bytes)
        elif kind == "dir":
            found = False
            for path in iter_directory(src, patterns):
                found = True
                if isinstance(path, Failed):
                    yield Item(src, None, path)
                elif path.lower().endswith(WARC_SUFFIXES):
                    yield from iter_warc(path, max_bytes=max_bytes)
                else:
                    yield Item(_display(path), None, _file_payload(path, max_bytes, defer_files))
            if not found:
                yield Item(src, None, Failed(f"no files matching {' '.join(patterns)} in this directory"))
        else:
            yield Item(_display(src), None, _file_payload(src, max_bytes, defer_files))


# ---------------------------------------------------------------------------------------------------- runner


@dataclass(frozen=True)
class Options:
    """How to extract and render each input (picklable: sent to worker processes)."""

    fmt: str = "text"  # one of bpdetect.formats.FORMATS
    links: bool = False  # keep links (markdown/html)
    input: str = "auto"  # "auto", "html" or "text"
    threshold: float | str | None = None  # a number or a preset name; None for the model's default
    model: str | None = None  # a model file; None for the shipped defaults
    force: bool = False  # load a model whose library versions differ
    rules: bool = True  # drop kept boilerplate lines (bpdetect.boilerplate); False: the model decides alone
    as_json: bool = False  # render every record as one JSON line (JSONL outputs), whatever ``fmt`` is
    max_blocks: int | None = MAX_BLOCKS  # blocks segmented per page (None: no limit)


class Record:
    """The outcome of one input: its rendered output, or an error reason (immutable).

    ``output`` is rendered in Options.fmt, or one JSON object (no newline) when Options.as_json. Worker processes send
    it as UTF-8 bytes (see ``packed``): the parent then neither decodes it when unpickling nor encodes it again when
    writing a file (``encoded``), which for a corpus run is most of the parent's work. ``output`` decodes on access.
    """

    __slots__ = ("_output", "error", "source", "url")
    source: str
    url: str | None
    error: str | None

    def __init__(
        self, source: str, url: str | None, output: str | bytes | None = None, error: str | None = None
    ) -> None:
        set_ = object.__setattr__
        set_(self, "source", source)
        set_(self, "url", url)
        set_(self, "_output", output)
        set_(self, "error", error)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Record is immutable (cannot set {name!r})")

    @property
    def output(self) -> str | None:
        """The rendered output (None for an error record)."""
        out = self._output
        return out.decode("utf-8", "surrogatepass") if isinstance(out, bytes) else out

    def encoded(self) -> bytes | None:
        """The rendered output as UTF-8 bytes (None for an error record)."""
        out = self._output
        return out.encode("utf-8", "surrogatepass") if isinstance(out, str) else out

    def packed(self) -> Record:
        """The same record holding its output as UTF-8 bytes: what a worker process sends back."""
        return self if not isinstance(self._output, str) else Record(self.source, self.url, self.encoded(), self.error)

    def _key(self) -> tuple[str, str | None, str | None, str | None]:
        return (self.source, self.url, self.output, self.error)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Record) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Record(source={self.source!r}, url={self.url!r}, output={self.output!r}, error={self.error!r})"

    def __reduce__(self) -> tuple[type[Record], tuple[str, str | None, str | bytes | None, str | None]]:
        return (Record, (self.source, self.url, self._output, self.error))

    @property
    def ok(self) -> bool:
        """True when the input was extracted."""
        return self.error is None

    def error_json(self) -> str:
        """The error record as one JSON line: {"source", "url"?, "error"}."""
        rec: dict[str, Any] = {"source": self.source}
        if self.url:
            rec["url"] = self.url
        rec["error"] = self.error
        return json.dumps(rec, ensure_ascii=False)


@dataclass
class Summary:
    """Counts and wall time of a batch run."""

    ok: int = 0
    errors: int = 0
    skipped: int = 0
    already_done: int = 0  # inputs passed over because an earlier run's output has their record (--resume)
    seconds: float = 0.0

    def line(self) -> str:
        """One line for stderr, e.g. "12 ok, 1 error, 3 skipped in 4.2 s" (plus ", 40 already done" on a resume)."""
        err = "error" if self.errors == 1 else "errors"
        done = f", {self.already_done} already done" if self.already_done else ""
        return f"{self.ok} ok, {self.errors} {err}, {self.skipped} skipped{done} in {self.seconds:.1f} s"


_DETECTORS: dict[tuple[str | None, bool, bool], Detector] = {}
_THREADS_LIMITED = False


def get_detector(model: str | None = None, force: bool = False, rules: bool = True) -> Detector:
    """The Detector of this process for a model file (or the shipped defaults), loaded once and cached."""
    from .extract import Detector

    key = (model, force, rules)
    det = _DETECTORS.get(key)
    if det is None:
        if model:
            det = Detector.load(model, allow_version_mismatch=force, boilerplate_rules=rules)
        elif force or not rules:
            det = Detector(allow_version_mismatch=force, boilerplate_rules=rules)
        else:
            det = Detector.default()
        _DETECTORS[key] = det
    return det


def parse_threshold(value: str | float | None) -> float | str | None:
    """A --threshold value as a number in [0, 1] or a preset name (ValueError for a number out of range)."""
    if value is None or isinstance(value, float):
        thr = value
    else:
        try:
            thr = float(value)
        except ValueError:
            return value.strip()
    if thr is not None and not 0.0 <= thr <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {value}")
    return thr


def validate_options(opts: Options) -> None:
    """Fail early (ValueError, ModelError) on a bad format, input kind, threshold preset or model file.

    A --model is loaded here (and cached, so a one-process run reuses it); the default models are only read for
    their preset names. A preset must exist in the model of every input kind the run may meet.
    """
    from .extract import _default_model_path
    from .persist import read_sidecar

    if opts.fmt not in FORMAT_EXTENSIONS:
        raise ValueError(f"unknown format {opts.fmt!r}; choose from {', '.join(FORMAT_EXTENSIONS)}")
    if opts.input not in ("auto", "html", "text"):
        raise ValueError(f"input must be 'auto', 'html' or 'text', not {opts.input!r}")
    parse_threshold(opts.threshold)
    det = get_detector(opts.model, opts.force, opts.rules) if opts.model else None
    loaded = {b.input: b for b in det._bundles.values()} if det is not None else {}
    if not isinstance(opts.threshold, str):
        return
    for kind in ("html", "text") if opts.input == "auto" else (opts.input,):
        if kind in loaded:
            where, presets = opts.model, set(loaded[kind].presets)
        else:
            path = _default_model_path(kind)
            where, presets = f"the default {kind} model", set(read_sidecar(path).get("presets") or {})
        presets.add("balanced")  # the model's own threshold
        if opts.threshold not in presets:
            raise ValueError(
                f"unknown threshold preset {opts.threshold!r} for {where}; choose from {sorted(presets)} or a number"
            )


# glibc malloc tuning for long batch runs (bytes): allocations from this size up (a big page's buffers) get their own
# mapping, returned to the system when freed, and free heap tops over it are trimmed. By default glibc raises its mmap
# threshold after freeing a large block (up to 32 MB), so a few big pages leave later page buffers on a heap that never
# shrinks: `bpdetect extract --jobs 2 --format json` over the 5,374 corpus pages peaked at 363 MB (PSS, whole process
# tree) untuned and 261 MB tuned (4 MiB chunks). A 128 KiB threshold gave the same peak but cost more page faults.
MALLOC_THRESHOLD = 1024 * 1024
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(MALLOC_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(MALLOC_THRESHOLD)}
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (glibc's malloc.h)
_M_MMAP_THRESHOLD = -3
_MALLOC_TUNED = False


def tune_malloc() -> bool:
    """Apply the MALLOC_THRESHOLD tuning to this process (glibc only; elsewhere nothing happens); True if applied."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): keep the platform's allocator as it is
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, MALLOC_THRESHOLD))
    _MALLOC_TUNED = ok
    return ok


def _limit_worker_threads() -> None:
    """One OpenMP/BLAS thread per worker process, so N workers on N cores do not oversubscribe them."""
    global _THREADS_LIMITED
    if not _THREADS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _THREADS_LIMITED = True


def extract_items(
    items: Sequence[Item],
    detector: Detector,
    *,
    input: str = "auto",
    threshold: float | str | None = None,
    max_blocks: int | None = MAX_BLOCKS,
) -> list[Extraction | Failed]:
    """Extract items with one batched model call per input kind; each item gives an Extraction or a Failed."""
    out: list[Extraction | Failed] = []
    docs = []
    slots: list[int] = []
    for item in map(resolve, items):
        if not isinstance(item.payload, bytes):
            out.append(Failed(item.payload.reason))
            continue
        try:
            docs.append(detector.segment(item.payload, input=input, encoding=item.encoding, max_blocks=max_blocks))
        except Exception as exc:  # a page that breaks the segmenter must not take its chunk down
            out.append(Failed(f"cannot segment: {type(exc).__name__}: {exc}"))
            continue
        slots.append(len(out))
        out.append(Failed("not scored"))
    if not docs:
        return out
    try:
        probs = detector.score_documents(docs)
    except Exception:  # isolate the page that fails scoring: score one by one
        probs = []
        for doc in docs:
            try:
                probs.append(detector.score_documents([doc])[0])
            except Exception as exc:
                probs.append(Failed(f"cannot score: {type(exc).__name__}: {exc}"))
    for slot, doc, p in zip(slots, docs, probs, strict=True):
        if isinstance(p, Failed):
            out[slot] = p
            continue
        try:
            out[slot] = detector.assemble(doc, p, threshold)
        except ValueError as exc:  # e.g. a preset the model for this input kind does not have
            out[slot] = Failed(str(exc))
    return out


def _render(ext: Extraction, item: Item, opts: Options) -> str:
    from .formats import render, to_record

    if not opts.as_json:
        return render(ext, opts.fmt, links=opts.links, url=item.url, source=item.source)
    rec = to_record(ext, source=item.source, url=item.url, blocks=opts.fmt == "json")
    if opts.fmt in ("markdown", "html"):
        rec[opts.fmt] = render(ext, opts.fmt, links=opts.links, url=item.url, source=item.source)
    return json.dumps(rec, ensure_ascii=False)


def process_chunk(items: Sequence[Item], opts: Options, detector: Detector | None = None) -> list[Record]:
    """Extract and render a chunk of (non-skipped) items into records, in order."""
    det = detector or get_detector(opts.model, opts.force, opts.rules)
    records = []
    results = extract_items(items, det, input=opts.input, threshold=opts.threshold, max_blocks=opts.max_blocks)
    for item, res in zip(items, results, strict=True):
        if isinstance(res, Failed):
            records.append(Record(item.source, item.url, error=res.reason))
            continue
        try:
            records.append(Record(item.source, item.url, output=_render(res, item, opts)))
        except Exception as exc:  # a rendering bug on one page becomes its error record
            records.append(Record(item.source, item.url, error=f"cannot render: {type(exc).__name__}: {exc}"))
    return records


def _worker_chunk(items: Sequence[Item], opts: Options) -> list[Record]:
    """process_chunk in a worker process: one thread, the process's cached Detector; outputs go back as UTF-8."""
    _limit_worker_threads()
    tune_malloc()  # the environment already did it where the executor started the worker; a no-op then
    return [rec.packed() for rec in process_chunk(items, opts)]


def _chunks(
    items: Iterable[Item], summary: Summary, exclude: Container[str], size: int, max_bytes: int
) -> Iterator[list[Item]]:
    """Group items into chunks of at most ``size`` items / ``max_bytes`` bytes; Skipped items (counted as
    skipped) and excluded ones (counted as already done) are dropped here."""
    chunk: list[Item] = []
    weight = 0
    for item in items:
        if isinstance(item.payload, Skipped):
            summary.skipped += 1
            continue
        if item.source in exclude:
            summary.already_done += 1
            continue
        chunk.append(item)
        payload = item.payload
        weight += len(payload) if isinstance(payload, bytes) else payload.size if isinstance(payload, Deferred) else 0
        if len(chunk) >= size or weight >= max_bytes:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


def run(
    items: Iterable[Item],
    opts: Options | None = None,
    *,
    jobs: int = 1,
    chunk_size: int = CHUNK_SIZE,
    summary: Summary | None = None,
    exclude: Container[str] = (),
    pool: str = "auto",
) -> Iterator[Record]:
    """Extract items into records, in input order; ``jobs`` > 1 runs chunks in that many worker processes, started
    as ``pool`` says (see POOLS).

    ``summary`` (if given) is updated as records are produced; Skipped items and items whose source is in
    ``exclude`` (those already in a JSONL output, for a resume) are counted as already done and yield no record.
    """
    opts = opts or Options()
    summary = summary if summary is not None else Summary()
    jobs = jobs if jobs >= 1 else (os.cpu_count() or 1)  # 0 or less: every core
    start = time.perf_counter()
    chunks = _chunks(items, summary, exclude, max(1, chunk_size), CHUNK_MAX_BYTES)
    first = list(islice(chunks, 2))
    if jobs == 1 or len(first) < 2:  # one chunk in all: workers would only add their start-up time
        results: Iterable[list[Record]] = _in_process(_chain(first, chunks), opts)
    else:
        results = _parallel(_chain(first, chunks), opts, jobs, pool)
    for records in results:
        for rec in records:
            if rec.ok:
                summary.ok += 1
            else:
                summary.errors += 1
            summary.seconds = time.perf_counter() - start
            yield rec
    summary.seconds = time.perf_counter() - start


def _in_process(chunks: Iterable[list[Item]], opts: Options) -> Iterator[list[Record]]:
    """Chunks in this process, on one OpenMP/BLAS thread while a chunk is scored (restored in between).

    The model's OpenMP threads cost more than they give on page-sized batches, and collapse when the cores are
    shared: 400 dragnet pages took 13.5 s on one thread and 80-120 s on two, on a loaded 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    for chunk in chunks:
        with threadpool_limits(limits=1):
            records = process_chunk(chunk, opts)
        yield records


def _chain(first: list[list[Item]], rest: Iterator[list[Item]]) -> Iterator[list[Item]]:
    yield from first
    yield from rest


# Set in every worker before it starts, so OpenMP/BLAS pools are created with one thread (N workers on N cores).
_ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **_MALLOC_ENV}

# How worker processes start: "fork" (Linux; see _fork_safe), "loky" (joblib's executor: fresh interpreters), or
# "auto" (fork where it is safe, loky elsewhere).
POOLS = ("auto", "fork", "loky")


def _fork_safe() -> bool:
    """True where workers may be forked from this process: Linux, and no other thread that could hold a lock."""
    import multiprocessing
    import sys
    import threading

    return (
        sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    )


def _init_forked_worker() -> None:
    """Start-up of a forked worker: one OpenMP/BLAS thread, like a loky worker started with _ONE_THREAD_ENV."""
    os.environ.update(_ONE_THREAD_ENV)


def _executor(jobs: int, pool: str) -> tuple[Any, bool]:
    """A process pool of ``jobs`` workers and whether the caller must shut it down.

    Forked workers (Linux, single-threaded caller) start in milliseconds with bpdetect already imported, and need no
    resource-tracker processes: about 0.3 s of CPU and 50 MB less per run than loky's fresh interpreters. Each worker
    still loads the model itself on its first chunk (loading it here first would add the model to the parent as
    well). loky, joblib's reusable executor, is the portable choice and the fallback.
    """
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
    if pool == "fork" or (pool == "auto" and _fork_safe()):
        import multiprocessing
        import sys
        from concurrent.futures import ProcessPoolExecutor

        for stream in (sys.stdout, sys.stderr):  # a forked child must not inherit (and later flush) buffered output
            with contextlib.suppress(Exception):
                stream.flush()
        ctx = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_forked_worker), True
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=jobs, env=_ONE_THREAD_ENV), False


# Chunks per worker that may be submitted and not finished (enough to keep it fed), and that may be submitted and not
# yet handed on: a worker can run that far ahead of a slow chunk at the head of the line (a 5 MB page takes a
# second) before it waits. Results held here stay bounded: 8 chunks of at most CHUNK_MAX_BYTES of input per worker.
_BUSY_PER_WORKER = 2
_AHEAD_PER_WORKER = 8


def _parallel(chunks: Iterator[list[Item]], opts: Options, jobs: int, pool: str = "auto") -> Iterator[list[Record]]:
    """Chunks through worker processes (see _executor), results in input order.

    Submission follows completions, not the order of hand-over: while a slow chunk holds the head of the line the
    other workers go on with later chunks, up to _AHEAD_PER_WORKER (joblib's Parallel would buffer without bound).
    The sources are read here, in the calling thread, as the window moves.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    executor, owned = _executor(jobs, pool)
    window: deque[Any] = deque()
    source = iter(chunks)
    exhausted = False
    finished = False
    try:
        while True:
            while not exhausted and len(window) < _AHEAD_PER_WORKER * jobs:
                if sum(not f.done() for f in window) >= _BUSY_PER_WORKER * jobs:
                    break
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                window.append(executor.submit(_worker_chunk, chunk, opts))
            if not window:
                break
            if window[0].done() or exhausted or len(window) >= _AHEAD_PER_WORKER * jobs:
                yield window.popleft().result()
            else:  # a worker is free only when some chunk finishes: wait for that, then top up
                wait([f for f in window if not f.done()], return_when=FIRST_COMPLETED)
        finished = True
    finally:
        for future in window:  # stopped early (an error, Ctrl-C, the caller closed the generator)
            future.cancel()
        if owned:
            executor.shutdown(wait=finished, cancel_futures=True)


# ---------------------------------------------------------------------------------------------------- writers


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicFile:
    """A text file written to a temp file beside ``path`` and moved into place by ``commit`` (``abort`` drops it)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        self.tmp = Path(tmp)
        self.fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def write(self, text: str) -> None:
        """Append text."""
        self.fh.write(text)

    def commit(self) -> None:
        """Flush, give the file the usual permissions and move it over ``path``."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp creates 0600 files
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the temp file; ``path`` is left as it was."""
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write a whole text file atomically."""
    f = AtomicFile(path)
    try:
        f.write(text)
        f.commit()
    except BaseException:
        f.abort()
        raise


PART_SUFFIX = ".part"  # a JSON-lines output being written: OUT.jsonl.part, moved over OUT.jsonl when complete


class PartFile:
    """A JSON-lines output built line by line in ``PATH.part`` and moved over PATH when complete.

    Every record is flushed as it is written, so a run that is stopped (Ctrl-C, kill, crash) leaves ``PATH.part``
    with whole records plus at most one cut line; PATH itself is never half-written. With ``resume`` the complete
    lines of ``PATH.part`` (or of a finished PATH) are kept, the cut line is dropped, and ``done`` holds their
    sources; without it any old ``PATH.part`` is started afresh. The file is locked: two runs cannot share an output.
    """

    def __init__(self, path: str | os.PathLike[str], *, resume: bool = False) -> None:
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + PART_SUFFIX)
        self.done: set[str] = set()
        raw = open(self.part, "a+b")  # noqa: SIM115 - kept open until commit/abort
        try:
            _lock(raw, self.part)
            if resume:
                self.done = _recover_jsonl(raw, self.path)
            else:
                raw.truncate(0)
        except BaseException:
            raw.close()
            raise
        self.fh: IO[str] = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")

    def commit(self) -> None:
        """Flush, sync and move the finished file over ``path``."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        os.replace(self.part, self.path)
        self.fh.close()

    def abort(self) -> None:
        """Flush what was written and keep ``PATH.part`` for a later resume."""
        with contextlib.suppress(OSError, ValueError):
            self.fh.close()


def _lock(fh: IO[bytes], path: Path) -> None:
    """Take an exclusive lock on an open output file, or fail at once when another run holds it (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ValueError(f"another run is writing {str(path)!r}") from None


def _jsonl_source(line: bytes) -> str | None:
    """The "source" of one JSON-lines record, or None for a line that is not a complete record."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    source = rec.get("source") if isinstance(rec, dict) else None
    return source if isinstance(source, str) else None


def _recover_jsonl(part: IO[bytes], final: Path) -> set[str]:
    """Sources of the complete records of an interrupted ``part`` (cut after its last one) or of a finished output.

    When ``part`` is empty and ``final`` exists (the earlier run completed), its records are copied into ``part`` so
    the resumed run appends to them.
    """
    part.seek(0, os.SEEK_END)
    if part.tell() == 0 and final.is_file():
        with open(final, "rb") as src:
            for line in src:
                part.write(line if line.endswith(b"\n") else line + b"\n")
    part.seek(0)
    done: set[str] = set()
    good = 0  # end of the last complete record
    for line in part:
        source = _jsonl_source(line) if line.endswith(b"\n") else None
        if source is None:
            break  # a line cut by the interruption (or not ours): it and anything after it are dropped
        done.add(source)
        good = part.tell()
    part.truncate(good)
    part.seek(good)
    return done


def _separator(source: str, fmt: str) -> str:
    """A header line before each input's output when several share one stream or file."""
    if fmt == "html":
        return f"<!-- ==> {source.replace('--', '- -')} <== -->\n"
    return f"==> {source} <==\n"


class _Writer:
    """Base of the writers: a context manager that commits on success and aborts on error."""

    as_json = False

    def write(self, rec: Record) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Finish writing."""

    def abort(self) -> None:
        """Stop without leaving partial files."""

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class StreamWriter(_Writer):
    """Records to a text stream: JSON lines (errors included), or outputs with a header line per input when
    ``several``; in text formats error records are left to the caller (they go to stderr)."""

    def __init__(self, stream: IO[str], fmt: str = "text", *, as_json: bool = False, several: bool = False) -> None:
        self.stream = stream
        self.fmt = fmt
        self.as_json = as_json or fmt == "json"
        self.several = several
        self._n = 0
        # The binary layer under a UTF-8 text stream: JSON lines are written there as bytes (Record.encoded).
        buffer = getattr(stream, "buffer", None)
        utf8 = (getattr(stream, "encoding", None) or "").lower().replace("_", "-") in ("utf-8", "utf8")
        self._bytes: IO[bytes] | None = buffer if utf8 and getattr(stream, "errors", "") == "strict" else None

    def write(self, rec: Record) -> None:
        """Write one record."""
        if self.as_json:
            data = rec.encoded() if rec.ok and self._bytes is not None else None
            if data is not None and self._bytes is not None:
                self.stream.flush()  # whatever went through the text layer first (a no-op after our own records)
                self._bytes.write(data + b"\n")
            else:
                self.stream.write((rec.output if rec.ok else rec.error_json()) + "\n")
        elif rec.ok:
            out = rec.output or ""
            if self.several:
                out = ("\n" if self._n else "") + _separator(rec.source, self.fmt) + out
            self.stream.write(out if out.endswith("\n") else out + "\n")
            self._n += 1
        self.stream.flush()


class FileWriter(StreamWriter):
    """Every record into one file, written atomically (JSON lines for .jsonl/.json-lines/.ndjson or --format json)."""

    def __init__(
        self, path: str | os.PathLike[str], fmt: str = "text", *, several: bool = False, resume: bool = False
    ) -> None:
        as_json = fmt == "json" or str(path).lower().endswith(JSONL_SUFFIXES)
        if resume and not as_json:
            raise ValueError("--resume needs a JSON-lines output: -o FILE.jsonl, or --format json")
        # JSON lines go through OUT.part (resumable); other formats through a private temp file.
        self.file: AtomicFile | PartFile = PartFile(path, resume=resume) if as_json else AtomicFile(path)
        self.done = self.file.done if isinstance(self.file, PartFile) else set()
        super().__init__(self.file.fh, fmt, as_json=as_json, several=several)

    def write(self, rec: Record) -> None:
        """Write one record (to the temp file)."""
        super().write(rec)

    def close(self) -> None:
        """Move the finished file into place."""
        self.file.commit()

    def abort(self) -> None:
        """Drop the temp file (other formats), or keep OUT.part for a resume (JSON lines)."""
        self.file.abort()


def safe_name(text: str) -> str:
    """A file name (no extension, no directory part, no leading dot, ASCII) derived from a path, URL or id."""
    base = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)  # scheme
    base = re.sub(r"\.(?:html?|xhtml|shtml|txt)(?:\.gz)?$", "", base, flags=re.I)  # the input's own extension
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", base)  # "/", "\\", ":", "?", spaces, non-ASCII...
    name = re.sub(r"\.{2,}", ".", name).strip("._-")  # no "..", no hidden or dangling names
    if not name:
        name = "page"
    if len(name) > MAX_NAME_CHARS:
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        name = f"{name[: MAX_NAME_CHARS - 11]}-{digest}"
    return name


def output_name(source: str, url: str | None = None, roots: Sequence[str] = ()) -> str:
    """The name (without extension) of an input's file in a directory output.

    A URL source is named after the URL, a WARC record after its target URI (else its record id), a file found in a
    directory SOURCE after its path inside that directory, any other file after its own name, stdin "stdin".
    """
    if source == STDIN:
        return "stdin"
    if _URL_RE.match(source):
        return safe_name(source)
    path, sep, record_id = source.partition("#")
    if sep and path.lower().endswith(WARC_SUFFIXES):
        return safe_name(url or record_id)
    for root in roots:
        prefix = root.rstrip("/" + os.sep) + os.sep
        if source.startswith(prefix):
            return safe_name(source[len(prefix) :])
    return safe_name(os.path.basename(source))


class DirWriter(_Writer):
    """One file per input in a directory (name from the source, extension from the format), each written
    atomically; error records go to ``errors.jsonl`` there."""

    def __init__(self, directory: str | os.PathLike[str], fmt: str = "text", *, roots: Sequence[str] = ()) -> None:
        self.dir = Path(directory)
        self.roots = tuple(roots)  # directory SOURCEs: their files are named by their path inside them
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.ext = FORMAT_EXTENSIONS.get(fmt, ".txt")
        self.as_json = fmt == "json"
        self._used: set[str] = set()
        self._errors: list[str] = []
        self.paths: list[Path] = []  # files written, in input order

    def _unique(self, name: str) -> str:
        """``name`` + extension, or with -2, -3... when an earlier input of this run took it."""
        candidate, n = name + self.ext, 1
        while candidate.lower() in self._used or candidate == ERRORS_FILE:
            n += 1
            candidate = f"{name}-{n}{self.ext}"
        self._used.add(candidate.lower())
        return candidate

    def write(self, rec: Record) -> None:
        """Write one record: an output file, or a line kept for errors.jsonl."""
        if not rec.ok:
            self._errors.append(rec.error_json())
            return
        path = self.dir / self._unique(output_name(rec.source, rec.url, self.roots))
        out = rec.output or ""
        write_atomic(path, out if out.endswith("\n") else out + "\n")
        self.paths.append(path)

    def close(self) -> None:
        """Write errors.jsonl (or remove a stale one when this run had no errors)."""
        errors_path = self.dir / ERRORS_FILE
        if self._errors:
            write_atomic(errors_path, "".join(e + "\n" for e in self._errors))
        else:
            with contextlib.suppress(FileNotFoundError):
                errors_path.unlink()

    def abort(self) -> None:
        """Files already written stay (each is complete); errors so far are saved."""
        if self._errors:
            write_atomic(self.dir / ERRORS_FILE, "".join(e + "\n" for e in self._errors))


def is_dir_output(output: str) -> bool:
    """True when OUTPUT names a directory: an existing one, or a path ending with a separator."""
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def open_writer(
    output: str | None,
    fmt: str = "text",
    *,
    stdout: IO[str] | None = None,
    several: bool = False,
    roots: Sequence[str] = (),
    resume: bool = False,
) -> _Writer:
    """The writer for an --output value: None → ``stdout``; a directory → DirWriter; else FileWriter.

    ``resume`` (JSON-lines files only) keeps the records of an interrupted or finished earlier run; the writer's
    ``done`` then holds their sources.
    """
    if resume and (output is None or output == "-" or is_dir_output(output)):
        raise ValueError("--resume needs a JSON-lines output file: -o FILE.jsonl, or -o FILE with --format json")
    if output is None or output == "-":
        import sys

        return StreamWriter(stdout or sys.stdout, fmt, several=several)
    if is_dir_output(output):
        bare = output.rstrip("/" + os.sep) or output
        if os.path.exists(bare) and not os.path.isdir(bare):
            raise ValueError(f"output {output!r} names a directory but {bare!r} is a file")
        return DirWriter(output, fmt, roots=roots)
    parent = os.path.dirname(output) or "."
    if not os.path.isdir(parent):
        raise ValueError(f"output directory {parent!r} does not exist")
    return FileWriter(output, fmt, several=several, resume=resume)


# ---------------------------------------------------------------------------------------------------- wiring


def several_inputs(sources: Sequence[str]) -> bool:
    """Whether SOURCEs may give more than one input (so text outputs need a header per input)."""
    return len(sources) > 1 or any(source_kind(s) in ("dir", "warc") for s in sources)


def known_count(sources: Sequence[str]) -> int | None:
    """The number of inputs when it is known up front (no directory or WARC among the sources)."""
    return None if any(source_kind(s) in ("dir", "warc") for s in sources) else len(sources)


@dataclass
class BatchConfig:
    """Everything run_batch needs besides the sources."""

    options: Options = field(default_factory=Options)
    output: str | None = None  # None → stdout; a directory; or a file
    globs: Sequence[str] | None = None
    jobs: int = 1
    chunk_size: int = CHUNK_SIZE
    progress: bool = False
    max_bytes: int = MAX_BYTES
    timeout: float = FETCH_TIMEOUT
    resume: bool = False  # keep the records of an earlier run in the JSON-lines output and skip their inputs


def run_batch(
    sources: Sequence[str],
    config: BatchConfig | None = None,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    on_error: Callable[[Record], None] | None = None,
) -> Summary:
    """Extract every input named by ``sources`` to ``config.output``; returns the counts (errors also go to
    ``on_error``). Output files appear only when complete."""
    config = config or BatchConfig()
    summary = Summary()
    several = several_inputs(sources)
    roots = [s for s in sources if source_kind(s) == "dir"]
    writer = open_writer(
        config.output, config.options.fmt, stdout=stdout, several=several, roots=roots, resume=config.resume
    )
    done: set[str] = getattr(writer, "done", set())
    opts = replace(config.options, as_json=writer.as_json)
    # With workers, each reads its own files: the parent, on the same cores, only lists paths and writes records.
    items = iter_items(
        sources,
        globs=config.globs,
        stdin=stdin,
        max_bytes=config.max_bytes,
        timeout=config.timeout,
        defer_files=config.jobs != 1,
    )
    bar = _progress_bar(config.progress, known_count(sources))
    with writer:
        try:
            records = run(items, opts, jobs=config.jobs, chunk_size=config.chunk_size, summary=summary, exclude=done)
            for rec in records:
                writer.write(rec)
                if not rec.ok and on_error is not None:
                    on_error(rec)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(errors=summary.errors, skipped=summary.skipped, refresh=False)
        finally:
            if bar is not None:
                bar.close()
    return summary


def _progress_bar(enabled: bool, total: int | None):
    if not enabled:
        return None
    import sys

    from tqdm import tqdm

    class _Bar(tqdm):
        monitor_interval = 0  # no monitor thread: worker processes can then be forked (see _fork_safe)

    return _Bar(total=total, unit=" pages", file=sys.stderr, dynamic_ncols=True, leave=False)
