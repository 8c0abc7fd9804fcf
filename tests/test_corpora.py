"""Tests for training.corpora: the shared dataset layout, gold conventions, cleanup and site groups."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from training.corpora import Page, iter_pages, list_corpora, parse_gold, read_suspects, site_of

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _write_corpus(root: Path, name: str, pages: list[dict], *, gzip_pages: bool = True) -> Path:
    """Write a corpus folder: index.jsonl, pages/<id>.html(.gz), gold/<id>.txt; page dicts carry html/gold text."""
    folder = root / name
    (folder / "pages").mkdir(parents=True)
    (folder / "gold").mkdir()
    lines = []
    for p in pages:
        rec = {k: v for k, v in p.items() if k not in ("page", "gold_text")}
        html_rel = f"pages/{p['id']}.html" + (".gz" if gzip_pages else "")
        data = p["page"].encode(p.get("charset", "utf-8")) if isinstance(p["page"], str) else p["page"]
        if gzip_pages:
            with gzip.open(folder / html_rel, "wb") as fh:
                fh.write(data)
        else:
            (folder / html_rel).write_bytes(data)
        (folder / "gold" / f"{p['id']}.txt").write_text(p["gold_text"], encoding="utf-8")
        rec.setdefault("url", None)
        rec.setdefault("lang", "en")
        rec["html"], rec["gold"] = html_rel, f"gold/{p['id']}.txt"
        rec.pop("charset", None)
        lines.append(json.dumps(rec))
    (folder / "index.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    root.mkdir()
    _write_corpus(
        root,
        "dragnet",
        [
            {
                "id": "1",
                "split": "train",
                "page": '<html><head><link rel="canonical" href="https://www.Example-News.co.uk/a/1"></head>'
                "<body><p>Headline</p><p>Body text.</p></body></html>",
                "gold_text": "Headline\n\nBody   text.\n!@#$%^&*()  COMMENTS\nFirst comment\n",
            },
            {
                "id": "2",
                "page": "<html><body><p>No canonical here.</p></body></html>",
                "gold_text": "No canonical here.\n",
            },
            {"id": "3", "page": "<p>suspect</p>", "gold_text": "something else entirely"},
        ],
    )
    _write_corpus(
        root,
        "cleaneval",
        [
            {
                "id": "dev-1",
                "url": "http://blogs.wsj.com/brussels/x",
                "split": "dev",
                "page": '<text id="http://blogs.wsj.com/brussels/x" title="A &gt; B" encoding="unset">\n'
                "<html><body><p>Caf\xe9 society</p></body></html>\n</text>\n",
                "charset": "cp1252",
                "gold_text": "\ufeff\nURL: http://blogs.wsj.com/brussels/x\n\n<h>  Café   society\n"
                "<p>First paragraph\nwrapped over two lines &amp; an entity.\n   <l> item one <l>item two\n",
            },
        ],
    )
    _write_corpus(
        root,
        "readability",
        [
            {
                "id": "001",
                "page": '<html><head><meta property="og:url" content="http://fakehost/x"></head><body></body></html>',
                "gold_text": '<div id="readability-page-1" class="page"><section><h2>Title</h2>'
                "<p>Para <a href='#'>one</a> text.<br>after break</p><!-- a comment -->"
                "<ul><li>first</li><li>second</li></ul><script>var x;</script></section></div>",
            },
        ],
    )
    _write_corpus(
        root,
        "utomo-big9",
        [
            {
                "id": "big5-05-amd-1",
                "source_file": "big5-05/html/amd (1).htm",
                "year": 2005,
                "page": '<html><body><a href="http://www.cnn.com/x">x</a><img src="http://news.bbc.co.uk/i.gif">'
                '<a href="http://news.bbc.co.uk/y">y</a><p>Text</p></body></html>',
                "gold_text": "Text\n",
            },
        ],
    )
    _write_corpus(
        root,
        "mine",
        [{"id": "p1", "page": "<html><body><p>Mine.</p></body></html>", "gold_text": "Mine.\n"}],
        gzip_pages=False,
    )
    (root / "not-a-corpus").mkdir()
    (root / "suspect-pages.tsv").write_text("dataset\tid\tgold_token_recall_in_page\ndragnet\t3\t0.0\n")
    return root


def _by_id(pages: list[Page]) -> dict[str, Page]:
    return {p.id: p for p in pages}


def test_list_corpora(dataset: Path) -> None:
    assert list_corpora(dataset) == ["cleaneval", "dragnet", "mine", "readability", "utomo-big9"]
    assert list_corpora(dataset / "dragnet") == ["dragnet"]
    with pytest.raises(FileNotFoundError):
        list_corpora(dataset / "missing")


def test_iter_pages_skips_suspects_and_filters_corpora(dataset: Path) -> None:
    pages = list(iter_pages(dataset, ["dragnet"]))
    assert [p.id for p in pages] == ["1", "2"]
    assert [p.id for p in iter_pages(dataset, ["dragnet"], skip_suspect=False)] == ["1", "2", "3"]
    assert {p.corpus for p in iter_pages(dataset)} == set(list_corpora(dataset))
    # A single corpus folder as root still finds the suspect list next to it.
    assert [p.id for p in iter_pages(dataset / "dragnet")] == ["1", "2"]
    with pytest.raises(ValueError, match="unknown corpora"):
        list(iter_pages(dataset, ["nope"]))


def test_dragnet_gold_is_cut_at_comments_and_groups_come_from_canonical(dataset: Path) -> None:
    pages = _by_id(list(iter_pages(dataset, ["dragnet"])))
    p = pages["1"]
    assert p.gold == ["Headline", "Body text."]
    assert p.url is None
    assert p.split == "train"
    assert p.domain == "example-news.co.uk"
    assert p.group == "example-news.co.uk"
    assert p.html.startswith(b"<html>")
    q = pages["2"]
    assert q.domain is None
    assert q.group == "dragnet/2"
    assert q.split is None


def test_cleaneval_gold_markup_and_wrapper(dataset: Path) -> None:
    (p,) = iter_pages(dataset, ["cleaneval"])
    assert p.gold == ["Café society", "First paragraph wrapped over two lines & an entity.", "item one", "item two"]
    assert p.html.lstrip().startswith(b"<html>")
    assert b"<text" not in p.html and b"</text>" not in p.html
    assert b"Caf\xe9" in p.html  # bytes stay in their original encoding
    assert p.group == "wsj.com"
    assert p.domain == "blogs.wsj.com"


def test_readability_gold_is_html_blocks(dataset: Path) -> None:
    (p,) = iter_pages(dataset, ["readability"])
    assert p.gold == ["Title", "Para one text.", "after break", "first", "second"]
    assert p.group == "readability/001"  # fakehost names no site
    assert p.lang == "en"


def test_big9_group_is_the_news_site(dataset: Path) -> None:
    (p,) = iter_pages(dataset, ["utomo-big9"])
    assert p.group == "bbc.co.uk"
    assert p.extra == {"source_file": "big5-05/html/amd (1).htm", "year": 2005}


def test_user_dataset_with_plain_pages(dataset: Path) -> None:
    (p,) = iter_pages(dataset / "mine")
    assert (p.corpus, p.id, p.gold, p.group) == ("mine", "p1", ["Mine."], "mine/p1")
    assert p.gold_text == "Mine."


def test_parse_gold_formats() -> None:
    assert parse_gold("a\n\n  b   c \n") == ["a", "b c"]
    assert parse_gold("x\n!@#$%^&*()  COMMENTS\ny", "dragnet") == ["x"]
    assert parse_gold("URL: http://x\n<p>one</p>\n<P>two", "cleaneval") == ["one", "two"]
    assert parse_gold("<p>a</p><p>b<br/>c</p>", "html") == ["a", "b", "c"]
    assert parse_gold("", "html") == []
    with pytest.raises(ValueError):
        parse_gold("x", "bogus")


def test_site_of() -> None:
    assert site_of("news.bbc.co.uk") == "bbc.co.uk"
    assert site_of("bbc.com") == "bbc.co.uk"
    assert site_of("tv.msnbc.com") == "msnbc.com"
    assert site_of("abc.net.au") == "abc.net.au"
    assert site_of("127.0.0.1") == "127.0.0.1"
    assert site_of(None) is None


def test_read_suspects(tmp_path: Path) -> None:
    f = tmp_path / "s.tsv"
    f.write_text("dataset\tid\tx\na\t1\t0.2\nb\t2\tparse\n\n")
    assert read_suspects(f) == {("a", "1"), ("b", "2")}
    assert read_suspects(tmp_path / "missing.tsv") == set()


@pytest.mark.data
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/datasets")
def test_shared_datasets_first_pages() -> None:
    names = list_corpora(SHARED)
    assert {"dragnet", "cleaneval", "wcxb", "readability", "l3s-gn1"} <= set(names)
    for name in names:
        page = next(iter_pages(SHARED, [name]))
        assert page.corpus == name and page.html and page.group
        if name in ("cleaneval", "cleanportaleval"):
            assert not page.html.lstrip().startswith(b"<text")
            assert not any(line.startswith("URL:") for line in page.gold)
    # dragnet 158 is a listed suspect page.
    assert "158" not in {p.id for p in iter_pages(SHARED, ["dragnet"])}


def test_explicit_group_field_wins(tmp_path: Path) -> None:
    _write_corpus(
        tmp_path,
        "own",
        [
            {
                "id": "a",
                "url": "https://one.example.org/x",
                "group": "theme-7",
                "page": "<p>x</p>",
                "gold_text": "x",
            },
            {"id": "b", "domain": "Shop.Example.org", "page": "<p>y</p>", "gold_text": "y"},
        ],
        gzip_pages=False,
    )
    a, b = iter_pages(tmp_path / "own")
    assert (a.group, a.domain) == ("theme-7", "one.example.org")
    assert "group" not in a.extra
    assert (b.group, b.domain) == ("example.org", "shop.example.org")


def test_index_paths_are_required_and_stay_inside(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "index.jsonl").write_text(json.dumps({"id": "a", "url": None, "lang": None, "gold": "g.txt"}) + "\n")
    with pytest.raises(ValueError, match="no 'html' path"):
        list(iter_pages(folder))
    row = {"id": "a", "url": None, "lang": None, "html": "../outside.html", "gold": "g.txt"}
    (folder / "index.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match="escapes"):
        list(iter_pages(folder))


SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"


@pytest.mark.skipif(not (SAMPLE / "index.jsonl").is_file(), reason="datasets/sample not present")
def test_reads_the_project_sample_dataset() -> None:
    pages = list(iter_pages(SAMPLE))
    assert pages and all(p.gold and p.html for p in pages)
    assert all(p.corpus == "sample" for p in pages)
    kinds = {p.extra.get("input", "html") for p in pages}
    assert "html" in kinds
