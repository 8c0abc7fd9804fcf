"""Text to a cleaned lxml tree: tolerant parsing, no network or entities, invisible and non-text elements dropped."""

from __future__ import annotations

import re
import threading

from lxml import etree

from ._speedups import load as _load_speedup

__all__ = [
    "DROP_TAGS",
    "MAX_ATTRIBUTES",
    "clean_tree",
    "is_hidden",
    "limit_attributes",
    "page_lang",
    "page_title",
    "parse_html",
    "parse_html_bytes",
    "strip_control_chars",
]

# Elements whose content is never visible page text.
DROP_TAGS: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "canvas",
    "head",
)

_HIDDEN_CANDIDATES_XPATH = etree.XPath("//*[@hidden or @aria-hidden or @style]")
_HIDDEN_STYLE_RE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
_PRIVATE_ATTRS_XPATH = etree.XPath("//@*[starts-with(name(), '__')]")

# C0 controls other than tab/newline/CR, DEL-free; lxml rejects NUL and most of these in str input.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Lone surrogates (from "surrogateescape" or broken JSON) cannot be encoded to UTF-8.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _parser(huge: bool = False) -> etree.HTMLParser:
    # no_network and no DTD/entity loading: the HTML parser never fetches anything. huge_tree stays off for the
    # first parse so libxml2's own limits (depth 256, text nodes and attribute values of 10 MB) bound the work;
    # parse_html_bytes retries with huge_tree=True only when a size limit (not the depth limit) stopped the parse.
    return etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        recover=True,
        compact=True,
        default_doctype=False,
        huge_tree=huge,
        collect_ids=False,  # no hash table of id attributes: nothing looks elements up by id (5% of the parse)
    )


_LOCAL = threading.local()
# The compiled helpers (or None: not built, or BPDETECT_PURE_PYTHON set).
_cwalk = _load_speedup("_cwalk")


def _thread_parser(huge: bool = False) -> etree.HTMLParser:
    # lxml parsers keep per-parse state and must not be shared between threads; one per thread, built once.
    name = "huge_parser" if huge else "parser"
    parser = getattr(_LOCAL, name, None)
    if parser is None:
        parser = _parser(huge)
        setattr(_LOCAL, name, parser)
    return parser


def strip_control_chars(text: str) -> str:
    """Remove NUL and other control characters (and lone surrogates) that lxml cannot hold."""
    text = _CONTROL_RE.sub("", text)
    if not text.isascii():
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def is_hidden(el: etree._Element) -> bool:
    """True when the element is hidden by the ``hidden`` attribute, aria-hidden or an inline display:none style."""
    if el.get("hidden") is not None or el.get("aria-hidden", "").strip().lower() == "true":
        return True
    style = el.get("style")
    return bool(style) and _HIDDEN_STYLE_RE.search(style) is not None


def clean_tree(root: etree._Element, *, drop_hidden: bool = True, private_attrs: bool = True) -> etree._Element:
    """Drop non-text elements, hidden elements and attributes named ``__*`` (labels some corpora embed), in place.

    The segmenter skips hidden subtrees during its own walk and passes ``drop_hidden=False`` to avoid a second pass;
    ``private_attrs=False`` skips the attribute scan when the caller knows no ``__`` attribute can occur.
    """
    _unwrap_swallowing_embeds(root)
    etree.strip_elements(root, *(t for t in DROP_TAGS if t != "noscript"), with_tail=False)
    _resolve_noscript(root)
    if drop_hidden:
        _drop_hidden(root)
    if private_attrs:
        for attr in _PRIVATE_ATTRS_XPATH(root):
            owner = attr.getparent()
            if owner is not None:
                owner.attrib.pop(attr.attrname, None)
    return root


# <noscript> holds what a page shows without JavaScript. Usually that is a "please enable JavaScript" notice or a
# tracking pixel, so it is dropped; but some apps (Discourse forums, some SPAs) put the whole server-rendered page
# there. When the noscript text outweighs everything else on the page, it *is* the page, and it is kept.
NOSCRIPT_MIN_CHARS = 200


