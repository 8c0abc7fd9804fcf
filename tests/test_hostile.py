"""The hostile-page corpus (tests/hostile_pages.py) at small sizes: no crash, no hang, nothing read or fetched from
outside the page, nothing expanded, nothing lost without the ``truncated`` flag; and the resource guards.

The full sizes (50 MB pages, 100,000-deep nesting, 100,000 links...) run in ``python benchmarks/hostile.py``, which
also measures time and peak memory per case in a fresh process. Time bounds here are generous hang guards only.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import hostile_pages as hp
import numpy as np
import pytest
from _models import tiny_bundle

from bpdetect.dom import MAX_ATTRIBUTES, limit_attributes, strip_control_chars
from bpdetect.errors import InputTooLarge
from bpdetect.extract import Detector
from bpdetect.formats import to_html, to_markdown, to_record
from bpdetect.records import Document, Extraction
from bpdetect.segment import MAX_ANCHOR_CHARS, MAX_CLASS_TOKENS, segment, segment_html, segment_text

HANG_GUARD_S = 30.0
CANARY = "CANARY-3b9f-THIS-FILE-MUST-NEVER-BE-READ"
# Tokens the plain-text assembly adds between block texts: list markers and table cell separators.
ASSEMBLY_MARKERS = frozenset(("-", "|"))


# --------------------------------------------------------------------------------------------------------------------
# Fixtures: a canary file, a loopback server that records every request, an audit hook, a tiny model.


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]]  # set per server, by a subclass

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leak "FETCHED-OVER-HTTP">')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server; the list holds the path of every request it got (there must be none)."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "canary.txt"
    path.write_text(CANARY + "\n")
    return path


class _Audit:
    """Python-level file opens and network/process events, recorded only while armed (hooks cannot be removed)."""

    EVENTS = ("socket.connect", "socket.getaddrinfo", "urllib.Request", "subprocess.Popen", "os.system")

    def __init__(self) -> None:
        self.armed = False
        self.events: list[str] = []
        self.allowed = tuple({sys.prefix, sys.base_prefix, str(Path(hp.__file__).parents[1] / "bpdetect")})

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed:
            return
        if event == "open" and not isinstance(args[0], int):  # an int is an already open descriptor
            path = os.fsdecode(args[0])
            if not path.startswith(self.allowed):
                self.events.append(f"open {path}")
        elif event in self.EVENTS:
            self.events.append(event)


_AUDIT = _Audit()
sys.addaudithook(_AUDIT)


@pytest.fixture
def audit() -> Iterator[_Audit]:
    """Fails the test if the code under test opened a file or touched the network from Python."""
    _AUDIT.events.clear()
    _AUDIT.armed = True
    yield _AUDIT
    _AUDIT.armed = False
    assert _AUDIT.events == []


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(html_model=tiny_bundle("html"), text_model=tiny_bundle("text"))


def test_the_watchers_see_what_they_watch(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    """The audit hook records Python file opens and socket use, and the server records requests: none is blind."""
    url, hits = server
    _AUDIT.events.clear()
    _AUDIT.armed = True
    try:
        (tmp_path / "probe.txt").write_text("x")
        socket.getaddrinfo("127.0.0.1", 80)
    finally:
        _AUDIT.armed = False
    assert _AUDIT.events == [f"open {tmp_path / 'probe.txt'}", "socket.getaddrinfo"]
    _AUDIT.events.clear()
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}probe", timeout=10) as resp:
        assert b"FETCHED-OVER-HTTP" in resp.read()
    assert hits == ["/probe"]
    hits.clear()


def build(name: str, canary: Path, url: str, **overrides: Any) -> hp.Page:
    """A case at its small size, its outside references aimed at the canary file and the recording server."""
    case = hp.CASES[name]
    extra = {"path": str(canary), "url": url} if case.external else {}
    return hp.build(name, "small", **extra, **overrides)


# --------------------------------------------------------------------------------------------------------------------
# Invariants every result must satisfy.


def guarded(fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    assert time.perf_counter() - start < HANG_GUARD_S
    return result


def input_chars(page: hp.Page) -> int:
    return len(page)  # decoding never yields more characters than bytes; a str is its characters


def check_document(doc: Document, page: hp.Page) -> None:
    """Blocks are numbered, non-empty, normalized, UTF-8 clean, and hold no more text than the page had."""
    assert isinstance(doc, Document)
    total = 0
    for i, b in enumerate(doc.blocks):
        assert b.index == i
        assert b.text and b.text == b.text.strip() and "\x00" not in b.text
        assert all(line == " ".join(line.split()) for line in b.text.split("\n"))
        b.text.encode("utf-8")  # no lone surrogate: JSON and file output must never fail on a block
        assert b.n_chars == len(b.text) and 0 <= b.n_link_chars <= b.n_chars
        total += len(b.text)
    # No entity or include can expand: the blocks never hold more characters than the input.
    assert total <= input_chars(page)


def reference_words(doc: Document) -> list[str]:
    """The words of a document's blocks in order, with plain-text bullet markers where the page had them."""
    out: list[str] = []
    for b in doc.blocks:
        if b.bullet:
            out.append(b.bullet)
        out.extend(b.text.split())
    return [w for w in out if w not in ASSEMBLY_MARKERS]


