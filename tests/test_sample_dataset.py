"""Checks that datasets/sample follows datasets/FORMAT.md, and that datasets/registry.json is well formed.

The sample is a tiny labelled dataset written by the project itself (invented pages, CC0). These tests are its
contract: every index field the spec requires, files where the index says, gold that is UTF-8 and reads, line by
line and in order, as words of the page's visible text. They use lxml and the standard library only, so they say
whether the *data* is right independently of bpdetect's own segmenter (one smoke test at the end runs it too).
"""

from __future__ import annotations

import codecs
import gzip
import importlib.util
import json
import re
import unicodedata
from functools import cache
from pathlib import Path, PurePosixPath

import lxml.html
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"
SAMPLE = DATASETS / "sample"
SHARED = ROOT.parent / "shared" / "datasets"

REQUIRED_FIELDS = ("id", "url", "lang", "html", "gold")
# Optional fields the spec defines, with their allowed JSON types (None = JSON null).
OPTIONAL_FIELDS: dict[str, tuple[type | None, ...]] = {
    "input": (str,),
    "split": (str, None),
    "domain": (str,),
    "group": (str,),
    "page_type": (str,),
    "labels": (str,),
    "meta": (str,),
}
INPUT_KINDS = ("html", "text")
PAGE_SUFFIXES = {"html": (".html", ".htm", ".html.gz", ".htm.gz"), "text": (".txt", ".txt.gz")}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LANG_RE = re.compile(r"^[a-z]{2}$")
URL_RE = re.compile(r"^https?://[^\s/]+")
# Same token definition as training/align.py: runs of letters/digits, NFKC + casefold; punctuation only separates.
TOKEN_RE = re.compile(r"[^\W_]+")

# WHATWG: these labels mean windows-1252 in browsers (the reason the cp1252 sample page exists).
CP1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252"}
META_CHARSET_RE = re.compile(
    rb"""<meta\b[^>]*?(?:charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)|"""
    rb"""content\s*=\s*["'][^"'>]*?charset\s*=\s*([a-zA-Z0-9_.:\-]+))""",
    re.IGNORECASE,
)
SKIP_TAGS = {"script", "style", "noscript", "template"}
# Inline elements do not separate words; every other element boundary (and <br>) does.
INLINE_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark",
    "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr",
}  # fmt: skip

# Text that is boilerplate on every sample page: it must never be in a gold file.
BOILERPLATE_MARKERS = (
    "leave a reply",
    "related posts",
    "source link",
    "0 views",
    "read more:",
    "your email address will not be published",
    "you missed",
    "share this",
    "accept all",
    "advertisement",
    "copyright",
    "©",
    "all rights reserved",
    "post comment",
    "laisser un commentaire",
    "deja una respuesta",
    "alle akzeptieren",
)
# What the brief asks the plain-text dumps to show, as a naive scraper produces it.
TEXT_DUMP_MARKERS = (
    "Source link",
    "Related Posts",
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "You Missed",
    "By John",
    "0 views",
    "READ MORE:",
    "Copyright ©",
)


# ----------------------------------------------------------------------------------------------------------------------
# helpers


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


@cache
def index_rows() -> tuple[dict, ...]:
    lines = (SAMPLE / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines)


def row_ids() -> list[str]:
    return [r["id"] for r in index_rows()]


def row(page_id: str) -> dict:
    return next(r for r in index_rows() if r["id"] == page_id)


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def declared_charset(raw: bytes) -> str | None:
    m = META_CHARSET_RE.search(raw[:8192])
    if not m:
        return None
    return (m.group(1) or m.group(2)).decode("ascii").lower()


def decode_page(raw: bytes) -> str:
    """Strict decode of a sample page: BOM, then <meta charset> (WHATWG latin-1 → cp1252), then UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
    label = declared_charset(raw)
    if label in CP1252_LABELS:
        return raw.decode("cp1252")
    return raw.decode(label or "utf-8")


def visible_text(html: str) -> str:
    """The page's text as lxml sees it: script/style/comments dropped, spaces at block boundaries and <br>."""
    root = lxml.html.document_fromstring(html)
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else None  # comments and PIs have a function as tag
        if tag is not None and tag.lower() not in SKIP_TAGS:
            breaks = tag.lower() not in INLINE_TAGS
            if breaks:
                parts.append(" ")
            if el.text:
                parts.append(el.text)
            for child in el:
                walk(child)
            if breaks:
                parts.append(" ")
        if el.tail:
            parts.append(el.tail)

    walk(root)
    return "".join(parts)


@cache
def page_text(page_id: str) -> str:
    r = row(page_id)
    raw = read_bytes(SAMPLE / r["html"])
    if r.get("input", "html") == "text":
        return raw.decode("utf-8")
    return visible_text(decode_page(raw))


def gold_lines(page_id: str) -> list[str]:
    text = (SAMPLE / row(page_id)["gold"]).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def find_run(haystack: list[str], needle: list[str], start: int) -> int:
    """Index of the first occurrence of needle as a contiguous run in haystack at or after start, or -1."""
    if not needle:
        return start
    first, n = needle[0], len(needle)
    for i in range(start, len(haystack) - n + 1):
        if haystack[i] == first and haystack[i : i + n] == needle:
            return i
    return -1


