"""Property-based tests (Hypothesis) of decode, parse, segment and extract on any input.

- any bytes or string gives a result (or the documented TypeError/ValueError), never another exception;
- every word of the extracted text comes from the page's visible text, in order — checked against an independent
  reference for generated HTML (the visible words of the tree the page was written from), and against the page's own
  blocks for arbitrary input;
- extraction is deterministic, within a process and across hash seeds;
- the plain-text and HTML paths never raise on each other's input.

Runs are derandomized (a fixed sequence of examples) so CI is deterministic; no example database is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from _models import tiny_bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpdetect.decode import Decoded, decode, normalize_encoding
from bpdetect.dom import parse_html, parse_html_bytes, strip_control_chars
from bpdetect.extract import Detector
from bpdetect.formats import to_html, to_markdown, to_record
from bpdetect.records import Document
from bpdetect.segment import looks_like_html, segment, segment_html, segment_text

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=60)
DECODE_SOURCES = {"bom", "declared", "meta", "utf-8", "detected", "fallback"}
# Tokens the plain-text assembly adds between block texts: list markers and table cell separators.
ASSEMBLY_MARKERS = frozenset(("-", "|"))
# Words of invisible content (hidden elements, scripts, styles, comments, the title) all contain this; visible words
# are lowercase, so it can never be formed by joining visible words.
HIDDEN = "HID"


@pytest.fixture(scope="module")
def detector() -> Detector:
    # The model's decisions alone: at threshold 0 every block is kept (see test_boilerplate_rules_only_drop).
    return Detector(html_model=tiny_bundle("html"), text_model=tiny_bundle("text"), boilerplate_rules=False)


# --------------------------------------------------------------------------------------------------------------------
# Inputs: any bytes, any text (surrogates and controls included), HTML-ish soup, and labels.

any_text = st.text(st.characters(exclude_categories=[]), max_size=400)  # lone surrogates and controls included
markup = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div class='x'>",
        "</div>",
        "<a href='/y'>",
        "</a>",
        "<br>",
        "<li>",
        "<ul>",
        "<table><tr><td>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "&amp;",
        "&#x1F600;",
        "&#0;",
        "&lol;",
        "<!DOCTYPE x [",
        "]>",
        "<?xml ",
        "<embed>",
        "<wbr>",
        "<h1>",
        "<pre>",
        "\n",
        " ",
        "\x00",
        "\ud800",
        "- ",
        "1. ",
        "<meta charset='utf-16'>",
    ]
)
soup = st.lists(st.one_of(markup, st.text(max_size=12)), max_size=60).map("".join)
# Scraper-dump-like text: many lines, bullets, indentation and every kind of line separator, with arbitrary runs.
line_soup = st.lists(
    st.one_of(
        st.sampled_from(
            ["\n", "\r\n", "\r", "\n\n", "\u2028", "\x85", "\x0b", "- ", "* ", "1. ", "a) ", "• ", "  ", "\t"]
        ),
        st.text(st.characters(exclude_categories=[]), max_size=10),
        st.text("abc xyz", min_size=1, max_size=12),
    ),
    max_size=80,
).map("".join)
any_page = st.one_of(
    st.binary(max_size=600), any_text, line_soup, soup, soup.map(lambda s: s.encode("utf-8", "replace"))
)
labels = st.one_of(
    st.none(),
    st.sampled_from(
        [
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
        ]
    ),
    st.text(max_size=12),
)
kinds = st.sampled_from(["auto", "html", "text"])


def words(text: str) -> list[str]:
    return [w for w in text.split() if w not in ASSEMBLY_MARKERS]


def block_words(doc: Document) -> list[str]:
    """Words of a document's blocks in order, with the bullet markers of plain-text lines where the page had them."""
    out: list[str] = []
    for b in doc.blocks:
        if b.bullet:
            out.append(b.bullet)
        out.extend(b.text.split())
    return out


def is_subsequence(sub: list[str], seq: list[str]) -> bool:
    it = iter(seq)
    return all(any(word == other for other in it) for word in sub)


# --------------------------------------------------------------------------------------------------------------------
# decode and parse.


@SETTINGS
@given(st.binary(max_size=800), labels)
def test_decode_any_bytes_any_label(data: bytes, label: str | None) -> None:
    result = decode(data, label)
    assert isinstance(result, Decoded) and result.source in DECODE_SOURCES
    assert normalize_encoding(result.encoding) is not None  # always a real page codec
    result.text.encode("utf-8")  # never a lone surrogate
    assert len(result.text) <= len(data)  # a byte never decodes to more than one character
    assert decode(data, label) == result