def _unwrap_swallowing_embeds(root: etree._Element) -> None:
    """Unwrap each <embed> that holds elements, keeping its content: libxml2 does not know <embed> is void.

    It nests the rest of the parent (often the whole article) inside the <embed>, which DROP_TAGS would then drop.
    An <embed> with element children has swallowed such page content; one holding only text keeps being dropped.
    """
    swallowing = [el for el in root.iter("embed") if len(el)]
    if swallowing:
        for el in swallowing:
            el.tag = "EMBED"  # the HTML parser lowercases tag names, so no page element is called that
        etree.strip_tags(root, "EMBED")


def _text_len(el: etree._Element) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def _resolve_noscript(root: etree._Element) -> None:
    noscripts = list(root.iter("noscript"))
    if not noscripts:
        return
    inside = sum(_text_len(n) for n in noscripts)
    if inside >= NOSCRIPT_MIN_CHARS:
        body = root.find("body")
        outside = _text_len(body if body is not None else root) - inside
        if inside > outside:
            etree.strip_tags(root, "noscript")  # keep the children and text, drop the wrapper
            return
    etree.strip_elements(root, "noscript", with_tail=False)


def _drop_hidden(root: etree._Element) -> None:
    for el in _HIDDEN_CANDIDATES_XPATH(root):
        if not is_hidden(el):
            continue
        parent = el.getparent()
        if parent is not None:
            # Keep the tail: it is visible text that follows the hidden element.
            tail = el.tail
            if tail:
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            parent.remove(el)


def _fatal_errors(parser: etree.HTMLParser) -> list[str]:
    """Messages of the fatal errors of the parser's last run: libxml2 stopped there and dropped the rest."""
    return [e.message for e in parser.error_log.filter_from_fatals()]


def _parse_once(data: bytes, huge: bool) -> tuple[etree._Element | None, list[str]]:
    parser = _thread_parser(huge)
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None, []
    fatal = _fatal_errors(parser)
    if root is None or not isinstance(root.tag, str):
        return None, fatal
    return root, fatal


def parse_html_bytes(data: bytes) -> tuple[etree._Element | None, bool]:
    """Parse UTF-8 HTML bytes into an (uncleaned) root element and whether libxml2 dropped part of the input.

    libxml2 stops at its resource limits and keeps only what it had parsed: nesting deeper than 256 elements, or a
    single text node, comment or attribute value over 10 MB. A size limit is retried once with ``huge_tree`` (text
    nodes up to 1 GB; the HTML parser never expands entities, so this cannot blow up); the depth limit is not, since
    deeper trees are of no use to the segmenter. ``truncated`` is True when the returned tree misses input.
    """
    if b"\x00" in data:
        # NUL is never page text (browsers drop it); libxml2 would turn each into U+FFFD, making junk blocks.
        data = data.replace(b"\x00", b"")
    if not data or data.isspace():
        return None, False
    data = limit_attributes(data)
    root, fatal = _parse_once(data, huge=False)
    if _depth_error(fatal) and _NESTING_VOID_RE.search(data):
        # Void elements libxml2 takes for containers (<wbr>, <source>...) nest one level per occurrence until the
        # depth limit drops the rest of the page; written self-closing, they nest nothing. Only on this rare path.
        data = _NESTING_VOID_RE.sub(rb"<\1\2 />", data)  # the space keeps "/" out of an unquoted value
        root, fatal = _parse_once(data, huge=False)
    if fatal and not _depth_error(fatal):
        root, fatal = _parse_once(data, huge=True)
    return root, bool(fatal)


# HTML void elements that libxml2 2.x parses as containers; <image> is what browsers read as <img>.
_NESTING_VOID_RE = re.compile(
    rb"""<(embed|source|track|wbr|keygen|bgsound|image)\b((?:[^<>"']|"[^"]*"|'[^']*')*?)/?>""", re.IGNORECASE
)


def _depth_error(fatal: list[str]) -> bool:
    """True when libxml2 stopped at its nesting depth limit."""
    return any("depth" in msg.lower() for msg in fatal)


