"""Pages to an ordered list of Blocks: one pass over the lxml tree for HTML, lines for plain text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from lxml import etree

from . import records as R
from . import textstats
from ._speedups import load as _load_speedup
from .decode import bom_codec, decode, sniff_meta_charset
from .dom import clean_tree, is_hidden, page_lang, page_title, parse_html_bytes, strip_control_chars
from .errors import InputTooLarge, check_limit, input_size
from .records import Block, Document
from .textstats import count_texts

__all__ = [
    "BLOCK_TAGS",
    "InputKind",
    "looks_like_html",
    "segment",
    "segment_html",
    "segment_text",
]

InputKind = Literal["auto", "html", "text"]

# Elements that start and end a block of text; everything else (a, span, em, b, font, ...) is inline and merged.
BLOCK_TAGS: frozenset[str] = frozenset(
    """
    address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption figure
    footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol optgroup option p pre
    section summary table tbody td tfoot th thead tr ul select textarea
    """.split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

# Stack-only context bits, above the public SEM_* flags.
_IN_LI = 1 << 20
_IN_CELL = 1 << 21
_IN_CAPTION = 1 << 22
_PRIVATE_MASK = _IN_LI | _IN_CELL | _IN_CAPTION

_TAG_FLAGS: dict[str, int] = {
    "article": R.SEM_ARTICLE,
    "main": R.SEM_MAIN,
    "nav": R.SEM_NAV,
    "menu": R.SEM_NAV | R.SEM_LIST,
    "aside": R.SEM_ASIDE,
    "header": R.SEM_HEADER,
    "footer": R.SEM_FOOTER,
    "form": R.SEM_FORM,
    "dialog": R.SEM_DIALOG,
    "figure": R.SEM_FIGURE,
    "blockquote": R.SEM_BLOCKQUOTE,
    "ul": R.SEM_LIST,
    "ol": R.SEM_LIST,
    "dl": R.SEM_LIST,
    "table": R.SEM_TABLE,
    "pre": R.SEM_PRE,
    "li": _IN_LI,
    "dd": _IN_LI,
    "dt": _IN_LI,
    "td": _IN_CELL,
    "th": _IN_CELL,
    "figcaption": _IN_CAPTION,
    "caption": _IN_CAPTION,
}
_ROLE_FLAGS: dict[str, int] = {
    "article": R.SEM_ARTICLE,
    "main": R.SEM_MAIN,
    "navigation": R.SEM_NAV,
    "menu": R.SEM_NAV,
    "menubar": R.SEM_NAV,
    "complementary": R.SEM_ASIDE,
    "banner": R.SEM_HEADER,
    "contentinfo": R.SEM_FOOTER,
    "search": R.SEM_FORM,
    "form": R.SEM_FORM,
    "dialog": R.SEM_DIALOG,
    "alertdialog": R.SEM_DIALOG,
    "comment": R.SEM_COMMENT,
}
_ITEMPROP_FLAGS: dict[str, int] = {
    "articlebody": R.SEM_ARTICLE_BODY,
    "text": R.SEM_ARTICLE_BODY,
    "reviewbody": R.SEM_ARTICLE_BODY,
    "comment": R.SEM_COMMENT,
}

# Marks a hard line break inside a block. It cannot collide with page text: parse_html_bytes drops NUL bytes before
# parsing and strip_control_chars drops them from plain text.
_BR = "\x00"
# Ancestor class/id tokens kept per block (nearest first); deeper ones add little and cost memory.
MAX_CLASS_TOKENS = 24
# Path components kept per block (the last ones); the full path of a 1,000-deep page is useless and large.
MAX_PATH_PARTS = 12

# Elements nested deeper than this are skipped with their subtree (their tail text is kept) and the Document is
# marked truncated. libxml2 already stops at this depth unless a huge_tree retry happened; the cap also bounds the
# walk's recursion well below Python's default limit of 1,000 frames.
MAX_DEPTH = 256

_HIDDEN = -1  # _special_flags() result: skip the element and its subtree
# Attributes that make an element "special" (hidden, or carrying semantic flags); most elements have none of them,
# so one set test on the attribute names replaces six lookups.
_SPECIAL_ATTRS = frozenset(("role", "itemprop", "itemtype", "hidden", "aria-hidden", "style"))


def _special_flags(el: etree._Element) -> int:
    """SEM_* flags from an element's role, itemprop and itemtype, or _HIDDEN when it is hidden."""
    if is_hidden(el):
        return _HIDDEN
    flags = 0
    role = el.get("role")
    if role:
        for r in role.lower().split():
            flags |= _ROLE_FLAGS.get(r, 0)
    prop = el.get("itemprop")
    if prop:
        for p in prop.lower().split():
            flags |= _ITEMPROP_FLAGS.get(p, 0)
    itemtype = el.get("itemtype")
    if itemtype and "comment" in itemtype.lower():
        flags |= R.SEM_COMMENT
    return flags


