"""The command line, through typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
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


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_extract_one_file_prints_its_text_and_a_summary(model_path):
    res = runner.invoke(app, ["extract", str(HTML), "--model", str(model_path)])
    assert res.exit_code == 0, res.output
    assert "footbridge" in res.stdout.lower() and "==>" not in res.stdout
    assert "1 ok, 0 errors, 0 skipped in" in res.stderr
    quiet = runner.invoke(app, ["extract", str(HTML), "--model", str(model_path), "-q"])
    assert quiet.stdout == res.stdout and quiet.stderr == ""


def test_extract_several_sources_separated_and_missing_file_exits_1(model_path, tmp_path):
    missing = tmp_path / "missing.html"
    res = runner.invoke(
        app, ["extract", str(HTML), str(missing), "-", "--model", str(model_path), "-f", "markdown"], input=b""
    )
    assert res.exit_code == 1
    assert res.stdout.startswith(f"==> {HTML} <==\n# ")  # markdown, one header per input
    assert "==> <stdin> <==" in res.stdout
    assert f"error: {missing}: no such file or directory" in res.stderr
    assert "2 ok, 1 error, 0 skipped" in res.stderr


def test_extract_stdin_text_dump():
    res = runner.invoke(app, ["extract", "-", "--input", "text", "-f", "json"], input=TEXT.read_bytes())
    assert res.exit_code == 0, res.output
    (rec,) = _lines(res.stdout)
    assert rec["source"] == "<stdin>" and rec["input"] == "text" and rec["text"]


def test_extract_directory_to_output_directory(model_path, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "extract",
            str(SAMPLE / "pages"),
            str(tmp_path / "gone.html"),
            "-o",
            f"{out}/",
            "--model",
            str(model_path),
            "--glob",
            "*.html",
            "-f",
            "html",
        ],
    )
    assert res.exit_code == 1
    pages = sorted(p.stem for p in (SAMPLE / "pages").glob("*.html"))
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.html" for n in pages] + ["errors.jsonl"])
    assert "<html" in (out / "news-harbour-footbridge.html").read_text().lower()
    assert _lines((out / "errors.jsonl").read_text()) == [
        {"source": str(tmp_path / "gone.html"), "error": "no such file or directory"}
    ]


def test_extract_jsonl_output_has_every_input_and_jobs_2_matches_jobs_1(model_path, tmp_path):
    sources = [str(p) for p in sorted((SAMPLE / "pages").glob("*.html"))]
    sources.insert(3, str(tmp_path / "missing.html"))
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.jsonl"
        res = runner.invoke(
            app,
            [
                "extract",
                *sources,
                "-o",
                str(out),
                "-j",
                jobs,
                "--chunk-size",
                "2",
                "--model",
                str(model_path),
                "-i",
                "html",
                "-t",
                "0.4",
            ],
        )
        assert res.exit_code == 1, res.output
        runs[jobs] = _lines(out.read_text())
    assert [r["source"] for r in runs["1"]] == sources
    assert runs["1"][3] == {"source": str(tmp_path / "missing.html"), "error": "no such file or directory"}
    assert all(r["threshold"] == 0.4 for i, r in enumerate(runs["1"]) if i != 3)
    assert runs["2"] == runs["1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j1.jsonl", "j2.jsonl"]  # no temp files left


def test_extract_warc(model_path, tmp_path):
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for uri, body, ctype in (
            ("http://example.com/a", HTML.read_bytes(), "text/html"),
            ("http://example.com/b.css", b"p { color: red }", "text/css"),
        ):
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers)
            )
    res = runner.invoke(app, ["extract", str(path), "--model", str(model_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    (rec,) = _lines(res.stdout)
    assert rec["url"] == "http://example.com/a" and rec["source"].startswith(f"{path}#<urn:uuid:")
    assert "1 ok, 0 errors, 1 skipped" in res.stderr


def test_extract_usage_errors_exit_2(model_path, tmp_path):
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    for args, message in (
        (["-t", "1.5"], "within [0, 1]"),
        (["--preset", "strict"], "unknown threshold preset"),
        (["-o", f"{a_file}/"], "is a file"),
        (["-o", str(tmp_path / "no" / "such" / "out.txt")], "does not exist"),
    ):
        res = runner.invoke(app, ["extract", str(HTML), "--model", str(model_path), *args])
        assert res.exit_code == 2, (args, res.output)
        assert message in res.stderr, (args, res.stderr)
    assert runner.invoke(app, ["extract", str(HTML), "-f", "pdf"]).exit_code == 2
    assert runner.invoke(app, ["extract"]).exit_code == 2
    # The tiny model has no presets but its own threshold; the shipped default has them all.
    res = runner.invoke(app, ["extract", str(HTML), "--model", str(model_path), "--preset", "recall"])
    assert res.exit_code == 2 and "unknown threshold preset 'recall'" in res.stderr
    ok = runner.invoke(app, ["extract", str(HTML), "--preset", "recall", "-q"])
    assert ok.exit_code == 0 and "footbridge" in ok.stdout.lower(), ok.output


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


def test_train_seed_is_used_and_recorded(tmp_path):
    args = ["train", str(SAMPLE), "--max-iter", "15", "--no-split", "-j", "1"]
    for name, seed in (("a", "0"), ("b", "0"), ("c", "7")):
        res = runner.invoke(app, [*args, "--out", str(tmp_path / f"{name}.npz"), "--seed", seed])
        assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "c.json").read_text())
    assert meta["training"]["seed"] == 7 and meta["params"]["random_state"] == 7
    arrays = {n: dict(np.load(tmp_path / f"{n}.npz")) for n in ("a", "b", "c")}
    same = all(np.array_equal(arrays["a"][k], arrays["b"][k]) for k in arrays["a"])
    differ = any(not np.array_equal(arrays["a"][k], arrays["c"][k]) for k in arrays["a"])
    assert same and differ  # deterministic for a seed, and the seed changes the model


def test_extract_resource_guards(tmp_path):
    page = tmp_path / "many.html"
    page.write_text("".join(f"<p>Paragraph number {i} of a long page.</p>" for i in range(50)), encoding="utf-8")
    res = runner.invoke(app, ["extract", str(page), "--max-blocks", "5", "-f", "json", "-q"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert rec["truncated"] is True and len(rec["blocks"]) == 5
    res = runner.invoke(app, ["extract", str(page), "--max-bytes", "100", "-q"])
    assert res.exit_code == 1
    assert "limit" in res.output


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killed_batch_resumes_to_exactly_one_record_per_input(model_path, tmp_path, jobs):
    """SIGKILL a batch midway (no clean-up at all), then --resume: every input ends up with exactly one record."""
    import gzip
    import os
    import signal
    import subprocess
    import sys
    import time

    pages = sorted((SAMPLE / "pages").glob("*.html"))
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(400):
        (folder / f"p{i:03d}.html").write_bytes(pages[i % len(pages)].read_bytes())
    (folder / "p999.html.gz").write_bytes(gzip.compress(pages[0].read_bytes())[:200])  # a cut archive: an error
    out = tmp_path / "out.jsonl"
    part = tmp_path / "out.jsonl.part"
    cmd = [sys.executable, "-m", "bpdetect", "extract", str(folder), "-o", str(out), "--model", str(model_path),
           "-i", "html", "--chunk-size", "1", "-j", jobs, "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if part.exists() and part.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole tree: workers too
    proc.wait()
    assert not out.exists()  # never a half-written output
    before = part.read_bytes().count(b"\n")
    assert 40 <= before < 401

    res = runner.invoke(app, [*cmd[3:], "--resume"])
    assert res.exit_code == 1, res.output  # the broken .gz input is an error record
    records = _lines(out.read_text())
    sources = sorted(str(p) for p in folder.iterdir())
    assert sorted(r["source"] for r in records) == sources  # each input exactly once
    assert sum("error" in r for r in records) == 1
    assert not part.exists()
    done = int(res.output.split(" already done")[0].rsplit(", ", 1)[1])
    assert before - 1 <= done <= before  # the killed run's complete records were kept (a cut last line is not)


def test_extract_boilerplate_rules_can_be_turned_off():
    dump = (
        b"The new footbridge over the river opened on Saturday after eighteen months of construction work.\n\n"
        b"Advertisement\n\n"
        b"Hundreds of residents crossed it in the first hour, and the mayor thanked the engineers for it.\n"
    )
    on = runner.invoke(app, ["extract", "-", "--input", "text", "-t", "0", "-q"], input=dump)
    off = runner.invoke(app, ["extract", "-", "--input", "text", "-t", "0", "-q", "--no-rules"], input=dump)
    assert on.exit_code == 0 and off.exit_code == 0, (on.output, off.output)
    assert "Advertisement" not in on.stdout and "Hundreds of residents" in on.stdout
    assert "Advertisement" in off.stdout