# libxml2's HTML parser compares each attribute of a start tag with all the earlier ones: the cost is quadratic in
# the attributes of one tag (16,000 take 1.5 s, 100,000 over a minute). Attributes past MAX_ATTRIBUTES are dropped
# before parsing (no real tag has a hundred; they are never text). A tag with that many attributes is at least
# _LONG_TAG_UNITS long, counting a quoted value (which may hold "<" and ">") as one unit and any other byte as one, so
# only such tags (rare: mostly long data: URIs or inline JSON) are tokenized. (No possessive quantifiers: Python 3.10.)
MAX_ATTRIBUTES = 100
_LONG_TAG_UNITS = 2 * MAX_ATTRIBUTES  # an attribute takes at least a name byte and a separator
_LONG_TAG_RE = re.compile(rb"""<[A-Za-z](?:[^<>"']|"[^"]*"|'[^']*'){%d}""" % _LONG_TAG_UNITS)
_TAG_NAME_RE = re.compile(rb"<[^\s<>/]*")
# One attribute (name, optional value) or a stray "/" or "=", as libxml2 reads them (quotes can be part of a name);
# a start tag ends at a ">" or "<" outside quoted values.
_ATTRIBUTE_RE = re.compile(rb"""\s*(?:[^\s<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s<>]+))?|[/=])""")


def _find_long_tag_python(data: bytes, pos: int = 0) -> int:
    """Start of the first _LONG_TAG_RE match at or after pos, or -1 (bpdetect._cwalk.find_long_tag is its twin)."""
    match = _LONG_TAG_RE.search(data, pos)
    return -1 if match is None else match.start()


def _find_long_tag(data: bytes, pos: int = 0) -> int:
    """Start of the first _LONG_TAG_RE match at or after pos, or -1; the compiled scan when built (4x faster)."""
    if _cwalk is None:
        return _find_long_tag_python(data, pos)
    return _cwalk.find_long_tag(data, pos, _LONG_TAG_UNITS)


def limit_attributes(data: bytes, max_attributes: int = MAX_ATTRIBUTES) -> bytes:
    """The page with the attributes of each start tag beyond ``max_attributes`` removed (usually the page itself)."""
    start = _find_long_tag(data)
    if start < 0:
        return data
    out: list[bytes] = []
    done = 0
    while start >= 0:
        pos = _TAG_NAME_RE.match(data, start).end()
        count = 0
        keep_until = pos
        while True:
            attr = _ATTRIBUTE_RE.match(data, pos)
            if attr is None or attr.end() == pos:
                break
            pos = attr.end()
            count += 1
            if count <= max_attributes:
                keep_until = pos
        if count > max_attributes:
            out.append(data[done:keep_until])
            done = pos  # the tag's remaining attributes are skipped; its ">" (or whatever stopped it) stays
        start = _find_long_tag(data, max(pos, start + 1))
    if not out:
        return data
    out.append(data[done:])
    return b"".join(out)


def parse_html(text: str) -> etree._Element | None:
    """Parse HTML text into an lxml root element (uncleaned), or None when there is nothing to parse."""
    if not text or text.isspace():
        return None
    # "replace" only matters for lone surrogates, which UTF-8 cannot encode.
    # Not cleaned yet: the title and language live in <head>, which clean_tree drops; callers read them first.
    return parse_html_bytes(text.encode("utf-8", errors="replace"))[0]


_OG_TITLE_PATHS = ("head/meta[@property='og:title']", "head/meta[@name='og:title']", "head/meta[@name='twitter:title']")


def _clean_text(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def page_title(root: etree._Element) -> str | None:
    """The page title: og:title/twitter:title, else <title>, else the first <h1>; read before clean_tree()."""
    # ElementPath on <head>'s children is far cheaper than a //-XPath over the whole tree.
    for path in _OG_TITLE_PATHS:
        el = root.find(path)
        if el is not None:
            title = _clean_text(el.get("content"))
            if title:
                return title
    el = root.find("head/title")
    if el is not None:
        title = _clean_text("".join(el.itertext()))
        if title:
            return title
    for el in root.iter("title", "h1"):
        title = _clean_text("".join(el.itertext()))
        if title:
            return title
    return None


def page_lang(root: etree._Element) -> str | None:
    """The primary language subtag of <html lang>, lowercased, if given."""
    lang = root.get("lang") or root.get("xml:lang")
    if not lang:
        return None
    primary = lang.strip().split("-")[0].split("_")[0].lower()
    return primary if primary.isalpha() and len(primary) <= 8 else None