# Per-block record built during the walk: text, link chars, links, lines, tag, path, depth, class tokens, flags
# (with the private bits), heading level, (anchor text, href) pairs, owner serial, owner's parent serial. Counts are
# added in bulk afterwards.
_RawBlock = tuple[str, int, int, int, str, str, int, tuple[str, ...], int, int, tuple[tuple[str, str], ...], int, int]


# _html_blocks builds Blocks as plain tuples in this field order, followed by the defaults of the remaining fields
# (the plain-text ones): a change of Block's fields must fail loudly here rather than shift values silently.
_HTML_BLOCK_FIELDS = (
    "text",
    "index",
    "tag",
    "path",
    "depth",
    "n_chars",
    "n_words",
    "n_sentences",
    "n_punct",
    "n_digits",
    "n_upper",
    "n_link_chars",
    "n_links",
    "n_lines",
    "class_tokens",
    "semantic",
    "heading",
    "is_list_item",
    "is_table_cell",
    "is_caption",
)
if Block._fields[: len(_HTML_BLOCK_FIELDS)] != _HTML_BLOCK_FIELDS:  # pragma: no cover - a guard for records.py edits
    raise ImportError("bpdetect.records.Block fields changed: update segment._HTML_BLOCK_FIELDS and _html_blocks")
# Fields between the HTML ones and the walk's structure fields keep their defaults (the plain-text ones, and source).
_STRUCTURE_FIELDS = ("links", "node", "parent")
if Block._fields[-len(_STRUCTURE_FIELDS) :] != _STRUCTURE_FIELDS:  # pragma: no cover - a guard for records.py edits
    raise ImportError("bpdetect.records.Block fields changed: update segment._STRUCTURE_FIELDS and _html_blocks")
_BLOCK_TAIL = tuple(
    Block._field_defaults[name] for name in Block._fields[len(_HTML_BLOCK_FIELDS) : -len(_STRUCTURE_FIELDS)]
)


def _html_blocks(raw: list[_RawBlock]) -> list[Block]:
    """Turn the walk's raw block records into Blocks, with the text counts computed in bulk."""
    counts = count_texts([r[0] for r in raw])
    rows = zip(
        raw,
        counts.words.tolist(),
        counts.sentences.tolist(),
        counts.punct.tolist(),
        counts.digits.tolist(),
        counts.upper.tolist(),
        strict=True,
    )
    new = tuple.__new__  # Block's own __new__ is a Python function; building the tuple directly is ~2x faster
    tail = _BLOCK_TAIL  # the plain-text fields keep their defaults, and source defaults to "html"
    blocks: list[Block] = []
    append = blocks.append
    for i, (raw_block, words, sents, punct, digits, upper) in enumerate(rows):
        text, link_chars, n_links, n_lines, tag, path, depth, tokens, flags, heading, hrefs, node, parent = raw_block
        n_chars = len(text)
        semantic = flags & ~_PRIVATE_MASK
        if n_links == 1 and link_chars >= n_chars:
            semantic |= R.SEM_LINK_ONLY
        append(
            new(
                Block,
                (
                    text,
                    i,
                    tag,
                    path,
                    depth,
                    n_chars,
                    words,
                    sents,
                    punct,
                    digits,
                    upper,
                    min(link_chars, n_chars),
                    n_links,
                    n_lines,
                    tokens,
                    semantic,
                    heading,
                    bool(flags & _IN_LI),
                    bool(flags & _IN_CELL),
                    bool(flags & _IN_CAPTION),
                    *tail,
                    hrefs,
                    node,
                    parent,
                ),
            )
        )
    return blocks


