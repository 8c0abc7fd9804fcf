"""Save and load models: the node arrays in an ``.npz`` file, or a skops file, plus a JSON sidecar checked first.

An ``.npz`` model (numpy's format; read with ``allow_pickle=False`` after its member headers are checked, so a file
cannot run code or hold objects) needs neither scikit-learn nor scipy: it loads as a ``RuntimeClassifier``, whose
arrays are validated (dtypes, shapes, children inside their tree, no cycles) before use. A ``.skops`` model holds
the fitted scikit-learn stages (scikit-learn is imported only then) and loads as a ``BlockClassifier``.
``convert_model`` turns the second into the first, checking that both predict bitwise the same.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
from .lexicon import Lexicon
from .runtime import CONTEXT_FEATURE_NAMES, RuntimeClassifier

if TYPE_CHECKING:  # pragma: no cover
    from .model import BlockClassifier

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "ModelBundle",
    "ModelError",
    "convert_model",
    "load_model",
    "read_sidecar",
    "save_model",
    "sidecar_path",
]

MODEL_FORMAT = "bpdetect-model"
# 2: the sidecar names its container ("npz" or "skops") and, for npz, the context features of stage 2.
MODEL_FORMAT_VERSION = 2
# Sidecar format versions each container is read with (a version-1 sidecar is a skops model's).
_READABLE_VERSIONS = {"skops": (1, 2), "npz": (2,)}
# The only non-builtin types a bpdetect skops file may contain; anything else means a foreign or tampered file.
_TRUSTED_TYPES = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        "numpy.random._pcg64.PCG64",
        "numpy.random.mtrand.RandomState",
        "collections.OrderedDict",
    }
)
# Largest array member of an .npz model (uncompressed bytes), far above the shipped models' few MB.
_MAX_MEMBER_BYTES = 1 << 30
# Fixed zip member timestamp, so that the same model always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ModelError(ValueError):
    """A model file is missing, corrupt, tampered with, foreign, or incompatible with this installation."""


@dataclass
class ModelBundle:
    """A fitted BlockClassifier with its decision threshold, presets and metadata."""

    classifier: BlockClassifier | RuntimeClassifier  # RuntimeClassifier for .npz files
    input: str  # "html" or "text": which input the model was trained for
    threshold: float = 0.5
    presets: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    lexicon: Lexicon | None = None  # the lexical stage, whose logit is the classifier's last feature column

    @property
    def feature_names(self) -> list[str]:
        """Names of the classifier's input columns: the block features, then the lexical logit if any."""
        return [*FEATURE_NAMES, *([self.lexicon.params()["feature"]] if self.lexicon is not None else [])]

    def design(self, X: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The classifier's input: block features, plus the lexical logit column when the model has that stage."""
        if self.lexicon is None:
            return X
        return np.hstack([X, self.lexicon.logit(texts)[:, None]])

    def threshold_for(self, value: float | str | None) -> float:
        """A numeric threshold from a number, a preset name ("precision", "balanced", "recall") or None."""
        if value is None:
            return self.threshold
        if isinstance(value, str):
            if value in self.presets:
                return float(self.presets[value])
            if value == "balanced":
                return self.threshold
            raise ValueError(f"unknown preset {value!r}; choose from {sorted({*self.presets, 'balanced'})}")
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {value}")
        return value


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar that belongs to a model file (``model.skops`` → ``model.json``)."""
    return Path(path).with_suffix(".json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def container_of(path: str | Path) -> str:
    """The file kind a model path is read and written as: "npz" for a ``.npz`` suffix, else "skops"."""
    return "npz" if Path(path).suffix.lower() == ".npz" else "skops"


def library_versions(*, sklearn: bool = True) -> dict[str, str]:
    """Versions recorded in a model's sidecar (scikit-learn's too when ``sklearn`` and it is installed)."""
    out = {"bpdetect": __version__, "numpy": np.__version__, "python": platform.python_version()}
    if sklearn:
        try:
            import sklearn as sk
        except ImportError:  # an .npz model can be written without scikit-learn
            pass
        else:
            out["scikit-learn"] = sk.__version__
    return out


# Sidecar keys that describe one container only (dropped when the other is written).
_NPZ_KEYS = ("context_feature_names", "trees", "converted_from", "lexicon")
# Array members of the lexical stage in an .npz model: name -> (dtype, ndim).
_LEXICON_KEYS = {"lexicon_coef": ("<f4", 1), "lexicon_intercept": ("<f8", 1)}


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``path`` (``.npz``: node arrays; otherwise skops) and its JSON sidecar; returns the sidecar path.

    Both are written deterministically for .npz (the same model gives the same bytes). A .skops file needs the
    scikit-learn BlockClassifier; an .npz file takes either classifier.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clf = bundle.classifier
    container = container_of(path)
    meta = {k: v for k, v in bundle.metadata.items() if container == "npz" or k not in _NPZ_KEYS}
    tmp = path.with_name(path.name + ".tmp")
    meta.pop("lexicon", None)
    if container == "npz":
        runtime = clf if isinstance(clf, RuntimeClassifier) else clf.to_runtime()
        arrays = runtime.arrays()
        if bundle.lexicon is not None:
            arrays["lexicon_coef"] = bundle.lexicon.coef.astype("<f4")
            arrays["lexicon_intercept"] = np.array([bundle.lexicon.intercept], dtype="<f8")
            meta["lexicon"] = bundle.lexicon.params()
        tmp.write_bytes(_npz_bytes(arrays))
        meta["context_feature_names"] = list(CONTEXT_FEATURE_NAMES) if runtime.stage2 is not None else []
        meta["trees"] = {
            "stage1": runtime.stage1.n_trees,
            "stage2": 0 if runtime.stage2 is None else runtime.stage2.n_trees,
        }
        if isinstance(clf, RuntimeClassifier):  # arrays from a model file: keep what its sidecar says
            meta.setdefault("params", {})
            meta.setdefault("versions", library_versions(sklearn=False))
        else:
            meta["params"] = clf.get_params()
            meta["versions"] = library_versions()
    else:
        if isinstance(clf, RuntimeClassifier):
            raise ModelError(f"{path}: a skops file needs a scikit-learn BlockClassifier; save node arrays as .npz")
        if bundle.lexicon is not None:
            raise ModelError(f"{path}: a model with a lexical stage is saved as .npz only")
        import skops.io as sio

        stages: dict[str, Any] = {"stage1": clf.stage1_, "bin_edges": list(clf.bin_edges_)}
        if clf.stage2_ is not None:
            stages["stage2"] = clf.stage2_
        sio.dump(stages, tmp)
        meta["params"] = clf.get_params()
        meta["versions"] = library_versions()
    tmp.replace(path)
    meta.update(
        {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "container": container,
            "input": bundle.input,
            "feature_schema_version": FEATURE_SCHEMA_VERSION,
            "feature_names": list(FEATURE_NAMES),
            "threshold": bundle.threshold,
            "presets": bundle.presets,
            "file": path.name,
            "sha256": _sha256(path),
            "size": path.stat().st_size,
        }
    )
    side = sidecar_path(path)
    tmp_side = side.with_name(side.name + ".tmp")
    tmp_side.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp_side.replace(side)
    return side


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive (numpy's format, no pickles) of the arrays, byte-for-byte the same for the same arrays.

    np.savez stamps each member with the current time; here every member gets a fixed time and attributes.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # otherwise it depends on the platform
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=6)
    return buf.getvalue()


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """Read and minimally validate a model's sidecar (no model bytes are read)."""
    side = sidecar_path(path)
    if not side.is_file():
        raise ModelError(f"model metadata not found: {side} (every model file needs its .json sidecar)")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model metadata {side} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelError(f"{side} is not a bpdetect model sidecar")
    return meta


