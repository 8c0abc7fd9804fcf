# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twin of ``bpdetect.segment._walk``: the same Blocks, read straight from libxml2's nodes.

The Python walk creates an lxml proxy object for every element and reads ``.tag``, ``.text``, ``.tail`` and
``.keys()`` through Python calls; this one follows the C pointers of the tree lxml built and turns into Python
strings only the text it keeps. Its rules mirror lxml's views of the tree exactly:

- an element's children are the nodes lxml iterates (elements, comments, entity references, processing
  instructions); everything else between them is text;
- ``.text`` and ``.tail`` join adjacent text and CDATA nodes (XInclude markers are skipped) and stop at any other
  node;
- ``.get(name)`` is the first attribute without a namespace of that name, ``""`` when it has no value.

Elements carrying one of the "special" attributes (hidden, style, role...) are rare: for them the walk builds the
lxml proxy and calls the Python ``_special_flags`` so the two walks cannot disagree on those rules. The constants
(block tags, flags, limits) come from ``bpdetect.segment`` through ``configure()``, so they are defined once.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from cpython.object cimport PyObject
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcpy, strcmp, strlen

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, elementFactory, import_lxml__etree

import_lxml__etree()

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)


cdef dict _TAG_FLAGS = {}
cdef dict _HEADINGS = {}
cdef frozenset _BLOCK_TAGS = frozenset()
cdef object _SPECIAL_FLAGS = None  # the Python _special_flags(element) -> int
cdef object _TRUNCATED = None  # exception class raised when max_blocks is reached
cdef long _HIDDEN = -1
cdef long _SEM_PRE = 0
cdef Py_ssize_t _MAX_DEPTH = 256
cdef Py_ssize_t _MAX_CLASS_TOKENS = 24
cdef Py_ssize_t _MAX_PATH_PARTS = 12
cdef Py_ssize_t _MAX_ANCHOR_CHARS = 2000
cdef str _BR = "\x00"
cdef bint _configured = False

# Building Blocks (segment._html_blocks's job in the Python walk): the Block type, the defaults of its plain-text
# fields, textstats' class table and bits, and the flag bits.
cdef object _BLOCK = None
cdef tuple _BLOCK_TAIL = ()
cdef const unsigned char[::1] _CLASS_TABLE
cdef unsigned char _UPPER = 0, _DIGIT = 0, _PUNCT = 0, _SPACE = 0, _TERM = 0
cdef long _PRIVATE_MASK = 0, _IN_LI = 0, _IN_CELL = 0, _IN_CAPTION = 0, _LINK_ONLY = 0
cdef bint _blocks_configured = False

# Attribute names that make an element "special" (segment._SPECIAL_ATTRS, as C strings for strcmp).
cdef const char* _SPECIAL_NAMES[6]
_SPECIAL_NAMES[0] = b"role"
_SPECIAL_NAMES[1] = b"itemprop"
_SPECIAL_NAMES[2] = b"itemtype"
_SPECIAL_NAMES[3] = b"hidden"
_SPECIAL_NAMES[4] = b"aria-hidden"
_SPECIAL_NAMES[5] = b"style"


def configure(
    block_tags, tag_flags, headings, special_attrs, special_flags, truncated, long hidden, long sem_pre,
    Py_ssize_t max_depth, Py_ssize_t max_class_tokens, Py_ssize_t max_path_parts, Py_ssize_t max_anchor_chars, str br,
):
    """Take the walk's constants and callbacks from bpdetect.segment (called once, at its import)."""
    global _BLOCK_TAGS, _TAG_FLAGS, _HEADINGS, _SPECIAL_FLAGS, _TRUNCATED, _HIDDEN, _SEM_PRE, _MAX_DEPTH
    global _MAX_CLASS_TOKENS, _MAX_PATH_PARTS, _MAX_ANCHOR_CHARS, _BR, _configured
    if frozenset(special_attrs) != {"role", "itemprop", "itemtype", "hidden", "aria-hidden", "style"}:
        raise ImportError("bpdetect._cwalk: segment._SPECIAL_ATTRS changed; update _SPECIAL_NAMES in _cwalk.pyx")
    _BLOCK_TAGS = frozenset(block_tags)
    _TAG_FLAGS = dict(tag_flags)
    _HEADINGS = dict(headings)
    _SPECIAL_FLAGS = special_flags
    _TRUNCATED = truncated
    _HIDDEN = hidden
    _SEM_PRE = sem_pre
    _MAX_DEPTH = max_depth
    _MAX_CLASS_TOKENS = max_class_tokens
    _MAX_PATH_PARTS = max_path_parts
    _MAX_ANCHOR_CHARS = max_anchor_chars
    _BR = br
    _configured = True


