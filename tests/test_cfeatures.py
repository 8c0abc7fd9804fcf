"""The compiled feature extractor (bpdetect/_cfeatures.pyx) gives bit-for-bit the feature matrix of the Python code.

Each comparison runs ``featurize`` twice on the same blocks: once through the compiled steps, once with
``features._KIT`` set to None (the pure-Python code) and fresh memos, so neither run can reuse the other's token
facts. One test also runs the Python code in a subprocess with ``BPDETECT_PURE_PYTHON=1``. The hand-written page-scan
matchers (Kit.page_scans) are also compared with the regexes they replace on random pages. Without the compiled module
the comparison tests skip; the fallback tests run either way.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from test_features import mk  # a block with its counts filled in from its text

from bpdetect import _speedups
from bpdetect import features as F
from bpdetect.records import SEM_LINK_ONLY, Block
from bpdetect.segment import segment

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "datasets" / "sample"
SHARED = ROOT.parent / "shared" / "datasets"
# Corpus pages compared: every CORPUS_EVERY-th page of the shared datasets (about 1,070 of 5,374) and every
# TEXT_EVERY-th gold text as a plain-text page.
CORPUS_EVERY = 5
TEXT_EVERY = 10

compiled = pytest.mark.skipif(_speedups.load("_cfeatures") is None, reason="bpdetect._cfeatures is not built")


@contextmanager
def python_path() -> Iterator[None]:
    """Run features in pure Python, with empty memos, restoring the compiled kit afterwards."""
    kit, memo = F._KIT, F._TOKEN_FACTS
    F._KIT = None
    F._TOKEN_FACTS = {}
    F._class_bits.cache_clear()
    F._token_family_bits.cache_clear()
    try:
        yield
    finally:
        F._KIT, F._TOKEN_FACTS = kit, memo


def fresh_compiled() -> None:
    """Empty the memos the compiled path uses."""
    F._TOKEN_FACTS = {}
    if F._KIT is not None:
        F._KIT.family_memo.clear()


def python_matrix(blocks: Sequence[Block]) -> np.ndarray:
    """featurize() of the pure-Python code."""
    with python_path():
        return F.featurize(blocks)


def assert_same(blocks: Sequence[Block], label: str = "") -> None:
    """The compiled and the Python feature matrices are bitwise equal (NaN where NaN, same shape and dtype)."""
    fresh_compiled()
    got = F.featurize(blocks)
    want = python_matrix(blocks)
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape, label
    diff = np.argwhere(got.view(np.uint32) != want.view(np.uint32))
    names = sorted({F.FEATURE_NAMES[j] for j in diff[:, 1]}) if diff.size else []
    assert not names, f"{label}: columns differ: {names[:8]}"


# Texts chosen to hit the edge cases of the per-character and per-token code.
ADVERSARIAL_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\n",
    " \t\n\u00a0\u2003\u3000 ",
    "a",
    "A",
    "ǅ",  # title case: not upper
    "ǅA",
    "ABC DEF",
    "ABC def",
    "123",
    "١٢٣ ٤٥",  # Arabic-Indic digits
    "²³ ¹",  # digits that are not decimals
    "12345 1st 2nd 3rd 4th 1er 2e 1º 1ST 12TH 1ºº 99999st",
    "x" * 70_000,  # a token longer than the 16-bit length field
    "word " * 3000,
    "😀 𝐀𝐁𝐂 𝟙𝟚 👍🏽 text",  # non-BMP
    "\ud800 lone \udfff surrogates \udbff\udc00",
    "Straße ΣΑΣ İstanbul ﬁne Ⅻ 〇 日本語のテキスト。 Привет, мир! مرحبا بالعالم؟",
    "«Read more» → “quoted” (c) 2024 © www.example.com https://example.com user@example.com",
    "• item one\n– item two\n» item three",
    "  \"'”’»)]}  ",
    "Ends with colon:",
    "Ends with sentence. ",
    "Is this a question?”",
    "May 5, 2024 12 de marzo 5. Mai 10:30 pm 3 days ago vor 2 Tagen 1,234 views",
    "By John Smith | Posted on March 3 | 5 min read",
    "READ MORE: another title",
    "Share on Facebook Twitter LinkedIn · Sign in · Subscribe to our newsletter",
    "Page 2 of 10 « Prev Next » Older posts",
    "Copyright 2024. All rights reserved. Terms of use.",
    "\x1c\x1d\x1e\x1f unit separators split words too",
    "_ __ _a_ a_b",
    "...",
    "—",
    "\ufeff bom \u200b zero width",
)


def adversarial_blocks() -> list[Block]:
    """Blocks with odd texts, counts and attributes, HTML and plain text mixed."""
    blocks = [mk(text, i) for i, text in enumerate(ADVERSARIAL_TEXTS)]
    n = len(blocks)
    blocks += [
        mk("Repeated text", n),
        mk("Repeated text", n + 1, tag="li", is_list_item=True, class_tokens=("nav", "menu-item")),
        mk("Negative counts", n + 2, n_chars=-5, n_words=-1, n_link_chars=-3, depth=-2),
        mk("Link only", n + 3, n_link_chars=9, n_links=1, semantic=SEM_LINK_ONLY),
        mk("Huge count", n + 4, n_chars=2**62, n_words=2**40),
        mk("line one", n + 5, tag="line", path="", depth=0, source="text", indent=4, bullet="-", blank_before=True),
        mk("TITLE LINE", n + 6, tag="line", path="", source="text", indent=99),
        mk("heading", n + 7, tag="h2", heading=2, class_tokens=("entry-title", "post", "ad-slot", "tags")),
        mk("cell", n + 8, tag="td", is_table_cell=True, path="html/body/table/tr/td", class_tokens=("x",) * 30),
        mk("caption", n + 9, tag="figcaption", is_caption=True, path="a/b", class_tokens=("", "ÄD", "ad_1", "ads")),
        mk("odd tag", n + 10, tag="custom-élément", path="/", class_tokens=("sidebar-widget", "😀")),
    ]
    return blocks


@compiled
def test_adversarial_blocks_match() -> None:
    blocks = adversarial_blocks()
    assert_same(blocks, "adversarial")
    for i in range(len(blocks)):  # every block alone: first/last position, single-block pages
        assert_same(blocks[i : i + 1], f"block {i}")
    assert_same(blocks[::-1], "reversed")
    assert_same([mk("")], "one empty block")
    assert_same([mk(""), mk(" "), mk("")], "empty and blank blocks")
    # Token-less blocks after the last block with tokens (features._per_block_sums drops that block's last token).
    assert_same([mk("The one two three"), mk(" ")], "trailing blank block")
    assert_same([mk("one"), mk("")], "one token, then an empty block")
    assert_same([mk("a b"), mk(""), mk("C dd eee"), mk(" "), mk("")], "blank blocks between and after")


def _random_text(rng: random.Random, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


@compiled
def test_random_pages_match() -> None:
    rng = random.Random(7)
    alphabet = (
        "aAbBzZ019 -_.,:;!?|/•·»«\"'()[]…\n\t\u00a0éÉßΣσ日本😀\ud800١²ǅ"
        + F._TOKEN_STRIP
        + "".join(chr(rng.randrange(0x80, 0x3000)) for _ in range(30))
    )
    words = sorted(F._STOPWORDS | set(F._RULES_BY_TRIGGER) | F._MONTHS | F._DATE_JOINERS)
    class_pool = ("nav", "post-content", "ad", "x-ad-1", "tag-list", "sidebar")
    for page in range(60):
        blocks = []
        for i in range(rng.randint(1, 40)):
            if rng.random() < 0.5:
                text = _random_text(rng, alphabet)
            else:
                picked = (rng.choice(words) for _ in range(8))
                text = " ".join(w.upper() if rng.random() < 0.2 else w for w in picked)
            source = "text" if page % 3 == 0 else "html"
            classes = tuple(rng.choice(class_pool) for _ in range(3))
            blocks.append(mk(text, i, source=source, class_tokens=classes if rng.random() < 0.7 else ()))
        assert_same(blocks, f"random page {page}")


def _fixture_pages() -> list[tuple[str, object, str]]:
    """(name, page, input kind) of the committed fixtures and the sample dataset."""
    pages: list[tuple[str, object, str]] = []
    for path in sorted(FIXTURES.rglob("*.html")):
        pages.append((path.name, path.read_bytes(), "html"))
    for path in sorted(FIXTURES.rglob("*.txt")):
        pages.append((path.name, path.read_text(encoding="utf-8"), "text"))
    for path in sorted((SAMPLE / "pages").glob("*")):
        raw = path.read_bytes()
        pages.append((path.name, gzip.decompress(raw) if path.suffix == ".gz" else raw, "html"))
    for path in sorted((SAMPLE / "gold").glob("*.txt")):
        pages.append((path.name, path.read_text(encoding="utf-8"), "text"))
    return pages


@compiled
def test_fixture_pages_match() -> None:
    pages = _fixture_pages()
    assert len(pages) >= 20
    for name, page, kind in pages:
        assert_same(segment(page, input=kind).blocks, name)  # type: ignore[arg-type]


@compiled
@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared datasets are not available")
def test_corpus_pages_match() -> None:
    k = 0
    n_html = n_text = 0
    for index in sorted(SHARED.glob("*/index.jsonl")):
        for line in index.read_text(encoding="utf-8").splitlines():
            k += 1
            rec = json.loads(line)
            if k % CORPUS_EVERY == 0:
                with gzip.open(index.parent / rec["html"], "rb") as fh:
                    assert_same(segment(fh.read(), input="html").blocks, rec["html"])
                n_html += 1
            if k % TEXT_EVERY == 0:
                text = (index.parent / rec["gold"]).read_text(encoding="utf-8", errors="replace")
                assert_same(segment(text, input="text").blocks, rec["gold"])
                n_text += 1
    assert n_html >= 1000 and n_text >= 500


@compiled
def test_token_facts_match() -> None:
    kit = F._KIT
    rng = random.Random(3)
    alphabet = [chr(c) for c in range(0x250)] + list(F._TOKEN_STRIP)
    alphabet += list("İẞǅº²١٣१𝟙𝐀😀\ud800\udfffΣﬁⅫ〇_")
    alphabet += [chr(rng.randrange(0x250, 0x110000)) for _ in range(500)]
    tokens = {"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(40_000)}
    for word in F._STOPWORDS | set(F._RULES_BY_TRIGGER) | F._MONTHS | F._DATE_JOINERS:
        tokens.update((word, word.upper(), word.title(), f"({word})", f"{word}.", f"«{word.upper()}»"))
    for number in ("1", "12", "123", "1234", "12345", "1st", "2nd", "3rd", "4th", "1er", "2e", "1º", "1ST", "1ºº"):
        tokens.update((number, f"({number})", f"{number},", "١٢" + number[1:], "²" + number, number + "st"))
    tokens.update(("", "x" * 0x10000, "x" * 0x10001, "-" * 5, "İstanbul", "ΣΑΣ"))
    for token in tokens:
        assert kit.compute_facts(token) == F._compute_token_facts(token), repr(token)


@compiled
def test_family_bits_match() -> None:
    kit = F._KIT
    rng = random.Random(5)
    pieces = ["nav", "menu", "foot", "head", "comment", "related", "share", "side", "bar", "ad", "ads", "advert",
              "cookie", "subscri", "author", "meta", "tag", "tags", "topic", "crumb", "pager", "content", "hidden",
              "-", "_", ":", "1", "٣", "x", "É", "😀", "\ud800", " ", ""]  # fmt: skip
    tokens = {"".join(rng.choice(pieces) for _ in range(rng.randint(1, 4))) for _ in range(30_000)}
    for token in tokens:
        assert kit.family_bits(token) == F._token_family_bits(token), repr(token)
    pool = sorted(tokens)
    for _ in range(2000):
        classes = tuple(rng.sample(pool, rng.randint(0, 10)))
        assert kit.class_bits(classes) == F._class_bits(classes)
    assert kit.class_bits(("nav", 3)) is None  # not a str: the Python code decides


def _regex_scans(texts: list[str]) -> np.ndarray:
    """Blocks with a match of each page scan and of the handle pattern, found as the Python code finds them."""
    doc, starts, _ = F._joined(texts)
    out = np.zeros((len(texts), len(F._PAGE_SCANS) + 1))
    for k, rx in enumerate([*(rx for _, rx in F._PAGE_SCANS), F._HANDLE_RE]):
        pos = [m.start() for m in rx.finditer(doc)]
        if pos:
            out[np.searchsorted(starts, pos, side="right") - 1, k] = 1.0
    return out


@compiled
def test_page_scans_match_regexes() -> None:
    """Kit.page_scans (hand-written matchers) finds the blocks the page-scan regexes find, over random pages built
    from the pieces the patterns care about (Unicode decimals, non-decimal digits, word characters, NULs)."""
    rng = random.Random(11)
    pieces = ["1", "12", "123", "2024", "12345", "١٢", "٣", "²", "-", "/", ".", ":", "://", "www", "w", "www.", "@",
              "[", "]", "…", "...", "©", "a", "Z", "é", "_", "-x", "日", "😀", " ", "\n", "\x00", "\ud800",
              "x@y.com", "@ab", "@a", ".@ab", "_@x", "10:30", "5/6/2024", "06.05.24", "2024-05-06", "[…]", "[...]",
              "http://a"]  # fmt: skip
    patterns = (*(rx.pattern for _, rx in F._PAGE_SCANS), F._HANDLE_RE.pattern)
    columns = tuple(range(len(patterns)))
    n_hits = np.zeros(len(patterns))
    for _ in range(3000):
        texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 6))]
        want = _regex_scans(texts)
        got = np.zeros_like(want)
        F._KIT.page_scans(texts, got, columns)
        assert np.array_equal(got, want), texts
        n_hits += want.sum(axis=0)
    assert (n_hits > 50).all(), n_hits  # every pattern matched often enough to be tested
    # Skipped scans (-1) leave their column alone; other columns of the output are untouched.
    texts = ["© 2024 x@y.com", "10:30"]
    got = np.full((2, 12), 7.0)
    F._KIT.page_scans(texts, got, (*(-1 for _ in patterns[:-1]), 11))
    assert (got[:, :11] == 7.0).all() and got[:, 11].tolist() == [7.0, 7.0]
    got = np.zeros((2, 1))
    F._KIT.page_scans(texts, got, (*(-1 for _ in patterns[:-1]), 0))
    assert got[:, 0].tolist() == [0.0, 0.0]


@compiled
def test_kit_refuses_other_page_scans() -> None:
    with pytest.raises(ValueError, match="page scans"):
        F._CFEATURES.Kit(**{**F._kit_args(), "page_scan_patterns": ("x",)})


# Blocks aimed at the meta-line and leading-label columns (the corpus comparisons cover them too).
META_TEXTS: tuple[str, ...] = (
    "By John Smith",
    "5 min read",
    "5 MIN READ",
    "Lesezeit: 3 Minuten",
    "Reading time: ca. 4",
    "READ MORE: another title",
    "another title",
    "Read also | the full story here",
    "  : tail only",
    "one two three four five six: too many words",
    "Label:",
    "ÉTÉ: été",
    "Home » Baking » Bread",
    "Bread",
    "Follow @kitchen on Instagram",
    "mail me at a@b.co",
    "Posted on",
    "March 3, 2024",
    "by",
    "John",
    "0 views",
    "2 Comentarios",
    "A title line",
    "This is a long content paragraph with enough words to count as content for the page statistics here.",
    "Another title",
    "→ arrow label: x",
    "x" * 50 + ": late separator",
)


@compiled
def test_meta_line_blocks_match() -> None:
    blocks = [mk(text, i) for i, text in enumerate(META_TEXTS)]
    assert_same(blocks, "meta texts")
    assert_same(blocks[::-1], "meta texts reversed")
    rng = random.Random(13)
    for page in range(200):
        picked = [rng.choice(META_TEXTS) for _ in range(rng.randint(1, 15))]
        source = "text" if page % 4 == 0 else "html"
        assert_same([mk(text, i, source=source) for i, text in enumerate(picked)], f"meta page {page}")


@compiled
def test_compiled_path_keeps_no_token_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled token facts are computed afresh for every page: a memo holding wrong facts changes nothing."""
    blocks = adversarial_blocks()
    want = python_matrix(blocks)
    fresh_compiled()
    poisoned = {token: 0 for block in blocks for token in block.text.split()}
    monkeypatch.setattr(F, "_TOKEN_FACTS", poisoned)  # restored afterwards: the Python fallback reads it
    got = F.featurize(blocks)
    assert F._TOKEN_FACTS is poisoned and not any(poisoned.values())
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