def check_compatible(
    meta: dict[str, Any], *, allow_version_mismatch: bool = False, container: str | None = None
) -> None:
    """Raise ModelError when the model's format, feature schema or (skops only) library versions do not match.

    ``container``: the kind of the model file ("npz" or "skops"; by default what the sidecar says). An .npz model
    does not depend on the scikit-learn version: only on the format version and the feature schemas.
    """
    declared = meta.get("container", "skops")  # sidecars before format version 2 describe skops files
    container = container or declared
    if declared != container:
        raise ModelError(f"the sidecar describes a {declared} model, but the model file is {container}")
    readable = _READABLE_VERSIONS.get(container, ())
    if meta.get("format_version") not in readable:
        raise ModelError(
            f"model format version {meta.get('format_version')} is not supported for {container} files (this "
            f"bpdetect reads {', '.join(map(str, readable))}); retrain it with `bpdetect train` or upgrade bpdetect"
        )
    if meta.get("feature_schema_version") != FEATURE_SCHEMA_VERSION or meta.get("feature_names") != list(FEATURE_NAMES):
        raise ModelError(
            f"model feature schema v{meta.get('feature_schema_version')} does not match this bpdetect's "
            f"v{FEATURE_SCHEMA_VERSION} ({len(meta.get('feature_names') or [])} vs {len(FEATURE_NAMES)} features); "
            "retrain the model with `bpdetect train`"
        )
    if container == "npz":
        context = meta.get("context_feature_names")
        if context not in ([], list(CONTEXT_FEATURE_NAMES)):
            raise ModelError(
                f"model context features {context} do not match this bpdetect's {list(CONTEXT_FEATURE_NAMES)}; "
                "retrain the model with `bpdetect train`"
            )
        return
    import sklearn

    trained = (meta.get("versions") or {}).get("scikit-learn", "?")
    if _minor(trained) != _minor(sklearn.__version__) and not allow_version_mismatch:
        raise ModelError(
            f"model was trained with scikit-learn {trained} but {sklearn.__version__} is installed; install "
            f"scikit-learn=={_minor(trained)}.* or retrain with `bpdetect train` "
            "(or pass allow_version_mismatch=True / --force to try anyway)"
        )


