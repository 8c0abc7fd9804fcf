"""`bpdetect explain`: the HTML report (content, marks, features, escaping), the CLI command, and a headless render."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import lxml.html
import numpy as np
import pytest
from _models import SAMPLE, tiny_bundle
from typer.testing import CliRunner

from bpdetect.boilerplate import boilerplate_rule
from bpdetect.cli import app
from bpdetect.explain import (
    DROPPED_COLOR,
    FEATURES_SHOWN,
    KEPT_COLOR,
    build_explanation,
    explain_report,
    informative_order,
    score_color,
)
from bpdetect.extract import Detector
from bpdetect.features import FEATURE_NAMES, featurize
from bpdetect.persist import save_model

runner = CliRunner()
HTML_PAGE = SAMPLE / "pages" / "news-harbour-footbridge.html"
TEXT_PAGE = SAMPLE / "pages" / "text-eastbrook-rail-yard-park.txt"

HOSTILE = b"""<html><head><title>Evil</title><script>alert('head')</script></head><body>
<p>&lt;script&gt;alert(1)&lt;/script&gt; is how the attack starts, and then the page goes on for a while with
enough ordinary words to be a real paragraph of text that a reader might want.</p>
<p>"onmouseover=alert(2) x=" and 'onerror=alert(3)' and <b>&lt;img src=x onerror=alert(4)&gt;</b></p>
<p>&lt;/style&gt;&lt;/div&gt;&lt;/section&gt;&lt;/main&gt;&lt;!-- closing tags --&gt;</p>
</body></html>"""


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.default()


@pytest.fixture(scope="module")
def sample_explanation(detector: Detector):
    return build_explanation(HTML_PAGE.read_bytes(), detector=detector, url="https://example.org/news/footbridge")


def _sections(report: str) -> list:
    return lxml.html.document_fromstring(report).xpath('//section[contains(@class, "block")]')


def _block_text(section) -> str:
    return section.xpath('./div[@class="text"]')[0].text_content()


# --- report content --------------------------------------------------------------------------------------------------


def test_report_lists_every_block_in_order_with_its_decision_and_score(sample_explanation):
    ext = sample_explanation.extraction
    sections = _sections(sample_explanation.html)
    assert len(ext.blocks) > 20 and len(sections) == len(ext.blocks)
    assert 0 < sample_explanation.kept < len(ext.blocks)  # the sample page has both content and clutter
    for sec, sb in zip(sections, ext.blocks, strict=True):
        assert _block_text(sec) == sb.block.text  # escaped on the way in, the same text once parsed back
        decision = "kept" if sb.is_content else "dropped"
        assert decision in sec.get("class").split()
        assert sec.xpath('.//span[contains(@class, "badge")]')[0].text_content() == decision.upper()
        assert sec.xpath('.//span[@class="score"]')[0].text_content() == f"{sb.score:.3f}"
        assert sec.get("id") == f"b{sb.block.index}"
        if sb.block.path:
            assert sec.xpath('.//code[@class="path"]')[0].text_content() == sb.block.path


def test_report_matches_the_detectors_own_extraction(detector, sample_explanation):
    ext = detector.extract(HTML_PAGE.read_bytes())
    assert [sb.score for sb in sample_explanation.extraction.blocks] == [sb.score for sb in ext.blocks]
    assert [sb.is_content for sb in sample_explanation.extraction.blocks] == [sb.is_content for sb in ext.blocks]
    assert sample_explanation.threshold == ext.threshold


def test_header_shows_title_model_threshold_and_counts(detector, sample_explanation):
    doc = lxml.html.document_fromstring(sample_explanation.html)
    ext = sample_explanation.extraction
    assert doc.xpath("//h1")[0].text_content() == ext.title
    facts = {dt.text_content(): dt.getnext().text_content() for dt in doc.xpath("//header//dt")}
    kept = [sb for sb in ext.blocks if sb.is_content]
    dropped = [sb for sb in ext.blocks if not sb.is_content]
    assert facts["url"] == "https://example.org/news/footbridge"
    assert facts["input"] == "html"
    assert facts["encoding"].startswith("utf-8")
    assert facts["threshold"] == f"{ext.threshold:.3f}"
    assert detector.bundle("html").metadata["file"] in facts["model"]
    assert facts["kept"] == f"{len(kept)} blocks, {sum(sb.block.n_chars for sb in kept)} chars"
    assert facts["dropped"] == f"{len(dropped)} blocks, {sum(sb.block.n_chars for sb in dropped)} chars"
    # The minimap has one cell per block, linked to it.
    cells = doc.xpath('//nav[@class="minimap"]/a')
    assert [c.get("href") for c in cells] == [f"#b{sb.block.index}" for sb in ext.blocks]


def test_feature_popovers_list_named_features_with_the_blocks_values(sample_explanation):
    blocks = [sb.block for sb in sample_explanation.extraction.blocks]
    X = featurize(blocks)
    for i, sec in enumerate(_sections(sample_explanation.html)):
        rows = sec.xpath('.//div[@class="features"]//tr')[1:]  # the first row is the column header
        assert len(rows) == FEATURES_SHOWN
        names = [r.xpath("./th")[0].text_content() for r in rows]
        assert len(set(names)) == len(names) and set(names) <= set(FEATURE_NAMES)
        for row, name in zip(rows, names, strict=True):
            shown = float(row.xpath("./td")[0].text_content())
            assert shown == pytest.approx(float(X[i, FEATURE_NAMES.index(name)]), rel=1e-3, abs=1e-6)


def test_informative_order_prefers_high_gain_features_that_vary_on_the_page():
    X = np.array([[1.0, 5.0, 0.0], [1.0, 5.0, 10.0], [1.0, 5.0, 0.0]])
    gains = np.array([100.0, 0.0, 10.0])
    order = informative_order(X, gains)
    # Row 1 stands out in column 2 (z ≈ 1.41): 0.1 × (0.25 + 1.41) ≈ 0.17, still below the page-constant but
    # ten times stronger column 0 (1 × 0.25); the gainless column 1 comes last.
    assert order[1].tolist() == [0, 2, 1]
    order = informative_order(X, np.array([1.0, 1.0, 1.0]))
    assert order[1][0] == 2  # equal gains: the column where the block stands out comes first
    assert informative_order(np.zeros((0, 3)), gains).shape == (0, 3)


def test_score_colours_run_from_red_through_yellow_to_green():
    assert score_color(0.0) == "#d73027"
    assert score_color(0.5) == "#fee08b"
    assert score_color(1.0) == "#1a9850"
    assert score_color(-3) == score_color(0.0) and score_color(7) == score_color(1.0)
    assert score_color(float("nan")) == score_color(0.0)
    assert score_color(0.0, tint=1.0) == "#ffffff"


def test_threshold_presets_and_numbers_change_the_marks(detector):
    data = HTML_PAGE.read_bytes()
    everything = build_explanation(data, detector=Detector(boilerplate_rules=False), threshold=0.0)
    assert everything.dropped == 0 and everything.kept == len(everything.extraction.blocks)
    # With the boilerplate rules on, threshold 0 drops only the boilerplate lines, and the badge names the rule.
    ruled = build_explanation(data, detector=detector, threshold=0.0)
    dropped = [sb.block.text for sb in ruled.extraction.blocks if not sb.is_content]
    assert dropped and all(boilerplate_rule(t) for t in dropped)
    assert '<span class="rule">boilerplate: skip link</span>' in ruled.html
    strict = build_explanation(data, detector=detector, threshold="precision")
    loose = build_explanation(data, detector=detector, threshold="recall")
    assert strict.kept <= loose.kept
    assert "preset precision" in strict.html
    with pytest.raises(ValueError, match="preset"):
        explain_report(data, detector=detector, threshold="bogus")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        explain_report(data, detector=detector, threshold=1.5)


def test_plain_text_input_uses_the_text_model(detector):
    report = build_explanation(TEXT_PAGE.read_bytes(), detector=detector, input="text")
    assert report.document.source == "text"
    assert detector.bundle("text").metadata["file"] in report.html
    assert [_block_text(s) for s in _sections(report.html)] == [b.text for b in report.document.blocks]


# --- hostile and degenerate input -------------------------------------------------------------------------------------


def _assert_inert(report: str) -> None:
    doc = lxml.html.document_fromstring(report)
    assert not doc.xpath("//script | //iframe | //img | //object | //embed | //link | //base")
    for el in doc.iter():
        for attr, value in el.attrib.items():
            assert not attr.lower().startswith("on"), f"<{el.tag} {attr}=...>"
            if attr in ("href", "src"):
                assert value.startswith("#"), value  # only in-page links: nothing to load, nothing to run
    assert "<script" not in report.lower()
    assert "url(" not in report and "@import" not in report  # no external resource from the CSS either


def test_hostile_block_text_title_and_url_are_escaped(detector):
    report = explain_report(HOSTILE, detector=detector, url='javascript:alert(5)"><script>alert(6)</script>')
    _assert_inert(report)
    texts = [_block_text(s) for s in _sections(report)]
    assert any(t.startswith("<script>alert(1)</script>") for t in texts)
    assert any('"onmouseover=alert(2) x="' in t for t in texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    # The block text stays inside its own element: the fake closing tags did not end the section early.
    assert len(_sections(report)) == len(detector.segment(HOSTILE).blocks)


def test_hostile_plain_text_is_escaped(detector):
    dump = 'Breaking news\n<script>alert(1)</script>\n<img src=x onerror="alert(2)">\n"onmouseover=alert(3)\n'
    report = build_explanation(dump, detector=detector, input="text")
    _assert_inert(report.html)
    assert [_block_text(s) for s in _sections(report.html)] == [b.text for b in report.document.blocks]


def test_control_characters_and_lone_surrogates_do_not_break_the_report(detector):
    page = "<p>null \x00 bell \x07 surrogate \ud800 end of a line of text</p>"
    report = explain_report(page, detector=detector, url="https://example.org/\ud83d\x00")
    report.encode("utf-8")  # writable as UTF-8
    assert "\x00" not in report and "\x07" not in report
    assert "\ufffd" in report


@pytest.mark.parametrize("page", [b"", "", b"   \n  ", b"<html><body></body></html>"])
def test_empty_page_gives_a_small_valid_report(detector, page):
    result = build_explanation(page, detector=detector)
    doc = lxml.html.document_fromstring(result.html)
    assert result.html.startswith("<!DOCTYPE html>")
    assert not _sections(result.html) and result.kept == result.dropped == 0
    assert doc.xpath('//p[@class="empty"]')
    facts = {dt.text_content(): dt.getnext().text_content() for dt in doc.xpath("//header//dt")}
    assert facts["kept"] == "0 blocks, 0 chars"
    assert facts["threshold"] == f"{detector.bundle(result.document.source).threshold:.3f}"  # the model's
    assert len(result.html) < 20_000


# --- the CLI command ------------------------------------------------------------------------------------------------


def test_cli_writes_the_report(tmp_path):
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["explain", str(HTML_PAGE), "-o", str(out)])
    assert res.exit_code == 0, res.output
    report = out.read_text(encoding="utf-8")
    sections = _sections(report)
    kept = sum("kept" in s.get("class").split() for s in sections)
    assert f"{kept} blocks kept, {len(sections) - kept} dropped" in res.output
    assert str(out) in res.output
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind
    res = runner.invoke(app, ["explain", str(HTML_PAGE), "-o", str(out), "--preset", "precision"])
    assert res.exit_code == 0, res.output
    assert "(preset precision)" in out.read_text(encoding="utf-8")


def test_cli_replaces_an_existing_report_and_reads_stdin_with_a_model(tmp_path):
    model = tmp_path / "tiny.skops"
    save_model(tiny_bundle("text"), model)
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    res = runner.invoke(
        app,
        ["explain", "-", "-o", str(out), "--input", "text", "--model", str(model), "-t", "0.5"],
        input=TEXT_PAGE.read_bytes(),
    )
    assert res.exit_code == 0, res.output
    report = out.read_text(encoding="utf-8")
    assert "tiny.skops" in report and "0.500" in report
    assert len(_sections(report)) > 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "tiny.json", "tiny.skops"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-page.html"], "no such file"),
        ([str(HTML_PAGE), "--model", "no-such-model.skops"], "model metadata not found"),
        ([str(HTML_PAGE), "-t", "bogus"], "unknown preset"),
        ([str(HTML_PAGE), "-t", "2"], "within [0, 1]"),
    ],
)
def test_cli_errors_exit_2_with_a_message(tmp_path, args, message):
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["explain", *args, "-o", str(out)])
    assert res.exit_code == 2
    assert message in res.output
    assert not out.exists()


def test_cli_refuses_an_output_in_a_missing_folder_or_a_folder(tmp_path):
    res = runner.invoke(app, ["explain", str(HTML_PAGE), "-o", str(tmp_path / "nope" / "r.html")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(app, ["explain", str(HTML_PAGE), "-o", str(tmp_path)])
    assert res.exit_code == 2 and "folder" in res.output


def test_cli_requires_an_output():
    res = runner.invoke(app, ["explain", str(HTML_PAGE)])
    assert res.exit_code == 2


# --- rendering in a real browser --------------------------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1200, 1600)
# Colour match tolerance per RGB channel (0-255): anti-aliasing and colour management shift solid fills slightly.
COLOR_TOLERANCE = 12


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"no headless browser installed (looked for {', '.join(CHROMIUM_NAMES)}); .ci/run installs chromium")


def _screenshot(browser: str, html_file: Path) -> np.ndarray:
    png = html_file.with_suffix(".png")
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={png}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}", html_file.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert png.is_file(), f"{browser} wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    import matplotlib.image

    img = matplotlib.image.imread(png)
    return np.round(img[..., :3] * 255).astype(np.int16)  # PNGs read as floats in [0, 1]; drop any alpha


def _count(rgb: np.ndarray, color: str) -> int:
    target = np.array([int(color[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(rgb - target).max(axis=-1) <= COLOR_TOLERANCE).sum())


def test_report_renders_in_headless_chromium(detector, tmp_path):
    browser = _chromium()
    page = tmp_path / "page.html"
    page.write_text(explain_report(HTML_PAGE.read_bytes(), detector=detector), encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text(explain_report(b"", detector=detector), encoding="utf-8")
    rgb = _screenshot(browser, page)
    baseline = _screenshot(browser, empty)  # header and legend only: its badges show both colours too
    assert rgb.shape[:2] == (WINDOW[1], WINDOW[0])
    # Background is the white header and the light grey page; blocks are tinted by score.
    background = (np.abs(rgb - 255).max(axis=-1) <= 6) | (np.abs(rgb - [0xF4, 0xF4, 0xF2]).max(axis=-1) <= 6)
    assert 1 - background.mean() > 0.25, "the report rendered mostly blank"
    # Kept and dropped blocks both show (left borders, badges, minimap), well beyond the legend's own badges.
    for color in (KEPT_COLOR, DROPPED_COLOR):
        assert _count(rgb, color) > _count(baseline, color) + 1500, color
