"""bpdetect.integrations.spark in a real local[2] SparkSession: WARC files written here, every HTML record out exactly
once with the text of the single-process ``bpdetect.extract``, error rows instead of failed tasks, skipped records
counted as by the CLI, idempotent re-runs, the model loaded once per Python worker, and the `bpdetect spark`
command."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sys
import zlib
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason='PySpark is not installed (pip install -e ".[test]" or ".[spark]")')
pytest.importorskip("pandas", reason="pandas is not installed (the spark extra brings it)")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (the spark extra brings it)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (17): no java on PATH and no JAVA_HOME", allow_module_level=True)

from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import bpdetect
from bpdetect import batch
from bpdetect.cli import app
from bpdetect.integrations.spark import worker

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample" / "pages"
PAGES = sorted(p for p in SAMPLE.iterdir() if p.suffix == ".html")
FRENCH = "<html><head><title>Café</title></head><body><article><h1>Le café crème</h1><p>{}</p></article></body></html>"


@pytest.fixture(scope="module")
def spark():
    """A local[2] SparkSession with small memory settings and no UI (stopped after this module)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("bpdetect-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _response(writer: WARCWriter, uri: str, body: bytes, ctype: str | None, status: str = "200 OK") -> None:
    headers = StatusAndHeaders(status, [("Content-Type", ctype)] if ctype else [], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers))


