"""Label statistics per corpus: segment every page, align its blocks to the gold, and report how labelable it is.

Usage: ``python -m training.label_stats ROOT [--corpora a,b] [--jobs N] [--threshold 0.5] [--include-suspect]``

Per corpus it prints pages, blocks, the share of content blocks (overlap ≥ threshold) by count and by tokens, the
share of gold tokens that fall in content blocks (the ceiling of token recall for a perfect block classifier), the
share of gold tokens found anywhere in the page's blocks as a bag (what any block-level extractor could reach; the
gap to the ceiling is what block granularity and the monotone alignment lose), and a histogram of block overlaps.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bpdetect.segment import segment_html
from training.align import DEFAULT_THRESHOLD, align_blocks, tokenize
from training.corpora import Page, iter_pages

# Overlap histogram bins: exactly 0 and exactly 1 get their own columns, they hold most blocks.
_BIN_EDGES = (0.25, 0.5, 0.75)
_BIN_NAMES = ("=0", "(0,.25)", "[.25,.5)", "[.5,.75)", "[.75,1)", "=1")


@dataclass
class PageStats:
    """What one page contributes to its corpus's row."""

    corpus: str
    id: str
    n_blocks: int = 0
    n_content: int = 0
    tokens: int = 0
    content_tokens: int = 0
    gold_tokens: int = 0
    recovered: int = 0  # gold tokens aligned inside content blocks
    bag_found: int = 0  # gold tokens present in the page's block text (multiset), order ignored
    hist: np.ndarray = field(default_factory=lambda: np.zeros(len(_BIN_NAMES), dtype=np.int64))
    seg_s: float = 0.0
    align_s: float = 0.0
    error: str | None = None


def _histogram(overlap: np.ndarray) -> np.ndarray:
    inner = (overlap > 0) & (overlap < 1)
    binned = np.searchsorted(np.asarray(_BIN_EDGES), overlap[inner], side="right") + 1
    hist = np.bincount(binned, minlength=len(_BIN_NAMES) - 1)[: len(_BIN_NAMES) - 1].astype(np.int64)
    hist[0] = int(np.count_nonzero(overlap <= 0))
    return np.append(hist, np.count_nonzero(overlap >= 1))


def page_stats(page: Page, threshold: float = DEFAULT_THRESHOLD) -> PageStats:
    """Segment, align and summarise one page."""
    st = PageStats(page.corpus, page.id)
    t0 = time.perf_counter()
    try:
        doc = segment_html(page.html)
    except Exception as exc:  # a crash here is a segmenter bug to report, not a reason to stop the whole run
        st.error = f"{type(exc).__name__}: {exc}"
        return st
    texts = [b.text for b in doc.blocks]
    t1 = time.perf_counter()
    al = align_blocks(texts, page.gold)
    t2 = time.perf_counter()
    content = al.overlap >= threshold
    st.n_blocks = len(texts)
    st.n_content = int(content.sum())
    st.tokens = int(al.n_tokens.sum())
    st.content_tokens = int(al.n_tokens[content].sum())
    st.gold_tokens = al.n_gold_tokens
    st.recovered = int(al.n_matched[content].sum())
    gold_bag = Counter(t for line in page.gold for t in tokenize(line))
    page_bag = Counter(t for text in texts for t in tokenize(text))
    st.bag_found = sum((gold_bag & page_bag).values())
    st.hist = _histogram(al.overlap)
    st.seg_s, st.align_s = t1 - t0, t2 - t1
    return st


def _work(args: tuple[Page, float]) -> PageStats:
    return page_stats(*args)


def _pct(num: float, den: float) -> str:
    return f"{100 * num / den:5.1f}" if den else "    -"


