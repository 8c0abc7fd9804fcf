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
# Known gaps of the shipped text model with the boilerplate rules (measured 2026-11-28, feature schema v4). The first
# eight fixtures were written with the model at hand; the other 24 were written blind, in six rounds of four, by
# someone who never ran a model on them: a fresh held-out check each (round 1: fr-passerelle-*, md-*, newsletter-*,
# sports-*; round 2: gov-*, medium-*, pt-ciclovia-*, review-*; round 3: it-*, nl-*, tech-*, travel-*; round 4:
# de-magazin-*, es-noticia-*, finance-*, wp-blog-*; round 5: fr-blog-*, pt-esporte-*, science-*, tv-news-*; round 6:
# es-blog-*, it-blog-*, recipe-blog-*, uk-council-*; round 7, eight pages in the style the issue names, written while
# the model and the rules of 2026-11-28 were fixed: blog-cedar-*, de-verein-*, en-aggregator-*, es-regional-*,
# health-mag-*, ledger-*, sports-coastal-*, tech-corvane-*; after it, the category and form-label rules were added).
# Strict: a model that fixes one makes its test fail until it is removed here.
# Clutter kept (rounds 1-2 and the first eight): site names above the menu ("Harlow Creek Gazette", "The Hive
# Ledger"), a press-release dateline, a "Latest:" ticker title, author and WhatsApp pitches written as sentences, a
# bare inline link to another story, a tag line, a table-of-contents entry, a long "Publicado em ... | Atualizado em
# ..." line. (Ad labels between paragraphs, "Skip to content", "Explore more on these topics", "Leia também: ..."
# promos, newsletter/recipe pitches, photo credits and a byline name cut onto its own line ("by" / "John") go by the
# boilerplate rules since 2026-11-28.)
KEEPS_CLUTTER = {
    # rounds 3-6: photo captions, a recipe card's servings switches and nutrition note, a "save this recipe" box, a
    # recipe rating, tags, teasers, donation pitches, a site tagline, a newsletter box's name and legal line, a bare
    # "Related" header, an update note, affiliate pitches and disclosures, a bank offer, Instagram prompts in other
    # words. (A bare "Related" header, copyright and tag lines, "Publicado em ... | Atualizado em ..." lines, consent
    # small print under sign-up forms and "save this recipe" boxes go by the rules since 2026-11-29.)
    # Round 7: an image gallery's buttons ("Bild vergrößern", "Zur Bildergalerie (48 Bilder)"), site taglines
    # ("Breaking stories from around the globe"), a table-of-contents entry.
    "de-magazin-wanderweg",
    "de-verein-jubilaeumskonzert",
    "en-aggregator-arctic-seeds",
    "es-regional-linea-autobus",
    "health-mag-teen-sleep",
    "es-blog-receta-tortilla",
    "es-noticia-mercado-abastos",
    "finance-blog-emergency-fund",
    "fr-blog-recette-tarte",
    "it-blog-viaggio-dolomiti",
    "it-news-tram-cantiere",
    "local-news-water-main",
    "md-tutorial-systemd-timer",
    "newsletter-hive-supersedure",
    "nl-gemeente-fietsbrug",
    "press-release-robotics-plant",
    "pt-ciclovia-beira-rio",
    "pt-esporte-classico-regional",
    "recipe-blog-lentil-soup",
    "science-mag-coral-reefs",
    "sports-match-report-rovers",
    "tech-news-battery-recall",
    "travel-blog-lisbon-tips",
    "tv-news-school-bus-crash",
    "uk-council-news-library",
    "wp-blog-sourdough-starter",
    "wp-news-pool-rebuild",
}
# Article lines dropped: the code lines of a markdown tutorial ("[Timer]", "OnCalendar=*-*-* 02:30:00", ...), one
# item of a zone schedule list, a review's "Cons" heading and list, one line of a list of recalled models, a hiking
# article's last paragraph and its "Tourdaten" facts box, a recipe's "1 œuf", the ingredient lists of two recipe cards,
# a health article's closing subheading ("The takeaway").
DROPS_ARTICLE = {
    "de-magazin-wanderweg",
    "es-blog-receta-tortilla",
    "fr-blog-recette-tarte",
    "gov-leaf-collection-notice",
    "health-mag-teen-sleep",
    "md-tutorial-systemd-timer",
    "recipe-blog-lentil-soup",
    "review-stick-vacuum-airglide",
    "tech-news-battery-recall",
}
# Headline dropped: a TV station's story headline (0.32); a match report whose headline sits above a split
# scoreboard, byline and date lines (0.09); a
# headline with a date in it ("... Begins October 21: ...", 0.002), which the label policy's date rule calls a meta
# line.
DROPS_HEADLINE = {"gov-leaf-collection-notice", "sports-match-report-rovers", "tv-news-school-bus-crash"}
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
    assert sorted(ANY_GAP - set(FIXTURES)) == []
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
