"""Text to a cleaned lxml tree: parsing, cleaning, hidden elements, title and language."""

from __future__ import annotations

import pytest
from lxml import etree

from bpdetect.dom import (
    DROP_TAGS,
    clean_tree,
    is_hidden,
    page_lang,
    page_title,
    parse_html,
    parse_html_bytes,
    strip_control_chars,
)


def _root(html: str) -> etree._Element:
    root = parse_html(html)
    assert root is not None
    return root


def _text(root: etree._Element) -> str:
    return " ".join("".join(root.itertext()).split())


@pytest.mark.parametrize("html", ["", "   ", "\n\t \r\n"])
def test_parse_nothing(html: str) -> None:
    assert parse_html(html) is None
    assert parse_html_bytes(html.encode()) == (None, False)


def test_parse_fragment_gets_html_root() -> None:
    root = _root("<p>hello</p>")
    assert root.tag == "html"
    assert root.find("body/p").text == "hello"


def test_parse_drops_comments_and_processing_instructions() -> None:
    root = _root("<?php echo 1 ?><body><!-- secret --><p>a<!-- b -->c</p></body>")
    assert _text(root) == "ac"
    assert not [el for el in root.iter() if not isinstance(el.tag, str)]


def test_parse_bytes_drops_nul() -> None:
    root, truncated = parse_html_bytes(b"<p>a\x00b</p>\x00<p>c</p>")
    assert root is not None and not truncated
    assert _text(root) == "abc"


def test_parse_html_handles_lone_surrogates() -> None:
    root = _root("<p>a\ud800b</p>")
    assert "a" in _text(root) and "b" in _text(root)


def test_clean_tree_drops_non_text_elements_keeping_tails() -> None:
    html = "<div>x" + "".join(f"<{t}>{t.upper()}</{t}>{i}" for i, t in enumerate(DROP_TAGS) if t != "head") + "</div>"
    root = clean_tree(_root(html))
    text = _text(root)
    assert text == "x" + "".join(str(i) for i, t in enumerate(DROP_TAGS) if t != "head")
    for tag in DROP_TAGS:
        assert root.find(f".//{tag}") is None


def test_clean_tree_drops_hidden_elements_keeping_tails() -> None:
    root = _root(
        "<div>a<span hidden>H1</span> b <div style='DISPLAY: none'>H2</div>c"
        "<p aria-hidden='true'>H3</p>d<i style='visibility:hidden'>H4</i>e<em aria-hidden='false'>shown</em></div>"
    )
    text = _text(clean_tree(root))
    assert text == "a b cdeshown"


def test_clean_tree_drop_hidden_false_keeps_them() -> None:
    root = clean_tree(_root("<div>a<span hidden>H</span>b</div>"), drop_hidden=False)
    assert _text(root) == "aHb"


def test_clean_tree_removes_private_attributes() -> None:
    root = clean_tree(_root("<div __label='content' class='x'><p __boilernet_label='1' id='y'>t</p></div>"))
    for el in root.iter():
        assert not [name for name in el.attrib if name.startswith("__")]
    assert root.find(".//div").get("class") == "x"
    assert root.find(".//p").get("id") == "y"


@pytest.mark.parametrize(
    ("attrs", "hidden"),
    [
        ("hidden", True),
        ("aria-hidden='true'", True),
        ("aria-hidden=' TRUE '", True),
        ("aria-hidden='false'", False),
        ("style='display:none'", True),
        ("style='color: red; display : none !important'", True),
        ("style='visibility: hidden'", True),
        ("style='display: block'", False),
        ("class='hidden'", False),  # class names are features, not rules
        ("", False),
    ],
)
def test_is_hidden(attrs: str, hidden: bool) -> None:
    el = _root(f"<div {attrs}>x</div>").find(".//div")
    assert is_hidden(el) is hidden


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (
            "<head><title>T</title><meta property='og:title' content=' OG  title '></head><body><h1>H</h1></body>",
            "OG title",
        ),
        ("<head><meta name='twitter:title' content='TW'><title>T</title></head>", "TW"),
        ("<head><title> The\n  title </title></head><body><h1>H</h1></body>", "The title"),
        ("<head><title> </title></head><body><h1>First <b>heading</b></h1><h1>Second</h1></body>", "First heading"),
        ("<body><p>no title</p></body>", None),
        ("<head><meta property='og:title' content=''><title>T</title></head>", "T"),
    ],
)
def test_page_title_order(html: str, title: str | None) -> None:
    assert page_title(_root(html)) == title


@pytest.mark.parametrize(
    ("html", "lang"),
    [
        ("<html lang='en-US'><p>x</p></html>", "en"),
        ("<html lang='PT_br'><p>x</p></html>", "pt"),
        ("<html xml:lang='de'><p>x</p></html>", "de"),
        ("<html lang=''><p>x</p></html>", None),
        ("<html lang='12'><p>x</p></html>", None),
        ("<p>x</p>", None),
    ],
)
def test_page_lang(html: str, lang: str | None) -> None:
    assert page_lang(_root(html)) == lang


def test_strip_control_chars() -> None:
    assert strip_control_chars("a\x00b\x01c\td\ne\rf\x1f\ufffeg\ud800h") == "abc\td\ne\rf" + "g\ufffdh"


def test_broken_markup_is_recovered() -> None:
    root = _root("<div><p>one<p>two</div></div></span><table><td>cell</table><p>three")
    assert _text(root) == "onetwocellthree"


def test_no_entity_expansion_or_external_fetch(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = (
        f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY lol "lol">]>'
        "<html><body><p>a &xxe; b &lol; c</p></body></html>"
    )
    root, truncated = parse_html_bytes(html.encode())
    assert root is not None and not truncated
    text = "".join(root.itertext())
    assert "TOP-SECRET" not in text
    assert "a &xxe; b &lol; c" in text  # unknown entities stay literal, as in browsers


def test_noscript_notice_is_dropped_but_a_noscript_page_is_kept() -> None:
    from bpdetect import segment_html

    article = "Real article text that is long enough to matter. " * 10
    notice = segment_html(f"<body><p>{article}</p><noscript>Please enable JavaScript.</noscript></body>")
    assert [b.text for b in notice.blocks] == [article.strip()]
    app = segment_html(f"<body><div id='app'></div><noscript><div><p>{article}</p><p>Reply two.</p></div></noscript>")
    assert [b.text for b in app.blocks] == [article.strip(), "Reply two."]
