"""Labeled block matrices from corpora: segment every page, label blocks by gold alignment, featurize; cached."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from bpdetect import __version__
from bpdetect.features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, featurize
from bpdetect.records import Document
from bpdetect.segment import segment_html, segment_text

from .align import align_blocks
from .corpora import INDEX_FILE, Page, iter_pages, list_corpora
from .render import render_text, style_for
from .splits import is_validation

__all__ = ["BlockSet", "build_corpus", "load_blocksets", "page_document"]

log = logging.getLogger(__name__)
# Pages per joblib task: large enough to amortize process overhead, small enough to balance two cores.
CHUNK_PAGES = 40


@dataclass
class BlockSet:
    """All blocks of one corpus for one input kind, rows grouped by page."""

    corpus: str
    input: str
    X: np.ndarray  # (n_blocks, n_features) float32
    overlap: np.ndarray  # fraction of each block's tokens aligned to the gold
    n_tokens: np.ndarray  # tokens per block (alignment tokenizer)
    n_matched: np.ndarray  # aligned tokens per block
    chars: np.ndarray  # characters per block
    page: np.ndarray  # page index (0..n_pages-1) of each block
    page_ids: np.ndarray  # page id strings
    page_groups: np.ndarray  # site group strings (split unit)
    page_gold_tokens: np.ndarray  # gold tokens per page
    page_val: np.ndarray  # bool: page is in the validation share
    page_reach: np.ndarray  # share of the page's gold tokens that align to any of its blocks
    # Index (within its page) of the page's headline line in a text rendering, -1 when unknown; None: no headlines.
    page_headline: np.ndarray | None = None
    # True for pages whose line labels came from the labeler (index ``line_labels``): label policies leave them be.
    page_exact: np.ndarray | None = None
    # Each block's text (object array of str), for a model's lexical stage; None in caches written before it.
    texts: np.ndarray | None = None

    def subset(self, pages: np.ndarray) -> BlockSet:
        """Only the given pages (boolean mask over pages), renumbered."""
        keep_rows = pages[self.page]
        new_index = np.cumsum(pages) - 1
        return BlockSet(
            corpus=self.corpus,
            input=self.input,
            X=self.X[keep_rows],
            overlap=self.overlap[keep_rows],
            n_tokens=self.n_tokens[keep_rows],
            n_matched=self.n_matched[keep_rows],
            chars=self.chars[keep_rows],
            page=new_index[self.page[keep_rows]],
            page_ids=self.page_ids[pages],
            page_groups=self.page_groups[pages],
            page_gold_tokens=self.page_gold_tokens[pages],
            page_val=self.page_val[pages],
            page_reach=self.page_reach[pages],
            page_headline=None if self.page_headline is None else self.page_headline[pages],
            page_exact=None if self.page_exact is None else self.page_exact[pages],
            texts=None if self.texts is None else self.texts[keep_rows],
        )

    def headline_rows(self) -> np.ndarray:
        """Row numbers of the pages' headline lines (empty without headlines)."""
        if self.page_headline is None:
            return np.zeros(0, dtype=np.int64)
        starts = np.searchsorted(self.page, np.arange(self.n_pages))
        known = self.page_headline >= 0
        return (starts[known] + self.page_headline[known]).astype(np.int64)

    @property
    def n_pages(self) -> int:
        """Number of pages."""
        return len(self.page_ids)


def corpus_dir(root: Path, corpus: str) -> Path:
    """The folder of one corpus: root itself when root is that corpus, else root/corpus."""
    root = Path(root)
    if (root / INDEX_FILE).is_file() and root.name == corpus:
        return root
    return root / corpus


def page_document(page: Page, input_kind: str) -> Document | None:
    """Segment a page as HTML, or render it as a naive scraper's text dump and segment that.

    Pages whose index entry says ``input: "text"`` are already text dumps: they serve the text model only.
    """
    if page.extra.get("input") == "text":
        return segment_text(page.html) if input_kind == "text" else None
    doc = segment_html(page.html)
    if input_kind == "html":
        return doc
    return _rendered(page, doc)


def _rendered(page: Page, html_doc: Document) -> Document:
    """The page rendered as a text dump in its own style, segmented."""
    return segment_text(render_text(page.html, html_doc, style_for(f"{page.corpus}/{page.id}")))