# Characters of a link's text kept as its anchor text (real anchors are far shorter). Links nested in links rejoin
# the text of the links inside them, so without a cap a page of links nested MAX_DEPTH deep costs MAX_DEPTH times
# its size; with it, the anchors of one block cost at most MAX_DEPTH * MAX_ANCHOR_CHARS.
MAX_ANCHOR_CHARS = 2_000


def _anchor_text(pieces: list[str], start: int) -> str:
    """The whitespace-normalized text of ``pieces[start:]``, cut after about MAX_ANCHOR_CHARS characters."""
    end = start
    size = 0
    n = len(pieces)
    while end < n and size <= MAX_ANCHOR_CHARS:  # every piece holds at least one character
        size += len(pieces[end])
        end += 1
    text = "".join(pieces[start:end])
    if len(text) > MAX_ANCHOR_CHARS:
        text = text[:MAX_ANCHOR_CHARS]
    return " ".join(text.replace(_BR, " ").split())


class _Truncated(Exception):
    """Raised inside the walk when max_blocks is reached."""


def _ends_with_br(pieces: list[str]) -> bool:
    """True when the pending text ends with a line break followed by nothing but whitespace."""
    for piece in reversed(pieces):
        if piece == _BR:
            return True
        if not piece.isspace():
            return False
    return False


def _walk(root: etree._Element, max_blocks: int | None) -> tuple[list[Block], bool]:
    """Walk the cleaned tree once and cut it into blocks; also returns whether anything was cut off."""
    if _cwalk is None:
        return _walk_python(root, max_blocks)
    root_tag = root.tag if isinstance(root.tag, str) else "#root"
    return _cwalk.walk(root, max_blocks, root.text, root_tag, _HEADINGS.get(root_tag, 0))


