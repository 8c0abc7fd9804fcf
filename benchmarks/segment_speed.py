"""Pages/s of decode, parse and segment over the shared corpora, and the ratio to lxml's parse-only time.

The three stages are the ones ``bpdetect.segment.segment_html`` runs, timed separately:

- decode:  page bytes to the UTF-8 bytes libxml2 reads (BOM, declared/meta charset, UTF-8, detector);
- parse:   libxml2 parse, title and language, dropping script/style/... (``clean_tree``);
- segment: the walk over the cleaned tree that emits Blocks, with their text counts.

The baseline is lxml's own parse of the same UTF-8 bytes (``lxml.html.document_fromstring``), with no cleaning and
no walk: the ratio says how much slower a full segmentation is than merely parsing the page. Each stage keeps its
best time over ``--repeat`` rounds, which damps the noise of a shared machine.

Usage: python benchmarks/segment_speed.py [--root DIR] [--limit N] [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from lxml import html as lxml_html

from bpdetect.segment import _parse_page, _to_utf8, _walk, segment_html

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def load_pages(root: Path, limit: int | None) -> list[bytes]:
    """Read raw page bytes from every corpus under root (index.jsonl + pages/*.html.gz), in a fixed order."""
    pages: list[bytes] = []
    for index in sorted(root.glob("*/index.jsonl")):
        for line in index.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            with gzip.open(index.parent / rec["html"], "rb") as fh:
                pages.append(fh.read())
            if limit and len(pages) >= limit:
                return pages
    return pages


def time_stages(pages: list[bytes], repeat: int) -> tuple[dict[str, float], int]:
    """Best time in seconds of each stage over ``repeat`` rounds, and the number of blocks produced."""
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    best = {"lxml_parse_only": float("inf"), "decode": float("inf"), "parse": float("inf"), "segment": float("inf")}
    n_blocks = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        utf8 = [_to_utf8(raw, None)[0] for raw in pages]
        best["decode"] = min(best["decode"], time.perf_counter() - t0)

        t0 = time.perf_counter()
        for data in utf8:
            try:
                lxml_html.document_fromstring(data, parser=parser)
            except Exception:  # lxml.html raises on empty documents; the baseline just moves on
                pass
        best["lxml_parse_only"] = min(best["lxml_parse_only"], time.perf_counter() - t0)

        t0 = time.perf_counter()
        roots = [root for root, *_ in map(_parse_page, utf8) if root is not None]
        best["parse"] = min(best["parse"], time.perf_counter() - t0)

        t0 = time.perf_counter()
        n_blocks = sum(len(_walk(root, None)[0]) for root in roots)
        best["segment"] = min(best["segment"], time.perf_counter() - t0)
        del roots
    return best, n_blocks


def main() -> None:
    """Time each stage over the pages and print a table and the ratio to lxml's parse-only time."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder of corpora (default: %(default)s)")
    ap.add_argument("--limit", type=int, default=None, help="time at most this many pages (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the best time of each stage is kept (default: 3)")
    args = ap.parse_args()
    pages = load_pages(args.root, args.limit)
    if not pages:
        raise SystemExit(f"no pages under {args.root}")
    # The stages must add up to the real thing: check that they yield what segment_html yields on a few pages.
    for raw in pages[:20]:
        data = _to_utf8(raw, None)[0]
        root = _parse_page(data)[0]
        staged = len(_walk(root, None)[0]) if root is not None else 0
        if staged != len(segment_html(raw).blocks):
            raise SystemExit("benchmark stages diverge from segment_html")
    best, n_blocks = time_stages(pages, args.repeat)
    total = best["decode"] + best["parse"] + best["segment"]
    n = len(pages)
    mb = sum(map(len, pages)) / 1e6
    print(f"pages: {n}  input: {mb:.1f} MB  blocks: {n_blocks}  (best of {args.repeat})")
    print(f"{'stage':<22}{'seconds':>9}{'pages/s':>10}")
    for name, sec in [*best.items(), ("decode+parse+segment", total)]:
        print(f"{name:<22}{sec:>9.2f}{n / sec:>10.0f}")
    print(f"ratio (decode+parse+segment) / lxml parse-only: {total / best['lxml_parse_only']:.2f}")


if __name__ == "__main__":
    main()
