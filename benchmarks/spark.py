"""Pages/s of the Spark job (local[N]) beside `bpdetect extract --jobs N` on the same WARC files, in the same run.

Real pages (every ``--every``-th page of the corpora under ``--root``: ``<corpus>/index.jsonl`` + gzipped HTML) are
written as HTTP response records (``Content-Type: text/html``, no charset: both sides sniff it the same way) into
``--warcs`` gzipped WARC files in a temp dir. Then, ``--repeat`` times, taking turns (the order flips each round so
a noisy neighbour hurts both alike):

- ``cli``: ``bpdetect extract --jobs N WARC... -o out.jsonl`` as a subprocess (process start, model loads and the
  JSONL writing included);
- ``spark``: ``run_job`` on a SparkSession started once before the rounds (as on a cluster that is up), writing
  Parquet to the same output each round (dynamic partition overwrite). Its first round also starts the Python
  workers and loads the model in each; later rounds reuse them (``spark.python.worker.reuse``), as the tasks of a
  long job do.

Medians are reported with every round's time; the texts of both outputs are compared record by record. The note
extrapolates the core-hours of one Common Crawl monthly crawl from the measured per-core throughput.

Usage: python benchmarks/spark.py [--root DIR] [--every K] [--limit N] [--warcs W] [--jobs N] [--repeat R]
       [--crawl-pages P] [--out FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_pages import iter_corpus_pages

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
# Pages of one Common Crawl monthly crawl assumed for the extrapolation: recent crawls hold about 2.5-3.0 billion
# pages (e.g. CC-MAIN-2024-33: 2.5 billion); nearly all are HTML responses.
CRAWL_PAGES = 2.7e9


def load_pages(root: Path, every: int, limit: int | None) -> list[tuple[str, bytes]]:
    """(url, raw bytes) of every ``every``-th page of every corpus under root, in a fixed order."""
    return [
        (rec.get("url") or f"http://{corpus}.invalid/{rec['id']}", raw)
        for corpus, rec, raw in iter_corpus_pages(root, every, limit)
    ]


def write_warcs(pages: list[tuple[str, bytes]], folder: Path, n_files: int) -> list[str]:
    """The pages as response records in ``n_files`` gzipped WARC files (page i goes to file i mod n_files)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paths = [folder / f"bench-{i:05d}.warc.gz" for i in range(n_files)]
    handles = [open(p, "wb") for p in paths]  # noqa: SIM115 - closed below
    writers = [WARCWriter(fh, gzip=True) for fh in handles]
    try:
        for i, (url, body) in enumerate(pages):
            w = writers[i % n_files]
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    finally:
        for fh in handles:
            fh.close()
    return [str(p) for p in paths]


def run_cli(paths: list[str], out: Path, jobs: int) -> float:
    """Wall seconds of `bpdetect extract --jobs N` over the WARC files into a JSONL file."""
    cmd = [sys.executable, "-m", "bpdetect", "extract", "--jobs", str(jobs), "-q", *paths, "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def start_spark(jobs: int):
    """A local[jobs] SparkSession, no UI, quiet."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{jobs}]")
        .appName("bpdetect-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def compare(jsonl: Path, parquet: Path) -> dict[str, int]:
    """Records of both outputs and how many texts differ (matched by source id)."""
    import pyarrow.parquet as pq

    cli = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        cli[rec["source"]] = rec.get("text")
    table = pq.read_table(parquet, columns=["source", "text", "error"]).to_pylist()
    spark = {r["source"]: r["text"] for r in table}
    return {
        "cli_records": len(cli),
        "spark_rows": len(table),
        "spark_errors": sum(r["error"] is not None for r in table),
        "missing_in_spark": len(set(cli) - set(spark)),
        "text_differs": sum(1 for s, t in cli.items() if s in spark and spark[s] != t),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table and the extrapolation."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--warcs", type=int, default=8, help="WARC files to write (Spark runs one task per file)")
    ap.add_argument("--jobs", type=int, default=2, help="cores: local[N] and --jobs N")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--crawl-pages", type=float, default=CRAWL_PAGES)
    ap.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    from bpdetect.integrations.spark import run_job

    pages = load_pages(args.root, args.every, args.limit)
    mb = sum(len(b) for _, b in pages) / 1e6
    with tempfile.TemporaryDirectory(prefix="bpdetect-spark-bench-") as tmp:
        folder = Path(tmp)
        paths = write_warcs(pages, folder, args.warcs)
        print(f"{len(pages)} pages ({mb:.0f} MB of HTML) in {args.warcs} WARC files; {os.cpu_count()} CPUs; "
              f"Python {platform.python_version()}", flush=True)
        t0 = time.perf_counter()
        spark = start_spark(args.jobs)
        session_s = time.perf_counter() - t0
        out_jsonl, out_parquet = folder / "out.jsonl", folder / "out.parquet"
        times: dict[str, list[float]] = {"cli": [], "spark": []}
        n_pages = len(pages)
        for r in range(args.repeat):
            for name in ("cli", "spark") if r % 2 == 0 else ("spark", "cli"):
                if name == "cli":
                    times["cli"].append(run_cli(paths, out_jsonl, args.jobs))
                else:
                    start = time.perf_counter()
                    summary = run_job(spark, paths, str(out_parquet))
                    times["spark"].append(time.perf_counter() - start)
                    n_pages = summary.pages
                print(f"round {r + 1} {name}: {times[name][-1]:.1f} s", flush=True)
        spark.stop()
        check = compare(out_jsonl, out_parquet)

    med = {k: statistics.median(v) for k, v in times.items()}
    rate = {k: n_pages / med[k] for k in med}
    warm = times["spark"][1:] or times["spark"]
    spark_warm = n_pages / statistics.median(warm)
    per_core = spark_warm / args.jobs
    core_hours = args.crawl_pages / per_core / 3600
    print()
    print(f"| command ({args.jobs} cores, {n_pages} pages) | median s | pages/s | rounds (s) |")
    print("|---|---:|---:|---|")
    print(f"| `bpdetect extract --jobs {args.jobs}` → JSONL | {med['cli']:.1f} | {rate['cli']:.1f} | "
          f"{', '.join(f'{t:.1f}' for t in times['cli'])} |")
    print(f"| Spark job, local[{args.jobs}] → Parquet | {med['spark']:.1f} | {rate['spark']:.1f} | "
          f"{', '.join(f'{t:.1f}' for t in times['spark'])} |")
    print(f"\nSpark / CLI pages/s (medians): {rate['spark'] / rate['cli']:.2f}; "
          f"Spark warm rounds (2..): {spark_warm:.1f} pages/s = {per_core:.1f} pages/s per core; "
          f"session start {session_s:.1f} s (not in the rounds)")
    print(f"check: {check}")
    print(f"Extrapolation: {args.crawl_pages / 1e9:.1f} billion HTML pages / {per_core:.1f} pages/s per core "
          f"= {core_hours:,.0f} core-hours (extraction and WARC reading only; the crawl's download not counted)")
    if args.out:
        args.out.write_text(json.dumps({
            "pages": n_pages, "html_mb": round(mb, 1), "jobs": args.jobs, "warcs": args.warcs, "times": times,
            "median_s": med, "pages_per_s": rate, "spark_warm_pages_per_s": spark_warm, "per_core": per_core,
            "crawl_pages": args.crawl_pages, "core_hours": core_hours, "session_start_s": session_s, "check": check,
        }, indent=2))  # fmt: skip
    return 0 if check["missing_in_spark"] == 0 and check["text_differs"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
