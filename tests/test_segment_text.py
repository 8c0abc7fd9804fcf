"""Plain-text segmentation: one Block per non-empty line, with indentation, bullets and blank lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpdetect.records import Block
from bpdetect.segment import segment, segment_text


def lines(text: str | bytes) -> list[tuple[str, int, str, bool]]:
    return [(b.text, b.indent, b.bullet, b.blank_before) for b in segment_text(text).blocks]


def test_one_block_per_line_with_text_fields() -> None:
    doc = segment_text("Title\n\nFirst paragraph line.\nSecond line.\n")
    assert doc.source == "text" and doc.title is None
    assert [b.text for b in doc.blocks] == ["Title", "First paragraph line.", "Second line."]
    for i, b in enumerate(doc.blocks):
        assert (b.index, b.tag, b.source, b.path, b.depth) == (i, "line", "text", "", 0)
        assert b.n_chars == len(b.text) and b.n_lines == 1


def test_blank_before() -> None:
    assert [x[3] for x in lines("a\nb\n\nc\n \t \n\n\nd")] == [False, False, True, True]
    assert lines("\n\nfirst")[0][3] is True


def test_indentation_counts_tabs_as_four() -> None:
    assert [x[1] for x in lines("none\n  two\n\tfour\n \tfive")] == [0, 2, 4, 5]


@pytest.mark.parametrize(
    ("line", "bullet", "text"),
    [
        ("- dash item", "-", "dash item"),
        ("* star item", "*", "star item"),
        ("+ plus item", "+", "plus item"),
        ("• bullet item", "•", "bullet item"),
        ("– en dash item", "–", "en dash item"),
        ("> quoted", ">", "quoted"),
        ("1. first", "1.", "first"),
        ("12) twelfth", "12)", "twelfth"),
        ("a) letter", "a)", "letter"),
        ("B. upper", "B.", "upper"),
    ],
)
def test_bullets_are_stripped_and_mark_list_items(line: str, bullet: str, text: str) -> None:
    (b,) = segment_text("   " + line).blocks
    assert (b.text, b.bullet, b.is_list_item, b.indent) == (text, bullet, True, 3)


@pytest.mark.parametrize("line", ["-dash without space", "2024 was a year", "1.5 million", "e.g. this", "-", "* "])
def test_not_bullets(line: str) -> None:
    doc = segment_text(line)
    for b in doc.blocks:
        assert b.bullet == "" and not b.is_list_item


def test_crlf_and_cr_line_endings() -> None:
    assert [x[0] for x in lines("one\r\ntwo\r\n\r\nthree\rfour")] == ["one", "two", "three", "four"]
    assert lines("one\r\n\r\ntwo")[1][3] is True


def test_whitespace_inside_a_line_is_normalized() -> None:
    assert lines("  many    spaces\there  ")[0][:2] == ("many spaces here", 2)


def test_control_characters_are_removed() -> None:
    assert [x[0] for x in lines("a\x00b\x01c\nd\x1fe")] == ["abc", "de"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", b"", b" \r\n "])
def test_empty(text: str | bytes) -> None:
    doc = segment_text(text)
    assert doc.blocks == () and not doc.truncated


def test_bytes_are_decoded() -> None:
    doc = segment_text("naïve café\n- 東京".encode())
    assert [b.text for b in doc.blocks] == ["naïve café", "東京"]
    assert (doc.encoding, doc.encoding_source) == ("utf-8", "utf-8")


def test_html_looking_text_stays_text() -> None:
    (b,) = segment_text("<p>not parsed</p>").blocks
    assert b.text == "<p>not parsed</p>"


def test_max_blocks() -> None:
    doc = segment_text("a\nb\nc\nd", max_blocks=2)
    assert [b.text for b in doc.blocks] == ["a", "b"] and doc.truncated
    assert not segment_text("a\nb", max_blocks=2).truncated


def test_counts() -> None:
    (b,) = segment_text("Hello World. It costs 42 dollars! Really?").blocks
    assert (b.n_words, b.n_sentences, b.n_digits, b.n_upper, b.n_punct) == (7, 3, 2, 4, 3)


def test_auto_detection_routes_plain_text() -> None:
    doc = segment("Headline\n\nA paragraph with 3 < 4.\n- item")
    assert doc.source == "text"
    assert [b.text for b in doc.blocks] == ["Headline", "A paragraph with 3 < 4.", "item"]


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_keeps_invariants(text: str) -> None:
    doc = segment_text(text)
    for i, b in enumerate(doc.blocks):
        assert isinstance(b, Block)
        assert b.index == i and b.source == "text"
        assert b.text and b.text == " ".join(b.text.split())
        assert b.n_chars == len(b.text) and b.n_words >= 1
        assert b.is_list_item == bool(b.bullet)
