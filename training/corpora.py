"""Dataset adapters for the shared corpus layout: one `Page` (raw HTML bytes + gold paragraphs + split group) per page.

Layout (see ../shared/datasets/README.md): ``<root>/<name>/index.jsonl`` with one JSON object per page (``id``,
``url``, ``lang``, ``html``, ``gold`` and optional ``split``, ``labels``, ``meta``, extras), ``pages/<id>.html.gz``
and ``gold/<id>.txt``. ``root`` may hold many corpora or be one corpus folder, so a user's own dataset with just
``index.jsonl`` + ``pages/`` + ``gold/`` works too (pages may also be stored uncompressed: no ``.gz`` suffix).

This is the format of datasets/FORMAT.md: every path comes from ``index.jsonl`` (inside the folder, never guessed
from the id); ``input: "text"`` pages are passed through as bytes (``Page.extra["input"]`` tells the reader).
Gold conventions are chosen by corpus (folder) name; any other corpus is read as plain text, one block per line:

- ``dragnet``: plain text, cut at the line containing ``!@#$%^&*()  COMMENTS`` (what follows is user comments).
- ``cleaneval`` / ``cleanportaleval``: drop the ``URL:`` line; every ``<p>``, ``<h>``, ``<l>`` starts a segment
  (hard-wrapped lines inside a segment are joined); HTML entities are unescaped. The pages' ``<text id=…>`` wrapper
  (and its closing ``</text>``) that the organisers added is removed from the HTML bytes.
- ``readability``: the gold is an HTML fragment; its block-level texts (lxml, breaks at block elements and ``<br>``).
- everything else (wcxb, utomo-*, l3s-gn1, canola, googletrends-2017): plain text lines. googletrends pages keep
  their ``__label`` attributes in the bytes: the segmenter drops every ``__*`` attribute.

`Page.group` is the unit for site-wise splits (a site's template must not leak from train into validation):

0. the index's own ``group`` field, when present (FORMAT.md: same site, template or near-duplicates);
1. the registrable domain of the page's url (index ``url``, else wcxb's ``domain`` field), e.g. ``bbc.co.uk``,
   ``wsj.com`` for ``blogs.wsj.com`` (stricter than FORMAT.md's default of the bare host: subdomains of one site
   often share a template, and shared platforms such as blogspot.com or substack.com become one group); the same
   site gets the same group in every corpus;
2. for utomo-big9 (no urls): the one of the nine news sites whose domain the page mentions most;
3. else the registrable domain of the page's own ``<link rel=canonical>`` / ``og:url`` (Wayback Machine urls
   unwrapped; placeholder hosts such as readability's ``fakehost`` ignored): this finds the site for most dragnet,
   utomo-chaos, googletrends-2017 and readability pages;
4. else ``"<corpus>/<id>"`` (a singleton group; for cleanportaleval the site section from the id, e.g.
   ``"cleanportaleval/bbc.co.uk_news"``, though all its pages have urls).

`Page.domain` is the page's host without ``www.`` from the same sources (1–3), or None.
"""

from __future__ import annotations

import gzip
import html as html_lib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

__all__ = [
    "SUSPECT_FILE",
    "Page",
    "iter_pages",
    "list_corpora",
    "parse_gold",
    "read_suspects",
    "site_of",
]

SUSPECT_FILE = "suspect-pages.tsv"
INDEX_FILE = "index.jsonl"


@dataclass(frozen=True)
class Page:
    """One labeled page: raw HTML bytes after corpus cleanup, gold paragraphs, and its site group for splitting."""

    corpus: str
    id: str
    url: str | None
    domain: str | None
    lang: str | None
    split: str | None
    html: bytes
    gold: list[str]
    group: str
    extra: dict[str, Any] = field(default_factory=dict)  # remaining index.jsonl fields (labels, meta, year, page_type…)

    @property
    def gold_text(self) -> str:
        """The gold paragraphs joined with newlines."""
        return "\n".join(self.gold)


# ---------------------------------------------------------------------------------------------------------------------
# Gold parsing

_DRAGNET_COMMENTS_RE = re.compile(r"!@#\$%\^&\*\(\)\s*COMMENTS")
_CLEANEVAL_MARK_RE = re.compile(r"<\s*/?\s*[phl]\s*>", re.IGNORECASE)
_CLEANEVAL_URL_RE = re.compile(r"\A\s*URL:[^\n]*(?:\n|\Z)")


def _collapse(text: str) -> str:
    return " ".join(text.split())  # str.split() splits on the same Unicode whitespace as \s, several times faster


def _plain_lines(text: str) -> list[str]:
    lines = (_collapse(line) for line in text.splitlines())
    return [line for line in lines if line]


def _gold_dragnet(text: str) -> list[str]:
    m = _DRAGNET_COMMENTS_RE.search(text)
    if m:
        text = text[: text.rfind("\n", 0, m.start()) + 1]  # cut at the start of the separator's line
    return _plain_lines(text)


def _gold_cleaneval(text: str) -> list[str]:
    text = _CLEANEVAL_URL_RE.sub("", text, count=1)
    segments = (_collapse(html_lib.unescape(seg)) for seg in _CLEANEVAL_MARK_RE.split(text))
    return [seg for seg in segments if seg]


