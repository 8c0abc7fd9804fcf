"""Tests for bpdetect.features, on hand-built blocks (no HTML parsing)."""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bpdetect import features as F
from bpdetect.features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, NEIGHBOUR_PAD, featurize
from bpdetect.records import SEM_ARTICLE, SEM_LIST, SEM_NAV, Block

_COL = {name: j for j, name in enumerate(FEATURE_NAMES)}
_NEIGHBOUR = ("_prev1", "_prev2", "_next1", "_next2")
_SENT_END_RE = re.compile(r"[.!?…。！？]+(?=\s|$)")


def mk(text: str, index: int = 0, **kw: object) -> Block:
    """A block with the counts a segmenter would fill in, computed from its text."""
    fields: dict[str, object] = {
        "text": text,
        "index": index,
        "tag": "p",
        "path": "html/body/div/p",
        "depth": 3,
        "n_chars": len(text),
        "n_words": len(text.split()),
        "n_sentences": len(_SENT_END_RE.findall(text)) + (bool(text) and text[-1] not in ".!?…。！？"),
        "n_punct": len(re.findall(r"[^\w\s]", text)),
        "n_digits": sum(c.isdigit() for c in text),
        "n_upper": sum(c.isupper() for c in text),
    }
    fields.update(kw)
    return Block(**fields)  # type: ignore[arg-type]


def mk_line(text: str, index: int = 0, **kw: object) -> Block:
    """A plain-text line block, as segment_text would build it."""
    kw = {"tag": "line", "path": "", "depth": 0, "source": "text", **kw}
    return mk(text, index, **kw)


def doc(*texts: str, **kw: object) -> list[Block]:
    """Blocks for several texts, in order."""
    return [mk(t, i, **kw) for i, t in enumerate(texts)]


def col(x: np.ndarray, name: str) -> np.ndarray:
    """One named column of a feature matrix."""
    return x[:, _COL[name]]


def one(text: str, name: str, **kw: object) -> float:
    """A feature of a single block, featurized alone."""
    return float(col(featurize([mk(text, **kw)]), name)[0])


# --- schema -----------------------------------------------------------------------------------------------------------


def test_names_unique_and_count_matches() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert all(isinstance(n, str) and n and n == n.strip() for n in FEATURE_NAMES)
    assert isinstance(FEATURE_SCHEMA_VERSION, int)
    x = featurize(doc("Hello world.", "Another block of text here."))
    assert x.shape == (2, len(FEATURE_NAMES))


def test_pattern_columns_all_produced() -> None:
    names = {r.name for r in F._RULES} | {name for name, _ in F._PAGE_SCANS} | {"pat_date"}
    assert names == {n for n in FEATURE_NAMES if n.startswith("pat_")}


def test_rule_triggers_are_normalized_tokens() -> None:
    # Triggers are looked up after stripping punctuation and lowercasing, so they must already be in that form.
    for rule in F._RULES:
        for word in rule.triggers.split():
            assert word == word.strip(F._TOKEN_STRIP).lower(), (rule.name, word)


def test_shape_and_dtype() -> None:
    x = featurize(doc("a", "b c", "d e f"))
    assert x.dtype == np.float32
    assert x.shape == (3, len(FEATURE_NAMES))
    assert x.flags.c_contiguous


def test_empty_input() -> None:
    x = featurize([])
    assert x.shape == (0, len(FEATURE_NAMES))
    assert x.dtype == np.float32


def test_accepts_tuple_and_list() -> None:
    blocks = doc("One.", "Two.")
    assert np.array_equal(featurize(blocks), featurize(tuple(blocks)))


# --- determinism and robustness -----------------------------------------------------------------------------------


def _mixed_blocks(n: int) -> list[Block]:
    texts = [
        "",
        "Home",
        "By Jane Doe",
        "Posted on May 5, 2023 at 10:30",
        "The quick brown fox jumps over the lazy dog, and then it runs away.",
        "© 2024 Example Inc. All rights reserved.",
        "1,234 views · 12 comments",
        "Read more »",
        "Der schnelle braune Fuchs springt über den faulen Hund, und dann ist er weg.",
        "日本語のテキストです。",
        "x" * 5000,
    ]
    out = []
    for i in range(n):
        t = texts[i % len(texts)]
        out.append(
            mk(
                t,
                i,
                n_link_chars=len(t) // (1 + i % 3),
                n_links=i % 4,
                class_tokens=("nav", "menu-item", "post-content")[: i % 4],
                semantic=(SEM_NAV if i % 5 == 0 else 0) | (SEM_ARTICLE if i % 7 == 0 else 0),
                heading=i % 7 if i % 7 <= 6 else 0,
                is_list_item=i % 2 == 0,
                depth=i % 30,
                path=f"html/body/div{i % 9}/p",
            )
        )
    return out


