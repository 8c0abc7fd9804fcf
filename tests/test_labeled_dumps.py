"""Labeled scraper dumps as a training corpus: the converter, exact line labels, and per-corpus training weights."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bpdetect.cli import app
from bpdetect.segment import segment_text
from training.corpora import iter_pages, list_corpora
from training.dataset import build_corpus
from training.labeled_dumps import read_labeled_dump, write_corpus
from training.train import META_LINE_POLICY, stack, train_model

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample"
# A breadcrumb repeating the headline ("Home » Baking » Brown Butter Banana Bread") makes token alignment give the
# headline's words to the breadcrumb; a headline opening with a date ("Fall Leaf Collection Begins October 21: …")
# matches the text model's date-line label policy. Exact line labels must keep both headlines content.
TRICKY = ["recipe-banana-bread-comments", "gov-leaf-collection-notice", "md-tutorial-systemd-timer"]
runner = CliRunner()


def _json_labels(stem: str) -> list[int]:
    meta = json.loads((DUMPS / f"{stem}.json").read_text(encoding="utf-8"))
    wanted = {meta["title"], *meta["article"]}
    lines = [ln.strip() for ln in (DUMPS / f"{stem}.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [int(ln in wanted) for ln in lines]


@pytest.fixture
def dump_corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for stem in TRICKY:
        for suffix in (".txt", ".json"):
            shutil.copy(DUMPS / f"{stem}{suffix}", src / f"{stem}{suffix}")
    assert write_corpus(src, tmp_path / "root" / "my-dumps") == len(TRICKY)
    return tmp_path / "root"


def test_written_corpus_reads_as_text_pages(dump_corpus: Path) -> None:
    assert list_corpora(dump_corpus) == ["my-dumps"]
    pages = {p.id: p for p in iter_pages(dump_corpus, ["my-dumps"])}
    assert sorted(pages) == sorted(TRICKY)
    page = pages["recipe-banana-bread-comments"]
    assert page.extra["input"] == "text" and page.extra["line_labels"] == _json_labels(page.id)
    meta = json.loads((DUMPS / f"{page.id}.json").read_text(encoding="utf-8"))
    assert page.gold[0] == meta["title"] and set(page.gold[1:]) == set(meta["article"])


def test_exact_line_labels_beat_alignment_and_policy(dump_corpus: Path) -> None:
    bs = build_corpus(dump_corpus, "my-dumps", "text")
    assert bs.page_exact is not None and bs.page_exact.all()
    st = stack([bs], policy=META_LINE_POLICY)
    for i, stem in enumerate(bs.page_ids):
        assert st.y[st.doc == i].tolist() == _json_labels(str(stem)), stem


def test_misfit_line_labels_fall_back_to_alignment(dump_corpus: Path, caplog) -> None:
    index = dump_corpus / "my-dumps" / "index.jsonl"
    entries = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines()]
    entries[0]["line_labels"] = entries[0]["line_labels"][:-1]  # one label short
    index.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="training.dataset"):
        bs = build_corpus(dump_corpus, "my-dumps", "text")
    assert "line_labels ignored" in caplog.text
    assert bs.page_exact.tolist() == [False] + [True] * (len(entries) - 1)


def test_unlabeled_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Headline\nBody line.\nStray line\n", encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"title": "Headline", "article": ["Body line."], "clutter": []}))
    with pytest.raises(ValueError, match=r"1 lines in no category.*Stray line"):
        read_labeled_dump(tmp_path / "a.txt")


def test_corpus_weight_changes_the_model_and_is_recorded(dump_corpus: Path, tmp_path: Path) -> None:
    shutil.copytree(SAMPLE, dump_corpus / "sample")
    base = ["train", str(dump_corpus), "--input", "text", "--max-iter", "10", "--no-split", "-j", "1"]
    for name, extra in (("w1", []), ("w5", ["--corpus-weight", "my-dumps=5"])):
        res = runner.invoke(app, [*base, *extra, "--out", str(tmp_path / f"{name}.npz")])
        assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "w5.json").read_text())
    assert meta["training"]["corpus_weights"] == {"my-dumps": 5.0}
    a, b = (dict(np.load(tmp_path / f"{n}.npz")) for n in ("w1", "w5"))
    assert any(not np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("value", ["my-dumps", "my-dumps=x", "=3", "nowhere=2", "my-dumps=0"])
def test_bad_corpus_weight_is_a_clear_error(dump_corpus: Path, tmp_path: Path, value: str) -> None:
    res = runner.invoke(app, ["train", str(dump_corpus), "--input", "text", "--max-iter", "5", "--no-split",
                              "-j", "1", "--corpus-weight", value, "--out", str(tmp_path / "m.npz")])
    assert res.exit_code == 2 and "corpus-weight" in res.output.replace(" ", "-").lower(), res.output
    assert not (tmp_path / "m.npz").exists()


def test_train_model_refuses_weight_of_unknown_corpus(dump_corpus: Path) -> None:
    bs = build_corpus(dump_corpus, "my-dumps", "text")
    with pytest.raises(ValueError, match="not in the data: elsewhere"):
        train_model([bs], "text", params={"max_iter": 3}, use_validation_split=False, corpus_weights={"elsewhere": 2})


def test_corpus_from_several_folders_refuses_a_shared_id(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, stems in ((a, TRICKY[:2]), (b, TRICKY[1:])):
        folder.mkdir()
        for stem in stems:
            for suffix in (".txt", ".json"):
                shutil.copy(DUMPS / f"{stem}{suffix}", folder / f"{stem}{suffix}")
    with pytest.raises(ValueError, match=TRICKY[1]):
        write_corpus([a, b], tmp_path / "out" / "both")
    (b / f"{TRICKY[1]}.txt").unlink()
    (b / f"{TRICKY[1]}.json").unlink()
    assert write_corpus([a, b], tmp_path / "out" / "both") == 3
    ids = [json.loads(line)["id"] for line in (tmp_path / "out" / "both" / "index.jsonl").read_text().splitlines()]
    assert ids == sorted(TRICKY)


TRAINING_DUMPS = Path(__file__).resolve().parent.parent / "datasets" / "dumps"


@pytest.mark.parametrize("txt", sorted(TRAINING_DUMPS.glob("*.txt")), ids=lambda p: p.stem)
def test_training_dumps_sort_every_line(txt: Path) -> None:
    text, gold, labels = read_labeled_dump(txt)  # raises on a line in no category
    meta = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
    lines = {ln.strip() for ln in text.splitlines() if ln.strip()}
    assert not set(meta["article"]) & set(meta["clutter"]) and meta["title"] not in meta["clutter"]
    assert {meta["title"], *meta["article"], *meta["clutter"]} <= lines
    assert gold[0] == meta["title"] or meta["title"] in gold
    assert len(labels) == sum(1 for ln in text.splitlines() if ln.strip()) and 0 < sum(labels) < len(labels)


def test_training_dumps_and_fixtures_make_one_corpus(tmp_path: Path) -> None:
    n = write_corpus([DUMPS, TRAINING_DUMPS], tmp_path / "scraper-dumps")
    assert n == len(list(DUMPS.glob("*.txt"))) + len(list(TRAINING_DUMPS.glob("*.txt"))) >= 88


def test_line_weight_tokens_apply_to_labeled_pages_only(dump_corpus: Path) -> None:
    dumps = build_corpus(dump_corpus, "my-dumps", "text")
    sample = build_corpus(SAMPLE.parent, "sample", "text")
    base = stack([dumps, sample], pseudo_tokens=3.0)
    more = stack([dumps, sample], pseudo_tokens=3.0, exact_pseudo_tokens=20.0)
    on_dumps = more.page_corpus[more.doc] == "my-dumps"
    assert np.array_equal(base.weight[~on_dumps], more.weight[~on_dumps])  # the sample's pages: as before
    for page in np.unique(more.doc[on_dumps]):
        rows = more.doc == page
        tokens = more.n_tokens[rows] + 20.0
        assert np.allclose(more.weight[rows], tokens / tokens.sum())  # still one page's worth in all
    short = on_dumps & (more.n_tokens <= 3)
    assert (more.weight[short] > base.weight[short]).all()  # each short line weighs more


def test_block_texts_survive_the_label_cache(dump_corpus: Path, tmp_path: Path) -> None:
    fresh = build_corpus(dump_corpus, "my-dumps", "text", cache_dir=tmp_path / "cache")
    cached = build_corpus(dump_corpus, "my-dumps", "text", cache_dir=tmp_path / "cache")
    docs = [segment_text((DUMPS / f"{s}.txt").read_text("utf-8")) for s in sorted(TRICKY)]
    assert fresh.texts is not None and fresh.texts.dtype == object
    assert list(fresh.texts) == [b.text for d in docs for b in d.blocks]  # every block's text, in page order
    assert list(cached.texts) == list(fresh.texts)
    half = np.arange(fresh.n_pages) < 2
    assert list(fresh.subset(half).texts) == list(fresh.texts[half[fresh.page]])
    assert stack([fresh]).texts.tolist() == list(fresh.texts)
