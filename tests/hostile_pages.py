"""Hostile pages, generated on demand: every case is a function of its size parameters returning bytes or str.

Nothing here is stored as a big file. ``build(name, "small")`` gives the quick version the tests use and
``build(name, "full")`` the size the benchmark (benchmarks/hostile.py) runs; keyword overrides replace either. Cases
that point outside the page (XXE, external DTDs, XInclude) take the file path and URL to point at, so a test can aim
them at a canary file and a local server that records hits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

__all__ = [
    "CASES",
    "Case",
    "Page",
    "build",
    "case_names",
]

Page = bytes | str
Scale = Literal["small", "full"]

MB = 1_000_000
# Default targets of the cases that reference something outside the page. Port 9 (discard) on loopback: even a
# parser that did connect would reach nothing; tests and the benchmark pass a canary file and a listening server.
DEFAULT_FILE = "/etc/passwd"
DEFAULT_URL = "http://127.0.0.1:9/"

_WORDS = (
    "harbour bridge council engineers repairs residents lights railings steel deck ramp southern crossing people "
    "morning river city water street market school garden station library museum winter summer weather report"
).split()


def _sentence(rng: random.Random, n_words: int = 12) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n_words)).capitalize() + "."


def article_html(n_bytes: int, seed: int = 0) -> str:
    """A plausible article page (nav, article paragraphs, list, table, footer) of about ``n_bytes`` characters."""
    rng = random.Random(seed)
    head = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour news</title>"
        "<script>var x = '<p>not text</p>';</script><style>p{color:red}</style></head><body>"
        "<nav class='menu'><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
        "<article><h1>The footbridge reopens</h1>"
    )
    tail = "</article><footer class='site-footer'><p>Copyright Harbour Times.</p></footer></body></html>"
    parts = [head]
    size = len(head) + len(tail)
    i = 0
    while size < n_bytes:
        kind = i % 7
        if kind == 5:
            part = "<ul>" + "".join(f"<li>{_sentence(rng, 5)}</li>" for _ in range(3)) + "</ul>"
        elif kind == 6:
            part = "<table><tr><td>" + "</td><td>".join(_sentence(rng, 3) for _ in range(3)) + "</td></tr></table>"
        else:
            part = f"<p class='c{i % 3}'>{_sentence(rng, 30)} <a href='/n/{i}'>{_sentence(rng, 3)}</a></p>\n"
        parts.append(part)
        size += len(part)
        i += 1
    parts.append(tail)
    return "".join(parts)


# --------------------------------------------------------------------------------------------------------------------
# Junk, truncation and mangling.


def random_bytes(n_bytes: int = MB, seed: int = 0) -> bytes:
    """Uniformly random bytes."""
    return random.Random(seed).randbytes(n_bytes)


def random_text(n_chars: int = MB, seed: int = 0) -> str:
    """Random code points from every plane, lone surrogates, controls and non-characters included."""
    rng = random.Random(seed)
    pools = (
        (0, 0x80),  # ASCII with controls and NUL
        (0x80, 0x800),
        (0xD800, 0xE000),  # lone surrogates: a str can hold them, UTF-8 cannot
        (0xFFF0, 0x10000),  # specials and the non-characters U+FFFE/U+FFFF
        (0x10000, 0x110000),
    )
    out = []
    for _ in range(n_chars):
        lo, hi = pools[rng.randrange(len(pools))]
        out.append(chr(rng.randrange(lo, hi)))
    return "".join(out)


# Constructs left open at the cut: each swallows or reinterprets whatever follows in its own way.
TRUNCATION_OPENERS: tuple[str, ...] = (
    "<!-- never closed <p>hidden</p>",
    "<script>document.write('<p>",
    '<a href="/x',
    "<p title='open>text",
    "&#x1F60",
    "<![CDATA[ <p>x",
    "<title>never closed",
    "<textarea><p>raw",
    "<plaintext><p>raw",
    "<xmp><p>raw",
    "<style>p{",
    "<select><option>",
    "<",
    "</",
    "<!DOCTYPE",
    "<?xml",
)


def truncated_html(n_bytes: int = MB, seed: int = 0) -> bytes:
    """An article cut at ``n_bytes`` (possibly inside a multi-byte character) with a construct left open."""
    rng = random.Random(seed)
    page = article_html(n_bytes, seed).replace("Harbour", "Hårbour ☃").encode("utf-8")
    opener = TRUNCATION_OPENERS[seed % len(TRUNCATION_OPENERS)]
    cut = rng.randrange(len(page) // 2, len(page))
    return page[:cut] + opener.encode()


def mangled_html(n_bytes: int = MB, seed: int = 0, edits_per_kb: int = 20) -> bytes:
    """An article with random edits: markup characters inserted, bytes deleted, flipped and duplicated."""
    rng = random.Random(seed)
    page = article_html(n_bytes, seed).encode("utf-8")
    junk = (b"<", b">", b'"', b"'", b"&", b"</", b"<!--", b"-->", b"<p", b"<div", b"\x00", b"\xff", b"\xc3", b"=")
    # Edits at sorted positions, applied in one left-to-right pass (editing a bytearray in place is quadratic).
    positions = sorted(rng.randrange(len(page)) for _ in range(len(page) * edits_per_kb // 1000))
    out: list[bytes] = []
    done = 0
    for pos in positions:
        if pos < done:
            continue  # inside what the previous edit deleted
        out.append(page[done:pos])
        op = rng.randrange(4)
        if op == 0:  # insert markup
            out.append(rng.choice(junk))
            done = pos
        elif op == 1:  # delete a few bytes
            done = pos + rng.randrange(1, 8)
        elif op == 2:  # replace one byte
            out.append(bytes((rng.randrange(256),)))
            done = pos + 1
        else:  # duplicate a run
            out.append(page[pos : pos + rng.randrange(1, 64)])
            done = pos
    out.append(page[done:])
    return b"".join(out)


# --------------------------------------------------------------------------------------------------------------------
# Encodings.


def lying_encoding(n_bytes: int = MB, seed: int = 0) -> bytes:
    """UTF-8 text with a stray cp1252 byte under contradictory declarations (XML UTF-32, meta UTF-7/Shift_JIS...)."""
    head = (
        b'<?xml version="1.0" encoding="utf-32"?>'
        b'<html><head><meta charset="utf-7"><meta charset="shift_jis">'
        b'<meta http-equiv="Content-Type" content="text/html; charset=utf-16"><meta charset="base64"></head><body>'
    )
    body = article_html(n_bytes, seed).replace("Harbour", "Hafenbrücke 日本 😀").encode("utf-8")
    # One cp1252 byte makes the UTF-8 invalid; "+ADw-p+AD4-" is "<p>" in UTF-7, the encoding browsers refuse.
    return head + body[: n_bytes // 2] + b"caf\xe9 +ADw-p+AD4-utf7" + body[n_bytes // 2 : n_bytes]


def bom_lie(n_bytes: int = MB, seed: int = 0) -> bytes:
    """A UTF-16 LE byte-order mark in front of a UTF-8 page that declares windows-1251."""
    page = article_html(n_bytes, seed).replace("<meta charset='utf-8'>", "<meta charset='windows-1251'>")
    return b"\xff\xfe" + page.replace("Harbour", "Привет").encode("utf-8")


_MIXED_CODECS = ("utf-8", "cp1252", "shift_jis", "koi8-r", "utf-16-le", "gb18030", "iso-8859-7")
_MIXED_TEXT = "Straße café naïve 日本語のテキスト Привет мир 中文字符 Καλημέρα"


def mixed_encodings(n_bytes: int = MB, seed: int = 0) -> bytes:
    """Paragraphs each encoded with a different codec (UTF-16 among them), under one meta charset=utf-8."""
    rng = random.Random(seed)
    parts = [b"<html><head><meta charset='utf-8'></head><body>"]
    size = len(parts[0])
    while size < n_bytes:
        codec = rng.choice(_MIXED_CODECS)
        part = f"<p>{codec}: {_MIXED_TEXT}</p>\n".encode(codec, errors="replace")
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def nul_bytes(n_bytes: int = MB, seed: int = 0) -> bytes:
    """An article with NUL bytes everywhere: after every character, in runs, inside tags and entities."""
    page = article_html(n_bytes // 3, seed).encode("utf-8")
    interleaved = b"\x00".join(page[i : i + 1] for i in range(len(page)))
    return b"<p>\x00\x00\x00a&am\x00p;b</p><\x00p>c</p>" + b"\x00" * (n_bytes // 3) + interleaved


def utf16_without_bom(n_bytes: int = MB, seed: int = 0) -> bytes:
    """An article encoded as UTF-16 LE with no byte-order mark (every other byte NUL) and no declaration."""
    return article_html(n_bytes // 2, seed).replace("<meta charset='utf-8'>", "").encode("utf-16-le")


# --------------------------------------------------------------------------------------------------------------------
# Nesting.


def deep_nesting(depth: int = 100_000, tag: str = "div") -> str:
    """``depth`` nested elements around one word, with text before and after."""
    return f"<html><body><p>before</p>{f'<{tag}>' * depth}deep{f'</{tag}>' * depth}<p>after</p></body></html>"


def deep_inline_nesting(depth: int = 100_000) -> str:
    """``depth`` nested inline elements (<b>, <span>) inside one paragraph."""
    return "<p>before " + "<b><span>" * (depth // 2) + "deep" + "</span></b>" * (depth // 2) + " after</p>"


def unclosed_nesting(depth: int = 100_000) -> str:
    """Block elements opened and never closed: div, list item, table cell, blockquote, in a cycle."""
    cycle = ("<div class='a'>", "<ul><li>", "<table><tr><td>", "<blockquote>", "<section id='s'>")
    return "<body><p>before</p>" + "".join(cycle[i % len(cycle)] + f"w{i} " for i in range(depth))


def nested_links(depth: int = 100, n_bytes: int = 10 * MB) -> str:
    """Links nested inside links (through <span>s, which keep libxml2 from closing them) around a large text."""
    words = ("link text " * (n_bytes // 10 + 1))[:n_bytes]
    return "<body><p>" + "<a href='/x'><span>" * depth + words + "</span></a>" * depth + "</p></body>"


# --------------------------------------------------------------------------------------------------------------------
# Size.


def big_page(n_bytes: int = 50 * MB, seed: int = 0) -> bytes:
    """An ordinary article page of ``n_bytes``."""
    return article_html(n_bytes, seed).encode("utf-8")


def huge_text_node(n_bytes: int = 10 * MB) -> str:
    """A single text node of ``n_bytes`` characters (libxml2's default limit is 10,000,000) between two paragraphs."""
    words = ("word " * (n_bytes // 5 + 1))[:n_bytes]
    return f"<html><body><p>before</p><p>{words}</p><p>after</p></body></html>"


def huge_attribute(n_bytes: int = 10 * MB, n_attrs: int = 10_000) -> str:
    """One attribute value of ``n_bytes`` and an element with ``n_attrs`` attributes and as many class tokens."""
    classes = " ".join(f"c{i}" for i in range(n_attrs))
    attrs = " ".join(f"data-a{i}='{i}'" for i in range(n_attrs))
    return (
        f"<html><body><p>before</p><img src='data:image/png;base64,{'A' * n_bytes}'>"
        f"<div class='{classes}' {attrs}><p>inside</p></div><p>after</p></body></html>"
    )


def many_links(n_links: int = 100_000) -> str:
    """One page of ``n_links`` links: a link list, a paragraph of links and links repeating the same anchor text."""
    third = n_links // 3
    items = "".join(f"<li><a href='/p/{i}'>Post {i}</a></li>" for i in range(third))
    inline = " ".join(f"<a href='/t/{i}'>tag{i}</a>" for i in range(third))
    # The same one-letter anchor over and over: placing links in the text must not scan the block once per link.
    same = " ".join("<a href='/a'>a</a>" for _ in range(n_links - 2 * third))
    return f"<html><body><ul>{items}</ul><p>{inline}</p><p>{same}</p></body></html>"


def many_tiny_blocks(n_blocks: int = 100_000) -> str:
    """``n_blocks`` one-word blocks of assorted block tags."""
    tags = ("p", "div", "li", "td", "h3", "dt", "section")
    return "<html><body>" + "".join(f"<{tags[i % 7]}>b{i}</{tags[i % 7]}>" for i in range(n_blocks)) + "</body></html>"


def many_brs(n_brs: int = 100_000) -> str:
    """One paragraph broken by ``n_brs`` line breaks, single and doubled, with whitespace-only inline elements."""
    return "<p>" + "".join(f"l{i}<br>" if i % 3 else f"l{i}<br> <i> </i> <br>" for i in range(n_brs)) + "</p>"


def long_line_text(n_bytes: int = 10 * MB) -> str:
    """Plain text: one line of ``n_bytes`` characters starting with a bullet, with no line break."""
    return "- " + ("word " * (n_bytes // 5 + 1))[: n_bytes - 2]


def many_lines_text(n_lines: int = 100_000) -> str:
    """Plain text of ``n_lines`` short lines: bullets, numbering, indentation, blank lines, odd line separators."""
    seps = ("\n", "\r\n", "\r", "\u2028", "\x0b", "\x85", "\n\n")
    marks = ("- ", "* ", "1. ", "a) ", "  • ", "\t> ", "")
    return "".join(f"{marks[i % 7]}line {i}{seps[i % 7]}" for i in range(n_lines))


# --------------------------------------------------------------------------------------------------------------------
# Entities, DTDs and references outside the page.


def billion_laughs(levels: int = 9, fanout: int = 10) -> str:
    """The classic entity bomb: ``fanout ** levels`` copies of "lol" if a parser expanded it."""
    refs = lambda n: "".join(f"&lol{n};" for _ in range(fanout))  # noqa: E731
    decls = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{refs(n - 1)}">' for n in range(1, levels + 1)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n ' + "\n ".join(decls) + "\n]>\n"
        f"<html><body><p>start &lol{levels}; end</p><p>after</p></body></html>"
    )


def quadratic_blowup(entity_chars: int = 100_000, n_refs: int = 100_000) -> str:
    """One large entity referenced many times: ``entity_chars * n_refs`` characters if expanded."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE kaboom [<!ENTITY a "{"a" * entity_chars}">]>'
        f"<html><body><p>{'&a;' * n_refs}</p><p>after</p></body></html>"
    )


def xxe_file(path: str = DEFAULT_FILE, url: str = DEFAULT_URL) -> str:
    """External entities pointing at a local file (file:// and a bare path) and a parameter entity at a URL."""
    del url
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE x [\n <!ENTITY e SYSTEM "file://{path}">\n'
        f' <!ENTITY f SYSTEM "{path}">\n <!ENTITY g PUBLIC "-//x//y" "file://{path}">\n]>\n'
        "<html><body><p>a &e; b</p><p>c &f; d &g; e</p></body></html>"
    )


def xxe_url(path: str = DEFAULT_FILE, url: str = DEFAULT_URL) -> str:
    """External general and parameter entities and an external DTD subset, all pointing at a URL."""
    del path
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "{url}dtd" [\n <!ENTITY e SYSTEM "{url}entity">\n'
        f' <!ENTITY % p SYSTEM "{url}param"> %p;\n]>\n'
        "<html><body><p>a &e; b</p><p>after</p></body></html>"
    )


def external_dtd(path: str = DEFAULT_FILE, url: str = DEFAULT_URL) -> str:
    """HTML doctypes whose system identifiers name a local file and a URL, and an entity the DTD would define."""
    return (
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "file://{path}">'
        f'<!DOCTYPE html SYSTEM "{url}evil.dtd"><html><body><p>x &leak; y</p></body></html>'
    )


def xinclude(path: str = DEFAULT_FILE, url: str = DEFAULT_URL) -> str:
    """XInclude elements and an xml-stylesheet instruction referencing a local file and a URL."""
    return (
        f'<?xml-stylesheet href="file://{path}"?><?xml-stylesheet href="{url}s.xsl"?>'
        '<html xmlns:xi="http://www.w3.org/2001/XInclude"><body>'
        f'<p>a<xi:include href="file://{path}" parse="text"/>b<xi:include href="{url}inc" parse="text"/>c</p>'
        "</body></html>"
    )


def base_and_javascript(path: str = DEFAULT_FILE, url: str = DEFAULT_URL, n_links: int = 1_000) -> str:
    """<base> and link tricks: javascript:/data:/vbscript:/file: URLs, obfuscated schemes, meta refresh, imports."""
    hrefs = (
        "javascript:alert(document.cookie)",
        " jav&#x09;ascript:alert(1)",
        "java\nscript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        f"file://{path}",
        url,
        "//evil.example/x",
        "\x01javascript:alert(1)",
    )
    links = "".join(f"<a href='{hrefs[i % len(hrefs)]}'>link {i}</a> " for i in range(n_links))
    return (
        "<html><head><base href='javascript:alert(1)//'><base href='" + url + "'>"
        f"<meta http-equiv='refresh' content='0; url={url}'><link rel='stylesheet' href='{url}x.css'>"
        f"<link rel='import' href='file://{path}'></head><body onload='alert(1)'>"
        f"<p>Read <a href='relative/page'>the story</a> and <a href=\"javascript:alert('x')\">click</a>.</p>"
        f"<img src='file://{path}' srcset='{url}a.png 1x'><iframe src='{url}'>framed</iframe>"
        f"<object data='file://{path}'>obj</object><embed src='{url}'>"
        f"<form action='javascript:alert(1)'><button formaction='{url}'>go</button></form>"
        f"<svg><a xlink:href='javascript:alert(1)'><text>svg link</text></a></svg>"
        f"<p>{links}</p></body></html>"
    )


def meta_flood(n_bytes: int = 64_000) -> bytes:
    """Unterminated <meta and <!-- openers that the encoding and HTML sniffers scan, then a non-UTF-8 byte."""
    half = n_bytes // 2
    return (b"<meta content='charset=" * (half // 23 + 1))[:half] + (b"<!--" * (half // 4 + 1))[:half] + b"\xff<p>x"


# --------------------------------------------------------------------------------------------------------------------
# Registry.


class Case(NamedTuple):
    """A named hostile page: its builder, the small (tests) and full (benchmark) size parameters, its input kind."""

    name: str
    build: Callable[..., Page]
    small: dict[str, Any]
    full: dict[str, Any]
    input: Literal["html", "text", "auto"]  # the input kind the page is meant for ("auto": either may be picked)
    external: bool = False  # takes ``path`` and ``url`` (it references things outside the page)


def _case(
    fn: Callable[..., Page],
    small: dict[str, Any],
    full: dict[str, Any],
    input: Literal["html", "text", "auto"] = "html",
    external: bool = False,
) -> Case:
    return Case(fn.__name__, fn, small, full, input, external)


CASES: dict[str, Case] = {
    c.name: c
    for c in (
        _case(random_bytes, {"n_bytes": 200_000}, {"n_bytes": 10 * MB}, "auto"),
        _case(random_text, {"n_chars": 100_000}, {"n_chars": 5 * MB}, "auto"),
        _case(truncated_html, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(mangled_html, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(lying_encoding, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(bom_lie, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(mixed_encodings, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(nul_bytes, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}),
        _case(utf16_without_bom, {"n_bytes": 100_000}, {"n_bytes": 10 * MB}, "auto"),
        _case(deep_nesting, {"depth": 2_000}, {"depth": 100_000}),
        _case(deep_inline_nesting, {"depth": 2_000}, {"depth": 100_000}),
        _case(unclosed_nesting, {"depth": 2_000}, {"depth": 100_000}),
        _case(nested_links, {"depth": 100, "n_bytes": 200_000}, {"depth": 120, "n_bytes": 10 * MB}),
        _case(big_page, {"n_bytes": MB}, {"n_bytes": 50 * MB}),
        _case(huge_text_node, {"n_bytes": MB}, {"n_bytes": 10 * MB}),
        _case(huge_attribute, {"n_bytes": MB, "n_attrs": 1_000}, {"n_bytes": 10 * MB, "n_attrs": 100_000}),
        _case(many_links, {"n_links": 3_000}, {"n_links": 100_000}),
        _case(many_tiny_blocks, {"n_blocks": 3_000}, {"n_blocks": 100_000}),
        _case(many_brs, {"n_brs": 3_000}, {"n_brs": 100_000}),
        _case(long_line_text, {"n_bytes": MB}, {"n_bytes": 10 * MB}, "text"),
        _case(many_lines_text, {"n_lines": 3_000}, {"n_lines": 100_000}, "text"),
        _case(billion_laughs, {"levels": 9}, {"levels": 30}),
        _case(
            quadratic_blowup, {"entity_chars": 10_000, "n_refs": 10_000}, {"entity_chars": 100_000, "n_refs": 100_000}
        ),
        _case(xxe_file, {}, {}, external=True),
        _case(xxe_url, {}, {}, external=True),
        _case(external_dtd, {}, {}, external=True),
        _case(xinclude, {}, {}, external=True),
        _case(base_and_javascript, {"n_links": 100}, {"n_links": 100_000}, external=True),
        _case(meta_flood, {"n_bytes": 64_000}, {"n_bytes": 10 * MB}),
    )
}


def case_names() -> list[str]:
    """Names of every case, in registry order."""
    return list(CASES)


def build(name: str, scale: Scale = "small", **overrides: Any) -> Page:
    """Build a case at its small (tests) or full (benchmark) size; ``overrides`` replace size parameters."""
    case = CASES[name]
    params = dict(case.small if scale == "small" else case.full)
    params.update(overrides)
    return case.build(**params)
