"""Compare estimators for the block classifier on the same cached block matrices and site-wise split.

Each candidate is fitted on the training pages (token-share weights, the same short-block sample as `bpdetect
train`), its threshold tuned on the validation pages, and scored by the alignment token F1 per page (mean over pages,
then macro over corpora). Run after `bpdetect train ... --cache .cache/blocks` so the matrices are cached.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bpdetect.model import BlockClassifier
from training.dataset import load_blocksets
from training.train import (
    MIN_GOLD_REACH,
    SEED,
    SHORT_BLOCK_SAMPLE,
    SHORT_BLOCK_TOKENS,
    THRESHOLD_GRID,
    fbeta_by_threshold,
    page_scores,
    stack,
)

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def candidates() -> dict[str, object]:
    """The estimators compared (all seeded)."""
    return {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500)),
        "extra trees (100)": ExtraTreesClassifier(
            n_estimators=100, min_samples_leaf=20, max_features=0.3, n_jobs=2, random_state=SEED
        ),
        "hist gradient boosting": HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.12, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
            early_stopping=False, random_state=SEED,
        ),
        "bpdetect (HGB + context pass)": BlockClassifier(random_state=SEED),
    }


def main() -> None:
    """Fit every candidate and print validation scores and fit times."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--cache", type=Path, default=Path(".cache/blocks"))
    ap.add_argument("--input", default="html", choices=["html", "text"])
    args = ap.parse_args()
    sets = load_blocksets([args.root], args.input, cache_dir=args.cache)
    tr = stack([bs.subset(~bs.page_val & (bs.page_reach >= MIN_GOLD_REACH)) for bs in sets])
    va = stack([bs.subset(bs.page_val) for bs in sets if bs.page_val.any()])
    short = tr.n_tokens <= SHORT_BLOCK_TOKENS
    rows = ~short | (np.random.default_rng(SEED).random(len(tr.y)) < SHORT_BLOCK_SAMPLE)
    weight = np.where(short, tr.weight / SHORT_BLOCK_SAMPLE, tr.weight)
    weight = weight / weight[rows].mean()
    print(f"train rows fitted: {int(rows.sum())} of {len(tr.y)}; validation pages: {len(va.page_gold_tokens)}")
    print("| estimator | fit s | macro F1 (corpora) | mean F1 (pages) | threshold |\n|---|---:|---:|---:|---:|")
    for name, est in candidates().items():
        t0 = time.perf_counter()
        if isinstance(est, BlockClassifier):
            est.fit(tr.X, tr.y, sample_weight=weight, doc=tr.doc, site=tr.site, chars=tr.chars, fit_rows=rows)
            prob = est.predict_proba(va.X, doc=va.doc, chars=va.chars)[:, 1]
        else:
            fit_kw = {"sample_weight": weight[rows]}
            if hasattr(est, "steps"):
                fit_kw = {f"{est.steps[-1][0]}__sample_weight": weight[rows]}
            est.fit(tr.X[rows], tr.y[rows], **fit_kw)
            prob = est.predict_proba(va.X)[:, 1]
        fit_s = time.perf_counter() - t0
        curve = fbeta_by_threshold(prob, va)[1.0]
        thr = float(THRESHOLD_GRID[int(np.argmax(curve))])
        f1 = page_scores(prob >= thr, va).f1
        macro = np.mean([f1[va.page_corpus == c].mean() for c in np.unique(va.page_corpus)])
        print(f"| {name} | {fit_s:.0f} | {macro:.3f} | {f1.mean():.3f} | {thr:.2f} |", flush=True)


if __name__ == "__main__":
    main()
