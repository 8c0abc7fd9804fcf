"""The compiled walk (bpdetect._cwalk) gives exactly the Python walk's blocks, and its long-tag scan the regex's."""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_pages import build, case_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpdetect._speedups as speedups

segment_mod = importlib.import_module("bpdetect.segment")
dom = importlib.import_module("bpdetect.dom")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
compiled = pytest.mark.skipif(segment_mod._cwalk is None, reason="bpdetect._cwalk is not built")


def _both_walks(page: bytes | str) -> tuple[object, object]:
    data = segment_mod._to_utf8(page, None)[0]
    root = segment_mod._parse_page(data)[0]
    if root is None:
        return None, None
    return segment_mod._walk_python(root, None), segment_mod._walk(root, None)


def _sample_pages() -> list[Path]:
    return sorted((ROOT / "datasets" / "sample" / "pages").glob("*.html")) + sorted(
        (ROOT / "tests" / "fixtures").rglob("*.html")
    )


@compiled
@pytest.mark.parametrize("path", _sample_pages(), ids=lambda p: p.name)
def test_same_blocks_on_fixtures(path: Path) -> None:
    python, fast = _both_walks(path.read_bytes())
    assert fast == python


@compiled
@pytest.mark.parametrize("name", case_names())
def test_same_blocks_on_hostile_pages(name: str) -> None:
    page = build(name, "small")
    python, fast = _both_walks(page)
    assert fast == python


@compiled
def test_fixtures_have_blocks() -> None:
    # The comparisons above are not vacuous: nearly every fixture page yields blocks.
    with_blocks = [p for p in _sample_pages() if (_both_walks(p.read_bytes())[0] or ([], False))[0]]
    assert len(with_blocks) >= len(_sample_pages()) - 2


@compiled
@pytest.mark.parametrize("limit", [0, 1, 5, 50])
def test_same_truncation(limit: int) -> None:
    page = (ROOT / "datasets" / "sample" / "pages" / "news-harbour-footbridge.html").read_bytes()
    root = segment_mod._parse_page(segment_mod._to_utf8(page, None)[0])[0]
    python = segment_mod._walk_python(root, limit)
    assert segment_mod._walk(root, limit) == python
    assert len(python[0]) == limit and python[1]


# Markup that exercises every branch of the walk: hidden and special attributes, br runs, pre, links (nested, with
# blocks inside, without href), headings, lists and cells, custom elements, entities, comments, attributes with
# entity references, namespaced-looking names, upper-case tags and class/id tokens.
_PIECES = [
    "<p>", "</p>", "<div class='a B'>", "<div id=Main>", "</div>", "<br>", "<br/>", "<pre>", "</pre>", "\n",
    "<a href='/x'>", "<a>", "</a>", "<a href=''>", "<h2>", "</h2>", "<li>", "<ul>", "</ul>", "<td>", "<table>",
    "<my-widget>", "</my-widget>", "<span hidden>", "<span style='display:none'>", "<div aria-hidden=true>",
    "<div role=navigation>", "<section itemprop=articleBody>", "<span>", "</span>", "&amp;", "&nbsp;", "<!-- c -->",
    "<DIV CLASS='Up'>", "<x:y>", "<b title='a&amp;b'>", "<hr>", "<img alt=x>", "  ", "word", "Other words.",
    "<![CDATA[cdata]]>", "<caption>", "<figcaption>", "\u00e9t\u00e9", "\U0001f600", "<a href=1><p>in</p></a>",
    # Styles: plain ones (skipped by the compiled fast path) and hiding ones in other cases, spacing and scripts.
    "<p style='color:red'>", "<p style=''>", "<p style>", "<div style='DISPLAY : None'>",
    "<div style='Visibility:hidden'>",
    "<div style='disp lay:none'>", "<div style='display:n\u00f6ne'>", "<span style='x' role=main>",
    "<div style='display:block' hidden>", "<div style='visibility:visible'>", "<b style='&amp;display:none'>",
]


@compiled
@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=60))
def test_same_blocks_on_generated_markup(pieces: list[str]) -> None:
    python, fast = _both_walks("<html><body>" + "".join(pieces))
    assert fast == python