# Headline policy (plain-text model): the page's headline is content whatever a corpus's gold says (wcxb, readability
# and canola leave it out, the other corpora keep it); train.stack applies it from BlockSet.page_headline. The
# headline is the first <h1>/<h2> of the HTML whose words are nearly all in the page's <title> (an <h1> can be the
# site's logo); its line in the text dump is found by text.
HEADLINE_MAX_WORDS = 30
HEADLINE_TITLE_SHARE = 0.8  # share of the heading's words that must occur in the <title>


_WORD_STRIP = ".,:;!?\"'“”‘’«»()[]|-–—"


def _words(text: str) -> list[str]:
    """Lowercased words of a text, surrounding punctuation stripped."""
    return [w for w in (t.strip(_WORD_STRIP).lower() for t in text.split()) if w]


def headline_text(doc: Document) -> str | None:
    """The text of an HTML page's headline: its first h1/h2 block that the page's <title> repeats, or None."""
    if not doc.title:
        return None
    title_words = set(_words(doc.title))
    for b in doc.blocks:
        if b.heading not in (1, 2) or not 2 <= b.n_words <= HEADLINE_MAX_WORDS:
            continue
        words = _words(b.text)
        if words and sum(w in title_words for w in words) >= HEADLINE_TITLE_SHARE * len(words):
            return b.text
    return None


def headline_line(doc: Document, headline: str | None) -> int | None:
    """Index of the first line of a text Document that is the headline (markdown "#" marks ignored), or None."""
    if not headline:
        return None
    target = " ".join(headline.split())
    for b in doc.blocks:
        if b.text.lstrip("#").strip() == target:
            return b.index
    return None


def _exact_labels(labels: object, n_blocks: int) -> np.ndarray | None:
    """A text page's ``line_labels`` (1 content, 0 clutter per non-empty line) as overlaps; None if they misfit."""
    if not isinstance(labels, list) or len(labels) != n_blocks or any(v not in (0, 1) for v in labels):
        return None
    return np.asarray(labels, dtype=np.float64)


def _page_rows(page: Page, input_kind: str) -> tuple | None:
    try:
        if input_kind == "text" and page.extra.get("input") != "text":
            html_doc = segment_html(page.html)
            doc = _rendered(page, html_doc)
            headline = headline_line(doc, headline_text(html_doc))
        else:
            doc, headline = page_document(page, input_kind), None
    except Exception as exc:  # a page that cannot be read is skipped, and said so
        log.warning("skipping %s/%s: %s", page.corpus, page.id, exc)
        return None
    if doc is None or not doc.blocks:
        return None
    al = align_blocks([b.text for b in doc.blocks], page.gold)
    line_labels = page.extra.get("line_labels") if page.extra.get("input") == "text" else None
    exact = None
    if line_labels is not None:
        exact = _exact_labels(line_labels, len(doc.blocks))
        if exact is None:
            log.warning("%s/%s: line_labels ignored: %d labels for %d lines", page.corpus, page.id,
                        len(line_labels), len(doc.blocks))
        else:  # the labeler's own line labels replace the alignment's guess (e.g. a breadcrumb repeating the title)
            al = dataclasses.replace(al, overlap=exact, n_matched=np.where(exact > 0, al.n_tokens, 0))
    X = featurize(doc.blocks)
    exact_page = line_labels is not None and exact is not None
    chars = np.fromiter((b.n_chars for b in doc.blocks), dtype=np.int64, count=len(doc.blocks))
    reach = float(al.n_matched.sum()) / al.n_gold_tokens if al.n_gold_tokens else 1.0
    head = -1 if headline is None else headline
    return (
        X, al.overlap, al.n_tokens, al.n_matched, chars, page.id, page.group, al.n_gold_tokens, reach, head,
        exact_page, [b.text for b in doc.blocks],
    )


def _chunk_rows(pages: Sequence[Page], input_kind: str) -> list[tuple | None]:
    return [_page_rows(p, input_kind) for p in pages]


def chunked(items: Iterable[Page], size: int) -> Iterator[list[Page]]:
    """Pages in lists of at most ``size`` (the unit of work handed to a joblib worker)."""
    buf: list[Page] = []
    for it in items:
        buf.append(it)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


def _code_fingerprint() -> str:
    """Hash of the code that decides blocks, labels and features: any edit there invalidates cached matrices."""
    import bpdetect

    pkg = Path(bpdetect.__file__).parent
    h = hashlib.sha256()
    for name in ("decode.py", "dom.py", "segment.py", "textstats.py", "features.py"):
        h.update((pkg / name).read_bytes())
    for name in ("align.py", "corpora.py", "render.py", "dataset.py"):
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()


