"""Character-class counts for many texts at once, vectorized over code points with numpy."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["DIGIT", "PUNCT", "SPACE", "TERMINATOR", "UPPER", "TextCounts", "class_table", "count_texts"]

# Class bits of a code point (bpdetect._cwalk counts with the same table and bits).
UPPER = 1
DIGIT = 2
PUNCT = 4
SPACE = 8
TERMINATOR = 16
# Sentence-ending punctuation across scripts (Latin, CJK full-width, ellipsis, Devanagari danda, Arabic).
TERMINATORS = ".!?…。！？।؟"


@cache
def _class_table() -> np.ndarray:
    """A uint8 class bitmask for every code point of the Basic Multilingual Plane (built once, ~30 ms)."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat in ("Lu", "Lt"):
            table[cp] = UPPER
        elif cat == "Nd":
            table[cp] = DIGIT
        elif cat[0] in "PS":
            table[cp] = PUNCT
        elif ch.isspace():
            table[cp] = SPACE
    for ch in TERMINATORS:
        table[ord(ch)] |= TERMINATOR
    return table


def class_table() -> np.ndarray:
    """The uint8 class bits (UPPER, DIGIT, PUNCT, SPACE, TERMINATOR) of every BMP code point (read-only)."""
    table = _class_table()
    table.flags.writeable = False
    return table


@dataclass(frozen=True, slots=True)
class TextCounts:
    """Per-text counts, each an int64 array aligned with the input list."""

    chars: np.ndarray
    words: np.ndarray
    sentences: np.ndarray
    punct: np.ndarray
    digits: np.ndarray
    upper: np.ndarray


def count_texts(texts: list[str]) -> TextCounts:
    """Count chars, words, sentences, punctuation, digits and uppercase letters of each (non-empty) text."""
    n = len(texts)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    if n == 0 or not lengths.all():
        if n and not lengths.all():
            raise ValueError("count_texts needs non-empty texts")
        empty = np.zeros(0, dtype=np.int64)
        return TextCounts(empty, empty, empty, empty, empty, empty)
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # Astral code points (emoji, rare CJK) fall back to the class of U+FFFF, which is none.
    cls = _class_table()[np.minimum(codes, 0xFFFF)]
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    ends = starts + lengths - 1

    space = (cls & SPACE) != 0
    term = (cls & TERMINATOR) != 0
    # A word starts at a non-space character that follows a space or begins the text.
    prev_space = np.empty_like(space)
    prev_space[0] = True
    prev_space[1:] = space[:-1]
    prev_space[starts] = True
    word_start = ~space & prev_space
    # A sentence ends at a terminator followed by a space or the end of the text ("..." counts once).
    next_space = np.empty_like(space)
    next_space[-1] = True
    next_space[:-1] = space[1:]
    next_space[ends] = True
    sent_end = term & next_space
    sentences = np.add.reduceat(sent_end.astype(np.int64), starts) + (~term[ends]).astype(np.int64)
    return TextCounts(
        chars=lengths,
        words=np.add.reduceat(word_start.astype(np.int64), starts),
        sentences=sentences,
        punct=np.add.reduceat(((cls & PUNCT) != 0).astype(np.int64), starts),
        digits=np.add.reduceat(((cls & DIGIT) != 0).astype(np.int64), starts),
        upper=np.add.reduceat(((cls & UPPER) != 0).astype(np.int64), starts),
    )