def _write_warcs(root: Path) -> dict[str, Path]:
    """Three good WARC files (gzipped and not; HTML pages, declared and lying charsets, non-HTML and non-2xx records,
    a request record) and a truncated one."""
    root.mkdir()
    files = {"a": root / "crawl-a.warc.gz", "b": root / "crawl-b.warc", "c": root / "crawl-c.warc.gz"}
    pages = [p.read_bytes() for p in PAGES]
    for n, (key, path) in enumerate(files.items()):
        with open(path, "wb") as fh:
            writer = WARCWriter(fh, gzip=path.suffix == ".gz")
            for i, body in enumerate(pages[n::3]):
                ctype = "text/html; charset=utf-8" if "cp1252" not in PAGES[n + 3 * i].name else "text/html"
                _response(writer, f"http://{key}.example/{i}", body, ctype)
            _response(writer, f"http://{key}.example/logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png")
            _response(writer, f"http://{key}.example/gone", b"<html><body>Gone</body></html>", "text/html", "404 Gone")
            get = io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            writer.write_record(writer.create_warc_record(f"http://{key}.example/", "request", payload=get))
            # The header lies (Latin-1 for UTF-8 bytes), and one page has no Content-Type at all.
            french = FRENCH.format("Un café crème. " * 20).encode()
            _response(writer, f"http://{key}.example/fr", french, "text/html; charset=iso-8859-1")
            _response(writer, f"http://{key}.example/bare", pages[n], None)
    whole = files["a"].read_bytes()
    files["cut"] = root / "crawl-cut.warc.gz"
    files["cut"].write_bytes(whole[: _inside_a_member(whole, len(whole) * 2 // 3)])
    return files


def _inside_a_member(data: bytes, at: int) -> int:
    """``at``, moved back into a gzip member when it falls where one member (one WARC record) ends: a cut there
    leaves a valid, shorter WARC that no reader can tell from a whole one (the record ids, and so the sizes, vary)."""
    ends, pos = set(), 0
    while pos < len(data):
        member = zlib.decompressobj(31)
        member.decompress(data[pos:])
        pos = len(data) - len(member.unused_data)
        ends.add(pos)
    return at - 10 if at in ends else at  # a gzip member is at least 18 bytes (header and trailer)


def _cli_skipped(path: Path | str) -> int:
    """The records of a WARC file `bpdetect extract` counts as skipped in its summary."""
    return sum(isinstance(item.payload, batch.Skipped) for item in batch.iter_items([str(path)]))


def _expected(path: Path) -> dict[str, tuple[str | None, str]]:
    """record id → (url, text of bpdetect.extract with the HTTP charset as encoding) for the 2xx HTML responses,
    read with warcio directly (not with the code under test)."""
    out = {}
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            ctype = rec.http_headers.get_header("Content-Type") or ""
            if rec.http_headers.get_statuscode() != "200" or (ctype and not ctype.startswith("text/html")):
                continue
            charset = ctype.partition("charset=")[2] or None
            body = rec.content_stream().read()
            out[rec.rec_headers.get_header("WARC-Record-ID")] = (
                rec.rec_headers.get_header("WARC-Target-URI"),
                bpdetect.extract(body, encoding=charset).text,
            )
    return out


@pytest.fixture(scope="module")
def warcs(tmp_path_factory):
    return _write_warcs(tmp_path_factory.mktemp("spark") / "warcs")


@pytest.fixture(scope="module")
def job_rows(spark, warcs, tmp_path_factory):
    """The rows of one job run over the good WARCs, the truncated one and a missing path."""
    from bpdetect.integrations.spark import run_job

    out = str(tmp_path_factory.mktemp("spark-out") / "pages")
    paths = [str(p) for p in warcs.values()] + [str(warcs["a"].parent / "missing.warc.gz")]
    summary = run_job(spark, paths, out)
    rows = [r.asDict() for r in spark.read.parquet(out).collect()]
    return out, paths, summary, rows


def test_every_record_once_with_the_text_of_bpdetect_extract(warcs, job_rows):
    _, _, summary, rows = job_rows
    for key in ("a", "b", "c"):
        path = str(warcs[key])
        expected = _expected(warcs[key])
        assert len(expected) >= 4
        got = [r for r in rows if r["warc_path"] == path]
        assert sorted(r["record_id"] for r in got) == sorted(expected)  # exactly once each, nothing else
        for r in got:
            url, text = expected[r["record_id"]]
            assert r["error"] is None, r
            assert r["source"] == f"{path}#{r['record_id']}" and r["url"] == url
            assert r["text"] == text, r["url"]
            assert 0.0 <= r["confidence"] <= 1.0 and r["input"] == "html" and r["warc_file"] == Path(path).name
        assert [r["position"] for r in sorted(got, key=lambda r: r["position"])] == list(range(len(got)))
    assert any(r["text"] and "café crème" in r["text"] for r in rows)  # the lying Latin-1 header did not win
    assert summary.pages == len(rows) and summary.errors == sum(r["error"] is not None for r in rows)


def test_unreadable_inputs_become_error_rows_not_failed_tasks(warcs, job_rows):
    _, paths, summary, rows = job_rows
    (missing,) = [r for r in rows if r["warc_path"] == paths[-1]]
    assert missing["source"] == paths[-1] and missing["error"] == "no such file or directory"
    assert missing["text"] is None and missing["record_id"] is None
    cut = [r for r in rows if r["warc_path"] == str(warcs["cut"])]
    errors = [r for r in cut if r["error"]]
    assert errors and all("truncated" in r["error"] for r in errors), errors
    whole = _expected(warcs["a"])
    for r in cut:  # the records before the cut are extracted as from the whole file
        if r["error"] is None:
            assert r["text"] == whole[r["record_id"]][1]
    assert summary.errors == len(errors) + 1 and summary.warc_files == 5


def test_skipped_records_are_counted_as_by_bpdetect_extract(spark, warcs, job_rows):
    from bpdetect.integrations.spark import SkippedCounter, read_warcs

    _, paths, summary, _ = job_rows
    good = [warcs[key] for key in ("a", "b", "c")]
    assert [_cli_skipped(p) for p in good] == [2, 2, 2]  # a PNG and a 404 each (the request record is no input)
    assert summary.skipped == sum(_cli_skipped(p) for p in paths) >= 6  # + those before the cut in crawl-cut
    assert f", {summary.skipped} skipped from 5 WARC files" in summary.line()
    for opener, prefix in (("python", ""), ("spark", "file:")):
        counter = SkippedCounter(spark)
        df = read_warcs(spark, [*map(str, good), str(warcs["cut"])], opener=opener, skipped=counter)
        before_cut = sum(isinstance(i.payload, bytes) for i in batch.iter_items([str(warcs["cut"])]))
        assert df.where("error is null").count() == sum(len(_expected(p)) for p in good) + before_cut
        want = {f"{prefix}{p}": _cli_skipped(p) for p in [*good, warcs["cut"]]}
        assert counter.by_file == {k: n for k, n in want.items() if n} and counter.total == sum(want.values())
        df.collect()  # a second action reads the files again: each file's count is kept, not added twice
        assert counter.total == sum(want.values()), opener


def test_rerun_replaces_partitions_instead_of_duplicating(spark, warcs, job_rows):
    from bpdetect.integrations.spark import run_job

    out, paths, _, rows = job_rows
    before = sorted(map(repr, rows))
    run_job(spark, paths, out)
    assert sorted(repr(r.asDict()) for r in spark.read.parquet(out).collect()) == before
    # A run over one WARC file replaces that file's partition and keeps the others.
    part = Path(out) / "warc_file=crawl-b.warc"
    old_files = {p.name for p in part.glob("*.parquet")}
    summary = run_job(spark, [str(warcs["b"])], out)
    assert {p.name for p in part.glob("*.parquet")}.isdisjoint(old_files)
    assert sorted(repr(r.asDict()) for r in spark.read.parquet(out).collect()) == before
    assert summary.pages == len(_expected(warcs["b"])) and summary.errors == 0


def test_spark_opener_reads_the_same_rows(spark, warcs, job_rows):
    from bpdetect.integrations.spark import read_warcs

    _, _, _, rows = job_rows
    paths = [str(warcs["a"]), str(warcs["cut"]), str(warcs["a"].parent / "missing.warc.gz")]
    got = read_warcs(spark, paths, opener="spark").select("warc_path", "record_id", "url", "error").collect()
    names = {Path(p).name for p in paths}
    want = sorted(((r["record_id"], r["url"], r["error"]) for r in rows if r["warc_file"] in names), key=repr)
    assert sorted(((r["record_id"], r["url"], r["error"]) for r in got), key=repr) == want
    assert {r["warc_path"] for r in got if r["record_id"]} == {f"file:{warcs['a']}", f"file:{warcs['cut']}"}


def test_reader_rows_carry_headers_and_charset(spark, warcs):
    from bpdetect.integrations.spark import read_warcs

    rows = read_warcs(spark, [str(warcs["b"])]).orderBy("position").collect()
    fr = next(r for r in rows if r["url"].endswith("/fr"))
    assert fr["http_headers"] == {"content-type": "text/html; charset=iso-8859-1"} and fr["charset"] == "iso-8859-1"
    assert fr["html"].startswith(b"<html>") and fr["error"] is None
    bare = next(r for r in rows if r["url"].endswith("/bare"))
    assert bare["http_headers"] == {} and bare["charset"] is None


def test_udf_on_string_and_binary_columns_with_optional_url_and_charset(spark):
    from bpdetect.integrations.spark import extract_column

    page = PAGES[0].read_bytes()
    french = FRENCH.format("Un café crème. " * 20)
    df = spark.createDataFrame(
        [(1, page, page.decode("utf-8"), "utf-8"), (2, french.encode("cp1252"), french, "cp1252"),
         (3, None, None, None), (4, b"\x00\xff garbage \xfe", "plain words", None)],
        "id int, raw binary, s string, cs string",
    )  # fmt: skip
    rows = {
        r["id"]: r
        for r in df.select(
            "id", extract_column("raw", charset="cs").alias("b"), extract_column(df.s, threshold="precision").alias("s")
        ).collect()
    }
    assert rows[1]["b"]["text"] == bpdetect.extract(page, encoding="utf-8").text
    assert rows[1]["s"]["text"] == bpdetect.extract(page.decode("utf-8"), threshold="precision").text
    assert rows[2]["b"]["text"] == bpdetect.extract(french.encode("cp1252"), encoding="cp1252").text
    assert "café crème" in rows[2]["b"]["text"] and rows[2]["b"]["title"] == "Café"
    assert rows[3]["b"]["error"] == "no HTML (the html value is null)" and rows[3]["b"]["text"] is None
    assert rows[4]["b"]["error"] is None and rows[4]["s"]["error"] is None  # odd bytes still give a result
    assert 0.0 <= rows[1]["b"]["confidence"] <= 1.0 and rows[1]["b"]["threshold"] > 0


def test_bad_preset_fails_on_the_driver(spark):
    from bpdetect.integrations.spark import extract_udf

    with pytest.raises(ValueError, match="unknown threshold preset"):
        extract_udf(threshold="strictest")


def test_model_is_loaded_once_per_python_worker_and_not_shipped(spark, warcs, job_rows):
    import cloudpickle
    import pandas as pd

    from bpdetect.integrations.spark import extract_column, extract_udf

    blob = cloudpickle.dumps(extract_udf().func)
    assert len(blob) < 20_000 and b"Detector" not in blob  # the closure holds options, not the model

    page = PAGES[0].read_bytes()
    df = spark.createDataFrame([(i, page) for i in range(32)], "id int, html binary").repartition(8)
    assert df.select(extract_column("html").alias("x")).where("x.error is null").count() == 32

    def loads(batches):
        for b in batches:
            yield pd.DataFrame({"pid": [os.getpid()] * len(b), "loads": [worker.model_loads()] * len(b)})

    seen = spark.range(0, 64, numPartitions=8).mapInPandas(loads, "pid long, loads int").distinct().collect()
    per_pid = {r["pid"]: r["loads"] for r in seen}
    assert all(n <= 1 for n in per_pid.values()), per_pid  # 8 + 8 tasks, yet no process loaded the model twice
    assert 1 in per_pid.values(), per_pid  # ... and the workers that ran the UDF kept it for the next tasks


def test_cli_runs_the_job_and_rejects_bad_usage(spark, warcs, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli-out"
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(f"{warcs['c'].name}\n".encode()))
    prefix = f"{warcs['c'].parent}/"
    args = ["spark", str(warcs["b"]), "--paths-from", str(listing), "--prefix", prefix, "-o", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    n = len(_expected(warcs["b"])) + len(_expected(warcs["c"]))
    assert f"{n} ok, 0 errors, 4 skipped from 2 WARC files" in res.stderr  # a PNG and a 404 in each file
    parts = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert parts == ["warc_file=crawl-b.warc", "warc_file=crawl-c.warc.gz"]
    assert spark.sparkContext._jsc is not None  # the caller's session was left running
    for args, message in (
        ([str(warcs["a"]), str(warcs["a"]), "-o", str(out)], "must be unique"),
        (["-o", str(out)], "no WARC paths"),
        ([str(warcs["a"]), "-o", str(out), "--opener", "ftp"], "--opener must be one of"),
        ([str(warcs["a"]), "-o", str(out), "-t", "2"], "within [0, 1]"),
    ):
        res = runner.invoke(app, ["spark", *args])
        assert res.exit_code == 2 and message in res.stderr, (args, res.output)


def test_module_entry_point_and_lazy_import():
    import subprocess

    code = "import sys, bpdetect, bpdetect.cli, bpdetect.integrations.spark; print('pyspark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    cmd = [sys.executable, "-m", "bpdetect.integrations.spark", "--help"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0 and "--paths-from" in res.stdout