@SETTINGS
@given(st.text(st.characters(codec="utf-8", exclude_characters="<\ufeff"), max_size=300))
def test_decode_reads_utf8_exactly(text: str) -> None:
    # Without markup there is nothing to sniff: valid UTF-8 comes back as it was written.
    result = decode(text.encode("utf-8"))
    assert result.text == text and result.encoding == "utf-8"
    assert decode(text.encode("utf-8"), "utf-8").text == text


@SETTINGS
@given(any_text, st.binary(max_size=600))
def test_parse_any_input(text: str, data: bytes) -> None:
    root = parse_html(text)
    assert root is None or isinstance(root.tag, str)
    root, truncated = parse_html_bytes(data)
    assert (root is None or isinstance(root.tag, str)) and isinstance(truncated, bool)


# --------------------------------------------------------------------------------------------------------------------
# segment.


def check_document(doc: Document, page: bytes | str) -> None:
    assert isinstance(doc, Document) and doc.source in ("html", "text")
    for i, b in enumerate(doc.blocks):
        assert b.index == i and b.text and b.text == b.text.strip() and "\x00" not in b.text
        b.text.encode("utf-8")
        assert b.n_chars == len(b.text) and 0 <= b.n_link_chars <= b.n_chars
    assert sum(len(b.text) for b in doc.blocks) <= len(page)


@SETTINGS
@given(any_page, kinds, labels)
def test_segment_any_input_on_any_path(page: bytes | str, kind: str, label: str | None) -> None:
    doc = segment(page, input=kind, encoding=label)
    check_document(doc, page)
    assert segment(page, input=kind, encoding=label) == doc
    if kind != "auto":
        assert doc.source == kind
    else:
        assert doc.source == ("html" if looks_like_html(page) else "text")


@SETTINGS
@given(any_page, st.integers(min_value=0, max_value=5))
def test_max_blocks_keeps_a_prefix(page: bytes | str, limit: int) -> None:
    full = segment_html(page)
    cut = segment_html(page, max_blocks=limit)
    assert cut.blocks == full.blocks[:limit]
    assert cut.truncated == (full.truncated or len(full.blocks) > limit)


@SETTINGS
@given(st.one_of(any_text, line_soup))
def test_plain_text_keeps_every_word_in_order(text: str) -> None:
    doc = segment_text(text)
    assert block_words(doc) == strip_control_chars(text).split()
    assert len(doc.blocks) == sum(1 for line in strip_control_chars(text).splitlines() if line.strip())


# --------------------------------------------------------------------------------------------------------------------
# Generated HTML with a known visible text: a tree of valid nesting, hidden parts marked, serialized as HTML.


@dataclass(frozen=True)
class Node:
    """A generated element: its tag, whether the browser shows it, whether it is block-level, attributes, children."""

    tag: str
    children: tuple[Node | str, ...] = ()
    attrs: str = ""
    visible: bool = True
    block: bool = False


# Text as HTML source and as the browser reads it: words, entities, non-breaking spaces, characters needing escapes.
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&#233;": "é", "&#x65E5;": "日", "&nbsp;": "\xa0", "&quot;": '"'}
word_text = st.text(st.characters(categories=["Ll", "Lo", "Nd"]), min_size=1, max_size=8)
visible_token = st.one_of(word_text, st.sampled_from(sorted(_ENTITIES)))
text_node = st.lists(visible_token, min_size=1, max_size=6).flatmap(
    lambda toks: st.sampled_from([" ", "", "\n  "]).map(lambda sep: sep.join(toks))
)
hidden_text = st.integers(0, 999).map(lambda i: f"{HIDDEN}{i}")

HIDE_ATTRS = ("hidden", "style='display: none'", "aria-hidden='true'", "style='COLOR:red;visibility:hidden'")
INVISIBLE_TAGS = ("script", "style", "template", "iframe", "svg")
INLINE_TAGS = ("span", "b", "em", "strong", "code", "small", "a")
CONTAINERS = ("div", "section", "article", "nav", "aside", "header", "footer", "main", "blockquote")
LEAF_BLOCKS = ("p", "h1", "h2", "h3", "pre", "figcaption", "dt")
class_attr = st.sampled_from(
    [
        "",
        " class='menu'",
        " id='content'",
        " class='post-body entry'",
        " role='navigation'",
        " itemprop='articleBody'",
        " data-x='a>b'",
    ]
)