def load_model(path: str | Path, *, allow_version_mismatch: bool = False) -> ModelBundle:
    """Load a model after checking its sidecar, size and SHA-256.

    An ``.npz`` file loads as a RuntimeClassifier (no scikit-learn; arrays validated); any other as its sidecar's
    container says, by default a skops file whose known scikit-learn types only are reconstructed
    (``allow_version_mismatch`` concerns those only).
    """
    path = Path(path)
    meta = read_sidecar(path)
    # By suffix; a file of another suffix (say, an .npz model copied to a .skops name) is what its sidecar says.
    container = "npz" if container_of(path) == "npz" else str(meta.get("container", "skops"))
    check_compatible(meta, allow_version_mismatch=allow_version_mismatch, container=container)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if path.stat().st_size != meta.get("size") or _sha256(path) != meta.get("sha256"):
        raise ModelError(f"model file {path} does not match its sidecar's size/SHA-256: truncated or modified")
    lexicon = None
    if container == "npz":
        clf, lexicon = _load_npz(path, meta.get("lexicon"))
    else:
        clf = _load_skops(path, meta)
    return ModelBundle(
        classifier=clf,
        lexicon=lexicon,
        input=str(meta.get("input", "html")),
        threshold=float(meta.get("threshold", 0.5)),
        presets={k: float(v) for k, v in (meta.get("presets") or {}).items()},
        metadata=meta,
    )