class _Duck:
    """Not a Block, but has its attributes: the Python code reads it, the compiled collect declines it."""

    def __init__(self, block: Block) -> None:
        for name in Block._fields:
            setattr(self, name, getattr(block, name))


@compiled
def test_non_block_input_falls_back() -> None:
    blocks = adversarial_blocks()[:12]
    assert F._KIT.collect(blocks) is not None
    for odd in (
        [*blocks[:-1], _Duck(blocks[-1])],
        [*blocks[:-1], blocks[-1]._replace(n_chars=np.int64(5))],
        [*blocks[:-1], blocks[-1]._replace(n_chars=2**70)],
        [*blocks[:-1], blocks[-1]._replace(tag=None)],
    ):
        assert F._KIT.collect(odd) is None
    want = python_matrix(blocks)
    got = F.featurize([*blocks[:-1], _Duck(blocks[-1])])
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


@compiled
def test_stack_declines_other_dtypes() -> None:
    cols = [np.arange(3, dtype=np.float64), np.array([np.nan, -0.0, 1e300])]
    out = F._KIT.stack(cols, 3)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, in numpy's cast as in C's
        want = np.column_stack(cols).astype(np.float32)
    assert np.array_equal(out.view(np.uint32), want.view(np.uint32))
    assert F._KIT.stack([np.arange(3)], 3) is None  # int64
    assert F._KIT.stack([np.zeros(4)], 3) is None  # wrong length
    assert F._KIT.stack([[0.0, 1.0, 2.0]], 3) is None  # not a buffer