def _cache_key(root: Path, corpus: str, input_kind: str) -> str:
    index = corpus_dir(root, corpus) / INDEX_FILE
    st = index.stat()
    raw = f"{__version__}|{FEATURE_SCHEMA_VERSION}|{','.join(FEATURE_NAMES)}|{input_kind}|{index.resolve()}"
    raw += f"|{st.st_size}|{int(st.st_mtime)}|{_code_fingerprint()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def build_corpus(
    root: Path,
    corpus: str,
    input_kind: str = "html",
    *,
    n_jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> BlockSet:
    """Segment, label and featurize every page of one corpus (read from / written to cache_dir if given)."""
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{corpus}-{input_kind}-{_cache_key(root, corpus, input_kind)}.npz"
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            if "text_blob" in arrays:
                arrays["texts"] = _unpack_texts(arrays.pop("text_blob"), arrays.pop("text_ends"))
            bs = BlockSet(corpus=corpus, input=input_kind, **arrays)
            if progress:
                progress(bs.n_pages)
            return bs
    results: list[tuple | None] = []
    tasks = (delayed(_chunk_rows)(chunk, input_kind) for chunk in chunked(iter_pages(root, [corpus]), CHUNK_PAGES))
    for rows in Parallel(n_jobs=n_jobs, return_as="generator")(tasks):
        results.extend(rows)
        if progress:
            progress(len(rows))
    rows = [r for r in results if r is not None]
    n_feat = len(FEATURE_NAMES)
    if not rows:
        empty = np.zeros(0)
        bs = BlockSet(
            corpus,
            input_kind,
            np.zeros((0, n_feat), np.float32),
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, np.int64),
            np.array([], dtype=str),
            np.array([], dtype=str),
            empty,
            np.zeros(0, bool),
        )
    else:
        sizes = [len(r[0]) for r in rows]
        bs = BlockSet(
            corpus=corpus,
            input=input_kind,
            X=np.vstack([r[0] for r in rows]).astype(np.float32),
            overlap=np.concatenate([r[1] for r in rows]),
            n_tokens=np.concatenate([r[2] for r in rows]),
            n_matched=np.concatenate([r[3] for r in rows]),
            chars=np.concatenate([r[4] for r in rows]),
            page=np.repeat(np.arange(len(rows)), sizes),
            page_ids=np.array([r[5] for r in rows]),
            page_groups=np.array([r[6] for r in rows]),
            page_gold_tokens=np.array([r[7] for r in rows], dtype=np.int64),
            page_val=np.array([is_validation(corpus, r[6]) for r in rows], dtype=bool),
            page_reach=np.array([r[8] for r in rows], dtype=np.float64),
            page_headline=np.array([r[9] for r in rows], dtype=np.int64),
            page_exact=np.array([r[10] for r in rows], dtype=bool),
            texts=_object_array([t for r in rows for t in r[11]]),
        )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".tmp.npz")
        skip = ("corpus", "input", "texts")
        arrays = {k: getattr(bs, k) for k in BlockSet.__dataclass_fields__ if k not in skip}
        if bs.texts is not None:  # strings as one UTF-8 blob and end offsets: no pickled objects in the cache
            arrays["text_blob"], arrays["text_ends"] = _pack_texts(bs.texts)
        np.savez(tmp, **{k: v for k, v in arrays.items() if v is not None})
        tmp.replace(cache)
    return bs


def _object_array(items: Sequence[str]) -> np.ndarray:
    """A 1-D object array of the given strings (np.array would make a fixed-width, padded unicode array)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _pack_texts(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as (UTF-8 bytes of them all, end offset of each) for a pickle-free cache file."""
    encoded = [t.encode("utf-8") for t in texts]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def _unpack_texts(blob: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The strings that ``_pack_texts`` packed."""
    raw = blob.tobytes()
    starts = np.concatenate([[0], ends[:-1]]).tolist()
    return _object_array([raw[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist(), strict=True)])


def load_blocksets(
    roots: Sequence[Path],
    input_kind: str = "html",
    *,
    corpora: Sequence[str] | None = None,
    n_jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[BlockSet]:
    """BlockSets for every corpus found under the given dataset roots (or only the named corpora)."""
    out: list[BlockSet] = []
    for root in roots:
        for name in list_corpora(root):
            if corpora and name not in corpora:
                continue
            out.append(build_corpus(root, name, input_kind, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress))
    return out
