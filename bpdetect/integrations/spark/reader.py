"""WARC paths to a DataFrame of HTML responses, one row per page (or per error), read with bpdetect's WARC reader.

Two ways to open the files, ``opener``:

- ``"python"``: each task opens its WARC file in the executor's Python worker and streams it (local paths, file:,
  and s3://, s3a://, gs://, hdfs:// through pyarrow.fs, with the executor's own credentials); a file is never held
  in memory whole. One task per WARC file.
- ``"spark"``: Spark's own file system layer reads each file (``binaryFile``: any URI the cluster's Hadoop config
  can read, e.g. s3a:// with its credentials provider, abfs://, dbfs:/); each file is held in memory whole (2 GiB at
  most), and ``warc_path`` is the path as Spark qualifies it (``file:/...``).
- ``"auto"`` (the default): "python" when every path is local, file:, s3(a/n):// or gs:// (worker.PYTHON_SCHEMES),
  else "spark" (hdfs://, abfs://, dbfs:/, ...).

The records left out that ``bpdetect extract`` counts as skipped (non-HTML and non-2xx responses) are counted per
WARC file in a :class:`SkippedCounter` (a Spark accumulator) when one is passed to :func:`read_warcs`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from pyspark.accumulators import Accumulator, AccumulatorParam
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    MapType,
    StringType,
    StructField,
    StructType,
)

from ... import batch
from .worker import PYTHON_SCHEMES, WarcRow, scheme_of, warc_rows

__all__ = ["OPENERS", "WARC_SCHEMA", "SkippedCounter", "read_warcs"]

OPENERS = ("auto", "python", "spark")

WARC_SCHEMA = StructType(
    [
        StructField("warc_path", StringType(), False),
        StructField("position", IntegerType(), False),  # the row's place in its file: 0, 1, 2, ...
        StructField("record_id", StringType()),  # WARC-Record-ID; null for an error about the whole file
        StructField("url", StringType()),  # WARC-Target-URI
        StructField("http_headers", MapType(StringType(), StringType())),  # names lowercased; repeats joined by ", "
        StructField("charset", StringType()),  # of the HTTP Content-Type header
        StructField("html", BinaryType()),  # the response body (transfer and content encodings undone)
        StructField("error", StringType()),  # why there is no html (null when there is)
    ]
)
_BATCH_ROWS = 64  # rows per Arrow batch the reader hands on
_BATCH_BYTES = 32 * 1024 * 1024  # ... or fewer, once their HTML weighs this much


def _arrow_batches(rows: Iterator[WarcRow]):
    """WarcRows as Arrow record batches of at most _BATCH_ROWS rows / _BATCH_BYTES of HTML."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(WARC_SCHEMA)
    chunk: list[dict] = []
    weight = 0
    for row in rows:
        chunk.append(row._asdict())
        weight += len(row.html or b"")
        if len(chunk) >= _BATCH_ROWS or weight >= _BATCH_BYTES:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)
            chunk, weight = [], 0
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)


class _MaxPerFile(AccumulatorParam):
    """WARC path → skipped records, merged by taking the larger count: a file re-read (a retried task, a second action
    on the same DataFrame) gives the same count again instead of adding to it."""

    def zero(self, value: dict[str, int]) -> dict[str, int]:
        return {}

    def addInPlace(self, value1: dict[str, int], value2: dict[str, int]) -> dict[str, int]:
        for path, n in value2.items():
            value1[path] = max(n, value1.get(path, 0))
        return value1


class SkippedCounter:
    """Records :func:`read_warcs` skipped, per WARC file, as ``bpdetect extract`` counts them (read after an action)."""

    def __init__(self, spark: SparkSession) -> None:
        self.accumulator: Accumulator[dict[str, int]] = spark.sparkContext.accumulator({}, _MaxPerFile())

    @property
    def by_file(self) -> dict[str, int]:
        """Skipped records per WARC file (its ``warc_path``) read so far, for the files that had any."""
        return dict(self.accumulator.value)

    @property
    def total(self) -> int:
        """Skipped records of all WARC files read so far."""
        return sum(self.accumulator.value.values())