def configure_blocks(
    block, tuple tail, const unsigned char[::1] class_table, int upper, int digit, int punct, int space, int term,
    long private_mask, long in_li, long in_cell, long in_caption, long link_only,
):
    """Take what building Blocks needs (called once, at segment's import)."""
    global _BLOCK, _BLOCK_TAIL, _CLASS_TABLE, _UPPER, _DIGIT, _PUNCT, _SPACE, _TERM
    global _PRIVATE_MASK, _IN_LI, _IN_CELL, _IN_CAPTION, _LINK_ONLY, _blocks_configured
    if class_table.shape[0] != 0x10000:
        raise ValueError("the class table must cover the Basic Multilingual Plane")
    _BLOCK = block
    _BLOCK_TAIL = tail
    _CLASS_TABLE = class_table
    _UPPER, _DIGIT, _PUNCT, _SPACE, _TERM = upper, digit, punct, space, term
    _PRIVATE_MASK, _IN_LI, _IN_CELL, _IN_CAPTION, _LINK_ONLY = private_mask, in_li, in_cell, in_caption, link_only
    _blocks_configured = True


cdef tuple _counts(str text):
    """(words, sentences, punctuation, digits, upper-case) of a non-empty text, as textstats.count_texts counts."""
    cdef Py_ssize_t n = len(text), k
    cdef Py_UCS4 cp
    cdef unsigned char c, prev = _SPACE
    cdef long words = 0, sents = 0, punct = 0, digits = 0, upper = 0
    cdef bint pending_term = False
    for k in range(n):
        cp = text[k]
        c = _CLASS_TABLE[cp if cp < 0xFFFF else 0xFFFF]
        if pending_term and (c & _SPACE):
            sents += 1  # a terminator followed by a space ends a sentence
        pending_term = (c & _TERM) != 0
        if not (c & _SPACE) and (prev & _SPACE):
            words += 1
        if c & _PUNCT:
            punct += 1
        if c & _DIGIT:
            digits += 1
        if c & _UPPER:
            upper += 1
        prev = c
    # The text's end ends a sentence, whether or not a terminator is there.
    sents += 1
    return words, sents, punct, digits, upper


cdef inline bint _is_element_like(tree.xmlNode* c) noexcept nogil:
    # lxml's _isElement: the nodes `for child in el` yields.
    return (
        c.type == tree.XML_ELEMENT_NODE
        or c.type == tree.XML_COMMENT_NODE
        or c.type == tree.XML_ENTITY_REF_NODE
        or c.type == tree.XML_PI_NODE
    )


cdef inline bint _is_text(tree.xmlNode* c) noexcept nogil:
    return c.type == tree.XML_TEXT_NODE or c.type == tree.XML_CDATA_SECTION_NODE


cdef inline bint _is_xinclude(tree.xmlNode* c) noexcept nogil:
    return c.type == tree.XML_XINCLUDE_START or c.type == tree.XML_XINCLUDE_END


cdef inline str _decode(const char* s):
    return PyUnicode_DecodeUTF8(s, strlen(s), NULL)


cdef object _text_run(tree.xmlNode* c):
    """lxml's _collectText from node c: the joined text of the text/CDATA run starting there, or None."""
    cdef tree.xmlNode* first = NULL
    cdef int count = 0
    cdef list parts
    while c is not NULL:
        if _is_text(c):
            if c.content is not NULL and c.content[0] != 0:
                if first is NULL:
                    first = c
                count += 1
        elif not _is_xinclude(c):
            break
        c = c.next
    if first is NULL:
        return None
    if count == 1:
        return _decode(<const char*>first.content)
    parts = []
    c = first
    while c is not NULL:
        if _is_text(c):
            if c.content is not NULL and c.content[0] != 0:
                parts.append(_decode(<const char*>c.content))
        elif not _is_xinclude(c):
            break
        c = c.next
    return "".join(parts)