def test_pure_python_subprocess_matches_this_process(tmp_path: Path) -> None:
    """BPDETECT_PURE_PYTHON=1 turns the compiled steps off; its matrices equal this process's ones."""
    pages = [(name, page, kind) for name, page, kind in _fixture_pages() if kind == "html"][:4]
    script = (
        "import pickle, sys\n"
        "import numpy as np\n"
        "from bpdetect import features as F\n"
        "from bpdetect.segment import segment\n"
        "assert F._KIT is None\n"
        "pages = pickle.load(open(sys.argv[1], 'rb'))\n"
        "np.savez(sys.argv[2], *[F.featurize(segment(p, input=k).blocks) for _, p, k in pages])\n"
    )
    src = tmp_path / "pages.pkl"
    src.write_bytes(pickle.dumps(pages))
    out = tmp_path / "out.npz"
    env = {**os.environ, "BPDETECT_PURE_PYTHON": "1"}
    subprocess.run([sys.executable, "-c", script, str(src), str(out)], check=True, env=env, cwd=ROOT)
    with np.load(out) as saved:
        for j, (name, page, kind) in enumerate(pages):
            got = F.featurize(segment(page, input=kind).blocks)  # type: ignore[arg-type]
            want = saved[f"arr_{j}"]
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name


def test_python_path_runs_without_kit() -> None:
    blocks = adversarial_blocks()
    out = python_matrix(blocks)
    assert out.shape == (len(blocks), len(F.FEATURE_NAMES))
    assert np.isfinite(out).all()