def unmatched_gold_lines(page_tokens: list[str], lines: list[str]) -> list[str]:
    """Gold lines whose tokens do not occur as a contiguous run after the previous line's match (greedy)."""
    pos, missing = 0, []
    for line in lines:
        toks = tokenize(line)
        at = find_run(page_tokens, toks, pos)
        if at < 0:
            missing.append(line)
        else:
            pos = at + len(toks)
    return missing


def load_render_module():
    spec = importlib.util.spec_from_file_location("render_registry", DATASETS / "render_registry.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------------------------------------------------
# index.jsonl


def test_index_is_json_lines_sorted_and_unique():
    raw = (SAMPLE / "index.jsonl").read_bytes()
    raw.decode("utf-8")  # strict
    assert not raw.startswith(codecs.BOM_UTF8)
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").splitlines()
    assert all(line.strip() for line in lines), "no blank lines in index.jsonl"
    assert all(isinstance(json.loads(line), dict) for line in lines)
    ids = row_ids()
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert ids == sorted(ids), "index.jsonl is sorted by id"
    assert 10 <= len(ids) <= 20


@pytest.mark.parametrize("page_id", row_ids())
def test_index_fields(page_id):
    r = row(page_id)
    for field in REQUIRED_FIELDS:
        assert field in r, f"{page_id}: required field {field!r} missing"
    assert isinstance(r["id"], str) and ID_RE.match(r["id"])
    assert r["url"] is None or (isinstance(r["url"], str) and URL_RE.match(r["url"]))
    assert r["lang"] is None or (isinstance(r["lang"], str) and LANG_RE.match(r["lang"]))
    for field, types in OPTIONAL_FIELDS.items():
        if field in r:
            value = r[field]
            ok = (value is None and None in types) or any(t is not None and isinstance(value, t) for t in types)
            assert ok, f"{page_id}: {field}={value!r} has the wrong type"
    assert r.get("input", "html") in INPUT_KINDS
    # Paths: relative, POSIX, inside the dataset folder, and existing files.
    for field in ("html", "gold", "labels", "meta"):
        if field not in r:
            continue
        p = PurePosixPath(r[field])
        assert not p.is_absolute() and ".." not in p.parts and "\\" not in r[field], f"{page_id}: bad path {p}"
        assert (SAMPLE / p).is_file(), f"{page_id}: {field} file {p} does not exist"
    assert r["html"].endswith(PAGE_SUFFIXES[r.get("input", "html")]), f"{page_id}: page suffix vs input kind"
    assert r["gold"].endswith(".txt")
    # The sample's own naming convention (recommended, not required, by the spec).
    assert PurePosixPath(r["html"]).parent.as_posix() == "pages"
    assert r["gold"] == f"gold/{page_id}.txt"
    assert PurePosixPath(r["html"]).name.split(".")[0] == page_id


def test_no_orphan_files():
    listed_pages = {PurePosixPath(r["html"]).name for r in index_rows()}
    listed_gold = {PurePosixPath(r["gold"]).name for r in index_rows()}
    assert {p.name for p in (SAMPLE / "pages").iterdir()} == listed_pages
    assert {p.name for p in (SAMPLE / "gold").iterdir()} == listed_gold


def test_sample_covers_required_kinds():
    rows = index_rows()
    text_pages = [r for r in rows if r.get("input") == "text"]
    assert len(text_pages) >= 2, "at least two plain-text (input: text) pages"
    assert any(r["lang"] not in ("en", None) for r in rows), "at least one non-English page"
    assert {"de"} <= {r["lang"] for r in rows}
    assert {"fr", "es"} & {r["lang"] for r in rows}
    assert {"product", "forum", "documentation", "recipe", "article"} <= {r.get("page_type") for r in rows}


# ----------------------------------------------------------------------------------------------------------------------
# pages and gold


@pytest.mark.parametrize("page_id", row_ids())
def test_gold_is_clean_utf8(page_id):
    raw = (SAMPLE / row(page_id)["gold"]).read_bytes()
    text = raw.decode("utf-8")  # strict: raises on anything but UTF-8
    assert not raw.startswith(codecs.BOM_UTF8), "gold has no BOM"
    assert "\r" not in text, "gold uses LF line ends"
    assert text.endswith("\n")
    lines = gold_lines(page_id)
    assert len(lines) >= 5, "gold is non-empty (and the sample's articles are realistic, several paragraphs)"
    assert not re.search(r"<(?:p|h|l|div|br|span|a)\b[^>]*>", text, re.I), "gold is plain text, no markup"
    assert not text.startswith("URL:"), "no CleanEval-style URL line"
    lowered = text.casefold()
    for marker in BOILERPLATE_MARKERS:
        assert marker not in lowered, f"{page_id}: boilerplate {marker!r} in gold"


@pytest.mark.parametrize("page_id", row_ids())
def test_gold_lines_occur_in_page_in_order(page_id):
    page_tokens = tokenize(page_text(page_id))
    lines = gold_lines(page_id)
    missing = unmatched_gold_lines(page_tokens, lines)
    assert not missing, f"{page_id}: gold lines not found (in order) in the page text: {missing[:3]}"


@pytest.mark.parametrize("page_id", row_ids())
def test_page_has_real_boilerplate(page_id):
    """The gold is a strict part of the page: the page carries real clutter around a realistic article."""
    n_page = len(tokenize(page_text(page_id)))
    n_gold = sum(len(tokenize(line)) for line in gold_lines(page_id))
    assert n_gold >= 150, f"{page_id}: article too short ({n_gold} gold words)"
    assert n_page - n_gold >= max(60, 0.15 * n_page), f"{page_id}: only {n_page - n_gold} boilerplate words"


@pytest.mark.parametrize("page_id", [r["id"] for r in index_rows() if r.get("input", "html") == "html"])
def test_html_lang_matches_index(page_id):
    root = lxml.html.document_fromstring(decode_page(read_bytes(SAMPLE / row(page_id)["html"])))
    declared = (root.get("lang") or "").split("-")[0].lower() or None
    assert declared == row(page_id)["lang"]


def test_text_dumps_look_like_naive_scrapes():
    text_ids = [r["id"] for r in index_rows() if r.get("input") == "text"]
    dumps = {pid: page_text(pid) for pid in text_ids}
    for pid, text in dumps.items():
        assert "<" not in text or not re.search(r"</?[a-z]+[^>]*>", text), f"{pid}: a text dump has no tags"
        assert len(text.splitlines()) >= 40, f"{pid}: whole-page dump, one block per line"
    everything = "\n".join(dumps.values())
    for marker in TEXT_DUMP_MARKERS:
        assert marker in everything, f"no text dump shows {marker!r}"


def test_cp1252_page_declared_as_latin1():
    r = row("cp1252-astronomy-newsletter")
    raw = read_bytes(SAMPLE / r["html"])
    assert b"\x93" in raw or b"\x94" in raw, "curly quotes as windows-1252 bytes"
    assert declared_charset(raw) == "iso-8859-1"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = decode_page(raw)
    assert "\u201c" in text and "\u201d" in text and "\u2019" in text
    # Read literally as ISO-8859-1, the same bytes give C1 control characters instead of quotes.
    assert "\x93" in raw.decode("latin-1")
    gold = (SAMPLE / r["gold"]).read_text(encoding="utf-8")
    assert "\u201c" in gold and "\u2013" in gold


def test_bpdetect_segmenter_keeps_all_gold_text():
    """Smoke test against the project's own segmenter: no gold words are lost when pages become blocks."""
    from bpdetect import segment

    for r in index_rows():
        raw = read_bytes(SAMPLE / r["html"])
        doc = segment(raw, input=r.get("input", "html"))
        assert len(doc.blocks) > 10, r["id"]
        block_tokens = [t for b in doc.blocks for t in tokenize(b.text)]
        missing = unmatched_gold_lines(block_tokens, gold_lines(r["id"]))
        assert not missing, f"{r['id']}: gold lines lost by segment(): {missing[:3]}"


# ----------------------------------------------------------------------------------------------------------------------
# registry

REGISTRY_NAMES = {
    "dragnet",
    "cleaneval",
    "cleanportaleval",
    "l3s-gn1",
    "googletrends-2017",
    "canola",
    "utomo-big9",
    "utomo-chaos",
    "wcxb",
    "readability",
}


def test_registry_lists_the_ten_corpora():
    reg = json.loads((DATASETS / "registry.json").read_text(encoding="utf-8"))
    entries = reg["datasets"]
    assert {e["name"] for e in entries} == REGISTRY_NAMES
    for e in entries:
        for key in ("pages", "languages", "source", "license", "citation", "gold", "quirks", "obtain"):
            assert key in e, f"{e['name']}: {key} missing"
        assert isinstance(e["pages"], int) and e["pages"] > 0
        assert sum(e["languages"].values()) == e["pages"], e["name"]
        assert e["obtain"]["staged"] == f"../shared/datasets/{e['name']}"


def test_registry_markdown_is_rendered_from_json():
    module = load_render_module()
    reg = json.loads((DATASETS / "registry.json").read_text(encoding="utf-8"))
    assert (DATASETS / "REGISTRY.md").read_text(encoding="utf-8") == module.render(reg)


@pytest.mark.data
def test_registry_page_counts_match_staging():
    if not SHARED.is_dir():
        pytest.skip("../shared/datasets not available")
    reg = json.loads((DATASETS / "registry.json").read_text(encoding="utf-8"))
    for e in reg["datasets"]:
        index = SHARED / e["name"] / "index.jsonl"
        if not index.is_file():
            continue
        with index.open(encoding="utf-8") as f:
            assert sum(1 for line in f if line.strip()) == e["pages"], e["name"]
