"""Prediction without scikit-learn: the two boosting stages of a model as flat node arrays, and the context pass.

A fitted ``BlockClassifier`` (bpdetect.model) is turned into ``StageArrays`` once (``BlockClassifier.to_runtime``,
or a ``.npz`` model file, see bpdetect.persist); a ``RuntimeClassifier`` scores blocks from them with the compiled
``bpdetect._ctrees.Forest`` when it is built, else with a vectorized numpy walk of the same arrays. Both give
bitwise the probabilities of scikit-learn's ``predict_proba`` (tests check it): the same float32 comparisons, leaf
values added in float64 in tree order to the baseline, and the logistic link ``1 / (1 + exp(-x))`` with the C
library's ``exp``, which is what ``scipy.special.expit`` computes. This module imports numpy and nothing that
imports scikit-learn or scipy.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import _speedups

__all__ = [
    "CONTEXT_FEATURE_NAMES",
    "CONTEXT_WINDOWS",
    "MISSING_LEFT",
    "SECOND",
    "RuntimeClassifier",
    "StageArrays",
    "context_features",
    "doc_starts",
    "expit",
]

# --- the context pass (stage 2's extra features) ------------------------------------------------------------

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


# --- the trees ----------------------------------------------------------------------------------------------

# Node column flags (as in bpdetect._ctrees): the column is in the second matrix (the context features); NaN goes
# left. The low 30 bits are the column index.
SECOND = 0x40000000
MISSING_LEFT = 0x80000000
_COLUMN = 0x3FFFFFFF

# Exact dtypes (little-endian) of the node arrays; a model file must hold exactly these.
NODE_DTYPES: dict[str, str] = {
    "threshold": "<f4",
    "column": "<u4",
    "left": "<i4",
    "right": "<i4",
    "value": "<f8",
    "gain": "<f8",
}
TREE_DTYPES: dict[str, str] = {"roots": "<i4"}
SCALAR_DTYPES: dict[str, str] = {"baseline": "<f8"}
# A stage of more nodes than this is refused (the shipped models have tens of thousands).
MAX_NODES = 1 << 28


@dataclass(frozen=True, eq=False)
class StageArrays:
    """One boosting stage: every tree's nodes in one flat array (tree t starts at ``roots[t]``).

    A split node sends a float32 value left when it is ``<= threshold`` (NaN: when its column has MISSING_LEFT);
    a leaf is a node whose children are itself. Children come after their parent within their tree, so every walk
    ends on a leaf. ``value`` is a leaf's score (0 elsewhere), ``gain`` a split's gain (for explanations only).
    """

    threshold: np.ndarray
    column: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    gain: np.ndarray
    roots: np.ndarray
    baseline: float

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return len(self.roots)

    def is_leaf(self) -> np.ndarray:
        """Boolean mask of the leaves."""
        return self.left == np.arange(len(self.left))

    def to_dict(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays under ``prefix + name`` keys, in their exact file dtypes."""
        out = {
            prefix + k: np.asarray(getattr(self, k), dtype=d, order="C")
            for k, d in {**NODE_DTYPES, **TREE_DTYPES}.items()
        }
        out[prefix + "baseline"] = np.asarray(self.baseline, dtype=SCALAR_DTYPES["baseline"])
        return out

    @classmethod
    def from_dict(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> StageArrays:
        """Arrays read back from ``to_dict``'s keys (dtypes and shapes checked: ValueError)."""
        got: dict[str, Any] = {}
        for k, d in {**NODE_DTYPES, **TREE_DTYPES, **SCALAR_DTYPES}.items():
            a = arrays.get(prefix + k)
            if a is None:
                raise ValueError(f"array {prefix + k} is missing")
            a = np.asarray(a)
            if a.dtype != np.dtype(d) or a.ndim != (0 if k in SCALAR_DTYPES else 1):
                raise ValueError(
                    f"array {prefix + k} is {a.dtype}{list(a.shape)}, expected {np.dtype(d)} "
                    f"{'scalar' if k in SCALAR_DTYPES else 'vector'}"
                )
            got[k] = a
        got["baseline"] = float(got["baseline"])
        return cls(**got)

    def validate(self, n_first: int, n_second: int) -> None:
        """Raise ValueError unless every walk stays in its tree, ends on a leaf, and reads a column that exists.

        ``n_first`` / ``n_second``: the columns of the block-feature and context-feature matrices.
        """
        n = len(self.threshold)
        for k, d in {**NODE_DTYPES, **TREE_DTYPES}.items():
            a = getattr(self, k)
            if not isinstance(a, np.ndarray) or (a.dtype.kind, a.dtype.itemsize) != (d[1], int(d[2])):
                raise ValueError(f"{k} must be a {np.dtype(d)} array")
            if a.ndim != 1 or (k in NODE_DTYPES and len(a) != n):
                raise ValueError(f"{k} must be a vector of {n} nodes, got shape {a.shape}")
        if not 0 < n <= MAX_NODES:
            raise ValueError(f"a stage must have 1 to {MAX_NODES} nodes, got {n}")
        roots = self.roots.astype(np.int64)
        if len(roots) == 0 or roots[0] != 0 or np.any(np.diff(roots) <= 0) or roots[-1] >= n:
            raise ValueError("tree roots must start at node 0 and increase strictly within the node array")
        if not math.isfinite(self.baseline):
            raise ValueError("the baseline score is not finite")
        ids = np.arange(n, dtype=np.int64)
        ends = np.append(roots[1:], n)[np.searchsorted(roots, ids, side="right") - 1]
        left, right = self.left.astype(np.int64), self.right.astype(np.int64)
        leaf = (left == ids) & (right == ids)
        # Children strictly after their parent and inside its tree: no cycle, every walk ends on a leaf.
        bad = ~leaf & ~((ids < left) & (left < ends) & (ids < right) & (right < ends))
        if bad.any():
            raise ValueError(f"node {int(np.flatnonzero(bad)[0])}: a child is outside its tree or not after it")
        if not np.all(np.isfinite(self.value[leaf])):
            raise ValueError("a leaf value is not finite")
        column = self.column[~leaf]
        second = (column & SECOND) != 0
        index = (column & _COLUMN).astype(np.int64)
        if np.any(index[~second] >= n_first) or np.any(index[second] >= n_second):
            raise ValueError(f"a split reads a column beyond the {n_first} + {n_second} features it is given")

    def add_gains(self, gains: np.ndarray) -> None:
        """Add each split's gain to ``gains`` at its block feature (first-matrix column), node by node."""
        col = (self.column & _COLUMN).astype(np.int64)
        split = ~self.is_leaf() & ((self.column & SECOND) == 0) & (col < len(gains))
        np.add.at(gains, col[split], self.gain[split])


def _expit_python(raw: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) with the C library's exp (math.exp): numpy's own SIMD exp may differ in the last bit."""

    def exp(v: float) -> float:
        try:
            return math.exp(v)
        except OverflowError:  # C's exp gives inf, and 1 / (1 + inf) = 0
            return math.inf

    e = np.fromiter(map(exp, (-raw).tolist()), dtype=np.float64, count=len(raw))
    return 1.0 / (1.0 + e)


def expit(raw: np.ndarray, ctrees: ModuleType | None = None) -> np.ndarray:
    """The logistic link of scikit-learn (scipy.special.expit), bitwise, without scipy."""
    raw = np.ascontiguousarray(raw, dtype=np.float64)
    if ctrees is not None and hasattr(ctrees, "expit"):
        out = np.empty_like(raw)
        ctrees.expit(raw, out)
        return out
    return _expit_python(raw)


# Rows from which the compiled forest runs on several threads (a typical page has about 200 blocks).
_THREADED_MIN_ROWS = 20_000
# Rows the numpy walk handles at once (bounds its (trees x rows) index matrices).
_NUMPY_CHUNK = 2048


def _cpu_threads() -> int:
    """Threads the process may use: its CPU affinity, capped by OMP_NUM_THREADS when that is set."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return max(1, n)


def _threads(n_rows: int) -> int:
    """Threads worth using for n_rows: one on a page or two, more on big batches."""
    if n_rows < _THREADED_MIN_ROWS:
        return 1
    return max(1, min(_cpu_threads(), n_rows // (_THREADED_MIN_ROWS // 4)))


class _NumpyForest:
    """The numpy twin of bpdetect._ctrees.Forest: all trees walked together for a chunk of rows, one level a step."""

    def __init__(self, a: StageArrays) -> None:
        leaf = a.is_leaf()
        self.threshold = np.ascontiguousarray(a.threshold, dtype=np.float32)
        self.missing_left = ((a.column & MISSING_LEFT) != 0) & ~leaf
        self.second = ((a.column & SECOND) != 0) & ~leaf
        self.index = np.where(leaf, 0, a.column & _COLUMN).astype(np.intp)  # a leaf reads column 0, harmlessly
        self.left = a.left.astype(np.intp)
        self.right = a.right.astype(np.intp)
        self.value = np.ascontiguousarray(a.value, dtype=np.float64)
        self.roots = a.roots.astype(np.intp)
        self.baseline = float(a.baseline)

    def raw(self, first: np.ndarray, second: np.ndarray, out: np.ndarray) -> None:
        """Write every row's raw score (baseline + leaf values in tree order) into ``out``, as Forest.raw does."""
        both = np.ascontiguousarray(np.hstack([first, second]) if self.second.any() else first)
        width = both.shape[1]
        column = np.where(self.second, self.index + first.shape[1], self.index)  # node columns in the joined matrix
        for start in range(0, len(both), _NUMPY_CHUNK):
            chunk = both[start : start + _NUMPY_CHUNK]
            m = len(chunk)
            flat = chunk.ravel()
            offsets = (np.arange(m, dtype=np.intp) * width)[None, :]
            idx = np.repeat(self.roots[:, None], m, axis=1)
            while True:
                x = flat[offsets + column[idx]]
                # float32 against float32, like the C kernel; NaN goes left only through the missing flag.
                go_left = (x <= self.threshold[idx]) | (np.isnan(x) & self.missing_left[idx])
                nxt = np.where(go_left, self.left[idx], self.right[idx])
                if np.array_equal(nxt, idx):  # every walk sits on a leaf (children come after parents: it ends)
                    break
                idx = nxt
            leaves = self.value[idx]
            acc = np.zeros(m)
            acc += self.baseline  # scikit-learn starts from zeros and adds the baseline, then each tree in order
            for t in range(len(leaves)):
                acc += leaves[t]
            out[start : start + m] = acc


class _Stage:
    """A stage's evaluator (compiled Forest or numpy walk) and its link function."""

    def __init__(self, arrays: StageArrays, ctrees: ModuleType | None) -> None:
        self.ctrees = ctrees
        if ctrees is not None:
            self.forest: Any = ctrees.Forest(
                np.ascontiguousarray(arrays.threshold, dtype=np.float32),
                np.ascontiguousarray(arrays.column, dtype=np.uint32),
                np.ascontiguousarray(arrays.left, dtype=np.int32),
                np.ascontiguousarray(arrays.right, dtype=np.int32),
                np.ascontiguousarray(arrays.value, dtype=np.float64),
                np.ascontiguousarray(arrays.roots, dtype=np.int32),
                float(arrays.baseline),
            )
        else:
            self.forest = _NumpyForest(arrays)

    def raw(self, X: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """Raw scores of every row of (float32, C-ordered) X and its context features."""
        second = X[:, :0] if context is None else context
        raw = np.empty(len(X))
        threads = _threads(len(X)) if self.ctrees is not None else 1
        if threads == 1:
            self.forest.raw(X, second, raw)
        else:  # the compiled forest releases the GIL: row chunks in parallel
            from concurrent.futures import ThreadPoolExecutor

            cuts = np.linspace(0, len(X), threads + 1).astype(int).tolist()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda a, b: self.forest.raw(X[a:b], second[a:b], raw[a:b]), cuts[:-1], cuts[1:]))
        return raw

    def proba(self, X: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """Probability of the positive class for every row."""
        return expit(self.raw(X, context), self.ctrees)


class RuntimeClassifier:
    """A fitted two-stage block classifier evaluated from its node arrays (no scikit-learn needed).

    ``predict_proba`` has the semantics of ``BlockClassifier.predict_proba``. ``compiled``: True requires
    bpdetect._ctrees, False uses the numpy walk, None (default) the compiled forest when it is available.
    """

    classes_ = np.array([0, 1])

    def __init__(
        self, stage1: StageArrays, stage2: StageArrays | None, n_features: int, *, compiled: bool | None = None
    ) -> None:
        if n_features < 1:
            raise ValueError("a model needs at least one feature")
        stage1.validate(n_features, 0)
        if stage2 is not None:
            stage2.validate(n_features, len(CONTEXT_FEATURE_NAMES))
        self.stage1 = stage1
        self.stage2 = stage2
        self.n_features_in_ = int(n_features)
        self.compiled = compiled
        self._build()

    def _build(self) -> None:
        ctrees = None if self.compiled is False else _speedups.load("_ctrees")
        if self.compiled and ctrees is None:
            raise RuntimeError("bpdetect._ctrees is not available (not built, or BPDETECT_PURE_PYTHON is set)")
        self._s1 = _Stage(self.stage1, ctrees)
        self._s2 = None if self.stage2 is None else _Stage(self.stage2, ctrees)
        self.is_compiled = ctrees is not None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled state: the arrays (the evaluators are rebuilt on unpickling; a compiled Forest cannot pickle)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_s1", "_s2", "is_compiled")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the arrays and rebuild the evaluators."""
        self.__dict__.update(state)
        self._build()

    def predict_proba(self, X: np.ndarray, *, doc: np.ndarray | None = None, chars: np.ndarray | None = None):
        """Probability of clutter (column 0) and content (column 1) for each block."""
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        if n == 0:
            return np.zeros((0, 2))
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {X.shape[1] if X.ndim == 2 else X.shape}")
        X = np.ascontiguousarray(X)
        p1 = self._s1.proba(X)
        if self._s2 is None:
            return np.column_stack([1 - p1, p1])
        chars = np.ones(n) if chars is None else np.asarray(chars)
        p2 = self._s2.proba(X, np.ascontiguousarray(context_features(p1, chars, doc_starts(doc, n))))
        return np.column_stack([1 - p2, p2])

    def predict(self, X: np.ndarray, *, doc: np.ndarray | None = None, chars: np.ndarray | None = None):
        """0/1 labels at probability 0.5 (a Detector applies the model's tuned threshold instead)."""
        return (self.predict_proba(X, doc=doc, chars=chars)[:, 1] >= 0.5).astype(np.int64)

    def feature_gains(self) -> np.ndarray:
        """Split gain of each block feature summed over both stages' trees (as bpdetect.explain reports it)."""
        gains = np.zeros(self.n_features_in_)
        for stage in (self.stage1, self.stage2):
            if stage is not None:
                stage.add_gains(gains)  # node order, stage 1 first: the order explain sums scikit-learn's trees in
        return gains

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the model, by file key (``stage1_*``, ``stage2_*``, ``n_features``)."""
        out = self.stage1.to_dict("stage1_")
        if self.stage2 is not None:
            out.update(self.stage2.to_dict("stage2_"))
        out["n_features"] = np.asarray(self.n_features_in_, dtype="<i8")
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], *, compiled: bool | None = None) -> RuntimeClassifier:
        """A classifier from ``arrays()``'s keys; ValueError on anything missing, extra, mistyped or malformed."""
        has2 = any(k.startswith("stage2_") for k in arrays)
        expected = set(cls._keys(has2))
        if set(arrays) != expected:
            extra, missing = sorted(set(arrays) - expected), sorted(expected - set(arrays))
            raise ValueError(f"unexpected arrays {extra}, missing arrays {missing}")
        nf = np.asarray(arrays["n_features"])
        if nf.dtype != np.dtype("<i8") or nf.ndim != 0:
            raise ValueError("n_features must be an int64 scalar")
        s1 = StageArrays.from_dict(arrays, "stage1_")
        s2 = StageArrays.from_dict(arrays, "stage2_") if has2 else None
        return cls(s1, s2, int(nf), compiled=compiled)

    @staticmethod
    def _keys(stage2: bool) -> list[str]:
        """The array keys of a model file."""
        names = [*NODE_DTYPES, *TREE_DTYPES, *SCALAR_DTYPES]
        return ["n_features"] + [f"stage{s}_{k}" for s in ((1, 2) if stage2 else (1,)) for k in names]

    @staticmethod
    def key_dtypes(stage2: bool) -> dict[str, tuple[str, int]]:
        """Each array key of a model file with its exact dtype and number of dimensions."""
        out: dict[str, tuple[str, int]] = {"n_features": ("<i8", 0)}
        for s in (1, 2) if stage2 else (1,):
            out.update({f"stage{s}_{k}": (d, 1) for k, d in {**NODE_DTYPES, **TREE_DTYPES}.items()})
            out[f"stage{s}_baseline"] = (SCALAR_DTYPES["baseline"], 0)
        return out