def test_deterministic_and_memo_independent() -> None:
    blocks = _mixed_blocks(300)
    first = featurize(blocks)
    second = featurize(blocks)
    assert np.array_equal(first, second)
    # Clearing the memos must not change any value.
    F._TOKEN_FACTS.clear()
    F._class_bits.cache_clear()
    F._token_family_bits.cache_clear()
    assert np.array_equal(featurize(blocks), first)


def test_token_memo_rollover_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _mixed_blocks(200)
    expected = featurize(blocks)
    # A tiny memo forces a fresh memo on nearly every call; results must not change, also across threads.
    monkeypatch.setattr(F, "_TOKEN_FACTS_MAX", 5)
    assert np.array_equal(featurize(blocks), expected)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(featurize, [blocks] * 16))
    assert all(np.array_equal(r, expected) for r in results)


def test_rows_depend_only_on_list_order_not_index_field() -> None:
    blocks = doc("Alpha beta.", "Gamma delta epsilon.", "Zeta.")
    renumbered = [mk(b.text, 100 - i) for i, b in enumerate(blocks)]
    assert np.array_equal(featurize(blocks), featurize(renumbered))


@pytest.mark.parametrize(
    "blocks",
    [
        [mk("")],
        [mk("", n_chars=0, n_words=0, n_lines=0)],
        [mk("   ")],
        [mk("Single block.")],
        [mk("", i) for i in range(5)],
        [mk_line("")],
        [mk("!!!", n_link_chars=999)],  # inconsistent counts from a buggy segmenter
        [mk("a", depth=0, heading=9, indent=-3)],
        [mk("abc", n_chars=-5, n_words=-1, n_link_chars=-2, depth=-1)],
        [mk("\ud800 lone surrogate")],
        [mk("emoji 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢")],
        [mk("text " * 20000)],
    ],
)
def test_finite_on_edge_cases(blocks: list[Block]) -> None:
    x = featurize(blocks)
    assert x.shape == (len(blocks), len(FEATURE_NAMES))
    assert np.isfinite(x).all()


def test_finite_on_10000_blocks() -> None:
    x = featurize(_mixed_blocks(10_000))
    assert x.shape == (10_000, len(FEATURE_NAMES))
    assert np.isfinite(x).all()


def test_ratio_features_in_unit_interval() -> None:
    x = featurize(_mixed_blocks(500))
    for name in FEATURE_NAMES:
        if name.endswith(_NEIGHBOUR):
            continue  # neighbour columns carry NEIGHBOUR_PAD at the edges
        if name.endswith(("_ratio", "_share", "_density")) or name.startswith(("pat_", "cls_", "sem_", "tag_", "is_")):
            values = col(x, name)
            assert values.min() >= 0.0 and values.max() <= 1.0, name


# --- block's own features -----------------------------------------------------------------------------------------


def test_length_features() -> None:
    x = featurize([mk("Hello world. Bye.")])
    assert col(x, "n_chars")[0] == 17
    assert col(x, "n_words")[0] == 3
    assert col(x, "log_chars")[0] == pytest.approx(math.log1p(17))
    assert col(x, "n_sentences")[0] == 2
    assert col(x, "ends_sentence_punct")[0] == 1
    assert col(x, "starts_upper")[0] == 1


def test_link_density() -> None:
    x = featurize([mk("a" * 100, n_link_chars=25, n_links=1), mk("b" * 40, n_link_chars=40, n_links=2), mk("")])
    assert col(x, "link_density").tolist() == pytest.approx([0.25, 1.0, 0.0])
    assert col(x, "is_link_only").tolist() == [0.0, 1.0, 0.0]
    assert col(x, "n_links").tolist() == [1.0, 2.0, 0.0]


