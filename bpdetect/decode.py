"""Bytes to text: BOM, declared encoding, <meta charset>, UTF-8, then a detector; never raises on bad bytes."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "bom_codec", "decode", "normalize_encoding", "sniff_meta_charset"]

# Browsers prescan the first 1024 bytes for <meta charset>; real pages often put it later (after long <script>s
# or comments), so we look a little further.
META_PRESCAN_BYTES = 8192
# How much of the input the statistical detector looks at; detection cost grows with size and a sample suffices.
DETECTOR_SAMPLE_BYTES = 64 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # must precede UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_META_RE = re.compile(
    rb"""<meta\b[^>]*?(?:charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)|"""
    rb"""content\s*=\s*["'][^"'>]*?charset\s*=\s*([a-zA-Z0-9_.:\-]+))""",
    re.IGNORECASE,
)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)

# WHATWG Encoding Standard: these labels decode as windows-1252 in every browser.
_WHATWG_ALIASES: dict[str, str] = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "windows-1252": "cp1252",
    "x-cp1252": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",  # Python's name for UTF-8 with an optional BOM; BOMs are handled first anyway
    "unicode": "utf-16-le",
    "utf-16": "utf-16-le",
    "x-user-defined": "cp1252",
}
# Python text codecs that are no web encoding: escapes and IDNA labels (which raise on ordinary bytes), "undefined",
# and UTF-7, which browsers refuse because it smuggles markup past filters.
_NOT_PAGE_CODECS = frozenset(("idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "utf-7"))
# A page declaring UTF-16/32 in a meta tag is necessarily ASCII-compatible as read, so browsers ignore that.
_META_IGNORED = {"utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-16", "utf-32"}
# Single-byte legacy codecs: any byte string decodes, so a wrong declaration cannot be caught by a decode error.
_SINGLE_BYTE_PREFIXES = ("cp125", "iso8859", "latin", "koi8", "mac", "cp874", "cp437", "cp850", "cp866")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text and which codec was used, and why ("bom", "declared", "meta", "utf-8", "detected", "fallback")."""

    text: str
    encoding: str
    source: str


def normalize_encoding(label: str | None) -> str | None:
    """Map an encoding label to a Python codec name as browsers would interpret it, or None if unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    key = _WHATWG_ALIASES.get(key, key)
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError):
        return None
    # Bytes-to-bytes codecs (base64, zlib, rot13...) and the Python-only text codecs are no page encodings.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
        return None
    return _WHATWG_ALIASES.get(info.name, info.name)


def sniff_meta_charset(data: bytes) -> str | None:
    """Return the codec named by an XML declaration or <meta charset>/http-equiv in the first bytes, if any."""
    head = data[:META_PRESCAN_BYTES]
    m = _XML_DECL_RE.match(head)
    if m:
        enc = normalize_encoding(m.group(1).decode("ascii", "replace"))
        if enc and enc not in _META_IGNORED:
            return enc
    for m in _META_RE.finditer(head):
        raw = m.group(1) or m.group(2)
        enc = normalize_encoding(raw.decode("ascii", "replace"))
        if enc:
            return "utf-8" if enc in _META_IGNORED else enc
    return None


def _is_single_byte(codec: str) -> bool:
    return codec.startswith(_SINGLE_BYTE_PREFIXES)


def _c1_controls(err: UnicodeError) -> tuple[str, int]:
    """Decode bytes a single-byte code page leaves undefined as the C1 control with that number, as browsers do."""
    if isinstance(err, UnicodeDecodeError):
        return err.object[err.start : err.end].decode("latin-1"), err.end
    raise err


# WHATWG maps the holes of the windows-125x tables (e.g. 0x81 in windows-1252) to U+0080..U+009F instead of failing.
_C1_ERRORS = "bpdetect-c1"
codecs.register_error(_C1_ERRORS, _c1_controls)


def _try(data: bytes, codec: str) -> str | None:
    try:
        if _is_single_byte(codec):
            return data.decode(codec, errors=_C1_ERRORS)
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError):  # UnicodeError: some codecs raise its base class
        return None


