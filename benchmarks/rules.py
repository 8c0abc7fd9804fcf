"""What the boilerplate rules (bpdetect.boilerplate) do on the corpora's validation pages, per input kind.

For every validation page (site-wise split, the sites the shipped models never saw), the shipped model scores the
blocks (HTML, or the page rendered as a naive scraper's text dump for the text model), then the rules run on the kept
blocks as the Detector runs them. Printed per kind: lines the rules drop, how many of those are clutter by the gold
alignment labels (the text model's label policy applied), per rule, and the validation macro F1 (alignment token F1
per page, mean per corpus) without and with the rules.

Usage: python benchmarks/rules.py [--root ../shared/datasets] [--cache .cache/blocks] [--kinds html text] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from bpdetect.boilerplate import rule_at, text_rules_for
from bpdetect.extract import Detector
from training.corpora import iter_pages, list_corpora
from training.dataset import load_blocksets, page_document
from training.train import META_LINE_POLICY, page_scores, stack

DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def _page_blocks(root: Path, kind: str) -> list[list]:
    """Blocks of every page, in the order of the labeled block sets (pages that give no blocks are left out)."""
    out = []
    for name in list_corpora(root):
        for page in iter_pages(root, [name]):
            try:
                doc = page_document(page, kind)
            except Exception:  # the block sets skip such pages too
                continue
            if doc is not None and doc.blocks:
                out.append(list(doc.blocks))
    return out


def check(root: Path, kind: str, cache: Path | None, jobs: int = 1) -> dict:
    """Rule counts and validation macro F1 without / with the rules for one input kind."""
    sets = load_blocksets([root], kind, cache_dir=cache, n_jobs=jobs)
    st = stack(sets, policy=META_LINE_POLICY if kind == "text" else ())
    pages = _page_blocks(root, kind)
    if len(pages) != len(st.page_gold_tokens):
        raise SystemExit(f"{kind}: {len(pages)} pages segmented but {len(st.page_gold_tokens)} labeled")
    val_pages = np.concatenate([bs.page_val for bs in sets])
    bundle = Detector.default().bundle(kind)
    if bundle.lexicon is not None and st.texts is None:
        raise SystemExit("the model has a lexical stage, but the cached blocks carry no texts: use a fresh --cache")
    X = st.X if bundle.lexicon is None else bundle.design(st.X, st.texts)
    prob = bundle.classifier.predict_proba(X, doc=st.doc, chars=st.chars)[:, 1]
    kept = prob >= bundle.threshold
    ruled = np.zeros(len(kept), dtype=bool)
    names: Counter[str] = Counter()
    clutter_names: Counter[str] = Counter()
    offsets = np.searchsorted(st.doc, np.arange(len(pages)))
    for p in np.flatnonzero(val_pages):
        blocks, start = pages[p], offsets[p]
        for j in np.flatnonzero(kept[start : start + len(blocks)]):
            name = rule_at(blocks, int(j), text_rules=text_rules_for(kind))
            if name is not None:
                ruled[start + j] = True
                names[name] += 1
                clutter_names[name] += int(st.y[start + j] == 0)
    f1 = []
    for sel in (kept, kept & ~ruled):
        ps = page_scores(sel, st)
        corpora = np.unique(st.page_corpus[val_pages])
        f1.append(float(np.mean([ps.f1[val_pages & (st.page_corpus == c)].mean() for c in corpora])))
    return {
        "pages": int(val_pages.sum()),
        "dropped": int(ruled.sum()),
        "clutter": int((ruled & (st.y == 0)).sum()),
        "per_rule": {n: (c, clutter_names[n]) for n, c in names.most_common()},
        "f1": f1,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the table per input kind; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="dataset folder (default: %(default)s)")
    ap.add_argument("--cache", type=Path, default=None, help="labeled-block cache folder (as for bpdetect train)")
    ap.add_argument("--kinds", nargs="+", default=["html", "text"], choices=["html", "text"])
    ap.add_argument("--jobs", type=int, default=2, help="processes for labeling pages not in the cache (default 2)")
    args = ap.parse_args(argv)
    for kind in args.kinds:
        r = check(args.root, kind, args.cache, args.jobs)
        print(
            f"{kind}: {r['pages']} validation pages; the rules drop {r['dropped']} kept lines, {r['clutter']} of them "
            f"clutter by gold; macro F1 {r['f1'][0]:.4f} without, {r['f1'][1]:.4f} with the rules"
        )
        for name, (n, clutter) in r["per_rule"].items():
            print(f"    {name:<16} {n:6d} dropped, {clutter:6d} clutter by gold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
