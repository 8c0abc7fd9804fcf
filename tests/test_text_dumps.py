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
# Known gaps of the shipped text model with the boilerplate rules (measured 2026-11-28, feature schema v4). Since
# 2026-11-28 the text model is trained on the 40 fixtures written before round 8 (with the 48 training dumps of
# datasets/dumps), so those are in-sample checks. NOT_TRAINED_ON lists the other 32: written blind, by helper sessions
# that read the text and one example fixture and never ran a model. Rounds 8 and 11 were each scored once,
# after a model was chosen; the totals of rounds 9 and 10 chose between three trial models. Earlier rounds: git log.
NOT_TRAINED_ON = {
    # round 8
    "blog-rescue-dog-first-week", "food-blog-marrow-and-vine-review", "fr-regional-rugby-montee",
    "portal-br-saude-horario-estendido", "space-wire-planet-disk-gap", "tech-howto-nas-phone-backup",
    "wp-economy-energy-cap", "wp-magazine-hardware-employee-sale",
    # round 9
    "de-blog-brot-backen", "en-diy-blog-paint-cabinets", "en-localtv-storm-outage", "en-newsagg-port-strike",
    "en-school-board-budget", "en-techblog-rust-errors", "fr-actu-velo-cargo", "it-sport-basket-derby",
    # round 10
    "en-city-mag-coffee-roaster", "en-newsagg-wildfire", "en-review-blog-headphones", "en-sports-blog-marathon-recap",
    "en-wp-church-food-drive", "nl-blog-moestuin-oktober", "pl-news-most-remont", "pt-portal-chuva-alagamentos",
    # round 11
    "de-lokal-stadtrat-schwimmbad", "en-business-news-grocery-merger", "en-local-tv-missing-hiker",
    "en-parenting-blog-sleep-routine", "en-wp-agg-factory-fire", "es-blog-recetas-gazpacho", "fr-blog-jardin-compost",
    "it-blog-viaggi-sardegna",
}  # fmt: skip
# Strict: a model that fixes one makes its test fail until it is removed here.
KEEPS_CLUTTER = {
    # Photo captions written as sentences, newsletter and e-mail opt-in boxes, affiliate "Shop this post" boxes and
    # product names, pull quotes, a sponsor line, author bios, share buttons ("Deel dit artikel", "Copier le lien",
    # "Pin this image", "Épingle-moi !"), tables of contents' numbered entries, a recipe card's times, servings,
    # calories and rating, a "VIDEO:" promo, site names and taglines above the menu, one "Tagi:" line, teaser titles.
    "blog-rescue-dog-first-week",
    "de-blog-brot-backen",
    "en-city-mag-coffee-roaster",
    "en-diy-blog-paint-cabinets",
    "en-local-tv-missing-hiker",
    "en-localtv-storm-outage",
    "en-newsagg-wildfire",
    "en-parenting-blog-sleep-routine",
    "en-review-blog-headphones",
    "en-sports-blog-marathon-recap",
    "en-techblog-rust-errors",
    "en-wp-church-food-drive",
    "es-blog-recetas-gazpacho",
    "fr-actu-velo-cargo",
    "fr-blog-jardin-compost",
    "it-blog-viaggi-sardegna",
    "it-sport-basket-derby",
    "local-news-water-main",
    "newsletter-hive-supersedure",
    "nl-blog-moestuin-oktober",
    "pl-news-most-remont",
    "tech-howto-nas-phone-backup",
    "wp-blog-sourdough-starter",
    "wp-economy-energy-cap",
}
# Article lines dropped: a review's "Pros"/"Cons"/"Verdict" lists, a running club's results list and a TV story's
# safety-tips list near the end of the post (0.003-0.29), code and config lines ("}", "[Timer]", "Persistent=true"),
# facts-box and box-score lines ("Beste Zeit: ...", "Arbitri: ..."), list items, and short subheadings
# ("Ingredients", "Performance", "## Final thoughts", "Opposition warnt vor Loch im Haushalt").
DROPS_ARTICLE = {
    "de-lokal-stadtrat-schwimmbad",
    "de-magazin-wanderweg",
    "en-local-tv-missing-hiker",
    "en-review-blog-headphones",
    "en-sports-blog-marathon-recap",
    "en-techblog-rust-errors",
    "es-blog-recetas-gazpacho",
    "food-blog-marrow-and-vine-review",
    "it-sport-basket-derby",
    "md-tutorial-systemd-timer",
    "pt-portal-chuva-alagamentos",
    "recipe-blog-lentil-soup",
    "review-stick-vacuum-airglide",
    "tech-howto-nas-phone-backup",
    "travel-blog-lisbon-tips",
}
# Headline dropped: none of the 72 since 2026-11-28.
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
