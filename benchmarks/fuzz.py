"""Fuzzing run of ``bpdetect.extract`` and ``bpdetect.extract_text``: seeded generation plus mutation, 100,000 inputs.

Every input is a pure function of ``(job seed, index)``: a seed corpus (the pages of datasets/sample and the cases of
tests/hostile_pages.py built at small sizes), structure-aware generators (tag soup with real tag names, attributes,
entities, comments, CDATA, scripts and styles, tables and lists, ``<meta charset>`` lies, BOMs, mixed encodings, NULs,
lone surrogates in str input, very long words and lines, nesting up to a few thousand levels, scraper-style text
dumps) and byte-level mutations (bit flips, inserted bytes and markup tokens, deletions, duplicated chunks, splices of
two inputs, truncation). Each input goes through ``extract`` or ``extract_text`` with ``input`` "auto", "html" or
"text", as bytes or str, sometimes with a threshold (preset or number), an encoding label, ``max_blocks`` or
``max_bytes``. Inputs stay under ``MAX_INPUT_BYTES`` (most are a few KB).

A crash is any exception (the only documented one for str/bytes input is ``InputTooLarge``, expected exactly when the
input is over ``max_bytes``), a result of the wrong type (``Extraction``, str text, UTF-8-encodable, no NUL), a text
that differs on a re-run (every ``RECHECK_EVERY``-th input is extracted twice), an input over the time limit (a
SIGALRM watchdog raises in the call; a worker stuck in C code is killed by the supervisor), or a worker process that
dies (segfault, abort). A crash saves the input and a JSON record with its parameters and traceback to
``--crash-dir`` and the run goes on; ``--replay`` re-runs a saved record.

Workers are forked processes (the models are loaded once before the fork) watched by the parent; ``--in-process``
runs the loop in the calling process instead (what tests/test_fuzz.py does on a few hundred inputs).

    python benchmarks/fuzz.py                                   # 100,000 inputs, seed 0, one worker
    python benchmarks/fuzz.py --inputs 20000 --seed 7 --jobs 2 --json reports/fuzz.json
    python benchmarks/fuzz.py --replay reports/fuzz-crashes/crash-s123-i456.json

Figures: inputs tried, crashes, wall time, seconds per input (worst, histogram), worst seconds per MB among inputs of
at least ``MIN_BYTES_FOR_RATE`` bytes (with that input's size), and the peak RSS of the fuzzing processes. Progress on
stderr every ``PROGRESS_EVERY`` inputs; exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import multiprocessing
import random
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import hostile_pages  # noqa: E402

import bpdetect  # noqa: E402
from bpdetect.errors import InputTooLarge, input_size  # noqa: E402
from bpdetect.records import Extraction, ScoredBlock  # noqa: E402

Page = bytes | str

DEFAULT_INPUTS = 100_000
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CRASH_DIR = ROOT / "reports" / "fuzz-crashes"
MAX_INPUT_BYTES = 200_000  # inputs are cut to this (bytes, or characters for str)
MIN_BYTES_FOR_RATE = 10_000  # seconds per MB is only reported for inputs at least this large
RECHECK_EVERY = 50  # every N-th input is extracted twice and must give the same result
PROGRESS_EVERY = 10_000
REPORT_EVERY = 200  # a worker sends its figures to the supervisor every N inputs
HIST_EDGES_S = (0.001, 0.01, 0.1, 1.0)  # seconds-per-input histogram: <1 ms, <10 ms, <100 ms, <1 s, >= 1 s
SAMPLE_PAGES = ROOT / "datasets" / "sample" / "pages"


# --------------------------------------------------------------------------------------------------------------------
# Vocabulary for the generators.

_WORDS = (
    "harbour bridge council the and of reopened residents morning river Straße café naïve 日本語 テキスト Привет мир "
    "中文 字符 Καλημέρα مرحبا שלום नमस्ते 한국어 emoji😀 x 1,234 views Share Tweet Related Posts Source link Read more "
    "Leave a Reply Cookie Accept Home News Menu Login © 2024 Privacy Policy"
).split()
_BLOCK_TAGS = (
    "p div section article main aside nav header footer h1 h2 h3 h4 h5 h6 blockquote pre figure figcaption address "
    "details summary dl dt dd fieldset legend form center hr"
).split()
_INLINE_TAGS = "a span b i em strong code small sub sup u s q cite abbr time mark font label button kbd var".split()
_VOID_TAGS = "br img input meta link wbr hr area base col embed source track param keygen".split()
_RAW_TAGS = "script style textarea title xmp plaintext noscript noembed noframes template iframe".split()
_FOREIGN_TAGS = "svg math select option optgroup frameset frame object video audio canvas x-widget o:p svg:text".split()
_ATTR_NAMES = (
    "class id style href src alt title lang dir role hidden aria-hidden itemprop data-x onclick rel name content "
    "charset http-equiv colspan rowspan type xmlns xlink:href srcset"
).split()
_ATTR_VALUES = (
    "menu",
    "nav navbar",
    "post-body entry-content",
    "content",
    "footer site-footer",
    "sidebar widget",
    "comments",
    "share social",
    "display:none",
    "visibility: hidden",
    "true",
    "javascript:alert(1)",
    "/relative/path?a=1&b=2",
    "http://127.0.0.1:9/x",
    "data:text/html;base64,PHA+eDwvcD4=",
    "articleBody",
    "text/html; charset=utf-16",
    "x" * 300,
    "",
    "a>b",
    "a\"b'c",
    "\x00",
    "  spaced   value  ",
    "-1",
    "99999999999999999999",
)
_CHARSETS = (
    "utf-8",
    "utf-16",
    "utf-16le",
    "utf-32",
    "utf-7",
    "windows-1252",
    "iso-8859-1",
    "shift_jis",
    "euc-jp",
    "gb2312",
    "gb18030",
    "big5",
    "koi8-r",
    "windows-1251",
    "iso-8859-7",
    "x-user-defined",
    "base64",
    "rot13",
    "idna",
    "nonsense",
    "",
)
_CODECS = tuple("utf-8 cp1252 shift_jis koi8-r utf-16-le utf-16-be gb18030 iso-8859-7 big5 euc-kr".split())
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"+/v8", b"\xf7\x64\x4c")
_ENTITIES = (
    "&amp;",
    "&lt;",
    "&gt;",
    "&nbsp;",
    "&quot;",
    "&eacute;",
    "&hellip;",
    "&#233;",
    "&#x65E5;",
    "&#0;",
    "&#x0;",
    "&#xD800;",
    "&#x110000;",
    "&#99999999999;",
    "&#x1F600;",
    "&amp",
    "&notanentity;",
    "&#;",
    "&#x;",
    "&lol;",
    "&#128;",
    "&#x80",
)
_MARKUP_TOKENS: tuple[bytes, ...] = (
    *(
        t.encode()
        for t in (
            "< > </ /> <p> </p> <div> </div> </a> <br> <li> <ul> <script> </script> <style> </style> <!-- --> --!> "
            "<![CDATA[ ]]> <!DOCTYPE <plaintext> <textarea> <title> <template> <svg> <math> <frameset> <body> <html> "
            "<head> & &amp; &# &#x ; = ' \""
        ).split()
    ),
    *(t.encode() for t in ("<a href='/x'>", "<table><tr><td>", "</td></tr></table>", "<?xml version='1.0'?>")),
    *(t.encode() for t in ("<!DOCTYPE x [<!ENTITY e 'x'>]>", "\n", "\r\n", "\r", "\t", " ", "- ", "* ", "1. ")),
    *(t.encode() for t in ("<meta charset=shift_jis>", "<meta charset='utf-16'>", '<meta charset="x-user-defined">')),
    b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">',
    *(b"\x00", b"\xff", b"\xfe", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", *_BOMS),
)
_INTERESTING_BYTES = (0x00, 0x0A, 0x0D, 0x20, 0x22, 0x26, 0x27, 0x3B, 0x3C, 0x3D, 0x3E, 0x80, 0xC0, 0xC3, 0xED, 0xFF)
_LABELS = (
    "utf-8",
    "latin-1",
    "shift_jis",
    "utf-16",
    "utf-32",
    "utf-7",
    "base64",
    "rot13",
    "x-user-defined",
    "idna",
    "cp1252",
    "gb2312",
    "koi8-r",
    "",
    "  UTF8 ",
    "nonsense",
    "utf-8\x00",
    "ébé",
)
_LINE_SEPS = ("\n", "\n", "\n", "\r\n", "\r", "\n\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c")
_BULLETS = ("", "", "", "- ", "* ", "• ", "1. ", "12) ", "a) ", "  ", "\t", "> ", "| ", "+ ")
_CHAR_POOLS = (
    (0x00, 0x20),  # C0 controls, NUL included
    (0x20, 0x7F),
    (0x7F, 0xA0),  # DEL and C1 controls
    (0xA0, 0x800),
    (0x0300, 0x0370),  # combining marks
    (0x200B, 0x2070),  # zero-width, bidi marks, line/paragraph separators
    (0xD800, 0xE000),  # lone surrogates: a str can hold them, UTF-8 cannot
    (0xE000, 0xE100),  # private use
    (0xFFF0, 0x10000),  # specials, U+FFFD, non-characters U+FFFE/U+FFFF
    (0x10000, 0x110000),
)


# --------------------------------------------------------------------------------------------------------------------
# Random helpers.


def _size(rng: random.Random, lo: int, hi: int) -> int:
    """A log-uniform integer in [lo, hi] (small sizes are common, large ones rare)."""
    return min(hi, int(math.exp(rng.uniform(math.log(lo), math.log(hi + 1)))))


def _rand_chars(rng: random.Random, n: int) -> str:
    """``n`` code points from every pool (controls, surrogates, non-characters, astral planes)."""
    out = []
    for _ in range(n):
        lo, hi = rng.choice(_CHAR_POOLS)
        out.append(chr(rng.randrange(lo, hi)))
    return "".join(out)


def _words(rng: random.Random, n: int) -> str:
    """``n`` words, now and then an entity, an odd space or a very long word."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.06:
            out.append(rng.choice(_ENTITIES))
        elif r < 0.08:
            out.append(rng.choice(("\xa0", "\u3000", "\t", "\u200b", "\r", "\ufeff")))
        elif r < 0.081:
            out.append(rng.choice("xwé日") * _size(rng, 100, 30_000))  # a very long word
        else:
            out.append(rng.choice(_WORDS))
    return " ".join(out)


