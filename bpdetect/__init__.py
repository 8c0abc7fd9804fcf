"""bpdetect: find the main content of web pages (HTML or scraped plain text) with a trained block classifier."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .decode import Decoded, decode
from .errors import InputTooLarge

# The extract module defers scikit-learn to the first model load; importing its names here also keeps the function
# `bpdetect.extract` from being shadowed by the submodule of the same name once something imports the submodule.
from .extract import Detector, extract, extract_text
from .records import Block, Document, Extraction, ScoredBlock
from .segment import looks_like_html, segment, segment_html, segment_text

if TYPE_CHECKING:  # pragma: no cover
    from .persist import ModelBundle, ModelError, load_model

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Names served lazily: they pull in scikit-learn, which segmentation-only users never need to import.
_LAZY = {
    "ModelBundle": "persist",
    "ModelError": "persist",
    "load_model": "persist",
}

__all__ = [
    "Block",
    "Decoded",
    "Detector",
    "Document",
    "Extraction",
    "InputTooLarge",
    "ModelBundle",
    "ModelError",
    "ScoredBlock",
    "__version__",
    "decode",
    "extract",
    "extract_text",
    "load_model",
    "looks_like_html",
    "segment",
    "segment_html",
    "segment_text",
]


def __getattr__(name: str) -> Any:
    """Import the model-side names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bpdetect' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
