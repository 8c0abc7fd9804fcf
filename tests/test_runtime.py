""".npz models and the scikit-learn-free RuntimeClassifier: bitwise the scores of scikit-learn, compiled or numpy.

The scikit-learn references are tiny models trained on datasets/sample, plus the shipped models' own .skops files
when BPDETECT_REFERENCE_MODELS names a directory holding them (the package ships only the .npz conversions).
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _models import tiny_bundle
from test_ctrees import adversarial, real_chunks

from bpdetect import _speedups
from bpdetect import runtime as runtime_module
from bpdetect.explain import feature_importance
from bpdetect.features import FEATURE_NAMES
from bpdetect.persist import (
    ModelError,
    _npz_bytes,
    _sha256,
    convert_model,
    load_model,
    read_sidecar,
    save_model,
    sidecar_path,
)
from bpdetect.runtime import RuntimeClassifier, StageArrays, _expit_python, expit

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "bpdetect" / "models"
REFERENCE = os.environ.get("BPDETECT_REFERENCE_MODELS")
ctrees = _speedups.load("_ctrees")
compiled = pytest.mark.skipif(ctrees is None, reason="bpdetect._ctrees is not built (or BPDETECT_PURE_PYTHON is set)")
F32 = np.float32


def evaluators(clf: RuntimeClassifier) -> list[RuntimeClassifier]:
    """The numpy walk of a classifier's arrays, and the compiled forest when it is built."""
    out = [RuntimeClassifier(clf.stage1, clf.stage2, clf.n_features_in_, compiled=False)]
    if ctrees is not None:
        out.append(RuntimeClassifier(clf.stage1, clf.stage2, clf.n_features_in_, compiled=True))
    return out


def matrices(kind: str, clf) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
    """Real feature matrices of pages (with and without document ids) and adversarial values."""
    out = []
    for X, doc, chars in real_chunks(kind)[:6]:
        out += [(X, doc, chars), (X, None, None)]
    X = adversarial(clf, 1)
    out.append((X, np.repeat(np.arange(len(X) // 7 + 1), 7)[: len(X)], np.abs(np.nan_to_num(X[:, 0])) + 1))
    out.append((X[:1], None, None))
    return out


@pytest.fixture(scope="module")
def tiny_npz(tmp_path_factory):
    """A tiny model saved as .skops and converted to .npz: (skops path, npz path)."""
    d = tmp_path_factory.mktemp("rt")
    save_model(tiny_bundle("html"), d / "m.skops")
    convert_model(d / "m.skops", d / "conv" / "m.npz")
    return d / "m.skops", d / "conv" / "m.npz"


# --- the link function -------------------------------------------------------------------------------------


def test_expit_is_scipys_bitwise():
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.normal(scale=s, size=50_000) for s in (0.5, 4.0, 40.0, 400.0)]
        + [np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.7, 709.8, -709.8, 745.2, -746.0, 1e308, -1e308])]
    )
    expected = special.expit(x)
    assert np.array_equal(_expit_python(x), expected, equal_nan=True)  # numpy fallback: math.exp (the C exp)
    if ctrees is not None:
        assert np.array_equal(expit(x, ctrees), expected, equal_nan=True)


# --- round trips: scikit-learn -> .npz -> the same probabilities -------------------------------------------


def _round_trip(skops_path: Path, npz_path: Path, kind: str) -> None:
    reference = load_model(skops_path).classifier
    loaded = load_model(npz_path).classifier
    assert isinstance(loaded, RuntimeClassifier)
    for X, doc, chars in matrices(kind, reference):
        expected = reference._predict_proba_sklearn(np.asarray(X, dtype=F32), doc=doc, chars=chars)
        for ev in evaluators(loaded):
            assert np.array_equal(ev.predict_proba(X, doc=doc, chars=chars), expected, equal_nan=True), ev.is_compiled


@pytest.mark.parametrize("kind", ["html", "text"])
def test_tiny_models_round_trip_bitwise(kind, tmp_path):
    save_model(tiny_bundle(kind), tmp_path / "m.skops")
    convert_model(tmp_path / "m.skops", tmp_path / "npz" / "m.npz")
    _round_trip(tmp_path / "m.skops", tmp_path / "npz" / "m.npz", kind)


