"""The `bpdetect spark` command (also `python -m bpdetect.integrations.spark` and a spark-submit script); pyspark is
imported only when the command runs."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["main", "read_path_list", "spark"]


def read_path_list(path: str, prefix: str = "") -> list[str]:
    """WARC paths listed one per line in a file (gzipped or not, e.g. Common Crawl's warc.paths.gz), each prefixed."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [prefix + line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def spark(
    output: Annotated[
        str, typer.Option("--output", "-o", help="Parquet dataset to write (partitioned by WARC file name).")
    ],
    warcs: Annotated[
        list[str] | None,
        typer.Argument(help="WARC files (.warc/.warc.gz): local paths or URIs (file:, s3://, s3a://, hdfs://, ...).",
                       show_default=False),
    ] = None,
    paths_from: Annotated[
        str | None,
        typer.Option("--paths-from", help="A file listing WARC paths, one per line (gzipped or not: warc.paths.gz)."),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Prepended to each --paths-from line, e.g. s3://commoncrawl/.")
    ] = "",
    master: Annotated[
        str | None,
        typer.Option("--master", help="Spark master (default: spark-submit's, else local[*]).", show_default=False),
    ] = None,
    conf: Annotated[
        list[str] | None, typer.Option("--conf", help="A Spark setting KEY=VALUE (repeatable).", show_default=False)
    ] = None,
    opener: Annotated[
        str, typer.Option("--opener", help="How WARC files are opened: auto, python (streamed) or spark (binaryFile).")
    ] = "auto",
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold", "-t", "--preset", help="A number in [0, 1] or a preset: precision/balanced/recall."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="A model file on the executors, or one shipped with --files.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Load a model even if its library versions differ.")] = False,
    rules: Annotated[bool, typer.Option("--rules/--no-rules", help="Drop boilerplate lines the model kept.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line on stderr.")] = False,
) -> None:
    """Extract the HTML pages of WARC files with Apache Spark into a partitioned Parquet dataset.

    Every HTML response gives one row (or an error row); a re-run on the same WARC files replaces their partitions.
    Exit status: 0 when the job ran (page errors are rows in the output), 2 for usage errors, 1 when the job failed.
    """
    from . import batch
    from .cli_common import fail

    paths = list(warcs or [])
    if paths_from:
        try:
            paths += read_path_list(paths_from, prefix)
        except OSError as exc:
            raise fail(f"cannot read --paths-from: {exc}") from exc
    if not paths:
        raise fail("no WARC paths: give WARC arguments or --paths-from")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise fail('`bpdetect spark` needs PySpark: pip install "bpdetect[spark]"') from exc
    from .integrations.spark.job import check_paths, run_job
    from .integrations.spark.reader import OPENERS

    try:
        check_paths(paths)
        if opener not in OPENERS:
            raise ValueError(f"--opener must be one of {', '.join(OPENERS)}, not {opener!r}")
        thr = batch.parse_threshold(threshold)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    builder = SparkSession.builder.appName("bpdetect")
    if master:
        builder = builder.master(master)
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--conf wants KEY=VALUE, not {item!r}")
        builder = builder.config(key.strip(), value)
    owned = SparkSession.getActiveSession() is None  # a session of the caller's (a notebook, a test) stays up
    session = builder.getOrCreate()
    try:
        summary = run_job(session, paths, output, opener=opener, threshold=thr, model=model, force=force, rules=rules)
    except ValueError as exc:  # duplicate WARC names, a bad preset or opener
        raise fail(str(exc)) from exc
    except Exception as exc:  # the job failed (a model that cannot load on the executors, a lost cluster)
        raise fail(f"Spark job failed: {type(exc).__name__}: {str(exc)[:2000]}", 1) from exc
    finally:
        if owned:
            session.stop()
    if not quiet:
        typer.echo(summary.line(), err=True)


def main() -> None:
    """Run the command alone (``python -m bpdetect.integrations.spark``, ``spark-submit .../spark/__main__.py``)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(name="spark")(spark)
    app()
