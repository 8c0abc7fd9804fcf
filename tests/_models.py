"""Tiny models trained on the bundled sample dataset, shared by tests (cached per process)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bpdetect.persist import ModelBundle

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"


@cache
def tiny_bundle(input_kind: str = "html", context: bool = True, lexical: bool = False) -> ModelBundle:
    """A small model trained on datasets/sample (seconds, deterministic); ``lexical`` adds the lexical stage."""
    from training.dataset import load_blocksets
    from training.train import train_model

    sets = load_blocksets([SAMPLE], input_kind)
    params = {"max_iter": 20, "context": context, "min_samples_leaf": 5, "context_folds": 2}
    result = train_model(sets, input_kind, params=params, roots=[SAMPLE], use_validation_split=False, lexical=lexical)
    return result.bundle
