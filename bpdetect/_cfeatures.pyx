# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twins of the hot paths of ``bpdetect.features`` (optional; features.py keeps the Python originals).

- ``Kit.collect``: the base columns of ``_collect`` (numeric fields, tag codes, path ids, class/id families,
  first/last character facts, character-class counts, all-caps, repeated texts) and the page's whitespace tokens,
  counted in a hash table over code points (a str object per distinct token only), in one pass over the blocks and
  one pass over each text's code points;
- ``Kit.token_facts``: the per-token facts and page counts of ``_token_index`` (computed for every distinct token of
  the page: no memo, which in C costs more than it saves);
- ``Kit.compute_facts``: ``_compute_token_facts`` for one token, reading code points with the CPython unicode API;
- ``Kit.family_bits`` / ``Kit.class_bits``: ``_token_family_bits`` / ``_class_bits``, with the literal-only family
  patterns expanded into literal tables (the others keep their regex, searched only in tokens holding one of the
  literals every match contains);
- ``Kit.token_sums``, ``Kit.trigger_patterns``, ``Kit.page_scans``, ``Kit.month_dates``, ``Kit.stack``: the per-block
  token sums of ``_token_stats``, the trigger rules and the page scans (hand-written matchers of the fixed patterns
  in _PAGE_SCAN_PATTERNS) of ``_patterns``, ``_month_dates`` and featurize's final matrix;
- ``Kit.reading_time``, ``Kit.meta_lines``, ``Kit.lead_labels``: the per-block loops of ``_meta_lines``.

Every value is the one the Python code computes: the character predicates are the ones ``str`` methods and ``re``
use (``Py_UNICODE_IS*``), ``str.lower`` runs wherever lowering is not the identity, and the word lists, tables,
patterns and flag bits come from features.py through the ``Kit`` constructor, so they are defined once. Sums are of
small integers in float64 (exact in any order); ratios, logs and all other float arithmetic stay in numpy.
"""

from cpython.buffer cimport PyBUF_STRIDES, PyBUF_FORMAT, PyObject_GetBuffer, PyBuffer_Release
from cpython.long cimport PyLong_AsLongLong
from cpython.object cimport PyObject
from cpython.unicode cimport (
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISALPHA,
    Py_UNICODE_ISDECIMAL,
    Py_UNICODE_ISDIGIT,
    Py_UNICODE_ISLOWER,
    Py_UNICODE_ISSPACE,
    Py_UNICODE_ISTITLE,
    Py_UNICODE_ISUPPER,
    PyUnicode_FindChar,
    PyUnicode_READ,
    PyUnicode_Tailmatch,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.string cimport memcmp, memset

import re

import numpy as np

try:
    from re import _constants as _sre_c, _parser as _sre_parse
except ImportError:  # Python 3.10
    import sre_constants as _sre_c
    import sre_parse as _sre_parse

cdef extern from "Python.h":
    # The macros behind Cython's declarations, without their argument type checks.
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    bint PyLong_Check(object o)
    PyObject *PyDict_GetItemWithError(object d, object key) except? NULL
    Py_ssize_t PY_SSIZE_T_MAX

# The regexes features.py uses that this module implements by hand; the Kit refuses any other.
_DAY_OR_YEAR_PATTERN = r"\d{1,4}(?:st|nd|rd|th|er|e|º)?"
_ALNUM_PATTERN = r"[^\W_]"
# The page scans of features._PAGE_SCANS and its handle pattern, in order, implemented by hand in Kit.page_scans.
_PAGE_SCAN_PATTERNS = (
    r"-(?<=\d-)\d{1,2}-\d{2,4}(?!\d)",
    r"/(?<=\d/)\d{1,2}/\d{2,4}(?!\d)",
    r"\.(?<=\d\.)\d{1,2}\.\d{2,4}(?!\d)",
    r":(?<=\d:)\d\d(?!\d)",
    r"\[(?:…|\.\.\.)\]",
    r"©",
    r"://(?<=\w://)\w",
    r"www\.\w",
    r"@(?<=\w@)[\w-]+\.\w{2,}",
    r"@(?<![\w.]@)[A-Za-z0-9_]{2,}",
)
# Suffixes of a day or year number ("1st", "2e", "1er", "1º"), in the order of the pattern.
_ORDINALS = ("st", "nd", "rd", "th", "er", "e", "º")

ctypedef unsigned char u8


cdef inline Py_UCS4 _bmp(Py_UCS4 c) noexcept nogil:
    """The table index of a code point: itself in the BMP, U+FFFF above it (as the Python np.minimum(codes, 0xFFFF))."""
    return c if c < 0x10000 else 0xFFFF


# FNV-1a over code points: the hash of a token in the page's token table.
cdef unsigned long long _HASH_SEED = 14695981039346656037ULL
cdef unsigned long long _HASH_PRIME = 1099511628211ULL


cdef struct _Slot:
    Py_ssize_t id  # the distinct token's index, -1 for an empty slot
    unsigned long long hash
    const void *data  # the token's code units, inside a page text (alive for the whole collect call)
    int kind
    Py_ssize_t length


cdef inline bint _same_chars(int k1, const void *d1, int k2, const void *d2, Py_ssize_t n) noexcept:
    """Whether two runs of n code points, each in a str's own kind, are equal."""
    cdef Py_ssize_t i
    if k1 == k2:
        return memcmp(d1, d2, n * k1) == 0
    for i in range(n):
        if PyUnicode_READ(k1, <void *>d1, i) != PyUnicode_READ(k2, <void *>d2, i):
            return False
    return True


