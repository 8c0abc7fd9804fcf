"""Render HTML pages as plain text the way naive scrapers do, to train and test the plain-text model."""

from __future__ import annotations

import zlib

from lxml import etree

from bpdetect.dom import clean_tree, parse_html
from bpdetect.records import Document

__all__ = ["RENDER_STYLES", "render_text", "style_for"]

# Three common shapes of scraped text: BeautifulSoup's get_text("\n") (every text node on its own line),
# html2text/markdown-like (blank lines between blocks, "  * " bullets), and innerText-like (one line per block,
# "• " bullets, table cells tab-separated).
RENDER_STYLES = ("textnodes", "markdown", "innertext")


def style_for(key: str) -> str:
    """A deterministic render style for a page id, so every page keeps its style across runs."""
    return RENDER_STYLES[zlib.crc32(key.encode("utf-8")) % len(RENDER_STYLES)]


def _textnodes(html_text: str) -> str:
    root = parse_html(html_text)
    if root is None:
        return ""
    clean_tree(root)
    body = root.find("body")
    node = body if body is not None else root
    lines = (" ".join(t.split()) for t in node.itertext() if isinstance(t, str))
    return "\n".join(ln for ln in lines if ln)


def _from_blocks(doc: Document, style: str) -> str:
    out: list[str] = []
    prev_cell_path = None
    for b in doc.blocks:
        text = b.text
        if style == "markdown":
            if b.heading:
                out.append("")
                out.append("#" * b.heading + " " + text)
            elif b.is_list_item:
                out.append("  * " + text.replace("\n", " "))
            else:
                out.append("")
                out.append(text)
        else:
            if b.is_table_cell and prev_cell_path == b.path and out:
                out[-1] += "\t" + text
            elif b.is_list_item:
                out.append("• " + text.replace("\n", " "))
            else:
                out.append(text)
            prev_cell_path = b.path if b.is_table_cell else None
    return "\n".join(out).strip() + "\n"


def render_text(html_text: str | bytes, doc: Document, style: str) -> str:
    """Plain text of a page in one of RENDER_STYLES; ``doc`` is the page's HTML segmentation."""
    if style == "textnodes":
        if isinstance(html_text, bytes):
            from bpdetect.decode import decode

            html_text = decode(html_text).text
        try:
            return _textnodes(html_text)
        except (etree.LxmlError, ValueError):
            return _from_blocks(doc, "innertext")
    if style not in RENDER_STYLES:
        raise ValueError(f"unknown render style {style!r}")
    return _from_blocks(doc, style)