def _walk_python(root: etree._Element, max_blocks: int | None) -> tuple[list[Block], bool]:
    """The walk in Python (bpdetect._cwalk is its compiled twin, used when built).

    Text accumulates in ``pieces`` until a block-level element starts or ends; the pending text then becomes a block
    owned by the nearest open block-level element (the "owner"). Each element passes down what its blocks need:
    cumulative flags, class tokens (nearest first), the owner's position in ``tags`` and the owner's heading level.
    """
    raw_blocks: list[_RawBlock] = []
    pieces: list[str] = []
    links = [0, 0]  # characters inside links and links opened since the last flush
    hrefs: list[tuple[str, str]] = []  # (anchor text, href) of the links since the last flush
    # Serial numbers of the open block-level elements (the root is 0); the last one owns the pending text.
    owners = [0]
    serial = [0]
    # Tags of the open elements, for block paths; [0] is a sentinel so that <html> has depth 0.
    root_tag = root.tag if isinstance(root.tag, str) else "#root"
    tags: list[str] = ["#root", root_tag]
    limit = max_blocks if max_blocks is not None else -1
    too_deep = [False]
    sem_pre = R.SEM_PRE

    def flush(owner: int, heading: int, tokens: tuple[str, ...], flags: int) -> None:
        raw = "".join(pieces)
        pieces.clear()
        link_chars, n_links = links
        links[0] = links[1] = 0
        block_hrefs: tuple[tuple[str, str], ...] = ()
        if hrefs:
            block_hrefs = tuple(hrefs)
            hrefs.clear()
        if raw.isspace():  # most flushes: the whitespace between two block elements
            return
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
        if len(raw_blocks) == limit:
            raise _Truncated
        path = "/".join(tags[max(1, owner + 1 - MAX_PATH_PARTS) : owner + 1])
        parent = owners[-2] if len(owners) > 1 else -1
        raw_blocks.append(
            (text, link_chars, n_links, n_lines, tags[owner], path, owner - 1, tokens, flags, heading, block_hrefs,
             owners[-1], parent)
        )

    def add(text: str, in_link: bool, in_pre: int) -> None:
        if in_pre:
            text = text.replace("\n", _BR)
        pieces.append(text)
        if in_link and not text.isspace():
            links[0] += len(" ".join(text.split()))

    def visit(
        el: etree._Element,
        text: str | None,
        flags: int,
        tokens: tuple[str, ...],
        in_link: bool,
        owner: int,
        heading: int,
    ) -> None:
        # `heading` is the owner's heading level; only inline elements lie between the owner and `el`.
        in_pre = flags & sem_pre
        if text:
            add(text, in_link, in_pre)
        for child in el:
            tag = child.tag
            if tag.__class__ is str:
                keys = child.keys()
                extra = 0
                if keys and not _SPECIAL_ATTRS.isdisjoint(keys):
                    extra = _special_flags(child)
                if extra == _HIDDEN:
                    pass
                elif tag == "br":
                    if _ends_with_br(pieces):
                        # <br><br> is how old and hand-made pages separate paragraphs: a block boundary.
                        flush(owner, heading, tokens, flags)
                    else:
                        pieces.append(_BR)
                else:
                    if not tag.islower():
                        tag = tag.lower()
                    ctext = child.text
                    is_block = tag in BLOCK_TAGS or "-" in tag  # custom elements behave like containers
                    if (not is_block or not ctext) and not len(child):
                        # A leaf holds no block boundary, so it needs no context of its own: an inline leaf (a, span,
                        # b...) only adds its text, an empty block element (hr, an empty div) only ends a block.
                        if is_block:
                            if pieces:
                                flush(owner, heading, tokens, flags)
                        elif tag == "a" and child.get("href") is not None:
                            links[1] += 1
                            if ctext:
                                add(ctext, True, in_pre)
                                hrefs.append((" ".join(ctext.split()), child.get("href")))
                        elif ctext:
                            add(ctext, in_link, in_pre)
                    elif len(tags) > MAX_DEPTH:
                        too_deep[0] = True
                    else:
                        child_tokens = tokens
                        if keys:
                            cls = child.get("class")
                            ident = child.get("id")
                            if cls or ident:
                                own = tuple(f"{cls or ''} {ident or ''}".lower().split())
                                if own:
                                    child_tokens = own + tokens
                                    if len(child_tokens) > MAX_CLASS_TOKENS:
                                        child_tokens = child_tokens[:MAX_CLASS_TOKENS]
                        child_flags = flags | _TAG_FLAGS.get(tag, 0) | extra
                        child_in_link = in_link
                        href = None
                        if tag == "a":
                            href = child.get("href")
                            if href is not None:
                                child_in_link = True
                                links[1] += 1
                        tags.append(tag)
                        if is_block:
                            if pieces:
                                # The pending text belongs to the current owner, in the context of `el`.
                                flush(owner, heading, tokens, flags)
                            pos = len(tags) - 1
                            level = _HEADINGS.get(tag, heading)
                            serial[0] += 1
                            owners.append(serial[0])
                            visit(child, ctext, child_flags, child_tokens, child_in_link, pos, level)
                            if pieces:
                                flush(pos, level, child_tokens, child_flags)
                            owners.pop()
                        elif href is not None:
                            start = len(pieces)
                            visit(child, ctext, child_flags, child_tokens, child_in_link, owner, heading)
                            # The anchor's text is what it added to the pending pieces (unless a block inside it
                            # flushed them; such links are rare and keep only their remaining text).
                            anchor = _anchor_text(pieces, start)
                            if anchor:
                                hrefs.append((anchor, href))
                        else:
                            visit(child, ctext, child_flags, child_tokens, child_in_link, owner, heading)
                        tags.pop()
            # Entity and comment nodes that survived parsing contribute only their tail, as hidden elements do.
            tail = child.tail
            if tail:
                if in_pre or in_link:
                    add(tail, in_link, in_pre)
                else:
                    pieces.append(tail)

    truncated = False
    # The root is visited with no flags and no class tokens of its own.
    root_heading = _HEADINGS.get(root_tag, 0)
    try:
        visit(root, root.text, 0, (), False, 1, root_heading)
        if pieces:
            flush(1, root_heading, (), 0)
    except _Truncated:
        truncated = True
    return _html_blocks(raw_blocks), truncated or too_deep[0]


