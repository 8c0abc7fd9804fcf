"""Tests for training.align: tokenization, monotone token alignment, block overlaps and token P/R/F1."""

from __future__ import annotations

import random
import time
from difflib import SequenceMatcher

import numpy as np
import pytest

from training.align import (
    align_blocks,
    block_overlap,
    label_blocks,
    match_tokens,
    token_prf,
    tokenize,
)

# --- tokenize ---------------------------------------------------------------------------------------------------------


def test_tokenize_lowercases_and_splits_on_punctuation() -> None:
    assert tokenize("Hello, World! It's 1,000.") == ["hello", "world", "it", "s", "1", "000"]


def test_tokenize_l3s_question_marks_match_the_original_punctuation() -> None:
    # l3s-gn1's annotator wrote "?" for non-ASCII punctuation: both spellings must give the same tokens.
    assert tokenize("Kosovo?s future ?The") == tokenize("Kosovo’s future —The") == ["kosovo", "s", "future", "the"]


def test_tokenize_unicode() -> None:
    assert tokenize("Rücker Straße ÉTÉ") == ["rücker", "strasse", "été"]
    assert tokenize("ﬁne") == ["fine"]  # NFKC folds the ligature
    assert tokenize("snake_case") == ["snake", "case"]
    assert tokenize("北京欢迎你 ok") == ["北", "京", "欢", "迎", "你", "ok"]
    assert tokenize("") == []
    assert tokenize(" — | » ") == []


# --- match_tokens -----------------------------------------------------------------------------------------------------


def _check_valid(a: list[int], b: list[int], blocks: list[tuple[int, int, int]]) -> None:
    last_i = last_j = 0
    for i, j, size in blocks:
        assert size > 0
        assert i >= last_i and j >= last_j, "matches must be monotone and must not overlap"
        assert a[i : i + size] == b[j : j + size]
        last_i, last_j = i + size, j + size


def _sm_total(a: list[int], b: list[int]) -> int:
    return sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())


@pytest.mark.parametrize("seed", range(5))
def test_match_tokens_small_is_valid_and_as_good_as_sequence_matcher(seed: int) -> None:
    rng = random.Random(seed)
    a = [rng.randrange(8) for _ in range(rng.randrange(1, 60))]
    b = [rng.randrange(8) for _ in range(rng.randrange(1, 60))]
    blocks = match_tokens(a, b)
    _check_valid(a, b, blocks)
    # Small inputs go to SequenceMatcher after the common prefix/suffix are taken, which can only add matches.
    assert sum(s for _, _, s in blocks) >= _sm_total(a, b)


@pytest.mark.parametrize("seed", range(3))
def test_match_tokens_large_is_valid_and_close_to_sequence_matcher(seed: int) -> None:
    # A page = boilerplate + gold with small edits + boilerplate, large enough to take the anchored path.
    rng = random.Random(seed)
    vocab = 400
    gold = [rng.randrange(vocab) for _ in range(1500)]
    body = [t if rng.random() > 0.05 else rng.randrange(vocab) for t in gold]
    page = [rng.randrange(vocab) for _ in range(700)] + body + [rng.randrange(vocab) for _ in range(500)]
    blocks = match_tokens(page, gold)
    _check_valid(page, gold, blocks)
    ours, ref = sum(s for _, _, s in blocks), _sm_total(page, gold)
    assert ours >= 0.97 * ref


def test_match_tokens_empty_and_degenerate() -> None:
    assert match_tokens([], [1, 2]) == []
    assert match_tokens([1, 2], []) == []
    assert match_tokens([1], [2]) == []
    assert sum(s for _, _, s in match_tokens([7] * 5000, [7] * 3000)) == 3000


def test_match_tokens_is_fast_on_long_pages() -> None:
    rng = random.Random(0)
    gold = [rng.randrange(5000) for _ in range(40_000)]
    page = [rng.randrange(5000) for _ in range(5000)] + gold + [rng.randrange(5000) for _ in range(5000)]
    t0 = time.perf_counter()
    total = sum(s for _, _, s in match_tokens(page, gold))
    assert time.perf_counter() - t0 < 5.0  # plain SequenceMatcher needs tens of seconds here
    assert total >= 0.99 * len(gold)


