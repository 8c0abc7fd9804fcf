"""The block classifier: gradient boosting on block features plus a second, sequence-aware stacking pass."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

from . import _speedups
from .runtime import (
    CONTEXT_FEATURE_NAMES,
    CONTEXT_WINDOWS,
    MISSING_LEFT,
    SECOND,
    RuntimeClassifier,
    StageArrays,
    context_features,
    doc_starts,
)

__all__ = [
    "CONTEXT_FEATURE_NAMES",
    "CONTEXT_WINDOWS",
    "BlockClassifier",
    "context_features",
    "doc_starts",
    "fit_bin_edges",
    "fold_of",
    "quantize",
    "stage_arrays",
]

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
# Rows (blocks) from which the binned predictors use several OpenMP threads (a typical page has about 200 blocks).
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
        return expit(raw)  # scikit-learn's own link function (so the probabilities are bitwise equal)


def stage_arrays(stage: HistGradientBoostingClassifier, quantile_edges: Sequence[np.ndarray]) -> StageArrays:
    """A fitted binary HistGradientBoostingClassifier as flat node arrays read on raw float32 features.

    The forest reads the block features unquantized (matrix 1) and the stacked context features (matrix 2), both
    float32, against float32 thresholds. For a context feature the threshold is the largest float32 not above
    scikit-learn's float64 one: every float32 value is then on the same side of both, and NaN follows the split's
    missing-value direction as in scikit-learn. scikit-learn tests ``code <= t`` on a quantized feature, ``code``
    being the number of quantile edges ``q`` <= the value (``np.searchsorted(q, x, side="right")``, which counts NaN
    as above every edge). For an integer code that is ``code <= k`` with ``k = floor(t)``, which holds exactly when
    the value is below ``q[k]``: ``x < q[k]``, i.e. ``x <= nextafter(q[k], -inf)``, NaN going right.
    Raises TypeError for a stage these arrays cannot express (multi-class, categorical splits).
    """
    if stage.n_trees_per_iteration_ != 1:
        raise TypeError("only binary classifiers are compiled")
    trees = [predictors[0].nodes for predictors in stage._predictors]
    nodes = np.concatenate(trees)
    if nodes["is_categorical"].any():
        raise TypeError("categorical splits are not compiled")
    sizes = np.array([len(t) for t in trees], dtype=np.int64)
    roots = np.cumsum(sizes) - sizes
    offset = np.repeat(roots, sizes)  # scikit-learn's child indices count from the tree's first node
    leaf = nodes["is_leaf"].astype(bool)
    own = np.arange(len(nodes))
    left = np.where(leaf, own, nodes["left"].astype(np.int64) + offset)
    right = np.where(leaf, own, nodes["right"].astype(np.int64) + offset)
    feature = nodes["feature_idx"].astype(np.int64)
    threshold = _float32_at_most(nodes["num_threshold"])
    missing_left = nodes["missing_go_to_left"].astype(bool)
    n_quantized = len(quantile_edges)
    quantized = ~leaf & (feature < n_quantized)
    for j in np.unique(feature[quantized]).tolist():
        at = np.flatnonzero(quantized & (feature == j))
        threshold[at], missing_left[at] = _code_split(np.asarray(quantile_edges[j]), nodes["num_threshold"][at])
    column = np.where(feature < n_quantized, feature, (feature - n_quantized) | SECOND)
    column = np.where(leaf, 0, column | np.where(missing_left, MISSING_LEFT, 0))
    return StageArrays(
        threshold=np.where(leaf, np.float32(0), threshold).astype(np.float32),
        column=column.astype(np.uint32),
        left=left.astype(np.int32),
        right=right.astype(np.int32),
        value=np.where(leaf, nodes["value"], 0.0).astype(np.float64),
        gain=np.where(leaf, 0.0, nodes["gain"]).astype(np.float64),
        roots=roots.astype(np.int32),
        baseline=float(np.ravel(stage._baseline_prediction)[0]),
    )


def _float32_at_most(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 threshold (NaN stays NaN): x <= it exactly when float32 x <= t."""
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    return np.where(f > t, np.nextafter(f, np.float32(-np.inf)), f).astype(np.float32)


def _code_split(edges: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 thresholds and missing-left flags equivalent to ``quantile code <= t`` (see stage_arrays)."""
    q = edges.astype(np.float32)
    k = np.floor(t)
    threshold = np.full(len(t), np.nan, dtype=np.float32)  # k < 0: no code is that low, all goes right
    missing_left = np.zeros(len(t), dtype=bool)
    every = k >= len(q)  # every code (NaN's too) is <= t: all goes left
    threshold[every], missing_left[every] = np.inf, True
    mid = np.flatnonzero((k >= 0) & ~every)
    qk = q[k[mid].astype(np.int64)]
    below = np.nextafter(qk, np.float32(-np.inf))
    # searchsorted's order puts NaN above everything: a NaN edge lets every number left, and nothing is below -inf.
    threshold[mid] = np.where(np.isnan(qk), np.inf, np.where(qk == -np.inf, np.nan, below))
    return threshold, missing_left


# What BlockClassifier._fast builds: the compiled runtime classifier, else the binned predictors (and whether stage
# 2 reuses stage 1's bins), else () when neither can be built.
_FastStages = RuntimeClassifier | tuple[_BinnedStage, _BinnedStage | None, bool] | tuple[()]


def fold_of(groups: Sequence[object], n_folds: int) -> np.ndarray:
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
        folds = fold_of(list(sites), self.context_folds)
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
        # A copy: object.__getstate__ returns the instance's own __dict__, whose cache must stay.
        state = dict(super().__getstate__())
        state.pop("_fast_stages", None)
        return state

    def _fast(self) -> _FastStages | None:
        """The stages as compiled or binned predictors (built once per loaded model), or None if neither works.

        The compiled forests (bpdetect._ctrees) come first; the binned predictors are the pure-Python fallback.
        """
        fast = self.__dict__.get("_fast_stages")
        if fast is None:
            with self._fast_lock:
                fast = self.__dict__.get("_fast_stages")
                if fast is None:
                    fast = self._compiled_stages() or self._binned_stages()
                    self.__dict__["_fast_stages"] = fast
        return fast or None

    def _binned_stages(self) -> tuple[_BinnedStage, _BinnedStage | None, bool] | tuple[()]:
        """Both stages as binned predictors, or () if this scikit-learn lacks what they need."""
        try:
            s1 = _BinnedStage(self.stage1_, self.bin_edges_)
            s2 = None if self.stage2_ is None else _BinnedStage(self.stage2_, self.bin_edges_)
        except (AttributeError, TypeError, IndexError):  # private scikit-learn API changed
            return ()
        # Stage 2 sees the same block features as stage 1; its bins for them are usually identical.
        reuse = s2 is not None and s2.same_bins(s1, self.n_features_in_)
        if reuse:  # stage 1 then bins every block feature either stage reads
            s1.used = np.union1d(s1.used, s2.used[s2.used < self.n_features_in_])
        return (s1, s2, reuse)

    def _compiled_stages(self) -> RuntimeClassifier | None:
        """Both stages as compiled forests, or None without bpdetect._ctrees (or with a model it cannot compile)."""
        if _speedups.load("_ctrees") is None:
            return None
        try:
            return self.to_runtime(compiled=True)
        except (AttributeError, TypeError, IndexError, ValueError, KeyError):  # private scikit-learn API changed
            return None

    def to_runtime(self, *, compiled: bool | None = None) -> RuntimeClassifier:
        """This fitted model as a RuntimeClassifier (node arrays, no scikit-learn): bitwise the same predictions.

        ``compiled`` as in RuntimeClassifier. Raises TypeError for a model the arrays cannot express.
        """
        check_is_fitted(self, "stage1_")
        s1 = stage_arrays(self.stage1_, self.bin_edges_)
        s2 = None if self.stage2_ is None else stage_arrays(self.stage2_, self.bin_edges_)
        return RuntimeClassifier(s1, s2, self.n_features_in_, compiled=compiled)

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
        if isinstance(fast, RuntimeClassifier):
            return fast.predict_proba(X, doc=doc, chars=chars)
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