# Elements whose boundaries end a gold line when the gold is an HTML fragment.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


def _gold_html(text: str) -> list[str]:
    if not text.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return _plain_lines(text)
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            line = _collapse("".join(buf))
            if line:
                lines.append(line)
            buf.clear()

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""  # comments and processing instructions have no str tag
        if tag and tag.lower() not in _SKIP_TAGS:
            block = tag.lower() in _BLOCK_TAGS
            if block:
                flush()
            if tag.lower() == "br":
                flush()
            if el.text:
                buf.append(el.text)
            for child in el:
                walk(child)
            if block:
                flush()
        if el.tail:
            buf.append(el.tail)

    walk(root)
    flush()
    return lines


_GOLD_PARSERS = {
    "text": _plain_lines,
    "dragnet": _gold_dragnet,
    "cleaneval": _gold_cleaneval,
    "html": _gold_html,
}
# Gold format by corpus name (folder name); corpora not listed are plain text.
_CORPUS_GOLD_FORMAT = {
    "dragnet": "dragnet",
    "cleaneval": "cleaneval",
    "cleanportaleval": "cleaneval",
    "readability": "html",
}


def parse_gold(text: str, gold_format: str = "text") -> list[str]:
    """Gold file text → gold paragraphs (markup and comment sections removed, whitespace collapsed, no empties)."""
    try:
        parser = _GOLD_PARSERS[gold_format]
    except KeyError:
        raise ValueError(f"unknown gold format {gold_format!r}; expected one of {sorted(_GOLD_PARSERS)}") from None
    return parser(text.lstrip("\ufeff"))


# ---------------------------------------------------------------------------------------------------------------------
# HTML cleanup

_CLEANEVAL_WRAPPER_RE = re.compile(rb'\A\s*<text\s+id="[^"]*"(?:\s+[\w-]+="[^"]*")*\s*>')
_CLEANEVAL_WRAPPER_END_RE = re.compile(rb"</text>\s*\Z")


def _clean_html(corpus_format: str, data: bytes) -> bytes:
    if corpus_format == "cleaneval":
        m = _CLEANEVAL_WRAPPER_RE.match(data)
        if m:
            data = _CLEANEVAL_WRAPPER_END_RE.sub(b"", data[m.end() :])
    return data


# ---------------------------------------------------------------------------------------------------------------------
# Sites and groups

# Second-level labels under which registrations happen in many country-code TLDs (bbc.co.uk, abc.net.au, …).
_GENERIC_SLDS = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or", "go", "gob", "nic", "ltd", "plc"})
_IP_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
# The same site under two registrable domains.
_SITE_ALIASES = {"bbc.com": "bbc.co.uk"}
# Hosts that do not identify a site: web archives (their urls are unwrapped first). Single-label hosts are dropped
# earlier.
_NON_SITES = frozenset({"archive.org"})


def _host(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if "://" not in url[:12]:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host or "." not in host:  # single-label hosts (readability's "fakehost", localhost) name no site
        return None
    host = host.lower().rstrip(".")
    return re.sub(r"^www\d*\.", "", host)


def site_of(host: str | None) -> str | None:
    """Registrable domain of a host (``news.bbc.co.uk`` → ``bbc.co.uk``), by a small heuristic, not the PSL."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    if _IP_RE.match(host):
        return host
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SLDS else 2
    site = ".".join(labels[-keep:])
    return _SITE_ALIASES.get(site, site)


_WAYBACK_RE = re.compile(r"^https?://(?:web(?:-beta)?\.)?archive\.org/web/[^/]*/(.+)$", re.IGNORECASE)
_CANONICAL_RES = (
    re.compile(rb"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.IGNORECASE),
    re.compile(rb"""<meta\b[^>]*\bproperty\s*=\s*["']?og:url\b[^>]*>""", re.IGNORECASE),
)
_HREF_RE = re.compile(rb"""\b(?:href|content)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)
_SNIFF_BYTES = 300_000  # canonical/og:url live in <head>; no need to scan megabytes of body


def _page_host(data: bytes) -> str | None:
    """Host of the page's canonical or og:url link (Wayback urls unwrapped); None when absent or a placeholder."""
    head = data[:_SNIFF_BYTES]
    for pattern in _CANONICAL_RES:
        for tag in pattern.finditer(head):
            m = _HREF_RE.search(tag.group(0))
            if not m:
                continue
            url = m.group(1).decode("ascii", "replace")
            url = "http:" + url if url.startswith("//") else url
            wb = _WAYBACK_RE.match(url)
            if wb:
                url = wb.group(1)
            host = _host(url)
            if host and site_of(host) not in _NON_SITES and host not in _NON_SITES:
                return host
    return None


# utomo-big9: nine news sites, no urls; a page names its own site's domain far more often than any other.
_BIG9_SITES = {
    "arstechnica": "arstechnica.com",
    "bbc": "bbc.co.uk",
    "cnn": "cnn.com",
    "forbes": "forbes.com",
    "foxnews": "foxnews.com",
    "latimes": "latimes.com",
    "nymag": "nymag.com",
    "nypost": "nypost.com",
    "yahoo": "yahoo.com",
}
_BIG9_RE = re.compile(rb"(?<![a-z0-9-])(" + b"|".join(k.encode() for k in _BIG9_SITES) + rb")\.(?:com|co\.uk)\b")


def _big9_site(data: bytes) -> str | None:
    counts = Counter(_BIG9_RE.findall(data.lower()))
    if not counts:
        return None
    return _BIG9_SITES[counts.most_common(1)[0][0].decode()]


def _cleanportaleval_section(page_id: str) -> str:
    return re.sub(r"_\d+$", "", page_id)


def _domain_and_group(corpus: str, page_id: str, rec: dict[str, Any], data: bytes) -> tuple[str | None, str]:
    host = _host(rec.get("url")) or _host(rec.get("domain"))
    if host and site_of(host) in _NON_SITES:
        host = None
    explicit = rec.get("group")
    if isinstance(explicit, str) and explicit.strip():
        return host, explicit.strip()
    if host:
        return host, site_of(host) or host
    if corpus == "utomo-big9":
        site = _big9_site(data)
        if site:
            return site, site
    host = _page_host(data)
    if host:
        return host, site_of(host) or host
    if corpus == "cleanportaleval":
        return None, f"{corpus}/{_cleanportaleval_section(page_id)}"
    return None, f"{corpus}/{page_id}"


# ---------------------------------------------------------------------------------------------------------------------
# Reading


def _is_corpus(path: Path) -> bool:
    return (path / INDEX_FILE).is_file()


def list_corpora(root: Path | str) -> list[str]:
    """Names of the corpora under root (root's own name when root is itself a corpus folder)."""
    root = Path(root)
    if _is_corpus(root):
        return [root.name]
    if not root.is_dir():
        raise FileNotFoundError(f"no dataset folder at {root}")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _is_corpus(p))