def _load_npz(path: Path, lexicon_params: Any = None) -> tuple[RuntimeClassifier, Lexicon | None]:
    """The classifier (and lexical stage) of an .npz model: member names, dtypes and sizes checked, then the trees.

    ``lexicon_params`` is what the sidecar says of the lexical stage (None: the model has none).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            keys = [n[:-4] for n in names if n.endswith(".npy")]
            expected = RuntimeClassifier.key_dtypes("stage2_threshold" in keys)
            if lexicon_params is not None:
                expected = {**expected, **_LEXICON_KEYS}
            if len(keys) != len(names) or sorted(keys) != sorted(expected):
                raise ModelError(f"model file {path} holds arrays {sorted(names)}, not those of a bpdetect model")
            if sum(i.file_size for i in infos) > _MAX_MEMBER_BYTES:
                raise ModelError(f"model file {path} unpacks to more than {_MAX_MEMBER_BYTES} bytes")
            for info in infos:
                with zf.open(info) as fh:
                    _check_member(fh, info, *expected[info.filename[:-4]])
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in expected}
    except ModelError:
        raise
    except Exception as exc:  # zipfile, zlib, struct and numpy raise many types on corrupt archives
        raise ModelError(f"model file {path} is not a readable bpdetect .npz model: {exc}") from exc
    lexicon = None
    if lexicon_params is not None:
        if not isinstance(lexicon_params, dict) or len(arrays["lexicon_intercept"]) != 1:
            raise ModelError(f"model file {path}: its lexical stage is malformed")
        try:
            coef, intercept = arrays.pop("lexicon_coef"), arrays.pop("lexicon_intercept")[0]
            lexicon = Lexicon.from_params(lexicon_params, coef, intercept)
        except ValueError as exc:
            raise ModelError(f"model file {path}: {exc}") from exc
    try:
        clf = RuntimeClassifier.from_arrays(arrays)
    except ValueError as exc:
        raise ModelError(f"model file {path} holds malformed trees: {exc}") from exc
    n_features = len(FEATURE_NAMES) + (lexicon is not None)
    if clf.n_features_in_ != n_features:
        raise ModelError(f"model file {path} reads {clf.n_features_in_} features, not {n_features}")
    return clf, lexicon


def _check_member(fh: Any, info: zipfile.ZipInfo, dtype: str, ndim: int) -> None:
    """Raise ModelError unless an .npy member's header declares ``dtype`` (no objects), ``ndim`` and its size."""
    name = info.filename
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, got = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, got = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ModelError(f"array {name}: unsupported .npy version {version}")
    if got != np.dtype(dtype) or got.hasobject or len(shape) != ndim or fortran:
        raise ModelError(f"array {name} is {got}{list(shape)}, expected {np.dtype(dtype)} with {ndim} dimension(s)")
    data = int(np.prod(shape, dtype=object)) * got.itemsize if shape else got.itemsize
    if data != info.file_size - fh.tell():
        raise ModelError(
            f"array {name}: its header declares {data} bytes, the member holds {info.file_size - fh.tell()}"
        )


def _load_skops(path: Path, meta: dict[str, Any]) -> BlockClassifier:
    """The scikit-learn classifier of a skops model (only known types are reconstructed)."""
    import skops.io as sio

    from .model import BlockClassifier

    try:
        untrusted = set(sio.get_untrusted_types(file=path))
        foreign = untrusted - _TRUSTED_TYPES
        if foreign:
            raise ModelError(f"model file {path} contains types bpdetect does not load: {sorted(foreign)}")
        stages = sio.load(path, trusted=sorted(untrusted))
    except ModelError:
        raise
    except Exception as exc:  # skops raises many types on corrupt archives
        raise ModelError(f"model file {path} could not be read: {exc}") from exc
    if not isinstance(stages, dict) or "stage1" not in stages:
        raise ModelError(f"model file {path} does not hold a bpdetect classifier")
    params = meta.get("params") or {}
    valid = BlockClassifier().get_params()
    clf = BlockClassifier(**{k: v for k, v in params.items() if k in valid})
    clf.stage1_ = stages["stage1"]
    clf.stage2_ = stages.get("stage2")
    edges = stages.get("bin_edges")
    if not isinstance(edges, list) or len(edges) != len(FEATURE_NAMES):
        raise ModelError(f"model file {path} lacks the feature bin edges of schema v{FEATURE_SCHEMA_VERSION}")
    clf.bin_edges_ = [np.asarray(e, dtype=np.float32) for e in edges]
    clf.classes_ = np.array([0, 1])
    clf.n_features_in_ = len(FEATURE_NAMES)
    return clf


