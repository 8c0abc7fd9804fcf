"""Smoke tests of the benchmark scripts: the peer wrappers on one small page, and quality.py's core on the sample.

No shared data is needed. A peer whose package is not installed is skipped, and so are the bpdetect runs while no
default model is shipped in bpdetect/models.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SAMPLE = ROOT / "datasets" / "sample"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import peers  # noqa: E402
import quality  # noqa: E402

from training.corpora import iter_pages  # noqa: E402
from training.render import RENDER_STYLES, style_for  # noqa: E402

ARTICLE = [
    "The footbridge across the old harbour reopened to walkers and cyclists on Monday morning after eight months "
    "of repairs, and by lunchtime several hundred people had crossed it, many of them stopping in the middle to "
    "look back at the town and the fishing boats that were tied up along the quay below the new railings.",
    "Engineers replaced the corroded steel deck and added lighting that residents had asked for over many years. "
    "The council said that the work had cost a little under two million pounds, which was paid for by the regional "
    "fund, and that the bridge should not need any major repairs for at least another forty years.",
    "Shop owners on both sides of the harbour said that the closure had cut their trade by about a third during "
    "the winter, and they welcomed the reopening, although some of them added that they would have liked the "
    "council to keep them better informed while the work was going on and the road was closed.",
]
PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour footbridge reopens</title>"
    "<script>var tracking = 1;</script></head><body>"
    "<header><a href='/'>Harbour Gazette</a></header>"
    "<nav><ul><li><a href='/news'>News</a></li><li><a href='/sport'>Sport</a></li>"
    "<li><a href='/weather'>Weather</a></li><li><a href='/contact'>Contact us</a></li></ul></nav>"
    "<main><article><h1>Harbour footbridge reopens after repairs</h1>"
    + "".join(f"<p>{p}</p>" for p in ARTICLE)
    + "</article></main>"
    "<aside><h3>Most read</h3><ul><li><a href='/a'>Council tax to rise</a></li>"
    "<li><a href='/b'>New bus timetable</a></li></ul></aside>"
    "<footer><p>Copyright 2024 Harbour Gazette. All rights reserved.</p><a href='/privacy'>Privacy</a></footer>"
    "</body></html>"
).encode()


def _has_model(kind: str) -> bool:
    return quality.default_model_exists(kind)


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("trafilatura", "trafilatura"),
        ("justext", "justext"),
        ("readability", "readability"),
        ("resiliparse", "resiliparse"),
    ],
)
def test_peer_extracts_the_article(name: str, module: str) -> None:
    pytest.importorskip(module)
    text = peers.EXTRACTORS[name](PAGE)
    assert isinstance(text, str)
    for paragraph in ARTICLE:
        assert paragraph[:60] in " ".join(text.split()), f"{name} lost: {paragraph[:60]!r}"
    assert "var tracking" not in text


@pytest.mark.parametrize("name", ["trafilatura", "justext", "readability", "resiliparse"])
@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe garbage", b"<html></html>", b"<" * 5000])
def test_peers_never_raise(name: str, data: bytes) -> None:
    pytest.importorskip(peers._MODULES[name])
    assert isinstance(peers.EXTRACTORS[name](data), str)


def test_bpdetect_peer_on_default_model() -> None:
    if not _has_model("html"):
        pytest.skip("no default HTML model in bpdetect/models")
    text = peers.EXTRACTORS["bpdetect"](PAGE)
    assert ARTICLE[0][:60] in " ".join(text.split())
    assert peers.EXTRACTORS["bpdetect"](b"") == ""


def test_versions_name_every_extractor() -> None:
    v = peers.versions()
    assert set(v) == {"trafilatura", "justext", "readability", "resiliparse", "bpdetect"}
    assert v["bpdetect"]


def test_html_fragment_text_breaks_blocks_not_inline() -> None:
    frag = "<div><h2>Title</h2><p>one <b>bold</b><!-- hidden -->word</p><script>x()</script>tail<br>next</div>"
    assert peers.html_fragment_text(frag).splitlines() == ["Title", "one boldword", "tail", "next"]
    assert peers.html_fragment_text("") == ""


def _sample_pages():
    return list(iter_pages(SAMPLE))


def test_quality_dump_column_on_sample() -> None:
    """The text-dump column needs no model: the whole scoring and summarizing path runs on the sample."""
    pages = _sample_pages()
    results = quality.score_pages(pages, ["dump"], jobs=1)
    assert [r.id for r in results] == [p.id for p in pages]
    assert all(0.0 <= r.scores["dump"][2] <= 1.0 for r in results)
    summary = quality.summarize(results, ["dump"])
    entry = summary["per_corpus"]["sample"]
    assert entry["pages"] == len(pages)
    # The dump holds every word of the page: recall is near complete, precision is what bpdetect must win back.
    assert entry["dump"]["recall_mean"] > 0.9
    table = quality.format_tables(summary, ["dump"])
    assert "| sample |" in table and "dump as-is" in table


def test_render_dump_is_deterministic() -> None:
    page = next(p for p in _sample_pages() if p.extra.get("input") != "text")
    assert style_for(f"{page.corpus}/{page.id}") in RENDER_STYLES
    assert quality.render_dump(page) == quality.render_dump(page)
    assert quality.render_dump(page).strip()


def test_quality_bpdetect_on_sample() -> None:
    if not _has_model("html"):
        pytest.skip("no default HTML model in bpdetect/models")
    pages = [p for p in _sample_pages() if p.extra.get("input") != "text"]
    results = quality.score_pages(pages, ["bpdetect"], jobs=1)
    assert len(results) == len(pages)
    summary = quality.summarize(results, ["bpdetect"])
    entry = summary["per_corpus"]["sample"]["bpdetect"]
    assert entry["pages"] == len(pages)
    assert 0.5 < entry["f1_mean"] <= 1.0
    assert summary["speed"]["bpdetect"]["pages"] == len(pages)


def test_quality_rejects_unknown_extractor() -> None:
    with pytest.raises(ValueError, match="unknown extractors"):
        quality.score_pages([], ["nope"])


@pytest.mark.skipif(not _has_model("html"), reason="no default HTML model shipped")
def test_speed_cli_rounds_on_sample(capsys) -> None:
    import speed

    named = [(p.name, p.read_bytes()) for p in sorted((SAMPLE / "pages").glob("*.html"))][:4]
    cli = speed.cli_rounds(named, 2, 1, None)
    assert set(cli) == {"jobs1", "jobs2", "split"}
    for r in cli.values():
        assert r["records"] == len(named)  # every page has its record, whichever way it ran
        assert r["seconds_median"] > 0 and r["peak_pss_mb"] > 0
    assert len(cli["jobs2"]["speedup_per_turn"]) == 1
    assert "turn 1: split" in capsys.readouterr().err


def test_dumps_benchmark_counts_wrong_lines(tmp_path, capsys):
    import json

    import dumps

    if not quality.default_model_exists("text"):
        pytest.skip("no shipped text model")
    folder = tmp_path / "dumps"
    folder.mkdir()
    lines = ["Menu", "Harbour footbridge reopens", *ARTICLE, "Leave a Reply", "Source link"]
    (folder / "page.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = {"title": lines[1], "article": ARTICLE, "clutter": ["Menu", "Leave a Reply", "Source link"]}
    (folder / "page.json").write_text(json.dumps(meta), encoding="utf-8")
    out = tmp_path / "dumps.json"
    assert dumps.main(["--dumps", str(folder), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    (result,) = report["fixtures"]
    assert result["lines"] == len(lines)
    # Every wrong line is counted once, under its kind, and the totals add up.
    wrong = result["wrong"]
    assert result["clutter_kept"] == sum(w[0] == "KEEP" for w in wrong)
    assert result["article_dropped"] + result["headline_dropped"] == sum(w[0] == "DROP" for w in wrong)
    assert report["clean"] == (not wrong)
    assert f"{report['clean']}/1 fixtures clean" in capsys.readouterr().out


def test_rules_benchmark_on_sample(capsys) -> None:
    import rules

    r = rules.check(SAMPLE.parent, "text", None)
    assert r["pages"] >= 1 and 0 <= r["clutter"] <= r["dropped"]
    assert all(0.0 <= f <= 1.0 for f in r["f1"])
    assert rules.main(["--root", str(SAMPLE.parent), "--kinds", "html", "--jobs", "1"]) == 0
    assert "html:" in capsys.readouterr().out


def test_text_speed_benchmark_times_every_model(tmp_path, capsys) -> None:
    import text_speed

    if not quality.default_model_exists("text"):
        pytest.skip("no shipped text model")
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "a.txt").write_text("Menu\nHarbour footbridge reopens\n" + "\n".join(ARTICLE) + "\n", encoding="utf-8")
    best = text_speed.time_rounds([None, None], text_speed.load_dumps([folder]), 2)
    assert len(best) == 2 and all(0 < s < 60 for s in best)
    assert text_speed.main(["--dumps", str(folder), "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 dumps" in out and "shipped text model" in out


def test_dump_kinds_sorts_the_issues_named_clutter() -> None:
    import dump_kinds

    lines = [
        "Home", "Harbour footbridge reopens", "By John", "March 3, 2024", "0 views", *ARTICLE,
        "READ MORE: Council votes on the ferry timetable", "Source link", "Related Posts",
        "Ferry timetable changes next month", "Leave a Reply", "Your email address will not be published.",
        "Name *", "You Missed", "Ferry timetable changes next month", "Harbour festival returns in June",
    ]  # fmt: skip
    kinds = dump_kinds.line_kinds(lines, lines[1], set(ARTICLE))
    assert kinds[:5] == ["other clutter", "headline", "byline", "date line", "counter"]
    assert set(kinds[5 : 5 + len(ARTICLE)]) <= {"paragraph", "other article line"}
    assert kinds[5 + len(ARTICLE) :] == [
        "inline promo", "source link", "widget header", "teaser", "reply form", "reply form", "reply form",
        "widget header", "teaser", "teaser",
    ]  # fmt: skip
