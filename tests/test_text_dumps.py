"""The shipped plain-text model on hand-written naive-scraper dumps of blog/news/recipe/press-release pages.

Each fixture in tests/fixtures/dumps is a page dumped as text (one block per line: menu, headline, byline/date/views,
article paragraphs, then "Source link", "Related Posts", "Leave a Reply", "You Missed", share bars, inline "READ MORE:"
promos...) and a JSON file that sorts every non-empty line of the dump into ``title`` (the headline), ``article``
(lines that must come out whole) and ``clutter`` (lines that must go). Policy: the headline is kept, as a demanding
reader would want it; bylines, dates, view/comment counters and inline promos are clutter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import bpdetect
from bpdetect.records import Extraction

DUMPS = Path(__file__).resolve().parent / "fixtures" / "dumps"
FIXTURES = sorted(p.stem for p in DUMPS.glob("*.txt"))
# Known gaps of the shipped text model with the boilerplate rules (measured 2026-11-28, feature schema v5 with the
# lexical stage). The text model is trained on every fixture here except NOT_TRAINED_ON (and on the 168 training dumps
# of datasets/dumps; about one dump in five is a validation page, not fitted on), so the others are in-sample checks.
# NOT_TRAINED_ON lists rounds 15-17: written blind, by helper sessions that read the text and one example
# fixture and never ran a model, and held out; rounds 15-16 were scored once to judge the lexical-stage model, round 17
# once to judge the shipped system with the rules added after that. Earlier rounds: git log.
NOT_TRAINED_ON = {
    # round 15
    "de-blog-rezept-kaesespaetzle", "en-devblog-docker-compose-healthchecks", "en-local-news-school-board-vote",
    "en-review-site-wireless-earbuds", "en-wp-agg-airport-delays", "es-noticia-local-feria", "fr-blog-voyage-lisbonne",
    "it-club-ciclismo-gara",
    # round 16
    "de-blog-garten-hochbeet", "en-review-site-air-fryer", "en-wp-agg-wildfire-evacuation", "es-noticia-local-obras",
    "en-devblog-sql-indexes", "fr-blog-recette-ratatouille", "it-portale-calcio-partita",
    "pl-wiadomosci-lokalne-szkola",
    # round 17
    "de-lokalzeitung-feuerwehrfest", "en-hobby-blog-3d-printer-setup", "en-review-site-standing-desk",
    "en-wp-agg-port-strike", "es-blog-recetas-paella", "fr-blog-voyage-marrakech",
    "nl-nieuws-gemeente-fietspad", "pt-noticia-saude-vacinacao",
}  # fmt: skip
# Strict: a model that fixes one makes its test fail until it is removed here.
KEEPS_CLUTTER = {
    # An affiliate link and newsletter pitches ("Trag dich für meinen Newsletter ein …", a dev blog's sponsor line and
    # "Enjoying this post? I write …"), a pull quote, photo captions and a gallery's "Bild vergrößern" / "Zur
    # Bildergalerie" / "Zurück zur Übersicht", a "Next club ride" notice and a club's join pitch, an aggregator's
    # disclaimer, a reporter's contact line, two tag words, the teaser titles under "Zobacz również", a "fot." credit,
    # a recipe card's unit toggle, a table of contents entry, a review site's "How we test" box, a reader's comment
    # quoted in a recipe post.
    "de-blog-garten-hochbeet",
    "de-blog-rezept-kaesespaetzle",
    "de-blog-wandern-eifel",
    "de-verein-jubilaeumskonzert",
    "en-club-blog-cycling-results",
    "en-devblog-sql-indexes",
    "en-local-paper-library-levy",
    "en-recipe-blog-pumpkin-soup",
    "en-review-site-air-fryer",
    "en-review-site-standing-desk",
    "en-wp-agg-transit-fare",
    "es-blog-recetas-paella",
    "fr-blog-jardin-compost",
    "fr-blog-voyage-marrakech",
    "it-club-ciclismo-gara",
    "pl-news-most-remont",
    "pl-wiadomosci-lokalne-szkola",
    "wp-blog-sourdough-starter",
}
# Article lines dropped: a recipe card's title, summary and "Préparation" line (one dump), short subheadings and
# list headings ("Zutaten", "Ingredients", "Infos pratiques", "Juniors", "Battery life", "## Final thoughts", "About
# Northgate Robotics"), a con, facts and programme lines ("Warranty: 10 years …", "Sonntag, ab 15.30 Uhr: …"), a
# parts-list item, an ingredient ("Sal al gusto"), a "Thanks" sign-off, and one paragraph; a second recipe card's
# title.
DROPS_ARTICLE = {
    "de-blog-brot-backen",
    "de-lokalzeitung-feuerwehrfest",
    "en-club-blog-cycling-results",
    "en-hobby-blog-3d-printer-setup",
    "en-recipe-blog-pumpkin-soup",
    "en-review-site-air-fryer",
    "en-review-site-standing-desk",
    "en-sports-blog-marathon-recap",
    "es-blog-recetas-gazpacho",
    "es-blog-recetas-paella",
    "es-noticia-local-obras",
    "food-blog-marrow-and-vine-review",
    "fr-blog-jardin-compost",
    "fr-blog-randonnee-vercors",
    "fr-blog-recette-ratatouille",
    "press-release-robotics-plant",
    "recipe-blog-lentil-soup",
    "review-stick-vacuum-airglide",
    "travel-blog-lisbon-tips",
}
# Headline dropped: none of the 120.
DROPS_HEADLINE: set[str] = set()
ANY_GAP = KEEPS_CLUTTER | DROPS_ARTICLE | DROPS_HEADLINE


def _known_gaps(names: list[str], gaps: set[str] = KEEPS_CLUTTER) -> list:
    """Parameters for a test, marked as expected failures where the model is known to fall short."""
    mark = pytest.mark.xfail(strict=True, reason="a known gap of the shipped text model on this dump")
    return [pytest.param(n, marks=mark) if n in gaps else n for n in names]


@dataclass(frozen=True)
class Fixture:
    """A dump, its expected line sets, and the extraction of the shipped text model."""

    name: str
    lines: tuple[str, ...]  # non-empty lines of the dump, stripped (one block each)
    title: str
    article: frozenset[str]
    clutter: frozenset[str]
    extraction: Extraction

    def kept(self) -> list[bool]:
        """Keep/drop decision of the block of every dump line."""
        return [sb.is_content for sb in self.extraction.blocks]


@cache
def load(name: str) -> Fixture:
    """Read a fixture and extract it with the shipped default text model (once per fixture)."""
    text = (DUMPS / f"{name}.txt").read_text(encoding="utf-8")
    meta = json.loads((DUMPS / f"{name}.json").read_text(encoding="utf-8"))
    return Fixture(
        name=name,
        lines=tuple(ln.strip() for ln in text.splitlines() if ln.strip()),
        title=meta["title"],
        article=frozenset(meta["article"]),
        clutter=frozenset(meta["clutter"]),
        extraction=bpdetect.extract(text, input="text"),
    )


def line_scores(fx: Fixture) -> tuple[float, float]:
    """Line-level precision and recall of the kept lines against the headline plus the article lines."""
    wanted = [ln == fx.title or ln in fx.article for ln in fx.lines]
    kept = fx.kept()
    tp = sum(w and k for w, k in zip(wanted, kept, strict=True))
    return tp / max(sum(kept), 1), tp / max(sum(wanted), 1)


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 6


def test_known_gaps_name_fixtures() -> None:
    assert sorted((ANY_GAP | NOT_TRAINED_ON) - set(FIXTURES)) == []
    assert all((DUMPS / f"{name}.json").is_file() for name in FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_sorts_every_line(name: str) -> None:
    fx = load(name)
    _check_sorted(fx.lines, fx.title, fx.article, fx.clutter)
    # One block per non-empty line: the mapping below between lines and blocks relies on it.
    assert len(fx.extraction.blocks) == len(fx.lines)


def _check_sorted(lines: tuple[str, ...], title: str, article: frozenset[str], clutter: frozenset[str]) -> None:
    """Every line of a dump is listed exactly once as the headline, an article line or a clutter line."""
    assert not article & clutter, "a line cannot be both article and clutter"
    assert title not in article | clutter
    assert lines.count(title) == 1, "the headline is one line of the dump"
    unsorted = [ln for ln in lines if ln != title and ln not in article and ln not in clutter]
    assert unsorted == [], "every line of the dump must be listed as title, article or clutter"
    assert set(article) | set(clutter) <= set(lines), "listed lines must be lines of the dump"
    assert len([ln for ln in article if len(ln.split()) >= 25]) >= 4, "at least four real paragraphs"


# Held-out dumps (tests/fixtures/dumps-holdout/README.md): written blind and never looked at by whoever changes the
# model or the rules; benchmarks/dumps.py scores them to judge a change. Only their format is tested here.
HOLDOUT = DUMPS.parent / "dumps-holdout"
HOLDOUT_FIXTURES = sorted(p.stem for p in HOLDOUT.glob("*.txt"))


@pytest.mark.parametrize("name", HOLDOUT_FIXTURES)
def test_holdout_fixture_sorts_every_line(name: str) -> None:
    text = (HOLDOUT / f"{name}.txt").read_text(encoding="utf-8")
    meta = json.loads((HOLDOUT / f"{name}.json").read_text(encoding="utf-8"))
    lines = tuple(ln.strip() for ln in text.splitlines() if ln.strip())
    _check_sorted(lines, meta["title"], frozenset(meta["article"]), frozenset(meta["clutter"]))


@pytest.mark.parametrize("name", _known_gaps(FIXTURES, DROPS_ARTICLE))
def test_article_paragraphs_come_out_whole(name: str) -> None:
    fx = load(name)
    dropped = [ln for ln, keep in zip(fx.lines, fx.kept(), strict=True) if ln in fx.article and not keep]
    assert dropped == []
    # Whole, in the assembled text: every article line is a line of the output (bullets and numbering included).
    out_lines = set(fx.extraction.text.splitlines())
    assert [ln for ln in fx.article if ln not in out_lines] == []


@pytest.mark.parametrize("name", _known_gaps(FIXTURES))
def test_every_clutter_line_goes(name: str) -> None:
    fx = load(name)
    kept = [ln for ln, keep in zip(fx.lines, fx.kept(), strict=True) if ln in fx.clutter and keep]
    assert kept == []
    assert [ln for ln in fx.extraction.text.splitlines() if ln in fx.clutter] == []


@pytest.mark.parametrize("name", _known_gaps(FIXTURES, DROPS_HEADLINE))
def test_headline_is_kept(name: str) -> None:
    fx = load(name)
    assert fx.kept()[fx.lines.index(fx.title)], f"headline dropped: {fx.title!r}"


@pytest.mark.parametrize("name", _known_gaps(FIXTURES, ANY_GAP))
def test_line_level_precision_and_recall(name: str) -> None:
    fx = load(name)
    precision, recall = line_scores(fx)
    print(f"{name}: line precision {precision:.3f} recall {recall:.3f} ({len(fx.lines)} lines)")
    assert (precision, recall) == (1.0, 1.0)