cdef inline bint _has_element_child(tree.xmlNode* c) noexcept nogil:
    """len(element) > 0 in lxml's terms."""
    c = c.children
    while c is not NULL:
        if _is_element_like(c):
            return True
        c = c.next
    return False


cdef tree.xmlAttr* _attr(tree.xmlNode* c, const char* name) noexcept nogil:
    """The first attribute without a namespace named `name` (libxml2's xmlHasNsProp(c, name, NULL) rule)."""
    cdef tree.xmlAttr* a = c.properties
    while a is not NULL:
        if a.ns is NULL and strcmp(<const char*>a.name, name) == 0:
            return a
        a = a.next
    return NULL


cdef object _get(tree.xmlNode* c, _Element root, const char* name):
    """element.get(name): None when absent, "" when it has no value."""
    cdef tree.xmlAttr* a = _attr(c, name)
    if a is NULL:
        return None
    if a.children is NULL:
        return ""
    if a.children.next is NULL and _is_text(a.children):
        if a.children.content is NULL:
            return ""
        return _decode(<const char*>a.children.content)
    # A value made of several nodes (entity references): let lxml join it.
    return elementFactory(root._doc, c).get(name.decode("utf-8"))


cdef inline int _special_mask(tree.xmlNode* c) noexcept nogil:
    """Which of segment._SPECIAL_ATTRS the element has, one bit each in _SPECIAL_NAMES order (0: none)."""
    cdef tree.xmlAttr* a = c.properties
    cdef int k, mask = 0
    while a is not NULL:
        if a.ns is NULL:
            for k in range(6):
                if strcmp(<const char*>a.name, _SPECIAL_NAMES[k]) == 0:
                    mask |= 1 << k
        a = a.next
    return mask


cdef enum:
    _STYLE_ONLY = 1 << 5  # the bit of "style" in _special_mask


cdef inline bint _ascii_has(const unsigned char* s, const char* word) noexcept nogil:
    """Whether lowercase ASCII ``word`` occurs in ``s`` ignoring ASCII case."""
    cdef Py_ssize_t i = 0, k
    cdef unsigned char ch
    while s[i] != 0:
        k = 0
        while word[k] != 0:
            ch = s[i + k]
            if ch == 0:
                return False
            if 65 <= ch <= 90:
                ch += 32
            if ch != <unsigned char>word[k]:
                break
            k += 1
        if word[k] == 0:
            return True
        i += 1
    return False


cdef inline bint _plain_style(tree.xmlNode* c) noexcept nogil:
    """True when the element's style is plain ASCII naming neither display nor visibility: it cannot hide the
    element (dom.is_hidden's pattern needs one of those words), so an element whose only special attribute is such a
    style gets no flags, without the Python call. Anything else (non-ASCII, a value made of several nodes) is left
    to the Python rules."""
    cdef tree.xmlAttr* a = _attr(c, b"style")
    cdef const unsigned char* v
    cdef Py_ssize_t i = 0
    if a is NULL:
        return False
    if a.children is NULL:
        return True  # an empty style
    if a.children.next is not NULL or not _is_text(a.children) or a.children.content is NULL:
        return False
    v = <const unsigned char*>a.children.content
    while v[i] != 0:
        if v[i] >= 0x80:
            return False
        i += 1
    return not _ascii_has(v, b"display") and not _ascii_has(v, b"visibility")


cdef class _TagInfo:
    """What the walk needs to know of one tag name (computed once per distinct name and page)."""

    cdef str tag  # lowercased
    cdef bint is_br  # the raw name is "br"
    cdef bint is_block
    cdef bint is_a
    cdef long flags
    cdef int heading  # -1 when not a heading