def convert_model(src: str | Path, dst: str | Path, *, allow_version_mismatch: bool = False) -> Path:
    """Write the model ``src`` (skops, or npz) as the ``.npz`` model ``dst`` with its sidecar; returns the sidecar.

    The output is deterministic (the same source gives the same bytes). Before writing, the node arrays are
    checked to predict bitwise what scikit-learn predicts on probe rows (every feature at its split points and
    their float32 neighbours, special values); the written file is read back and compared too.
    """
    src, dst = Path(src), Path(dst)
    if container_of(dst) != "npz":
        raise ModelError(f"{dst}: the converted model must be an .npz file")
    if sidecar_path(src).resolve() == sidecar_path(dst).resolve():
        raise ModelError(
            f"{src} and {dst} would share the sidecar {sidecar_path(dst)}: write the .npz under another name or "
            "directory (or move the source first)"
        )
    bundle = load_model(src, allow_version_mismatch=allow_version_mismatch)
    clf = bundle.classifier
    runtime = clf if isinstance(clf, RuntimeClassifier) else clf.to_runtime()
    if not isinstance(clf, RuntimeClassifier):
        _check_conversion(clf, runtime)
    meta = dict(bundle.metadata)
    meta["converted_from"] = {"file": src.name, "sha256": meta.get("sha256"), "size": meta.get("size")}
    if isinstance(clf, RuntimeClassifier):
        meta["converted_from"] = bundle.metadata.get("converted_from", meta["converted_from"])
    side = save_model(ModelBundle(runtime, bundle.input, bundle.threshold, dict(bundle.presets), meta), dst)
    again = load_model(dst).classifier
    assert isinstance(again, RuntimeClassifier)
    written, built = again.arrays(), runtime.arrays()
    if set(written) != set(built) or not all(np.array_equal(written[k], built[k]) for k in built):
        raise ModelError(f"{dst} does not read back the arrays that were written")
    return side


def _check_conversion(clf: BlockClassifier, runtime: RuntimeClassifier) -> None:
    """Raise ModelError unless the node arrays give scikit-learn's probabilities bitwise on probe rows."""
    probes = _probe_rows(clf)
    doc = np.repeat(np.arange(len(probes) // 9 + 1), 9)[: len(probes)]
    chars = np.abs(np.nan_to_num(probes[:, 0], posinf=1e6, neginf=1e6)) + 1
    expected = clf._predict_proba_sklearn(probes, doc=doc, chars=chars)
    evaluators = [runtime, RuntimeClassifier(runtime.stage1, runtime.stage2, runtime.n_features_in_, compiled=False)]
    for ev in evaluators:
        got = ev.predict_proba(probes, doc=doc, chars=chars)
        if not np.array_equal(got, expected, equal_nan=True):
            kind = "compiled" if ev.is_compiled else "numpy"
            raise ModelError(f"the converted trees ({kind}) do not predict what scikit-learn predicts")


def _probe_rows(clf: BlockClassifier, seed: int = 0) -> np.ndarray:
    """Rows with every feature at its quantile edges and their float32 neighbours, and special values."""
    f32 = np.float32
    rng = np.random.default_rng(seed)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 3e38, -3e38], dtype=f32)
    rows = [np.full((1, clf.n_features_in_), v, dtype=f32) for v in special]
    for shift in (0.0, np.inf, -np.inf):
        block = np.empty((96, clf.n_features_in_), dtype=f32)
        for j, e in enumerate(clf.bin_edges_):
            e = np.asarray(e, dtype=f32)
            e = e if shift == 0.0 else np.nextafter(e, f32(shift))
            block[:, j] = e[rng.integers(0, len(e), len(block))] if len(e) else rng.choice(special, len(block))
        rows.append(block)
    return np.vstack(rows)
