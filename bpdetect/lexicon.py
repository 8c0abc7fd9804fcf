"""A lexical stage: a linear model over a block's hashed words and character n-grams, fed to the boosting as a feature.

The block features see shape, position and a few fixed phrase patterns; they do not see what the words are. Calls to
action ("Get the free printable!", "View deal", "Il tuo indirizzo email") and article lines shaped like clutter ("Pros",
"Höhenmeter: 380 m") differ mostly in their words. A logistic regression over hashed word 1-2-grams and character
2-4-grams (within word boundaries, so it works across languages and inflections) scores every block; its logit is one
more column of the feature matrix. Training fits it out-of-fold (by site), so the boosting learns how far to trust it
on blocks it has not seen. The weights are plain arrays: a model file that holds them still runs no code on load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._speedups import load as _load_speedup

if TYPE_CHECKING:  # scipy is needed to fit a lexicon, not to score with one (extraction imports no scipy)
    from scipy import sparse

__all__ = ["LEXICAL_FEATURE", "Lexicon", "dot_rows", "fit_out_of_fold", "hash_ngrams", "vectorize"]

LEXICAL_FEATURE = "lexical_logit"
# Hash buckets per analyzer: 2**18 keeps collisions rare for a few hundred thousand distinct n-grams, and the weights
# at 1 MB of float32 per analyzer.
DEFAULT_BUCKETS = 1 << 18
DEFAULT_WORD_NGRAMS = (1, 2)
DEFAULT_CHAR_NGRAMS = (2, 4)
# Inverse L2 strength of the logistic regression (scikit-learn's C).
DEFAULT_C = 1.0
_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_WORD = re.compile(r"\w+")
# The compiled twin of hash_ngrams_py (bpdetect/_clexicon.pyx), or None.
_CLEXICON = _load_speedup("_clexicon")
# The logit is clipped so that a line of unseen, extreme n-grams cannot push the feature far outside its training range.
LOGIT_CLIP = 12.0
# Largest settings a model may carry (far above the shipped 2**18 buckets and 1-2 / 2-4-grams).
MAX_BUCKETS = 1 << 24
MAX_NGRAM = 8


@dataclass(frozen=True, eq=False)  # eq=False: hashed and compared by identity (it holds an array)
class Lexicon:
    """Hashed n-gram weights and intercept of a fitted logistic regression; ``logit(texts)`` is the feature."""

    coef: np.ndarray  # float32, (buckets * analyzers,)
    intercept: float
    buckets: int = DEFAULT_BUCKETS
    word_ngrams: tuple[int, int] = DEFAULT_WORD_NGRAMS
    char_ngrams: tuple[int, int] | None = DEFAULT_CHAR_NGRAMS

    def __post_init__(self) -> None:
        # Bounds a model file's settings must keep: a tampered sidecar must not make scoring divide by zero or hash
        # n-grams of unbounded length.
        if not 1 <= self.buckets <= MAX_BUCKETS:
            raise ValueError(f"lexicon buckets {self.buckets} outside 1..{MAX_BUCKETS}")
        for lo, hi in (self.word_ngrams, *([self.char_ngrams] if self.char_ngrams is not None else [])):
            if not 1 <= lo <= hi <= MAX_NGRAM:
                raise ValueError(f"lexicon n-gram range ({lo}, {hi}) outside 1..{MAX_NGRAM}")
        n = self.buckets * (1 + (self.char_ngrams is not None))
        if self.coef.shape != (n,):
            raise ValueError(f"lexicon weights have shape {self.coef.shape}, expected ({n},)")
        if not np.isfinite(self.coef).all() or not np.isfinite(self.intercept):
            raise ValueError("lexicon weights are not all finite")

    def logit(self, texts: Sequence[str]) -> np.ndarray:
        """The lexical logit of every text (float32), clipped to ±LOGIT_CLIP."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        indptr, indices = hash_ngrams(texts, self.buckets, self.word_ngrams, self.char_ngrams)
        return self._logit_of_hashed(indptr, indices)

    def _logit_of_hashed(self, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
        z = dot_rows(indptr, indices, self.coef, self.buckets) + self.intercept
        return np.clip(z, -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)

    def params(self) -> dict[str, Any]:
        """The JSON-able settings (a model's sidecar records them; the weights go to the array file)."""
        return {
            "feature": LEXICAL_FEATURE,
            "buckets": self.buckets,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": None if self.char_ngrams is None else list(self.char_ngrams),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any], coef: np.ndarray, intercept: float) -> Lexicon:
        """The Lexicon that ``params()`` and its arrays describe; ValueError if they do not fit together."""
        try:
            word = tuple(int(v) for v in params["word_ngrams"])
            char = params.get("char_ngrams")
            char_t = None if char is None else tuple(int(v) for v in char)
            buckets = int(params["buckets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"lexicon settings are malformed: {exc}") from exc
        if params.get("feature") != LEXICAL_FEATURE or len(word) != 2 or (char_t is not None and len(char_t) != 2):
            raise ValueError(f"lexicon settings are malformed: {params}")
        return cls(np.asarray(coef, dtype=np.float32), float(intercept), buckets, word, char_t)  # type: ignore[arg-type]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        C: float = DEFAULT_C,
        buckets: int = DEFAULT_BUCKETS,
        word_ngrams: tuple[int, int] = DEFAULT_WORD_NGRAMS,
        char_ngrams: tuple[int, int] | None = DEFAULT_CHAR_NGRAMS,
        matrix: sparse.csr_matrix | None = None,
    ) -> Lexicon:
        """Fit the logistic regression (deterministic: lbfgs); ``matrix`` reuses an already vectorized ``texts``."""
        M = matrix if matrix is not None else vectorize(texts, buckets, word_ngrams, char_ngrams)
        coef, intercept = _fit_lr(M, np.asarray(y), sample_weight, C)
        return cls(coef, intercept, buckets, word_ngrams, char_ngrams)


def hash_ngrams(
    texts: Sequence[str],
    buckets: int = DEFAULT_BUCKETS,
    word_ngrams: tuple[int, int] = DEFAULT_WORD_NGRAMS,
    char_ngrams: tuple[int, int] | None = DEFAULT_CHAR_NGRAMS,
) -> tuple[np.ndarray, np.ndarray]:
    """(indptr int64, indices int32): every text's hashed n-gram columns, compiled when built (``hash_ngrams_py``)."""
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    texts = list(texts)
    if _CLEXICON is not None:
        cmin, cmax = char_ngrams if char_ngrams is not None else (0, 0)
        return _CLEXICON.hash_ngrams(texts, buckets, word_ngrams[0], word_ngrams[1], cmin, cmax)
    return hash_ngrams_py(texts, buckets, word_ngrams, char_ngrams)


def dot_rows(indptr: np.ndarray, indices: np.ndarray, coef: np.ndarray, buckets: int) -> np.ndarray:
    """Per row, Σ over the word and the char part of (bucket counts · coef) / ‖bucket counts‖ (float64)."""
    coef = np.ascontiguousarray(coef, dtype=np.float32)
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= len(coef)):
        raise IndexError(f"hashed columns outside the {len(coef)} weights")
    if _CLEXICON is not None:
        return _CLEXICON.dot_rows(indptr, indices, coef, buckets)
    return dot_rows_py(indptr, indices, coef, buckets)


def _bucket_counts(
    indptr: np.ndarray, indices: np.ndarray, width: int, buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, count, part key, norms) of every distinct (row, column) pair, sorted by row then column.

    The part key is ``row * 2 + (column >= buckets)`` (word part 0, char part 1); ``norms[key]`` is the L2 norm of
    that part's bucket counts (one entry per row and part).
    """
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys, counts = np.unique(rows * width + indices, return_counts=True)
    rows, cols = keys // width, keys % width
    key = rows * 2 + (cols >= buckets)
    norms = np.sqrt(np.bincount(key, weights=counts.astype(np.float64) ** 2, minlength=2 * n))
    return rows, cols, counts, key, norms


def dot_rows_py(indptr: np.ndarray, indices: np.ndarray, coef: np.ndarray, buckets: int) -> np.ndarray:
    """The numpy twin of ``_clexicon.dot_rows``."""
    n = len(indptr) - 1
    _, cols, counts, key, norm = _bucket_counts(indptr, indices, 2 * buckets, buckets)
    dot = np.bincount(key, weights=counts * coef[cols].astype(np.float64), minlength=2 * n)
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0).reshape(n, 2).sum(axis=1)


def vectorize(
    texts: Sequence[str],
    buckets: int = DEFAULT_BUCKETS,
    word_ngrams: tuple[int, int] = DEFAULT_WORD_NGRAMS,
    char_ngrams: tuple[int, int] | None = DEFAULT_CHAR_NGRAMS,
    hashed: tuple[np.ndarray, np.ndarray] | None = None,
) -> sparse.csr_matrix:
    """The design matrix the regression is fitted on: ``dot_rows`` is this matrix times the weights, row by row.

    Each part (word, char) of a row holds its bucket counts divided by their L2 norm; ``hashed`` reuses
    ``hash_ngrams``'s output.
    """
    from scipy import sparse

    indptr, indices = hashed if hashed is not None else hash_ngrams(texts, buckets, word_ngrams, char_ngrams)
    n = len(indptr) - 1
    width = buckets * (1 + (char_ngrams is not None))
    rows, cols, counts, key, norms = _bucket_counts(indptr, indices, width, buckets)
    data = (counts / norms[key]).astype(np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, width))


def _fnv(s: str) -> int:
    """32-bit FNV-1a over the code points of ``s``."""
    h = _FNV_OFFSET
    for ch in s:
        h = ((h ^ ord(ch)) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def hash_ngrams_py(
    texts: Sequence[str], buckets: int, word_ngrams: tuple[int, int], char_ngrams: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of every text's hashed n-grams; the pure-Python twin of ``_clexicon.hash_ngrams``.

    Lowercased text; word n-grams over ``\\w+`` runs (words joined by U+001F), then character n-grams of every
    whitespace token padded with a space on both sides, offset by ``buckets``; each n-gram hashed with FNV-1a.
    """
    indptr = [0]
    out: list[int] = []
    for text in texts:
        t = text.lower()
        words = _WORD.findall(t)
        for n in range(word_ngrams[0], word_ngrams[1] + 1):
            out.extend(_fnv("\x1f".join(words[j : j + n])) % buckets for j in range(len(words) - n + 1))
        if char_ngrams is not None:
            for tok in t.split():
                padded = f" {tok} "
                for n in range(char_ngrams[0], char_ngrams[1] + 1):
                    out.extend(buckets + _fnv(padded[i : i + n]) % buckets for i in range(len(padded) - n + 1))
        indptr.append(len(out))
    return np.asarray(indptr, dtype=np.int64), np.asarray(out, dtype=np.int32)


def _fit_lr(
    M: sparse.csr_matrix, y: np.ndarray, sample_weight: np.ndarray | None, C: float
) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, solver="lbfgs", max_iter=300)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    lr.fit(M, y.astype(np.int64), sample_weight=w)
    return lr.coef_.ravel().astype(np.float32), float(lr.intercept_[0])


def fit_out_of_fold(
    texts: Sequence[str],
    y: np.ndarray,
    sample_weight: np.ndarray,
    folds: np.ndarray,
    rows: np.ndarray | None = None,
    **kwargs: Any,
) -> tuple[Lexicon, np.ndarray]:
    """A Lexicon fitted on all ``rows``, and every text's logit from a Lexicon fitted without its fold.

    ``folds`` gives each row's fold (group rows by site, so that a site's template words never score its own rows);
    ``rows`` (boolean) limits the rows fitted on; every row gets an out-of-fold logit.
    """
    buckets = kwargs.get("buckets", DEFAULT_BUCKETS)
    word = kwargs.get("word_ngrams", DEFAULT_WORD_NGRAMS)
    char = kwargs.get("char_ngrams", DEFAULT_CHAR_NGRAMS)
    hashed = hash_ngrams(texts, buckets, word, char)
    M = vectorize(texts, buckets, word, char, hashed=hashed)
    rows = np.ones(len(y), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    y = np.asarray(y)
    oof = np.zeros(len(y), dtype=np.float32)
    for k in np.unique(folds):
        test = folds == k
        train = ~test & rows
        if not train.any():
            continue
        lex = Lexicon.fit(texts, y[train], sample_weight[train], matrix=M[train], **kwargs)
        oof[test] = lex._logit_of_hashed(*hashed)[test]
    full = Lexicon.fit(texts, y[rows], sample_weight[rows], matrix=M[rows], **kwargs)
    return full, oof