# The compiled walk (or None: not built, or BPDETECT_PURE_PYTHON set); it takes its constants from here.
_cwalk = _load_speedup("_cwalk")
if _cwalk is not None:
    _cwalk.configure(
        BLOCK_TAGS, _TAG_FLAGS, _HEADINGS, _SPECIAL_ATTRS, _special_flags, _Truncated, _HIDDEN, R.SEM_PRE, MAX_DEPTH,
        MAX_CLASS_TOKENS, MAX_PATH_PARTS, MAX_ANCHOR_CHARS, _BR,
    )
    _cwalk.configure_blocks(
        Block, _BLOCK_TAIL, textstats.class_table(), textstats.UPPER, textstats.DIGIT, textstats.PUNCT,
        textstats.SPACE, textstats.TERMINATOR, _PRIVATE_MASK, _IN_LI, _IN_CELL, _IN_CAPTION, R.SEM_LINK_ONLY,
    )


def _to_utf8(doc: bytes | bytearray | memoryview | str, encoding: str | None) -> tuple[bytes, str | None, str]:
    """The page as UTF-8 bytes for libxml2, with the codec used and why ("str" for text input)."""
    if isinstance(doc, str):
        # "replace" only matters for lone surrogates, which UTF-8 cannot encode.
        data = doc.encode("utf-8", errors="replace")
        enc, source = None, "str"
    else:
        raw = bytes(doc)
        if encoding is None and _cwalk is not None and bom_codec(raw) is None:
            # decode()'s answer for the usual page, without building the text: no BOM, no charset or a UTF-8 one
            # in the markup, and bytes that are strict UTF-8 (decode checks the same way, then reads them as UTF-8).
            meta = sniff_meta_charset(raw)
            if meta in (None, "utf-8") and _cwalk.utf8_valid(raw):
                return raw, "utf-8", "meta" if meta else "utf-8"
        decoded = decode(raw, encoding)
        enc, source = decoded.encoding, decoded.source
        if enc == "utf-8" and source not in ("bom", "fallback"):
            # decode() accepted these bytes as strict UTF-8 (no BOM, no replacement): the parser takes them as is.
            data = raw
        else:
            data = decoded.text.encode("utf-8", errors="replace")
    return data, enc, source


def _parse_page(data: bytes) -> tuple[etree._Element | None, str | None, str | None, bool]:
    """Parse UTF-8 page bytes and clean the tree: (root, title, lang, truncated by the parser)."""
    root, truncated = parse_html_bytes(data)
    if root is None:
        return None, None, None, truncated
    # Title and language live in <head>, which clean_tree drops: read them first.
    title = page_title(root)
    lang = page_lang(root)
    # The walk skips hidden subtrees itself, and it reads no attribute named `__*` (labels some corpora embed), so
    # neither needs a pass over the tree here.
    clean_tree(root, drop_hidden=False, private_attrs=False)
    return root, title, lang, truncated


