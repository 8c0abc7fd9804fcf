"""The scraper-dump check by kind of line: the clutter the extraction issue names, article paragraphs, and the rest.

The issue asks that, in a blog or news page dumped by a naive scraper, "the article paragraphs must come out whole and
every one of those clutter lines must go", naming the clutter: "Source link", "Related Posts" with teaser titles and
excerpts, "Leave a Reply", "Your email address will not be published", "You Missed" with repeated teaser titles,
bylines such as "By John", dates and "0 views" lines, and inline promos such as "READ MORE: ...". This script sorts
every line of the hand-written dumps (tests/fixtures/dumps style, labeled title / article / clutter) into those kinds,
with patterns of its own (independent of bpdetect.boilerplate, so a rule's blind spot is not the checker's), and
counts how many of each the shipped text model (with the rules) gets wrong.

Kinds of clutter lines: source link, widget header (related / you missed / most read, in the fixtures' languages),
teaser (one of the first TEASER_LINES clutter lines under such a header, up to the next article line, header or
other named line: an approximation), reply form (the comment form's
heading, notice and fields), byline, date line, counter ("0 views", "5 min read"), inline promo ("READ MORE: ..."),
other clutter (captions, menus, footers, pitches...). Kinds of article lines: headline, paragraph (>= 15 words),
other article line (headings, list items, data and code lines).

Usage: python benchmarks/dump_kinds.py [--dumps DIR] [--text-model PATH] [--no-rules] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from bpdetect.extract import Detector

DEFAULT_DUMPS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dumps"
PARAGRAPH_MIN_WORDS = 15
SHORT_LINE_WORDS = 12  # bylines, dates and counters are short lines
TEASER_LINES = 10  # lines under a widget header counted as its teasers (titles, excerpts, "Read More")

_HEADER = re.compile(
    r"[\W_]*(?:related(?: (?:posts?|articles?|stories|news|content|reading))?|you (?:may have )?missed|"
    r"you (?:may|might) (?:also )?like|more (?:stories|news|articles)(?: from .*)?|read next|up next|don'?t miss|"
    r"recommended(?: for you| stories| articles| reading)?|most (?:read|popular|viewed)|popular (?:posts|stories)|"
    r"trending(?: now| stories)?|latest (?:news|posts|stories)|recent posts|also on .*|"
    r"(?:das könnte sie auch interessieren|ähnliche (?:beiträge|artikel)|weitere artikel|mehr zum thema|"
    r"meistgelesen|auch interessant)|"
    r"(?:articles similaires|à lire aussi|a lire aussi|lire aussi|sur le même sujet|vous aimerez aussi|les plus lus)|"
    r"(?:artículos relacionados|noticias relacionadas|te puede interesar|también te puede interesar|lo más leído)|"
    r"(?:artigos relacionados|notícias relacionadas|leia também|veja também|mais lidas|você pode gostar)|"
    r"(?:articoli correlati|leggi anche|potrebbe interessarti|i più letti|più letti)|"
    r"(?:gerelateerde artikelen|lees ook|meest gelezen|zie ook)|"
    r"(?:zobacz (?:również|także|też)|czytaj (?:również|także|też)|najczęściej czytane|polecamy)|"
    r"(?:relaterade artiklar|läs också|mest lästa))[\W_]*",
    re.I,
)
_REPLY = re.compile(
    r"[\W_]*(?:leave a (?:reply|comment)(?: cancel reply)?|post a comment|add (?:a )?comment|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"(?:comment|name|email|e-mail|website)\s*\*?|save my name, email.*|post comment|submit comment|"
    r"cancel reply|\d+ (?:comments?|responses?|replies)|comments?(?: \(\d+\))?|"
    r"schreibe einen kommentar|deine e-mail-adresse wird nicht veröffentlicht.*|kommentar abschicken|"
    r"laisser un commentaire|votre adresse e-mail ne sera pas publiée.*|"
    r"deja una respuesta|tu dirección de correo electrónico no será publicada.*|"
    r"deixe (?:uma resposta|um comentário)|o seu endereço de e-mail não será publicado.*|"
    r"lascia un commento|il tuo indirizzo email non sarà pubblicato.*|"
    r"laat een reactie achter|je e-mailadres wordt niet gepubliceerd.*|dodaj komentarz|"
    r"komentarze(?: \(\d+\))?)[\W_]*",
    re.I,
)
_SOURCE = re.compile(r"[\W_]*(?:source link|source|quelle|fonte|fuente|bron|źródło)[\W_]*", re.I)
_BYLINE = re.compile(
    r"[\W_]*(?:by|von|por|par|di|door|av|przez|autor(?:a|in)?:?|written by|posted by|geschrieben von)\s+\S", re.I
)
_DATE = re.compile(
    r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\.? (?:de )?[a-zäéû]{3,}\.? (?:de )?\d{4}\b|"
    r"\b[a-z]{3,}\.? \d{1,2},? \d{4}\b|\b\d+ (?:hours?|days?|minutes?|weeks?) ago\b|\b(?:vor|há|il y a|hace) \d+",
    re.I,
)
_COUNTER = re.compile(
    r"[\W_]*\d[\d,.]*\s*(?:views?|reads?|shares?|likes?|min(?:ute)?s? read|min\.? read|minute read|"
    r"aufrufe|vues|visualizações|visualizaciones|visualizzazioni|weergaven|wyświetle[nń]|"
    r"min(?:uten)? lesezeit|min de lecture|min de leitura|min de lectura|minuti di lettura)[\W_]*|"
    r"[\W_]*(?:lesezeit|reading time|temps de lecture|tempo de leitura|tiempo de lectura|tempo di lettura)\W.*",
    re.I,
)
_PROMO = re.compile(
    r"[\W_]*(?:read more|read also|also read|related(?: story| article)?|see also|more|watch|"
    r"leia (?:também|mais)|veja (?:também|mais)|lire aussi|à lire aussi|voir aussi|lesen sie (?:auch|mehr)|"
    r"mehr zum thema|lea también|lee también|ver también|leggi anche|vedi anche|lees ook|zie ook|"
    r"czytaj (?:również|także|też)|zobacz (?:również|także|też)|läs (?:också|mer))\s*[:：»>→-]+\s*\S",
    re.I,
)
NAMED_CLUTTER = (
    "source link", "widget header", "teaser", "reply form", "byline", "date line", "counter", "inline promo",
)  # fmt: skip


def line_kinds(lines: list[str], title: str, article: set[str]) -> list[str]:
    """The kind of every line of a labeled dump (see the module docstring)."""
    kinds: list[str] = []
    under_header = 0  # teaser lines still to come under the last widget header
    for line in lines:
        words = len(line.split())
        if line == title:
            kinds.append("headline")
            under_header = 0
            continue
        if line in article:
            kinds.append("paragraph" if words >= PARAGRAPH_MIN_WORDS else "other article line")
            under_header = 0
            continue
        if _SOURCE.fullmatch(line):
            kind = "source link"
        elif _HEADER.fullmatch(line):
            kinds.append("widget header")
            under_header = TEASER_LINES
            continue
        elif _REPLY.fullmatch(line):
            kind = "reply form"
        elif _PROMO.match(line):
            kind = "inline promo"
        elif words <= SHORT_LINE_WORDS and _COUNTER.fullmatch(line):
            kind = "counter"
        elif words <= SHORT_LINE_WORDS and _BYLINE.match(line):
            kind = "byline"
        elif words <= SHORT_LINE_WORDS and _DATE.search(line):
            kind = "date line"
        elif under_header:
            kind = "teaser"
        else:
            kind = "other clutter"
        if kind in ("reply form", "source link"):  # the teaser list is over; dates and counters may sit inside it
            under_header = 0
        elif kind == "teaser":
            under_header -= 1
        kinds.append(kind)
    return kinds


def check(det: Detector, txt: Path) -> list[tuple[str, bool, str]]:
    """(kind, wrong, line) for every line of one labeled dump."""
    meta = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
    text = txt.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    ex = det.extract(text, input="text")
    if len(lines) != len(ex.blocks):
        raise SystemExit(f"{txt.name}: {len(lines)} lines but {len(ex.blocks)} blocks; one block per line expected")
    article = set(meta["article"])
    kinds = line_kinds(lines, meta["title"], article)
    out = []
    for line, kind, sb in zip(lines, kinds, ex.blocks, strict=True):
        wanted = line == meta["title"] or line in article
        out.append((kind, wanted != sb.is_content, line))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print, per kind, lines and wrong lines, then the named clutter and the paragraphs that are wrong; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dumps", type=Path, default=DEFAULT_DUMPS, help="fixture folder (default tests/fixtures/dumps)")
    ap.add_argument("--text-model", help="plain-text model file (default: the shipped bpdetect/models/text.npz)")
    ap.add_argument("--no-rules", action="store_true", help="the model alone (no boilerplate rules after it)")
    ap.add_argument("--json", type=Path, help="also write the counts and the wrong lines as JSON here")
    args = ap.parse_args(argv)
    det = Detector(text_model=args.text_model, boilerplate_rules=not args.no_rules)
    total: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    shown: list[tuple[str, str, str]] = []
    dumps = sorted(args.dumps.glob("*.txt"))
    for txt in dumps:
        for kind, bad, line in check(det, txt):
            total[kind] += 1
            if bad:
                wrong[kind] += 1
                if kind in NAMED_CLUTTER or kind in ("paragraph", "headline"):
                    shown.append((txt.stem, kind, line))
    order = ["headline", "paragraph", "other article line", *NAMED_CLUTTER, "other clutter"]
    print(f"{len(dumps)} dumps")
    print(f"{'kind':<22}{'lines':>7}{'wrong':>7}")
    for kind in order:
        print(f"{kind:<22}{total[kind]:>7}{wrong[kind]:>7}")
    named = sum(wrong[k] for k in NAMED_CLUTTER)
    print(f"\nnamed clutter kept: {named} of {sum(total[k] for k in NAMED_CLUTTER)}; "
          f"paragraphs dropped: {wrong['paragraph']} of {total['paragraph']}; headlines dropped: {wrong['headline']}")
    for stem, kind, line in shown:
        print(f"    {stem}: {kind}: {line[:100]}")
    if args.json:
        data = {"dumps": len(dumps), "lines": dict(total), "wrong": dict(wrong), "wrong_lines": shown}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