def _derive_seed(seed: int, job: int) -> int:
    """The seed of worker ``job`` in a run seeded ``seed`` (distinct, stable across Python versions)."""
    return int.from_bytes(hashlib.sha256(f"bpdetect-fuzz/{seed}/{job}".encode()).digest()[:6], "big")


# --------------------------------------------------------------------------------------------------------------------
# Structure-aware generators: each takes a Random and returns bytes or str.


def _attrs(rng: random.Random) -> str:
    """Zero to four attributes, quoted every way (or not at all), some malformed."""
    out = []
    for _ in range(rng.choice((0, 0, 1, 1, 2, 4))):
        name = rng.choice(_ATTR_NAMES)
        value = rng.choice(_ATTR_VALUES) if rng.random() < 0.8 else _words(rng, 2)
        quote = rng.choice(("'", '"', "", '"'))
        if rng.random() < 0.05:
            out.append(f" {name}={quote}{value}")  # unterminated
        elif rng.random() < 0.1:
            out.append(f" {name}")
        else:
            out.append(f" {name}={quote}{value}{quote}")
    return "".join(out)


def _element(rng: random.Random, depth: int, parts: list[str]) -> None:
    """Append one random element (and its subtree) to ``parts``."""
    r = rng.random()
    if r < 0.30 or depth <= 0:
        parts.append(_words(rng, _size(rng, 1, 40)))
        return
    if r < 0.36:
        parts.append(
            rng.choice(
                (
                    f"<!-- {_words(rng, 3)} -->",
                    "<!-->",
                    "<!--->",
                    f"<!-- a -- b --!>{_words(rng, 2)}",
                    f"<![CDATA[{_words(rng, 3)} <p>x</p>]]>",
                    f"<?php echo '{_words(rng, 2)}'; ?>",
                    "<!DOCTYPE html>",
                    "<!doctype x [<!ENTITY e 'x'>]>",
                    "</br>",
                    "<p/>",
                    "< p>",
                    "</ >",
                    "<",
                    "&",
                    "<!",
                    "</p>",
                    "</div></div></div>",
                )
            )
        )
        return
    if r < 0.42:
        tag = rng.choice(_RAW_TAGS)
        body = rng.choice(
            (
                "var s = '</scr' + 'ipt>'; if (a < b && c > d) {}",
                "<!-- <script> --> document.write('<p>x</p>');",
                "p { color: red } /* </style */",
                f"<p>{_words(rng, 5)}</p>",
                _words(rng, 8),
            )
        )
        close = "" if rng.random() < 0.1 else f"</{tag}>"
        parts.append(f"<{tag}{_attrs(rng)}>{body}{close}")
        return
    if r < 0.48:
        parts.append(f"<{rng.choice(_VOID_TAGS)}{_attrs(rng)}{rng.choice(('>', '/>', ' />'))}")
        return
    if r < 0.55:
        _table(rng, depth, parts)
        return
    if r < 0.62:
        lst = rng.choice(("ul", "ol", "dl", "menu"))
        item = "dt" if lst == "dl" else "li"
        parts.append(f"<{lst}{_attrs(rng)}>")
        for _ in range(rng.randint(0, 6)):
            parts.append(f"<{item}>")
            _children(rng, depth - 1, parts, 2)
            if rng.random() < 0.7:
                parts.append(f"</{item}>")
        parts.append(f"</{lst}>")
        return
    pool = _BLOCK_TAGS if r < 0.8 else _INLINE_TAGS if r < 0.95 else _FOREIGN_TAGS
    tag = rng.choice(pool)
    if rng.random() < 0.05:
        tag = tag.upper()
    parts.append(f"<{tag}{_attrs(rng)}>")
    _children(rng, depth - 1, parts, 4)
    r = rng.random()
    if r < 0.8:
        parts.append(f"</{tag}>")
    elif r < 0.9:
        parts.append(f"</{rng.choice(_BLOCK_TAGS + _INLINE_TAGS)}>")  # mismatched


