"""Scoring and extraction: the Detector (a loaded model pair) and module-level one-liners on the default models."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .boilerplate import drop_boilerplate, text_rules_for
from .features import featurize_many
from .formats import blocks_to_text
from .records import Document, Extraction, ScoredBlock
from .segment import InputKind, segment

if TYPE_CHECKING:  # pragma: no cover
    from .persist import ModelBundle

__all__ = ["DEFAULT_MODELS", "Detector", "assemble_text", "extract", "extract_text"]

# Files of the shipped default models inside the package (each with a .json sidecar).
DEFAULT_MODELS: dict[str, str] = {"html": "html.npz", "text": "text.npz"}
Threshold = float | str | None


def _default_model_path(kind: str) -> Path:
    return Path(str(resources.files("bpdetect") / "models" / DEFAULT_MODELS[kind]))


def assemble_text(blocks: Sequence[ScoredBlock]) -> str:
    """Content blocks back to plain text (see ``bpdetect.formats.blocks_to_text``)."""
    return blocks_to_text(blocks)


class Detector:
    """Scores the blocks of pages with a pair of models (HTML and plain text); safe to share across threads.

    Models load lazily on first use and are cached; ``Detector.default()`` returns one shared instance per process.
    """

    _default: Detector | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        html_model: str | Path | ModelBundle | None = None,
        text_model: str | Path | ModelBundle | None = None,
        *,
        allow_version_mismatch: bool = False,
        boilerplate_rules: bool = True,
    ) -> None:
        self._sources: dict[str, str | Path | ModelBundle | None] = {"html": html_model, "text": text_model}
        self._bundles: dict[str, ModelBundle] = {}
        self._lock = threading.Lock()
        self.allow_version_mismatch = allow_version_mismatch
        # Drop kept blocks that are fixed boilerplate phrases (see bpdetect.boilerplate); off: the model decides alone.
        self.boilerplate_rules = boilerplate_rules

    @classmethod
    def default(cls) -> Detector:
        """The process-wide Detector on the shipped default models (created once)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @classmethod
    def load(
        cls, path: str | Path, *, allow_version_mismatch: bool = False, boilerplate_rules: bool = True
    ) -> Detector:
        """A Detector on a model file; it serves the input kind the model was trained for, the default the other."""
        from .persist import load_model  # models load on first use, not with `import bpdetect`

        bundle = load_model(path, allow_version_mismatch=allow_version_mismatch)
        det = cls(allow_version_mismatch=allow_version_mismatch, boilerplate_rules=boilerplate_rules)
        det._sources[bundle.input] = bundle
        det._bundles[bundle.input] = bundle
        return det

    def bundle(self, kind: str) -> ModelBundle:
        """The loaded model for "html" or "text" input (loading it on first use)."""
        bundle = self._bundles.get(kind)
        if bundle is not None:
            return bundle
        from .persist import ModelBundle, load_model

        with self._lock:
            bundle = self._bundles.get(kind)
            if bundle is None:
                src = self._sources.get(kind)
                if isinstance(src, ModelBundle):
                    bundle = src
                else:
                    path = _default_model_path(kind) if src is None else Path(src)
                    bundle = load_model(path, allow_version_mismatch=self.allow_version_mismatch)
                self._bundles[kind] = bundle
        return bundle

    def segment(
        self,
        doc: bytes | str,
        *,
        input: InputKind = "auto",
        encoding: str | None = None,
        max_blocks: int | None = None,
        max_bytes: int | None = None,
    ) -> Document:
        """Segment a page into blocks (HTML or plain text, auto-detected unless ``input`` says).

        Resource guards: past ``max_blocks`` blocks the Document is cut and flagged ``truncated``; a page over
        ``max_bytes`` raises ``InputTooLarge`` (a ValueError) before any parsing.
        """
        return segment(doc, input=input, encoding=encoding, max_blocks=max_blocks, max_bytes=max_bytes)

    def score_documents(self, docs: Sequence[Document]) -> list[np.ndarray]:
        """Content probability of every block of each document; one model call per input kind (batched)."""
        out: list[np.ndarray] = [np.zeros(0) for _ in docs]
        for kind in ("html", "text"):
            idx = [i for i, d in enumerate(docs) if d.source == kind and d.blocks]
            if not idx:
                continue
            sizes = [len(docs[i].blocks) for i in idx]
            bundle = self.bundle(kind)
            X = featurize_many([docs[i].blocks for i in idx])  # one batch of numpy work for all the pages
            if bundle.lexicon is not None:
                X = bundle.design(X, [b.text for i in idx for b in docs[i].blocks])
            doc_ids = np.repeat(np.arange(len(idx)), sizes)
            chars = np.fromiter((b.n_chars for i in idx for b in docs[i].blocks), dtype=np.float64, count=len(X))
            p = bundle.classifier.predict_proba(X, doc=doc_ids, chars=chars)[:, 1]
            offsets = np.cumsum([0, *sizes])
            for j, i in enumerate(idx):
                out[i] = p[offsets[j] : offsets[j + 1]]
        return out

    def score(self, doc: bytes | str | Document, *, input: InputKind = "auto", encoding: str | None = None):
        """Probability that each block is content, aligned with ``segment(doc).blocks``."""
        document = doc if isinstance(doc, Document) else self.segment(doc, input=input, encoding=encoding)
        return self.score_documents([document])[0]

    def assemble(self, document: Document, probs: np.ndarray, threshold: Threshold = None) -> Extraction:
        """An Extraction from a Document and its blocks' scores (as from ``score_documents``) at a threshold."""
        if not document.blocks:
            return Extraction(
                text="",
                title=document.title,
                blocks=(),
                source=document.source,
                encoding=document.encoding,
                truncated=document.truncated,
            )
        thr = self.bundle(document.source).threshold_for(threshold)
        if len(probs) != len(document.blocks):
            raise ValueError(f"{len(probs)} scores for {len(document.blocks)} blocks")
        # ScoredBlock's own __new__ is a Python function: tuple.__new__ mapped over the fields builds every block's
        # tuple at C level, with no Python frame per block.
        keep = (probs >= thr).tolist()
        if self.boilerplate_rules:
            keep = drop_boilerplate(document.blocks, keep, text_rules=text_rules_for(document.source))
        fields = zip(document.blocks, probs.tolist(), keep, strict=True)
        scored = tuple(map(tuple.__new__, repeat(ScoredBlock), fields))
        return Extraction(
            text=assemble_text(scored),
            title=document.title,
            blocks=scored,
            source=document.source,
            threshold=thr,
            encoding=document.encoding,
            truncated=document.truncated,
        )

    def extract_document(self, document: Document, *, threshold: Threshold = None) -> Extraction:
        """Score and assemble an already segmented Document."""
        return self.assemble(document, self.score_documents([document])[0], threshold)

    def extract_documents(self, documents: Sequence[Document], *, threshold: Threshold = None) -> list[Extraction]:
        """Score and assemble already segmented Documents, with one batched model call per input kind."""
        probs = self.score_documents(documents)
        return [self.assemble(d, p, threshold) for d, p in zip(documents, probs, strict=True)]

    def extract(
        self,
        doc: bytes | str,
        *,
        url: str | None = None,
        input: InputKind = "auto",
        threshold: Threshold = None,
        encoding: str | None = None,
        max_blocks: int | None = None,
        max_bytes: int | None = None,
    ) -> Extraction:
        """Extract the main content of one page (HTML bytes/str or plain text); limits as in ``segment``."""
        del url  # reserved for URL-aware features; accepted so scrapers can pass it today
        document = self.segment(doc, input=input, encoding=encoding, max_blocks=max_blocks, max_bytes=max_bytes)
        return self.extract_document(document, threshold=threshold)

    def extract_many(
        self,
        docs: Sequence[bytes | str],
        *,
        input: InputKind = "auto",
        threshold: Threshold = None,
        max_blocks: int | None = None,
        max_bytes: int | None = None,
    ) -> list[Extraction]:
        """Extract many pages with one batched model call per input kind (faster than a loop over extract).

        Limits apply to each page; one page over ``max_bytes`` raises ``InputTooLarge`` for the whole call.
        """
        documents = [self.segment(d, input=input, max_blocks=max_blocks, max_bytes=max_bytes) for d in docs]
        return self.extract_documents(documents, threshold=threshold)


def extract(
    doc: bytes | str,
    *,
    url: str | None = None,
    input: InputKind = "auto",
    threshold: Threshold = None,
    encoding: str | None = None,
    max_blocks: int | None = None,
    max_bytes: int | None = None,
) -> Extraction:
    """Extract the main content of a page with the shipped default models; limits as in ``Detector.segment``."""
    return Detector.default().extract(
        doc, url=url, input=input, threshold=threshold, encoding=encoding, max_blocks=max_blocks, max_bytes=max_bytes
    )


def extract_text(doc: bytes | str, url: str | None = None, **kwargs) -> str:
    """The main content of a page as plain text (paragraphs separated by blank lines)."""
    return extract(doc, url=url, **kwargs).text