def segment_html(
    doc: bytes | bytearray | str,
    *,
    encoding: str | None = None,
    max_blocks: int | None = None,
    max_bytes: int | None = None,
) -> Document:
    """Decode (if bytes), parse and segment an HTML page into a Document of Blocks.

    ``Document.truncated`` is True when part of the page was not segmented: libxml2 stopped at a resource limit
    (nesting deeper than 256 elements), an element lay deeper than MAX_DEPTH, or ``max_blocks`` was reached.
    A page over ``max_bytes`` (UTF-8 bytes for str) raises InputTooLarge before any work.
    """
    _check_input(doc, max_bytes, max_blocks)
    data, enc, enc_source = _to_utf8(doc, encoding)
    root, title, lang, parse_truncated = _parse_page(data)
    if root is None:
        return Document(
            blocks=(), title=None, source="html", encoding=enc, encoding_source=enc_source, truncated=parse_truncated
        )
    blocks, truncated = _walk(root, max_blocks)
    return Document(
        blocks=tuple(blocks),
        title=title,
        source="html",
        encoding=enc,
        encoding_source=enc_source,
        lang=lang,
        truncated=truncated or parse_truncated,
    )


def _check_input(doc: object, max_bytes: int | None = None, max_blocks: int | None = None) -> None:
    """Reject what is not text or bytes (TypeError), a limit that is not an int >= 0, or a page over ``max_bytes``."""
    if not isinstance(doc, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"expected str or bytes, not {type(doc).__name__}")
    check_limit("max_blocks", max_blocks)
    check_limit("max_bytes", max_bytes)
    if max_bytes is not None:
        size = input_size(doc, max_bytes)
        if size > max_bytes:
            raise InputTooLarge(size, max_bytes)


# Bullet markers as naive scrapers print list items: dashes, stars, bullets, arrows, "1." / "a)" numbering.
_BULLET_RE = re.compile(r"^([-*+•·‣◦▪▫■□●○◆◇►▶➤→–—>]|\d{1,3}[.)]|[a-zA-Z][.)])\s+(?=\S)")
_TAB_WIDTH = 4


def _text_lines(text: str) -> Iterable[tuple[str, int, bool]]:
    blank = False
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            blank = True
            continue
        lead = raw[: len(raw) - len(raw.lstrip())]
        indent = lead.count("\t") * _TAB_WIDTH + len(lead) - lead.count("\t")
        yield stripped, indent, blank
        blank = False


def segment_text(text: str | bytes, *, max_blocks: int | None = None, max_bytes: int | None = None) -> Document:
    """Segment plain text (as dumped by a naive scraper) into one Block per non-empty line.

    Stops after ``max_blocks`` lines (``Document.truncated``); text over ``max_bytes`` raises InputTooLarge.
    """
    _check_input(text, max_bytes, max_blocks)
    enc = enc_source = None
    if isinstance(text, (bytes, bytearray, memoryview)):
        decoded = decode(text)
        text, enc, enc_source = decoded.text, decoded.encoding, decoded.source
    text = strip_control_chars(text)
    lines: list[tuple[str, int, bool, str]] = []
    truncated = False
    for line, indent, blank in _text_lines(text):
        if max_blocks is not None and len(lines) >= max_blocks:
            truncated = True
            break
        bullet = ""
        m = _BULLET_RE.match(line)
        if m:
            bullet = m.group(1)
            line = line[m.end() :]
        body = " ".join(line.split())
        if body:
            lines.append((body, indent, blank, bullet))
    counts = count_texts([ln[0] for ln in lines])
    rows = zip(
        lines,
        counts.words.tolist(),
        counts.sentences.tolist(),
        counts.punct.tolist(),
        counts.digits.tolist(),
        counts.upper.tolist(),
        strict=True,
    )
    blocks = tuple(
        Block(
            text=body,
            index=i,
            tag="line",
            n_chars=len(body),
            n_words=words,
            n_sentences=sents,
            n_punct=punct,
            n_digits=digits,
            n_upper=upper,
            is_list_item=bool(bullet),
            indent=indent,
            bullet=bullet,
            blank_before=blank,
            source="text",
        )
        for i, ((body, indent, blank, bullet), words, sents, punct, digits, upper) in enumerate(rows)
    )
    return Document(
        blocks=blocks, title=None, source="text", encoding=enc, encoding_source=enc_source, truncated=truncated
    )