def test_single_stage_model_round_trips(tmp_path):
    bundle = tiny_bundle("html", context=False)
    save_model(bundle, tmp_path / "m.npz")  # straight from the fitted BlockClassifier
    loaded = load_model(tmp_path / "m.npz").classifier
    assert loaded.stage2 is None
    X, doc, chars = real_chunks("html")[0]
    expected = bundle.classifier._predict_proba_sklearn(X, doc=doc, chars=chars)
    for ev in evaluators(loaded):
        assert np.array_equal(ev.predict_proba(X, doc=doc, chars=chars), expected)


@pytest.mark.skipif(not REFERENCE, reason="BPDETECT_REFERENCE_MODELS (the shipped models as .skops) is not set")
@pytest.mark.parametrize("kind", ["html", "text"])
def test_shipped_models_are_the_conversions_of_their_references(kind, tmp_path):
    src = Path(REFERENCE) / f"{kind}.skops"
    convert_model(src, tmp_path / f"{kind}.npz")
    assert (tmp_path / f"{kind}.npz").read_bytes() == (MODELS / f"{kind}.npz").read_bytes()
    assert read_sidecar(tmp_path / f"{kind}.npz") == read_sidecar(MODELS / f"{kind}.npz")
    _round_trip(src, MODELS / f"{kind}.npz", kind)


@pytest.mark.parametrize("kind", ["html", "text"])
def test_shipped_npz_models_numpy_walk_equals_compiled(kind):
    bundle = load_model(MODELS / f"{kind}.npz")
    meta = bundle.metadata
    # Written as .npz by `bpdetect train` (the text model) or converted from a .skops reference (the HTML model).
    assert meta["container"] == "npz"
    assert meta.get("converted_from", {"file": f"{kind}.skops"})["file"] == f"{kind}.skops"
    assert bundle.input == kind and bundle.presets
    evs = evaluators(bundle.classifier)
    if len(evs) < 2:
        pytest.skip("bpdetect._ctrees is not built")
    for X, doc, chars in real_chunks(kind, bundle.lexicon):
        a, b = (ev.predict_proba(X, doc=doc, chars=chars) for ev in evs)
        assert np.array_equal(a, b)


@compiled
def test_numpy_walk_equals_compiled_on_big_batches_and_special_values(monkeypatch):
    clf = load_model(MODELS / "html.npz").classifier
    rng = np.random.default_rng(3)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 3e38, -3e38, 1e-45], dtype=F32)
    X = np.vstack([rng.choice(special, size=(300, clf.n_features_in_)), rng.normal(size=(4700, clf.n_features_in_))])
    X = X.astype(F32)
    numpy_walk, forest = evaluators(clf)
    monkeypatch.setattr(runtime_module, "_NUMPY_CHUNK", 777)  # chunks of uneven size
    expected = forest.predict_proba(X)
    assert np.array_equal(numpy_walk.predict_proba(X), expected)
    monkeypatch.setattr(runtime_module, "_threads", lambda n: 3)  # the compiled forest over threads
    assert np.array_equal(forest.predict_proba(X), expected)


def test_conversion_is_deterministic(tiny_npz, tmp_path):
    src, npz = tiny_npz
    convert_model(src, tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == npz.read_bytes()
    meta, again = read_sidecar(npz), read_sidecar(tmp_path / "again.npz")
    assert {k: v for k, v in meta.items() if k != "file"} == {k: v for k, v in again.items() if k != "file"}


def test_runtime_classifier_contract(tiny_npz):
    clf = load_model(tiny_npz[1]).classifier
    X = np.random.default_rng(0).random((30, len(FEATURE_NAMES))).astype(F32)
    p = clf.predict_proba(X)
    assert p.shape == (30, 2) and np.allclose(p.sum(axis=1), 1)
    assert clf.predict_proba(X[:0]).shape == (0, 2)
    assert np.array_equal(clf.predict(X), (p[:, 1] >= 0.5).astype(np.int64))
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:, :5])
    again = pickle.loads(pickle.dumps(clf))  # the compiled forest is rebuilt, not pickled
    assert np.array_equal(again.predict_proba(X), p)