def text_words(text: str) -> list[str]:
    return [w for w in text.split() if w not in ASSEMBLY_MARKERS]


def is_subsequence(sub: list[str], seq: list[str]) -> bool:
    it = iter(seq)
    return all(any(word == other for other in it) for word in sub)


def check_extraction(ext: Extraction, doc: Document) -> None:
    """Every word of the extracted text is a word of the page's blocks, in order; every output renders."""
    assert isinstance(ext, Extraction)
    assert len(ext.blocks) == len(doc.blocks) and ext.truncated == doc.truncated
    assert is_subsequence(text_words(ext.text), reference_words(doc))
    json.dumps(to_record(ext), ensure_ascii=False).encode("utf-8")
    to_markdown(ext, links=True, url="https://example.org/dir/page")
    to_html(ext, links=True, url="https://example.org/dir/page")


# --------------------------------------------------------------------------------------------------------------------
# Every case, every input path.


@pytest.mark.parametrize("name", hp.case_names())
def test_case_segments_on_every_path(name: str, canary: Path, server: tuple[str, list[str]], audit: _Audit) -> None:
    url, hits = server
    page = build(name, canary, url)
    for kind in ("auto", "html", "text"):
        doc = guarded(lambda kind=kind: segment(page, input=kind))
        check_document(doc, page)
        assert all(CANARY not in b.text for b in doc.blocks)
    assert hits == []


# Scoring costs per character and per block: the extraction test runs the largest cases at a fifth of their size.
EXTRACT_SIZES: dict[str, dict[str, int]] = {
    "big_page": {"n_bytes": 200_000},
    "huge_text_node": {"n_bytes": 200_000},
    "huge_attribute": {"n_bytes": 200_000},
    "long_line_text": {"n_bytes": 200_000},
}


@pytest.mark.parametrize("name", hp.case_names())
def test_case_extracts_deterministically(
    name: str, canary: Path, server: tuple[str, list[str]], detector: Detector, audit: _Audit
) -> None:
    url, hits = server
    page = build(name, canary, url, **EXTRACT_SIZES.get(name, {}))
    doc = segment(page)
    default = guarded(lambda: detector.extract(page))
    check_extraction(default, doc)
    again = detector.extract(page)
    assert again.text == default.text and [sb.score for sb in again.blocks] == [sb.score for sb in default.blocks]
    # Threshold 0 keeps every block (the boilerplate rules aside: a random line may open with "©"): the strictest check
    # of where the words come from, and that none is lost.
    model_only = Detector(
        html_model=detector.bundle("html"), text_model=detector.bundle("text"), boilerplate_rules=False
    )
    everything = model_only.assemble(doc, np.array([sb.score for sb in default.blocks]), 0.0)
    check_extraction(everything, doc)
    assert text_words(everything.text) == reference_words(doc)
    assert CANARY not in everything.text and CANARY not in to_markdown(everything, links=True)
    assert hits == []


# --------------------------------------------------------------------------------------------------------------------
# Junk, truncation, encodings.


@pytest.mark.parametrize("seed", range(len(hp.TRUNCATION_OPENERS)))
def test_truncated_pages_keep_what_came_before(seed: int) -> None:
    page = hp.truncated_html(50_000, seed)
    doc = guarded(lambda: segment(page))
    check_document(doc, page)
    assert [b.text for b in doc.blocks[:3]] == ["Home", "News", "The footbridge reopens"]


