"""Pages/s of decode, parse and segment over the shared corpora, and the ratio to lxml's parse-only time."""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from lxml import html as lxml_html

from bpdetect.decode import decode
from bpdetect.dom import clean_tree, page_lang, page_title, parse_html
from bpdetect.segment import _walk

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def load_pages(root: Path, limit: int | None) -> list[bytes]:
    """Read raw page bytes from every corpus under root (index.jsonl + pages/*.html.gz)."""
    pages: list[bytes] = []
    for index in sorted(root.glob("*/index.jsonl")):
        for line in index.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            with gzip.open(index.parent / rec["html"], "rb") as fh:
                pages.append(fh.read())
            if limit and len(pages) >= limit:
                return pages
    return pages


def main() -> None:
    """Time each stage over all pages, best of N repeats, and print a table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--limit", type=int, default=None, help="at most this many pages")
    ap.add_argument("--repeat", type=int, default=3, help="repeats; the best time of each stage is kept")
    args = ap.parse_args()
    pages = load_pages(args.root, args.limit)
    if not pages:
        raise SystemExit(f"no pages under {args.root}")
    mb = sum(map(len, pages)) / 1e6
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    best = {"lxml_parse_only": 1e9, "decode": 1e9, "parse+clean": 1e9, "segment": 1e9}
    n_blocks = 0
    for _ in range(args.repeat):
        texts = []
        t0 = time.perf_counter()
        for raw in pages:
            texts.append(decode(raw).text)
        best["decode"] = min(best["decode"], time.perf_counter() - t0)
        utf8 = [t.encode("utf-8", "replace") for t in texts]
        t0 = time.perf_counter()
        for data in utf8:
            try:
                lxml_html.document_fromstring(data, parser=parser)
            except Exception:
                pass
        best["lxml_parse_only"] = min(best["lxml_parse_only"], time.perf_counter() - t0)
        roots = []
        t0 = time.perf_counter()
        for text in texts:
            root = parse_html(text)
            if root is not None:
                page_title(root)
                page_lang(root)
                clean_tree(root, drop_hidden=False)
                roots.append(root)
        best["parse+clean"] = min(best["parse+clean"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        n_blocks = 0
        for root in roots:
            n_blocks += len(_walk(root, None)[0])
        best["segment"] = min(best["segment"], time.perf_counter() - t0)
    total = best["decode"] + best["parse+clean"] + best["segment"]
    n = len(pages)
    print(f"pages: {n}  input: {mb:.1f} MB  blocks: {n_blocks}  (best of {args.repeat})")
    print(f"{'stage':<22}{'seconds':>9}{'pages/s':>10}")
    for name, sec in [*best.items(), ("decode+parse+segment", total)]:
        print(f"{name:<22}{sec:>9.2f}{n / sec:>10.0f}")
    print(f"ratio (decode+parse+segment) / lxml parse-only: {total / best['lxml_parse_only']:.2f}")


if __name__ == "__main__":
    main()