cdef class _TokenTable:
    """The page's distinct whitespace tokens (a Counter without a str object per occurrence).

    An open-addressing hash table over the code points of each token, read in place in its text: an occurrence of a
    token seen before costs a probe and a comparison, and only the first one becomes a str. Texts of one page may
    store the same token in different kinds (a UCS-2 text holds ASCII words too), hence the code-point hash.
    """

    cdef _Slot *slots
    cdef Py_ssize_t mask, n_distinct
    cdef Py_ssize_t *counts
    cdef Py_ssize_t *ids
    cdef Py_ssize_t n_ids, cap_ids, cap_counts
    cdef list distinct

    def __cinit__(self):
        cdef Py_ssize_t i
        self.mask = 1023
        self.slots = <_Slot *>PyMem_Malloc((self.mask + 1) * sizeof(_Slot))
        self.cap_counts = 512
        self.counts = <Py_ssize_t *>PyMem_Malloc(self.cap_counts * sizeof(Py_ssize_t))
        self.cap_ids = 4096
        self.ids = <Py_ssize_t *>PyMem_Malloc(self.cap_ids * sizeof(Py_ssize_t))
        if self.slots is NULL or self.counts is NULL or self.ids is NULL:
            raise MemoryError()
        for i in range(self.mask + 1):
            self.slots[i].id = -1
        self.n_distinct = 0
        self.n_ids = 0
        self.distinct = []

    def __dealloc__(self):
        PyMem_Free(self.slots)
        PyMem_Free(self.counts)
        PyMem_Free(self.ids)

    cdef int _grow(self) except -1:
        """Double the slots (kept at most half full) and re-insert the tokens."""
        cdef Py_ssize_t cap = (self.mask + 1) * 2, i, j
        cdef _Slot *old = self.slots
        cdef _Slot *new = <_Slot *>PyMem_Malloc(cap * sizeof(_Slot))
        if new is NULL:
            raise MemoryError()
        for i in range(cap):
            new[i].id = -1
        for i in range(self.mask + 1):
            if old[i].id >= 0:
                j = <Py_ssize_t>(old[i].hash & <unsigned long long>(cap - 1))
                while new[j].id >= 0:
                    j = (j + 1) & (cap - 1)
                new[j] = old[i]
        self.slots = new
        self.mask = cap - 1
        PyMem_Free(old)
        return 0

    cdef object add(self, unsigned long long h, str text, int kind, const void *data, Py_ssize_t start,
                    Py_ssize_t end):
        """Count one occurrence of text[start:end] (hash h) and return the token's str object."""
        cdef Py_ssize_t length = end - start, j, token_id
        cdef const char *at = <const char *>data + start * kind
        cdef void *grown
        h ^= h >> 29  # FNV's low bits mix poorly: fold the high ones in before masking
        j = <Py_ssize_t>(h & <unsigned long long>self.mask)
        while self.slots[j].id >= 0:
            if (
                self.slots[j].hash == h
                and self.slots[j].length == length
                and _same_chars(self.slots[j].kind, self.slots[j].data, kind, at, length)
            ):
                token_id = self.slots[j].id
                break
            j = (j + 1) & self.mask
        else:
            token_id = self.n_distinct
            if token_id == self.cap_counts:
                grown = PyMem_Realloc(self.counts, 2 * self.cap_counts * sizeof(Py_ssize_t))
                if grown is NULL:
                    raise MemoryError()
                self.counts = <Py_ssize_t *>grown
                self.cap_counts *= 2
            self.distinct.append(text if length == PyUnicode_GET_LENGTH(text) else text[start:end])
            self.slots[j].id = token_id
            self.slots[j].hash = h
            self.slots[j].data = at
            self.slots[j].kind = kind
            self.slots[j].length = length
            self.counts[token_id] = 0
            self.n_distinct += 1
            if 2 * self.n_distinct > self.mask:
                self._grow()
        self.counts[token_id] += 1
        if self.n_ids == self.cap_ids:
            grown = PyMem_Realloc(self.ids, 2 * self.cap_ids * sizeof(Py_ssize_t))
            if grown is NULL:
                raise MemoryError()
            self.ids = <Py_ssize_t *>grown
            self.cap_ids *= 2
        self.ids[self.n_ids] = token_id
        self.n_ids += 1
        return self.distinct[token_id]

    cdef object counts_array(self):
        """How often each distinct token occurs (float64, first-seen order)."""
        out_arr = np.empty(self.n_distinct, dtype=np.float64)
        cdef double[::1] out = out_arr
        cdef Py_ssize_t i
        for i in range(self.n_distinct):
            out[i] = <double>self.counts[i]
        return out_arr

    cdef object ids_array(self):
        """Each token occurrence's distinct index (intp, page order)."""
        out_arr = np.empty(self.n_ids, dtype=np.intp)
        cdef Py_ssize_t[::1] out = out_arr
        cdef Py_ssize_t i
        for i in range(self.n_ids):
            out[i] = self.ids[i]
        return out_arr


# Expansions of a class/id family pattern beyond this many strings are not worth a literal table: re searches it.
_MAX_EXPANSIONS = 4096


def _expand(items) -> set | None:
    """Every string a parsed regex matches, when it matches finitely many and only literals (no anchors, classes
    of many characters, flags or lookarounds); None otherwise."""
    cdef Py_ssize_t lo, hi, reps
    out = {""}
    for op, av in items:
        if op is _sre_c.LITERAL:
            alts = {chr(av)}
        elif op is _sre_c.SUBPATTERN:
            if av[1] or av[2]:  # inline flags
                return None
            alts = _expand(av[3])
        elif op is _sre_c.BRANCH:
            alts = set()
            for branch in av[1]:
                got = _expand(branch)
                if got is None:
                    return None
                alts |= got
        elif op is _sre_c.IN:
            alts = set()
            for in_op, in_av in av:
                if in_op is not _sre_c.LITERAL:
                    return None
                alts.add(chr(in_av))
        elif op is _sre_c.MAX_REPEAT or op is _sre_c.MIN_REPEAT:
            lo, hi = av[0], av[1]
            if hi > 4:
                return None
            one = _expand(av[2])
            if one is None:
                return None
            alts = set()
            power = {""}
            for reps in range(hi + 1):
                if reps >= lo:
                    alts |= power
                power = {a + b for a in power for b in one}
        else:
            return None
        if alts is None:
            return None
        out = {a + b for a in out for b in alts}
        if len(out) > _MAX_EXPANSIONS:
            return None
    return out


# Bits at and above this one mark the gate literals of the regex families in the literal scan of a class/id token.
cdef enum:
    _GATE_SHIFT = 32


def _required_literals(str pattern) -> set | None:
    """Literals of which every match of the pattern contains one: the longest run of plain literals of each top-level
    branch (a match of a branch holds that run). None when a branch has no run of two or more characters, or when
    flags could change what a literal matches (only re.UNICODE, the default of str patterns, is allowed)."""
    parsed = _sre_parse.parse(pattern)
    if parsed.state.flags & ~_sre_c.SRE_FLAG_UNICODE:
        return None
    items = list(parsed)
    branches = items[0][1][1] if len(items) == 1 and items[0][0] is _sre_c.BRANCH else [items]
    out = set()
    for branch in branches:
        best = run = ""
        for op, av in branch:
            if op is _sre_c.LITERAL:
                run += chr(av)
                if len(run) > len(best):
                    best = run
            else:
                run = ""
        if len(best) < 2:
            return None
        out.add(best)
    return out


# Character tests of re for str patterns, on the code point at pos of a str (kind, data, length); False outside it.
cdef inline Py_UCS4 _at(int kind, void *data, Py_ssize_t length, Py_ssize_t pos) noexcept:
    """The code point at pos, or 0 (NUL, which no page scan matches) outside the string."""
    return PyUnicode_READ(kind, data, pos) if 0 <= pos < length else 0


cdef inline bint _is_word(Py_UCS4 c) noexcept:
    """re's \\w: Py_UNICODE_ISALNUM or the underscore."""
    return c == 95 or Py_UNICODE_ISALNUM(c)


cdef inline Py_ssize_t _decimal_run(int kind, void *data, Py_ssize_t length, Py_ssize_t pos) noexcept:
    """How many characters matching re's \\d (Py_UNICODE_ISDECIMAL) start at pos."""
    cdef Py_ssize_t k = pos
    while k < length and Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, k)):
        k += 1
    return k - pos


cdef inline bint _numeric_date(int kind, void *data, Py_ssize_t length, Py_ssize_t p, Py_UCS4 sep) noexcept:
    """SEP(?<=\\dSEP)\\d{1,2}SEP\\d{2,4}(?!\\d) matches at p (the SEP there). The decimal runs decide it: a run of
    3+ after the first SEP leaves no SEP after 1 or 2 digits, and a run of 5+ after the second leaves a digit after
    any 2-4 of them."""
    cdef Py_ssize_t r1, r2
    if p < 1 or not Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, p - 1)):
        return False
    r1 = _decimal_run(kind, data, length, p + 1)
    if r1 < 1 or r1 > 2 or _at(kind, data, length, p + 1 + r1) != sep:
        return False
    r2 = _decimal_run(kind, data, length, p + 2 + r1)
    return 2 <= r2 <= 4


