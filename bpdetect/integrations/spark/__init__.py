"""Apache Spark integration: a vectorized UDF, a WARC reader and a Parquet job (``pip install "bpdetect[spark]"``).

- :func:`extract_udf` / :func:`extract_column`: a pandas (Arrow) UDF from an HTML column (binary or string) and
  optional url and charset columns to ``struct<text, title, confidence, input, encoding, truncated, threshold,
  error>``; pages that cannot be processed get ``error`` set, never a failed task.
- :func:`read_warcs`: WARC paths (local, file:, s3://, s3a://, hdfs://, ...) to rows of (warc_path, position,
  record_id, url, http_headers, charset, html, error), read with the same warcio-based reader as ``bpdetect extract``;
  a :class:`SkippedCounter` counts the records it skips (non-HTML, non-2xx), as the CLI's summary does.
- :func:`run_job`: both, written as Parquet partitioned by WARC file name (dynamic partition overwrite: re-runs
  replace, never duplicate); also ``bpdetect spark``, ``python -m bpdetect.integrations.spark`` and
  ``spark-submit <this package>/__main__.py``.

The model is loaded once per executor Python process (a module-level cache in :mod:`.worker`; Spark reuses its
Python workers across tasks), never shipped with tasks. Importing this package does not import pyspark; its names
are loaded on first use, and ``import bpdetect`` never imports this package.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "OUTPUT_COLUMNS",
    "RESULT_SCHEMA",
    "WARC_SCHEMA",
    "JobSummary",
    "SkippedCounter",
    "extract_column",
    "extract_udf",
    "extract_warcs",
    "read_warcs",
    "run_job",
]

_LAZY = {
    "RESULT_SCHEMA": "udf",
    "extract_column": "udf",
    "extract_udf": "udf",
    "WARC_SCHEMA": "reader",
    "read_warcs": "reader",
    "SkippedCounter": "reader",
    "OUTPUT_COLUMNS": "job",
    "JobSummary": "job",
    "extract_warcs": "job",
    "run_job": "job",
}


def __getattr__(name: str) -> Any:
    """Import the pyspark-side names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
