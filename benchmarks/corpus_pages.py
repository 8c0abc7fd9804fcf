"""Every n-th page of the shared corpora, in a fixed order: the page sample of the speed and Spark benchmarks."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any


def iter_corpus_pages(root: Path, every: int, limit: int | None = None) -> Iterator[tuple[str, dict[str, Any], bytes]]:
    """(corpus name, index record, raw page bytes) of every ``every``-th page of every corpus under root."""

    def sampled() -> Iterator[tuple[str, dict[str, Any], bytes]]:
        k = 0
        for index in sorted(root.glob("*/index.jsonl")):
            for line in index.read_text(encoding="utf-8").splitlines():
                k += 1
                if (k - 1) % every:
                    continue
                rec = json.loads(line)
                with gzip.open(index.parent / rec["html"], "rb") as fh:
                    yield index.parent.name, rec, fh.read()

    return islice(sampled(), limit or None)