@pytest.mark.parametrize("seed", range(4))
def test_mangled_pages(seed: int) -> None:
    page = hp.mangled_html(50_000, seed, edits_per_kb=50)
    for kind in ("auto", "html", "text"):
        check_document(guarded(lambda kind=kind: segment(page, input=kind)), page)


def test_nul_bytes_are_dropped_even_inside_markup() -> None:
    doc = segment(hp.nul_bytes(30_000))
    assert [b.text for b in doc.blocks[:3]] == ["a&b", "c", "Harbour news"]
    assert doc.blocks[-1].text == "Copyright Harbour Times."


def test_utf16_without_bom_parses_as_html_when_told() -> None:
    doc = segment(hp.utf16_without_bom(30_000), input="html")
    assert "The footbridge reopens" in [b.text for b in doc.blocks]


def test_lying_and_mixed_encodings_decode_to_clean_text() -> None:
    for page in (hp.lying_encoding(30_000), hp.mixed_encodings(30_000), hp.bom_lie(30_000)):
        doc = segment(page)
        assert doc.encoding is not None and doc.blocks
        check_document(doc, page)
    # UTF-7 is never used, whatever the page declares: "+ADw-p+AD4-" stays as written.
    assert any("+ADw-p+AD4-utf7" in b.text for b in segment(hp.lying_encoding(30_000)).blocks)


def test_random_text_with_lone_surrogates(detector: Detector) -> None:
    text = hp.random_text(20_000, seed=3)
    for kind in ("html", "text"):
        doc = segment(text, input=kind)
        check_document(doc, text)
        check_extraction(detector.extract(text, input=kind, threshold=0.0), doc)


# --------------------------------------------------------------------------------------------------------------------
# Nesting.


def test_deep_nesting_is_cut_and_flagged() -> None:
    deep = segment(hp.deep_nesting(2_000))
    assert [b.text for b in deep.blocks] == ["before"] and deep.truncated
    shallow = segment(hp.deep_nesting(200))
    assert [b.text for b in shallow.blocks] == ["before", "deep", "after"] and not shallow.truncated


def test_deep_inline_and_unclosed_nesting_are_flagged() -> None:
    inline = segment(hp.deep_inline_nesting(2_000))
    assert inline.truncated and inline.blocks[0].text.startswith("before")
    unclosed = segment(hp.unclosed_nesting(2_000))
    assert unclosed.truncated
    assert [b.text for b in unclosed.blocks[:4]] == ["before", "w0", "w1", "w2"]


def test_nested_links_cost_no_more_than_their_text() -> None:
    # Each link used to rejoin the whole text of the links inside it: 100 levels made a page 100 times its size.
    page = hp.nested_links(depth=100, n_bytes=200_000)
    doc = guarded(lambda: segment(page))
    (block,) = doc.blocks
    assert block.n_links == 100 and len(block.links) == 100
    assert block.text == " ".join(("link text " * 20_001)[:200_000].split())
    for anchor, href in block.links:
        assert href == "/x" and len(anchor) <= MAX_ANCHOR_CHARS and block.text.startswith(anchor)


def test_void_elements_libxml2_nests_do_not_swallow_the_page() -> None:
    # libxml2 parses <embed> as a container: the paragraphs after it became its children and were dropped with it.
    doc = segment_html("<p>a</p><embed src='movie.swf'><p>after embed</p><object data='x'>fallback</object><p>z</p>")
    assert [b.text for b in doc.blocks] == ["a", "after embed", "z"]
    # ...and nests <wbr> inside <wbr>: 400 of them in one paragraph hit the depth limit and lost the rest of the page.
    for tag in ("wbr", "WBR class=x", "source src='a>b'", "wbr/"):
        doc = segment_html(f"<p>{f'ab<{tag}>' * 400}end</p><p>after</p>")
        assert [b.text[-5:] for b in doc.blocks] == ["abend", "after"] and not doc.truncated


# --------------------------------------------------------------------------------------------------------------------
# Size.


def test_big_page_is_complete() -> None:
    page = hp.big_page(1_000_000)
    doc = guarded(lambda: segment(page))
    assert not doc.truncated and len(doc.blocks) > 5_000
    assert doc.blocks[-1].text == "Copyright Harbour Times." and doc.title == "Harbour news"
    assert doc.blocks[-2].n_links == 1


def test_huge_text_node_is_kept_whole() -> None:
    doc = segment(hp.huge_text_node(1_000_000))
    assert [len(b.text) for b in doc.blocks] == [6, 999_999, 5]  # the trailing space of the last "word " goes


