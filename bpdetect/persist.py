"""Save and load models: a skops file (no code runs on load) plus a JSON sidecar checked before anything is read."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from ._version import __version__
from .features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
from .model import BlockClassifier

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "ModelBundle",
    "ModelError",
    "load_model",
    "read_sidecar",
    "save_model",
    "sidecar_path",
]

MODEL_FORMAT = "bpdetect-model"
MODEL_FORMAT_VERSION = 1
# The only non-builtin types a bpdetect model file may contain; anything else means a foreign or tampered file.
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


class ModelError(ValueError):
    """A model file is missing, corrupt, tampered with, foreign, or incompatible with this installation."""


@dataclass
class ModelBundle:
    """A fitted BlockClassifier with its decision threshold, presets and metadata."""

    classifier: BlockClassifier
    input: str  # "html" or "text": which input the model was trained for
    threshold: float = 0.5
    presets: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

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


def library_versions() -> dict[str, str]:
    """Versions recorded in, and checked against, a model's sidecar."""
    return {
        "bpdetect": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``path`` (skops) and its JSON sidecar; returns the sidecar path."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clf = bundle.classifier
    stages: dict[str, Any] = {"stage1": clf.stage1_, "bin_edges": list(clf.bin_edges_)}
    if clf.stage2_ is not None:
        stages["stage2"] = clf.stage2_
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(stages, tmp)
    tmp.replace(path)
    meta = dict(bundle.metadata)
    meta.update(
        {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "input": bundle.input,
            "feature_schema_version": FEATURE_SCHEMA_VERSION,
            "feature_names": list(FEATURE_NAMES),
            "threshold": bundle.threshold,
            "presets": bundle.presets,
            "params": clf.get_params(),
            "versions": library_versions(),
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


def check_compatible(meta: dict[str, Any], *, allow_version_mismatch: bool = False) -> None:
    """Raise ModelError when the model's format, feature schema or library versions do not match this install."""
    if meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(
            f"model format version {meta.get('format_version')} is not supported (this bpdetect reads "
            f"{MODEL_FORMAT_VERSION}); retrain it with `bpdetect train` or upgrade bpdetect"
        )
    if meta.get("feature_schema_version") != FEATURE_SCHEMA_VERSION or meta.get("feature_names") != list(
        FEATURE_NAMES
    ):
        raise ModelError(
            f"model feature schema v{meta.get('feature_schema_version')} does not match this bpdetect's "
            f"v{FEATURE_SCHEMA_VERSION} ({len(meta.get('feature_names') or [])} vs {len(FEATURE_NAMES)} features); "
            "retrain the model with `bpdetect train`"
        )
    trained = (meta.get("versions") or {}).get("scikit-learn", "?")
    if _minor(trained) != _minor(sklearn.__version__) and not allow_version_mismatch:
        raise ModelError(
            f"model was trained with scikit-learn {trained} but {sklearn.__version__} is installed; install "
            f"scikit-learn=={_minor(trained)}.* or retrain with `bpdetect train` "
            "(or pass allow_version_mismatch=True / --force to try anyway)"
        )


def load_model(path: str | Path, *, allow_version_mismatch: bool = False) -> ModelBundle:
    """Load a model after checking its sidecar, size and SHA-256; only known sklearn types are reconstructed."""
    import skops.io as sio

    path = Path(path)
    meta = read_sidecar(path)
    check_compatible(meta, allow_version_mismatch=allow_version_mismatch)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if path.stat().st_size != meta.get("size") or _sha256(path) != meta.get("sha256"):
        raise ModelError(f"model file {path} does not match its sidecar's size/SHA-256: truncated or modified")
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
    return ModelBundle(
        classifier=clf,
        input=str(meta.get("input", "html")),
        threshold=float(meta.get("threshold", 0.5)),
        presets={k: float(v) for k, v in (meta.get("presets") or {}).items()},
        metadata=meta,
    )
