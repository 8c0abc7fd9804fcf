"""bytes -> str: BOMs, declared and meta charsets, UTF-8, the detector, and never raising."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpdetect.decode import Decoded, decode, normalize_encoding, sniff_meta_charset

SOURCES = {"bom", "declared", "meta", "utf-8", "detected", "fallback"}

JAPANESE = (
    "<html><body><p>日本語のテキストです。これは文字コードの判定のための例文です。"
    "東京は日本の首都であり、多くの人々が住んでいます。</p></body></html>"
)
ENGLISH_CP1252 = "<html><body><p>She said \u201chello\u201d and left \u2013 it\u2019s a caf\u00e9.</p></body></html>"
RUSSIAN = "<p>Привет, мир! Это проверка кодировки.</p>"


# --- BOMs -----------------------------------------------------------------------------------------------------------


def test_utf8_bom_is_stripped_and_wins_over_meta() -> None:
    data = codecs.BOM_UTF8 + '<meta charset="iso-8859-1"><p>café</p>'.encode()
    d = decode(data)
    assert (d.encoding, d.source) == ("utf-8", "bom")
    assert d.text == '<meta charset="iso-8859-1"><p>café</p>'


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),  # starts like the UTF-16 LE BOM: must not be read as one
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_utf16_and_utf32_boms(bom: bytes, codec: str, expected: str) -> None:
    text = "<p>héllo wörld 日本</p>"
    d = decode(bom + text.encode(codec))
    assert d == Decoded(text, expected, "bom")


# --- declarations ---------------------------------------------------------------------------------------------------


def test_latin1_meta_decodes_as_cp1252_curly_quotes() -> None:
    d = decode(b'<meta charset="iso-8859-1"><p>\x93quoted\x94 \x96 caf\xe9</p>')
    assert (d.encoding, d.source) == ("cp1252", "meta")
    assert d.text.endswith("<p>\u201cquoted\u201d \u2013 café</p>")


def test_latin1_http_equiv_meta() -> None:
    data = b'<meta http-equiv="Content-Type" content="text/html; charset=latin-1"><p>\x93q\x94</p>'
    d = decode(data)
    assert (d.encoding, d.source) == ("cp1252", "meta")
    assert "\u201cq\u201d" in d.text


def test_latin1_declared_argument_decodes_as_cp1252() -> None:
    d = decode(b"<p>\x93quoted\x94</p>", encoding="latin-1")
    assert d == Decoded("<p>\u201cquoted\u201d</p>", "cp1252", "declared")


def test_cp1252_holes_decode_as_c1_controls_like_browsers() -> None:
    # 0x81 is undefined in windows-1252; WHATWG decoders map it to U+0081 instead of failing over to a guess.
    d = decode(b'<meta charset="windows-1252"><p>a\x81b \x93c\x94</p>')
    assert (d.encoding, d.source) == ("cp1252", "meta")
    assert d.text.endswith("<p>a\x81b \u201cc\u201d</p>")


def test_shift_jis_with_meta() -> None:
    text = '<meta charset="Shift_JIS">' + JAPANESE
    d = decode(text.encode("shift_jis"))
    assert (d.encoding, d.source) == ("cp932", "meta")
    assert d.text == text


def test_shift_jis_without_meta_is_detected() -> None:
    d = decode(JAPANESE.encode("shift_jis"))
    assert d.source == "detected"
    assert d.text == JAPANESE


def test_utf8_without_meta() -> None:
    d = decode(JAPANESE.encode("utf-8"))
    assert d == Decoded(JAPANESE, "utf-8", "utf-8")


def test_ascii_without_meta_is_utf8() -> None:
    assert decode(b"<p>plain</p>") == Decoded("<p>plain</p>", "utf-8", "utf-8")


def test_meta_declares_latin1_but_bytes_are_utf8() -> None:
    text = '<meta charset="iso-8859-1"><p>café \u201cquoted\u201d</p>'
    d = decode(text.encode("utf-8"))
    assert (d.encoding, d.source) == ("utf-8", "utf-8")
    assert d.text == text


def test_declared_latin1_but_bytes_are_utf8() -> None:
    # HTTP headers often carry a server default; valid non-ASCII UTF-8 is almost never legacy text.
    d = decode("<p>café</p>".encode(), encoding="iso-8859-1")
    assert d == Decoded("<p>café</p>", "utf-8", "utf-8")


def test_meta_declares_utf8_but_bytes_are_cp1252() -> None:
    data = b'<meta charset="utf-8">' + ENGLISH_CP1252.encode("cp1252")
    d = decode(data)
    assert (d.encoding, d.source) == ("cp1252", "detected")
    assert d.text == '<meta charset="utf-8">' + ENGLISH_CP1252


def test_meta_utf8_with_a_stray_byte_stays_utf8() -> None:
    # Mostly valid UTF-8 with one bad byte: browsers show U+FFFD for it; re-reading the page as a legacy code page
    # would garble every other non-ASCII character.
    text = "<p>“Smart” quotes — and café, naïve, über, 東京</p>"
    data = b'<meta charset="utf-8">' + text.encode() + b"<p>bad \x93 byte</p>"
    d = decode(data)
    assert (d.encoding, d.source) == ("utf-8", "meta")
    assert text in d.text
    assert "bad \ufffd byte" in d.text


def test_explicit_encoding_wins_over_meta() -> None:
    data = b'<meta charset="koi8-r">' + RUSSIAN.encode("cp1251")
    assert decode(data).encoding == "koi8-r"  # the meta alone misleads
    d = decode(data, encoding="windows-1251")
    assert d == Decoded('<meta charset="koi8-r">' + RUSSIAN, "cp1251", "declared")


def test_wrong_explicit_encoding_falls_through_to_meta() -> None:
    data = b'<meta charset="shift_jis">' + JAPANESE.encode("shift_jis")
    d = decode(data, encoding="utf-8")
    assert (d.encoding, d.source) == ("cp932", "meta")


def test_xml_declaration_encoding() -> None:
    data = b'<?xml version="1.0" encoding="windows-1251"?><html>' + RUSSIAN.encode("cp1251")
    d = decode(data)
    assert (d.encoding, d.source) == ("cp1251", "meta")
    assert d.text.endswith(RUSSIAN)


def test_meta_utf16_is_read_as_utf8() -> None:
    # A page whose meta says UTF-16 was read as ASCII to find the meta, so it cannot be UTF-16.
    assert sniff_meta_charset(b'<meta charset="utf-16"><p>x</p>') == "utf-8"


def test_meta_beyond_prescan_is_ignored() -> None:
    data = b"<!--" + b"x" * 10_000 + b'--><meta charset="shift_jis">'
    assert sniff_meta_charset(data) is None


def test_unknown_meta_is_skipped_for_a_later_one() -> None:
    assert sniff_meta_charset(b'<meta charset="no-such"><meta charset="koi8-r">') == "koi8-r"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("latin-1", "cp1252"),
        (" ISO-8859-1 ", "cp1252"),
        ("'utf8'", "utf-8"),
        ("UTF-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("shift_jis", "cp932"),
        ("gb2312", "gb18030"),
        ("windows-1251", "cp1251"),
        ("", None),
        (None, None),
        ("no-such-codec", None),
        ("base64", None),  # a bytes-to-bytes codec
        ("rot13", None),
        ("idna", None),  # raises on ordinary bytes
        ("utf-7", None),  # refused by browsers
        ("unicode_escape", None),
    ],
)
def test_normalize_encoding(label: str | None, expected: str | None) -> None:
    assert normalize_encoding(label) == expected


# --- never raising --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["idna", "punycode", "undefined", "utf-7", "base64", "zlib", "\x00", "x" * 500])
def test_odd_labels_never_raise(label: str) -> None:
    data = b"<p>" + bytes(range(256)) * 4 + b"</p>"
    for d in (decode(data, encoding=label), decode(b'<meta charset="' + label.encode() + b'">' + data)):
        assert isinstance(d.text, str)
        assert d.source in SOURCES


def test_accepts_bytearray_and_memoryview() -> None:
    assert decode(bytearray(b"<p>x</p>")).text == "<p>x</p>"
    assert decode(memoryview(b"<p>x</p>")).text == "<p>x</p>"


def test_empty() -> None:
    assert decode(b"") == Decoded("", "utf-8", "utf-8")


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2000), label=st.one_of(st.none(), st.text(max_size=20)))
def test_decode_never_raises_and_reports_its_source(data: bytes, label: str | None) -> None:
    d = decode(data, encoding=label)
    assert isinstance(d.text, str)
    assert d.source in SOURCES
    assert codecs.lookup(d.encoding)  # a real codec name


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<\ufeff"), max_size=300))
def test_utf8_text_round_trips(text: str) -> None:
    # Without markup there is no declaration to follow: valid UTF-8 is always read as UTF-8.
    assert decode(text.encode("utf-8")) == Decoded(text, "utf-8", "utf-8")


def test_mostly_english_page_with_a_few_accents_reads_as_windows_1252():
    # cp1250 and cp1252 fit such a page equally well for the detector; the web's legacy default must win
    # ("crème brûlée", not "crčme brűlée").
    body = (
        "<html><body><p>The cafe on the corner reopened this week after a long renovation. " * 8
        + "Its crème brûlée and café au lait are back on the menu, the owner said.</p></body></html>"
    )
    out = decode(body.encode("cp1252"))
    assert out.source == "detected"
    assert "crème brûlée" in out.text


def test_central_european_page_keeps_its_own_code_page():
    cz = (
        "<p>Příliš žluťoučký kůň úpěl ďábelské ódy. Včera večer se v Brně konalo zasedání městské rady, která "
        "schválila nový rozpočet na příští rok. Starosta řekl, že město investuje do škol a silnic.</p>" * 3
    )
    out = decode(cz.encode("cp1250"))
    assert out.encoding == "cp1250"
    assert "Příliš žluťoučký kůň" in out.text
