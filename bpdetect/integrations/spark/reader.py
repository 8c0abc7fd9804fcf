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
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

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

__all__ = ["OPENERS", "WARC_SCHEMA", "read_warcs"]

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


def _read_paths(max_bytes: int):
    def read(batches):
        for b in batches:
            for path in b.column(0).to_pylist():
                yield from _arrow_batches(warc_rows(path, max_bytes=max_bytes))

    return read


def _read_contents(max_bytes: int):
    def read(batches):
        for b in batches:
            for path, content in zip(b.column(0).to_pylist(), b.column(1).to_pylist(), strict=True):
                yield from _arrow_batches(warc_rows(path, max_bytes=max_bytes, stream=io.BytesIO(content)))

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
    spark: SparkSession, paths: Sequence[str], *, opener: str = "auto", max_bytes: int = batch.MAX_BYTES
) -> DataFrame:
    """The HTML responses of the WARC files at ``paths`` as rows of WARC_SCHEMA, in file order within each file.

    Records are chosen as by ``bpdetect extract`` (2xx HTML responses and resources; requests, metadata, images and
    redirects left out), and a record or file that cannot be read gives an error row instead of failing the task.
    """
    if opener not in OPENERS:
        raise ValueError(f"opener must be one of {', '.join(OPENERS)}, not {opener!r}")
    paths = list(paths)
    if opener == "auto":
        opener = "python" if all(scheme_of(p) in PYTHON_SCHEMES for p in paths) else "spark"
    if not paths:
        return spark.createDataFrame([], WARC_SCHEMA)
    if opener == "python":
        # One partition per path (parallelize slices exactly), so one task reads one WARC file.
        listed = spark.createDataFrame(spark.sparkContext.parallelize([(p,) for p in paths], len(paths)), "path string")
        return listed.mapInArrow(_read_paths(max_bytes), WARC_SCHEMA)
    readable, errors = _spark_side(spark, paths)
    frames = [spark.createDataFrame(errors, WARC_SCHEMA)] if errors else []
    if readable:
        files = spark.read.format("binaryFile").load(readable).select("path", "content")
        frames.append(files.mapInArrow(_read_contents(max_bytes), WARC_SCHEMA))
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out
