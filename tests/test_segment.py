"""HTML segmentation: one pass over the cleaned tree into ordered Blocks with their context."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpdetect import records as R
from bpdetect.records import Block, Document
from bpdetect.segment import MAX_CLASS_TOKENS, MAX_PATH_PARTS, looks_like_html, segment, segment_html


def texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks]


def only(html: str | bytes) -> Block:
    doc = segment_html(html)
    assert len(doc.blocks) == 1, texts(doc)
    return doc.blocks[0]


def by_text(doc: Document) -> dict[str, Block]:
    return {b.text: b for b in doc.blocks}


def check_invariants(doc: Document) -> None:
    """What every segmentation must satisfy, whatever the input."""
    for i, b in enumerate(doc.blocks):
        assert b.index == i
        assert b.text and b.text == b.text.strip()
        assert "\x00" not in b.text
        for line in b.text.split("\n"):
            assert line and line == " ".join(line.split())
        assert b.n_chars == len(b.text)
        assert b.n_lines == b.text.count("\n") + 1
        assert 0 <= b.n_link_chars <= b.n_chars
        assert 1 <= b.n_words <= b.n_chars
        assert b.n_links >= 0 and b.n_sentences >= 1
        assert len(b.class_tokens) <= MAX_CLASS_TOKENS
        assert b.source == doc.source
        if doc.source == "html":
            assert b.path.endswith(b.tag) and len(b.path.split("/")) <= MAX_PATH_PARTS
            assert b.depth >= 0


# --- structure ------------------------------------------------------------------------------------------------------


def test_nesting_splits_text_at_block_boundaries() -> None:
    doc = segment_html("<body><div>before<div>inner <p>para</p> after-p</div>after</div></body>")
    assert texts(doc) == ["before", "inner", "para", "after-p", "after"]
    tags = [(b.tag, b.depth, b.path) for b in doc.blocks]
    assert tags == [
        ("div", 2, "html/body/div"),
        ("div", 3, "html/body/div/div"),
        ("p", 4, "html/body/div/div/p"),
        ("div", 3, "html/body/div/div"),
        ("div", 2, "html/body/div"),
    ]
    check_invariants(doc)


def test_inline_elements_merge_and_keep_spaces() -> None:
    assert only("<p>a <b>x</b> <i>y</i></p>").text == "a x y"
    assert only("<p><span>a</span><span>b</span></p>").text == "ab"
    assert only("<p>  lots   of\n\n  <em>white</em>\tspace  </p>").text == "lots of white space"
    assert only("<div>one <span>two <a href='#'>three <b>four</b></a></span> five</div>").text == (
        "one two three four five"
    )


def test_inline_text_around_a_block_child() -> None:
    doc = segment_html("<div>lead <span>in <p>para</p> out</span> tail</div>")
    assert texts(doc) == ["lead in", "para", "out tail"]


def test_br_makes_line_breaks() -> None:
    b = only("<div>one<br>two<br/>  three <br> four<br></div>")
    assert b.text == "one\ntwo\nthree\nfour"
    assert b.n_lines == 4
    assert only("<p><br>only<br></p>").text == "only"


def test_double_br_separates_paragraphs() -> None:
    doc = segment_html("<div>one<br>two<br> <br>\n<a href='/x'>three</a> four<br><br><br>five</div>")
    assert texts(doc) == ["one\ntwo", "three four", "five"]
    assert [b.tag for b in doc.blocks] == ["div", "div", "div"]
    assert doc.blocks[1].n_link_chars == len("three")


def test_empty_block_elements_are_boundaries() -> None:
    assert texts(segment_html("<div>a<hr>b<div></div>c<p/>d</div>")) == ["a", "b", "c", "d"]


def test_custom_elements_are_containers() -> None:
    assert texts(segment_html("<div>a<my-widget>b</my-widget>c</div>")) == ["a", "b", "c"]


def test_lists() -> None:
    doc = segment_html(
        "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul><ol><li>first</li></ol>"
        "<dl><dt>term</dt><dd>definition</dd></dl><menu><li>m</li></menu><p>not a list</p>"
    )
    assert texts(doc) == ["one", "two", "nested", "first", "term", "definition", "m", "not a list"]
    blocks = by_text(doc)
    for t in ["one", "two", "nested", "first", "term", "definition", "m"]:
        assert blocks[t].is_list_item, t
        assert blocks[t].has(R.SEM_LIST), t
    assert blocks["m"].has(R.SEM_NAV)
    assert blocks["nested"].path == "html/body/ul/li/ul/li"
    assert not blocks["not a list"].is_list_item
    assert not blocks["not a list"].has(R.SEM_LIST)


def test_tables() -> None:
    doc = segment_html(
        "<table><caption>Prices</caption><thead><tr><th>Item</th><th>Cost</th></tr></thead>"
        "<tbody><tr><td>Tea <b>pot</b></td><td>5</td></tr></tbody></table><p>after</p>"
    )
    assert texts(doc) == ["Prices", "Item", "Cost", "Tea pot", "5", "after"]
    blocks = by_text(doc)
    for t in ["Item", "Cost", "Tea pot", "5"]:
        assert blocks[t].is_table_cell and blocks[t].has(R.SEM_TABLE)
    assert blocks["Prices"].is_caption and not blocks["Prices"].is_table_cell
    assert blocks["Tea pot"].path == "html/body/table/tbody/tr/td"
    assert not blocks["after"].has(R.SEM_TABLE)


def test_headings() -> None:
    doc = segment_html(
        "<h1>One</h1><h2><span>Two</span></h2><h3><div>Three in div</div></h3>"
        "<h4>Four</h4><h5>Five</h5><h6>Six</h6><p>Body</p>"
    )
    assert [(b.text, b.heading) for b in doc.blocks] == [
        ("One", 1),
        ("Two", 2),
        ("Three in div", 3),
        ("Four", 4),
        ("Five", 5),
        ("Six", 6),
        ("Body", 0),
    ]


def test_captions_and_figures() -> None:
    doc = segment_html("<figure><img src='x.png'><figcaption>A <i>cat</i>.</figcaption></figure><p>text</p>")
    cap = by_text(doc)["A cat."]
    assert cap.is_caption and cap.has(R.SEM_FIGURE) and cap.tag == "figcaption"
    assert not by_text(doc)["text"].is_caption


def test_pre_keeps_lines() -> None:
    b = only("<pre>def f():\n    return 1\n\n\nprint(f())</pre>")
    assert b.text == "def f():\nreturn 1\nprint(f())"
    assert b.n_lines == 3
    assert b.has(R.SEM_PRE) and b.tag == "pre"


def test_pre_with_links_and_inline_code() -> None:
    b = only("<pre><code>x = 1\n<a href='#'>link\nnext</a></code></pre>")
    assert b.text == "x = 1\nlink\nnext"
    assert b.n_link_chars == len("link") + len("next") + 1


# --- what is dropped ------------------------------------------------------------------------------------------------


def test_hidden_elements_dropped_tails_kept() -> None:
    doc = segment_html(
        "<div>a<span hidden>H1</span> b <div style='display: none'>H2</div>c"
        "<p aria-hidden='true'>H3</p>d<section hidden><p>H4</p></section> e</div>"
    )
    assert texts(doc) == ["a b cd e"]


def test_hidden_br_is_no_line_break() -> None:
    assert only("<p>a<br hidden>b<br>c</p>").text == "ab\nc"


def test_hidden_inside_list_and_link() -> None:
    b = only("<p><a href='#'>vis<span style='visibility:hidden'>HID</span>ible</a></p>")
    assert b.text == "visible" and b.n_link_chars == len("visible")


def test_non_text_elements_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style><script>var head=1</script></head><body>"
        "<div>x<script>alert(1)</script>y<style>.c{color:red}</style>z<noscript>enable js</noscript>"
        "<template><p>tpl</p></template><!-- a comment -->w<iframe>frame</iframe>"
        "<svg><text>svg text</text></svg>v</div></body></html>"
    )
    assert texts(segment_html(html)) == ["xyzwv"]


def test_label_attributes_never_leak() -> None:
    plain = "<div class='Main' id='x'><p class='lead'>Hello <b>world</b></p><p>More</p></div>"
    labelled = (
        "<div __label='content' class='Main' id='x'><p class='lead' __label='1' __boilernet_label='2'>Hello "
        "<b __label='0'>world</b></p><p __label='1'>More</p></div>"
    )
    a, b = segment_html(plain), segment_html(labelled)
    assert a.blocks == b.blocks
    assert a.blocks[0].class_tokens == ("lead", "main", "x")
    for block in b.blocks:
        assert not any("label" in tok or tok.startswith("__") for tok in block.class_tokens)


# --- context --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "flag"),
    [
        ("<nav><p>t</p></nav>", R.SEM_NAV),
        ("<div role='navigation'><p>t</p></div>", R.SEM_NAV),
        ("<div role='menubar'><p>t</p></div>", R.SEM_NAV),
        ("<aside><p>t</p></aside>", R.SEM_ASIDE),
        ("<div role='complementary'>t</div>", R.SEM_ASIDE),
        ("<footer><p>t</p></footer>", R.SEM_FOOTER),
        ("<div role='contentinfo'>t</div>", R.SEM_FOOTER),
        ("<header><p>t</p></header>", R.SEM_HEADER),
        ("<main><p>t</p></main>", R.SEM_MAIN),
        ("<article><p>t</p></article>", R.SEM_ARTICLE),
        ("<div role='article'>t</div>", R.SEM_ARTICLE),
        ("<form><p>t</p></form>", R.SEM_FORM),
        ("<div role='search'>t</div>", R.SEM_FORM),
        ("<div itemprop='articleBody'><p>t</p></div>", R.SEM_ARTICLE_BODY),
        ("<div itemprop='text'><p>t</p></div>", R.SEM_ARTICLE_BODY),
        ("<div itemscope itemtype='https://schema.org/Comment'><p>t</p></div>", R.SEM_COMMENT),
        ("<div role='comment'>t</div>", R.SEM_COMMENT),
        ("<dialog open><p>t</p></dialog>", R.SEM_DIALOG),
        ("<blockquote><p>t</p></blockquote>", R.SEM_BLOCKQUOTE),
    ],
)
def test_semantic_flags(html: str, flag: int) -> None:
    b = only(f"<body>{html}</body>")
    assert b.text == "t"
    assert b.has(flag)
    assert b.semantic == flag


def test_semantic_flags_accumulate_and_stay_scoped() -> None:
    doc = segment_html(
        "<body><article><div itemprop='articleBody'><p>body</p><aside><p>side</p></aside></div></article>"
        "<footer role='navigation'><p>foot</p></footer><p>outside</p></body>"
    )
    blocks = by_text(doc)
    assert blocks["body"].semantic == R.SEM_ARTICLE | R.SEM_ARTICLE_BODY
    assert blocks["side"].semantic == R.SEM_ARTICLE | R.SEM_ARTICLE_BODY | R.SEM_ASIDE
    assert blocks["foot"].semantic == R.SEM_FOOTER | R.SEM_NAV
    assert blocks["outside"].semantic == 0


def test_class_tokens_nearest_first() -> None:
    b = only(
        "<body class='page'><div class='Outer Wrap' id='Main'><section class=' mid '>"
        "<p class='inner' id='p1'>t</p></section></div></body>"
    )
    assert b.class_tokens == ("inner", "p1", "mid", "outer", "wrap", "main", "page")


def test_class_tokens_include_inline_ancestors_of_the_text() -> None:
    doc = segment_html("<div class='box'><span class='note'>pending<p>p</p></span></div>")
    assert by_text(doc)["pending"].class_tokens == ("note", "box")


def test_class_tokens_are_capped() -> None:
    html = "".join(f"<div class='c{i} d{i}'>" for i in range(40)) + "<p>deep</p>" + "</div>" * 40
    b = only(html)
    assert len(b.class_tokens) == MAX_CLASS_TOKENS
    assert b.class_tokens[:2] == ("c39", "d39")


def test_path_is_capped() -> None:
    b = only("<div>" * 30 + "deep" + "</div>" * 30)
    assert b.path == "/".join(["div"] * MAX_PATH_PARTS)
    assert b.depth == 31  # html, body, then 30 divs


def test_links() -> None:
    b = only("<p>see <a href='/x'>this  link</a> and <a href='/y'>that</a> or <a name='anchor'>no href</a></p>")
    assert b.text == "see this link and that or no href"
    assert b.n_link_chars == len("this link") + len("that")
    assert b.n_links == 2
    assert not b.has(R.SEM_LINK_ONLY)


def test_link_only_block() -> None:
    doc = segment_html("<ul><li><a href='/home'>Home</a></li><li><a href='/a'>A</a> and text</li></ul>")
    home, mixed = doc.blocks
    assert home.has(R.SEM_LINK_ONLY) and home.n_link_chars == home.n_chars == 4
    assert not mixed.has(R.SEM_LINK_ONLY)


def test_link_around_blocks() -> None:
    doc = segment_html("<a href='/story'><h2>Headline</h2><p>Teaser text</p></a>")
    assert texts(doc) == ["Headline", "Teaser text"]
    for b in doc.blocks:
        assert b.n_link_chars == b.n_chars


def test_text_counts() -> None:
    b = only("<p>Hello World. It costs 42 dollars! Really?</p>")
    assert (b.n_words, b.n_sentences, b.n_digits, b.n_upper) == (7, 3, 2, 4)  # H W I R
    assert b.n_punct == 3


# --- page-level fields ----------------------------------------------------------------------------------------------


def test_title_order() -> None:
    head = "<meta property='og:title' content='OG'><title>Title</title>"
    assert segment_html(f"<html><head>{head}</head><body><h1>H1</h1></body></html>").title == "OG"
    assert segment_html("<html><head><title>Title</title></head><body><h1>H1</h1></body></html>").title == "Title"
    assert segment_html("<html><body><h1>H1 <i>here</i></h1></body></html>").title == "H1 here"
    assert segment_html("<p>none</p>").title is None


def test_title_and_head_text_are_not_blocks() -> None:
    doc = segment_html("<html><head><title>Title</title></head><body><p>body</p></body></html>")
    assert texts(doc) == ["body"]


def test_lang() -> None:
    assert segment_html("<html lang='fr-CA'><body><p>x</p></body></html>").lang == "fr"
    assert segment_html("<p>x</p>").lang is None


def test_broken_markup() -> None:
    doc = segment_html("<div><p>unclosed<p>second</div></div></span><p>after stray</p><p>a<p>b</p></p><li>loose")
    assert texts(doc) == ["unclosed", "second", "after stray", "a", "b", "loose"]
    check_invariants(doc)


def test_unclosed_inline_tags() -> None:
    doc = segment_html("<p><b>bold <i>both</p><p>next</p>")
    assert texts(doc) == ["bold both", "next"]


# --- encodings through segment_html ---------------------------------------------------------------------------------


def test_bytes_cp1252_declared_latin1() -> None:
    doc = segment_html(b'<html><head><meta charset="iso-8859-1"></head><body><p>\x93Hi\x94 caf\xe9</p></body></html>')
    assert texts(doc) == ["\u201cHi\u201d café"]
    assert (doc.encoding, doc.encoding_source) == ("cp1252", "meta")


def test_bytes_utf8_and_utf16() -> None:
    html = "<html><body><p>naïve café 東京</p></body></html>"
    doc = segment_html(html.encode("utf-8"))
    assert texts(doc) == ["naïve café 東京"] and (doc.encoding, doc.encoding_source) == ("utf-8", "utf-8")
    doc = segment_html(html.encode("utf-16"))  # with a BOM
    assert texts(doc) == ["naïve café 東京"] and doc.encoding_source == "bom"
    doc = segment_html(b"\xef\xbb\xbf" + html.encode())
    assert texts(doc) == ["naïve café 東京"] and (doc.encoding, doc.encoding_source) == ("utf-8", "bom")


def test_bytes_shift_jis_with_meta() -> None:
    html = '<html><head><meta charset="shift_jis"></head><body><p>日本語の本文です。</p></body></html>'
    doc = segment_html(html.encode("shift_jis"))
    assert texts(doc) == ["日本語の本文です。"]
    assert doc.encoding == "cp932"


def test_explicit_encoding_argument() -> None:
    data = '<meta charset="koi8-r"><p>Привет</p>'.encode("cp1251")
    doc = segment_html(data, encoding="windows-1251")
    assert texts(doc) == ["Привет"] and doc.encoding_source == "declared"


def test_str_input() -> None:
    doc = segment_html("<p>x</p>")
    assert doc.encoding is None and doc.encoding_source == "str"


# --- empty and limits -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc", [b"", "", "   \n\t ", b"  \r\n", "<html></html>", "<html><body> </body></html>", "<!-- only -->", "<br>"]
)
def test_empty_documents(doc: str | bytes) -> None:
    result = segment_html(doc)
    assert result.blocks == ()
    assert result.title is None
    assert not result.truncated


def test_max_blocks_truncates() -> None:
    html = "".join(f"<p>p{i}</p>" for i in range(10))
    doc = segment_html(html, max_blocks=3)
    assert texts(doc) == ["p0", "p1", "p2"] and doc.truncated
    doc = segment_html(html, max_blocks=10)
    assert len(doc) == 10 and not doc.truncated


# --- input detection ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        "<!DOCTYPE html><html><body><p>x</p></body></html>",
        "  <html><p>x</p></html>",
        "<!-- generated --><html lang='en'>",
        "<?xml version='1.0'?><html>",
        "<p>Hello</p>",
        "<div>a</div>\n<div>b</div>\n<span>c</span>",
        "<p>Hello <b>world</b> and <a href='#'>more</a></p>",
        "\ufeff<html><body>x</body></html>",
        b"<html><body>x</body></html>",
        "<html><body>x</body></html>".encode("utf-16"),
    ],
)
def test_looks_like_html_true(doc: str | bytes) -> None:
    assert looks_like_html(doc)


@pytest.mark.parametrize(
    "doc",
    [
        "",
        "Just a line of text.",
        "if a < b and c > d:\n    print(a <b> c)\nwhere x<y",
        "Use the <br> tag to break lines.\nIt is simple.\nMore text here.\nAnd here.\nAnd more.",
        "Title\n\nSome paragraph with 3 < 4 and 5 > 2.\n\n- bullet\n- another\n",
        b"plain bytes\nsecond line",
    ],
)
def test_looks_like_html_false(doc: str | bytes) -> None:
    assert not looks_like_html(doc)


_SNIFF_PIECES = st.sampled_from(
    [b" ", b"\n\t", b"<!--", b"-->", b" note ", b"<html", b"<HTML>", b"<!DOCTYPE html>", b"<!doctype  HTML", b"<head",
     b"<body>", b"<?xml", b"<p>", b"</div>", b"text", b"\xc3\xa9", b"\xff", b"\xef\xbb\xbf", b"\x00", b">", b"<"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_SNIFF_PIECES, max_size=12), pad=st.integers(0, 25_000))
def test_looks_like_html_bytes_shortcut_agrees_with_decoding(pieces: list[bytes], pad: int) -> None:
    """The bytes fast path answers as the decoded text does (a long comment pushes the start past the sniff window)."""
    doc = b"".join(pieces)
    if pad and doc.startswith(b"<!--"):
        doc = b"<!--" + b"x" * pad + doc[4:]
    text = doc[:40_000].decode("utf-8-sig" if doc.startswith(b"\xef\xbb\xbf") else "utf-8", errors="replace")
    assert looks_like_html(doc) == looks_like_html(text)


def test_many_leading_comments_are_sniffed_in_linear_time() -> None:
    """Found by benchmarks/fuzz.py: n leading comments and no <html> took 2^n steps (30 comments: ~1,000 s)."""
    import subprocess
    import sys

    code = (
        "from bpdetect.segment import looks_like_html as f\n"
        "for k in (30, 60, 1500):\n"
        "    doc = '<!-- c -->' * k + '<p>x</p>'\n"
        "    assert not f(doc) and not f(doc.encode())\n"
        "    assert f('<!-- c -->' * k + '<html>') and f(('<!-- c -->' * k + '<html>').encode())\n"
    )
    # In a child process with a deadline, so a regression fails here instead of hanging the suite.
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_segment_auto_and_override() -> None:
    html = "<p>one</p><p>two</p>"
    assert segment(html).source == "html"
    assert texts(segment(html)) == ["one", "two"]
    forced = segment(html, input="text")
    assert forced.source == "text" and texts(forced) == ["<p>one</p><p>two</p>"]
    assert segment("one\ntwo").source == "text"
    assert segment("plain words", input="html").source == "html"
    assert texts(segment("plain words", input="html")) == ["plain words"]


def test_segment_text_bytes_with_encoding() -> None:
    doc = segment("caf\xe9 \x93quoted\x94\nline".encode("latin-1"), input="text", encoding="cp1252")
    assert texts(doc) == ["café \u201cquoted\u201d", "line"]
    assert (doc.encoding, doc.encoding_source) == ("cp1252", "declared")


def test_segment_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="input must be"):
        segment("x", input="xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str or bytes"):
        segment(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str or bytes"):
        segment_html(123)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------------------------------

_TAGS = ["div", "p", "span", "a href='#'", "b", "li", "ul", "td", "h2", "pre", "br", "nav", "section hidden", "x-y"]
_fragments = st.lists(
    st.one_of(
        st.sampled_from([f"<{t}>" for t in _TAGS] + [f"</{t.split()[0]}>" for t in _TAGS]),
        st.text(alphabet=st.sampled_from("ab \n\t.&<>"), max_size=8),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=_fragments)
def test_random_markup_keeps_invariants(parts: list[str]) -> None:
    html = "".join(parts)
    doc = segment_html(html)
    check_invariants(doc)
    # Nothing is invented: every character of the blocks comes from the markup.
    for b in doc.blocks:
        assert set(b.text) - {" ", "\n"} <= set(html)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_as_html_keeps_invariants(text: str) -> None:
    check_invariants(segment_html(text))
    check_invariants(segment(text))


def test_threads_get_the_same_results() -> None:
    pages = [
        f"<html><body><h1>Page {i}</h1>" + "<p>text <a href='#'>link</a></p>" * i + "</body></html>" for i in range(40)
    ]
    expected = [segment_html(p) for p in pages]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(segment_html, pages)) == expected
