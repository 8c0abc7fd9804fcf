"""The lexical stage: hashed n-gram logistic regression, out-of-fold fitting, and models that carry it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from _models import tiny_bundle

from bpdetect import lexicon
from bpdetect.extract import Detector
from bpdetect.features import FEATURE_NAMES, featurize
from bpdetect.lexicon import LEXICAL_FEATURE, LOGIT_CLIP, Lexicon, fit_out_of_fold
from bpdetect.persist import ModelError, load_model, read_sidecar, save_model, sidecar_path
from bpdetect.segment import segment_text

CLUTTER = ["Subscribe to our newsletter", "Get the free printable!", "View deal at the shop", "Join our newsletter"]
ARTICLE = [
    "The council voted to repair the old footbridge next spring.",
    "Engineers found rust in the bridge's steel beams last year.",
    "Residents said the bridge is the quickest way to the market.",
    "Repairs will close the footbridge for about six weeks.",
]


def _toy() -> tuple[list[str], np.ndarray]:
    texts = CLUTTER * 5 + ARTICLE * 5
    return texts, np.array([0] * 20 + [1] * 20)


def test_lexicon_scores_unseen_lines_by_their_words():
    texts, y = _toy()
    lex = Lexicon.fit(texts, y)
    z = lex.logit(["Subscribe to the printable newsletter", "The bridge repairs start next spring."])
    assert z.dtype == np.float32
    assert z[0] < 0 < z[1]
    assert lex.logit([]).shape == (0,)
    assert np.all(np.abs(lex.logit(["x" * 5000, ""])) <= LOGIT_CLIP)


def test_lexicon_is_deterministic_and_round_trips_its_params():
    texts, y = _toy()
    a, b = Lexicon.fit(texts, y), Lexicon.fit(texts, y)
    assert np.array_equal(a.coef, b.coef) and a.intercept == b.intercept
    params = json.loads(json.dumps(a.params()))
    c = Lexicon.from_params(params, a.coef, a.intercept)
    assert np.array_equal(c.logit(texts), a.logit(texts))
    assert params["feature"] == LEXICAL_FEATURE


@pytest.mark.parametrize(
    "bad",
    [
        {"feature": "other", "buckets": 16, "word_ngrams": [1, 2], "char_ngrams": None},
        {"feature": LEXICAL_FEATURE, "word_ngrams": [1, 2]},
        {"feature": LEXICAL_FEATURE, "buckets": 16, "word_ngrams": [1], "char_ngrams": None},
        {"feature": LEXICAL_FEATURE, "buckets": 32, "word_ngrams": [1, 2], "char_ngrams": None},  # 16 weights only
        {"feature": LEXICAL_FEATURE, "buckets": 0, "word_ngrams": [1, 2], "char_ngrams": None},
        {"feature": LEXICAL_FEATURE, "buckets": 16, "word_ngrams": [1, 100000], "char_ngrams": None},
        {"feature": LEXICAL_FEATURE, "buckets": 8, "word_ngrams": [1, 2], "char_ngrams": [0, 4]},
        {"feature": LEXICAL_FEATURE, "buckets": 16, "word_ngrams": [2, 1], "char_ngrams": None},
    ],
)
def test_malformed_lexicon_settings_are_refused(bad):
    with pytest.raises(ValueError):
        Lexicon.from_params(bad, np.zeros(16, np.float32), 0.0)


def test_non_finite_weights_are_refused():
    coef = np.zeros(16, np.float32)
    coef[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        Lexicon(coef, 0.0, 16, (1, 1), None)


def test_out_of_fold_logits_do_not_know_their_own_fold():
    # "zebra" lines are content and occur in fold 0 only: the out-of-fold model for fold 0 never saw the word, so
    # those lines score lower there than under the model fitted on everything.
    texts = ["zebra crossing"] * 6 + ["menu login"] * 6 + ["long article sentence"] * 6
    y = np.array([1] * 6 + [0] * 6 + [1] * 6)
    folds = np.array([0] * 6 + [0, 0, 0, 1, 1, 1] + [1] * 6)
    full, oof = fit_out_of_fold(texts, y, np.ones(len(y)), folds, buckets=64, char_ngrams=None)
    assert oof.shape == (18,)
    assert oof[0] < full.logit(texts[:1])[0]
    assert np.isfinite(oof).all()


@pytest.fixture(scope="module")
def lexical_text_bundle():
    return tiny_bundle("text", lexical=True)


def test_lexical_model_saves_loads_and_scores_like_the_fitted_one(lexical_text_bundle, tmp_path):
    bundle = lexical_text_bundle
    assert bundle.lexicon is not None
    assert bundle.classifier.n_features_in_ == len(FEATURE_NAMES) + 1
    save_model(bundle, tmp_path / "t.npz")
    meta = read_sidecar(tmp_path / "t.npz")
    assert meta["lexicon"]["feature"] == LEXICAL_FEATURE
    loaded = load_model(tmp_path / "t.npz")
    assert np.array_equal(loaded.lexicon.coef, bundle.lexicon.coef)
    doc = segment_text("Related Posts\nThe council voted to repair the old footbridge.\nLeave a Reply\n")
    texts = [b.text for b in doc.blocks]
    X = featurize(doc.blocks)
    chars = np.array([b.n_chars for b in doc.blocks], dtype=np.float64)
    want = bundle.classifier.predict_proba(bundle.design(X, texts), doc=np.zeros(len(texts)), chars=chars)[:, 1]
    got = Detector(text_model=tmp_path / "t.npz").score(doc)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert bundle.design(X, texts).shape == (len(texts), len(FEATURE_NAMES) + 1)


def test_lexical_model_refuses_skops(lexical_text_bundle, tmp_path):
    with pytest.raises(ModelError, match="npz only"):
        save_model(lexical_text_bundle, tmp_path / "t.skops")


def _resign(path) -> None:
    """Make a sidecar's hash and size fit its (edited) model file again, as a tamperer would."""
    import hashlib

    side = sidecar_path(path)
    meta = json.loads(side.read_text())
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    meta["size"] = path.stat().st_size
    side.write_text(json.dumps(meta))