def test_explanations_get_the_same_feature_gains(tiny_npz):
    skops_bundle, npz_bundle = load_model(tiny_npz[0]), load_model(tiny_npz[1])
    gains = feature_importance(npz_bundle)
    assert gains.any()
    assert np.array_equal(gains, feature_importance(skops_bundle))


def test_cli_converts(tiny_npz, tmp_path):
    from typer.testing import CliRunner

    from bpdetect.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["model", "convert", str(tiny_npz[0]), str(tmp_path / "c.npz")])
    assert res.exit_code == 0, res.output
    assert "c.npz" in res.output and "trees" in res.output
    assert (tmp_path / "c.npz").read_bytes() == tiny_npz[1].read_bytes()
    res = runner.invoke(app, ["model", "convert", str(tiny_npz[0]), str(tiny_npz[0].with_suffix(".npz"))])
    assert res.exit_code != 0 and "share the sidecar" in res.output  # it would overwrite the source's sidecar
    res = runner.invoke(app, ["model", "convert", str(tiny_npz[0]), str(tmp_path / "c.bin")])
    assert res.exit_code != 0 and ".npz" in res.output


def test_a_runtime_classifier_cannot_be_saved_as_skops(tiny_npz, tmp_path):
    bundle = load_model(tiny_npz[1])
    with pytest.raises(ModelError, match="npz"):
        save_model(bundle, tmp_path / "x.skops")
    save_model(bundle, tmp_path / "x.npz")  # re-saving the arrays works, and keeps the bytes
    assert (tmp_path / "x.npz").read_bytes() == tiny_npz[1].read_bytes()


def test_version_one_skops_sidecars_still_load(tiny_npz, tmp_path):
    src = tiny_npz[0]
    dst = tmp_path / "old.skops"
    dst.write_bytes(src.read_bytes())
    meta = read_sidecar(src)
    meta["format_version"] = 1
    del meta["container"]
    sidecar_path(dst).write_text(json.dumps(meta))
    assert load_model(dst).input == "html"


# --- refusals ----------------------------------------------------------------------------------------------


def _install(path: Path, data: bytes, like: Path, **changes) -> Path:
    """Write model bytes to path with a copy of like's sidecar that matches them (size, SHA-256)."""
    path.write_bytes(data)
    meta = read_sidecar(like)
    meta.update(changes, size=path.stat().st_size, sha256=_sha256(path), file=path.name)
    sidecar_path(path).write_text(json.dumps(meta))
    return path


def _arrays(npz: Path) -> dict[str, np.ndarray]:
    with np.load(npz, allow_pickle=False) as z:
        return {k: z[k].copy() for k in z.files}


def _tamper(arrays: dict[str, np.ndarray], key: str, fn) -> dict[str, np.ndarray]:
    out = dict(arrays)
    out[key] = fn(out[key].copy())
    return out


def _set(index: int, value):
    def fn(a):
        a[index] = value
        return a

    return fn


def _first_split(arrays: dict[str, np.ndarray]) -> int:
    return int(np.flatnonzero(arrays["stage1_left"] != np.arange(len(arrays["stage1_left"])))[0])


TAMPERINGS = {
    "child outside its tree": lambda a: _tamper(a, "stage1_left", _set(_first_split(a), 10**6)),
    "child before its parent (a cycle)": lambda a: _tamper(a, "stage1_right", _set(_first_split(a) + 1, 0)),
    "self-loop on a split": lambda a: _tamper(a, "stage2_left", _set(0, 0)),
    "column beyond the features": lambda a: _tamper(a, "stage1_column", _set(_first_split(a), 5000)),
    "context column in stage 1": lambda a: _tamper(a, "stage1_column", _set(_first_split(a), 0x40000000)),
    "roots not from node 0": lambda a: _tamper(a, "stage1_roots", lambda r: r + 1),
    "roots out of order": lambda a: _tamper(a, "stage1_roots", lambda r: r[::-1].copy()),
    "NaN leaf value": lambda a: _tamper(a, "stage1_value", lambda v: np.where(v != 0, np.nan, v)),
    "infinite baseline": lambda a: {**a, "stage2_baseline": np.asarray(np.inf)},
    "wrong dtype": lambda a: _tamper(a, "stage1_threshold", lambda t: t.astype(np.float64)),
    "wrong shape": lambda a: _tamper(a, "stage1_value", lambda v: v[:-1]),
    "a matrix instead of a vector": lambda a: _tamper(a, "stage1_gain", lambda g: g.reshape(1, -1)),
    "missing array": lambda a: {k: v for k, v in a.items() if k != "stage1_gain"},
    "extra array": lambda a: {**a, "payload": np.zeros(3)},
    "wrong feature count": lambda a: {**a, "n_features": np.asarray(5, dtype=np.int64)},
}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_tampered_arrays_are_refused(tiny_npz, tmp_path, how):
    arrays = TAMPERINGS[how](_arrays(tiny_npz[1]))
    path = _install(tmp_path / "t.npz", _npz_bytes(arrays), tiny_npz[1])
    with pytest.raises(ModelError):
        load_model(path)