def read_suspects(path: Path | str) -> set[tuple[str, str]]:
    """(corpus, id) pairs listed in a suspect-pages.tsv (header line ``dataset<TAB>id<TAB>…``)."""
    out: set[tuple[str, str]] = set()
    path = Path(path)
    if not path.is_file():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 2 or (n == 0 and parts[0] == "dataset"):
            continue
        out.add((parts[0].strip(), parts[1].strip()))
    return out


def _read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def _resolve(folder: Path, rel: str) -> Path:
    path = Path(os.path.normpath(folder / rel))
    if Path(rel).is_absolute() or not path.is_relative_to(os.path.normpath(folder)):
        raise ValueError(f"index path escapes the dataset folder: {rel!r}")
    return path


def _iter_index(folder: Path) -> Iterator[dict[str, Any]]:
    with (folder / INDEX_FILE).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{folder / INDEX_FILE}:{lineno}: bad JSON: {exc}") from None
            if "id" not in rec:
                raise ValueError(f"{folder / INDEX_FILE}:{lineno}: record without 'id'")
            yield rec


_CORE_FIELDS = frozenset({"id", "url", "lang", "html", "gold", "split", "group"})


def _read_page(folder: Path, corpus: str, rec: dict[str, Any]) -> Page:
    page_id = str(rec["id"])
    gold_format = _CORPUS_GOLD_FORMAT.get(corpus, "text")
    for key in ("html", "gold"):
        if not isinstance(rec.get(key), str) or not rec[key]:
            raise ValueError(f"{folder / INDEX_FILE}: page {page_id!r} has no {key!r} path")
    html_path = _resolve(folder, rec["html"])
    gold_path = _resolve(folder, rec["gold"])
    data = _clean_html(gold_format, _read_bytes(html_path))
    gold = parse_gold(gold_path.read_text(encoding="utf-8", errors="replace"), gold_format)
    domain, group = _domain_and_group(corpus, page_id, rec, data)
    return Page(
        corpus=corpus,
        id=page_id,
        url=rec.get("url") or None,
        domain=domain,
        lang=rec.get("lang") or None,
        split=rec.get("split") or None,
        html=data,
        gold=gold,
        group=group,
        extra={k: v for k, v in rec.items() if k not in _CORE_FIELDS},
    )


def iter_pages(root: Path | str, corpora: Iterable[str] | None = None, *, skip_suspect: bool = True) -> Iterator[Page]:
    """Yield every page of the chosen corpora (all by default) in corpus then index order.

    ``root`` is a folder of corpora or one corpus folder. With ``skip_suspect``, pages listed in the
    ``suspect-pages.tsv`` next to the corpora (gold that does not match the page) are left out.
    """
    root = Path(root)
    if _is_corpus(root):
        base, available = root.parent, [root.name]
    else:
        base, available = root, list_corpora(root)
    wanted = available if corpora is None else list(corpora)
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise ValueError(f"unknown corpora {unknown} under {root}; available: {available}")
    suspects = read_suspects(base / SUSPECT_FILE) if skip_suspect else set()
    for corpus in wanted:
        folder = base / corpus
        for rec in _iter_index(folder):
            if (corpus, str(rec["id"])) in suspects:
                continue
            yield _read_page(folder, corpus, rec)