cdef class _Walker:
    cdef list blocks_out
    cdef list pieces
    cdef Py_ssize_t link_chars
    cdef Py_ssize_t n_links
    cdef list hrefs
    cdef list owners
    cdef Py_ssize_t serial
    cdef list tags
    cdef Py_ssize_t limit
    cdef bint too_deep
    cdef dict tag_cache
    cdef _Element root

    cdef _TagInfo info(self, tree.xmlNode* c):
        cdef size_t key = <size_t>c.name
        cdef _TagInfo info = self.tag_cache.get(key)
        if info is not None:
            return info
        raw = _decode(<const char*>c.name)
        info = _TagInfo()
        info.is_br = raw == "br"
        tag = raw if raw.islower() else raw.lower()
        info.tag = tag
        info.is_block = tag in _BLOCK_TAGS or "-" in tag
        info.is_a = tag == "a"
        info.flags = _TAG_FLAGS.get(tag, 0)
        info.heading = _HEADINGS.get(tag, -1)
        self.tag_cache[key] = info
        return info

    cdef bint ends_with_br(self):
        cdef str piece
        for piece in reversed(self.pieces):
            if piece == _BR:
                return True
            if not piece.isspace():
                return False
        return False

    cdef int add(self, str text, bint in_link, long in_pre) except -1:
        if in_pre:
            text = text.replace("\n", _BR)
        self.pieces.append(text)
        if in_link and not text.isspace():
            self.link_chars += len(" ".join(text.split()))
        return 0

    cdef str anchor_text(self, Py_ssize_t start):
        cdef list pieces = self.pieces
        cdef Py_ssize_t end = start, size = 0, n = len(pieces)
        while end < n and size <= _MAX_ANCHOR_CHARS:
            size += len(<str>pieces[end])
            end += 1
        text = "".join(pieces[start:end])
        if len(text) > _MAX_ANCHOR_CHARS:
            text = text[:_MAX_ANCHOR_CHARS]
        return " ".join(text.replace(_BR, " ").split())

    cdef flush(self, Py_ssize_t owner, int heading, tuple tokens, long flags):
        cdef str raw = "".join(self.pieces)
        self.pieces.clear()
        cdef Py_ssize_t link_chars = self.link_chars, n_links = self.n_links
        self.link_chars = 0
        self.n_links = 0
        cdef tuple block_hrefs = ()
        if self.hrefs:
            block_hrefs = tuple(self.hrefs)
            self.hrefs.clear()
        if raw.isspace():
            return
        cdef str text
        cdef Py_ssize_t n_lines
        if _BR in raw:
            lines = [" ".join(part.split()) for part in raw.split(_BR)]
            lines = [ln for ln in lines if ln]
            text = "\n".join(lines)
            n_lines = len(lines)
        else:
            text = " ".join(raw.split())
            n_lines = 1
        if not text:
            return
        cdef Py_ssize_t index = len(self.blocks_out)
        if index == self.limit:
            raise _TRUNCATED
        cdef list tags = self.tags
        path = "/".join(tags[max(1, owner + 1 - _MAX_PATH_PARTS) : owner + 1])
        owners = self.owners
        parent = owners[len(owners) - 2] if len(owners) > 1 else -1
        # The Block itself, field for field as segment._html_blocks builds it.
        cdef Py_ssize_t n_chars = len(text)
        words, sents, punct, digits, upper = _counts(text)
        cdef long semantic = flags & ~_PRIVATE_MASK
        if n_links == 1 and link_chars >= n_chars:
            semantic |= _LINK_ONLY
        fields = (
            text, index, tags[owner], path, owner - 1, n_chars, words, sents, punct, digits, upper,
            min(link_chars, n_chars), n_links, n_lines, tokens, semantic, heading, (flags & _IN_LI) != 0,
            (flags & _IN_CELL) != 0, (flags & _IN_CAPTION) != 0,
        ) + _BLOCK_TAIL + (block_hrefs, owners[len(owners) - 1], parent)
        block = tuple.__new__(_BLOCK, fields)
        # A Block holds only strings, numbers and tuples of them: it can never be part of a reference cycle, so the
        # cyclic garbage collector need not track it (each collection would otherwise traverse every live Block).
        PyObject_GC_UnTrack(<PyObject*>block)
        self.blocks_out.append(block)

    cdef visit(self, tree.xmlNode* el, object text, long flags, tuple tokens, bint in_link, Py_ssize_t owner,
               int heading):
        cdef long in_pre = flags & _SEM_PRE
        cdef tree.xmlNode* c
        cdef tree.xmlNode* child
        cdef _TagInfo info
        cdef long extra, child_flags
        cdef int mask
        cdef bint is_block, child_in_link
        cdef Py_ssize_t pos, start
        cdef int level
        cdef str tag
        cdef tuple child_tokens, own
        if text:
            self.add(text, in_link, in_pre)
        # The element's own text was read by the caller; walk its element-like children and their tails.
        c = el.children
        while c is not NULL and not _is_element_like(c):
            c = c.next
        while c is not NULL:
            child = c
            if child.type == tree.XML_ELEMENT_NODE:
                extra = 0
                if child.properties is not NULL:
                    mask = _special_mask(child)
                    if mask and not (mask == _STYLE_ONLY and _plain_style(child)):
                        extra = _SPECIAL_FLAGS(elementFactory(self.root._doc, child))
                if extra == _HIDDEN:
                    pass
                else:
                    info = self.info(child)
                    if info.is_br:
                        if self.ends_with_br():
                            # <br><br> separates paragraphs on old and hand-made pages: a block boundary.
                            self.flush(owner, heading, tokens, flags)
                        else:
                            self.pieces.append(_BR)
                    else:
                        tag = info.tag
                        ctext = _text_run(child.children)
                        is_block = info.is_block
                        if (not is_block or not ctext) and not _has_element_child(child):
                            # A leaf: an inline one adds its text, an empty block element only ends a block.
                            if is_block:
                                if self.pieces:
                                    self.flush(owner, heading, tokens, flags)
                            elif info.is_a and _attr(child, b"href") is not NULL:
                                self.n_links += 1
                                if ctext:
                                    self.add(ctext, True, in_pre)
                                    self.hrefs.append((" ".join(ctext.split()), _get(child, self.root, b"href")))
                            elif ctext:
                                self.add(ctext, in_link, in_pre)
                        elif len(self.tags) > _MAX_DEPTH:
                            self.too_deep = True
                        else:
                            child_tokens = tokens
                            if child.properties is not NULL:
                                cls = _get(child, self.root, b"class")
                                ident = _get(child, self.root, b"id")
                                if cls or ident:
                                    own = tuple(f"{cls or ''} {ident or ''}".lower().split())
                                    if own:
                                        child_tokens = own + tokens
                                        if len(child_tokens) > _MAX_CLASS_TOKENS:
                                            child_tokens = child_tokens[:_MAX_CLASS_TOKENS]
                            child_flags = flags | info.flags | extra
                            child_in_link = in_link
                            href = None
                            if info.is_a:
                                href = _get(child, self.root, b"href")
                                if href is not None:
                                    child_in_link = True
                                    self.n_links += 1
                            self.tags.append(tag)
                            if is_block:
                                if self.pieces:
                                    # The pending text belongs to the current owner, in the context of `el`.
                                    self.flush(owner, heading, tokens, flags)
                                pos = len(self.tags) - 1
                                level = info.heading if info.heading >= 0 else heading
                                self.serial += 1
                                self.owners.append(self.serial)
                                self.visit(child, ctext, child_flags, child_tokens, child_in_link, pos, level)
                                if self.pieces:
                                    self.flush(pos, level, child_tokens, child_flags)
                                self.owners.pop()
                            elif href is not None:
                                start = len(self.pieces)
                                self.visit(child, ctext, child_flags, child_tokens, child_in_link, owner, heading)
                                # The anchor's text is what it added to the pending pieces.
                                anchor = self.anchor_text(start)
                                if anchor:
                                    self.hrefs.append((anchor, href))
                            else:
                                self.visit(child, ctext, child_flags, child_tokens, child_in_link, owner, heading)
                            self.tags.pop()
            # Entity and comment nodes contribute only their tail, as hidden elements do.
            tail = _text_run(child.next)
            if tail:
                self.add(tail, in_link, in_pre)
            # Next element-like sibling (text in between was the tail; other nodes end it).
            c = child.next
            while c is not NULL and not _is_element_like(c):
                c = c.next