def test_style_features() -> None:
    assert one("Categories:", "ends_colon") == 1
    assert one("MENU", "is_all_caps") == 1
    assert one("Menu", "is_all_caps") == 0
    assert one("• Home", "starts_bullet_char") == 1
    assert one("Home | About | Contact", "sep_chars_per_word") == pytest.approx(2 / 5)
    assert one("One, two, three.", "commas_per_word") == pytest.approx(2 / 3)
    assert one("The Quick Brown fox", "title_case_share") == pytest.approx(3 / 4)
    assert one("\u201cQuoted sentence.\u201d", "ends_sentence_punct") == 1
    assert one("(see below.)", "ends_sentence_punct") == 1
    assert one("Title: ", "ends_colon") == 1
    assert one("  Leading spaces", "starts_upper") == 1
    assert one("lower case", "starts_upper") == 0
    assert one("Élan", "starts_upper") == 1
    assert one("x", "ends_colon") == 0 and one(":", "ends_colon") == 1


def test_token_shares() -> None:
    assert one("the cat and a dog", "short_token_share") == pytest.approx(1.0)
    assert one("2023 report 42", "digit_token_share") == pytest.approx(2 / 3)
    assert one("abc defgh", "mean_word_len") == pytest.approx(4.0)


def test_stopwords_multilingual() -> None:
    german = "Der Hund ist mit dem Ball in den Garten gelaufen, und das war nicht gut."
    spanish = "El perro corre por la calle con una pelota y no para de jugar."
    keywords = "Kubernetes Terraform Ansible Jenkins Docker"
    assert one(german, "stopword_share") > 0.4
    assert one(spanish, "stopword_share") > 0.4
    assert one(keywords, "stopword_share") == 0


def test_page_frequent_tokens() -> None:
    # "zork" occurs 3 times on the page: frequent there even though no stopword list knows it.
    x = featurize(doc("zork blip", "zork", "zork quux"))
    assert col(x, "doc_frequent_token_share").tolist() == pytest.approx([0.5, 1.0, 0.5])
    assert col(x, "doc_top_token_share").tolist() == pytest.approx([0.5, 1.0, 0.5])


# --- text patterns ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("Posted on May 5, 2023", "pat_date", 1),
        ("2023-05-06", "pat_date", 1),
        ("06/05/2023", "pat_date", 1),
        ("12. März 2020", "pat_date", 1),
        ("12 de marzo de 2020", "pat_date", 1),
        ("le 3 janvier", "pat_date", 1),
        ("You may be right about that.", "pat_date", 0),
        ("Version 1.2 released", "pat_date", 0),
        ("at 10:30", "pat_time", 1),
        ("5 pm", "pat_time", 1),
        ("ratio 1:2", "pat_time", 0),
        ("3 hours ago", "pat_relative_time", 1),
        ("vor 3 Stunden", "pat_relative_time", 1),
        ("hace 2 días", "pat_relative_time", 1),
        ("1,234 views", "pat_counts", 1),
        ("12 Comments", "pat_counts", 1),
        ("3 Kommentare", "pat_counts", 1),
        ("Views on the economy differ.", "pat_counts", 0),
        ("Read more »", "pat_read_more", 1),
        ("Continue reading", "pat_read_more", 1),
        ("Weiterlesen", "pat_read_more", 1),
        ("Lire la suite", "pat_read_more", 1),
        ("Leer más", "pat_read_more", 1),
        ("The excerpt ends here [...]", "pat_read_more", 1),
        ("I want more time with my family.", "pat_read_more", 0),
        ("© 2024 Example", "pat_copyright", 1),
        ("(c) 2024 Example", "pat_copyright", 1),
        ("All rights reserved.", "pat_copyright", 1),
        ("Tous droits réservés", "pat_copyright", 1),
        ("Leave a Reply", "pat_reply", 1),
        ("Your email address will not be published.", "pat_reply", 1),
        ("He did not reply.", "pat_reply", 0),
        ("Related Posts", "pat_related", 1),
        ("Articoli correlati", "pat_related", 1),
        ("You Missed", "pat_you_missed", 1),
        ("You may also like", "pat_you_missed", 1),
        ("Most popular", "pat_you_missed", 1),
        ("I like it.", "pat_you_missed", 0),
        ("Source link", "pat_source", 1),
        ("Quelle: dpa", "pat_source", 1),
        ("By John Smith", "pat_byline", 1),
        ("Von Anna Müller", "pat_byline", 1),
        ("Author: J. Doe", "pat_byline", 1),
        ("Standing by the door, she waited.", "pat_byline", 0),
        ("by the way", "pat_byline", 0),
        ("Share on Facebook", "pat_share", 1),
        ("Tweet", "pat_share", 1),
        ("We use cookies to improve your experience.", "pat_cookie", 1),
        ("Datenschutzerklärung", "pat_cookie", 1),
        ("Sign in", "pat_subscribe_login", 1),
        ("Subscribe to our newsletter", "pat_subscribe_login", 1),
        ("Next page", "pat_pagination", 1),
        ("Page 2 of 10", "pat_pagination", 1),
        ("Older posts", "pat_pagination", 1),
        ("See https://example.com/x", "pat_url", 1),
        ("visit www.example.com", "pat_url", 1),
        ("mail me at jane@example.org", "pat_email", 1),
        ("just a plain sentence", "pat_email", 0),
    ],
)
def test_text_patterns(text: str, name: str, expected: int) -> None:
    assert one(text, name) == expected