# Leading comments are skipped one by one, each ending at its first "-->": the group cannot stretch a comment over
# a later "-->" (with ".*?" it could, and a page starting with n comments and no <html> took 2^n steps to reject).
_HTML_START_RE = re.compile(
    r"^\s*(?:<!--(?:[^-]|-(?!->))*-->\s*)*<(?:!doctype\s+html|html|head|body|\?xml)\b", re.I | re.S
)
_TAG_RE = re.compile(
    r"</?(?:p|div|span|a|br|li|ul|ol|table|tr|td|h[1-6]|html|body|head|meta|script|style|link|img|section|article|"
    r"nav|header|footer|main|form|input|strong|em|b|i)\b[^<>]{0,500}>",
    re.I,
)
# Fraction of non-empty lines that must carry a tag for text without an <html> start to count as HTML.
_HTML_TAG_LINE_SHARE = 0.2
_SNIFF_CHARS = 20_000


# _HTML_START_RE on bytes, for the usual page: a match within the first _SNIFF_CHARS bytes of ASCII-compatible bytes
# is a match within the first _SNIFF_CHARS characters of their decoding, so the page needs no decoding to be sniffed.
# The final \b becomes "an ASCII non-word byte follows": after "<html" a byte >= 0x80 may start a letter, which
# ends no word in the decoded text.
_HTML_START_BYTES_RE = re.compile(
    _HTML_START_RE.pattern.removesuffix(r"\b").encode("ascii") + rb"(?=[^\w\x80-\xff])", re.I | re.S
)
_UTF8_BOM = b"\xef\xbb\xbf"


def looks_like_html(doc: str | bytes) -> bool:
    """Guess whether a document is HTML (True) or plain text (False) from its first characters."""
    if isinstance(doc, (bytes, bytearray, memoryview)):
        start = bytes(doc[:_SNIFF_CHARS])
        if bom_codec(start) in (None, "utf-8") and _HTML_START_BYTES_RE.match(start.removeprefix(_UTF8_BOM)):
            return True
        sample = bytes(doc[: _SNIFF_CHARS * 2])
        head = sample.decode(bom_codec(sample) or "utf-8", errors="replace")
    else:
        head = doc[:_SNIFF_CHARS]
    head = head.lstrip("\ufeff")
    if _HTML_START_RE.match(head):
        return True
    tags = _TAG_RE.findall(head)
    if not tags:
        return False
    if len(tags) >= 2 and _TAG_RE.match(head.lstrip()):
        return True  # a fragment such as "<p>Hello</p>": it starts with a tag and has another one
    lines = sum(1 for ln in head.splitlines() if ln.strip()) or 1
    return len(tags) >= 3 and len(tags) / lines >= _HTML_TAG_LINE_SHARE


def segment(
    doc: bytes | bytearray | str,
    *,
    input: InputKind = "auto",
    encoding: str | None = None,
    max_blocks: int | None = None,
    max_bytes: int | None = None,
) -> Document:
    """Segment a page given as HTML or plain text; ``input="auto"`` decides from the content.

    Resource guards: ``max_blocks`` stops segmenting after that many blocks and sets ``Document.truncated``;
    ``max_bytes`` raises InputTooLarge (a ValueError) for a page over that many bytes (UTF-8 bytes for str).
    """
    if input not in ("auto", "html", "text"):
        raise ValueError(f"input must be 'auto', 'html' or 'text', not {input!r}")
    _check_input(doc, max_bytes, max_blocks)  # the size is checked here once, not again below
    kind = input
    if kind == "auto":
        kind = "html" if looks_like_html(doc) else "text"
    if kind == "html":
        return segment_html(doc, encoding=encoding, max_blocks=max_blocks)
    if isinstance(doc, (bytes, bytearray, memoryview)) and encoding:
        decoded = decode(doc, encoding)
        result = segment_text(decoded.text, max_blocks=max_blocks)
        return replace(result, encoding=decoded.encoding, encoding_source=decoded.source)
    return segment_text(doc, max_blocks=max_blocks)