def format_table(stats: Iterable[PageStats]) -> str:
    """Per-corpus table (plus a total row) of the page statistics."""
    by_corpus: dict[str, list[PageStats]] = defaultdict(list)
    for st in stats:
        by_corpus[st.corpus].append(st)
    head = (
        f"{'corpus':<18} {'pages':>5} {'blocks':>7} {'cont%':>5} {'ctok%':>5} {'ceil%':>5} {'bag%':>5} "
        f"{'p10':>5} | " + " ".join(f"{n:>8}" for n in _BIN_NAMES) + "  (% of blocks)"
    )
    lines = [head, "-" * len(head)]
    rows = [*sorted(by_corpus.items()), ("TOTAL", [s for v in by_corpus.values() for s in v])]
    for name, group in rows:
        ok = [s for s in group if s.error is None]
        blocks = sum(s.n_blocks for s in ok)
        hist = np.sum([s.hist for s in ok], axis=0) if ok else np.zeros(len(_BIN_NAMES))
        # 10th percentile of per-page ceilings: how bad the worst-aligned pages are.
        per_page = [s.recovered / s.gold_tokens for s in ok if s.gold_tokens]
        p10 = 100 * float(np.percentile(per_page, 10)) if per_page else float("nan")
        lines.append(
            f"{name:<18} {len(group):>5} {blocks:>7} "
            f"{_pct(sum(s.n_content for s in ok), blocks)} "
            f"{_pct(sum(s.content_tokens for s in ok), sum(s.tokens for s in ok))} "
            f"{_pct(sum(s.recovered for s in ok), sum(s.gold_tokens for s in ok))} "
            f"{_pct(sum(s.bag_found for s in ok), sum(s.gold_tokens for s in ok))} "
            f"{p10:5.1f} | " + " ".join(f"{_pct(h, blocks):>8}" for h in hist)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the label statistics over a dataset root and print the table."""
    ap = argparse.ArgumentParser(prog="python -m training.label_stats", description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="folder of corpora (or one corpus folder) in the shared layout")
    ap.add_argument("--corpora", help="comma-separated corpus names (default: all)")
    ap.add_argument("--jobs", "-j", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="overlap threshold for content")
    ap.add_argument("--include-suspect", action="store_true", help="keep pages listed in suspect-pages.tsv")
    ap.add_argument("--worst", type=int, default=0, help="also list the N pages with the lowest ceiling")
    args = ap.parse_args(argv)

    corpora = args.corpora.split(",") if args.corpora else None
    t0 = time.perf_counter()
    pages = ((p, args.threshold) for p in iter_pages(args.root, corpora, skip_suspect=not args.include_suspect))
    if args.jobs > 1:
        with mp.get_context("fork" if sys.platform == "linux" else "spawn").Pool(args.jobs) as pool:
            stats = list(pool.imap(_work, pages, chunksize=8))
    else:
        stats = [_work(p) for p in pages]
    wall = time.perf_counter() - t0

    print(f"threshold {args.threshold}; cont% = content blocks, ctok% = tokens in content blocks, ceil% = gold tokens")
    print("recovered by content blocks (perfect-classifier recall), bag% = gold tokens present in the page's blocks,")
    print("p10 = 10th percentile of per-page ceil%; histogram = block overlap fractions\n")
    print(format_table(stats))
    errors = [s for s in stats if s.error]
    for s in errors:
        print(f"segment error: {s.corpus}/{s.id}: {s.error}")
    if args.worst:
        worst = sorted((s for s in stats if s.gold_tokens and not s.error), key=lambda s: s.recovered / s.gold_tokens)
        print("\nlowest ceilings (ceil%, bag%, gold tokens):")
        for s in worst[: args.worst]:
            print(
                f"  {s.corpus}/{s.id}: {_pct(s.recovered, s.gold_tokens)} {_pct(s.bag_found, s.gold_tokens)} "
                f"{s.gold_tokens}"
            )
    seg = sum(s.seg_s for s in stats)
    align = sum(s.align_s for s in stats)
    print(
        f"\n{len(stats)} pages in {wall:.1f} s wall with {args.jobs} job(s); CPU sums: segment {seg:.1f} s, "
        f"align {align:.1f} s"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