def test_patterns_are_per_block() -> None:
    x = featurize(doc("Nothing here", "1,234 views", "Nothing here either", "May 5, 2023"))
    assert col(x, "pat_counts").tolist() == [0, 1, 0, 0]
    assert col(x, "pat_date").tolist() == [0, 0, 0, 1]


def test_month_and_number_in_different_blocks_is_no_date() -> None:
    x = featurize(doc("It happened in May", "5 people came"))
    assert col(x, "pat_date").tolist() == [0, 0]


# --- position, neighbours and page-relative features ----------------------------------------------------------------


def test_position_features() -> None:
    x = featurize(doc("aaaa", "bbbbbb", "cc", "dddddddd"))
    assert col(x, "rel_position").tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert col(x, "rel_char_offset").tolist() == pytest.approx([0.0, 0.2, 0.5, 0.6])
    assert col(x, "doc_log_blocks").tolist() == pytest.approx([math.log1p(4)] * 4)


def test_neighbours_at_document_edges() -> None:
    blocks = doc("a" * 9, "b" * 99, "c" * 999)
    x = featurize(blocks)
    logs = [math.log1p(9), math.log1p(99), math.log1p(999)]
    pad = NEIGHBOUR_PAD
    assert col(x, "log_chars_prev1").tolist() == pytest.approx([pad, logs[0], logs[1]])
    assert col(x, "log_chars_next1").tolist() == pytest.approx([logs[1], logs[2], pad])
    assert col(x, "log_chars_prev2").tolist() == pytest.approx([pad, pad, logs[0]])
    assert col(x, "log_chars_next2").tolist() == pytest.approx([logs[2], pad, pad])
    single = featurize([mk("alone")])
    for name in FEATURE_NAMES:
        if name.endswith(_NEIGHBOUR):
            assert col(single, name)[0] == pad, name


def test_neighbour_keys_follow_their_columns() -> None:
    x = featurize([mk("Title", heading=2), mk("Body text here.", n_link_chars=5), mk("Item", is_list_item=True)])
    assert col(x, "is_heading_prev1").tolist() == [NEIGHBOUR_PAD, 1, 0]
    assert col(x, "link_density_next1")[0] == pytest.approx(5 / 15)
    assert col(x, "is_list_item_next2")[0] == 1


def test_window_means() -> None:
    x = featurize(doc("a", "b", "c"))
    assert col(x, "win_mean_log_chars").tolist() == pytest.approx([math.log1p(1)] * 3)


def test_repeated_text() -> None:
    x = featurize(doc("Teaser title", "Body paragraph.", "Teaser title", "", ""))
    assert col(x, "text_repeat_count").tolist() == [1, 0, 1, 0, 0]


def test_same_tag_and_path_runs() -> None:
    blocks = [mk("a", 0, tag="li"), mk("b", 1, tag="li"), mk("c", 2, tag="li", path="x/y"), mk("d", 3, tag="p")]
    x = featurize(blocks)
    assert col(x, "same_tag_run_len").tolist() == [3, 3, 3, 1]
    assert col(x, "same_path_run_len").tolist() == [2, 2, 1, 1]