def walk(_Element root not None, object max_blocks, object root_text, str root_tag, int root_heading):
    """The Blocks of the cleaned tree under root, and whether the walk stopped early (see segment._walk)."""
    if not _configured or not _blocks_configured:
        raise RuntimeError("bpdetect._cwalk.configure() / configure_blocks() was not called")
    cdef _Walker w = _Walker()
    w.blocks_out = []
    w.pieces = []
    w.link_chars = 0
    w.n_links = 0
    w.hrefs = []
    w.owners = [0]
    w.serial = 0
    w.tags = ["#root", root_tag]
    w.limit = max_blocks if max_blocks is not None else -1
    w.too_deep = False
    w.tag_cache = {}
    w.root = root
    truncated = False
    try:
        w.visit(root._c_node, root_text, 0, (), False, 1, root_heading)
        if w.pieces:
            w.flush(1, root_heading, (), 0)
    except _TRUNCATED:
        truncated = True
    return w.blocks_out, truncated or w.too_deep


def find_long_tag(const unsigned char[:] data, Py_ssize_t pos=0, Py_ssize_t units=200):
    """Start of the first match of dom._LONG_TAG_RE at or after pos, or -1: the same scan, without the regex engine.

    A match is "<", an ASCII letter, then ``units`` units, each one byte other than < > " ' or a whole quoted value
    ("..." or '...'). The units are deterministic (a quote can only close at the next equal quote), so each start
    needs one forward scan, as the regex does.
    """
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t i, j, count
    cdef unsigned char ch, q
    cdef bint ok
    cdef Py_ssize_t found = -1
    if pos < 0:
        pos = 0
    cdef const unsigned char* base
    cdef const unsigned char* hit
    if n == 0:
        return -1
    base = &data[0]
    with nogil:
        i = pos
        while i + 1 < n and found < 0:
            # Jump to the next "<" (memchr: most of a page is text, markup and scripts between tags).
            hit = <const unsigned char*>memchr(base + i, 60, n - 1 - i)
            if hit is NULL:
                break
            i = hit - base
            ch = data[i + 1]
            if (65 <= ch <= 90) or (97 <= ch <= 122):
                j = i + 2
                count = 0
                ok = True
                while count < units:
                    if j >= n:
                        ok = False
                        break
                    ch = data[j]
                    if ch == 60 or ch == 62:  # "<" or ">"
                        ok = False
                        break
                    if ch == 34 or ch == 39:  # a quoted value: up to the next equal quote
                        q = ch
                        j += 1
                        while j < n and data[j] != q:
                            j += 1
                        if j >= n:
                            ok = False
                            break
                    j += 1
                    count += 1
                if ok:
                    found = i
                    break
            i += 1
    return found



