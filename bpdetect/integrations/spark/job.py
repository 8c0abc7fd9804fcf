"""The Spark job: WARC paths → extraction → Parquet, partitioned by WARC file, idempotent on re-run.

Idempotence: the output is partitioned by ``warc_file`` (the WARC file's name) and written with Spark's *dynamic
partition overwrite*: a run replaces the partitions of the WARC files it read, and only those. Re-running on the
same inputs gives the same rows, not duplicates; a crawl can be processed in slices (lists of WARC paths) into one
dataset, and a slice that failed is simply run again. Spark stages the new files and swaps whole partitions at job
commit, so a failed run leaves the earlier partitions in place. (A write to a temp dir then a rename would replace
the whole output on every run and cannot be done atomically on object stores either.) WARC file names must therefore
be unique among the inputs (Common Crawl's are); the job checks it up front.
"""

from __future__ import annotations

import posixpath
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ... import batch
from .reader import SkippedCounter, read_warcs
from .udf import extract_column

__all__ = ["OUTPUT_COLUMNS", "JobSummary", "check_paths", "extract_warcs", "run_job", "warc_file_name"]

# Columns of the job's Parquet output (warc_file is the partition column: a directory level, not in the files).
# source/url/title/text/input/encoding/truncated/threshold are those of `bpdetect extract -o out.jsonl`; an error row
# has source, url and error (and null text), as the CLI's error records.
OUTPUT_COLUMNS = (
    "source", "url", "warc_path", "record_id", "position", "title", "text", "confidence", "input", "encoding",
    "truncated", "threshold", "error", "warc_file",
)  # fmt: skip
ARROW_BATCH_ROWS = 256  # pages per pandas UDF call; Spark's default (10,000) would hold ~1 GB of HTML per batch


def warc_file_name(path: str) -> str:
    """The partition value of a WARC path: its file name."""
    return posixpath.basename(path.rstrip("/"))


def check_paths(paths: Sequence[str]) -> None:
    """ValueError unless there are WARC paths and their file names (the partition values) are unique."""
    if not paths:
        raise ValueError("no WARC paths given")
    names = Counter(warc_file_name(p) for p in paths)
    dups = sorted(n for n, c in names.items() if c > 1)
    if dups:
        raise ValueError(f"WARC file names must be unique (they name the output partitions): {', '.join(dups[:5])}")
    if "" in names:
        raise ValueError("a WARC path has no file name")


def extract_warcs(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    opener: str = "auto",
    skipped: SkippedCounter | None = None,
    **options,
) -> DataFrame:
    """The job's output rows (OUTPUT_COLUMNS) for WARC ``paths``, not yet written; ``options`` as for extract_udf."""
    pages = read_warcs(spark, paths, opener=opener, skipped=skipped)
    ext = extract_column("html", "url", "charset", **options)
    out = pages.withColumn("x", ext).select(
        F.when(F.col("record_id").isNull(), F.col("warc_path"))
        .otherwise(F.concat_ws("#", "warc_path", "record_id"))
        .alias("source"),  # as the CLI's source ids: path#<urn:uuid:...>
        "url",
        "warc_path",
        "record_id",
        "position",
        "x.title",
        "x.text",
        "x.confidence",
        "x.input",
        "x.encoding",
        "x.truncated",
        "x.threshold",
        F.coalesce(F.col("error"), F.col("x.error")).alias("error"),
        F.regexp_extract(F.regexp_replace("warc_path", "/+$", ""), r"([^/]*)$", 1).alias("warc_file"),
    )
    return out


@dataclass
class JobSummary:
    """What a job run wrote."""

    output: str
    warc_files: int
    pages: int
    errors: int
    seconds: float
    skipped: int = 0  # records left out that `bpdetect extract` counts as skipped (non-HTML, non-2xx responses)

    def line(self) -> str:
        """One line for the log, e.g. "1,000 ok, 2 errors, 30 skipped from 4 WARC files in 12.3 s → out/"."""
        err = "error" if self.errors == 1 else "errors"
        return (
            f"{self.pages - self.errors:,} ok, {self.errors:,} {err}, {self.skipped:,} skipped "
            f"from {self.warc_files:,} WARC files in {self.seconds:.1f} s → {self.output}"
        )


def run_job(
    spark: SparkSession,
    paths: Sequence[str],
    output: str,
    *,
    opener: str = "auto",
    threshold: float | str | None = None,
    model: str | None = None,
    force: bool = False,
    rules: bool = True,
    max_blocks: int | None = batch.MAX_BLOCKS,
    arrow_batch_rows: int = ARROW_BATCH_ROWS,
) -> JobSummary:
    """Extract every HTML page of the WARC files at ``paths`` into Parquet at ``output`` (partitioned by warc_file,
    dynamic partition overwrite: a re-run replaces the partitions of its WARC files); returns the counts (pages and
    errors as written, and the records skipped as by ``bpdetect extract``)."""
    paths = list(paths)
    check_paths(paths)
    start = time.perf_counter()
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(arrow_batch_rows))
    # Counted while the write below reads the files; exact even when a task is retried (see SkippedCounter).
    skipped = SkippedCounter(spark)
    out = extract_warcs(
        spark, paths, opener=opener, skipped=skipped, threshold=threshold, model=model, force=force, rules=rules,
        max_blocks=max_blocks,
    )  # fmt: skip
    (
        out.sortWithinPartitions("warc_file", "position")  # deterministic row order in each file
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy("warc_file")
        .parquet(output)
    )
    names = sorted({warc_file_name(p) for p in paths})
    written = spark.read.parquet(output).where(F.col("warc_file").isin(names))
    row = written.agg(F.count(F.lit(1)).alias("pages"), F.count("error").alias("errors")).first()
    pages, errors = (int(row["pages"]), int(row["errors"])) if row is not None else (0, 0)
    return JobSummary(output, len(paths), pages, errors, time.perf_counter() - start, skipped.total)