def _valid_nonascii_utf8(data: bytes) -> str | None:
    """Decode as UTF-8 when the bytes are valid UTF-8 and contain non-ASCII; legacy text almost never is."""
    if data.isascii():
        return None
    return _try(data, "utf-8")


def _mostly_utf8(data: bytes) -> str | None:
    """Decode as UTF-8 with U+FFFD for bad bytes when valid multi-byte sequences outnumber the bad bytes.

    Browsers decode a page declared UTF-8 that way, whatever its errors. We only follow them when the page shows it
    really is UTF-8 with a few stray bytes; a mislabelled legacy page has (almost) no valid multi-byte sequence and
    is better read by the detector.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # replacement characters that were in the page
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    valid = non_ascii - bad
    return text if valid > bad else None


# How much worse than charset-normalizer's best guess windows-1252 may fit (chaos: share of odd characters;
# coherence: language-model fit) and still be preferred.
_TIE_CHAOS = 0.01
_TIE_COHERENCE = 0.1


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a hard dependency, kept optional for vendored use
        return None
    results = from_bytes(data[:DETECTOR_SAMPLE_BYTES])
    best = results.best()
    if best is None:
        return None
    # The detector lists the code pages that decode the sample identically, alphabetically ("cp1250" before
    # "cp1252"), and on a page with little non-ASCII text (mostly English with a few "è") its ranking of the
    # single-byte code pages is noise. Name windows-1252, the web's legacy default, when it fits about as well as the
    # best guess; a page in another language's code page fits its own markedly better (Czech in cp1250 does).
    for result in results:
        if result.chaos > best.chaos + _TIE_CHAOS or result.coherence < best.coherence - _TIE_COHERENCE:
            continue
        if "cp1252" in result.could_be_from_charset:
            return "cp1252"
    return normalize_encoding(best.encoding)


def _by_declaration(data: bytes, codec: str, source: str) -> Decoded | None:
    """Decode with a declared codec (HTTP header or meta), or None when the bytes show the declaration is wrong."""
    if _is_single_byte(codec):
        # A legacy single-byte declaration decodes anything; if the bytes are valid non-ASCII UTF-8 the page was
        # re-encoded (or mislabelled) and UTF-8 is the right reading: random cp1252 text is almost never valid UTF-8.
        utf = _valid_nonascii_utf8(data)
        if utf is not None:
            return Decoded(utf, "utf-8", "utf-8")
    text = _try(data, codec)
    if text is None and codec == "utf-8":
        text = _mostly_utf8(data)
    return Decoded(text, codec, source) if text is not None else None


def bom_codec(data: bytes) -> str | None:
    """The codec named by a byte-order mark at the start of ``data``, if any."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def decode(data: bytes | bytearray | memoryview, encoding: str | None = None) -> Decoded:
    """Decode page bytes: BOM, then ``encoding`` (e.g. from an HTTP header), then meta, then UTF-8, then detection.

    A declaration loses to the bytes in two cases only: a single-byte code page declared for bytes that are valid
    non-ASCII UTF-8 (read as UTF-8), and UTF-8 declared for bytes with no valid multi-byte sequence to outweigh the
    invalid ones (left to the next step). Never raises: the last resort decodes with replacement characters.
    """
    data = bytes(data)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, errors="replace"), codec, "bom")

    declared = normalize_encoding(encoding)
    if declared:
        result = _by_declaration(data, declared, "declared")
        if result is not None:
            return result

    meta = sniff_meta_charset(data)
    if meta:
        result = _by_declaration(data, meta, "meta")
        if result is not None:
            return result

    text = _try(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")

    detected = _detect(data)
    if detected:
        text = _try(data, detected)
        if text is not None:
            return Decoded(text, detected, "detected")

    # Nothing fits: the declaration (if any) or cp1252 with replacement characters, never an exception.
    fallback = declared or meta or "cp1252"
    try:
        return Decoded(data.decode(fallback, errors="replace"), fallback, "fallback")
    except (UnicodeError, LookupError, ValueError):  # pragma: no cover - a codec without "replace" support
        return Decoded(data.decode("cp1252", errors="replace"), "cp1252", "fallback")
