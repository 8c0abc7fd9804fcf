"""The block classifier: gradient boosting on block features plus a second, sequence-aware stacking pass."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["CONTEXT_FEATURE_NAMES", "BlockClassifier", "context_features", "doc_starts", "fit_bin_edges", "quantize"]

# Half-widths (in blocks) of the windows over which first-pass scores are averaged for the second pass.
CONTEXT_WINDOWS = (1, 3, 10)
CONTEXT_FEATURE_NAMES: tuple[str, ...] = (
    "ctx_p",
    "ctx_p_prev1",
    "ctx_p_next1",
    "ctx_p_prev2",
    "ctx_p_next2",
    *(f"ctx_p_mean_w{w}" for w in CONTEXT_WINDOWS),
    *(f"ctx_p_charmean_w{w}" for w in CONTEXT_WINDOWS),
    "ctx_p_doc_mean",
    "ctx_p_doc_charmean",
    "ctx_p_doc_max",
    "ctx_p_rank",
    "ctx_p_before_max",
    "ctx_p_after_max",
)


def doc_starts(groups: np.ndarray | None, n: int) -> np.ndarray:
    """Start offsets of the documents in a block matrix whose rows are grouped contiguously by ``groups``."""
    if groups is None or n == 0:
        return np.zeros(1 if n else 0, dtype=np.int64)
    groups = np.asarray(groups)
    change = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    return np.concatenate(([0], change)).astype(np.int64)


def _segment_ids(starts: np.ndarray, n: int) -> np.ndarray:
    ids = np.zeros(n, dtype=np.int64)
    ids[starts[1:]] = 1
    return np.cumsum(ids)


def _windowed_mean(values: np.ndarray, weights: np.ndarray, half: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Weighted mean of values over [i-half, i+half] clipped to each row's document bounds [lo, hi)."""
    n = len(values)
    idx = np.arange(n)
    a = np.maximum(idx - half, lo)
    b = np.minimum(idx + half + 1, hi)
    cv = np.concatenate(([0.0], np.cumsum(values * weights)))
    cw = np.concatenate(([0.0], np.cumsum(weights)))
    den = cw[b] - cw[a]
    return np.where(den > 0, (cv[b] - cv[a]) / np.where(den > 0, den, 1.0), 0.0)


