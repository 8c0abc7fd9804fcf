"""Detector and extraction on small hand-written pages, with a tiny model trained on the bundled sample."""

from __future__ import annotations

import threading

import numpy as np
from _models import SAMPLE, tiny_bundle

from bpdetect.extract import Detector, assemble_text
from bpdetect.records import Block, ScoredBlock

PAGE = b"""<html><head><title>Harbour news</title></head><body>
<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<article><h1>The footbridge reopens</h1>
<p>The harbour footbridge reopened on Monday after eight months of repairs, and hundreds of residents walked
across it in the first hour, many of them stopping to look at the new lights along the railings.</p>
<p>Engineers replaced the corroded steel deck and added a wider ramp at the southern end, which the council
says will make the crossing easier for people with prams and wheelchairs.</p></article>
<footer class="site-footer"><p>Copyright 2024 Harbour Times. All rights reserved.</p></footer>
</body></html>"""


def _detector(rules: bool = False) -> Detector:
    # The model's decisions alone (the boilerplate rules after the model are tested in test_boilerplate.py).
    return Detector(html_model=tiny_bundle("html"), text_model=tiny_bundle("text"), boilerplate_rules=rules)


def test_extract_returns_scored_blocks_aligned_with_segmentation():
    det = _detector()
    ext = det.extract(PAGE)
    assert ext.title == "Harbour news"
    assert ext.source == "html"
    assert len(ext.blocks) == len(det.segment(PAGE).blocks)
    assert all(0.0 <= sb.score <= 1.0 for sb in ext.blocks)
    assert all(sb.is_content == (sb.score >= ext.threshold) for sb in ext.blocks)
    kept = {sb.block.text for sb in ext.content_blocks}
    assert ext.text == assemble_text(ext.blocks)
    assert all(t in ext.text for t in kept)


def test_threshold_zero_keeps_everything_and_one_keeps_almost_nothing():
    det = _detector()
    everything = det.extract(PAGE, threshold=0.0)
    assert all(sb.is_content for sb in everything.blocks)
    assert "Copyright" in everything.text
    nothing = det.extract(PAGE, threshold=1.0)
    assert len(nothing.content_blocks) <= 1


def test_boilerplate_rules_drop_a_kept_block_and_keep_its_score():
    plain = _detector().extract(PAGE, threshold=0.0)
    ruled = _detector(rules=True).extract(PAGE, threshold=0.0)
    dropped = [sb.block.text for sb in ruled.blocks if not sb.is_content]
    assert dropped == ["Copyright 2024 Harbour Times. All rights reserved."]
    assert [sb.score for sb in ruled.blocks] == [sb.score for sb in plain.blocks]


def test_score_matches_extract():
    det = _detector()
    probs = det.score(PAGE)
    ext = det.extract(PAGE)
    assert np.allclose(probs, [sb.score for sb in ext.blocks])


def test_extract_many_equals_single_calls():
    det = _detector()
    docs = [PAGE, (SAMPLE / "pages" / "text-overwinter-geraniums.txt").read_bytes(), b"", PAGE.decode()]
    many = det.extract_many(docs)
    single = [det.extract(d) for d in docs]
    assert [m.text for m in many] == [s.text for s in single]
    assert many[1].source == "text"
    assert many[2].text == "" and many[2].blocks == ()


def test_empty_and_whitespace_inputs_give_empty_extractions():
    det = _detector()
    for doc in (b"", "", "   \n ", b"<html></html>"):
        ext = det.extract(doc)
        assert ext.text == ""
        assert ext.blocks == ()


def test_detector_is_thread_safe():
    det = _detector()
    expected = det.extract(PAGE).text
    results: list[str] = []

    def work() -> None:
        for _ in range(5):
            results.append(det.extract(PAGE).text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 20


def test_assemble_text_keeps_list_items_together():
    def sb(text: str, li: bool, keep: bool = True) -> ScoredBlock:
        return ScoredBlock(Block(text=text, index=0, tag="li" if li else "p", is_list_item=li), 0.9, keep)

    text = assemble_text([sb("Intro.", False), sb("one", True), sb("two", True), sb("drop", False, False)])
    assert text == "Intro.\n\n- one\n- two"