def _children(rng: random.Random, depth: int, parts: list[str], most: int) -> None:
    """Append up to ``most`` random children."""
    for _ in range(rng.randint(0, most)):
        _element(rng, depth, parts)


def _table(rng: random.Random, depth: int, parts: list[str]) -> None:
    """Append a table, with optional caption/sections, odd spans and unclosed cells."""
    parts.append(f"<table{_attrs(rng)}>")
    if rng.random() < 0.2:
        parts.append(f"<caption>{_words(rng, 3)}</caption>")
    if rng.random() < 0.2:
        parts.append("<thead>")
    for _ in range(rng.randint(0, 5)):
        parts.append("<tr>")
        for _ in range(rng.randint(0, 4)):
            cell = rng.choice(("td", "td", "th"))
            span = rng.choice(("", "", " colspan=2", " rowspan=0", " colspan=-5", " colspan=99999"))
            parts.append(f"<{cell}{span}>")
            _children(rng, depth - 1, parts, 2)
            if rng.random() < 0.7:
                parts.append(f"</{cell}>")
        if rng.random() < 0.8:
            parts.append("</tr>")
    if rng.random() < 0.9:
        parts.append("</table>")


def _head(rng: random.Random) -> str:
    """A document head: doctype, XML declaration, meta charsets (often lying), title, script and style."""
    bits = []
    if rng.random() < 0.1:
        bits.append(f'<?xml version="1.0" encoding="{rng.choice(_CHARSETS)}"?>')
    if rng.random() < 0.6:
        bits.append("<!DOCTYPE html>")
    bits.append(f"<html{_attrs(rng)}><head>")
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        cs = rng.choice(_CHARSETS)
        bits.append(
            rng.choice(
                (
                    f"<meta charset='{cs}'>",
                    f"<meta charset={cs}>",
                    f'<meta http-equiv="Content-Type" content="text/html; charset={cs}">',
                    f"<meta content='charset={cs}'",
                )
            )
        )
    if rng.random() < 0.7:
        bits.append(f"<title>{_words(rng, _size(rng, 1, 12))}</title>")
    if rng.random() < 0.3:
        bits.append("<script>var t = '<p>not text</p>';</script><style>p{color:red}</style>")
    bits.append("</head><body>")
    return "".join(bits)


