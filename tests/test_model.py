"""BlockClassifier: fitting, determinism, the context pass and scikit-learn conventions."""

from __future__ import annotations

import numpy as np
import pytest

from bpdetect.model import CONTEXT_FEATURE_NAMES, BlockClassifier, context_features, doc_starts, quantize


def _toy(n_docs: int = 30, per_doc: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_docs * per_doc, 5)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    doc = np.repeat(np.arange(n_docs), per_doc)
    return X, y, doc


def test_doc_starts_marks_each_document_start():
    assert doc_starts(np.array([0, 0, 1, 1, 1, 2]), 6).tolist() == [0, 2, 5]
    assert doc_starts(None, 4).tolist() == [0]
    assert doc_starts(None, 0).tolist() == []


def test_context_features_respect_document_edges():
    p = np.array([0.1, 0.9, 0.8, 0.2, 0.7])
    out = context_features(p, np.ones(5), np.array([0, 3]))
    names = list(CONTEXT_FEATURE_NAMES)
    prev1 = out[:, names.index("ctx_p_prev1")]
    nxt1 = out[:, names.index("ctx_p_next1")]
    assert prev1[0] == -1.0 and prev1[3] == -1.0  # first block of each document has no previous block
    assert nxt1[2] == -1.0 and nxt1[4] == -1.0  # last block of each document has no next block
    assert prev1[1] == pytest.approx(0.1)
    doc_max = out[:, names.index("ctx_p_doc_max")]
    assert doc_max.tolist() == pytest.approx([0.9, 0.9, 0.9, 0.7, 0.7])
    assert np.isfinite(out).all()


def test_fit_predict_learns_and_is_deterministic():
    X, y, doc = _toy()
    a = BlockClassifier(max_iter=30, context=True, context_folds=2).fit(X, y, doc=doc)
    b = BlockClassifier(max_iter=30, context=True, context_folds=2).fit(X, y, doc=doc)
    pa = a.predict_proba(X, doc=doc)
    assert pa.shape == (len(X), 2)
    assert np.allclose(pa.sum(axis=1), 1.0)
    assert np.array_equal(pa, b.predict_proba(X, doc=doc))
    assert (a.predict(X, doc=doc) == y).mean() > 0.85


def test_predict_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BlockClassifier().predict_proba(np.zeros((2, 3)))


def test_wrong_feature_count_is_refused():
    X, y, doc = _toy()
    clf = BlockClassifier(max_iter=10, context=False).fit(X, y, doc=doc)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(np.zeros((3, 4), np.float32))


def test_empty_input_gives_empty_output():
    X, y, doc = _toy()
    clf = BlockClassifier(max_iter=10, context=False).fit(X, y, doc=doc)
    assert clf.predict_proba(np.zeros((0, 5), np.float32)).shape == (0, 2)


def test_init_only_stores_params():
    clf = BlockClassifier(max_iter=7, context=False)
    assert clf.get_params()["max_iter"] == 7
    assert not hasattr(clf, "stage1_")


def test_quantize_is_monotone():
    edges = [np.array([0.0, 1.0, 2.0], np.float32)]
    q = quantize(np.array([[-1.0], [0.0], [0.5], [1.0], [5.0]], np.float32), edges)
    assert q[:, 0].tolist() == [0, 1, 1, 2, 3]


@pytest.mark.parametrize("context", [False, True])
def test_binned_fast_path_matches_scikit_learn(context):
    # Values between, on and beyond the training quantile edges, plus features with few distinct values.
    X, y, doc = _toy(n_docs=40)
    X[:, 3] = np.round(X[:, 3])
    clf = BlockClassifier(max_iter=25, context=context, context_folds=2).fit(X, y, doc=doc)
    rng = np.random.default_rng(1)
    Xt = np.vstack([X, rng.normal(scale=3.0, size=(200, 5)).astype(np.float32), np.float32(clf.bin_edges_[0][:5, None])
                    * np.ones((1, 5), np.float32)])
    Xt = np.vstack([Xt, np.full((3, 5), np.nan, np.float32)])  # NaN must bin as scikit-learn's path bins it
    dt = np.concatenate([doc, np.full(200, 99), np.full(5, 100), np.full(3, 101)])
    assert clf._fast() is not None
    fast = clf.predict_proba(Xt, doc=dt)
    reference = clf._predict_proba_sklearn(Xt, doc=dt, chars=None)
    assert np.allclose(fast, reference, rtol=0, atol=1e-12)


def test_saved_state_leaves_out_the_fast_predictors():
    X, y, doc = _toy()
    clf = BlockClassifier(max_iter=5, context=False).fit(X, y, doc=doc)
    clf.predict_proba(X, doc=doc)
    assert "_fast_stages" in clf.__dict__
    assert "_fast_stages" not in clf.__getstate__()