def test_match_tokens_without_unique_anchors_terminates() -> None:
    # No token is unique: the aligner must fall back to SequenceMatcher without recursing for ever.
    a = [0, 1] * 1500
    b = [1, 0] * 1200
    blocks = match_tokens(a, b)
    _check_valid(a, b, blocks)
    assert sum(s for _, _, s in blocks) >= 2300


# --- block_overlap / align_blocks -------------------------------------------------------------------------------------


def test_block_overlap_marks_content_and_not_navigation() -> None:
    blocks = ["Home | News | Sport", "Kosovo’s future status", "was discussed today by the council.", "Share this"]
    gold = ["No agreement on Kosovo?s future status", "was discussed today by the council"]
    ov = block_overlap(blocks, gold)
    assert ov.dtype == np.float64
    np.testing.assert_allclose(ov, [0.0, 1.0, 1.0, 0.0])
    assert label_blocks(ov).tolist() == [False, True, True, False]


def test_block_overlap_is_an_alignment_not_a_substring_search() -> None:
    # "news" occurs in the gold, but the nav block sits before the gold's start and cannot align in order.
    blocks = ["News", "The quick brown fox jumps over the lazy dog.", "More news"]
    gold = ["The quick brown fox jumps over the lazy dog."]
    np.testing.assert_allclose(block_overlap(blocks, gold), [0.0, 1.0, 0.0])
    # A teaser repeated before the article body: only one copy aligns, the later full paragraph wins.
    blocks = ["Fox jumps over dog", "Intro.", "Fox jumps over dog, and runs away quickly."]
    gold = ["Intro. Fox jumps over dog, and runs away quickly."]
    assert block_overlap(blocks, gold).tolist() == [0.0, 1.0, 1.0]


def test_block_overlap_partial_and_edge_cases() -> None:
    ov = block_overlap(["one two three four", "", "—"], "one two")
    np.testing.assert_allclose(ov, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(block_overlap(["a b", "c"], []), [0.0, 0.0])
    assert block_overlap([], ["anything"]).shape == (0,)


def test_align_blocks_counts_and_gold_recall() -> None:
    al = align_blocks(["menu", "alpha beta gamma", "delta junk junk junk"], ["alpha beta gamma delta"])
    assert al.n_tokens.tolist() == [1, 3, 4]
    assert al.n_matched.tolist() == [0, 3, 1]
    assert al.n_gold_tokens == 4
    assert al.gold_recall(0.5) == pytest.approx(0.75)  # "delta" sits in a block that is mostly junk
    assert al.gold_recall(0.2) == pytest.approx(1.0)
    assert align_blocks(["x"], []).gold_recall() == 1.0


def test_label_blocks_threshold_is_inclusive() -> None:
    assert label_blocks(np.array([0.0, 0.49, 0.5, 1.0])).tolist() == [False, False, True, True]
    assert label_blocks(np.array([0.6, 0.8]), threshold=0.7).tolist() == [False, True]


# --- token_prf --------------------------------------------------------------------------------------------------------


def test_token_prf_bag_of_tokens() -> None:
    p, r, f = token_prf("the cat sat", "The cat sat on the mat")
    assert (p, r) == (1.0, 0.5)
    assert f == pytest.approx(2 / 3)
    # Multiset: a repeated token counts only as often as the gold has it; order does not matter.
    p, r, _ = token_prf("the the the", "the cat")
    assert (p, r) == (pytest.approx(1 / 3), 0.5)
    assert token_prf("mat the on", "on the mat") == (1.0, 1.0, 1.0)


def test_token_prf_edge_cases() -> None:
    assert token_prf("", "") == (1.0, 1.0, 1.0)
    assert token_prf(" -- ", "") == (1.0, 1.0, 1.0)  # no tokens on either side
    assert token_prf("", "gold text") == (0.0, 0.0, 0.0)
    assert token_prf("junk", "") == (0.0, 0.0, 0.0)
    assert token_prf("abc", "xyz") == (0.0, 0.0, 0.0)