def test_document_relative_sizes_and_dense_region() -> None:
    texts = ["Home", "About", "word " * 100, "word " * 120, "word " * 80, "Footer"]
    x = featurize(doc(*[t.strip() for t in texts]))
    chars = np.array([len(t.strip()) for t in texts], dtype=float)
    assert col(x, "chars_rel_max").tolist() == pytest.approx((chars / chars.max()).tolist())
    dist = col(x, "dense_dist_blocks")
    assert dist.argmin() in (2, 3)
    assert col(x, "contentish_before")[0] == 0 and col(x, "contentish_after")[-1] == 0
    assert col(x, "contentish_before")[-1] == pytest.approx(1.0)


# --- DOM, class/id tokens and semantic flags ------------------------------------------------------------------------


def test_tag_one_hot_and_semantic_flags() -> None:
    tags = ["p", "div", "li", "td", "h2", "pre", "blockquote", "figcaption", "dd", "section", "form", "span"]
    x = featurize([mk("t", i, tag=tag) for i, tag in enumerate(tags)])
    tag_cols = [n for n in FEATURE_NAMES if n.startswith("tag_")]
    assert (x[:, [_COL[n] for n in tag_cols]].sum(axis=1) == 1).all()
    assert col(x, "tag_td")[3] == 1 and col(x, "tag_heading")[4] == 1 and col(x, "tag_other")[10] == 1
    y = featurize([mk("t", semantic=SEM_NAV | SEM_LIST)])
    assert col(y, "sem_nav")[0] == 1 and col(y, "sem_list")[0] == 1 and col(y, "sem_article")[0] == 0


def test_depth_relative_to_content() -> None:
    body = "This paragraph has more than ten words so it counts as content for sure."
    x = featurize([mk(body, 0, depth=8), mk(body, 1, depth=8), mk("Home", 2, depth=4)])
    assert col(x, "depth_minus_content_median").tolist() == [0, 0, -4]
    assert col(x, "depth_rel_max").tolist() == pytest.approx([1, 1, 0.5])


def test_class_families_near_and_any() -> None:
    deep = ("x1", "x2", "x3", "x4", "x5", "site-footer")
    x = featurize(
        [
            mk("a", 0, class_tokens=("main-nav",)),
            mk("b", 1, class_tokens=deep),
            mk("c", 2, class_tokens=("header",)),
            mk("d", 3, class_tokens=("ad-slot",)),
            mk("e", 4, class_tokens=("entry-content",)),
        ]
    )
    assert col(x, "cls_near_nav").tolist() == [1, 0, 0, 0, 0]
    assert col(x, "cls_any_footer").tolist() == [0, 1, 0, 0, 0]
    assert col(x, "cls_near_footer").tolist() == [0, 0, 0, 0, 0]
    assert col(x, "cls_any_header")[2] == 1
    assert col(x, "cls_any_ad").tolist() == [0, 0, 0, 1, 0]  # "header" and "main-nav" must not match "ad"
    assert col(x, "cls_near_content")[4] == 1
    assert col(x, "n_class_tokens")[1] == len(deep)


def test_path_chars_share() -> None:
    blocks = [mk("x" * 30, 0, path="a/p"), mk("y" * 60, 1, path="a/p"), mk("z" * 10, 2, path="b/div")]
    x = featurize(blocks)
    assert col(x, "path_chars_share").tolist() == pytest.approx([0.9, 0.9, 0.1])
    assert col(x, "parent_chars_share").tolist() == pytest.approx([0.9, 0.9, 0.1])


# --- plain-text input -----------------------------------------------------------------------------------------------


def test_text_input_zeroes_dom_features() -> None:
    blocks = [
        mk_line("Main Title", 0),
        mk_line("First item of a list", 1, bullet="-", is_list_item=True, indent=2, blank_before=True),
        mk_line("A normal sentence of body text that goes on.", 2),
    ]
    x = featurize(blocks)
    assert col(x, "is_text_input").tolist() == [1, 1, 1]
    dom_like = [n for n in FEATURE_NAMES if n.startswith(("tag_", "sem_", "cls_")) and not n.endswith(_NEIGHBOUR)]
    dom_like += ["depth", "depth_minus_content_median", "depth_rel_max", "path_chars_share", "same_path_run_len"]
    assert not x[:, [_COL[n] for n in dom_like]].any()
    assert col(x, "has_bullet").tolist() == [0, 1, 0]
    assert col(x, "indent").tolist() == [0, 2, 0]
    assert col(x, "blank_before").tolist() == [0, 1, 0]
    assert col(x, "blank_after").tolist() == [1, 0, 1]  # the end of the text counts as blank
    assert col(x, "title_like_line").tolist() == [1, 1, 0]


