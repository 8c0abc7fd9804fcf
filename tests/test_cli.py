"""The command line, through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from _models import SAMPLE, tiny_bundle
from typer.testing import CliRunner

from bpdetect import __version__
from bpdetect.cli import app
from bpdetect.persist import save_model

runner = CliRunner()
HTML = SAMPLE / "pages" / "news-harbour-footbridge.html"
TEXT = SAMPLE / "pages" / "text-overwinter-geraniums.txt"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "html.skops"
    save_model(tiny_bundle("html"), path)
    return path


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert __version__ in res.output


def test_blocks_table_on_html():
    res = runner.invoke(app, ["blocks", str(HTML)])
    assert res.exit_code == 0, res.output
    assert "source=html" in res.output
    assert "footbridge" in res.output.lower()


def test_blocks_jsonl_on_text_and_stdin():
    res = runner.invoke(app, ["blocks", "-", "--format", "jsonl"], input=TEXT.read_bytes())
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert rows and all(r["source"] == "text" for r in rows)
    assert rows[0]["index"] == 0


def test_blocks_missing_file_is_a_clean_error():
    res = runner.invoke(app, ["blocks", "/nonexistent/page.html"])
    assert res.exit_code == 2
    assert "no such file" in res.output


def test_extract_with_model_json(model_path):
    res = runner.invoke(app, ["extract", str(HTML), "--model", str(model_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output.splitlines()[0])
    assert rec["input"] == "html" and rec["blocks"]
    assert all(0 <= b["score"] <= 1 for b in rec["blocks"])


def test_extract_bad_model_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"junk")
    res = runner.invoke(app, ["extract", str(HTML), "--model", str(bad)])
    assert res.exit_code == 2
    assert "error:" in res.output


def test_model_info(model_path):
    res = runner.invoke(app, ["model", "info", str(model_path)])
    assert res.exit_code == 0, res.output
    assert "input:      html" in res.output
    res = runner.invoke(app, ["model", "info", str(model_path), "--json"])
    assert json.loads(res.output)["format"] == "bpdetect-model"


def test_train_and_evaluate_on_sample(tmp_path):
    out = tmp_path / "m.skops"
    res = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), "--max-iter", "15", "--no-split", "-j", "1"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and out.with_suffix(".json").is_file()
    rep = tmp_path / "rep"
    res = runner.invoke(app, ["evaluate", str(SAMPLE), "--model", str(out), "--split", "all", "--report", str(rep)])
    assert res.exit_code == 0, res.output
    data = json.loads((rep / "report.json").read_text())
    assert data["per_corpus"]["sample"]["pages"] >= 9
    assert 0.0 <= data["macro_token_f1_mean"] <= 1.0
    assert (rep / "f1_per_corpus.png").stat().st_size > 1000