def test_sidecar_and_arrays_must_agree_on_the_lexical_stage(lexical_text_bundle, tmp_path):
    save_model(lexical_text_bundle, tmp_path / "t.npz")
    # A sidecar that hides the lexical stage: its arrays are then foreign members.
    hidden = tmp_path / "hidden.npz"
    shutil.copy(tmp_path / "t.npz", hidden)
    meta = read_sidecar(tmp_path / "t.npz")
    sidecar_path(hidden).write_text(json.dumps({k: v for k, v in meta.items() if k != "lexicon"}))
    _resign(hidden)
    with pytest.raises(ModelError, match="not those of a bpdetect model"):
        load_model(hidden)
    # A plain model whose sidecar claims a lexical stage: its arrays are missing.
    save_model(tiny_bundle("text"), tmp_path / "plain.npz")
    side = sidecar_path(tmp_path / "plain.npz")
    side.write_text(json.dumps({**json.loads(side.read_text()), "lexicon": meta["lexicon"]}))
    with pytest.raises(ModelError, match="not those of a bpdetect model"):
        load_model(tmp_path / "plain.npz")
    # Settings that do not fit the weights.
    bad = tmp_path / "bad.npz"
    shutil.copy(tmp_path / "t.npz", bad)
    sidecar_path(bad).write_text(json.dumps({**meta, "lexicon": {**meta["lexicon"], "buckets": 1024}}))
    _resign(bad)
    with pytest.raises(ModelError, match="shape"):
        load_model(bad)