def test_html_input_zeroes_plain_text_features() -> None:
    x = featurize([mk("Title", 0, indent=4, bullet="-", blank_before=True), mk("Body.", 1)])
    for name in ("indent", "has_bullet", "blank_before", "blank_after", "title_like_line", "is_text_input"):
        assert not col(x, name).any(), name


def test_features_only_read_block_fields() -> None:
    # The block list is the only input: the same blocks give the same rows whatever came before.
    blocks = doc("Some text here.", "More text.")
    before = featurize(blocks)
    featurize(_mixed_blocks(50))
    assert np.array_equal(featurize(blocks), before)


def _batch_pages() -> list[list[Block]]:
    """Pages of every shape a batch may mix: HTML sample pages, scraper dumps, tiny and token-less pages."""
    from pathlib import Path

    from bpdetect.segment import segment

    root = Path(__file__).resolve().parent.parent
    pages = [list(segment(p.read_bytes()).blocks) for p in sorted((root / "datasets" / "sample" / "pages").iterdir())]
    dumps = sorted((root / "tests" / "fixtures" / "dumps").glob("*.txt"))[:6]
    pages += [list(segment(p.read_bytes(), input="text").blocks) for p in dumps]
    pages += [
        doc("Only one block here."),
        [mk("a" * 100, n_link_chars=25, n_links=1), mk(""), mk("   ")],  # blocks without tokens, at the page's end
        [mk(""), mk("Hello world. Bye.")],
        _mixed_blocks(40),
        [mk_line("By John"), mk_line("May 5, 2023"), mk_line("A line of text that ends the page.")],
    ]
    return pages


@pytest.mark.parametrize("compiled", [True, False])
def test_featurize_many_equals_each_page_alone(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not compiled:
        monkeypatch.setattr(F, "_KIT", None)
    pages = _batch_pages()
    alone = [featurize(p) for p in pages]
    # The whole list, every page twice in another order, and batches with empty pages in them.
    assert np.array_equal(F.featurize_many(pages), np.vstack(alone))
    order = [*range(len(pages))[::-1], *range(len(pages))]
    assert np.array_equal(F.featurize_many([pages[i] for i in order]), np.vstack([alone[i] for i in order]))
    assert np.array_equal(F.featurize_many([[], pages[0], [], pages[-2], []]), np.vstack([alone[0], alone[-2]]))
    assert F.featurize_many([[], []]).shape == (0, len(FEATURE_NAMES))


def test_boundary_markers_and_nearby_prose() -> None:
    prose = "This is a long enough sentence of the article body with more than ten words in it."
    lines = ["Menu", prose, prose, "Pros", "Quiet", "Light", "Source link", "Teaser one", "Related Posts", "Teaser two"]
    x = featurize([mk_line(t, i) for i, t in enumerate(lines)])
    assert col(x, "markers_before").tolist() == pytest.approx(np.log1p([0, 0, 0, 0, 0, 0, 0, 1, 1, 2]).tolist())
    # distance to the previous marker (the page's start counts as one at -1) and to the next (the end at len(lines))
    assert col(x, "marker_prev_dist").tolist() == pytest.approx(np.log1p([1, 2, 3, 4, 5, 6, 7, 1, 2, 1]).tolist())
    assert col(x, "marker_next_dist").tolist() == pytest.approx(np.log1p([6, 5, 4, 3, 2, 1, 2, 1, 2, 1]).tolist())
    w = F.STRUCTURE_WINDOW
    assert col(x, "prose_before_share")[3] == pytest.approx(2 / w)  # the two paragraphs above "Pros"
    assert col(x, "prose_after_share")[0] == pytest.approx(2 / w)
    assert col(x, "prose_after_share")[3] == 0.0
    # a long line that mentions related posts is prose, not a marker
    long_line = "Related posts on this blog cover the same topic in more depth, with photos and a shopping list."
    y = featurize([mk_line(long_line, 0), mk_line("Teaser", 1)])
    assert col(y, "markers_before")[1] == 0.0