cdef inline bint _starts_at(int kind, void *data, Py_ssize_t length, Py_ssize_t pos, str lit) noexcept:
    """Whether the code points of a str (kind, data, length) continue at pos with the literal lit."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(lit), i
    cdef int lkind
    cdef void *ldata
    if pos + n > length:
        return False
    lkind = PyUnicode_KIND(lit)
    ldata = PyUnicode_DATA(lit)
    for i in range(n):
        if PyUnicode_READ(kind, data, pos + i) != PyUnicode_READ(lkind, ldata, i):
            return False
    return True


cdef class Kit:
    """The tables and word lists of features.py, and the compiled per-page steps that use them."""

    cdef u8 class_table[0x10000]  # _CHAR_CLASS_TABLE
    cdef u8 flag_table[0x10000]  # _CHAR_FLAG_TABLE
    cdef u8 strip_table[0x10000]  # 1 for the characters of _TOKEN_STRIP
    cdef int n_classes
    cdef long long ch_bullet, ch_sent_end, ch_colon, ch_skip
    cdef long long tf_alpha, tf_digit, tf_cap, tf_stop, tf_short, tf_trigger, tf_month, tf_number, tf_joiner, tf_word
    cdef int tf_len_shift
    cdef Py_ssize_t short_max
    cdef Py_ssize_t max_listed_len  # the longest word of the word lists: longer words skip the lookups
    cdef dict triggers
    cdef dict listed  # word of the word lists -> its tf_stop | tf_trigger | tf_month | tf_joiner bits
    cdef dict tag_code
    cdef long long tag_other, tag_line
    cdef object block_type
    cdef tuple num_index  # field positions of _NUM_FIELDS in a Block
    cdef Py_ssize_t i_text, i_tag, i_path, i_class, i_source, i_bullet
    cdef Py_ssize_t near_tokens  # NEAR_CLASS_TOKENS
    # Class/id families: most patterns are alternations of literals, matched by scanning the token against the
    # literals that start with each of its characters; the others (anchors, \d...) keep their regex.
    cdef list lit_ascii  # per ASCII code point: tuple of (literal, family bit) starting with it
    cdef dict lit_other  # the same for non-ASCII first code points
    cdef long long always_bits  # families whose pattern matches the empty string (so every token)
    cdef list regex_families  # (family bit, bound search method, whether a gate literal must occur first)
    cdef readonly dict family_memo  # class/id token -> family bits (readable: tests and benchmarks clear it)
    cdef Py_ssize_t family_memo_max

    def __init__(
        self,
        *,
        class_table,
        flag_table,
        int n_char_classes,
        str token_strip,
        dict flags,
        dict ch_flags,
        int len_shift,
        Py_ssize_t short_max,
        frozenset stopwords,
        dict triggers,
        frozenset months,
        frozenset joiners,
        str day_or_year_pattern,
        str alnum_pattern,
        dict tag_code,
        long long tag_other,
        long long tag_line,
        block_type,
        tuple num_fields,
        tuple family_patterns,
        Py_ssize_t near_tokens,
        Py_ssize_t family_memo_max,
        tuple page_scan_patterns,
    ):
        """Copy the tables and constants of features.py (see its _KIT)."""
        cdef const u8[::1] ct = class_table
        cdef const u8[::1] ft = flag_table
        cdef Py_ssize_t i
        cdef Py_UCS4 c
        if day_or_year_pattern != _DAY_OR_YEAR_PATTERN or alnum_pattern != _ALNUM_PATTERN:
            raise ValueError("bpdetect._cfeatures implements other token regexes than features.py: update both")
        if page_scan_patterns != _PAGE_SCAN_PATTERNS:
            raise ValueError("bpdetect._cfeatures implements other page scans than features.py: update both")
        self.n_classes = n_char_classes
        if ct.shape[0] != 0x10000 or ft.shape[0] != 0x10000:
            raise ValueError("character tables must cover the BMP")
        for i in range(0x10000):
            self.class_table[i] = ct[i]
            self.flag_table[i] = ft[i]
        memset(self.strip_table, 0, sizeof(self.strip_table))
        for c in token_strip:
            if c >= 0x10000:
                raise ValueError("token strip characters must lie in the BMP")
            self.strip_table[c] = 1
        self.tf_alpha = flags["alpha"]
        self.tf_digit = flags["digit"]
        self.tf_cap = flags["cap"]
        self.tf_stop = flags["stop"]
        self.tf_short = flags["short"]
        self.tf_trigger = flags["trigger"]
        self.tf_month = flags["month"]
        self.tf_number = flags["number"]
        self.tf_joiner = flags["joiner"]
        self.tf_word = flags["word"]
        self.ch_bullet = ch_flags["bullet"]
        self.ch_sent_end = ch_flags["sent_end"]
        self.ch_colon = ch_flags["colon"]
        self.ch_skip = ch_flags["skip"]
        self.tf_len_shift = len_shift
        self.short_max = short_max
        self.triggers = triggers
        # One lookup per token instead of one per word list (the bits are those of the four membership tests).
        self.listed = {}
        for bit, words in (
            (self.tf_stop, stopwords), (self.tf_trigger, triggers), (self.tf_month, months), (self.tf_joiner, joiners)
        ):
            for w in words:
                self.listed[w] = self.listed.get(w, 0) | bit
        self.max_listed_len = max(len(w) for w in (*stopwords, *triggers, *months, *joiners))
        self.tag_code = tag_code
        self.tag_other = tag_other
        self.tag_line = tag_line
        self.block_type = block_type
        fields = block_type._fields
        self.num_index = tuple(fields.index(name) for name in num_fields)
        self.i_text = fields.index("text")
        self.i_tag = fields.index("tag")
        self.i_path = fields.index("path")
        self.i_class = fields.index("class_tokens")
        self.i_source = fields.index("source")
        self.i_bullet = fields.index("bullet")
        self.near_tokens = near_tokens
        self.family_memo = {}
        self.family_memo_max = family_memo_max
        self.regex_families = []
        self.always_bits = 0
        by_first = {}
        for k, pattern in enumerate(family_patterns):
            words = _expand(_sre_parse.parse(pattern))
            if words is None:
                # A family kept as a regex is searched only in tokens holding one of the literals every match of it
                # contains (its gate literals, flagged in the scan by the family's bit shifted by _GATE_SHIFT).
                gates = _required_literals(pattern)
                self.regex_families.append((1 << k, re.compile(pattern).search, gates is not None))
                for word in gates or ():
                    by_first.setdefault(ord(word[0]), []).append((word, 1 << (k + _GATE_SHIFT)))
            elif "" in words:
                self.always_bits |= 1 << k
            else:
                for word in sorted(words):
                    by_first.setdefault(ord(word[0]), []).append((word, 1 << k))
        if len(family_patterns) > _GATE_SHIFT:
            raise ValueError("too many class/id families")
        self.lit_ascii = [tuple(by_first.pop(cp, ())) for cp in range(128)]
        self.lit_other = {cp: tuple(pairs) for cp, pairs in by_first.items()}

    # -----------------------------------------------------------------------------------------------------------------
    # Token facts
    # -----------------------------------------------------------------------------------------------------------------

    cdef bint _is_ordinal(self, str word, Py_ssize_t start):
        """word[start:] is empty or one of the ordinal suffixes of _DAY_OR_YEAR_PATTERN."""
        cdef Py_ssize_t rest = PyUnicode_GET_LENGTH(word) - start
        if rest == 0:
            return True
        if rest > 2:
            return False
        return word[start:] in _ORDINALS

    cdef inline void _strip_span(self, int kind, void *data, Py_ssize_t *a, Py_ssize_t *b) noexcept:
        """Narrow [a, b) of a string's code points as str.strip(_TOKEN_STRIP) would."""
        cdef Py_UCS4 c
        while a[0] < b[0]:
            c = PyUnicode_READ(kind, data, a[0])
            if c >= 0x10000 or not self.strip_table[c]:
                break
            a[0] += 1
        while b[0] > a[0]:
            c = PyUnicode_READ(kind, data, b[0] - 1)
            if c >= 0x10000 or not self.strip_table[c]:
                break
            b[0] -= 1

    cdef long long _facts(self, str token) except -1:
        """Packed facts of one whitespace token, as features._compute_token_facts computes them."""
        cdef int kind = PyUnicode_KIND(token)
        cdef void *data = PyUnicode_DATA(token)
        cdef Py_ssize_t length = PyUnicode_GET_LENGTH(token)
        cdef Py_ssize_t a = 0, b = length, i, n, k
        cdef Py_UCS4 c
        cdef bint alpha, digit, lower_needed = False, word_char = False
        cdef long long facts
        cdef str core, word
        cdef PyObject *hit
        # core = token.strip(_TOKEN_STRIP)
        self._strip_span(kind, data, &a, &b)
        n = b - a
        facts = (n if n < 0xFFFF else 0xFFFF) << self.tf_len_shift
        # core.isalpha() / core.isdigit(): every character passes (False for the empty string).
        alpha = digit = n > 0
        for i in range(a, b):
            c = PyUnicode_READ(kind, data, i)
            if alpha and not Py_UNICODE_ISALPHA(c):
                alpha = False
            if digit and not Py_UNICODE_ISDIGIT(c):
                digit = False
            # str.lower() is the identity on ASCII text without capitals; anything else goes through it.
            if c >= 128 or 65 <= c <= 90:
                lower_needed = True
        if alpha:
            facts |= self.tf_alpha
            if n <= self.short_max:
                facts |= self.tf_short
        if digit:
            facts |= self.tf_digit
        # core[:1].isupper(): str.isupper of one character is Py_UNICODE_ISUPPER.
        if n > 0 and Py_UNICODE_ISUPPER(PyUnicode_READ(kind, data, a)):
            facts |= self.tf_cap
        if a == 0 and b == length:
            core = token
        else:
            core = token[a:b]
        word = core.lower() if lower_needed else core
        kind = PyUnicode_KIND(word)
        data = PyUnicode_DATA(word)
        n = PyUnicode_GET_LENGTH(word)
        if n <= self.max_listed_len:
            hit = PyDict_GetItemWithError(self.listed, word)
            if hit is not NULL:
                facts |= <long long><object>hit
        # word[:1].isdigit() and fullmatch(r"\d{1,4}(?:st|nd|rd|th|er|e|º)?"): re's \d is Py_UNICODE_ISDECIMAL;
        # the suffixes hold no digit, so the match is: 1-4 leading decimals, then nothing or one suffix.
        if n > 0 and Py_UNICODE_ISDIGIT(PyUnicode_READ(kind, data, 0)):
            k = 0
            while k < n and k < 5 and Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, k)):
                k += 1
            if 1 <= k <= 4 and self._is_ordinal(word, k):
                facts |= self.tf_number
        # word.isalnum() or re.search(r"[^\W_]", word): re's \w is Py_UNICODE_ISALNUM or "_", so both say "some
        # character is alphanumeric".
        for i in range(n):
            if Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, i)):
                word_char = True
                break
        if word_char:
            facts |= self.tf_word
        return facts

    def compute_facts(self, str token):
        """Packed facts of one whitespace token (features._compute_token_facts)."""
        return self._facts(token)

    def token_facts(self, list distinct, const double[::1] counts, const Py_ssize_t[::1] tok_id):
        """Facts and page counts of the page's tokens (the first steps of features._token_index).

        ``distinct``, ``counts`` and ``tok_id`` come from ``collect``: the distinct tokens, how often each occurs and
        each token's index among them. Returns (facts int64 per token, count float64 per token: its count on the
        page, 0 for tokens without a letter or digit). The facts of every distinct token are computed afresh: in C
        that is cheaper than a lookup in features._TOKEN_FACTS (a dict of up to 2**18 tokens, whose probes miss
        the CPU caches), so the compiled path keeps no token memo.
        """
        cdef Py_ssize_t n_tok = tok_id.shape[0], n_distinct = len(distinct), i, j
        if counts.shape[0] != n_distinct:
            raise ValueError("one count per distinct token")
        dfacts_arr = np.empty(n_distinct, dtype=np.int64)
        cdef long long[::1] dfacts = dfacts_arr
        for j in range(n_distinct):
            dfacts[j] = self._facts(distinct[j])
        facts_arr = np.empty(n_tok, dtype=np.int64)
        count_arr = np.empty(n_tok, dtype=np.float64)
        cdef long long[::1] facts = facts_arr
        cdef double[::1] count = count_arr
        cdef long long word_bit = self.tf_word
        for i in range(n_tok):
            j = tok_id[i]
            if j < 0 or j >= n_distinct:
                raise ValueError("token id out of range")
            facts[i] = dfacts[j]
            count[i] = counts[j] if dfacts[j] & word_bit else 0.0
        return facts_arr, count_arr

    def token_sums(self, const long long[::1] facts, const u8[::1] frequent, const u8[::1] top,
                   const double[::1] tok_count):
        """Per-block sums of the token columns of features._token_stats: alpha, digit, cap, stop, short, frequent,
        frequent short, top and stripped length (an (n, 9) float64 matrix; blocks without tokens get 0 rows).

        Sums the rows features._per_block_sums sums, quirk included: its np.add.reduceat clips the offsets of
        trailing token-less blocks to the last token, so the last block with tokens, when token-less blocks follow
        it, sums its rows up to the page's last token exclusive (all of them when it has one token only).
        """
        cdef Py_ssize_t n = tok_count.shape[0], n_tok = facts.shape[0], t = 0, begin, end, blk, u, last = -1
        cdef long long f
        cdef int shift = self.tf_len_shift
        out_arr = np.zeros((n, 9), dtype=np.float64)
        cdef double[:, ::1] out = out_arr
        if n_tok != frequent.shape[0] or n_tok != top.shape[0]:
            raise ValueError("token columns differ in length")
        for blk in range(n):
            if tok_count[blk] > 0:
                last = blk
        for blk in range(n):
            begin = t
            t += <Py_ssize_t>tok_count[blk]
            if t > n_tok:
                raise ValueError("more tokens counted than given")
            end = t - 1 if blk == last and blk < n - 1 and t - begin >= 2 else t  # the reduceat quirk above
            for u in range(begin, end):
                f = facts[u]
                if f & self.tf_alpha:
                    out[blk, 0] += 1.0
                if f & self.tf_digit:
                    out[blk, 1] += 1.0
                if f & self.tf_cap:
                    out[blk, 2] += 1.0
                if f & self.tf_stop:
                    out[blk, 3] += 1.0
                if f & self.tf_short:
                    out[blk, 4] += 1.0
                    if frequent[u]:
                        out[blk, 6] += 1.0
                if frequent[u]:
                    out[blk, 5] += 1.0
                if top[u]:
                    out[blk, 7] += 1.0
                out[blk, 8] += <double>(f >> shift)
        return out_arr

    def trigger_patterns(self, const long long[::1] facts, const long long[::1] block, list tokens, list texts,
                         double[:, :] out, dict column_of):
        """Set ``out[block, column_of[name]]`` to 1.0 for the blocks whose trigger tokens' rules confirm pattern
        ``name`` (the first stage of features._patterns, over the same distinct (block, token) pairs; the result does
        not depend on their order). ``out`` must hold no other 1.0 yet: a set cell counts as confirmed.
        """
        cdef Py_ssize_t n_tok = facts.shape[0], t, a, b, length
        cdef long long blk, prev = -1
        cdef int kind
        cdef void *data
        cdef Py_UCS4 c
        cdef Py_ssize_t col
        cdef set seen = set()
        cdef dict rules_of = {}, lowered = {}
        cdef tuple rule
        cdef object token, rules, key, text
        if block.shape[0] != n_tok or len(tokens) != n_tok:
            raise ValueError("one block and one token per fact")
        if out.shape[0] != len(texts):
            raise ValueError("one output row per block")
        for t in range(n_tok):
            if not facts[t] & self.tf_trigger:
                continue
            blk = block[t]
            if blk < 0 or blk >= len(texts):
                raise ValueError("block index out of range")
            if blk != prev:
                seen = set()
                prev = blk
            token = tokens[t]
            if token in seen:
                continue
            seen.add(token)
            rules = rules_of.get(token)
            if rules is None:
                # token.strip(_TOKEN_STRIP).lower()
                length = PyUnicode_GET_LENGTH(token)
                kind = PyUnicode_KIND(token)
                data = PyUnicode_DATA(token)
                a = 0
                b = length
                self._strip_span(kind, data, &a, &b)
                rules = rules_of[token] = self.triggers[(<str>token)[a:b].lower()]
            key = blk
            for rule in rules:
                col = column_of[rule[0]]
                if col < 0 or col >= out.shape[1]:
                    raise ValueError("pattern column out of range")
                if out[blk, col] == 1.0:
                    continue
                if rule[2] is not None:
                    if rule[1]:
                        text = texts[blk]
                    else:
                        text = lowered.get(key)
                        if text is None:
                            text = lowered[key] = texts[blk].lower()
                    if not rule[2](text):
                        continue
                out[blk, col] = 1.0

    def page_scans(self, list texts, double[:, :] out, tuple columns):
        """Set ``out[i, columns[k]]`` to 1.0 where page scan k matches in block i (k indexes _PAGE_SCAN_PATTERNS:
        features._PAGE_SCANS, then its handle pattern; -1 skips a scan).

        The Python code runs each regex over the NUL-joined page and takes the block of each match start. No match
        can hold a NUL, so a block has a match start in finditer's non-overlapping matches exactly when the pattern
        matches at some position of its text, with the NUL (or nothing) before and after it: what is tested here,
        character by character, with re's \\d (Py_UNICODE_ISDECIMAL) and \\w (Py_UNICODE_ISALNUM or "_").
        """
        cdef Py_ssize_t n = len(texts), n_scans = len(_PAGE_SCAN_PATTERNS), i, p, length, k, r
        cdef Py_ssize_t[10] col
        cdef bint[10] hit
        cdef int kind
        cdef void *data
        cdef Py_UCS4 c, b
        cdef str text
        if len(columns) != n_scans or n_scans != 10:
            raise ValueError("one column per page scan")
        if out.shape[0] != n:
            raise ValueError("one output row per block")
        for k in range(n_scans):
            col[k] = columns[k]
            if col[k] >= out.shape[1]:
                raise ValueError("page scan column out of range")
        for i in range(n):
            text = texts[i]
            length = PyUnicode_GET_LENGTH(text)
            kind = PyUnicode_KIND(text)
            data = PyUnicode_DATA(text)
            for k in range(n_scans):
                hit[k] = col[k] < 0  # a skipped scan counts as found: nothing left to look for
            for p in range(length):
                c = PyUnicode_READ(kind, data, p)
                if c == 45 or c == 47 or c == 46:  # "-", "/", ".": numeric dates
                    k = 0 if c == 45 else (1 if c == 47 else 2)
                    if not hit[k] and _numeric_date(kind, data, length, p, c):
                        hit[k] = True
                elif c == 58:  # ":": a time (\d:\d\d) or a URL scheme (\w://\w)
                    if (
                        not hit[3]
                        and p >= 1
                        and Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, p - 1))
                        and _decimal_run(kind, data, length, p + 1) == 2
                    ):
                        hit[3] = True
                    if (
                        not hit[6]
                        and p >= 1
                        and _at(kind, data, length, p + 1) == 47
                        and _at(kind, data, length, p + 2) == 47
                        and _is_word(PyUnicode_READ(kind, data, p - 1))
                        and _is_word(_at(kind, data, length, p + 3))
                    ):
                        hit[6] = True
                elif c == 91:  # "[": an excerpt cut, [...] or [...]
                    if not hit[4]:
                        b = _at(kind, data, length, p + 1)
                        if (b == 0x2026 and _at(kind, data, length, p + 2) == 93) or (
                            b == 46
                            and _at(kind, data, length, p + 2) == 46
                            and _at(kind, data, length, p + 3) == 46
                            and _at(kind, data, length, p + 4) == 93
                        ):
                            hit[4] = True
                elif c == 0xA9:  # "©"
                    hit[5] = True
                elif c == 119:  # "www." and a word character
                    if (
                        not hit[7]
                        and _at(kind, data, length, p + 1) == 119
                        and _at(kind, data, length, p + 2) == 119
                        and _at(kind, data, length, p + 3) == 46
                        and _is_word(_at(kind, data, length, p + 4))
                    ):
                        hit[7] = True
                elif c == 64:  # "@": e-mail address or social handle
                    if not hit[8] and p >= 1 and _is_word(PyUnicode_READ(kind, data, p - 1)):
                        # [\w-]+ takes its whole run ("." is not in it), then "." and 2+ word characters.
                        r = p + 1
                        while r < length:
                            b = PyUnicode_READ(kind, data, r)
                            if not (_is_word(b) or b == 45):
                                break
                            r += 1
                        if r > p + 1 and _at(kind, data, length, r) == 46:
                            k = r + 1
                            while k < length and _is_word(PyUnicode_READ(kind, data, k)):
                                k += 1
                            if k - (r + 1) >= 2:
                                hit[8] = True
                    if not hit[9]:
                        b = PyUnicode_READ(kind, data, p - 1) if p >= 1 else 0
                        if not (_is_word(b) or b == 46):
                            r = p + 1
                            while r < length:
                                b = PyUnicode_READ(kind, data, r)
                                if not (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122 or b == 95):
                                    break
                                r += 1
                            if r - (p + 1) >= 2:
                                hit[9] = True
            for k in range(n_scans):
                if col[k] >= 0 and hit[k]:
                    out[i, col[k]] = 1.0

    def month_dates(self, const long long[::1] facts, const long long[::1] block, Py_ssize_t n):
        """1.0 for blocks where a month token stands next to a day/year number, directly or across a joiner
        (features._month_dates; ``block`` is each token's block, non-decreasing)."""
        cdef Py_ssize_t n_tok = facts.shape[0], i
        cdef long long b
        out_arr = np.zeros(n, dtype=np.float64)
        cdef double[::1] out = out_arr
        if block.shape[0] != n_tok:
            raise ValueError("one block per token")
        for i in range(n_tok):
            if not facts[i] & self.tf_month:
                continue
            b = block[i]
            if b < 0 or b >= n:
                raise ValueError("block index out of range")
            if (
                (i + 1 < n_tok and block[i + 1] == b and facts[i + 1] & self.tf_number)  # month, number
                or (i >= 1 and block[i - 1] == b and facts[i - 1] & self.tf_number)  # number, month
                or (
                    i >= 2 and block[i - 2] == b and facts[i - 1] & self.tf_joiner and facts[i - 2] & self.tf_number
                )  # number, de, month
                or (
                    i + 2 < n_tok
                    and block[i + 2] == b
                    and facts[i + 1] & self.tf_joiner
                    and facts[i + 2] & self.tf_number
                )  # month, of, number
            ):
                out[b] = 1.0
        return out_arr

    # -----------------------------------------------------------------------------------------------------------------
    # Class/id families
    # -----------------------------------------------------------------------------------------------------------------

    cdef long long _family_bits(self, str token) except -1:
        """Bit set of the families whose pattern occurs in one class/id token (features._token_family_bits)."""
        cdef PyObject *hit = PyDict_GetItemWithError(self.family_memo, token)
        cdef long long bits, bit
        cdef Py_ssize_t length, pos
        cdef int kind
        cdef void *data
        cdef Py_UCS4 c
        cdef object candidates
        cdef tuple pair
        if hit is not NULL:
            return <long long><object>hit
        bits = self.always_bits
        length = PyUnicode_GET_LENGTH(token)
        kind = PyUnicode_KIND(token)
        data = PyUnicode_DATA(token)
        for pos in range(length):
            c = PyUnicode_READ(kind, data, pos)
            if c < 128:
                candidates = self.lit_ascii[<Py_ssize_t>c]
            else:
                candidates = self.lit_other.get(<long>c, ())
            for pair in candidates:
                bit = pair[1]
                if not bits & bit and _starts_at(kind, data, length, pos, <str>pair[0]):
                    bits |= bit
        gated = bits >> _GATE_SHIFT
        bits &= (1LL << _GATE_SHIFT) - 1
        for pair in self.regex_families:
            bit = pair[0]
            if bits & bit or (pair[2] and not gated & bit):
                continue
            if pair[1](token) is not None:
                bits |= bit
        if len(self.family_memo) >= self.family_memo_max:
            self.family_memo = {}  # a fresh memo, as the token memo does
        self.family_memo[token] = bits
        return bits

    def family_bits(self, str token):
        """Bit set of the class/id families whose pattern occurs in the token (features._token_family_bits)."""
        return self._family_bits(token)

    cdef int _class_bits(self, tuple classes, long long *near, long long *every) except -1:
        """Families among the nearest tokens and among all tokens of one block (features._class_bits)."""
        cdef Py_ssize_t j
        cdef long long b
        cdef object token
        near[0] = 0
        every[0] = 0
        for j in range(len(classes)):
            token = classes[j]
            if type(token) is not str:
                return 1
            b = self._family_bits(<str>token)
            if j < self.near_tokens:
                near[0] |= b
            every[0] |= b
        return 0

    def class_bits(self, tuple classes):
        """(families among the nearest tokens, families among all tokens) of one block's class/id tokens, or None
        when a token is not a str."""
        cdef long long near, every
        if self._class_bits(classes, &near, &every):
            return None
        return near, every

    # -----------------------------------------------------------------------------------------------------------------
    # Base columns
    # -----------------------------------------------------------------------------------------------------------------

    def collect(self, blocks):
        """The base columns of features._collect, or None when a block is not a plain Block (the Python code then
        handles, or rejects, the page).

        Returns a dict of the _Base fields (but ``n``) plus ``distinct``, ``distinct_counts`` and ``token_ids``: the
        page's distinct whitespace tokens in first-seen order, how often each occurs, and each token's index among
        them. ``tokens`` holds the distinct token object for every occurrence.
        """
        cdef tuple seq = tuple(blocks)
        cdef Py_ssize_t n = len(seq), k = len(self.num_index), i, j, pos, length, start, first_pos, last_pos
        cdef Py_ssize_t tok_start = 0, n_paths = 0, n_parents = 0, cut
        cdef tuple block, classes, prev_classes = None
        cdef object value, text_obj, tag, path, source, bullet
        cdef long long near = 0, every = 0
        cdef str text
        cdef list texts = [], tokens = [], distinct_paths = [], parents = []
        cdef dict text_counts = {}, path_ids = {}, parent_ids = {}
        cdef PyObject *hit
        cdef long long v
        cdef int kind
        cdef void *data
        cdef Py_UCS4 c
        cdef u8 cls, fl
        cdef bint in_token, caps_failed, caps_cased
        cdef unsigned long long h = 0
        cdef Py_ssize_t[32] index
        cdef _TokenTable table = _TokenTable()
        if k > 32:
            raise ValueError("too many numeric fields")
        for j in range(k):
            index[j] = self.num_index[j]
        num_arr = np.empty((n, k), dtype=np.float64)
        flt_arr = np.zeros((9, n), dtype=np.float64)
        int_arr = np.empty((5, n), dtype=np.int64)
        is_text_arr = np.zeros(n, dtype=np.uint8)
        counts_arr = np.zeros((n, self.n_classes), dtype=np.float64)
        cdef double[:, ::1] num = num_arr
        cdef double[:, ::1] flt = flt_arr
        cdef long long[:, ::1] ints = int_arr
        cdef u8[::1] is_text = is_text_arr
        cdef double[:, ::1] counts = counts_arr
        start = 0
        for i in range(n):
            value = seq[i]
            if type(value) is not self.block_type:
                return None
            block = <tuple>value
            for j in range(k):
                value = block[index[j]]
                if not PyLong_Check(value):
                    return None
                try:
                    v = PyLong_AsLongLong(value)
                except OverflowError:
                    return None
                # Counts are non-negative by contract; clipped at 0 as the Python code does.
                num[i, j] = <double>(v if v > 0 else 0)
            text_obj = block[self.i_text]
            tag = block[self.i_tag]
            path = block[self.i_path]
            value = block[self.i_class]
            source = block[self.i_source]
            bullet = block[self.i_bullet]
            if (
                type(text_obj) is not str
                or type(tag) is not str
                or type(path) is not str
                or type(value) is not tuple
                or type(source) is not str
                or type(bullet) is not str
            ):
                return None
            text = <str>text_obj
            classes = <tuple>value
            texts.append(text)
            # Tag code (row 0): the tag group, "other", or none for plain-text lines.
            if source == "text":
                is_text[i] = 1
                ints[0, i] = self.tag_line
            else:
                hit = PyDict_GetItemWithError(self.tag_code, tag)
                ints[0, i] = self.tag_other if hit is NULL else <long long><object>hit
            # Class/id families, near (row 1) and any (row 2); neighbouring blocks often share their tokens.
            if prev_classes is None or not (classes is prev_classes or classes == prev_classes):
                if self._class_bits(classes, &near, &every):
                    return None
                prev_classes = classes
            ints[1, i] = near
            ints[2, i] = every
            # Path ids (row 3) in first-seen order, as features._ids numbers them.
            hit = PyDict_GetItemWithError(path_ids, path)
            if hit is NULL:
                path_ids[path] = n_paths
                distinct_paths.append(path)
                ints[3, i] = n_paths
                n_paths += 1
            else:
                ints[3, i] = <long long><object>hit
            flt[0, i] = len(classes)
            flt[1, i] = 1.0 if len(<str>bullet) else 0.0
            # Repeated texts, counted like collections.Counter(texts).
            hit = PyDict_GetItemWithError(text_counts, text)
            text_counts[text] = 1 if hit is NULL else <Py_ssize_t><object>hit + 1
            length = PyUnicode_GET_LENGTH(text)
            start += length + 1
            # One pass over the code points: character classes, whitespace tokens (str.split()) and str.isupper().
            kind = PyUnicode_KIND(text)
            data = PyUnicode_DATA(text)
            in_token = False
            caps_failed = False
            caps_cased = False
            for pos in range(length):
                c = PyUnicode_READ(kind, data, pos)
                cls = self.class_table[_bmp(c)]
                if cls:
                    counts[i, cls - 1] += 1.0
                if Py_UNICODE_ISSPACE(c):
                    if in_token:
                        tokens.append(table.add(h, text, kind, data, tok_start, pos))
                        flt[8, i] += 1.0
                        in_token = False
                else:
                    if not in_token:
                        in_token = True
                        tok_start = pos
                        h = _HASH_SEED
                    h = (h ^ <unsigned long long>c) * _HASH_PRIME
                if not caps_failed:
                    if c < 128:
                        # ASCII: the only lower-case letters are a-z, the only upper-case ones A-Z, no title case.
                        if 97 <= c <= 122:
                            caps_failed = True
                        elif 65 <= c <= 90:
                            caps_cased = True
                    elif Py_UNICODE_ISLOWER(c) or Py_UNICODE_ISTITLE(c):
                        caps_failed = True
                    elif Py_UNICODE_ISUPPER(c):
                        caps_cased = True
            if in_token:
                tokens.append(table.add(h, text, kind, data, tok_start, length))
                flt[8, i] += 1.0
            if length == 1:
                # str.isupper() of one character is Py_UNICODE_ISUPPER alone (a title-case letter is not upper).
                flt[6, i] = 1.0 if Py_UNICODE_ISUPPER(PyUnicode_READ(kind, data, 0)) else 0.0
            else:
                flt[6, i] = 1.0 if caps_cased and not caps_failed else 0.0
            # First and last characters, stepping over up to two skippable ones without leaving the block; an empty
            # block's first and last "characters" are the NUL that follows it in the joined page text.
            if length == 0:
                fl = self.flag_table[0]
                flt[2, i] = 0.0
                flt[3, i] = 1.0 if fl & self.ch_bullet else 0.0
                flt[4, i] = 1.0 if fl & self.ch_sent_end else 0.0
                flt[5, i] = 1.0 if fl & self.ch_colon else 0.0
                continue
            first_pos = 0
            for j in range(2):
                c = PyUnicode_READ(kind, data, first_pos)
                if (self.flag_table[_bmp(c)] & self.ch_skip) and first_pos + 1 != length:
                    first_pos += 1
            c = PyUnicode_READ(kind, data, first_pos)
            fl = self.flag_table[_bmp(c)]
            flt[2, i] = 1.0 if Py_UNICODE_ISUPPER(c) else 0.0
            flt[3, i] = 1.0 if fl & self.ch_bullet else 0.0
            last_pos = length - 1
            for j in range(2):
                c = PyUnicode_READ(kind, data, last_pos)
                if (self.flag_table[_bmp(c)] & self.ch_skip) and last_pos != 0:
                    last_pos -= 1
            fl = self.flag_table[_bmp(PyUnicode_READ(kind, data, last_pos))]
            flt[4, i] = 1.0 if fl & self.ch_sent_end else 0.0
            flt[5, i] = 1.0 if fl & self.ch_colon else 0.0
        # Each distinct path's parent path (p.rpartition("/")[0]), numbered in first-seen order.
        parent_of_arr = np.empty(n_paths, dtype=np.int64)
        cdef long long[::1] parent_of = parent_of_arr
        for j in range(n_paths):
            path = distinct_paths[j]
            cut = PyUnicode_FindChar(path, 47, 0, PyUnicode_GET_LENGTH(path), -1)  # 47: "/"
            value = path[:cut] if cut >= 0 else ""
            hit = PyDict_GetItemWithError(parent_ids, value)
            if hit is NULL:
                parent_ids[value] = n_parents
                parent_of[j] = n_parents
                n_parents += 1
            else:
                parent_of[j] = <long long><object>hit
        starts_arr = np.empty(n, dtype=np.int64)
        cdef long long[::1] starts = starts_arr
        start = 0
        for i in range(n):
            text = texts[i]
            flt[7, i] = <double>(<Py_ssize_t>text_counts[text] - 1)
            ints[4, i] = parent_of[ints[3, i]]
            starts[i] = start
            start += PyUnicode_GET_LENGTH(text) + 1
        return {
            "num": num_arr,
            "texts": texts,
            "doc": "\x00".join(texts),
            "starts": starts_arr,
            "is_text": is_text_arr.view(bool),
            "tag_code": int_arr[0],
            "path_id": int_arr[3],
            "parent_id": int_arr[4],
            "near_bits": int_arr[1],
            "any_bits": int_arr[2],
            "n_class_tokens": flt_arr[0],
            "has_bullet": flt_arr[1],
            "starts_upper": flt_arr[2],
            "starts_bullet": flt_arr[3],
            "ends_sent": flt_arr[4],
            "ends_colon": flt_arr[5],
            "all_caps": flt_arr[6],
            "char_counts": counts_arr,
            "repeat_count": flt_arr[7],
            "tok_count": flt_arr[8],
            "tokens": tokens,
            "distinct": table.distinct,
            "distinct_counts": table.counts_array(),
            "token_ids": table.ids_array(),
        }

    # -----------------------------------------------------------------------------------------------------------------
    # Output
    # -----------------------------------------------------------------------------------------------------------------

    def stack(self, list columns, Py_ssize_t n):
        """The float32 (n, len(columns)) matrix of 1-D float64 columns of length n, or None when a column is not one
        (featurize's own loop then converts it)."""
        cdef Py_ssize_t m = len(columns), i, j, got = 0, i0, i1
        cdef Py_buffer *views = <Py_buffer *>PyMem_Malloc((m if m > 0 else 1) * sizeof(Py_buffer))
        cdef Py_buffer *view
        cdef float *row
        if views is NULL:
            raise MemoryError()
        out_arr = np.empty((n, m), dtype=np.float32)
        cdef float[:, ::1] out = out_arr
        try:
            for j in range(m):
                try:
                    PyObject_GetBuffer(columns[j], &views[j], PyBUF_STRIDES | PyBUF_FORMAT)
                except (TypeError, BufferError):
                    return None
                got += 1
                view = &views[j]
                if (
                    view.ndim != 1
                    or view.shape[0] != n
                    or view.itemsize != 8
                    or view.format is NULL
                    or view.format[0] != b"d"
                    or view.format[1] != 0
                ):
                    return None
            # Rows in bands of 16: the writes run along each output row, the reads stay within a few cache lines of
            # each column.
            for i0 in range(0, n, 16):
                i1 = i0 + 16 if i0 + 16 < n else n
                for j in range(m):
                    view = &views[j]
                    for i in range(i0, i1):
                        # The C cast rounds to nearest, as numpy's float64 -> float32 cast does.
                        out[i, j] = <float>(<double *>(<char *>view.buf + i * view.strides[0]))[0]
        finally:
            for j in range(got):
                PyBuffer_Release(&views[j])
            PyMem_Free(views)
        return out_arr

    # -----------------------------------------------------------------------------------------------------------------
    # Meta lines and leading labels
    # -----------------------------------------------------------------------------------------------------------------

    def reading_time(self, list texts, const double[:] words, const double[:] digits, Py_ssize_t max_words,
                     search):
        """The reading_time_line column of features._meta_lines: 1.0 where a block of at most ``max_words`` words
        with a digit is matched by ``search`` (the bound search of its regex), else 0."""
        cdef Py_ssize_t n = len(texts), i
        out_arr = np.zeros(n, dtype=np.float64)
        cdef double[::1] out = out_arr
        if words.shape[0] != n or digits.shape[0] != n:
            raise ValueError("one value per block")
        for i in range(n):
            if words[i] <= max_words and digits[i] > 0 and search(texts[i]) is not None:
                out[i] = 1.0
        return out_arr

    def meta_lines(self, list texts, list rules, const double[:] words, const double[:] chars,
                   const double[:] ends_sent, const double[:] title_like, const u8[::1] contentish,
                   Py_ssize_t max_dist):
        """The integer-valued columns of features._meta_lines: (meta_line, meta_line_neighbours, next content-ish
        distance, prev_ends_with_block, title lines to content), the distance and the title count before log1p.

        ``rules`` holds (columns, max words) pairs: a block is a meta line when one of a rule's columns is > 0, it
        has at most that many words, and it does not end a sentence.
        """
        cdef Py_ssize_t n = len(texts), i, nxt = -1
        cdef double count = 0.0, max_words
        cdef const double[:] col
        cdef tuple rule
        cdef object text, prev
        if words.shape[0] != n or chars.shape[0] != n or ends_sent.shape[0] != n or title_like.shape[0] != n:
            raise ValueError("one value per block")
        if contentish.shape[0] != n:
            raise ValueError("one value per block")
        meta_arr = np.zeros(n, dtype=np.float64)
        neighbours_arr = np.zeros(n, dtype=np.float64)
        dist_arr = np.empty(n, dtype=np.float64)
        prev_ends_arr = np.zeros(n, dtype=np.float64)
        titles_arr = np.empty(n, dtype=np.float64)
        cdef double[::1] meta = meta_arr, neighbours = neighbours_arr, dist = dist_arr
        cdef double[::1] prev_ends = prev_ends_arr, titles = titles_arr
        for rule in rules:
            max_words = <double>rule[1]
            for column in rule[0]:
                col = column
                if col.shape[0] != n:
                    raise ValueError("one value per block")
                for i in range(n):
                    if col[i] > 0 and words[i] <= max_words:
                        meta[i] = 1.0
        for i in range(n):
            if ends_sent[i] != 0:
                meta[i] = 0.0
        for i in range(n):
            if i > 0:
                neighbours[i] += meta[i - 1]
            if i + 1 < n:
                neighbours[i] += meta[i + 1]
        # Backwards: the next content-ish block after i, and the title-like non-meta lines strictly between them.
        for i in range(n - 1, -1, -1):
            dist[i] = <double>(max_dist if nxt < 0 or nxt - i > max_dist else nxt - i)
            titles[i] = count
            if contentish[i]:
                nxt = i
                count = 0.0
            elif title_like[i] > 0 and meta[i] == 0:
                count += 1.0
        # The previous block is longer and ends with this block's text (str.endswith is a tail match).
        for i in range(1, n):
            if chars[i - 1] > chars[i] and chars[i] > 0:
                text = texts[i]
                prev = texts[i - 1]
                if type(text) is not str or type(prev) is not str:
                    raise TypeError("block texts must be str")
                if PyUnicode_Tailmatch(prev, text, 0, PY_SSIZE_T_MAX, 1) == 1:
                    prev_ends[i] = 1.0
        return meta_arr, neighbours_arr, dist_arr, prev_ends_arr, titles_arr

    def lead_labels(self, list texts, str separators, Py_ssize_t max_chars, Py_ssize_t max_words,
                    frozenset promo_labels, str strip):
        """The (n, 3) lead_label_promo / lead_label_caps / lead_label_tail_repeats columns of features._meta_lines:
        the first separator among a block's first ``max_chars`` characters, a label of 1 to ``max_words`` words
        before it and a non-blank tail after it (the label and tail checks call the same str methods)."""
        cdef Py_ssize_t n = len(texts), i, pos, limit, sep, length, k
        cdef Py_ssize_t n_seps = PyUnicode_GET_LENGTH(separators)
        cdef Py_UCS4[8] seps
        cdef int kind
        cdef void *data
        cdef Py_UCS4 c
        cdef str text, label, tail
        if n_seps > 8:
            raise ValueError("at most 8 label separators")
        for k in range(n_seps):
            seps[k] = PyUnicode_READ(PyUnicode_KIND(separators), PyUnicode_DATA(separators), k)
        cdef list words
        cdef object distinct = None
        out_arr = np.zeros((n, 3), dtype=np.float64)
        cdef double[:, ::1] out = out_arr
        for i in range(n):
            text = texts[i]
            length = PyUnicode_GET_LENGTH(text)
            limit = length if length < max_chars else max_chars
            kind = PyUnicode_KIND(text)
            data = PyUnicode_DATA(text)
            sep = -1
            for pos in range(limit):
                c = PyUnicode_READ(kind, data, pos)
                for k in range(n_seps):
                    if c == seps[k]:
                        sep = pos
                        break
                if sep >= 0:
                    break
            if sep < 0:
                continue
            words = text[:sep].split()
            if not words or len(words) > max_words:  # label.count(" ") + 1: the words of the label
                continue
            tail = text[sep + 1 :].strip()
            if not tail:
                continue
            label = " ".join(words)
            out[i, 0] = 1.0 if label.lower().strip(strip) in promo_labels else 0.0
            out[i, 1] = 1.0 if label.isupper() else 0.0
            if distinct is None:
                distinct = set(texts)
            out[i, 2] = 1.0 if tail in distinct else 0.0
        return out_arr
