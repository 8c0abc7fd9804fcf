"""Pages to an ordered list of Blocks: one pass over the lxml tree for HTML, lines for plain text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from lxml import etree

from . import records as R
from .decode import decode
from .dom import clean_tree, is_hidden, page_lang, page_title, parse_html, strip_control_chars
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

# Marks a hard line break inside a block; NUL never survives strip_control_chars, so it cannot collide with text.
_BR = "\x00"
# Ancestor class/id tokens kept per block (nearest first); deeper ones add little and cost memory.
MAX_CLASS_TOKENS = 24
# Path components kept per block (the last ones); the full path of a 1,000-deep page is useless and large.
MAX_PATH_PARTS = 12

_HIDDEN = -1  # marker in the special-attributes map: skip the element and its subtree


def _special_elements(root: etree._Element) -> dict[etree._Element, int]:
    """Elements with rare attributes (role, itemprop, itemtype, hidden, style...) mapped to flags or _HIDDEN."""
    special: dict[etree._Element, int] = {}
    for el in _SPECIAL_XPATH(root):
        if is_hidden(el):
            special[el] = _HIDDEN
            continue
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
        if flags:
            special[el] = flags
    return special


_SPECIAL_XPATH = etree.XPath("//*[@role or @itemprop or @itemtype or @hidden or @aria-hidden or @style]")
_PRIVATE_ATTR_RE = re.compile(r"\s__[\w-]")


def _context(
    stack: list[tuple[str, tuple[str, ...], int]], block_pos: int
) -> tuple[str, str, int, tuple[str, ...], int, int]:
    """Tag, path, depth, class tokens, flags and heading level of a block from the ancestor stack."""
    tokens: list[str] = []
    for entry in reversed(stack):
        if entry[1]:
            tokens.extend(entry[1])
            if len(tokens) >= MAX_CLASS_TOKENS:
                del tokens[MAX_CLASS_TOKENS:]
                break
    heading = 0
    for entry in reversed(stack[: block_pos + 1]):
        level = _HEADINGS.get(entry[0])
        if level:
            heading = level
            break
    path = "/".join([e[0] for e in stack[max(1, block_pos + 1 - MAX_PATH_PARTS) : block_pos + 1]])
    # stack[0] is a sentinel, so <html> has depth 0.
    return stack[block_pos][0], path, block_pos - 1, tuple(tokens), stack[-1][2], heading


def _html_blocks(raw: list[tuple[str, int, int, int, tuple]]) -> list[Block]:
    """Turn (text, link chars, links, lines, context) records into Blocks, with counts computed in bulk."""
    counts = count_texts([r[0] for r in raw])
    blocks: list[Block] = []
    rows = zip(
        raw,
        counts.words.tolist(),
        counts.sentences.tolist(),
        counts.punct.tolist(),
        counts.digits.tolist(),
        counts.upper.tolist(),
        strict=True,
    )
    for i, ((text, link_chars, n_links, n_lines, ctx), words, sents, punct, digits, upper) in enumerate(rows):
        tag, path, depth, tokens, flags, heading = ctx
        n_chars = len(text)
        semantic = flags & ~_PRIVATE_MASK
        if n_links == 1 and link_chars >= n_chars:
            semantic |= R.SEM_LINK_ONLY
        blocks.append(
            Block(
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
            )
        )
    return blocks


class _Truncated(Exception):
    """Raised inside the walk when max_blocks is reached."""


def _walk(root: etree._Element, max_blocks: int | None) -> tuple[list[Block], bool]:
    """Walk the cleaned tree once and cut it into blocks (libxml2 caps depth at 256, so recursion is safe)."""
    blocks: list[tuple[str, int, int, int, tuple]] = []
    pieces: list[str] = []
    links = [0, 0, 0]  # characters inside links, links opened, and non-space pieces in the current buffer
    # Ancestor chain, one entry per open element: (tag, class/id tokens, cumulative flags); [0] is a sentinel.
    stack: list[tuple[str, tuple[str, ...], int]] = [("#root", (), 0)]
    special = _special_elements(root)
    limit = max_blocks if max_blocks is not None else -1

    def flush(block_pos: int) -> None:
        has_text = links[2]
        raw = "".join(pieces) if has_text else ""
        pieces.clear()
        link_chars, n_links = links[0], links[1]
        links[0] = links[1] = links[2] = 0
        if not has_text:
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
        if len(blocks) == limit:
            raise _Truncated
        blocks.append((text, link_chars, n_links, n_lines, _context(stack, block_pos)))

    def add(text: str, in_link: bool, in_pre: bool) -> None:
        if in_pre:
            text = text.replace("\n", _BR)
        pieces.append(text)
        if not text.isspace():
            links[2] = 1
            if in_link:
                links[0] += len(" ".join(text.split()))

    def visit(el: etree._Element, flags: int, in_link: bool, block_pos: int) -> None:
        text = el.text
        if text:
            add(text, in_link, bool(flags & R.SEM_PRE))
        for child in el:
            tag = child.tag
            if tag.__class__ is not str:  # an entity or comment node that survived parsing
                tail = child.tail
                if tail:
                    add(tail, in_link, bool(flags & R.SEM_PRE))
                continue
            extra = special.get(child, 0) if special else 0
            if extra == _HIDDEN:
                tail = child.tail
                if tail:
                    add(tail, in_link, bool(flags & R.SEM_PRE))
                continue
            if tag == "br":
                pieces.append(_BR)
            else:
                if not tag.islower():
                    tag = tag.lower()
                cls = child.get("class")
                ident = child.get("id")
                if cls or ident:
                    tokens = tuple(f"{cls or ''} {ident or ''}".lower().split())
                else:
                    tokens = ()
                child_flags = flags | _TAG_FLAGS.get(tag, 0) | extra
                is_block = tag in BLOCK_TAGS or "-" in tag  # custom elements behave like containers
                if is_block and pieces:
                    flush(block_pos)  # before the push: the pending text belongs to the current owner
                stack.append((tag, tokens, child_flags))
                child_in_link = in_link
                if tag == "a" and child.get("href") is not None:
                    child_in_link = True
                    links[1] += 1
                if is_block:
                    visit(child, child_flags, child_in_link, len(stack) - 1)
                    if pieces:
                        flush(len(stack) - 1)
                else:
                    visit(child, child_flags, child_in_link, block_pos)
                stack.pop()
            tail = child.tail
            if tail:
                add(tail, in_link, bool(flags & R.SEM_PRE))

    truncated = False
    stack.append((root.tag if isinstance(root.tag, str) else "#root", (), 0))
    try:
        visit(root, 0, False, 1)
        if pieces:
            flush(1)
    except _Truncated:
        truncated = True
    return _html_blocks(blocks), truncated


def segment_html(
    doc: bytes | bytearray | str,
    *,
    encoding: str | None = None,
    max_blocks: int | None = None,
) -> Document:
    """Decode (if bytes), parse and segment an HTML page into a Document of Blocks."""
    if isinstance(doc, (bytes, bytearray, memoryview)):
        decoded = decode(doc, encoding)
        text, enc, enc_source = decoded.text, decoded.encoding, decoded.source
    else:
        text, enc, enc_source = doc, None, "str"
    root = parse_html(text)
    if root is None:
        return Document(blocks=(), title=None, source="html", encoding=enc, encoding_source=enc_source)
    title = page_title(root)
    lang = page_lang(root)
    # The walk skips hidden subtrees itself; the `__*` attribute scan only runs when such a name can occur.
    clean_tree(root, drop_hidden=False, private_attrs=_PRIVATE_ATTR_RE.search(text) is not None)
    blocks, truncated = _walk(root, max_blocks)
    return Document(
        blocks=tuple(blocks),
        title=title,
        source="html",
        encoding=enc,
        encoding_source=enc_source,
        lang=lang,
        truncated=truncated,
    )


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


def segment_text(text: str | bytes, *, max_blocks: int | None = None) -> Document:
    """Segment plain text (as dumped by a naive scraper) into one Block per non-empty line."""
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


_HTML_START_RE = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|\?xml)\b", re.I | re.S)
_TAG_RE = re.compile(
    r"</?(?:p|div|span|a|br|li|ul|ol|table|tr|td|h[1-6]|html|body|head|meta|script|style|link|img|section|article|"
    r"nav|header|footer|main|form|input|strong|em|b|i)\b[^<>]{0,500}>",
    re.I,
)
# Fraction of non-empty lines that must carry a tag for text without an <html> start to count as HTML.
_HTML_TAG_LINE_SHARE = 0.2
_SNIFF_CHARS = 20_000


def looks_like_html(doc: str | bytes) -> bool:
    """Guess whether a document is HTML (True) or plain text (False) from its first characters."""
    if isinstance(doc, (bytes, bytearray, memoryview)):
        head = bytes(doc[: _SNIFF_CHARS * 2]).decode("utf-8", errors="replace")
    else:
        head = doc[:_SNIFF_CHARS]
    head = head.lstrip("\ufeff")
    if _HTML_START_RE.match(head):
        return True
    tags = len(_TAG_RE.findall(head))
    if tags == 0:
        return False
    lines = sum(1 for ln in head.splitlines() if ln.strip()) or 1
    return tags >= 3 and tags / lines >= _HTML_TAG_LINE_SHARE


def segment(
    doc: bytes | bytearray | str,
    *,
    input: InputKind = "auto",
    encoding: str | None = None,
    max_blocks: int | None = None,
) -> Document:
    """Segment a page given as HTML or plain text; ``input="auto"`` decides from the content."""
    if input not in ("auto", "html", "text"):
        raise ValueError(f"input must be 'auto', 'html' or 'text', not {input!r}")
    kind = input
    if kind == "auto":
        kind = "html" if looks_like_html(doc) else "text"
    if kind == "html":
        return segment_html(doc, encoding=encoding, max_blocks=max_blocks)
    if isinstance(doc, (bytes, bytearray, memoryview)) and encoding:
        doc = decode(doc, encoding).text
    return segment_text(doc, max_blocks=max_blocks)
