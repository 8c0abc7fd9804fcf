"""Hostile and broken input: every case returns a Document (possibly empty, possibly truncated) quickly, or a clear
TypeError for what is not a document at all; nothing crashes, hangs, expands entities or reads files.

Time bounds here are generous hang guards, not performance assertions.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bpdetect.records import Document
from bpdetect.segment import MAX_DEPTH, segment, segment_html, segment_text

HANG_GUARD_S = 20.0


def timed(fn: Callable[[], Document]) -> Document:
    start = time.perf_counter()
    doc = fn()
    assert time.perf_counter() - start < HANG_GUARD_S
    assert isinstance(doc, Document)
    return doc


def texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks]


# --- empty and junk -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [segment, segment_html, segment_text])
@pytest.mark.parametrize("doc", [b"", "", b"\x00", "\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf"])
def test_empty_input(fn: Callable[[str | bytes], Document], doc: str | bytes) -> None:
    result = timed(lambda: fn(doc))
    assert result.blocks == ()
    assert not result.truncated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_binary_junk(seed: int) -> None:
    data = random.Random(seed).randbytes(200_000)
    for fn in (segment, segment_html, segment_text):
        doc = timed(lambda fn=fn: fn(data))
        for b in doc.blocks:
            assert b.text and "\x00" not in b.text


def test_nul_bytes_are_dropped() -> None:
    doc = timed(lambda: segment_html(b"<p>a\x00b</p>" + b"\x00" * 10_000 + b"<p>c</p>"))
    assert texts(doc) == ["ab", "c"]
    assert timed(lambda: segment_html(b"\x00" * 100_000)).blocks == ()
    assert texts(timed(lambda: segment_text(b"line\x00one\n\x00\x00\nline two"))) == ["lineone", "line two"]


def test_not_a_document_is_a_type_error() -> None:
    for bad in (None, 42, ["<p>x</p>"], {"html": "x"}):
        for fn in (segment, segment_html, segment_text):
            with pytest.raises(TypeError, match="str or bytes"):
                fn(bad)  # type: ignore[arg-type]


def test_unterminated_constructs() -> None:
    for html in ("<p>before</p><!-- never closed <p>x</p>", "<p>a<script>never closed", '<p title="open>x</p>', "<"):
        doc = timed(lambda html=html: segment_html(html))
        assert all(b.text for b in doc.blocks)
    assert texts(segment_html("<p>before</p><!-- never closed <p>x</p>"))[0] == "before"


# --- size and depth -------------------------------------------------------------------------------------------------


def test_50mb_page() -> None:
    paragraph = "<div class='c'><p>" + "lorem ipsum dolor sit amet " * 40 + "</p><a href='#'>link</a></div>\n"
    n = 50_000_000 // len(paragraph) + 1
    data = ("<html><body>" + paragraph * n + "</body></html>").encode()
    assert len(data) > 50_000_000
    doc = timed(lambda: segment_html(data))
    assert len(doc.blocks) == 2 * n and not doc.truncated
    assert doc.blocks[-1].text == "link" and doc.blocks[-1].n_link_chars == 4


def test_50mb_page_with_max_blocks() -> None:
    data = (b"<p>" + b"x" * 100 + b"</p>") * 470_000
    assert len(data) > 50_000_000
    doc = timed(lambda: segment_html(data, max_blocks=1000))
    assert len(doc.blocks) == 1000 and doc.truncated


def test_100000_levels_of_nesting() -> None:
    # libxml2 stops parsing at depth 256: what came before is kept and the Document says it is incomplete.
    html = "<html><body><p>before</p>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "<p>after</p>"
    doc = timed(lambda: segment_html(html))
    assert texts(doc) == ["before"]
    assert doc.truncated


def test_nesting_within_the_limit_is_complete() -> None:
    html = "<p>before</p>" + "<div>" * 200 + "deep" + "</div>" * 200 + "<p>after</p>"
    doc = timed(lambda: segment_html(html))
    assert texts(doc) == ["before", "deep", "after"]
    assert not doc.truncated


def test_deep_inline_nesting() -> None:
    html = "<p>" + "<b>" * 50_000 + "bold" + "</b>" * 50_000 + "</p>"
    doc = timed(lambda: segment_html(html))
    assert doc.truncated
    assert "bold" not in "".join(texts(doc))


@pytest.mark.parametrize("size", [9_000_000, 10_000_000, 12_000_000])
def test_single_huge_text_node(size: int) -> None:
    # libxml2 stops at text nodes of about 10,000,000 bytes; the page is then parsed again without that limit.
    html = "<p>before</p><p>" + "x" * size + "</p><p>after</p>"
    doc = timed(lambda: segment_html(html.encode()))
    assert [len(t) for t in texts(doc)] == [6, size, 5]
    assert not doc.truncated


def test_huge_script_does_not_wipe_the_page() -> None:
    html = "<html><head><script>" + "x" * 12_000_000 + "</script><title>T</title></head><body><p>body</p></body>"
    doc = timed(lambda: segment_html(html))
    assert texts(doc) == ["body"] and doc.title == "T" and not doc.truncated


def test_huge_attribute_and_deep_nesting_together() -> None:
    # The retry without size limits allows deeper trees; the walk still skips what lies beyond MAX_DEPTH.
    html = (
        "<p>before</p><img src='data:"
        + "a" * 11_000_000
        + "'>"
        + "<div>" * (MAX_DEPTH + 100)
        + "deep"
        + "</div>" * (MAX_DEPTH + 100)
        + "<p>after</p>"
    )
    doc = timed(lambda: segment_html(html))
    assert texts(doc) == ["before", "after"]
    assert doc.truncated


def test_huge_plain_text() -> None:
    text = ("word " * 200 + "\n") * 10_000 + "x" * 10_000_000
    doc = timed(lambda: segment_text(text))
    assert len(doc.blocks) == 10_001 and len(doc.blocks[-1].text) == 10_000_000


# --- entities, DTDs, external references ----------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<html><body><p>start &lol9; end</p><p>after</p></body></html>"""


