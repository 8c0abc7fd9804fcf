"""Output formats (bpdetect.formats): plain text, markdown, HTML and JSON records of an Extraction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from bpdetect.formats import (
    FORMATS,
    _safe_href,
    blocks_to_text,
    render,
    to_html,
    to_markdown,
    to_record,
    to_text,
)
from bpdetect.records import SEM_BLOCKQUOTE, SEM_PRE, Block, Extraction, ScoredBlock

PAGES = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "pages"
ARTICLE = "html/body/article"


def blk(text: str, tag: str = "p", path: str = "", **kw) -> Block:
    """A hand-made HTML block; the index is filled in by ext()."""
    return Block(text=text, index=0, tag=tag, path=path or f"{ARTICLE}/{tag}", **kw)


def ext(*blocks: Block, title: str | None = None, dropped: tuple[int, ...] = (), source: str = "html") -> Extraction:
    """An Extraction keeping every block except the positions in ``dropped``."""
    scored = tuple(
        ScoredBlock(block=b._replace(index=i), score=0.2 if i in dropped else 0.9, is_content=i not in dropped)
        for i, b in enumerate(blocks)
    )
    return Extraction(text=blocks_to_text(scored), title=title, blocks=scored, source=source, threshold=0.5)


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(w in it for w in needle)


def html_text(doc: str) -> str:
    """The text of an HTML document (through a real parser), one space between elements."""
    return " ".join(lxml_html.document_fromstring(doc.encode("utf-8")).itertext())


def markdown_parser():
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").enable("strikethrough")


def li(text: str, node: int, parent: int, container: str = "ul", path: str = "", **kw) -> Block:
    path = path or f"{ARTICLE}/{container}/li"
    return blk(text, "li", path, is_list_item=True, node=node, parent=parent, **kw)


def cell(text: str, node: int, row: int, tag: str = "td") -> Block:
    return blk(text, tag, f"{ARTICLE}/table/tbody/tr/{tag}", is_table_cell=True, node=node, parent=row)


# A small article with a heading, two paragraphs, an unordered and an ordered list, and a table with a header row.
ARTICLE_BLOCKS = (
    blk("Site menu", "div", "html/body/nav/div"),
    blk("Growing tomatoes", "h1", heading=1),
    blk("Tomatoes need sun.\nAnd water.", "p"),
    blk("What you need", "h2", heading=2),
    li("seeds", 11, 10),
    li("compost", 12, 10),
    li("Sow the seeds", 21, 20, "ol"),
    li("Water them", 22, 20, "ol"),
    cell("Variety", 31, 30, "th"),
    cell("Days | weeks", 32, 30, "th"),
    cell("Gardener's Delight", 41, 40),
    cell("65", 42, 40),
    cell("Moneymaker", 51, 50),
    cell("75", 52, 50),
    blk("Copyright 2024", "p", "html/body/footer/p"),
)


def article(title: str | None = "Tomatoes | Garden blog") -> Extraction:
    return ext(*ARTICLE_BLOCKS, title=title, dropped=(0, len(ARTICLE_BLOCKS) - 1))


# --- plain text -------------------------------------------------------------------------------------------------


def test_text_keeps_paragraphs_lists_line_breaks_and_table_rows():
    assert to_text(article()) == (
        "Growing tomatoes\n\n"
        "Tomatoes need sun.\nAnd water.\n\n"
        "What you need\n\n"
        "- seeds\n- compost\n\n"
        "- Sow the seeds\n- Water them\n\n"
        "Variety | Days | weeks\nGardener's Delight | 65\nMoneymaker | 75"
    )


def test_text_only_outputs_content_blocks():
    text = to_text(article())
    assert "Site menu" not in text and "Copyright" not in text


def test_text_splits_two_adjacent_lists_and_indents_nested_items():
    e = ext(
        li("first list", 2, 1),
        li("outer", 3, 1),
        li("inner", 5, 4, path=f"{ARTICLE}/ul/li/ul/li"),
        li("outer again", 6, 1),
        li("second list", 8, 7),
    )
    assert to_text(e) == "- first list\n- outer\n  - inner\n- outer again\n\n- second list"


def test_text_joins_the_paragraphs_of_one_list_item():
    e = ext(
        blk("Step one", "p", f"{ARTICLE}/ol/li/p", is_list_item=True, node=3, parent=2),
        blk("More about step one", "p", f"{ARTICLE}/ol/li/p", is_list_item=True, node=4, parent=2),
        blk("Step two", "p", f"{ARTICLE}/ol/li/p", is_list_item=True, node=6, parent=5),
    )
    assert to_text(e) == "- Step one\n  More about step one\n- Step two"


def test_text_input_keeps_the_original_bullets():
    lines = [
        Block(text="Shopping", index=0, tag="line", source="text"),
        Block(text="eggs", index=1, tag="line", is_list_item=True, bullet="•", source="text"),
        Block(text="milk", index=2, tag="line", is_list_item=True, bullet="•", source="text"),
        Block(text="Then", index=3, tag="line", source="text"),
        Block(text="boil", index=4, tag="line", is_list_item=True, bullet="3.", source="text"),
        Block(text="serve", index=5, tag="line", is_list_item=True, bullet="4.", source="text"),
    ]
    e = ext(*lines, source="text")
    assert to_text(e) == "Shopping\n\n• eggs\n• milk\n\nThen\n\n3. boil\n4. serve"
    md = to_markdown(e)
    assert "- eggs\n- milk" in md
    assert "3. boil\n4. serve" in md  # an ordered list keeps its first number
    assert '<ol start="3">' in to_html(e)


def test_layout_tables_are_paragraphs():
    # One cell per row, or one row: a page layout, not data.
    one_column = ext(cell("Welcome to the club.", 2, 1), cell("Meetings are on Thursdays.", 4, 3))
    assert to_text(one_column) == "Welcome to the club.\n\nMeetings are on Thursdays."
    assert "|" not in to_markdown(one_column)
    assert "<table>" not in to_html(one_column)
    one_row = ext(cell("Menu", 2, 1), cell("The whole article. " * 30, 3, 1))
    assert "<table>" not in to_html(one_row)


# --- markdown -------------------------------------------------------------------------------------------------


def test_markdown_structure():
    md = to_markdown(article())
    assert md == (
        "# Tomatoes | Garden blog\n\n"
        "# Growing tomatoes\n\n"
        "Tomatoes need sun.  \nAnd water.\n\n"
        "## What you need\n\n"
        "- seeds\n- compost\n\n"
        "1. Sow the seeds\n2. Water them\n\n"
        "| Variety | Days \\| weeks |\n"
        "| --- | --- |\n"
        "| Gardener's Delight | 65 |\n"
        "| Moneymaker | 75 |\n"
    )


def test_markdown_title_line_only_when_known_and_different_from_the_first_h1():
    assert to_markdown(article(title="Growing  tomatoes")).startswith("# Growing tomatoes\n\nTomatoes need")
    assert to_markdown(article(title=None)).startswith("# Growing tomatoes\n\n")
    assert to_markdown(article(), title=False).startswith("# Growing tomatoes\n\n")


def test_markdown_renders_to_the_expected_html():
    md = markdown_parser()
    out = md.render(to_markdown(article(), title=False))
    assert "<h1>Growing tomatoes</h1>" in out
    assert "Tomatoes need sun.<br />\nAnd water." in out
    assert "<ul>\n<li>seeds</li>\n<li>compost</li>\n</ul>" in out
    assert "<ol>\n<li>Sow the seeds</li>\n<li>Water them</li>\n</ol>" in out
    assert "<th>Days | weeks</th>" in out
    assert "<td>Gardener's Delight</td>" in out.replace("&#x27;", "'")


def test_markdown_adjacent_lists_stay_separate_and_nested_lists_nest():
    e = ext(
        li("a", 2, 1),
        li("b", 3, 1),
        li("b1", 5, 4, path=f"{ARTICLE}/ul/li/ul/li"),
        li("c", 8, 7),
        li("one", 11, 10, "ol"),
        li("two", 13, 12, "ol"),
    )
    out = markdown_parser().render(to_markdown(e))
    assert out.count("<ul>") == 3  # two top-level lists and one nested list
    assert "<li>b\n<ul>\n<li>b1</li>\n</ul>\n</li>" in out
    assert out.count("<ol>") == 2


def test_markdown_escapes_text_that_would_change_meaning():
    hostile = [
        "# not a heading",
        "- not a list",
        "+ not a list",
        "1. not a list",
        "2) not a list",
        "> not a quote",
        "---",
        "*not emphasis* and _not_ either",
        "[not](a link) ![nor](an image)",
        "<script>alert(1)</script> &lt;b&gt;",
        "`not code`",
        "|a|b|\n|---|---|",
    ]
    e = ext(*(blk(t) for t in hostile))
    md = to_markdown(e)
    for line in ("\\# not a heading", "\\- not a list", "1\\. not a list", "2\\) not a list", "\\---"):
        assert line in md
    out = markdown_parser().render(md)
    for tag in ("<h1", "<ul", "<ol", "<blockquote", "<hr", "<em", "<a ", "<img", "<script", "<code", "<table", "<b>"):
        assert tag not in out
    assert out.count("<p>") == len(hostile)
    # Every word survives, in order.
    assert is_subsequence(words(" ".join(hostile)), words(md))


def test_markdown_keeps_intraword_underscores_readable():
    assert "max_workers" in to_markdown(ext(blk("Set max_workers to 4.")))


def test_markdown_pre_is_a_fenced_block_longer_than_any_backtick_run():
    code = blk("x = 1\nprint(```)", "pre", semantic=SEM_PRE)
    md = to_markdown(ext(blk("Example:"), code))
    assert "````\nx = 1\nprint(```)\n````" in md
    assert "<pre><code>x = 1\nprint(```)\n</code></pre>" in markdown_parser().render(md)


def test_markdown_blockquote_and_caption():
    e = ext(
        blk("First quoted.", "p", f"{ARTICLE}/blockquote/p", semantic=SEM_BLOCKQUOTE),
        blk("Second quoted.", "p", f"{ARTICLE}/blockquote/p", semantic=SEM_BLOCKQUOTE),
        blk("A photo of the harbour.", "figcaption", is_caption=True),
    )
    md = to_markdown(e)
    assert "> First quoted.\n>\n> Second quoted.\n\n*A photo of the harbour.*\n" in md
    out = markdown_parser().render(md)
    assert out.count("<blockquote>") == 1
    assert "<em>A photo of the harbour.</em>" in out
    h = to_html(e)
    assert h.count("<blockquote>") == 1
    assert "<figure><figcaption>A photo of the harbour.</figcaption></figure>" in h


# --- links ------------------------------------------------------------------------------------------------------

LINKED = blk(
    "Read the guide, the faq or the press kit and tell a friend.",
    links=(
        ("guide", "/docs/guide"),
        ("faq", "https://other.example/faq"),
        ("press kit", "javascript:alert(1)"),
        ("a friend", "mailto:me@example.org"),
    ),
)


def test_markdown_links_off_by_default_and_resolved_when_on():
    e = ext(LINKED)
    assert "](" not in to_markdown(e)
    md = to_markdown(e, links=True, url="https://example.org/blog/post.html")
    assert "[guide](https://example.org/docs/guide)" in md
    assert "[faq](https://other.example/faq)" in md
    assert "[a friend](mailto:me@example.org)" in md
    assert "javascript" not in md and "press kit" in md
    # Without a page URL a relative href stays relative.
    assert "[guide](/docs/guide)" in to_markdown(e, links=True)


def test_html_links_on_by_default_safe_and_nofollow():
    e = ext(LINKED)
    h = to_html(e, url="https://example.org/blog/post.html")
    assert '<a href="https://example.org/docs/guide" rel="nofollow noopener">guide</a>' in h
    assert '<a href="mailto:me@example.org" rel="nofollow noopener">a friend</a>' in h
    assert "javascript" not in h and "press kit" in h
    assert "<a " not in to_html(e, links=False)
    assert "<a " not in render(e, "html")  # render() links default to off


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \tjava\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "http://[::1",
        "",
        "   ",
    ],
)
def test_unsafe_or_empty_hrefs_are_dropped_keeping_the_text(href):
    assert _safe_href(href) is None
    assert _safe_href(href, "https://example.org/") is None
    e = ext(blk("Click here now", links=(("here", href),)))
    for out in (to_markdown(e, links=True, url="https://example.org/"), to_html(e, url="https://example.org/")):
        assert "here" in out
        assert "alert" not in out and "base64" not in out and "passwd" not in out


def test_safe_href_keeps_web_links_and_resolves_relative_ones():
    assert _safe_href("/a?b=1&c=2", "https://example.org/x/y") == "https://example.org/a?b=1&c=2"
    assert _safe_href("../z", "https://example.org/x/y/") == "https://example.org/x/z"
    assert _safe_href("#top") == "#top"
    assert _safe_href("HTTPS://Example.org/") == "HTTPS://Example.org/"


def test_markdown_link_destinations_cannot_break_out():
    e = ext(blk("see this page", links=(("this page", "/a b)(c?x=1&colon;y"),)))
    md = to_markdown(e, links=True, url="https://example.org/")
    out = markdown_parser().render(md)
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert hrefs == ["https://example.org/a%20b%29%28c?x=1&amp;colon;y"]


def test_link_anchors_match_whole_words_in_order():
    e = ext(blk("Read a book, a long one", links=(("a", "/x"), ("a", "/y"))))
    assert to_markdown(e, links=True) == "Read [a](/x) book, [a](/y) long one\n"


def test_links_in_headings_lists_and_table_cells():
    e = ext(
        blk("News", "h2", heading=2, links=(("News", "/news"),)),
        li("home", 2, 1)._replace(links=(("home", "/"),)),
        cell("a|b", 4, 3)._replace(links=(("a|b", "/p|q"),)),
        cell("c", 5, 3),
        cell("d", 7, 6),
        cell("e", 8, 6),
    )
    md = to_markdown(e, links=True, url="https://example.org/")
    assert "## [News](https://example.org/news)" in md
    assert "- [home](https://example.org/)" in md
    assert "| [a\\|b](https://example.org/p%7Cq) | c |" in md
    assert "<td>" in markdown_parser().render(md)


# --- HTML -------------------------------------------------------------------------------------------------------


def test_html_is_a_complete_document_with_the_kept_structure():
    h = to_html(article())
    assert h.startswith('<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n')
    assert "<title>Tomatoes | Garden blog</title>" in h
    assert h.rstrip().endswith("</html>")
    assert "<h1>Growing tomatoes</h1>" in h
    assert "<p>Tomatoes need sun.<br>\nAnd water.</p>" in h
    assert "<ul>\n<li>seeds</li>\n<li>compost</li>\n</ul>" in h
    assert "<ol>\n<li>Sow the seeds</li>\n<li>Water them</li>\n</ol>" in h
    assert "<tr><th>Variety</th><th>Days | weeks</th></tr>" in h
    assert "<tr><td>Gardener&#x27;s Delight</td><td>65</td></tr>" in h
    assert "Site menu" not in h and "Copyright" not in h
    tree = lxml_html.document_fromstring(h.encode("utf-8"))
    assert [el.tag for el in tree.body[0]] == ["h1", "p", "h2", "ul", "ol", "table"]


def test_html_nested_lists_are_well_formed():
    e = ext(
        li("outer", 2, 1),
        li("inner", 4, 3, path=f"{ARTICLE}/ul/li/ul/li"),
        li("deeper", 6, 5, path=f"{ARTICLE}/ul/li/ul/li/ol/li"),
        li("outer 2", 7, 1),
        blk("term", "dt", f"{ARTICLE}/dl/dt", is_list_item=True, node=9, parent=8),
        blk("definition", "dd", f"{ARTICLE}/dl/dd", is_list_item=True, node=10, parent=8),
    )
    h = to_html(e)
    assert (
        "<ul>\n<li>outer\n<ul>\n<li>inner\n<ol>\n<li>deeper</li>\n</ol></li>\n</ul></li>\n<li>outer 2</li>\n</ul>\n"
        "<dl>\n<dt>term</dt>\n<dd>definition</dd>\n</dl>"
    ) in h
    body = lxml_html.document_fromstring(h.encode("utf-8")).body[0]
    assert [el.tag for el in body] == ["ul", "dl"]


def test_html_escapes_hostile_page_text_and_title():
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    e = ext(
        blk(evil, "h2", heading=2),
        blk(evil + ' & "quotes"'),
        li(evil, 2, 1),
        cell(evil, 4, 3),
        cell("x", 5, 3),
        cell("y", 7, 6),
        cell("z", 8, 6),
        blk(evil, "pre", semantic=SEM_PRE),
        blk("a link", links=(("link", '"><script>alert(3)</script>'),)),
        title="</title><script>alert(4)</script>",
    )
    h = to_html(e, url="https://example.org/")
    assert "<script" not in h and "<img" not in h
    tree = lxml_html.document_fromstring(h.encode("utf-8"))
    assert not tree.xpath("//script | //img | //*[@onerror]")
    assert tree.findtext(".//title") == "</title><script>alert(4)</script>"
    assert html_text(h).count(evil) == 5
    [a] = tree.xpath("//a")
    assert a.get("href").startswith("https://example.org/") and "<script>" in a.get("href")


def test_html_title_falls_back_to_the_first_heading():
    h = to_html(article(title=None))
    assert "<title>Growing tomatoes</title>" in h


# --- JSON records and render() ------------------------------------------------------------------------------------


def test_record_lists_every_block_with_its_score():
    e = article()
    rec = to_record(e, source="page.html", url="https://example.org/t")
    assert {k: rec[k] for k in ("source", "url", "title", "input", "encoding", "truncated", "threshold")} == {
        "source": "page.html",
        "url": "https://example.org/t",
        "title": "Tomatoes | Garden blog",
        "input": "html",
        "encoding": None,
        "truncated": False,
        "threshold": 0.5,
    }
    assert rec["text"] == e.text
    assert len(rec["blocks"]) == len(ARTICLE_BLOCKS)
    assert rec["blocks"][0] == {
        "index": 0,
        "text": "Site menu",
        "tag": "div",
        "score": 0.2,
        "content": False,
        "heading": 0,
        "list_item": False,
        "table_cell": False,
    }
    assert rec["blocks"][1]["heading"] == 1 and rec["blocks"][4]["list_item"] and rec["blocks"][8]["table_cell"]
    assert "blocks" not in to_record(e, blocks=False)
    json.dumps(rec, allow_nan=False)


def test_record_scores_are_rounded_and_never_nan():
    b = Block(text="x", index=0, tag="p")
    scored = (ScoredBlock(b, 0.123456789, True), ScoredBlock(b, float("nan"), False))
    e = Extraction(text="x", title=None, blocks=scored)
    rec = to_record(e)
    assert [blk_["score"] for blk_ in rec["blocks"]] == [0.1235, None]
    json.dumps(rec, allow_nan=False)


def test_render_dispatches_and_rejects_unknown_formats():
    e = article()
    assert FORMATS == ("text", "markdown", "html", "json")
    assert render(e, "text") == to_text(e)
    assert render(e, "markdown", links=True, url="https://x.example/") == to_markdown(
        e, links=True, url="https://x.example/"
    )
    assert render(e, "html", links=True) == to_html(e, links=True)
    assert render(e, "json", source="s", url="u") == json.dumps(to_record(e, source="s", url="u"), ensure_ascii=False)
    with pytest.raises(ValueError) as info:
        render(e, "pdf")
    assert all(f in str(info.value) for f in FORMATS)


def test_empty_extraction_in_every_format():
    empty = Extraction(text="", title=None, blocks=())
    assert to_text(empty) == ""
    assert to_markdown(empty) == ""
    assert to_markdown(Extraction(text="", title="Only a title", blocks=())) == "# Only a title\n"
    h = to_html(empty)
    assert h.startswith("<!doctype html>") and "<title>Untitled</title>" in h and h.rstrip().endswith("</html>")
    assert html_text(h).strip() == "Untitled"
    assert json.loads(render(empty, "json"))["blocks"] == []
    # Every block dropped is empty too.
    dropped = ext(blk("menu"), blk("footer"), dropped=(0, 1))
    for fmt in ("text", "markdown"):
        assert render(dropped, fmt) == ""
    assert "menu" not in to_html(dropped)


# --- real pages ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extractions() -> dict[str, Extraction]:
    from bpdetect.extract import extract

    return {p.name: extract(p.read_bytes()) for p in sorted(PAGES.iterdir())}


def test_every_kept_word_survives_in_order_on_real_pages(extractions):
    for name, e in extractions.items():
        kept = [w for sb in e.content_blocks for w in words(sb.block.text)]
        assert kept, name
        for out in (to_text(e), to_markdown(e, title=False), to_markdown(e, links=True, url="https://example.org/")):
            assert is_subsequence(kept, words(out)), name
        for out in (to_html(e), to_html(e, links=False)):
            assert is_subsequence(kept, words(html_text(out))), name
        rec = json.loads(render(e, "json", source=name))
        assert [b["text"] for b in rec["blocks"]] == [sb.block.text for sb in e.blocks]


def test_docs_page_table_and_code_in_markdown_and_html(extractions):
    e = extractions["docs-quayside-configuration.html"]
    md = to_markdown(e, links=True, url="https://docs.example.org/config.html")
    assert "| Option | Type | Default | Description |\n| --- | --- | --- | --- |\n| max_workers | integer | 2 |" in md
    assert "```\n[scheduler]\nmax_workers = 4\n" in md
    assert "## File location[¶](https://docs.example.org/config.html#file-location)" in md
    out = markdown_parser().render(md)
    assert out.count("<table>") == 1 and "<th>Option</th>" in out
    h = to_html(e)
    tree = lxml_html.document_fromstring(h.encode("utf-8"))
    assert [c.text_content() for c in tree.xpath("//table/tr[1]/*")] == ["Option", "Type", "Default", "Description"]
    assert tree.xpath("//pre")[0].text.startswith("[scheduler]\nmax_workers = 4")


def test_text_input_page_in_markdown(extractions):
    e = extractions["text-overwinter-geraniums.txt"]
    assert e.source == "text"
    md = to_markdown(e)
    assert "\n- Remove the lower leaves and any flower buds.\n- Let the cut ends dry" in md
    items = [sb.block for sb in e.content_blocks if sb.block.bullet]
    assert items and all(f"{b.bullet} {b.text}" in to_text(e) for b in items)