def test_explain_report_counts_and_shows_the_lexical_feature(lexical_text_bundle, tmp_path):
    from bpdetect.explain import build_explanation, feature_importance

    save_model(lexical_text_bundle, tmp_path / "t.npz")
    det = Detector(text_model=tmp_path / "t.npz")
    text = "Related Posts\nThe council voted to repair the old footbridge next spring.\nLeave a Reply\n"
    report = build_explanation(text, detector=det, input="text")
    assert f"of {len(FEATURE_NAMES) + 1} features" in report.html
    assert len(feature_importance(det.bundle("text"))) == len(FEATURE_NAMES) + 1
    assert report.extraction.blocks[1].score == pytest.approx(float(det.score(text, input="text")[1]))


TRICKY_TEXTS = [
    "",
    "   ",
    "Get the FREE printable!",
    "İstanbul ÇAĞ straße ß",
    "a_b c\u00a0d\u2003e\tf",
    "🍷 Prenota qui la tua degustazione",
    "日本語のテキスト と 中文",
    "\x00\x1f x",
    "$649 at Best Buy – View deal",
    "x",
    "ab",
    ")",
    "}",
]


@pytest.mark.skipif(lexicon._CLEXICON is None, reason="the compiled _clexicon is not built")
@pytest.mark.parametrize("char", [(2, 4), (1, 1), None])
def test_compiled_hashing_and_dots_equal_the_python_twins(char):
    texts = TRICKY_TEXTS + [f"line {i} of the article, with words" * (i % 4) for i in range(50)]
    got = lexicon._CLEXICON.hash_ngrams(texts, 997, 1, 3, *(char or (0, 0)))
    want = lexicon.hash_ngrams_py(texts, 997, (1, 3), char)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    coef = np.random.default_rng(0).standard_normal(997 * (2 if char else 1)).astype(np.float32)
    np.testing.assert_allclose(
        lexicon._CLEXICON.dot_rows(*got, coef, 997), lexicon.dot_rows_py(*want, coef, 997), rtol=1e-12, atol=1e-12
    )


def test_hashing_counts_words_and_padded_char_ngrams():
    indptr, indices = lexicon.hash_ngrams_py(["Ab ab", ")"], 1 << 20, (1, 2), (2, 2))
    assert indptr.tolist() == [0, 9, 11]
    first = indices[: indptr[1]]
    # "ab" twice and the bigram "ab ab"; then " a", "ab", "b " for each of the two tokens.
    assert first[0] == first[1] != first[2]
    assert sorted(first[3:6].tolist()) == sorted(first[6:9].tolist())
    assert (first[3:] >= 1 << 20).all() and (first[:3] < 1 << 20).all()
    assert len(indices[indptr[1] :]) == 2  # ")" has no word; " )" and ") "


def test_training_matrix_and_scoring_path_agree():
    texts = [*TRICKY_TEXTS, "The council voted to repair the footbridge footbridge."]
    coef = np.random.default_rng(1).standard_normal(2 * 512).astype(np.float32)
    hashed = lexicon.hash_ngrams(texts, 512)
    M = lexicon.vectorize(texts, 512, hashed=hashed)
    np.testing.assert_allclose(M @ coef, lexicon.dot_rows(*hashed, coef, 512), rtol=1e-5, atol=1e-5)
    norms = np.sqrt(M[:, :512].multiply(M[:, :512]).sum(axis=1)).A1
    assert np.allclose(norms[norms > 0], 1.0)
    with pytest.raises(IndexError):
        lexicon.dot_rows(*hashed, coef[:100], 512)


def test_model_info_names_the_lexical_stage(lexical_text_bundle, tmp_path):
    from typer.testing import CliRunner

    from bpdetect.cli import app

    save_model(lexical_text_bundle, tmp_path / "t.npz")
    out = CliRunner().invoke(app, ["model", "info", str(tmp_path / "t.npz")])
    assert out.exit_code == 0, out.output
    assert f"lexical:    {LEXICAL_FEATURE}: word [1, 2]-grams, char [2, 4]-grams" in out.output