def utf8_valid(const unsigned char[:] data):
    """Whether the bytes are strict UTF-8 as Python's codec reads it (no overlong forms, surrogates or code points
    past U+10FFFF): the check ``bytes.decode("utf-8")`` makes, without building the string."""
    cdef Py_ssize_t n = data.shape[0], i = 0
    cdef unsigned char c, lo, hi
    cdef int need, k
    cdef bint ok = True
    cdef uint64_t word
    with nogil:
        while i < n:
            # ASCII runs 8 bytes at a time (most of a page's markup).
            while i + 8 <= n:
                memcpy(&word, &data[i], 8)
                if word & 0x8080808080808080ULL:
                    break
                i += 8
            if i >= n:
                break
            c = data[i]
            if c < 0x80:
                i += 1
                continue
            lo = 0x80
            hi = 0xBF
            if 0xC2 <= c <= 0xDF:
                need = 1
            elif 0xE0 <= c <= 0xEF:
                need = 2
                if c == 0xE0:
                    lo = 0xA0
                elif c == 0xED:
                    hi = 0x9F  # no surrogates
            elif 0xF0 <= c <= 0xF4:
                need = 3
                if c == 0xF0:
                    lo = 0x90
                elif c == 0xF4:
                    hi = 0x8F  # nothing past U+10FFFF
            else:
                ok = False
                break
            if i + need >= n:  # the sequence runs past the end
                ok = False
                break
            if not (lo <= data[i + 1] <= hi):
                ok = False
                break
            for k in range(2, need + 1):
                if not (0x80 <= data[i + k] <= 0xBF):
                    ok = False
                    break
            if not ok:
                break
            i += need + 1
    return ok
