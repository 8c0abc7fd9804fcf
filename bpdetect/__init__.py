"""bpdetect: find the main content of web pages with a trained block classifier."""

from __future__ import annotations

import logging

from ._version import __version__
from .decode import Decoded, decode
from .records import Block, Document, Extraction, ScoredBlock
from .segment import looks_like_html, segment, segment_html, segment_text

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Block",
    "Decoded",
    "Document",
    "Extraction",
    "ScoredBlock",
    "__version__",
    "decode",
    "looks_like_html",
    "segment",
    "segment_html",
    "segment_text",
]