@pytest.mark.parametrize("as_bytes", [False, True])
def test_billion_laughs(as_bytes: bool) -> None:
    doc = timed(lambda: segment(BILLION_LAUGHS.encode() if as_bytes else BILLION_LAUGHS))
    assert doc.source == "html"
    # As in a browser, the HTML parser ends the doctype at its first ">" and shows the leftover "]>"; the entity
    # reference stays literal text and is never expanded.
    assert texts(doc) == ["]>", "start &lol9; end", "after"]


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback TCP socket that nothing should ever connect to: the parser must not fetch anything."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.setblocking(False)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", sock
    sock.close()


def assert_no_connection(sock: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_external_entities_are_not_resolved(tmp_path: Path, listener: tuple[str, socket.socket]) -> None:
    url, sock = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")
    html = f"""<?xml version="1.0"?>
<!DOCTYPE foo [
 <!ENTITY file SYSTEM "file://{secret}">
 <!ENTITY host SYSTEM "file:///etc/hostname">
 <!ENTITY web SYSTEM "{url}/entity.txt">
 <!ENTITY % remote SYSTEM "{url}/evil.dtd"> %remote;
]>
<html><body><p>a &file; b</p><p>c &host; d</p><p>e &web; f</p></body></html>"""
    doc = timed(lambda: segment_html(html.encode()))
    assert texts(doc) == ["%remote; ]>", "a &file; b", "c &host; d", "e &web; f"]
    assert_no_connection(sock)


def test_external_dtd_is_not_loaded(tmp_path: Path, listener: tuple[str, socket.socket]) -> None:
    url, sock = listener
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "DTD-WAS-LOADED">')
    for system_id in (f"file://{dtd}", f"{url}/evil.dtd"):
        html = f'<!DOCTYPE html SYSTEM "{system_id}"><html><body><p>x &leak; y</p></body></html>'
        doc = timed(lambda html=html: segment_html(html))
        assert texts(doc) == ["x &leak; y"]
    assert_no_connection(sock)


def test_xinclude_and_xml_stylesheet_are_ignored(tmp_path: Path) -> None:
    secret = tmp_path / "inc.txt"
    secret.write_text("INCLUDED-CONTENT")
    html = (
        f'<?xml-stylesheet href="file://{secret}"?><html xmlns:xi="http://www.w3.org/2001/XInclude"><body>'
        f'<p>a<xi:include href="file://{secret}" parse="text"/>b</p></body></html>'
    )
    doc = timed(lambda: segment_html(html))
    assert "INCLUDED" not in "".join(texts(doc))
    assert texts(doc) == ["ab"]