def _hidden(tag: str, block: bool) -> st.SearchStrategy[Node]:
    return st.tuples(st.sampled_from(HIDE_ATTRS), st.lists(hidden_text, min_size=1, max_size=2)).map(
        lambda a: Node(tag, tuple(a[1]), " " + a[0], visible=False, block=block)
    )


# Invisible content that may sit inside a paragraph, and (adding hidden block elements) inside a container.
invisible_inline = st.one_of(
    st.tuples(st.sampled_from(INVISIBLE_TAGS), hidden_text).map(lambda a: Node(a[0], (a[1],), visible=False)),
    _hidden("span", False),
    hidden_text.map(lambda t: Node("#comment", (t,), visible=False)),
)
invisible = st.one_of(invisible_inline, _hidden("div", True), _hidden("p", True))


def inline_content(depth: int) -> st.SearchStrategy[tuple[Node | str, ...]]:
    """Text and inline elements (no block inside an inline; no link inside a link)."""
    leaf = st.one_of(text_node, st.just(Node("br")), invisible_inline)
    if depth <= 0:
        return st.lists(leaf, max_size=4).map(tuple)
    inner = st.builds(
        lambda tag, attrs, kids: Node(tag, kids, attrs + (" href='/x'" if tag == "a" else "")),
        st.sampled_from(INLINE_TAGS[:-1]) if depth == 1 else st.sampled_from(INLINE_TAGS),
        class_attr,
        st.deferred(lambda: inline_content(depth - 1)).map(lambda kids: tuple(_drop_links(kids))),
    )
    return st.lists(st.one_of(leaf, inner), max_size=4).map(tuple)


def _drop_links(kids: tuple[Node | str, ...]) -> list[Node | str]:
    """Links must not nest: an inner <a> becomes a <span>."""
    out: list[Node | str] = []
    for k in kids:
        if isinstance(k, Node) and k.tag == "a":
            k = Node("span", tuple(_drop_links(k.children)), k.attrs.replace(" href='/x'", ""))
        elif isinstance(k, Node):
            k = Node(k.tag, tuple(_drop_links(k.children)), k.attrs, k.visible, k.block)
        out.append(k)
    return out


def block_content(depth: int) -> st.SearchStrategy[tuple[Node | str, ...]]:
    """Blocks, lists and tables (and loose inline content) inside a container."""
    leaf_block = st.builds(
        lambda tag, attrs, kids: Node(tag, kids, attrs, block=True),
        st.sampled_from(LEAF_BLOCKS),
        class_attr,
        inline_content(2),
    )
    item = st.builds(lambda kids: Node("li", kids, block=True), inline_content(1))
    lst = st.builds(
        lambda tag, items: Node(tag, tuple(items), block=True),
        st.sampled_from(["ul", "ol"]),
        st.lists(item, min_size=1, max_size=4),
    )
    cell = st.builds(lambda kids: Node("td", kids, block=True), inline_content(1))
    row = st.builds(lambda cells: Node("tr", tuple(cells), block=True), st.lists(cell, min_size=1, max_size=3))
    table = st.builds(lambda rows: Node("table", tuple(rows), block=True), st.lists(row, min_size=1, max_size=3))
    parts = [leaf_block, lst, table, inline_content(1).map(lambda kids: Node("span", kids)), invisible]
    if depth > 0:
        parts.append(
            st.builds(
                lambda tag, attrs, kids: Node(tag, kids, attrs, block=True),
                st.sampled_from(CONTAINERS),
                class_attr,
                st.deferred(lambda: block_content(depth - 1)),
            )
        )
    return st.lists(st.one_of(*parts), max_size=5).map(tuple)


def serialize(node: Node | str) -> str:
    if isinstance(node, str):
        return node
    inner = "".join(serialize(k) for k in node.children)
    if node.tag == "#comment":
        return f"<!-- {inner} -->"
    if node.tag == "br":
        return "<br>"
    return f"<{node.tag}{node.attrs}>{inner}</{node.tag}>"


def visible_text(node: Node | str) -> str:
    """The text a browser shows: entities decoded; block boundaries and <br> are whitespace; hidden parts nothing."""
    if isinstance(node, str):
        for entity, char in _ENTITIES.items():
            node = node.replace(entity, char)
        return node
    if not node.visible:
        return ""
    if node.tag == "br":
        return " "
    inner = "".join(visible_text(k) for k in node.children)
    return f" {inner} " if node.block else inner


pages = st.tuples(block_content(2), st.booleans()).map(
    lambda a: (
        "<!DOCTYPE html><html><head><title>HIDtitle</title><style>p{}</style></head><body>"
        + "".join(serialize(k) for k in a[0])
        + "</body></html>",
        visible_text(Node("body", a[0], block=True)).split(),
        a[1],
    )
)


