# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twin of ``bpdetect.lexicon.hash_ngrams_py``: the hashed n-gram columns of every text, in one C pass.

For each text (lowercased with ``str.lower``): word n-grams over the runs of ``\\w`` characters (the ``re`` pattern
``\\w+``, which ``str.isalnum`` or ``_`` decides, as here), and character n-grams of every whitespace token padded with
one space on each side. Every n-gram is hashed with 32-bit FNV-1a over its code points (a word n-gram's words joined
by U+001F) into ``buckets`` columns; character n-grams are offset by ``buckets``. The Python twin gives the same
columns in the same order (tests/test_lexicon.py compares them).
"""

from cpython.unicode cimport Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE, PyUnicode_READ
from libc.stdint cimport int32_t, int64_t, uint32_t
from libc.math cimport sqrt
from libc.stdlib cimport free, realloc

import numpy as np


cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)

cdef uint32_t FNV_OFFSET = 2166136261U
cdef uint32_t FNV_PRIME = 16777619U
cdef uint32_t SEP = 0x1F


cdef struct Buf:
    int32_t *data
    Py_ssize_t n
    Py_ssize_t cap


cdef int _push(Buf *b, int32_t v) except -1:
    cdef int32_t *grown
    if b.n == b.cap:
        b.cap = b.cap * 2 if b.cap else 1 << 16
        grown = <int32_t *> realloc(b.data, b.cap * sizeof(int32_t))
        if grown == NULL:
            raise MemoryError()
        b.data = grown
    b.data[b.n] = v
    b.n += 1
    return 0


cdef inline bint _is_word(Py_UCS4 c):
    return Py_UNICODE_ISALNUM(c) or c == u'_'


def hash_ngrams(list texts, Py_ssize_t buckets, int wmin, int wmax, int cmin, int cmax):
    """(indptr int64, indices int32) of every text's hashed n-grams; cmin = 0 means no character n-grams."""
    cdef Buf b
    b.data = NULL
    b.n = 0
    b.cap = 0
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    cdef int64_t[:] ptr = indptr
    cdef Py_ssize_t row, i, j, k, n, L, start, nw, pos, m
    cdef str t
    cdef Py_UCS4 c
    cdef int kind
    cdef void *data
    cdef uint32_t h
    cdef Py_ssize_t *ws = NULL
    cdef Py_ssize_t *we = NULL
    cdef Py_ssize_t wcap = 0
    cdef Py_ssize_t *grown
    try:
        for row in range(len(texts)):
            t = (<str> texts[row]).lower()
            L = len(t)
            kind = PyUnicode_KIND(t)
            data = PyUnicode_DATA(t)
            # Word runs: start and end offsets.
            if L + 1 > wcap:
                wcap = L + 1
                grown = <Py_ssize_t *> realloc(ws, wcap * sizeof(Py_ssize_t))
                if grown == NULL:
                    raise MemoryError()
                ws = grown
                grown = <Py_ssize_t *> realloc(we, wcap * sizeof(Py_ssize_t))
                if grown == NULL:
                    raise MemoryError()
                we = grown
            nw = 0
            i = 0
            while i < L:
                if _is_word(PyUnicode_READ(kind, data, i)):
                    start = i
                    while i < L and _is_word(PyUnicode_READ(kind, data, i)):
                        i += 1
                    ws[nw] = start
                    we[nw] = i
                    nw += 1
                else:
                    i += 1
            for n in range(wmin, wmax + 1):
                for j in range(nw - n + 1):
                    h = FNV_OFFSET
                    for k in range(j, j + n):
                        if k > j:
                            h = (h ^ SEP) * FNV_PRIME
                        for pos in range(ws[k], we[k]):
                            h = (h ^ <uint32_t> PyUnicode_READ(kind, data, pos)) * FNV_PRIME
                    _push(&b, <int32_t> (h % <uint32_t> buckets))
            if cmin > 0:
                # Whitespace tokens, each padded with one space on both sides (virtual: positions -1 and m).
                i = 0
                while i < L:
                    if Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)):
                        i += 1
                        continue
                    start = i
                    while i < L and not Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)):
                        i += 1
                    m = i - start
                    for n in range(cmin, cmax + 1):
                        for j in range(-1, m + 2 - n):
                            h = FNV_OFFSET
                            for pos in range(j, j + n):
                                c = u' ' if pos < 0 or pos >= m else PyUnicode_READ(kind, data, start + pos)
                                h = (h ^ <uint32_t> c) * FNV_PRIME
                            _push(&b, <int32_t> (buckets + h % <uint32_t> buckets))
            ptr[row + 1] = b.n
        indices = np.empty(b.n, dtype=np.int32)
        if b.n:
            indices[:] = <int32_t[:b.n]> b.data
        return indptr, indices
    finally:
        free(b.data)
        free(ws)
        free(we)


def dot_rows(const int64_t[:] indptr, const int32_t[:] indices, const float[:] coef, Py_ssize_t buckets):
    """Per row: Σ over its parts (columns below / from ``buckets``) of (bucket counts · coef) / ‖bucket counts‖."""
    cdef Py_ssize_t n = indptr.shape[0] - 1
    cdef Py_ssize_t width = coef.shape[0]
    out = np.zeros(n, dtype=np.float64)
    cdef double[:] res = out
    # A row's bucket counts in an open-addressing table (linear probing) of at least twice its entries: no sorting
    # and no table the size of the weights.
    cdef int32_t *keys = NULL
    cdef int32_t *counts = NULL
    cdef void *grown
    cdef Py_ssize_t row, i, size, cap = 0
    cdef uint32_t mask, slot
    cdef int32_t col
    cdef double dot[2]
    cdef double sq[2]
    cdef double cnt
    cdef int part
    try:
        for row in range(n):
            size = 16
            while size < 2 * (indptr[row + 1] - indptr[row]):
                size *= 2
            if size > cap:
                cap = size
                grown = realloc(keys, cap * sizeof(int32_t))
                if grown == NULL:
                    raise MemoryError()
                keys = <int32_t *> grown
                grown = realloc(counts, cap * sizeof(int32_t))
                if grown == NULL:
                    raise MemoryError()
                counts = <int32_t *> grown
            for i in range(size):
                keys[i] = -1
            mask = <uint32_t> (size - 1)
            for i in range(indptr[row], indptr[row + 1]):
                col = indices[i]
                if col < 0 or col >= width:
                    raise IndexError(f"column {col} outside the {width} weights")
                slot = (<uint32_t> col * 2654435761U) & mask
                while keys[slot] != -1 and keys[slot] != col:
                    slot = (slot + 1) & mask
                if keys[slot] == -1:
                    keys[slot] = col
                    counts[slot] = 0
                counts[slot] += 1
            dot[0] = dot[1] = sq[0] = sq[1] = 0.0
            for i in range(size):
                col = keys[i]
                if col == -1:
                    continue
                cnt = counts[i]
                part = 1 if col >= buckets else 0
                dot[part] += cnt * coef[col]
                sq[part] += cnt * cnt
            for part in range(2):
                if sq[part] > 0:
                    res[row] += dot[part] / sqrt(sq[part])
        return out
    finally:
        free(keys)
        free(counts)