def test_flipped_bytes_with_a_matching_sidecar_are_refused_or_harmless(tiny_npz, tmp_path):
    data = tiny_npz[1].read_bytes()
    original = _arrays(tiny_npz[1])
    refused = 0
    for where in np.linspace(0, len(data) - 1, 60).astype(int).tolist():
        flipped = bytearray(data)
        flipped[where] ^= 0xFF
        path = _install(tmp_path / "f.npz", bytes(flipped), tiny_npz[1])
        try:
            clf = load_model(path).classifier
        except ModelError:
            refused += 1
            continue
        # A byte no reader uses (a timestamp, a file attribute) changes nothing.
        assert all(np.array_equal(v, original[k], equal_nan=True) for k, v in clf.arrays().items())
    assert refused >= 50


def test_truncated_npz_is_refused(tiny_npz, tmp_path):
    path = tmp_path / "t.npz"
    _install(path, tiny_npz[1].read_bytes(), tiny_npz[1])
    path.write_bytes(path.read_bytes()[:500])  # sidecar no longer matches
    with pytest.raises(ModelError, match="truncated or modified"):
        load_model(path)
    _install(path, tiny_npz[1].read_bytes()[:500], tiny_npz[1])  # sidecar matches the truncated file
    with pytest.raises(ModelError, match="not a readable"):
        load_model(path)


def test_wrong_schema_or_container_is_refused(tiny_npz, tmp_path):
    data = tiny_npz[1].read_bytes()
    with pytest.raises(ModelError, match="feature schema"):
        load_model(_install(tmp_path / "a.npz", data, tiny_npz[1], feature_schema_version=-1))
    with pytest.raises(ModelError, match="feature schema"):
        load_model(_install(tmp_path / "b.npz", data, tiny_npz[1], feature_names=["x"]))
    with pytest.raises(ModelError, match="context features"):
        load_model(_install(tmp_path / "c.npz", data, tiny_npz[1], context_feature_names=["ctx_other"]))
    with pytest.raises(ModelError, match="sidecar describes a skops model"):
        load_model(_install(tmp_path / "d.npz", data, tiny_npz[1], container="skops"))
    with pytest.raises(ModelError, match="format version"):
        load_model(_install(tmp_path / "e.npz", data, tiny_npz[1], format_version=1))


def test_npz_models_ignore_the_scikit_learn_version(tiny_npz, tmp_path):
    versions = {**read_sidecar(tiny_npz[1])["versions"], "scikit-learn": "0.1.0"}
    assert load_model(_install(tmp_path / "v.npz", tiny_npz[1].read_bytes(), tiny_npz[1], versions=versions))


def _npz_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def test_foreign_files_are_refused(tiny_npz, tmp_path):
    rng = np.random.default_rng(0)
    good = _arrays(tiny_npz[1])
    random_arrays = {f"a{i}": rng.random(10) for i in range(5)}
    objects = {**good, "stage1_gain": np.array([{"x": 1}, None], dtype=object)}  # an object array: a pickle
    huge = {k: _npy(v) for k, v in good.items()}
    header = io.BytesIO()  # an array header claiming 80 GB, over a few bytes of data
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    header.write(bytes(16))
    cases = {
        "random.npz": _npz_bytes(random_arrays),
        "object.npz": _npz_of({f"{k}.npy": _npy(v) for k, v in objects.items()}),
        "pickle.npz": pickle.dumps({"stage1": [1, 2, 3]}),
        "text.npz": b"not a zip at all",
        "empty.npz": b"",
        "nested.npz": _npz_of({"dir/stage1_left.npy": huge["stage1_left"]}),
        "huge.npz": _npz_of({**{f"{k}.npy": v for k, v in huge.items()}, "stage1_gain.npy": header.getvalue()}),
    }
    for name, data in cases.items():
        with pytest.raises(ModelError):
            load_model(_install(tmp_path / name, data, tiny_npz[1]))