@SETTINGS
@given(pages)
def test_segmentation_keeps_exactly_the_visible_words(page: tuple[str, list[str], bool]) -> None:
    source, visible, as_bytes = page
    doc = segment_html(source.encode("utf-8") if as_bytes else source)
    assert [w for b in doc.blocks for w in b.text.split()] == visible
    assert not any(HIDDEN in b.text for b in doc.blocks)


@FEW
@given(pages, st.sampled_from([0.0, 0.3, None, 0.7, 1.0]))
def test_extracted_words_are_visible_words_in_order(
    detector: Detector, page: tuple[str, list[str], bool], threshold: float | None
) -> None:
    source, visible, as_bytes = page
    data = source.encode("utf-8") if as_bytes else source
    ext = detector.extract(data, input="html", threshold=threshold)
    extracted = words(ext.text)
    assert is_subsequence(extracted, [w for w in visible if w not in ASSEMBLY_MARKERS])
    assert HIDDEN not in ext.text
    if threshold == 0.0:
        assert extracted == [w for w in visible if w not in ASSEMBLY_MARKERS]
    again = detector.extract(data, input="html", threshold=threshold)
    assert again == ext


# --------------------------------------------------------------------------------------------------------------------
# extract on anything; the two paths on each other's input.


@FEW
@given(any_page, kinds)
def test_extract_any_input(detector: Detector, page: bytes | str, kind: str) -> None:
    ext = detector.extract(page, input=kind, threshold=0.0)
    doc = segment(page, input=kind)
    assert words(ext.text) == [w for w in block_words(doc) if w not in ASSEMBLY_MARKERS]
    assert detector.extract(page, input=kind) == detector.extract(page, input=kind)
    json.dumps(to_record(ext), ensure_ascii=False).encode("utf-8")
    to_markdown(ext, links=True)
    to_html(ext)


@FEW
@given(any_page, kinds)
def test_boilerplate_rules_only_drop(detector: Detector, page: bytes | str, kind: str) -> None:
    ruled = Detector(html_model=detector.bundle("html"), text_model=detector.bundle("text"))
    with_rules = ruled.extract(page, input=kind)
    alone = detector.extract(page, input=kind)
    assert [sb.score for sb in with_rules.blocks] == [sb.score for sb in alone.blocks]
    assert all(a.is_content for a, r in zip(alone.blocks, with_rules.blocks, strict=True) if r.is_content)


scraped_text = st.lists(
    st.tuples(st.sampled_from(["", "- ", "* ", "1. ", "  • ", "\t"]), st.lists(word_text, min_size=1, max_size=8)),
    max_size=20,
).map(lambda lines: "\n".join(mark + " ".join(ws) for mark, ws in lines))


@FEW
@given(st.one_of(pages.map(lambda p: p[0]), scraped_text), st.sampled_from(["html", "text"]))
def test_each_path_takes_the_others_input(detector: Detector, page: str, kind: str) -> None:
    doc = segment(page, input=kind)
    check_document(doc, page)
    ext = detector.extract(page.encode("utf-8"), input=kind)
    assert ext.source == kind
    assert is_subsequence(words(ext.text), [w for w in block_words(doc) if w not in ASSEMBLY_MARKERS])


def test_not_a_document_is_a_type_error(detector: Detector) -> None:
    for bad in (None, 3, ["<p>x</p>"], object()):
        for fn in (segment, segment_html, segment_text, detector.extract):
            with pytest.raises(TypeError):
                fn(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="input must be"):
        segment("<p>x</p>", input="xml")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------------------
# Determinism across processes: nothing may depend on hash order (sets, dict iteration of str keys).

_FEATURES_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import hostile_pages as hp
from bpdetect.features import featurize
from bpdetect.segment import segment
digest = hashlib.sha256()
for name in ("big_page", "mangled_html", "many_links", "base_and_javascript", "many_lines_text", "lying_encoding"):
    doc = segment(hp.build(name, "small", **({"n_bytes": 30_000} if "n_bytes" in hp.CASES[name].small else {})))
    digest.update(repr(doc).encode("utf-8", "surrogatepass"))
    if doc.blocks:
        digest.update(featurize(doc.blocks).tobytes())
print(digest.hexdigest())
"""


def test_segmentation_and_features_do_not_depend_on_hash_seed() -> None:
    tests_dir = str(Path(__file__).resolve().parent)
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, OMP_NUM_THREADS="1")
        out = subprocess.run(
            [sys.executable, "-c", _FEATURES_SCRIPT, tests_dir],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