def test_many_attributes_are_cut_before_parsing() -> None:
    # libxml2 compares every attribute of a tag with the earlier ones: 100,000 attributes took over a minute.
    page = hp.huge_attribute(n_bytes=100_000, n_attrs=100_000)
    doc = guarded(lambda: segment(page))
    assert [b.text for b in doc.blocks] == ["before", "inside", "after"] and not doc.truncated
    assert len(doc.blocks[1].class_tokens) == MAX_CLASS_TOKENS
    tag = b"<div class='first' " + b" ".join(b'a%d="v >%d"' % (i, i) for i in range(150)) + b">text</div>"
    cut = limit_attributes(tag)
    assert cut.startswith(b"<div class='first' a0=\"v >0\"") and cut.endswith(b">text</div>")
    assert cut.count(b"=") == MAX_ATTRIBUTES and b"a98=" in cut and b"a99=" not in cut
    page_with_data_uri = b"<img src='data:" + b"A" * 10_000 + b"'><p>x</p>"
    assert limit_attributes(page_with_data_uri) is page_with_data_uri


def test_many_links_and_tiny_blocks(detector: Detector) -> None:
    links = segment(hp.many_links(3_000))
    assert sum(b.n_links for b in links.blocks) == 3_000
    assert [len(b.links) for b in links.blocks[-2:]] == [1_000, 1_000]
    ext = detector.extract(hp.many_links(3_000), threshold=0.0)
    markdown = guarded(lambda: to_markdown(ext, links=True))
    assert markdown.count("](/t/") == 1_000
    tiny = segment(hp.many_tiny_blocks(3_000))
    assert [b.text for b in tiny.blocks] == [f"b{i}" for i in range(3_000)] and not tiny.truncated


def test_many_line_breaks_keep_every_line() -> None:
    doc = segment(hp.many_brs(3_000))
    lines = [line for b in doc.blocks for line in b.text.split("\n")]
    assert lines == [f"l{i}" for i in range(3_000)]


@pytest.mark.parametrize("name", ["long_line_text", "many_lines_text", "random_text"])
def test_plain_text_keeps_every_word(name: str) -> None:
    page = hp.build(name, "small")
    doc = segment(page, input="text")
    assert reference_words(doc) == [w for w in strip_control_chars(page).split() if w not in ASSEMBLY_MARKERS]


def test_plain_text_bullets_and_line_separators() -> None:
    doc = segment(hp.many_lines_text(14), input="text")
    # "\x0b" is a control character, dropped: the line after it joins the line before.
    assert [(b.bullet, b.text) for b in doc.blocks[:7]] == [
        ("-", "line 0"),
        ("*", "line 1"),
        ("1.", "line 2"),
        ("a)", "line 3"),
        ("•", "line 4 > line 5"),
        ("", "line 6"),
        ("-", "line 7"),
    ]
    assert [b.indent for b in doc.blocks[:7]] == [0, 0, 0, 0, 2, 0, 0]
    assert [b.blank_before for b in doc.blocks[:7]] == [False] * 6 + [True]


# --------------------------------------------------------------------------------------------------------------------
# Entities, DTDs and references outside the page.


def test_entity_bombs_are_never_expanded() -> None:
    for levels in (9, 30):
        doc = guarded(lambda levels=levels: segment(hp.billion_laughs(levels)))
        assert [b.text for b in doc.blocks] == ["]>", f"start &lol{levels}; end", "after"]
    page = hp.quadratic_blowup(entity_chars=10_000, n_refs=10_000)
    doc = guarded(lambda: segment(page))
    assert [b.text for b in doc.blocks] == ["]>", "&a;" * 10_000, "after"]


@pytest.mark.parametrize("name", ["xxe_file", "xxe_url", "external_dtd", "xinclude", "base_and_javascript"])
def test_external_references_are_never_followed(
    name: str, canary: Path, server: tuple[str, list[str]], detector: Detector, audit: _Audit
) -> None:
    url, hits = server
    page = build(name, canary, url)
    for data in (page, page.encode("utf-8")):
        ext = detector.extract(data, threshold=0.0)
        rendered = to_markdown(ext, links=True) + to_html(ext) + json.dumps(to_record(ext))
        assert CANARY not in rendered and "FETCHED-OVER-HTTP" not in rendered
    assert hits == []