def _counted_rows(path: str, skipped: Accumulator | None, **kw) -> Iterator[WarcRow]:
    """warc_rows(path, **kw), adding the file's skipped count to ``skipped`` once it has been read to the end."""
    count = 0

    def skip(_item: object) -> None:
        nonlocal count
        count += 1

    yield from warc_rows(path, on_skipped=skip, **kw)
    if skipped is not None and count:
        skipped.add({path: count})


def _read_paths(max_bytes: int, skipped: Accumulator | None):
    def read(batches):
        for b in batches:
            for path in b.column(0).to_pylist():
                yield from _arrow_batches(_counted_rows(path, skipped, max_bytes=max_bytes))

    return read


def _read_contents(max_bytes: int, skipped: Accumulator | None):
    def read(batches):
        for b in batches:
            for path, content in zip(b.column(0).to_pylist(), b.column(1).to_pylist(), strict=True):
                rows = _counted_rows(path, skipped, max_bytes=max_bytes, stream=io.BytesIO(content))
                yield from _arrow_batches(rows)

    return read


def _spark_side(spark: SparkSession, paths: Sequence[str]) -> tuple[list[str], list[WarcRow]]:
    """Paths Spark can read as whole files, and an error row for each it cannot (missing, a directory, > 2 GiB)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    readable: list[str] = []
    errors: list[WarcRow] = []
    for path in paths:
        try:
            hpath = jvm.org.apache.hadoop.fs.Path(path)
            status = hpath.getFileSystem(conf).getFileStatus(hpath)
            reason = (
                "is a directory" if status.isDirectory()
                else "larger than the 2 GiB Spark reads as one value (use opener='python')"
                if status.getLen() >= 2**31 - 1 else None
            )  # fmt: skip
        except Exception as exc:  # py4j wraps FileNotFoundException and the like
            text = str(exc)
            reason = "no such file or directory" if "FileNotFoundException" in text else f"cannot open: {text[:500]}"
        if reason is None:
            readable.append(path)
        else:
            errors.append(WarcRow(path, 0, None, None, None, None, None, reason))
    return readable, errors


def read_warcs(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    opener: str = "auto",
    max_bytes: int = batch.MAX_BYTES,
    skipped: SkippedCounter | None = None,
) -> DataFrame:
    """The HTML responses of the WARC files at ``paths`` as rows of WARC_SCHEMA, in file order within each file.

    Records are chosen as by ``bpdetect extract`` (2xx HTML responses and resources; requests, metadata, images and
    redirects left out), and a record or file that cannot be read gives an error row instead of failing the task.
    ``skipped`` counts the records left out that ``bpdetect extract`` counts as skipped, per file, as the rows are read.
    """
    if opener not in OPENERS:
        raise ValueError(f"opener must be one of {', '.join(OPENERS)}, not {opener!r}")
    paths = list(paths)
    if opener == "auto":
        opener = "python" if all(scheme_of(p) in PYTHON_SCHEMES for p in paths) else "spark"
    if not paths:
        return spark.createDataFrame([], WARC_SCHEMA)
    acc = skipped.accumulator if skipped is not None else None  # the closures carry the accumulator alone
    if opener == "python":
        # One partition per path (parallelize slices exactly), so one task reads one WARC file.
        listed = spark.createDataFrame(spark.sparkContext.parallelize([(p,) for p in paths], len(paths)), "path string")
        return listed.mapInArrow(_read_paths(max_bytes, acc), WARC_SCHEMA)
    readable, errors = _spark_side(spark, paths)
    frames = [spark.createDataFrame(errors, WARC_SCHEMA)] if errors else []
    if readable:
        files = spark.read.format("binaryFile").load(readable).select("path", "content")
        frames.append(files.mapInArrow(_read_contents(max_bytes, acc), WARC_SCHEMA))
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out
