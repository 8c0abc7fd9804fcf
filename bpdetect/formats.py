"""Output formats of an Extraction: plain text, markdown, a standalone HTML document and a JSON record.

All renderers share one pass that groups the kept blocks into sections (headings, paragraphs, lists with their
nesting, tables with their rows); each format then writes the sections its own way. Page text is untrusted: the
markdown escapes what would change meaning, the HTML escapes everything, and neither emits a link whose scheme is not
http, https or mailto (relative links are kept, resolved against the page URL when given).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from .boilerplate import rule_at, text_rules_for
from .records import SEM_BLOCKQUOTE, SEM_PRE, Block, Extraction, ScoredBlock

__all__ = [
    "FORMATS",
    "blocks_to_text",
    "render",
    "to_html",
    "to_markdown",
    "to_record",
    "to_text",
]

FORMATS: tuple[str, ...] = ("text", "markdown", "html", "json")

_ITEM_TAGS = frozenset(("li", "dt", "dd"))
_LIST_CONTAINERS = frozenset(("ul", "ol", "dl", "menu", "dir"))
_CELL_TAGS = frozenset(("td", "th"))
# Link schemes that may be emitted; anything else (javascript:, data:, vbscript:, file:...) keeps its text only.
_SAFE_SCHEMES = frozenset(("http", "https", "mailto"))
# A run of kept table cells is written as a table only when it has at least this many rows and, in some row, this many
# columns; below that (and whenever a cell is longer than _MAX_CELL_CHARS) it is a layout table and its cells are
# written as paragraphs. Layout tables hold a sidebar and the article in one row, or one cell per row.
_MIN_TABLE_ROWS = 2
_MIN_TABLE_COLS = 2
_MAX_CELL_CHARS = 400
# Occurrences of an anchor text tried before its link is given up (bounds the work on hostile "a a a a ..." text).
_MAX_ANCHOR_TRIES = 64
# Separator of the cells of one table row in plain text.
_TEXT_CELL_SEP = " | "


# --------------------------------------------------------------------------------------------------------------------
# Sections: the kept blocks grouped the way every format needs them.


class _Heading(NamedTuple):
    level: int
    block: Block


class _Para(NamedTuple):
    block: Block
    kind: str  # "p", "pre" or "caption"
    quote: bool  # inside a <blockquote>


class _Item(NamedTuple):
    level: int  # nesting depth inside the list, 0 for the outermost items
    tag: str  # "li", "dt" or "dd"
    ordered: bool
    bullet: str  # plain-text input: the original bullet marker
    blocks: list[Block]  # the item's own block, then blocks that continue the same item (e.g. a second <p>)


class _List(NamedTuple):
    items: list[_Item]


class _Table(NamedTuple):
    rows: list[list[Block]]


_Section = _Heading | _Para | _List | _Table


@lru_cache(maxsize=4096)
def _list_context(path: str) -> tuple[int, str]:
    """(number of list containers on the path, nearest container tag) of an HTML block path."""
    depth = 0
    container = ""
    for part in path.split("/"):
        if part in _LIST_CONTAINERS:
            depth += 1
            container = part
    return depth, container


def _kind(b: Block) -> str:
    """How a kept block is written: pre, heading, item, cell, caption or p (first match wins)."""
    if b.source == "html" and (b.tag == "pre" or b.semantic & SEM_PRE):
        return "pre"
    if b.heading:
        return "heading"
    if b.is_list_item or b.bullet:
        return "item"
    if b.is_table_cell and b.tag in _CELL_TAGS:
        return "cell"
    if b.is_caption:
        return "caption"
    return "p"


class _ListBuilder:
    """Collects consecutive list-item blocks into one list; `add` refuses a block that starts another list."""

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self._base = -1  # list depth of the outermost items (HTML)
        self._owner = -1  # element that owns the current item (its <li>), -1 when unknown
        self._parents: dict[int, int] = {}  # level -> the <ul>/<ol> of the last item at that level
        self._indents: list[int] = []  # plain text: indentation of the open levels

    def add(self, b: Block) -> bool:
        """Add a block to the list; False when it belongs to a new list."""
        if b.source == "text":
            return self._add_text(b)
        is_item = b.tag in _ITEM_TAGS
        owner = b.node if is_item else b.parent
        if self.items and owner >= 0 and owner == self._owner:
            self.items[-1].blocks.append(b)  # a second block of the same <li> (a <p> inside it, or its tail text)
            return True
        depth, container = _list_context(b.path)
        if self._base < 0 or depth < self._base:
            self._base = depth
        prev = self.items[-1].level if self.items else -1
        level = min(depth - self._base, prev + 1)  # an item is never deeper than one below the previous one
        ordered = container == "ol"
        tag = ("dt" if b.tag == "dt" else "dd") if container == "dl" else "li"
        if self.items and level == 0:
            first = self.items[0]
            if first.ordered != ordered or (first.tag == "li") != (tag == "li"):
                return False  # a list of another kind right after this one
            parent = b.parent
            if is_item and parent >= 0 and self._parents.get(0, parent) != parent:
                return False  # a sibling list: items of another <ul>/<ol>
        if is_item and b.parent >= 0:
            self._parents[level] = b.parent
        for deeper in [k for k in self._parents if k > level]:
            del self._parents[deeper]
        self.items.append(_Item(level, tag, ordered, "", [b]))
        self._owner = owner
        return True

    def _add_text(self, b: Block) -> bool:
        """Plain-text input: one item per bulleted line, nested by indentation."""
        indents = self._indents
        while indents and b.indent < indents[-1]:
            indents.pop()
        if not indents or b.indent > indents[-1]:
            indents.append(b.indent)
        prev = self.items[-1].level if self.items else -1
        level = min(len(indents) - 1, prev + 1)
        bullet = b.bullet or "-"
        ordered = bullet[:-1].isdigit() and bullet[-1] in ".)"
        self.items.append(_Item(level, "li", ordered, bullet, [b]))
        return True


def _table_sections(cells: list[Block]) -> list[_Section]:
    """A run of kept table cells: a table (rows from the cells' shared parent <tr>), or paragraphs for layout."""
    rows: list[list[Block]] = []
    row_parent = -2
    for b in cells:
        parent = b.parent
        if parent < 0:  # rows unknown
            rows = []
            break
        if rows and parent == row_parent:
            rows[-1].append(b)
        else:
            rows.append([b])
            row_parent = parent
    if (
        len(rows) >= _MIN_TABLE_ROWS
        and max(len(r) for r in rows) >= _MIN_TABLE_COLS
        and all(len(b.text) <= _MAX_CELL_CHARS for b in cells)
    ):
        return [_Table(rows)]
    return [_Para(b, "p", bool(b.semantic & SEM_BLOCKQUOTE)) for b in cells]


def _sections(blocks: Sequence[ScoredBlock]) -> list[_Section]:
    """The kept blocks, in order, grouped into headings, paragraphs, lists and tables."""
    out: list[_Section] = []
    lst: _ListBuilder | None = None
    cells: list[Block] = []
    for sb in blocks:
        if not sb.is_content:
            continue
        b = sb.block
        if not b.text or b.text.isspace():
            continue
        kind = _kind(b)
        if lst is not None and kind != "item":
            out.append(_List(lst.items))
            lst = None
        if cells and kind != "cell":
            out.extend(_table_sections(cells))
            cells = []
        if kind == "item":
            if lst is None or not lst.add(b):
                if lst is not None:
                    out.append(_List(lst.items))
                lst = _ListBuilder()
                lst.add(b)
        elif kind == "cell":
            cells.append(b)
        elif kind == "heading":
            out.append(_Heading(min(max(b.heading, 1), 6), b))
        else:
            out.append(_Para(b, kind, bool(b.semantic & SEM_BLOCKQUOTE)))
    if lst is not None:
        out.append(_List(lst.items))
    if cells:
        out.extend(_table_sections(cells))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Links.

_URL_STRIP = "".join(chr(i) for i in range(33))  # C0 controls and space, as browsers strip them around a URL
_URL_DROP = str.maketrans("", "", "\t\n\r")  # browsers remove these anywhere in a URL ("java\tscript:")


def _safe_href(href: str, base: str | None = None) -> str | None:
    """The href resolved against ``base``, or None when it is empty or its scheme is not http(s)/mailto."""
    h = href.translate(_URL_DROP).strip(_URL_STRIP)
    if not h:
        return None
    try:
        if base:
            h = urljoin(base, h)
        scheme = urlsplit(h).scheme.lower()
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if scheme and scheme not in _SAFE_SCHEMES:
        return None
    return h


def _find_anchor(text: str, anchor: str, start: int) -> int:
    """Position of ``anchor`` in ``text`` from ``start`` as whole words (so "a" is not found inside "Read")."""
    i = text.find(anchor, start)
    for _ in range(_MAX_ANCHOR_TRIES):
        if i < 0:
            break
        before_ok = i == 0 or not (text[i - 1].isalnum() and anchor[0].isalnum())
        end = i + len(anchor)
        after_ok = end == len(text) or not (text[end].isalnum() and anchor[-1].isalnum())
        if before_ok and after_ok:
            return i
        i = text.find(anchor, i + 1)
    return -1


def _segments(b: Block, links: bool, base: str | None) -> list[tuple[str, str | None]]:
    """The block text cut into (text, safe href or None) pieces, links found in order."""
    text = b.text
    pairs = b.links if links else ()
    if not pairs:
        return [(text, None)]
    out: list[tuple[str, str | None]] = []
    pos = 0
    for anchor, href in pairs:
        anchor = " ".join(anchor.split())
        if not anchor or not href:
            continue
        i = _find_anchor(text, anchor, pos)
        if i < 0:
            continue
        dest = _safe_href(href, base)
        if dest is None:
            continue  # an unsafe link keeps its text, which the next piece carries
        if i > pos:
            out.append((text[pos:i], None))
        out.append((anchor, dest))
        pos = i + len(anchor)
    if pos < len(text):
        out.append((text[pos:], None))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Plain text.


def _text_list(lst: _List) -> str:
    lines: list[str] = []
    for it in lst.items:
        marker = it.bullet or "-"
        indent = "  " * it.level
        body = "\n".join(b.text for b in it.blocks).replace("\n", "\n" + indent + " " * (len(marker) + 1))
        lines.append(f"{indent}{marker} {body}")
    return "\n".join(lines)


def blocks_to_text(blocks: Sequence[ScoredBlock]) -> str:
    """Content blocks as plain text: paragraphs separated by blank lines, list items and table rows one per line."""
    parts: list[str] = []
    for sec in _sections(blocks):
        if isinstance(sec, _List):
            parts.append(_text_list(sec))
        elif isinstance(sec, _Table):
            parts.append("\n".join(_TEXT_CELL_SEP.join(b.text for b in row) for row in sec.rows))
        else:
            parts.append(sec.block.text)
    return "\n\n".join(parts)


def to_text(ext: Extraction) -> str:
    """The extraction's content blocks as plain text (see blocks_to_text)."""
    return blocks_to_text(ext.blocks)


# --------------------------------------------------------------------------------------------------------------------
# Markdown.

# Characters that start inline markup anywhere: backslash, code, emphasis, links, raw HTML, strikethrough; "&" only
# where it would start an entity reference; "_" only at a word edge (intraword "_" never emphasizes).
_MD_INLINE_RE = re.compile(r"[\\`*\[\]<~]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
_MD_CELL_RE = re.compile(r"[\\`*\[\]<~|]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
# Line starts that would make a block: ATX heading, blockquote, list item, ordered item ("1." / "1)"), or a line of
# only -, =, |, :, + (thematic break, setext underline, table delimiter row).
_MD_LINE_RE = re.compile(r"^(?:([#>]|[-+](?=\s|$))|(\d{1,9})([.)])(?=\s|$)|([-=|:+])(?=[-=|:+ \t]*$))", re.M)
_BACKTICKS_RE = re.compile(r"`+")


def _md_line_escape(m: re.Match[str]) -> str:
    if m.group(1):
        return "\\" + m.group(1)
    if m.group(2):
        return f"{m.group(2)}\\{m.group(3)}"
    return "\\" + m.group(4)


def _md_dest(url: str) -> str:
    """A URL as a markdown link destination: spaces, parens and non-ASCII percent-encoded, "&" backslash-escaped."""
    # "&" is escaped rather than encoded so that the query keeps its meaning and no entity ("&colon;") is decoded.
    return quote(url, safe="/:?#[]@!$&'*+,;=%~").replace("&", "\\&")


def _md_inline(b: Block, links: bool, base: str | None, cell: bool = False) -> list[str]:
    """The block text as escaped markdown lines (links inline when asked)."""
    esc = (_MD_CELL_RE if cell else _MD_INLINE_RE).sub
    parts = []
    for text, dest in _segments(b, links, base):
        escaped = esc(r"\\\g<0>", text)
        parts.append(escaped if dest is None else f"[{escaped}]({_md_dest(dest)})")
    return _MD_LINE_RE.sub(_md_line_escape, "".join(parts)).split("\n")


def _md_heading(level: int, lines: list[str]) -> str:
    text = " ".join(lines)
    if text.endswith("#"):  # a closing "#" sequence would be dropped
        text = text[:-1] + "\\#"
    return "#" * level + " " + text


def _start_number(it: _Item) -> int:
    """Number of the first item of an ordered list: the original one for plain-text input ("3." -> 3), else 1."""
    digits = it.bullet[:-1]
    return int(digits) if it.ordered and digits.isdigit() else 1


def _md_list(lst: _List, links: bool, base: str | None, alt: bool) -> str:
    """A list in markdown; ``alt`` picks the other marker so that it does not merge with the list just before."""
    out: list[str] = []
    starts: list[int] = []  # column where the item text of each open level starts
    numbers: list[int] = []
    for it in lst.items:
        del starts[it.level :]
        del numbers[it.level + 1 :]
        if len(numbers) <= it.level:
            numbers.append(_start_number(it) - 1)
        numbers[it.level] += 1
        if it.ordered:
            marker = f"{numbers[it.level]}{')' if alt else '.'}"
        else:
            marker = "*" if alt else "-"
        col = starts[-1] if starts else 0
        starts.append(col + len(marker) + 1)
        lines = [line for b in it.blocks for line in _md_inline(b, links, base)]
        pad = " " * starts[-1]
        out.append(" " * col + marker + " " + ("  \n" + pad).join(lines))
    return "\n".join(out)


def _md_table(table: _Table, links: bool, base: str | None) -> str:
    width = max(len(row) for row in table.rows)
    lines = []
    for i, row in enumerate(table.rows):
        cells = ["<br>".join(_md_inline(b, links, base, cell=True)) for b in row]
        cells += [""] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + " --- |" * width)
    return "\n".join(lines)


def _md_fence(text: str) -> str:
    longest = max((len(run) for run in _BACKTICKS_RE.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _norm(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def to_markdown(ext: Extraction, *, links: bool = False, url: str | None = None, title: bool = True) -> str:
    """The content as markdown: title, headings, paragraphs, lists, pipe tables; links only when ``links``."""
    sections = _sections(ext.blocks)
    chunks: list[tuple[str, str]] = []  # (markdown, kind) where kind is "quote", "ul", "ol" or ""
    page_title = _norm(ext.title)
    if title and page_title:
        first_h1 = next((_norm(s.block.text) for s in sections if isinstance(s, _Heading) and s.level == 1), None)
        if page_title != first_h1:
            chunks.append((_md_heading(1, _md_inline(Block(text=page_title, index=-1, tag="title"), False, None)), ""))
    for sec in sections:
        if isinstance(sec, _Heading):
            chunks.append((_md_heading(sec.level, _md_inline(sec.block, links, url)), ""))
        elif isinstance(sec, _List):
            kind = "ol" if sec.items[0].ordered else "ul"
            alt = bool(chunks) and chunks[-1][1] == kind + "0"  # two adjacent lists need different markers
            chunks.append((_md_list(sec, links, url, alt), kind + ("1" if alt else "0")))
        elif isinstance(sec, _Table):
            chunks.append((_md_table(sec, links, url), ""))
        elif sec.kind == "pre":
            chunks.append((_md_fence(sec.block.text), ""))
        else:
            text = "  \n".join(_md_inline(sec.block, links, url))
            if sec.kind == "caption":
                text = f"*{text}*"
            if sec.quote:
                chunks.append(("> " + text.replace("\n", "\n> "), "quote"))
            else:
                chunks.append((text, ""))
    out: list[str] = []
    for i, (text, kind) in enumerate(chunks):
        if i:
            out.append("\n>\n" if kind == "quote" and chunks[i - 1][1] == "quote" else "\n\n")
        out.append(text)
    return "".join(out) + "\n" if out else ""


# --------------------------------------------------------------------------------------------------------------------
# HTML.


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_inline(b: Block, links: bool, base: str | None) -> str:
    """The block text as escaped HTML, "\\n" as <br>, with safe links when asked."""
    parts = []
    for text, dest in _segments(b, links, base):
        escaped = _esc(text).replace("\n", "<br>\n")
        if dest is None:
            parts.append(escaped)
        else:
            parts.append(f'<a href="{_esc(dest)}" rel="nofollow noopener">{escaped}</a>')
    return "".join(parts)


def _html_list(lst: _List, inline: Callable[[Block], str]) -> str:
    out: list[str] = []
    open_lists: list[tuple[str, str]] = []  # (list tag, tag of its open item), outermost first
    for it in lst.items:
        list_tag = "dl" if it.tag != "li" else ("ol" if it.ordered else "ul")
        while len(open_lists) > it.level + 1:
            ltag, itag = open_lists.pop()
            out.append(f"</{itag}>\n</{ltag}>")
        if len(open_lists) == it.level + 1:
            out.append(f"</{open_lists[-1][1]}>\n")
            open_lists[-1] = (open_lists[-1][0], it.tag)
        else:  # a list opens: the outermost one, or a nested one inside the current item
            start = _start_number(it)
            attr = f' start="{start}"' if list_tag == "ol" and start != 1 else ""
            out.append(f"\n<{list_tag}{attr}>\n" if open_lists else f"<{list_tag}{attr}>\n")
            open_lists.append((list_tag, it.tag))
        out.append(f"<{it.tag}>" + "<br>\n".join(inline(b) for b in it.blocks))
    while open_lists:
        ltag, itag = open_lists.pop()
        out.append(f"</{itag}>\n</{ltag}>")
    return "".join(out)


def _html_table(table: _Table, inline: Callable[[Block], str]) -> str:
    rows = []
    for row in table.rows:
        cells = "".join(f"<{b.tag}>{inline(b)}</{b.tag}>" for b in row)
        rows.append(f"<tr>{cells}</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _html_section(sec: _Section, inline: Callable[[Block], str]) -> str:
    if isinstance(sec, _Heading):
        return f"<h{sec.level}>{inline(sec.block)}</h{sec.level}>"
    if isinstance(sec, _List):
        return _html_list(sec, inline)
    if isinstance(sec, _Table):
        return _html_table(sec, inline)
    if sec.kind == "pre":
        return f"<pre>{_esc(sec.block.text)}</pre>"
    if sec.kind == "caption":
        return f"<figure><figcaption>{inline(sec.block)}</figcaption></figure>"
    return f"<p>{inline(sec.block)}</p>"


def to_html(ext: Extraction, *, links: bool = True, url: str | None = None) -> str:
    """The content as a standalone HTML5 document; all page text escaped, only http(s)/mailto/relative links."""
    sections = _sections(ext.blocks)

    def inline(b: Block) -> str:
        return _html_inline(b, links, url)

    body: list[str] = []
    in_quote = False
    for sec in sections:
        quote_ = isinstance(sec, _Para) and sec.quote
        if quote_ != in_quote:
            body.append("<blockquote>" if quote_ else "</blockquote>")
            in_quote = quote_
        body.append(_html_section(sec, inline))
    if in_quote:
        body.append("</blockquote>")
    first_heading = next((_norm(s.block.text) for s in sections if isinstance(s, _Heading)), "")
    title = _norm(ext.title) or first_heading or "Untitled"
    head = f'<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{_esc(title)}</title>\n</head>\n'
    return head + "<body>\n<article>\n" + "".join(s + "\n" for s in body) + "</article>\n</body>\n</html>\n"


# --------------------------------------------------------------------------------------------------------------------
# JSON record.


def _number(x: float) -> float | None:
    """A float for JSON, rounded to 4 places (None for NaN/inf, which JSON cannot carry)."""
    x = float(x)
    return round(x, 4) if math.isfinite(x) else None


def to_record(ext: Extraction, *, source: str | None = None, url: str | None = None, blocks: bool = True) -> dict:
    """A JSON-serializable dict of the extraction; with ``blocks``, every block with its score and decision.

    A block that a boilerplate rule dropped (its score reaches the threshold) also has ``"rule"``, the rule's name.
    """
    rec: dict = {
        "source": source,
        "url": url,
        "title": ext.title,
        "text": ext.text,
        "input": ext.source,
        "encoding": ext.encoding,
        "truncated": bool(ext.truncated),
        "threshold": _number(ext.threshold),
    }
    if blocks:
        rec["blocks"] = [
            {
                "index": int(sb.block.index),
                "text": sb.block.text,
                "tag": sb.block.tag,
                "score": _number(sb.score),
                "content": bool(sb.is_content),
                "heading": int(sb.block.heading),
                "list_item": bool(sb.block.is_list_item),
                "table_cell": bool(sb.block.is_table_cell),
            }
            for sb in ext.blocks
        ]
        # A block dropped although its score reaches the threshold was dropped by a boilerplate rule: name it. (Few
        # blocks per page; the page's block list is only built when there is one.)
        thr = ext.threshold
        ruled = [i for i, sb in enumerate(ext.blocks) if sb.score >= thr and not sb.is_content]
        if ruled:
            page = [sb.block for sb in ext.blocks]
            for i in ruled:
                rec["blocks"][i]["rule"] = rule_at(page, i, text_rules=text_rules_for(ext.source))
    return rec


def render(ext: Extraction, fmt: str, *, links: bool = False, url: str | None = None, source: str | None = None) -> str:
    """The extraction in one of FORMATS ("text", "markdown", "html", "json")."""
    name = fmt.lower() if isinstance(fmt, str) else fmt
    if name == "text":
        return to_text(ext)
    if name == "markdown":
        return to_markdown(ext, links=links, url=url)
    if name == "html":
        return to_html(ext, links=links, url=url)
    if name == "json":
        return json.dumps(to_record(ext, source=source, url=url), ensure_ascii=False)
    raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