def test_xxe_entities_stay_literal(canary: Path, server: tuple[str, list[str]]) -> None:
    url, _ = server
    assert [b.text for b in segment(hp.xxe_file(str(canary), url)).blocks] == ["]>", "a &e; b", "c &f; d &g; e"]
    assert [b.text for b in segment(hp.xxe_url(str(canary), url)).blocks] == ["%p; ]>", "a &e; b", "after"]
    assert [b.text for b in segment(hp.external_dtd(str(canary), url)).blocks] == ["x &leak; y"]
    assert [b.text for b in segment(hp.xinclude(str(canary), url)).blocks] == ["abc"]


def test_base_and_javascript_links(canary: Path, server: tuple[str, list[str]], detector: Detector) -> None:
    url, hits = server
    page = hp.base_and_javascript(str(canary), url, n_links=20)
    doc = segment(page)
    texts = [b.text for b in doc.blocks]
    assert texts[0] == "Read the story and click."
    assert texts[-1].startswith("link 0 link 1")  # after an <embed>: see the void-element test
    assert not any(w in " ".join(texts) for w in ("framed", "fallback", "svg link", "alert"))
    ext = detector.extract(page, threshold=0.0)
    for out in (
        to_markdown(ext, links=True, url="https://example.org/dir/page"),
        to_html(ext, url="https://example.org/dir/"),
    ):
        lowered = out.lower()
        for bad in ("javascript:", "vbscript:", "data:text", "file:", "\x01"):
            assert bad not in lowered
        # Relative links resolve against the URL the caller gives, never against the page's <base>.
        assert "https://example.org/dir/relative/page" in out and f"{url}relative/page" not in out
    assert hits == []


# --------------------------------------------------------------------------------------------------------------------
# Resource guards.


def test_max_bytes_raises_input_too_large_before_any_work(detector: Detector) -> None:
    page = hp.big_page(100_000)
    assert issubclass(InputTooLarge, ValueError)
    for fn in (segment, segment_html, segment_text):
        with pytest.raises(InputTooLarge, match=f"over the max_bytes limit of {len(page) - 1:,} bytes") as info:
            fn(page, max_bytes=len(page) - 1)
        assert info.value.size == len(page) and info.value.limit == len(page) - 1
        assert fn(page, max_bytes=len(page)).blocks
    with pytest.raises(InputTooLarge):
        detector.extract(page, max_bytes=1_000)
    with pytest.raises(InputTooLarge):
        detector.extract_many([b"<p>small</p>", page], max_bytes=1_000)
    assert detector.extract(page, max_bytes=len(page)).text


def test_max_bytes_counts_utf8_bytes_of_str() -> None:
    text = "<p>" + "é" * 6 + "</p>"  # 13 characters, 19 bytes in UTF-8
    with pytest.raises(InputTooLarge):
        segment(text, max_bytes=18)
    assert [b.text for b in segment(text, max_bytes=19).blocks] == ["é" * 6]
    with pytest.raises(InputTooLarge):
        segment("\ud800" * 10, input="text", max_bytes=29)  # a lone surrogate is counted as its 3 bytes


def test_max_blocks_truncates_and_flags(detector: Detector) -> None:
    page = hp.many_tiny_blocks(3_000)
    ext = detector.extract(page, max_blocks=100)
    assert len(ext.blocks) == 100 and ext.truncated
    assert [sb.block.text for sb in ext.blocks] == [f"b{i}" for i in range(100)]
    text = hp.many_lines_text(3_000)
    ext = detector.extract(text, input="text", max_blocks=10)
    assert len(ext.blocks) == 10 and ext.truncated
    [many] = detector.extract_many([page], max_blocks=5)
    assert len(many.blocks) == 5 and many.truncated
    assert not detector.extract(page, max_blocks=3_000).truncated


@pytest.mark.parametrize(
    ("limits", "error"),
    [
        ({"max_bytes": -1}, ValueError),
        ({"max_blocks": -5}, ValueError),
        ({"max_bytes": "10"}, TypeError),
        ({"max_blocks": 2.5}, TypeError),
        ({"max_blocks": True}, TypeError),
    ],
)
def test_bad_limits_are_refused(limits: dict[str, Any], error: type[Exception]) -> None:
    for fn in (segment, segment_html, segment_text):
        with pytest.raises(error, match="max_"):
            fn("<p>x</p>", **limits)