def context_features(p: np.ndarray, chars: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Second-pass features from first-pass scores ``p`` of every block, computed within each document."""
    n = len(p)
    out = np.zeros((n, len(CONTEXT_FEATURE_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    seg = _segment_ids(starts, n)
    ends = np.append(starts[1:], n)
    lo, hi = starts[seg], ends[seg]
    idx = np.arange(n)
    pad = -1.0  # neighbour beyond the document edge

    def shifted(k: int) -> np.ndarray:
        j = idx + k
        ok = (j >= lo) & (j < hi)
        return np.where(ok, p[np.clip(j, 0, n - 1)], pad)

    weights = np.log1p(chars.astype(np.float64))
    ones = np.ones(n)
    cols = [p, shifted(-1), shifted(1), shifted(-2), shifted(2)]
    cols += [_windowed_mean(p, ones, w, lo, hi) for w in CONTEXT_WINDOWS]
    cols += [_windowed_mean(p, weights, w, lo, hi) for w in CONTEXT_WINDOWS]
    sums = np.add.reduceat(p, starts)
    counts = np.diff(np.append(starts, n))
    wsum = np.add.reduceat(p * weights, starts)
    wden = np.add.reduceat(weights, starts)
    cols.append((sums / counts)[seg])
    cols.append(np.where(wden > 0, wsum / np.where(wden > 0, wden, 1), 0)[seg])
    cols.append(np.maximum.reduceat(p, starts)[seg])
    # Rank of the block's score within its document, 0 (lowest) .. 1 (highest).
    order = np.lexsort((p, seg))
    rank = np.empty(n)
    rank[order] = idx - starts[seg[order]]
    cols.append(rank / np.maximum(counts[seg] - 1, 1))
    # Highest score seen before / after the block in its document (content regions are contiguous).
    before = np.full(n, pad)
    after = np.full(n, pad)
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e - s > 1:
            before[s + 1 : e] = np.maximum.accumulate(p[s : e - 1])
            after[s : e - 1] = np.maximum.accumulate(p[s + 1 : e][::-1])[::-1]
    cols += [before, after]
    for j, col in enumerate(cols):
        out[:, j] = col
    return out


# Quantile bins per feature (HistGradientBoosting's own maximum is 255). Features are quantized before boosting:
# with sample weights, scikit-learn's binner computes weighted percentiles per feature, which costs more than the
# boosting itself; on pre-quantized columns (<= 255 distinct values) it takes its cheap exact path instead.
N_BINS = 255
# Rows used to estimate the quantiles; more changes the edges very little.
BIN_SAMPLE = 200_000


def fit_bin_edges(X: np.ndarray, random_state: int = 0) -> list[np.ndarray]:
    """Unweighted quantile edges (at most N_BINS - 1 per feature) from a seeded row sample."""
    if len(X) > BIN_SAMPLE:
        rows = np.random.default_rng(random_state).choice(len(X), BIN_SAMPLE, replace=False)
        X = X[np.sort(rows)]
    qs = np.linspace(0.0, 1.0, N_BINS + 1)[1:-1]
    return [np.unique(np.quantile(X[:, j], qs)).astype(np.float32) for j in range(X.shape[1])]


def quantize(X: np.ndarray, edges: Sequence[np.ndarray]) -> np.ndarray:
    """Replace each value by the number of its feature's edges that are <= it (a bin code, as float32)."""
    out = np.empty(X.shape, dtype=np.float32)
    for j, e in enumerate(edges):
        out[:, j] = np.searchsorted(e, X[:, j], side="right")
    return out


# Features with at most this many bin thresholds are binned by comparisons (a few ns per value) rather than by a
# binary search (tens of ns per value); most bpdetect features are flags with a single threshold.
_COMPARE_MAX_THRESHOLDS = 4
# Rows (blocks) from which the tree walks use several OpenMP threads (a typical page has about 200 blocks).
_THREADED_MIN_ROWS = 20_000


class _BinnedStage:
    """A fitted HistGradientBoostingClassifier evaluated on uint8 bins computed straight from raw feature values.

    scikit-learn predicts from float features, testing a threshold (and a NaN check) at every node. Its own training
    path predicts from the uint8 bins instead, which is about twice as fast. The bin of a value is a step function
    of it: for a feature that BlockClassifier quantizes first, the composition of the quantile code and the booster's
    bin of that code; for a stacked context feature, the booster's bin thresholds. Both are folded here into one
    sorted threshold array per feature, so predicting costs a few comparisons or one ``searchsorted`` per feature
    the trees use, plus the tree walks, and gives exactly what ``predict_proba`` gives (a test checks it).
    """

    def __init__(self, stage: HistGradientBoostingClassifier, quantile_edges: Sequence[np.ndarray]) -> None:
        mapper = stage._bin_mapper
        self.missing_bin = mapper.missing_values_bin_idx_
        self.baseline = float(np.ravel(stage._baseline_prediction)[0])
        self.predictors = [trees[0] for trees in stage._predictors]
        self.thresholds: list[np.ndarray] = []
        self.right: list[bool] = []  # side: a value equal to a threshold falls above it (True) or below it
        for j, booster_edges in enumerate(mapper.bin_thresholds_):
            if j < len(quantile_edges):
                q = np.asarray(quantile_edges[j], dtype=np.float64)
                # Booster bin of every quantile code 0..len(q) (code = number of quantile edges <= value).
                lut = np.searchsorted(booster_edges, np.arange(len(q) + 1, dtype=np.float64), side="left")
                step = np.diff(lut)
                k = np.flatnonzero(step)
                # The bin rises by step[k] where the code reaches k + 1, i.e. where the value reaches q[k].
                self.thresholds.append(np.repeat(q[k], step[k]).astype(np.float32))
                self.right.append(True)
            else:
                self.thresholds.append(np.asarray(booster_edges, dtype=np.float32))
                self.right.append(False)
        # Only features some split tests need binning; the others keep bin 0, which no tree reads.
        used = np.zeros(len(self.thresholds), dtype=bool)
        for predictor in self.predictors:
            nodes = predictor.nodes
            used[nodes["feature_idx"][nodes["is_leaf"] == 0]] = True
        self.used = np.flatnonzero(used)

    def bins(self, X: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        """uint8 bins of every used value, row-major; ``known`` supplies ready bins for its leading columns."""
        n = X.shape[0]
        out = np.zeros(X.shape, dtype=np.uint8)
        lead = 0 if known is None else known.shape[1]
        if lead:
            out[:, :lead] = known
        for j in self.used[self.used >= lead].tolist():
            edges = self.thresholds[j]
            col = X[:, j]
            if len(edges) <= _COMPARE_MAX_THRESHOLDS:
                acc = np.zeros(n, dtype=np.uint8)
                for t in edges.tolist():
                    # Written as "not below" so that NaN lands in the top bin, as searchsorted puts it.
                    acc += ~(col < t) if self.right[j] else ~(col <= t)
                out[:, j] = acc
            else:
                out[:, j] = np.searchsorted(edges, col, side="right" if self.right[j] else "left")
        return out

    def same_bins(self, other: _BinnedStage, n_columns: int) -> bool:
        """True when this stage bins the first n_columns exactly as ``other`` does (so its bins can be reused)."""
        return all(
            self.right[j] == other.right[j] and np.array_equal(self.thresholds[j], other.thresholds[j])
            for j in range(n_columns)
        )

    def proba(self, binned: np.ndarray) -> np.ndarray:
        """Probability of the positive class for every row of bins."""
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        # OpenMP threads only pay off on big batches; on a page or two their start-up (and spinning when the cores
        # are busy) costs more than the trees themselves.
        threads = _openmp_effective_n_threads() if binned.shape[0] >= _THREADED_MIN_ROWS else 1
        raw = np.full(binned.shape[0], self.baseline)
        for predictor in self.predictors:
            raw += predictor.predict_binned(binned, self.missing_bin, threads)
        return 1.0 / (1.0 + np.exp(-raw))


def _fold_of(groups: Sequence[object], n_folds: int) -> np.ndarray:
    """Deterministic fold for each row from a stable hash of its group (site), so a site stays in one fold."""
    cache: dict[object, int] = {}
    out = np.empty(len(groups), dtype=np.int64)
    for i, g in enumerate(groups):
        f = cache.get(g)
        if f is None:
            f = cache[g] = zlib.crc32(str(g).encode("utf-8")) % n_folds
        out[i] = f
    return out


class BlockClassifier(ClassifierMixin, BaseEstimator):
    """Scores blocks as content (1) or clutter (0); rows must be grouped by document (pass ``doc`` ids).

    Stage 1 is a HistGradientBoostingClassifier on block features. With ``context=True`` a stage-2 model sees the
    block features plus the stage-1 scores of its neighbours and its document (stacking); stage 2 is trained on
    out-of-fold stage-1 scores, folds drawn by ``site`` so a site's template never scores its own training rows.
    """

    def __init__(
        self,
        *,
        max_iter: int = 50,
        learning_rate: float = 0.2,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        context: bool = True,
        context_folds: int = 3,
        context_max_iter: int | None = None,
        early_stopping: bool = False,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.context = context
        self.context_folds = context_folds
        self.context_max_iter = context_max_iter
        self.early_stopping = early_stopping
        self.random_state = random_state

    def _new_stage(self, max_iter: int | None = None) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=max_iter or self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=self.early_stopping,
            random_state=self.random_state,
        )

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        doc: np.ndarray | None = None,
        site: Sequence[object] | None = None,
        chars: np.ndarray | None = None,
        fit_rows: np.ndarray | None = None,
    ) -> BlockClassifier:
        """Fit stage 1 (and stage 2 with out-of-fold stage-1 scores); ``doc`` marks contiguous documents.

        ``fit_rows`` (boolean) limits the rows the boosters are fitted on (e.g. a sample of tiny blocks); every row
        still takes part in the second pass's neighbour features.
        """
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        n = len(y)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self.bin_edges_ = fit_bin_edges(X, self.random_state)
        X = quantize(X, self.bin_edges_)
        rows = np.ones(n, dtype=bool) if fit_rows is None else np.asarray(fit_rows, dtype=bool)
        if sample_weight is None:
            sample_weight = np.ones(n)
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        sample_weight = sample_weight / max(float(sample_weight[rows].mean()), 1e-12)
        self.stage1_ = self._new_stage().fit(X[rows], y[rows], sample_weight=sample_weight[rows])
        self.stage2_ = None
        if not self.context:
            return self
        starts = doc_starts(doc, n)
        chars = np.ones(n) if chars is None else np.asarray(chars)
        sites = site if site is not None else (doc if doc is not None else np.zeros(n))
        folds = _fold_of(list(sites), self.context_folds)
        oof = np.zeros(n)
        for k in range(self.context_folds):
            test = folds == k
            train = ~test & rows
            if not test.any() or not train.any():
                oof[test] = self.stage1_.predict_proba(X[test])[:, 1]
                continue
            m = self._new_stage().fit(X[train], y[train], sample_weight=sample_weight[train])
            oof[test] = m.predict_proba(X[test])[:, 1]
        X2 = np.hstack([X, context_features(oof, chars, starts)])
        # Stage 2 starts from stage 1's score (a feature), so it needs fewer trees: context_max_iter, if given.
        self.stage2_ = self._new_stage(self.context_max_iter).fit(X2[rows], y[rows], sample_weight=sample_weight[rows])
        return self

    _fast_lock = threading.Lock()

    def __getstate__(self) -> dict:
        """Pickled/saved state, without the derived fast predictors (rebuilt on first use)."""
        state = super().__getstate__()
        state.pop("_fast_stages", None)
        return state

    def _fast(self) -> tuple[_BinnedStage, _BinnedStage | None, bool] | None:
        """The stages as binned predictors (built once per loaded model), or None if this scikit-learn lacks them."""
        fast = self.__dict__.get("_fast_stages")
        if fast is None:
            with self._fast_lock:
                fast = self.__dict__.get("_fast_stages")
                if fast is None:
                    try:
                        s1 = _BinnedStage(self.stage1_, self.bin_edges_)
                        s2 = None if self.stage2_ is None else _BinnedStage(self.stage2_, self.bin_edges_)
                        # Stage 2 sees the same block features as stage 1; its bins for them are usually identical.
                        reuse = s2 is not None and s2.same_bins(s1, self.n_features_in_)
                        if reuse:  # stage 1 then bins every block feature either stage reads
                            s1.used = np.union1d(s1.used, s2.used[s2.used < self.n_features_in_])
                        fast = (s1, s2, reuse)
                    except (AttributeError, TypeError, IndexError):  # private scikit-learn API changed
                        fast = ()
                    self.__dict__["_fast_stages"] = fast
        return fast or None

    def predict_proba(self, X: np.ndarray, *, doc: np.ndarray | None = None, chars: np.ndarray | None = None):
        """Probability of clutter (column 0) and content (column 1) for each block."""
        check_is_fitted(self, "stage1_")
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        if n == 0:
            return np.zeros((0, 2))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {X.shape[1]}")
        fast = self._fast()
        if fast is not None:
            s1, s2, reuse = fast
            b1 = s1.bins(X)
            p1 = s1.proba(b1)
            if s2 is None:
                return np.column_stack([1 - p1, p1])
            chars = np.ones(n) if chars is None else np.asarray(chars)
            X2 = np.hstack([X, context_features(p1, chars, doc_starts(doc, n))])
            p2 = s2.proba(s2.bins(X2, known=b1 if reuse else None))
            return np.column_stack([1 - p2, p2])
        return self._predict_proba_sklearn(X, doc=doc, chars=chars)

    def _predict_proba_sklearn(self, X: np.ndarray, *, doc: np.ndarray | None, chars: np.ndarray | None):
        """predict_proba through scikit-learn's public predict path (the reference the fast path must match)."""
        n = len(X)
        X = quantize(X, self.bin_edges_)
        p1 = self.stage1_.predict_proba(X)[:, 1]
        if self.stage2_ is None:
            return np.column_stack([1 - p1, p1])
        chars = np.ones(n) if chars is None else np.asarray(chars)
        X2 = np.hstack([X, context_features(p1, chars, doc_starts(doc, n))])
        p2 = self.stage2_.predict_proba(X2)[:, 1]
        return np.column_stack([1 - p2, p2])

    def predict(self, X: np.ndarray, *, doc: np.ndarray | None = None, chars: np.ndarray | None = None):
        """0/1 labels at probability 0.5 (a Detector applies the model's tuned threshold instead)."""
        return (self.predict_proba(X, doc=doc, chars=chars)[:, 1] >= 0.5).astype(np.int64)
