"""Evaluate a model on labeled corpora: token P/R/F1 per page (end to end) and block-level scores, per corpus."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bpdetect.extract import Detector
from bpdetect.persist import ModelBundle

from .align import DEFAULT_THRESHOLD, align_blocks, token_prf
from .corpora import Page, iter_pages, list_corpora
from .dataset import BlockSet, page_document
from .splits import is_validation
from .train import THRESHOLD_GRID, page_scores, stack

__all__ = ["EvalReport", "evaluate", "page_selection", "summarize", "write_plots"]


def page_selection(page: Page, model_corpora: set[str], split: str) -> bool:
    """Whether a page is evaluated: ``val`` = site-wise validation share, ``all`` = every page, ``auto`` = the
    validation share of corpora the model was trained on and every page of the others."""
    if split == "all":
        return True
    if split == "val" or page.corpus in model_corpora:
        return is_validation(page.corpus, page.group)
    return True


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Mean and median of a list of scores (NaN-free; empty gives zeros)."""
    if not values:
        return {"mean": 0.0, "median": 0.0}
    return {"mean": float(statistics.fmean(values)), "median": float(statistics.median(values))}


@dataclass
class EvalReport:
    """Scores per corpus plus the inputs needed to plot them."""

    data: dict[str, Any]

    def write(self, path: Path) -> None:
        """Write the report as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _block_prf(pred: np.ndarray, gold: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    tp = float((weight * (pred & gold)).sum())
    fp = float((weight * (pred & ~gold)).sum())
    fn = float((weight * (~pred & gold)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def evaluate(
    detector: Detector,
    roots: Sequence[Path],
    input_kind: str = "html",
    *,
    corpora: Sequence[str] | None = None,
    split: str = "auto",
    threshold: float | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Run the detector end to end on the selected pages of every corpus and score it against the gold."""
    bundle: ModelBundle = detector.bundle(input_kind)
    model_corpora = {c["name"] for c in (bundle.metadata.get("training") or {}).get("corpora", [])}
    thr = bundle.threshold_for(threshold)
    per_corpus: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    t0 = time.perf_counter()
    for root in roots:
        for name in list_corpora(root):
            if corpora and name not in corpora:
                continue
            f1s: list[float] = []
            ps: list[float] = []
            rs: list[float] = []
            rows: list[tuple] = []
            ids: list[str] = []
            for page in iter_pages(root, [name]):
                if not page_selection(page, model_corpora, split):
                    continue
                doc = page_document(page, input_kind)
                if progress:
                    progress(1)
                if doc is None:
                    continue
                ext = detector.extract_document(doc, threshold=thr)
                probs = np.array([sb.score for sb in ext.blocks])
                p, r, f = token_prf(ext.text, page.gold_text)
                ps.append(p)
                rs.append(r)
                f1s.append(f)
                ids.append(page.id)
                if doc.blocks:
                    al = align_blocks([b.text for b in doc.blocks], page.gold)
                    rows.append((probs, al.overlap, al.n_tokens, al.n_matched, al.n_gold_tokens))
            if not f1s:
                continue
            entry: dict[str, Any] = {
                "pages": len(f1s),
                "token_f1": summarize(f1s),
                "token_precision": summarize(ps),
                "token_recall": summarize(rs),
                "page_f1": dict(zip(ids, f1s, strict=True)),
            }
            if rows:
                prob = np.concatenate([r[0] for r in rows])
                overlap = np.concatenate([r[1] for r in rows])
                ntok = np.concatenate([r[2] for r in rows])
                gold = overlap >= DEFAULT_THRESHOLD
                entry["block"] = _block_prf(prob >= thr, gold, np.ones(len(gold)))
                entry["block_token_weighted"] = _block_prf(prob >= thr, gold, ntok.astype(np.float64))
                bs = BlockSet(
                    corpus=name, input=input_kind, X=np.zeros((len(prob), 0), np.float32), overlap=overlap,
                    n_tokens=ntok, n_matched=np.concatenate([r[3] for r in rows]),
                    chars=np.zeros(len(prob)), page=np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows]),
                    page_ids=np.array(ids[: len(rows)]), page_groups=np.array(ids[: len(rows)]),
                    page_gold_tokens=np.array([r[4] for r in rows]), page_val=np.ones(len(rows), bool),
                    page_reach=np.ones(len(rows)),
                )
                st = stack([bs])
                pr_curve = []
                for t in THRESHOLD_GRID:
                    sc = page_scores(prob >= t, st)
                    pr_curve.append((float(t), float(sc.precision.mean()), float(sc.recall.mean())))
                curves[name] = pr_curve
            per_corpus[name] = entry
    macro = [c["token_f1"]["mean"] for c in per_corpus.values()]
    data = {
        "model_input": input_kind,
        "threshold": thr,
        "split": split,
        "seconds": round(time.perf_counter() - t0, 1),
        "macro_token_f1_mean": float(np.mean(macro)) if macro else 0.0,
        "per_corpus": per_corpus,
        "pr_curves": curves,
    }
    return EvalReport(data)


def write_plots(report: EvalReport, out_dir: Path) -> list[Path]:
    """PNG plots: token F1 (mean, median) per corpus, and mean precision/recall over the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    per = report.data["per_corpus"]
    names = sorted(per)
    if names:
        fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
        x = np.arange(len(names))
        ax.bar(x - 0.2, [per[n]["token_f1"]["mean"] for n in names], 0.4, label="mean")
        ax.bar(x + 0.2, [per[n]["token_f1"]["median"] for n in names], 0.4, label="median")
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("token F1 per page")
        ax.set_title(f"bpdetect ({report.data['model_input']} model) — token F1 per corpus")
        ax.legend()
        fig.tight_layout()
        p = out_dir / "f1_per_corpus.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    curves = report.data.get("pr_curves") or {}
    if curves:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name in sorted(curves):
            arr = np.array(curves[name])
            (line,) = ax.plot(arr[:, 0], arr[:, 1], label=f"{name} P")
            ax.plot(arr[:, 0], arr[:, 2], linestyle="--", color=line.get_color())
        ax.axvline(report.data["threshold"], color="grey", linewidth=1)
        ax.set_xlabel("threshold (solid: precision, dashed: recall)")
        ax.set_ylabel("mean per page")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        p = out_dir / "precision_recall_threshold.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths
