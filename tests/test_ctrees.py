"""The compiled tree evaluator (bpdetect._ctrees) gives bitwise the probabilities of scikit-learn's predict_proba.

The comparisons with the compiled module skip when it is not built; the threshold folding it relies on and the
pure-Python fallback (_BinnedStage) are checked either way.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from bpdetect import _speedups
from bpdetect import runtime as runtime_module
from bpdetect.features import featurize
from bpdetect.lexicon import Lexicon
from bpdetect.model import BlockClassifier, _code_split, _float32_at_most, quantize, stage_arrays
from bpdetect.persist import load_model
from bpdetect.runtime import RuntimeClassifier, _Stage
from bpdetect.segment import segment

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
# A directory holding the scikit-learn (.skops + .json) versions of the shipped models, which the package itself
# ships as .npz only; without it the comparisons use tiny models trained on datasets/sample.
REFERENCE = os.environ.get("BPDETECT_REFERENCE_MODELS")
ctrees = _speedups.load("_ctrees")
compiled = pytest.mark.skipif(ctrees is None, reason="bpdetect._ctrees is not built (or BPDETECT_PURE_PYTHON is set)")

F32 = np.float32
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 3.4e38, -3.4e38, 1e-45, -1e-45, 1e30, -1e30], dtype=F32)


@cache
def shipped(kind: str) -> BlockClassifier:
    """The scikit-learn classifier of a shipped model (BPDETECT_REFERENCE_MODELS), else a tiny trained one."""
    if REFERENCE:
        return load_model(Path(REFERENCE) / f"{kind}.skops").classifier
    from _models import tiny_bundle

    return tiny_bundle(kind).classifier


def fresh(kind: str) -> BlockClassifier:
    """A shipped classifier with no fast predictors built yet."""
    return pickle.loads(pickle.dumps(shipped(kind)))


@cache
def real_chunks(kind: str, lexicon: Lexicon | None = None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(X, doc, chars) chunks of 8 featurized pages: the committed fixtures, plus dataset pages when present.

    With a ``lexicon`` (a model's lexical stage), X ends with its logit column, as the model reads it.
    """
    raws = [p.read_bytes() for p in sorted((ROOT / "datasets" / "sample" / "pages").glob("*.html"))]
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "dumps").glob("*.txt"))]
    if DATASETS.is_dir():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from speed import load_pages

        raws += [raw for _, raw in load_pages(DATASETS, 97, None)]
    docs = [segment(raw) for raw in raws]
    if kind == "text":  # the text model reads plain text: the fixtures' dumps and the pages' block texts
        pages = ["\n\n".join(b.text for b in d.blocks) for d in docs]
        docs = [segment(t, input="text") for t in texts + [p for p in pages if p]]
    docs = [d for d in docs if d.blocks and d.source == kind]
    chunks = []
    for i in range(0, len(docs), 8):
        part = docs[i : i + 8]
        X = np.vstack([featurize(d.blocks) for d in part])
        if lexicon is not None:
            X = np.hstack([X, lexicon.logit([b.text for d in part for b in d.blocks])[:, None]])
        doc = np.repeat(np.arange(len(part)), [len(d.blocks) for d in part])
        chars = np.array([b.n_chars for d in part for b in d.blocks], dtype=np.float64)
        chunks.append((X, doc, chars))
    return chunks


def adversarial(clf: BlockClassifier, seed: int) -> np.ndarray:
    """Rows of special values, quantile edges and their float32 neighbours, and random mixes of all of these."""
    rng = np.random.default_rng(seed)
    nf = clf.n_features_in_
    pool = [SPECIAL]
    for e in clf.bin_edges_:
        e = np.asarray(e, dtype=F32)
        pool += [e, np.nextafter(e, F32(np.inf)), np.nextafter(e, F32(-np.inf))]
    pool = np.concatenate(pool)
    rows = [np.full((1, nf), v, dtype=F32) for v in SPECIAL]  # every feature NaN, inf, zero, huge...
    # Each feature at each of its own edges (and neighbours), the other features random.
    for shift in (0.0, np.inf, -np.inf):
        block = np.empty((64, nf), dtype=F32)
        for j, e in enumerate(clf.bin_edges_):
            e = np.asarray(e, dtype=F32)
            e = e if shift == 0.0 else np.nextafter(e, F32(shift))
            block[:, j] = e[rng.integers(0, len(e), 64)] if len(e) else rng.choice(SPECIAL, 64)
        rows.append(block)
    rows.append(rng.choice(pool, size=(200, nf)).astype(F32))
    rows.append(rng.normal(scale=1e3, size=(100, nf)).astype(F32))
    return np.vstack(rows)


def assert_matches_sklearn(clf: BlockClassifier, X: np.ndarray, doc=None, chars=None) -> None:
    """predict_proba equals the scikit-learn reference bitwise (NaN in the same places)."""
    fast = clf.predict_proba(X, doc=doc, chars=chars)
    reference = clf._predict_proba_sklearn(np.asarray(X, dtype=F32), doc=doc, chars=chars)
    assert fast.shape == reference.shape
    assert np.array_equal(fast, reference, equal_nan=True)


# --- the threshold folding (pure Python, always checked) ----------------------------------------------------


def _float32_probes(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # float64 values beyond float32's range become infinities
        v = values[np.isfinite(values)].astype(F32)
        return np.concatenate([v, np.nextafter(v, F32(np.inf)), np.nextafter(v, F32(-np.inf)), SPECIAL])


def test_float32_threshold_decides_every_float32_like_the_float64_one():
    rng = np.random.default_rng(0)
    t = np.concatenate(
        [rng.normal(size=300), rng.normal(scale=1e38, size=50), [0.0, -0.0, 0.5, np.inf, -np.inf, 1e300, -1e300]]
    )
    t = np.concatenate([t, np.float32(t[:100]).astype(np.float64), np.float32(t[:100]) + 1e-12])
    f = _float32_at_most(t)
    assert f.dtype == F32
    x = _float32_probes(np.concatenate([t, f.astype(np.float64)]))
    with np.errstate(invalid="ignore"):
        assert np.array_equal(x[:, None] <= f[None, :], x[:, None].astype(np.float64) <= t[None, :])


@pytest.mark.parametrize(
    "edges",
    [
        [0.0, 1.0, 2.0],
        [-np.inf, 0.0, np.inf],
        [-3.5, 1e-30, 7.25, 1e38],
        [0.5],
        [],
        [1.0, np.nan],
    ],
)
def test_code_split_matches_quantize_then_threshold(edges):
    q = np.asarray(edges, dtype=F32)
    t = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 3.5, 10.0, np.inf])
    threshold, missing_left = _code_split(q, t)
    x = _float32_probes(np.concatenate([q.astype(np.float64), [0.0, 1.0, -1.0]]))
    code = quantize(x[:, None], [q])[:, 0].astype(np.float64)
    expected = code[:, None] <= t[None, :]
    with np.errstate(invalid="ignore"):
        got = (x[:, None] <= threshold[None, :]) | (np.isnan(x)[:, None] & missing_left[None, :])
    assert np.array_equal(got, expected)


# --- the compiled forest against scikit-learn ---------------------------------------------------------------


@compiled
@pytest.mark.parametrize("kind", ["html", "text"])
def test_shipped_models_on_real_pages_are_bitwise_equal(kind):
    clf = fresh(kind)
    chunks = real_chunks(kind)
    assert chunks
    assert isinstance(clf._fast(), RuntimeClassifier)
    for X, doc, chars in chunks:
        assert_matches_sklearn(clf, X, doc, chars)
        assert_matches_sklearn(clf, X)  # no document ids / block sizes: one document, unit weights


@compiled
@pytest.mark.parametrize("kind", ["html", "text"])
@pytest.mark.parametrize("seed", [0, 1])
def test_shipped_models_on_adversarial_values_are_bitwise_equal(kind, seed):
    clf = fresh(kind)
    X = adversarial(clf, seed)
    doc = np.repeat(np.arange(len(X) // 7 + 1), 7)[: len(X)]
    assert_matches_sklearn(clf, X, doc, np.abs(np.nan_to_num(X[:, 0])) + 1)
    for row in (X[:1], X[5:6], X[-1:]):  # single rows
        assert_matches_sklearn(clf, row)
    assert clf.predict_proba(X[:0]).shape == (0, 2)


@compiled
@pytest.mark.parametrize("kind", ["html", "text"])
def test_stage_two_on_adversarial_context_features(kind):
    # Context features are never NaN or infinite in practice; the forest still decides them as scikit-learn does.
    clf = fresh(kind)
    c2 = clf._fast()._s2
    rng = np.random.default_rng(2)
    X = adversarial(clf, 3)[:300]
    thresholds = np.concatenate([p[0].nodes["num_threshold"] for p in clf.stage2_._predictors])
    probes = _float32_probes(thresholds)
    ctx = rng.choice(probes, size=(len(X), clf.stage2_.n_features_in_ - clf.n_features_in_)).astype(F32)
    raw = np.empty(len(X))
    c2.forest.raw(np.ascontiguousarray(X), ctx, raw)
    reference = clf.stage2_._raw_predict(np.hstack([quantize(X, clf.bin_edges_), ctx]))[:, 0]
    assert np.array_equal(raw, reference)


def _nan_stage(seed: int) -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    """A booster fitted with NaN in its training data (so splits send missing values both ways)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 6)).astype(F32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    X[rng.random(X.shape) < 0.2] = np.nan
    y[np.isnan(X[:, 0])] = rng.integers(0, 2, int(np.isnan(X[:, 0]).sum()))
    X[:, 5] = np.round(X[:, 5])  # a feature with few distinct values
    stage = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=seed).fit(X, y)
    return stage, X


@compiled
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_raw_thresholds_and_missing_values_follow_scikit_learn(seed):
    stage, X = _nan_stage(seed)
    splits = [p[0].nodes[p[0].nodes["is_leaf"] == 0] for p in stage._predictors]
    missing_left = np.concatenate([s["missing_go_to_left"] for s in splits])
    assert 0 < missing_left.mean() < 1  # both directions occur
    forest = _Stage(stage_arrays(stage, []), ctrees).forest  # no quantized features: every column is read raw
    rng = np.random.default_rng(seed + 10)
    thresholds = np.concatenate([p[0].nodes["num_threshold"] for p in stage._predictors])
    Xt = np.vstack([X, rng.choice(_float32_probes(thresholds), size=(2000, X.shape[1])).astype(F32)])
    raw = np.empty(len(Xt))
    forest.raw(Xt, Xt, raw)
    assert np.array_equal(raw, stage._raw_predict(Xt)[:, 0])


@compiled
@pytest.mark.parametrize("context", [False, True])
def test_freshly_fitted_models_are_bitwise_equal(context):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1200, 5)).astype(F32)
    X[:, 3] = np.round(X[:, 3])
    y = (X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    doc = np.repeat(np.arange(60), 20)
    clf = BlockClassifier(max_iter=25, context=context, context_folds=2).fit(X, y, doc=doc)
    assert isinstance(clf._fast(), RuntimeClassifier)
    Xt = np.vstack([X, adversarial(clf, 5)])
    assert_matches_sklearn(clf, Xt, np.repeat(np.arange(len(Xt) // 20 + 1), 20)[: len(Xt)])


@compiled
def test_big_batches_split_over_threads_give_the_same_scores(monkeypatch):
    clf = fresh("html")
    X = np.vstack([X for X, _, _ in real_chunks("html")] + [adversarial(clf, 6)])
    one = clf.predict_proba(X)
    monkeypatch.setattr(runtime_module, "_threads", lambda n: 3)
    assert np.array_equal(clf.predict_proba(X), one)
    assert_matches_sklearn(clf, X)


@compiled
def test_compiled_forests_are_built_once_under_concurrent_first_use():
    clf = fresh("html")
    X, doc, chars = real_chunks("html")[0]
    expected = clf._predict_proba_sklearn(X, doc=doc, chars=chars)
    built, results = [], []
    original = clf._compiled_stages

    def counting():
        built.append(1)
        return original()

    clf._compiled_stages = counting
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        results.append(clf.predict_proba(X, doc=doc, chars=chars))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert len(results) == 4 and all(np.array_equal(r, expected) for r in results)


@compiled
def test_saved_state_and_pickles_leave_out_the_forests():
    clf = fresh("html")
    X, doc, chars = real_chunks("html")[0]
    p = clf.predict_proba(X, doc=doc, chars=chars)
    assert isinstance(clf.__dict__["_fast_stages"], RuntimeClassifier)
    assert "_fast_stages" not in clf.__getstate__()
    assert "_fast_stages" in clf.__dict__  # saving leaves the live cache alone
    again = pickle.loads(pickle.dumps(clf))
    assert "_fast_stages" not in again.__dict__
    assert np.array_equal(again.predict_proba(X, doc=doc, chars=chars), p)
    with pytest.raises(TypeError):
        pickle.dumps(clf.__dict__["_fast_stages"]._s1.forest)


@compiled
def test_forest_refuses_malformed_trees_and_matrices():
    one = np.ones(3, dtype=np.float64)
    args = dict(
        threshold=np.zeros(3, F32),
        column=np.zeros(3, np.uint32),
        left=np.array([1, 1, 2], np.int32),
        right=np.array([2, 1, 2], np.int32),
        value=one,
        roots=np.array([0], np.int32),
        baseline=0.5,
    )
    forest = ctrees.Forest(*args.values())
    out = np.empty(2)
    forest.raw(np.array([[-1.0], [1.0]], F32), np.zeros((2, 0), F32), out)
    assert out.tolist() == [1.5, 1.5]
    for key, bad in [
        ("left", np.array([5, 1, 2], np.int32)),  # child outside the forest
        ("right", np.array([0, 1, 2], np.int32)),  # child before its parent (a cycle)
        ("roots", np.array([1], np.int32)),
        ("roots", np.array([0, 0], np.int32)),  # an empty tree
        ("value", np.ones(2)),
    ]:
        with pytest.raises(ValueError):
            ctrees.Forest(*{**args, key: bad}.values())
    with pytest.raises(ValueError):
        forest.raw(np.zeros((2, 0), F32), np.zeros((2, 0), F32), out)  # the trees read column 0
    with pytest.raises(ValueError):
        forest.raw(np.zeros((3, 1), F32), np.zeros((3, 0), F32), out)  # row counts differ


# --- the pure-Python fallback -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "text"])
def test_binned_fallback_is_bitwise_equal_too(kind, monkeypatch):
    monkeypatch.setattr(_speedups, "load", lambda name: None)
    clf = fresh(kind)
    fast = clf._fast()
    assert fast is not None and not isinstance(fast, RuntimeClassifier)
    X, doc, chars = real_chunks(kind)[0]
    assert_matches_sklearn(clf, X, doc, chars)
    assert_matches_sklearn(clf, adversarial(clf, 7))