def gen_tag_soup(rng: random.Random) -> str:
    """A random HTML document of real tags, up to ~150 KB (log-uniform size)."""
    target = _size(rng, 30, 150_000)
    parts = [_head(rng)] if rng.random() < 0.8 else []
    n = len(parts[0]) if parts else 0
    while n < target:
        start = len(parts)
        _element(rng, rng.randint(1, 6), parts)
        chunk = "".join(parts[start:])
        n += len(chunk)
        if rng.random() < 0.15 and chunk:  # repeat a fragment: large pages without generating every byte
            times = rng.randint(1, max(1, (target - n) // max(1, len(chunk))))
            parts.append(chunk * times)
            n += len(chunk) * times
    if rng.random() < 0.7:
        parts.append("</body></html>")
    return "".join(parts)[: MAX_INPUT_BYTES * 2]


def gen_deep_nesting(rng: random.Random) -> str:
    """Elements nested up to a few thousand deep, closed fully, partly or not at all, with text along the way."""
    depth = _size(rng, 10, 4_000)
    tags = rng.sample(_BLOCK_TAGS + _INLINE_TAGS + ["li", "td", "table", "ul", "a", "font"], rng.randint(1, 4))
    opened = []
    parts = ["<html><body><p>before</p>"]
    for i in range(depth):
        tag = tags[i % len(tags)]
        parts.append(f"<{tag}>" if rng.random() < 0.95 else f"<{tag}{_attrs(rng)}>")
        opened.append(tag)
        if rng.random() < 0.02:
            parts.append(_words(rng, 3))
    parts.append("deep " + _words(rng, 5))
    mode = rng.random()
    if mode < 0.5:
        parts.extend(f"</{t}>" for t in reversed(opened))
    elif mode < 0.8:
        parts.extend(f"</{t}>" for t in reversed(opened[rng.randrange(len(opened)) :]))
    parts.append("<p>after</p>")
    return "".join(parts)


def gen_long_lines(rng: random.Random) -> str:
    """Very long words or lines, as HTML or as plain text."""
    n = _size(rng, 1_000, 150_000)
    unit = rng.choice(("x", "word ", "日本", "a&amp;", "-", "é", "😀", "<b>w</b>", "\u200b"))
    body = (unit * (n // len(unit) + 1))[:n]
    if rng.random() < 0.5:
        return f"<html><body><p>before</p><p>{body}</p><p>after</p></body></html>"
    return "- " + body + "\nshort line\n" + body[: n // 3]


def gen_text_dump(rng: random.Random) -> str:
    """Scraper-style plain text: lines with bullets, odd separators, teasers, counters and stray markup."""
    lines = []
    for _ in range(_size(rng, 1, 2_000)):
        r = rng.random()
        if r < 0.08:
            line = rng.choice(("Related Posts", "Source link", "Share this:", "Leave a Reply", "1,234 views", "Menu"))
        elif r < 0.1:
            line = rng.choice(("<p>", "a < b > c", "<div class='x'>", "&amp; &lt;", "</html>", "<!-- c -->"))
        elif r < 0.12:
            line = _rand_chars(rng, rng.randint(1, 20))
        else:
            line = _words(rng, _size(rng, 1, 30))
        lines.append(rng.choice(_BULLETS) + line + rng.choice(_LINE_SEPS))
    return "".join(lines)


def gen_encoding_mess(rng: random.Random) -> bytes:
    """A page in some codec behind a lying BOM or meta charset, or paragraphs in mixed codecs, or broken UTF-8."""
    r = rng.random()
    if r < 0.35:
        parts = [f"<html><head><meta charset='{rng.choice(_CHARSETS)}'></head><body>".encode()]
        for _ in range(_size(rng, 1, 200)):
            codec = rng.choice(_CODECS)
            parts.append(f"<p>{codec}: {_words(rng, rng.randint(1, 20))}</p>\n".encode(codec, errors="replace"))
        return b"".join(parts)
    page = gen_tag_soup(rng) if rng.random() < 0.7 else gen_text_dump(rng)
    codec = rng.choice((*_CODECS, "utf-32-le", "utf-32-be", "utf-7"))
    data = page.encode(codec, errors=rng.choice(("replace", "xmlcharrefreplace", "ignore", "backslashreplace")))
    if r < 0.7:
        data = rng.choice(_BOMS) + data
    else:  # broken UTF-8: overlong forms, encoded surrogates, code points over U+10FFFF, a cut sequence at the end
        junk = (b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80")
        pos = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 20)))
        pieces, prev = [], 0
        for p in pos:
            pieces += [data[prev:p], rng.choice(junk)]
            prev = p
        data = b"".join([*pieces, data[prev:], "日".encode()[: rng.randint(1, 2)]])
    return data


def gen_random(rng: random.Random) -> Page:
    """Uniformly random bytes, or random code points from every plane (surrogates included)."""
    if rng.random() < 0.5:
        return rng.randbytes(_size(rng, 1, 100_000))
    return _rand_chars(rng, _size(rng, 1, 20_000))


GENERATORS: dict[str, Callable[[random.Random], Page]] = {
    "tag_soup": gen_tag_soup,
    "deep_nesting": gen_deep_nesting,
    "long_lines": gen_long_lines,
    "text_dump": gen_text_dump,
    "encoding_mess": gen_encoding_mess,
    "random": gen_random,
}


# --------------------------------------------------------------------------------------------------------------------
# Byte-level mutations.


def _op_flip(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Flip one bit."""
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + bytes((data[i] ^ (1 << rng.randrange(8)),)) + data[i + 1 :]


def _op_set_byte(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Overwrite one byte with an interesting or random value."""
    if not data:
        return data
    i = rng.randrange(len(data))
    b = rng.choice(_INTERESTING_BYTES) if rng.random() < 0.6 else rng.randrange(256)
    return data[:i] + bytes((b,)) + data[i + 1 :]


def _op_insert_token(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Insert a markup, entity, encoding or BOM token."""
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(_MARKUP_TOKENS) + data[i:]


def _op_insert_random(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Insert a few random bytes."""
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.randbytes(rng.randint(1, 16)) + data[i:]


def _op_delete(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Delete a run of bytes."""
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + _size(rng, 1, len(data) - i) :]


def _op_duplicate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Copy a chunk elsewhere, sometimes repeated."""
    if not data:
        return data
    i = rng.randrange(len(data))
    chunk = data[i : i + _size(rng, 1, 4_096)]
    times = 1 if rng.random() < 0.7 else _size(rng, 2, max(2, MAX_INPUT_BYTES // (4 * len(chunk))))
    j = rng.randrange(len(data) + 1)
    return data[:j] + chunk * times + data[j:]


def _op_splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """The head of this input and the tail of the other."""
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


def _op_insert_other(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Insert a chunk of the other input."""
    if not other:
        return data
    k = rng.randrange(len(other))
    i = rng.randrange(len(data) + 1)
    return data[:i] + other[k : k + _size(rng, 1, 8_192)] + data[i:]


def _op_truncate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Cut the input (possibly inside a tag or a multi-byte character)."""
    return data[: rng.randrange(len(data) + 1)]


def _op_swap(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Swap two chunks."""
    if len(data) < 4:
        return data
    a, b, c, d = sorted(rng.randrange(len(data) + 1) for _ in range(4))
    return data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]


def _op_replace_token(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Replace occurrences of one markup token by another throughout (at most 1,000)."""
    old = rng.choice((b"<", b">", b"</", b"<p", b"<div", b"<a ", b"&", b"\n", b" ", b"=", b"'", b'"', b"-->", b"/"))
    return data.replace(old, rng.choice(_MARKUP_TOKENS), rng.randint(1, 1_000))


MUTATORS: tuple[Callable[[random.Random, bytes, bytes], bytes], ...] = (
    _op_flip,
    _op_set_byte,
    _op_insert_token,
    _op_insert_token,
    _op_insert_random,
    _op_delete,
    _op_duplicate,
    _op_splice,
    _op_insert_other,
    _op_truncate,
    _op_swap,
    _op_replace_token,
)


def mutate(rng: random.Random, data: bytes, other: bytes, n_ops: int | None = None) -> bytes:
    """Apply ``n_ops`` (default: 1 to ~8, geometric) random mutations, keeping the result under MAX_INPUT_BYTES."""
    if n_ops is None:
        n_ops = 1
        while n_ops < 16 and rng.random() < 0.6:
            n_ops += 1
    for _ in range(n_ops):
        data = rng.choice(MUTATORS)(rng, data, other)[:MAX_INPUT_BYTES]
    return data


def _as_bytes(page: Page) -> bytes:
    """A page as bytes (str as UTF-8, lone surrogates kept through surrogatepass)."""
    return page if isinstance(page, bytes) else page.encode("utf-8", "surrogatepass")


def _to_str(rng: random.Random, data: bytes) -> str:
    """Bytes to str in one of several ways (invalid UTF-8 becomes lone surrogates with surrogateescape)."""
    how = rng.random()
    if how < 0.5:
        return data.decode("utf-8", "surrogateescape")
    if how < 0.7:
        return data.decode("utf-8", "replace")
    if how < 0.85:
        return data.decode("latin-1")
    return data.decode(rng.choice(("cp1252", "shift_jis", "utf-16-le", "gb18030")), "replace")


def _inject_chars(rng: random.Random, text: str) -> str:
    """Insert lone surrogates, NULs, controls, BOMs, separators and other awkward code points into a str."""
    pieces = []
    prev = 0
    for p in sorted(rng.randrange(len(text) + 1) for _ in range(rng.randint(1, 12))):
        pieces += [text[prev:p], _rand_chars(rng, rng.randint(1, 4))]
        prev = p
    pieces.append(text[prev:])
    out = "".join(pieces)
    return ("\ufeff" + out) if rng.random() < 0.1 else out


def _to_bytes(rng: random.Random, text: str) -> bytes:
    """A str to bytes: UTF-8 (maybe with a BOM), or another codec, with an honest or lying charset."""
    r = rng.random()
    if r < 0.6:
        data = text.encode("utf-8", "surrogatepass" if rng.random() < 0.2 else "replace")
        return (b"\xef\xbb\xbf" + data) if rng.random() < 0.1 else data
    codec = rng.choice((*_CODECS, "utf-32", "utf-16"))
    return text.encode(codec, "replace")


# --------------------------------------------------------------------------------------------------------------------
# The seed corpus.


_HOSTILE_CAPS = {
    "n_bytes": 60_000,
    "n_chars": 20_000,
    "depth": 3_000,
    "n_links": 2_000,
    "n_blocks": 3_000,
    "n_brs": 3_000,
    "n_lines": 3_000,
    "n_attrs": 500,
    "levels": 12,
    "entity_chars": 5_000,
    "n_refs": 5_000,
}
_CANARY_PATH = "/nonexistent/bpdetect-fuzz-canary"
_CANARY_URL = "http://127.0.0.1:9/"


def hostile_seeds(rng: random.Random, per_case: int = 2) -> list[tuple[str, Page]]:
    """Each case of tests/hostile_pages.py built ``per_case`` times at random small sizes (see _HOSTILE_CAPS)."""
    out: list[tuple[str, Page]] = []
    for name, case in hostile_pages.CASES.items():
        accepted = inspect.signature(case.build).parameters
        for _ in range(per_case):
            params: dict[str, Any] = {}
            for key, value in case.small.items():
                cap = _HOSTILE_CAPS.get(key, value)
                params[key] = _size(rng, max(1, cap // 100), max(1, cap)) if isinstance(value, int) else value
            if "seed" in accepted:
                params["seed"] = rng.randrange(1_000)
            if case.external:
                params.update(path=_CANARY_PATH, url=_CANARY_URL)
            out.append((f"hostile:{name}", case.build(**params)))
    return out


def build_corpus(seed: int) -> list[tuple[str, Page]]:
    """The seed corpus: sample pages, hostile cases at small sizes, and a few tiny edge inputs (deterministic)."""
    corpus: list[tuple[str, Page]] = []
    for path in sorted(SAMPLE_PAGES.iterdir()):
        if path.is_file():
            corpus.append((f"sample:{path.name}", path.read_bytes()))
    corpus += hostile_seeds(random.Random(f"bpdetect-fuzz-corpus/{seed}"))
    tiny: tuple[Page, ...] = (b"", "", b"\x00", "\x00", b"<", "<p>", b"\xef\xbb\xbf", b"\xff\xfe", "\ud800", "- a\n")
    corpus += [("edge", t) for t in tiny]
    return corpus


# --------------------------------------------------------------------------------------------------------------------
# Cases: one input with its call parameters, a pure function of (corpus, job seed, index).


@dataclass(frozen=True)
class Case:
    """One fuzz input and how it is passed to bpdetect."""

    seed: int
    index: int
    origin: str
    data: Page
    api: str  # "extract" or "extract_text"
    input: str  # "auto", "html" or "text"
    threshold: float | str | None = None
    encoding: str | None = None
    max_blocks: int | None = None
    max_bytes: int | None = None

    @property
    def size(self) -> int:
        """Input size in bytes (UTF-8 for str, surrogates counted as 3 bytes)."""
        return input_size(self.data)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the call."""
        out: dict[str, Any] = {"input": self.input}
        for key in ("threshold", "encoding", "max_blocks", "max_bytes"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _pick_seed(rng: random.Random, corpus: list[tuple[str, Page]]) -> tuple[str, Page]:
    """A corpus entry: a sample page or a hostile case (45% each), or a tiny edge input (10%)."""
    group = rng.choices(("sample", "hostile", "edge"), (0.45, 0.45, 0.1))[0]
    entries = [e for e in corpus if e[0].startswith(group)] or corpus
    return rng.choice(entries)


def _cap(page: Page) -> Page:
    """The page cut to MAX_INPUT_BYTES (UTF-8 bytes for str)."""
    page = page[:MAX_INPUT_BYTES]
    while isinstance(page, str) and input_size(page) > MAX_INPUT_BYTES:
        page = page[: len(page) * 3 // 4]
    return page


def _pick_page(rng: random.Random, corpus: list[tuple[str, Page]]) -> tuple[str, Page]:
    """The page of a case before its call parameters: a seed, a mutant, a splice or a generated page."""
    r = rng.random()
    if r < 0.03:
        return _pick_seed(rng, corpus)
    if r < 0.40:
        name, page = _pick_seed(rng, corpus)
        _, other = _pick_seed(rng, corpus)
        return f"mutant:{name}", mutate(rng, _as_bytes(page), _as_bytes(other))
    if r < 0.48:
        name, page = _pick_seed(rng, corpus)
        _, other = _pick_seed(rng, corpus)
        data = _op_splice(rng, _as_bytes(page), _as_bytes(other))
        return f"splice:{name}", mutate(rng, data, _as_bytes(page), rng.randint(0, 3))
    weights = (0.45, 0.08, 0.05, 0.2, 0.14, 0.08)
    name = rng.choices(list(GENERATORS), weights)[0]
    page = GENERATORS[name](rng)
    if rng.random() < 0.25:
        _, other = _pick_seed(rng, corpus)
        return f"gen+mut:{name}", mutate(rng, _as_bytes(page), _as_bytes(other))
    return f"gen:{name}", page


def make_case(corpus: list[tuple[str, Page]], seed: int, index: int) -> Case:
    """The ``index``-th case of a worker seeded ``seed`` (the same on every run and platform)."""
    rng = random.Random(f"bpdetect-fuzz/{seed}/{index}")
    origin, page = _pick_page(rng, corpus)
    # The form: bytes or str (with lone surrogates, NULs and controls now and then).
    if isinstance(page, bytes) and rng.random() < 0.3:
        page = _to_str(rng, page)
    elif isinstance(page, str) and rng.random() < 0.45:
        page = _to_bytes(rng, page)
    if isinstance(page, str) and rng.random() < 0.25:
        page = _inject_chars(rng, page)
    page = _cap(page)
    api = "extract" if rng.random() < 0.75 else "extract_text"
    kind = rng.choices(("auto", "html", "text"), (0.6, 0.2, 0.2))[0]
    r = rng.random()
    threshold: float | str | None = None
    if r < 0.2:
        threshold = rng.choice(("precision", "balanced", "recall"))
    elif r < 0.3:
        threshold = rng.choice((0.0, 1.0, 0.5, rng.random()))
    encoding = rng.choice(_LABELS) if isinstance(page, bytes) and rng.random() < 0.08 else None
    max_blocks = _size(rng, 1, 200) - 1 if rng.random() < 0.03 else None
    max_bytes = None
    if rng.random() < 0.03:
        size = input_size(page)
        max_bytes = max(0, size + rng.choice((-1, 0, 0, 1, -size // 2, size)))
    return Case(seed, index, origin, page, api, kind, threshold, encoding, max_blocks, max_bytes)


# --------------------------------------------------------------------------------------------------------------------
# Running one case.


class FuzzTimeout(BaseException):
    """Raised in the main thread by the SIGALRM watchdog (a BaseException: no ``except Exception`` swallows it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    """SIGALRM handler: the call ran over its time limit."""
    raise FuzzTimeout("input ran over the time limit")


class _Watchdog:
    """Arms SIGALRM for each call where it can (main thread on a POSIX system); a no-op elsewhere."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.active = False
        try:
            self._previous = signal.signal(signal.SIGALRM, _on_alarm)
            self.active = True
        except (ValueError, AttributeError, OSError):  # not the main thread, or no SIGALRM
            self._previous = None

    def arm(self) -> None:
        """Start the timer for one call."""
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)

    def disarm(self) -> None:
        """Stop the timer."""
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def close(self) -> None:
        """Restore the previous SIGALRM handler."""
        if self.active:
            self.disarm()
            signal.signal(signal.SIGALRM, self._previous)
            self.active = False


def _call(case: Case) -> Extraction | str:
    """Run the case's call on the shipped default models."""
    if case.api == "extract":
        return bpdetect.extract(case.data, **case.kwargs())
    return bpdetect.extract_text(case.data, **case.kwargs())


def _fingerprint(result: Extraction | str) -> tuple[Any, ...]:
    """What must be the same on a re-run: text, title, every block's text, score and decision."""
    if isinstance(result, str):
        return (result,)
    return (
        result.text,
        result.title,
        result.source,
        result.truncated,
        tuple((sb.block.text, sb.score, sb.is_content) for sb in result.blocks),
    )


def check_result(case: Case, result: Any) -> str | None:
    """A description of what is wrong with a call's result, or None when it is right."""
    text = result
    if case.api == "extract":
        if not isinstance(result, Extraction):
            return f"extract returned {type(result).__name__}, not Extraction"
        text = result.text
        if not (result.title is None or isinstance(result.title, str)):
            return f"title is {type(result.title).__name__}"
        if not isinstance(result.blocks, tuple) or not all(isinstance(sb, ScoredBlock) for sb in result.blocks):
            return "blocks is not a tuple of ScoredBlock"
        if result.source not in ("html", "text") or (case.input != "auto" and result.source != case.input):
            return f"source {result.source!r} for input={case.input!r}"
        if case.max_blocks is not None and len(result.blocks) > case.max_blocks:
            return f"{len(result.blocks)} blocks over max_blocks={case.max_blocks}"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not str"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text is not valid UTF-8 (lone surrogate?): {exc}"
    if "\x00" in text:
        return "NUL in the text"
    return None


@dataclass
class Outcome:
    """What one case did: its time, and a crash description with traceback (None when all went well)."""

    seconds: float
    error: str | None = None
    trace: str | None = None
    expected_error: bool = False


def run_case(case: Case, watchdog: _Watchdog, recheck: bool) -> Outcome:
    """Run one case under the watchdog and check its result (and its determinism when ``recheck``)."""
    over_limit = case.max_bytes is not None and case.size > case.max_bytes
    start = time.perf_counter()
    try:
        watchdog.arm()
        try:
            result = _call(case)
        finally:
            watchdog.disarm()
    except FuzzTimeout:
        return Outcome(time.perf_counter() - start, f"hang: over {watchdog.timeout:g} s", traceback.format_exc())
    except InputTooLarge as exc:
        seconds = time.perf_counter() - start
        if over_limit:
            return Outcome(seconds, expected_error=True)
        return Outcome(seconds, f"InputTooLarge under the limit: {exc}", traceback.format_exc())
    except Exception as exc:
        return Outcome(time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:500], traceback.format_exc())
    seconds = time.perf_counter() - start
    if over_limit:
        return Outcome(seconds, f"no InputTooLarge for {case.size} bytes over max_bytes={case.max_bytes}")
    if seconds > watchdog.timeout:
        return Outcome(seconds, f"hang: {seconds:.1f} s, over {watchdog.timeout:g} s")
    problem = check_result(case, result)
    if problem:
        return Outcome(seconds, f"bad result: {problem}")
    if recheck:
        try:
            watchdog.arm()
            try:
                again = _call(case)
            finally:
                watchdog.disarm()
        except BaseException as exc:  # FuzzTimeout included: a re-run must behave like the first
            return Outcome(seconds, f"re-run raised {type(exc).__name__}: {exc}"[:500], traceback.format_exc())
        if _fingerprint(again) != _fingerprint(result):
            return Outcome(seconds, "nondeterministic: a re-run gave another result")
    return Outcome(seconds)


# --------------------------------------------------------------------------------------------------------------------
# Figures.


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (VmHWM, else ru_maxrss)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def origin_group(origin: str) -> str:
    """A coarse name for where an input came from ("gen:tag_soup", "mutant:sample", "seed:hostile"...)."""
    parts = origin.split(":")
    if parts[0] in ("sample", "hostile", "edge"):
        return "seed:" + parts[0]
    return ":".join(parts[:2])


@dataclass
class Stats:
    """Figures of a run (or part of one); ``merge`` adds another's. The worst figures leave crashed inputs out."""

    tried: int = 0
    crashes: list[dict[str, Any]] = field(default_factory=list)
    expected_errors: int = 0
    rechecked: int = 0
    total_bytes: int = 0
    total_seconds: float = 0.0
    max_size: int = 0
    worst_seconds: float = 0.0
    worst_seconds_case: dict[str, Any] = field(default_factory=dict)
    worst_rate: float = 0.0  # seconds per MB, inputs >= MIN_BYTES_FOR_RATE only
    worst_rate_case: dict[str, Any] = field(default_factory=dict)
    rated: int = 0
    peak_rss_mb: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(HIST_EDGES_S) + 1))
    by_origin: dict[str, int] = field(default_factory=dict)
    by_form: dict[str, int] = field(default_factory=dict)

    def add(self, case: Case, outcome: Outcome, recheck: bool) -> None:
        """Count one case."""
        size = case.size
        self.tried += 1
        self.rechecked += int(recheck)
        self.expected_errors += int(outcome.expected_error)
        self.total_bytes += size
        self.total_seconds += outcome.seconds
        self.max_size = max(self.max_size, size)
        self.histogram[sum(outcome.seconds >= edge for edge in HIST_EDGES_S)] += 1
        group = origin_group(case.origin)
        self.by_origin[group] = self.by_origin.get(group, 0) + 1
        form = f"{type(case.data).__name__}/{case.api}/{case.input}"
        self.by_form[form] = self.by_form.get(form, 0) + 1
        if outcome.error:
            return  # a crash (hangs included) is listed with its time; the worst figures are those of the others
        where = {"seed": case.seed, "index": case.index, "size": size, "origin": case.origin, "api": case.api}
        if outcome.seconds > self.worst_seconds:
            self.worst_seconds, self.worst_seconds_case = outcome.seconds, dict(where, seconds=outcome.seconds)
        if size >= MIN_BYTES_FOR_RATE and not outcome.expected_error:
            self.rated += 1
            rate = outcome.seconds / (size / 1e6)
            if rate > self.worst_rate:
                self.worst_rate, self.worst_rate_case = rate, dict(where, seconds=outcome.seconds)

    def merge(self, other: Stats) -> None:
        """Add another Stats' figures to this one."""
        self.tried += other.tried
        self.crashes += other.crashes
        self.expected_errors += other.expected_errors
        self.rechecked += other.rechecked
        self.total_bytes += other.total_bytes
        self.total_seconds += other.total_seconds
        self.max_size = max(self.max_size, other.max_size)
        if other.worst_seconds > self.worst_seconds:
            self.worst_seconds, self.worst_seconds_case = other.worst_seconds, other.worst_seconds_case
        if other.worst_rate > self.worst_rate:
            self.worst_rate, self.worst_rate_case = other.worst_rate, other.worst_rate_case
        self.rated += other.rated
        self.peak_rss_mb = max(self.peak_rss_mb, other.peak_rss_mb)
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]
        for mine, theirs in ((self.by_origin, other.by_origin), (self.by_form, other.by_form)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n


# --------------------------------------------------------------------------------------------------------------------
# Crash records.


def save_crash(crash_dir: Path, case: Case, error: str, trace: str | None) -> dict[str, Any]:
    """Write the input and a JSON record (parameters, error, traceback) to ``crash_dir``; the record."""
    crash_dir.mkdir(parents=True, exist_ok=True)
    stem = f"crash-s{case.seed}-i{case.index}"
    data_path = crash_dir / (stem + (".bin" if isinstance(case.data, bytes) else ".txt"))
    data_path.write_bytes(_as_bytes(case.data))
    record = {
        "seed": case.seed,
        "index": case.index,
        "origin": case.origin,
        "type": type(case.data).__name__,
        "size": case.size,
        "api": case.api,
        "kwargs": case.kwargs(),
        "input_file": str(data_path),
        "error": error,
        "traceback": trace,
    }
    json_path = crash_dir / (stem + ".json")
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    record["record_file"] = str(json_path)
    record.pop("traceback")
    return record


def replay(record_file: Path, timeout: float) -> int:
    """Re-run a saved crash record; print the outcome; exit status 1 if it still crashes."""
    rec = json.loads(record_file.read_text(encoding="utf-8"))
    raw = Path(rec["input_file"]).read_bytes()
    data: Page = raw if rec["type"] == "bytes" else raw.decode("utf-8", "surrogatepass")
    kw = rec["kwargs"]
    case = Case(rec["seed"], rec["index"], rec["origin"], data, rec["api"], kw.pop("input"), **kw)
    watchdog = _Watchdog(timeout)
    outcome = run_case(case, watchdog, recheck=True)
    watchdog.close()
    print(f"{record_file}: {outcome.seconds:.3f} s, {outcome.error or 'no crash'}")
    if outcome.trace:
        print(outcome.trace)
    return 1 if outcome.error else 0


# --------------------------------------------------------------------------------------------------------------------
# The loop, in process or in supervised workers.


@dataclass(frozen=True)
class Config:
    """A fuzzing run's settings."""

    inputs: int = DEFAULT_INPUTS
    seed: int = 0
    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT_S
    crash_dir: Path = DEFAULT_CRASH_DIR
    recheck_every: int = RECHECK_EVERY
    progress_every: int = PROGRESS_EVERY
    hard_timeout: float | None = None  # a worker stuck this long in one input is killed (default: 2 x timeout, >= +5 s)

    @property
    def kill_after(self) -> float:
        """Seconds after which the supervisor kills a worker stuck in one input."""
        return self.hard_timeout if self.hard_timeout is not None else max(2 * self.timeout, self.timeout + 5)


def job_ranges(cfg: Config) -> list[tuple[int, int]]:
    """(worker seed, number of inputs) of every worker: the inputs split as evenly as possible."""
    jobs = max(1, cfg.jobs)
    return [(_derive_seed(cfg.seed, j), (j + 1) * cfg.inputs // jobs - j * cfg.inputs // jobs) for j in range(jobs)]


def fuzz_range(
    cfg: Config,
    corpus: list[tuple[str, Page]],
    seed: int,
    indices: Iterable[int],
    report: Callable[[Stats, int], None] | None = None,
    current: Any = None,
) -> Stats:
    """Run the cases ``indices`` of worker ``seed``; ``report(stats_since_last, next_index)`` every REPORT_EVERY.

    ``current`` (a shared array of two doubles) gets the index and start time of the case in progress, for a
    supervisor that must find out which input killed or stalled a worker.
    """
    watchdog = _Watchdog(cfg.timeout)
    stats = Stats()
    try:
        for index in indices:
            case = make_case(corpus, seed, index)
            recheck = cfg.recheck_every > 0 and index % cfg.recheck_every == 0
            if current is not None:
                current[0], current[1] = index, time.time()
            outcome = run_case(case, watchdog, recheck)
            if current is not None:
                current[1] = 0.0
            if outcome.error:
                record = save_crash(cfg.crash_dir, case, outcome.error, outcome.trace)
                stats.crashes.append(dict(record, seconds=outcome.seconds))
            stats.add(case, outcome, recheck)
            if report is not None and stats.tried >= REPORT_EVERY:
                stats.peak_rss_mb = peak_rss_mb()
                report(stats, index + 1)
                stats = Stats()
    finally:
        watchdog.close()
    stats.peak_rss_mb = peak_rss_mb()
    return stats


def _progress(total: Stats, cfg: Config, started: float) -> None:
    """One progress line on stderr."""
    elapsed = time.perf_counter() - started
    print(
        f"[fuzz] {total.tried:,}/{cfg.inputs:,} inputs, {len(total.crashes)} crashes, {elapsed:.0f} s, "
        f"{total.tried / max(elapsed, 1e-9):.0f}/s, peak {total.peak_rss_mb:.0f} MB",
        file=sys.stderr,
        flush=True,
    )


def _warm_up() -> None:
    """Load both default models (before forking, so workers share them)."""
    bpdetect.extract(b"<html><body><p>warm up</p></body></html>", input="html")
    bpdetect.extract("warm up\n- item\n", input="text")


def fuzz_in_process(cfg: Config) -> Stats:
    """Run every input in the calling process (no supervisor: a segfault or a hang in C stops the run)."""
    _warm_up()
    corpus = build_corpus(cfg.seed)
    total = Stats()
    started = time.perf_counter()
    next_progress = cfg.progress_every

    def report(part: Stats, next_index: int) -> None:
        nonlocal next_progress
        total.merge(part)
        if cfg.progress_every and total.tried >= next_progress:
            _progress(total, cfg, started)
            next_progress += cfg.progress_every

    for seed, n in job_ranges(cfg):
        total.merge(fuzz_range(cfg, corpus, seed, range(n), report))
    return total


def _worker(
    cfg: Config, corpus: list[tuple[str, Page]], seed: int, indices: list[int], conn: Connection, current: Any
) -> None:
    """A forked worker: run the cases ``indices`` of worker ``seed`` and send its figures through ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor handles Ctrl-C
    stats = fuzz_range(cfg, corpus, seed, indices, lambda s, nxt: conn.send(("part", s, nxt)), current)
    conn.send(("done", stats, indices[-1] + 1 if indices else 0))
    conn.close()


@dataclass
class _Job:
    """The supervisor's view of one worker: its seed, its inputs [0, stop) and what is done of them."""

    seed: int
    stop: int
    current: Any  # shared [index in progress, its start time (0 between inputs)]
    next: int = 0  # every index below this one has been reported
    skip: set[int] = field(default_factory=set)  # inputs that killed or stalled a worker (recorded as crashes)
    proc: Any = None
    conn: Any = None
    done: bool = False


def _drain(job: _Job, total: Stats) -> bool:
    """Merge every message waiting from the worker into ``total``; True once it sent its last one."""
    while job.conn.poll():
        try:
            kind, part, nxt = job.conn.recv()
        except (EOFError, OSError):
            return False
        total.merge(part)
        job.next = nxt
        if kind == "done":
            return True
    return False


def fuzz_supervised(cfg: Config) -> Stats:
    """Run the inputs in ``cfg.jobs`` forked workers; a worker that dies or stalls is a crash, and is restarted."""
    ctx = multiprocessing.get_context("fork")
    _warm_up()
    corpus = build_corpus(cfg.seed)
    total = Stats()
    started = time.perf_counter()
    next_progress = cfg.progress_every
    jobs = [_Job(seed, n, ctx.RawArray("d", 2)) for seed, n in job_ranges(cfg)]

    def spawn(job: _Job) -> None:
        indices = [i for i in range(job.next, job.stop) if i not in job.skip]
        if not indices:
            job.done = True
            return
        parent, child = ctx.Pipe(duplex=False)
        job.current[0], job.current[1] = -1, 0.0
        job.proc = ctx.Process(target=_worker, args=(cfg, corpus, job.seed, indices, child, job.current))
        job.proc.start()
        child.close()
        job.conn = parent

    def died(job: _Job, why: str) -> None:
        """Record the input the worker was on as a crash, then restart the worker on what was not reported."""
        index = int(job.current[0])
        if index < 0 or index in job.skip:  # died outside any input: record it once, give the job up
            total.crashes.append({"seed": job.seed, "index": None, "origin": "-", "error": why, "record_file": "-"})
            job.done = True
            return
        case = make_case(corpus, job.seed, index)
        part = Stats()
        part.crashes.append(dict(save_crash(cfg.crash_dir, case, why, None), seconds=cfg.kill_after))
        part.add(case, Outcome(cfg.kill_after if why.startswith("hang") else 0.0, why), False)
        total.merge(part)
        print(f"[fuzz] worker {job.seed}: {why} at input {index}; restarting without it", file=sys.stderr)
        # The inputs after the last report but before the fatal one run again (and are reported then).
        job.skip.add(index)
        spawn(job)

    for job in jobs:
        spawn(job)
    try:
        while not all(j.done for j in jobs):
            live = [j for j in jobs if not j.done]
            wait([j.conn for j in live] + [j.proc.sentinel for j in live], timeout=0.5)
            for job in live:
                if _drain(job, total):
                    job.proc.join()
                    job.done = True
                elif not job.proc.is_alive():
                    job.proc.join()
                    if _drain(job, total):  # it finished just now
                        job.done = True
                        continue
                    code = job.proc.exitcode
                    died(job, f"worker died: signal {-code}" if code and code < 0 else f"worker exited with {code}")
                elif job.current[1] and time.time() - job.current[1] > cfg.kill_after:
                    job.proc.kill()
                    job.proc.join()
                    _drain(job, total)
                    died(job, f"hang: worker stuck over {cfg.kill_after:g} s (killed)")
            if cfg.progress_every and total.tried >= next_progress:
                _progress(total, cfg, started)
                while total.tried >= next_progress:
                    next_progress += cfg.progress_every
    finally:
        for job in jobs:
            if job.proc is not None and job.proc.is_alive():
                job.proc.kill()
                job.proc.join()
    total.peak_rss_mb = max(total.peak_rss_mb, peak_rss_mb())
    return total


# --------------------------------------------------------------------------------------------------------------------
# Command line.


def summary(stats: Stats, cfg: Config, wall: float) -> dict[str, Any]:
    """The run's figures as a JSON-ready dict."""
    labels = ["<1ms", "1-10ms", "10-100ms", "0.1-1s", ">=1s"]
    return {
        "inputs_requested": cfg.inputs,
        "inputs_tried": stats.tried,
        "crashes": len(stats.crashes),
        "crash_records": stats.crashes,
        "expected_input_too_large": stats.expected_errors,
        "determinism_rechecks": stats.rechecked,
        "seed": cfg.seed,
        "jobs": cfg.jobs,
        "timeout_s": cfg.timeout,
        "wall_seconds": wall,
        "extract_seconds": stats.total_seconds,
        "mean_ms_per_input": 1000 * stats.total_seconds / max(1, stats.tried),
        "total_mb": stats.total_bytes / 1e6,
        "mean_input_kb": stats.total_bytes / 1e3 / max(1, stats.tried),
        "max_input_bytes": stats.max_size,
        "worst_seconds_per_input": stats.worst_seconds,
        "worst_seconds_case": stats.worst_seconds_case,
        "inputs_rated": stats.rated,
        "worst_seconds_per_mb": stats.worst_rate,
        "worst_seconds_per_mb_case": stats.worst_rate_case,
        "peak_rss_mb": stats.peak_rss_mb,
        "seconds_histogram": dict(zip(labels, stats.histogram, strict=True)),
        "by_origin": dict(sorted(stats.by_origin.items())),
        "by_form": dict(sorted(stats.by_form.items())),
        "python": sys.version.split()[0],
        "bpdetect": bpdetect.__version__,
    }


def print_table(fig: dict[str, Any]) -> None:
    """The summary table on stdout."""
    rate_case = fig["worst_seconds_per_mb_case"]
    slow_case = fig["worst_seconds_case"]
    rows = [
        ("inputs tried", f"{fig['inputs_tried']:,} of {fig['inputs_requested']:,}"),
        ("crashes", f"{fig['crashes']}"),
        ("wall time", f"{fig['wall_seconds']:.0f} s ({fig['jobs']} job(s), seed {fig['seed']})"),
        ("mean per input", f"{fig['mean_ms_per_input']:.2f} ms, {fig['mean_input_kb']:.1f} KB"),
        ("largest input", f"{fig['max_input_bytes']:,} bytes"),
        (
            "worst s/input (no crash)",
            f"{fig['worst_seconds_per_input']:.3f} s ({slow_case.get('size', 0):,} bytes, {slow_case.get('origin')})",
        ),
        (
            "worst s/MB (>= 10 KB, no crash)",
            f"{fig['worst_seconds_per_mb']:.3f} s/MB ({rate_case.get('size', 0):,} bytes, "
            f"{rate_case.get('seconds', 0):.3f} s, {rate_case.get('origin')}; {fig['inputs_rated']:,} inputs rated)",
        ),
        ("peak RSS", f"{fig['peak_rss_mb']:.0f} MB"),
        ("s/input histogram", ", ".join(f"{k}: {v:,}" for k, v in fig["seconds_histogram"].items())),
        ("determinism re-runs", f"{fig['determinism_rechecks']:,}"),
        ("InputTooLarge (expected)", f"{fig['expected_input_too_large']:,}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"| {'figure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key:<{width}} | {value} |")
    for crash in fig["crash_records"]:
        where = f"seed={crash['seed']} index={crash['index']} ({crash['origin']}, {crash.get('size', '?')} bytes)"
        print(f"CRASH {where}: {crash['error']}")
        print(f"      saved: {crash['record_file']}")


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer; exit status 1 if anything crashed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=DEFAULT_INPUTS, help="number of inputs (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="run seed (workers derive theirs from it)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes sharing the inputs")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per input before it is a hang")
    ap.add_argument("--crash-dir", type=Path, default=DEFAULT_CRASH_DIR, help="where crashing inputs are saved")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    ap.add_argument("--in-process", action="store_true", help="no worker processes (no protection from segfaults)")
    ap.add_argument("--replay", type=Path, help="re-run a saved crash record (crash-*.json) and exit")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(args.replay, args.timeout)
    cfg = Config(args.inputs, args.seed, max(1, args.jobs), args.timeout, args.crash_dir)
    started = time.perf_counter()
    stats = fuzz_in_process(cfg) if args.in_process else fuzz_supervised(cfg)
    fig = summary(stats, cfg, time.perf_counter() - started)
    print_table(fig)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(fig, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return 1 if fig["crashes"] or fig["inputs_tried"] < cfg.inputs else 0


if __name__ == "__main__":
    sys.exit(main())
