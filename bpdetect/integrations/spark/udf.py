"""The vectorized (pandas / Arrow) UDF: an HTML column, with optional url and charset columns, to a struct of the
content text, title, page-level confidence and an error (null when the page was extracted)."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

from ... import batch
from .worker import RESULT_FIELDS, ExtractOptions, extract_rows

__all__ = ["RESULT_SCHEMA", "extract_column", "extract_udf"]

# The UDF's result: the fields of `bpdetect extract --format json` records (text, title, input, encoding, truncated,
# threshold) plus confidence (see worker.content_score) and error (why the page has no result; null when it has).
RESULT_SCHEMA = StructType(
    [
        StructField("text", StringType()),
        StructField("title", StringType()),
        StructField("confidence", DoubleType()),
        StructField("input", StringType()),
        StructField("encoding", StringType()),
        StructField("truncated", BooleanType()),
        StructField("threshold", DoubleType()),
        StructField("error", StringType()),
    ]
)
assert tuple(RESULT_SCHEMA.fieldNames()) == RESULT_FIELDS


def _options(threshold: float | str | None, model: str | None, force: bool, rules: bool, input: str,
             max_blocks: int | None) -> ExtractOptions:
    opts = batch.Options(input=input, threshold=batch.parse_threshold(threshold), model=model, force=force,
                         rules=rules, max_blocks=max_blocks)
    batch.validate_options(opts)  # a bad preset or input kind fails here, on the driver, not in every task
    return ExtractOptions(threshold=opts.threshold, model=model, force=force, rules=rules, input=input,
                          max_blocks=max_blocks)


def extract_udf(
    *,
    threshold: float | str | None = None,
    model: str | None = None,
    force: bool = False,
    rules: bool = True,
    input: str = "auto",
    max_blocks: int | None = batch.MAX_BLOCKS,
):
    """A pandas UDF ``(html, url, charset) -> struct<RESULT_SCHEMA>``; html is binary or string, url/charset strings.

    The function Spark ships to the executors holds only an ExtractOptions; the model is loaded by the first batch
    a Python worker process sees and kept for the process's life (see ``worker.detector``).
    """
    opts = _options(threshold, model, force, rules, input, max_blocks)

    def bpdetect_extract(html: pd.Series, url: pd.Series, charset: pd.Series) -> pd.DataFrame:
        def cells(s: pd.Series) -> list:
            return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in s]

        rows = extract_rows(cells(html), cells(url), cells(charset), opts)
        return pd.DataFrame.from_records(rows, columns=list(RESULT_FIELDS))

    return pandas_udf(bpdetect_extract, returnType=RESULT_SCHEMA)  # type: ignore[call-overload]


def extract_column(
    html: Column | str,
    url: Column | str | None = None,
    charset: Column | str | None = None,
    **options,
) -> Column:
    """The extraction struct of a page column (``options`` as for :func:`extract_udf`); url and charset optional."""

    def col(c: Column | str | None) -> Column:
        if c is None:
            return F.lit(None).cast("string")
        return F.col(c) if isinstance(c, str) else c

    return extract_udf(**options)(col(html), col(url), col(charset))
