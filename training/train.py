"""Train a BlockClassifier on labeled BlockSets, pick the threshold on site-wise validation pages, bundle it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bpdetect.features import FEATURE_NAMES
from bpdetect.lexicon import fit_out_of_fold
from bpdetect.model import BlockClassifier, fold_of
from bpdetect.persist import ModelBundle

from .align import DEFAULT_THRESHOLD
from .corpora import INDEX_FILE
from .dataset import BlockSet, corpus_dir

__all__ = [
    "META_LINE_POLICY",
    "PageScores",
    "Stacked",
    "fbeta_by_threshold",
    "meta_line_mask",
    "page_scores",
    "stack",
    "train_model",
]

SEED = 0
# Training pages whose gold reaches fewer of their blocks' tokens than this are left out: their gold was made for
# another version of the page, or the text is hidden/scripted where no block can hold it (the suspect-list rule).
MIN_GOLD_REACH = 0.6
# Half of all blocks have at most this many tokens; with token weights they barely move the loss but cost as much
# boosting time as any other row, so only a seeded sample of them is fitted on (weights scaled up to compensate).
SHORT_BLOCK_TOKENS = 3
SHORT_BLOCK_SAMPLE = 0.25
# Thresholds tried when tuning; content probabilities rarely matter below 0.05 or above 0.95.
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
# Presets: the threshold maximizing F-beta over validation pages; beta < 1 favours precision, > 1 recall.
PRESET_BETAS = {"precision": 0.5, "balanced": 1.0, "recall": 2.0}

# Label policy (plain-text model): short byline, date/time, counter and reading-time lines ("By John", "March 3, 2024",
# "14.03.2024, 10:32 Uhr", "0 views", "7 min read") and the one- or two-word fragments a scraper cuts them into
# ("Posted on", "by", "|" next to such a line) are clutter whatever a corpus's gold says. The corpora disagree
# (cleaneval, l3s-gn1, googletrends-2017 keep most bylines and dates, the others drop them), which leaves the model
# near chance on such lines; a user of scraped text wants the article without them. Each rule: (feature columns, any
# of which must be set; most words the line may have). Lines that end a sentence are never meta lines.
# The rules are the features' own meta-line definition, so the model can learn the policy exactly.
LabelPolicy = tuple[tuple[tuple[str, ...], int], ...]
META_LINE_POLICY: LabelPolicy = (
    (("meta_line",), 10),  # features.META_LINE_RULES: "By John", "March 3, 2024", "0 views", "7 min read"
    (("meta_line_neighbours",), 2),  # "Posted on" / "by" / "—" / "0" beside a date or byline line
)
POLICY_NOTE = "; short byline/date/counter lines and their fragments are clutter, the headline line content"
# Policies per input kind: the HTML model keeps the corpora's conventions.
LABEL_POLICIES: dict[str, LabelPolicy] = {"text": META_LINE_POLICY}
# Pseudo-tokens added to every block's weight, per input kind. With pure token weights a one-word line ("by", "Print",
# a teaser title) weighs nothing next to a paragraph and the model leaves such lines near chance; in a text dump every
# line the model gets wrong is a stray line of output, so the text model gives each line a small weight of its own.
BLOCK_PSEUDO_TOKENS: dict[str, float] = {"text": 3.0}


@dataclass
class Stacked:
    """Several BlockSets concatenated, with global page ids and per-block training weights."""

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    doc: np.ndarray
    site: np.ndarray
    chars: np.ndarray
    n_tokens: np.ndarray
    n_matched: np.ndarray
    page_gold_tokens: np.ndarray
    page_corpus: np.ndarray
    texts: np.ndarray | None = None  # every block's text (object array), when all the BlockSets carry them


def meta_line_mask(X: np.ndarray, policy: LabelPolicy = META_LINE_POLICY) -> np.ndarray:
    """Rows of a feature matrix that a label policy makes clutter (short byline/date/counter lines)."""
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    words = X[:, col["n_words"]]
    no_sentence_end = X[:, col["ends_sentence_punct"]] == 0
    mask = np.zeros(len(X), dtype=bool)
    for patterns, max_words in policy:
        hit = np.zeros(len(X), dtype=bool)
        for name in patterns:
            hit |= X[:, col[name]] > 0
        mask |= hit & (words <= max_words) & no_sentence_end
    return mask


def _labels(bs: BlockSet, threshold: float, policy: LabelPolicy) -> np.ndarray:
    """Content labels of a BlockSet's blocks: gold alignment >= threshold, minus the policy's clutter lines.

    Under a policy the pages' headline lines (BlockSet.page_headline, text renderings only) are content; pages with
    the labeler's own line labels (BlockSet.page_exact) keep them.
    """
    y = bs.overlap >= threshold
    if policy:
        relabel = meta_line_mask(bs.X, policy)
        if bs.page_exact is not None:
            relabel &= ~bs.page_exact[bs.page]  # a labeler's own line labels stand
        y &= ~relabel
        y[bs.headline_rows()] = True
    return y


def stack(
    sets: Sequence[BlockSet],
    label_threshold: float = DEFAULT_THRESHOLD,
    policy: LabelPolicy = (),
    pseudo_tokens: float = 0.0,
    exact_pseudo_tokens: float | None = None,
) -> Stacked:
    """Concatenate BlockSets; a block's weight is its share of its page's tokens, so every page counts equally.

    ``policy`` (see META_LINE_POLICY) turns the lines it matches into clutter labels; the alignment counts that the
    page scores use are left as the gold has them. ``pseudo_tokens`` are added to every block's token count for its
    weight (see BLOCK_PSEUDO_TOKENS); ``exact_pseudo_tokens``, when given, instead on pages with the labeler's own line
    labels (more: each line of a labeled dump weighs more like every other, as the line-level checks count them).
    """
    parts: list[tuple] = []
    offset = 0
    for bs in sets:
        if bs.n_pages == 0:
            continue
        doc = bs.page + offset
        tokens = bs.n_tokens + pseudo_tokens
        if exact_pseudo_tokens is not None and bs.page_exact is not None:
            tokens = np.where(bs.page_exact[bs.page], bs.n_tokens + exact_pseudo_tokens, tokens)
        page_tok = np.bincount(bs.page, weights=tokens, minlength=bs.n_pages)
        weight = tokens / np.maximum(page_tok[bs.page], 1.0)
        site = np.char.add(f"{bs.corpus}/", bs.page_groups.astype(str))[bs.page]
        parts.append((bs, doc, weight, site))
        offset += bs.n_pages
    if not parts:
        raise ValueError("no labeled blocks to train on")
    return Stacked(
        X=np.vstack([p[0].X for p in parts]),
        y=np.concatenate([_labels(p[0], label_threshold, policy) for p in parts]).astype(np.int64),
        weight=np.concatenate([p[2] for p in parts]),
        doc=np.concatenate([p[1] for p in parts]),
        site=np.concatenate([p[3] for p in parts]),
        chars=np.concatenate([p[0].chars for p in parts]).astype(np.float64),
        n_tokens=np.concatenate([p[0].n_tokens for p in parts]),
        n_matched=np.concatenate([p[0].n_matched for p in parts]),
        page_gold_tokens=np.concatenate([p[0].page_gold_tokens for p in parts]),
        page_corpus=np.concatenate([np.full(p[0].n_pages, p[0].corpus) for p in parts]),
        texts=None if any(p[0].texts is None for p in parts) else np.concatenate([p[0].texts for p in parts]),
    )


@dataclass
class PageScores:
    """Per-page alignment-based token precision, recall and F1 of a block selection."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray


def page_scores(selected: np.ndarray, s: Stacked) -> PageScores:
    """Token P/R/F1 per page when the selected blocks are returned (aligned tokens count as correct)."""
    n_pages = len(s.page_gold_tokens)
    tp = np.bincount(s.doc, weights=s.n_matched * selected, minlength=n_pages)
    pred = np.bincount(s.doc, weights=s.n_tokens * selected, minlength=n_pages)
    gold = s.page_gold_tokens.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(pred > 0, tp / pred, 0.0)
        r = np.where(gold > 0, tp / gold, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    both_empty = (pred == 0) & (gold == 0)
    p[both_empty] = r[both_empty] = f[both_empty] = 1.0
    return PageScores(p, r, f)


def fbeta_by_threshold(prob: np.ndarray, s: Stacked, betas: Sequence[float] = (1.0,)) -> dict[float, np.ndarray]:
    """Mean over pages of F-beta (from mean P and R per page) for every threshold of THRESHOLD_GRID."""
    out = {b: np.zeros(len(THRESHOLD_GRID)) for b in betas}
    for i, t in enumerate(THRESHOLD_GRID):
        ps = page_scores(prob >= t, s)
        for b in betas:
            b2 = b * b
            den = b2 * ps.precision + ps.recall
            fb = np.where(den > 0, (1 + b2) * ps.precision * ps.recall / np.where(den > 0, den, 1), 0.0)
            out[b][i] = fb.mean()
    return out


@dataclass
class TrainResult:
    """A trained bundle and what was measured while training it."""

    bundle: ModelBundle
    seconds: float
    validation: dict[str, Any] = field(default_factory=dict)


def _corpus_fingerprint(root: Path, corpus: str) -> str | None:
    index = corpus_dir(root, corpus) / INDEX_FILE
    if not index.is_file():
        return None
    return hashlib.sha256(index.read_bytes()).hexdigest()[:16]


def train_model(
    sets: Sequence[BlockSet],
    input_kind: str,
    *,
    params: dict[str, Any] | None = None,
    roots: Sequence[Path] = (),
    use_validation_split: bool = True,
    label_policy: bool = True,
    seed: int = SEED,
    corpus_weights: Mapping[str, float] | None = None,
    exact_pseudo_tokens: float | None = None,
    lexical: bool = False,
) -> TrainResult:
    """Fit on the training pages, tune thresholds on the validation pages, and return the bundle.

    With ``label_policy`` the input kind's LABEL_POLICIES relabel matching training blocks as clutter and its
    BLOCK_PSEUDO_TOKENS give every block a weight of its own. ``seed`` seeds the boosting and the sample of short
    blocks (a fixed seed gives the same model on the same data). ``corpus_weights`` multiplies the training weight
    of every page of the named corpora (default 1: each page weighs as much as any other page). ``lexical`` adds the
    lexical stage (bpdetect.lexicon): its out-of-fold logit is one more feature, and the bundle carries its weights.
    """
    t0 = time.perf_counter()
    train_sets = []
    for bs in sets:
        keep = ~bs.page_val if use_validation_split else np.ones(bs.n_pages, bool)
        train_sets.append(bs.subset(keep & (bs.page_reach >= MIN_GOLD_REACH)))
    val_sets = [bs.subset(bs.page_val) for bs in sets] if use_validation_split else []
    val_sets = [v for v in val_sets if v.n_pages]
    policy = LABEL_POLICIES.get(input_kind, ()) if label_policy else ()
    pseudo_tokens = BLOCK_PSEUDO_TOKENS.get(input_kind, 0.0) if label_policy else 0.0
    tr = stack(train_sets, policy=policy, pseudo_tokens=pseudo_tokens, exact_pseudo_tokens=exact_pseudo_tokens)
    clf = BlockClassifier(random_state=seed, **(params or {}))
    short = tr.n_tokens <= SHORT_BLOCK_TOKENS
    sampled = np.random.default_rng(seed).random(len(tr.y)) < SHORT_BLOCK_SAMPLE
    fit_rows = ~short | sampled
    weight = np.where(short, tr.weight / SHORT_BLOCK_SAMPLE, tr.weight)
    unknown = sorted(set(corpus_weights or {}) - {bs.corpus for bs in sets})
    if unknown:
        raise ValueError(f"corpus weight for a corpus not in the data: {', '.join(unknown)}")
    for corpus, w in (corpus_weights or {}).items():
        if not w > 0:
            raise ValueError(f"corpus weight of {corpus} must be > 0, got {w}")
        weight = np.where(tr.page_corpus[tr.doc] == corpus, weight * w, weight)
    X_train = tr.X
    lexicon = None
    if lexical:
        if tr.texts is None:
            raise ValueError("the lexical stage needs block texts: rebuild the label cache (--cache) with this version")
        folds = fold_of(list(tr.site), clf.context_folds)
        lexicon, oof = fit_out_of_fold(tr.texts, tr.y, weight / weight[fit_rows].mean(), folds, rows=fit_rows)
        X_train = np.hstack([tr.X, oof[:, None]])
    clf.fit(X_train, tr.y, sample_weight=weight, doc=tr.doc, site=tr.site, chars=tr.chars, fit_rows=fit_rows)
    threshold = 0.5
    presets: dict[str, float] = {}
    validation: dict[str, Any] = {}
    if val_sets:
        va = stack(val_sets)
        X_val = va.X if lexicon is None else np.hstack([va.X, lexicon.logit(va.texts)[:, None]])
        prob = clf.predict_proba(X_val, doc=va.doc, chars=va.chars)[:, 1]
        curves = fbeta_by_threshold(prob, va, list(PRESET_BETAS.values()))
        for name, beta in PRESET_BETAS.items():
            presets[name] = float(THRESHOLD_GRID[int(np.argmax(curves[beta]))])
        threshold = presets["balanced"]
        ps = page_scores(prob >= threshold, va)
        per_corpus = {}
        for corpus in np.unique(va.page_corpus):
            m = va.page_corpus == corpus
            per_corpus[str(corpus)] = {
                "pages": int(m.sum()),
                "f1_mean": float(ps.f1[m].mean()),
                "f1_median": float(np.median(ps.f1[m])),
                "precision_mean": float(ps.precision[m].mean()),
                "recall_mean": float(ps.recall[m].mean()),
            }
        validation = {
            "pages": len(va.page_gold_tokens),
            "blocks": len(va.y),
            "metric": "alignment token F1 per page (aligned tokens of returned blocks vs gold tokens)",
            "f1_mean": float(ps.f1.mean()),
            "f1_macro_corpora": float(np.mean([c["f1_mean"] for c in per_corpus.values()])),
            "per_corpus": per_corpus,
            "threshold_curve": {str(t): float(v) for t, v in zip(THRESHOLD_GRID, curves[1.0], strict=True)},
        }
    seconds = time.perf_counter() - t0
    corpora_meta = []
    for bs in sets:
        fp = next((f for f in (_corpus_fingerprint(r, bs.corpus) for r in roots) if f), None)
        corpora_meta.append(
            {
                "name": bs.corpus,
                "pages": int(bs.n_pages),
                "train_pages": int((~bs.page_val).sum()) if use_validation_split else int(bs.n_pages),
                "index_sha256_16": fp,
            }
        )
    bundle = ModelBundle(
        classifier=clf,
        input=input_kind,
        threshold=threshold,
        presets=presets,
        lexicon=lexicon,
        metadata={
            "training": {
                "corpora": corpora_meta,
                "blocks": len(tr.y),
                "pages": len(tr.page_gold_tokens),
                "seed": seed,
                "corpus_weights": dict(corpus_weights or {}),
                "exact_pseudo_tokens": exact_pseudo_tokens,
                "label_rule": f"block content when >= {DEFAULT_THRESHOLD} of its tokens align to gold"
                + (POLICY_NOTE if policy else ""),
                "block_pseudo_tokens": pseudo_tokens,
                "split": "site-wise: crc32(corpus, site) % 5 == 0 is validation" if use_validation_split else "none",
                "seconds": round(seconds, 1),
            },
            "validation": validation,
            "created": time.strftime("%Y-%m-%d"),
        },
    )
    return TrainResult(bundle=bundle, seconds=seconds, validation=validation)