@compiled
@pytest.mark.data
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/datasets")
def test_same_blocks_on_corpus_pages() -> None:
    checked = 0
    for index in sorted(SHARED.glob("*/index.jsonl")):
        for line in index.read_text(encoding="utf-8").splitlines()[::25]:
            rec = json.loads(line)
            with gzip.open(index.parent / rec["html"], "rb") as fh:
                python, fast = _both_walks(fh.read())
            assert fast == python, rec["id"]
            checked += python is not None
    assert checked > 150


def _long_tag_re(units: int) -> re.Pattern[bytes]:
    return re.compile(rb"""<[A-Za-z](?:[^<>"']|"[^"]*"|'[^']*'){%d}""" % units)


@compiled
def test_find_long_tag_matches_the_regex() -> None:
    rng = random.Random(7)
    alphabet = b"<>\"' =aZ\n/"
    for units in (1, 3, 8):
        rx = _long_tag_re(units)
        for _ in range(3000):
            data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            pos = rng.randint(0, len(data))
            match = rx.search(data, pos)
            assert segment_mod._cwalk.find_long_tag(data, pos, units) == (-1 if match is None else match.start())


@compiled
def test_find_long_tag_on_pages() -> None:
    for path in _sample_pages():
        data = path.read_bytes()
        assert dom._find_long_tag(data) == dom._find_long_tag_python(data)
    flood = b"<div " + b" ".join(b'a%d="<>"' % k for k in range(300)) + b">text</div>"
    assert dom._find_long_tag(flood) == dom._find_long_tag_python(flood) == 0


def test_pure_python_switch() -> None:
    """BPDETECT_PURE_PYTHON=1 turns every compiled module off, and extraction still works (and agrees)."""
    page = ROOT / "datasets" / "sample" / "pages" / "news-harbour-footbridge.html"
    code = (
        "import json, sys, bpdetect, bpdetect._speedups as s; "
        "blocks = bpdetect.Detector.default().segment(open(sys.argv[1], 'rb').read()).blocks; "
        "print(json.dumps([s.status(), [b.text for b in blocks]]))"
    )
    runs = {}
    for pure in ("1", "0"):
        env = {**os.environ, "BPDETECT_PURE_PYTHON": pure}
        cmd = [sys.executable, "-c", code, str(page)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        runs[pure] = json.loads(out.stdout)
    assert not any(runs["1"][0].values())
    assert runs["0"][0]["_cwalk"] == (importlib.util.find_spec("bpdetect._cwalk") is not None)
    assert runs["1"][1] == runs["0"][1] and len(runs["1"][1]) > 5


def test_status_names_every_module() -> None:
    assert set(speedups.status()) == set(speedups.MODULES)
    assert all(isinstance(v, bool) for v in speedups.status().values())


def _utf8_ok(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@compiled
def test_utf8_valid_matches_python() -> None:
    rng = random.Random(3)
    pieces = [b"a", b"\x00", "é".encode(), "€".encode(), "😀".encode(), b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
              b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\x80", b"\xc2", b"\xe2\x82", b"\xef\xbf\xbf",
              b"\xf4\x8f\xbf\xbf", b"\xff"]
    for _ in range(20000):
        if rng.random() < 0.5:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 10)))
        else:
            data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert segment_mod._cwalk.utf8_valid(data) == _utf8_ok(data), data


@compiled
def test_fast_utf8_path_gives_decodes_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [p.read_bytes() for p in _sample_pages()]
    pages += [
        b'<meta charset="utf-8"><p>caf\xc3\xa9</p>',
        b'<meta charset="utf-8"><p>caf\xe9</p>',  # declared UTF-8, not UTF-8: decode() decides
        b"<p>caf\xe9</p>",
        b'<meta charset="windows-1252"><p>caf\xc3\xa9</p>',
        b"\xef\xbb\xbf<p>bom</p>",
        b"<p>plain ascii</p>",
    ]
    fast = [segment_mod._to_utf8(p, None) for p in pages]
    monkeypatch.setattr(segment_mod, "_cwalk", None)
    assert fast == [segment_mod._to_utf8(p, None) for p in pages]


def test_blocks_are_not_tracked_by_the_cycle_collector() -> None:
    import gc

    doc = segment_mod.segment(b"<html><body><p>Hello <a href='/x'>world</a> here.</p><p>Two</p></body></html>")
    if segment_mod._cwalk is None:
        pytest.skip("compiled walk not built")
    assert doc.blocks and not any(gc.is_tracked(b) for b in doc.blocks)
    assert doc.blocks[0].links == (("world", "/x"),)  # untracking changes nothing a Block holds
