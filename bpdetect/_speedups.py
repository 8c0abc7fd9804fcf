"""The optional compiled speed-ups (``bpdetect/_c*.pyx``, built by setup.py) and the switch that turns them off.

Every compiled module has a pure-Python twin giving the same results; tests compare the two. Set the environment
variable ``BPDETECT_PURE_PYTHON=1`` before importing bpdetect to run the Python code only.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["MODULES", "PURE_PYTHON", "load", "status"]

# The compiled modules bpdetect knows of (each is optional).
MODULES: tuple[str, ...] = ("_cwalk", "_ctrees", "_cfeatures", "_clexicon")
PURE_PYTHON = os.environ.get("BPDETECT_PURE_PYTHON", "").strip().lower() not in ("", "0", "false", "no")


def load(name: str) -> ModuleType | None:
    """The compiled module ``bpdetect.<name>``, or None when it is not built or BPDETECT_PURE_PYTHON is set."""
    if PURE_PYTHON:
        return None
    try:
        return importlib.import_module(f"bpdetect.{name}")
    except ImportError:
        return None


def status() -> dict[str, bool]:
    """Whether each compiled module is in use."""
    return {name: load(name) is not None for name in MODULES}
