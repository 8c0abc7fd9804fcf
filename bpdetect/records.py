"""Frozen records passed between the pipeline stages: Block, Document, ScoredBlock, Extraction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

SourceKind = Literal["html", "text"]

# Semantic ancestor flags, as bits of ``Block.semantic``; a block carries the OR of its ancestors' flags.
SEM_ARTICLE = 1 << 0  # <article>, role=article
SEM_MAIN = 1 << 1  # <main>, role=main
SEM_NAV = 1 << 2  # <nav>, role=navigation, role=menu/menubar
SEM_ASIDE = 1 << 3  # <aside>, role=complementary
SEM_HEADER = 1 << 4  # <header>, role=banner
SEM_FOOTER = 1 << 5  # <footer>, role=contentinfo
SEM_FORM = 1 << 6  # <form>, role=search/form
SEM_ARTICLE_BODY = 1 << 7  # itemprop=articleBody / itemprop=text
SEM_COMMENT = 1 << 8  # itemtype/itemprop Comment, role=comment
SEM_DIALOG = 1 << 9  # <dialog>, role=dialog/alertdialog
SEM_FIGURE = 1 << 10  # <figure>
SEM_BLOCKQUOTE = 1 << 11  # <blockquote>
SEM_LIST = 1 << 12  # inside <ul>/<ol>/<dl>/<menu>
SEM_TABLE = 1 << 13  # inside <table>
SEM_PRE = 1 << 14  # inside <pre>/<code> block
SEM_LINK_ONLY = 1 << 15  # reserved: set by segmenters when the whole block is one link

SEMANTIC_FLAGS: dict[str, int] = {
    "article": SEM_ARTICLE,
    "main": SEM_MAIN,
    "nav": SEM_NAV,
    "aside": SEM_ASIDE,
    "header": SEM_HEADER,
    "footer": SEM_FOOTER,
    "form": SEM_FORM,
    "article_body": SEM_ARTICLE_BODY,
    "comment": SEM_COMMENT,
    "dialog": SEM_DIALOG,
    "figure": SEM_FIGURE,
    "blockquote": SEM_BLOCKQUOTE,
    "list": SEM_LIST,
    "table": SEM_TABLE,
    "pre": SEM_PRE,
}


class Block(NamedTuple):
    """One text block of a page, in document order, with the counts and context a classifier needs.

    An immutable named tuple rather than a frozen dataclass: pages have hundreds of blocks and a tuple is built
    several times faster.
    """

    text: str  # whitespace-normalized text; "\n" where the page had <br> or the line broke
    index: int  # position in the document's block list
    tag: str  # tag of the block-level element that owns the text ("line" for plain text input)
    path: str = ""  # tag path from the root, e.g. "html/body/div/article/p" (empty for text input)
    depth: int = 0  # DOM depth of the owning element (0 for text input)
    n_chars: int = 0
    n_words: int = 0
    n_sentences: int = 0
    n_punct: int = 0
    n_digits: int = 0
    n_upper: int = 0
    n_link_chars: int = 0  # characters inside <a href> elements
    n_links: int = 0  # number of <a> elements that contributed text
    n_lines: int = 1  # lines of text (1 + number of <br>/line breaks inside)
    class_tokens: tuple[str, ...] = ()  # lowercased class/id tokens of the owner and its ancestors, nearest first
    semantic: int = 0  # OR of SEM_* flags of the ancestors
    heading: int = 0  # 1-6 for <h1>..<h6> (or a heading-like text line), else 0
    is_list_item: bool = False
    is_table_cell: bool = False
    is_caption: bool = False  # figcaption / caption
    # Plain-text input only: leading indentation width, bullet marker stripped from the text, blank line before.
    indent: int = 0
    bullet: str = ""
    blank_before: bool = False
    source: SourceKind = "html"
    # HTML input only: (anchor text, href as written) of each <a href> in the block, and the serial numbers (document
    # order, per page) of the block-level element owning the block and of that owner's nearest block-level ancestor:
    # cells of one table row share ``parent``, as do items of one list. -1 when unknown (plain-text input).
    links: tuple[tuple[str, str], ...] = ()
    node: int = -1
    parent: int = -1

    def has(self, flag: int) -> bool:
        """True when the block sits inside an ancestor with the given SEM_* flag."""
        return bool(self.semantic & flag)


@dataclass(frozen=True, slots=True)
class Document:
    """A segmented page: its blocks, title and how its bytes were read."""

    blocks: tuple[Block, ...]
    title: str | None = None
    source: SourceKind = "html"
    encoding: str | None = None  # codec used to decode bytes (None for str input)
    encoding_source: str | None = None  # "bom", "declared", "meta", "utf-8", "detected", "fallback", "str"
    lang: str | None = None  # <html lang> primary subtag, when given
    truncated: bool = False  # True when a resource guard cut the input short

    def __len__(self) -> int:
        return len(self.blocks)


class ScoredBlock(NamedTuple):
    """A block with its content probability and the keep/drop decision (a named tuple: cheap to build per block)."""

    block: Block
    score: float
    is_content: bool


@dataclass(frozen=True, slots=True)
class Extraction:
    """The result of extracting one page: content text, title and every scored block."""

    text: str
    title: str | None
    blocks: tuple[ScoredBlock, ...] = field(default_factory=tuple)
    source: SourceKind = "html"
    threshold: float = 0.5
    encoding: str | None = None
    truncated: bool = False

    @property
    def content_blocks(self) -> tuple[ScoredBlock, ...]:
        """The blocks kept as content, in document order."""
        return tuple(b for b in self.blocks if b.is_content)