def test_stage_arrays_validation_messages():
    n = 3
    stage = StageArrays(
        threshold=np.zeros(n, F32),
        column=np.zeros(n, np.uint32),
        left=np.array([1, 1, 2], np.int32),
        right=np.array([2, 1, 2], np.int32),
        value=np.array([0.0, 1.0, -1.0]),
        gain=np.zeros(n),
        roots=np.array([0], np.int32),
        baseline=0.25,
    )
    clf = RuntimeClassifier(stage, None, 1, compiled=False)
    p = clf.predict_proba(np.array([[-1.0], [1.0], [np.nan]], F32))[:, 1].tolist()
    # NaN without the missing flag goes right.
    assert p == [1 / (1 + math.exp(-1.25)), 1 / (1 + math.exp(0.75)), 1 / (1 + math.exp(0.75))]
    with pytest.raises(ValueError, match="outside its tree"):
        RuntimeClassifier(StageArrays(**{**stage.__dict__, "left": np.array([0, 1, 2], np.int32)}), None, 1)
    with pytest.raises(ValueError, match="column"):
        RuntimeClassifier(StageArrays(**{**stage.__dict__, "column": np.array([5, 0, 0], np.uint32)}), None, 1)
    with pytest.raises(ValueError, match="must be a"):
        RuntimeClassifier(StageArrays(**{**stage.__dict__, "left": np.array([1, 1, 2], np.int64)}), None, 1)


# --- no scikit-learn at run time ---------------------------------------------------------------------------


@pytest.mark.parametrize("pure", ["0", "1"])
def test_extract_on_the_default_models_imports_no_sklearn_or_scipy(pure):
    code = (
        "import sys, bpdetect\n"
        "page = b'<html><body><nav>Home</nav><article><p>' + b'Some words of an article. ' * 40 + b'</p></article>'"
        " + b'<footer>Copyright</footer></body></html>'\n"
        "assert bpdetect.extract(page).text\n"
        "assert bpdetect.extract('A line of text.\\n\\nAnother paragraph of plain text here.', input='text')\n"
        "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'skops')))\n"
    )
    env = {**os.environ, "BPDETECT_PURE_PYTHON": pure}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_an_npz_model_under_another_suffix_loads_as_its_sidecar_says(tiny_npz, tmp_path):
    path = _install(tmp_path / "renamed.skops", tiny_npz[1].read_bytes(), tiny_npz[1])
    assert isinstance(load_model(path).classifier, RuntimeClassifier)


class _Payload:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_model_files_crafted_to_run_code_do_not_run_it(tiny_npz, tmp_path):
    """Model files whose sidecars match them (an attacker controls both) but which would run code when unpickled."""
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    pickle.loads(payload)  # the payload is live: unpickling it does create the marker...
    assert marker.exists()
    marker.unlink()  # ...so its absence below means no loader unpickled it

    good = _arrays(tiny_npz[1])
    npy = io.BytesIO()
    np.lib.format.write_array(npy, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    members = {**{f"{k}.npy": _npy(v) for k, v in good.items()}, "stage1_gain.npy": npy.getvalue()}
    cases = {
        "object-array.npz": _npz_of(members),  # numpy would unpickle the array with allow_pickle=True
        "raw-pickle.npz": payload,  # a pickle under the model's name
        "raw-pickle.skops": payload,
    }
    import skops.io as sio  # a skops file holding a reference to a function that a loader would call

    skops_path = tmp_path / "function.skops"
    sio.dump({"stage1": Path.touch, "args": str(marker)}, skops_path)
    cases["function.skops"] = skops_path.read_bytes()
    for name, data in cases.items():
        container = "skops" if name.endswith(".skops") else "npz"
        path = _install(tmp_path / name, data, tiny_npz[1], container=container, format_version=2)
        with pytest.raises(ModelError):
            load_model(path)
        assert not marker.exists(), name
