"""Model files: round trip, metadata, and refusal of truncated, tampered, foreign or incompatible files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from _models import tiny_bundle

from bpdetect.features import FEATURE_NAMES
from bpdetect.persist import ModelError, load_model, read_sidecar, save_model, sidecar_path


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.skops"
    save_model(tiny_bundle("html"), path)
    return path


def _copy(saved, tmp_path):
    dst = tmp_path / "m.skops"
    shutil.copy(saved, dst)
    shutil.copy(sidecar_path(saved), sidecar_path(dst))
    return dst


def test_round_trip_predicts_the_same(saved):
    bundle = tiny_bundle("html")
    loaded = load_model(saved)
    X = np.random.default_rng(0).random((25, len(FEATURE_NAMES))).astype(np.float32)
    assert np.array_equal(bundle.classifier.predict_proba(X), loaded.classifier.predict_proba(X))
    assert loaded.threshold == bundle.threshold
    assert loaded.input == "html"


def test_sidecar_records_schema_versions_and_hash(saved):
    meta = read_sidecar(saved)
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert {"bpdetect", "scikit-learn", "numpy", "python"} <= set(meta["versions"])
    assert len(meta["sha256"]) == 64
    assert meta["training"]["corpora"][0]["name"] == "sample"


def test_truncated_file_is_refused(saved, tmp_path):
    dst = _copy(saved, tmp_path)
    dst.write_bytes(dst.read_bytes()[:100])
    with pytest.raises(ModelError, match="truncated or modified"):
        load_model(dst)


def test_tampered_file_is_refused(saved, tmp_path):
    dst = _copy(saved, tmp_path)
    data = bytearray(dst.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dst.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="truncated or modified"):
        load_model(dst)


def test_missing_sidecar_is_refused(saved, tmp_path):
    dst = tmp_path / "lonely.skops"
    shutil.copy(saved, dst)
    with pytest.raises(ModelError, match="metadata not found"):
        load_model(dst)


def test_wrong_schema_is_refused(saved, tmp_path):
    dst = _copy(saved, tmp_path)
    meta = json.loads(sidecar_path(dst).read_text())
    meta["feature_schema_version"] = -1
    sidecar_path(dst).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="feature schema"):
        load_model(dst)


def test_library_version_mismatch_is_refused_unless_forced(saved, tmp_path):
    dst = _copy(saved, tmp_path)
    meta = json.loads(sidecar_path(dst).read_text())
    meta["versions"]["scikit-learn"] = "0.1.0"
    sidecar_path(dst).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"scikit-learn 0\.1\.0"):
        load_model(dst)
    assert load_model(dst, allow_version_mismatch=True).input == "html"


def test_foreign_json_is_refused(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    (tmp_path / "x.skops").write_bytes(b"nothing")
    with pytest.raises(ModelError, match="not a bpdetect model"):
        load_model(tmp_path / "x.skops")


def test_presets_and_thresholds():
    bundle = tiny_bundle("html")
    assert bundle.threshold_for(None) == bundle.threshold
    assert bundle.threshold_for(0.3) == 0.3
    with pytest.raises(ValueError):
        bundle.threshold_for(1.5)
    with pytest.raises(ValueError, match="unknown preset"):
        bundle.threshold_for("nonsense")
