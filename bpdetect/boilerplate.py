"""Boilerplate lines that are clutter on any page: ad labels, skip links, widget headers, promos, credits, pitches.

The model scores every block; these rules then drop a kept block whose whole text is one of a few fixed phrases. They
catch what a learned score leaves near the threshold because the corpora disagree or rarely show it: an "Advertisement"
label between two paragraphs, "Continua após a publicidade", "[Skip to content](#main)", "Related Posts", or an inline
promo "Leia também: <another story's title>" that several corpora's gold keeps. On the corpora's 1,142 validation
pages (benchmarks/rules.py) 81% of the text lines and 70% of the HTML blocks they drop are clutter by gold; the rest
are lines that some corpora's gold keeps and that the text policy calls clutter (commenters' names after "by", promo
lines, photo credits, widget headers); validation F1 rises by 0.0003 for both models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import compress

from .records import Block

__all__ = ["RULES", "boilerplate_rule", "drop_boilerplate", "pitches_for", "rule_at"]

# Decoration a scraper leaves around a label: markdown heading/list/quote marks, rules, brackets, arrows.
_LEAD = r"[\s#>*\-–—•·|=_.()\[\]…]*"
_TAIL = r"[\s:：.!…»›→\-–—|=_()\[\]*]*"

_AD_LABEL = (
    r"advertisements?|advertising|advertisment|advertorial|sponsored(?: content| links?| posts?| stories)?|"
    r"paid (?:content|post|partnership)|publicité|publicidade|publicidad|anzeige|werbung|pubblicità|advertentie|"
    r"reklame|annonse|mainos|reklama"
)
_AD_CONTINUE = (
    r"(?:(?:the )?(?:story|article|text|content) )?continues? (?:below|after)(?: (?:this|the))? "
    r"(?:ad|advertisement|advertising)|"
    r"(?:advertisement|advertising)\s*[-–—:]?\s*(?:scroll (?:down )?to continue(?: reading)?|"
    r"(?:story|article) continues(?: below)?)|"
    r"continua (?:após|depois d[ao]) (?:a )?publicidade|continúa (?:después de|tras) (?:la )?publicidad|"
    r"la suite (?:après|ci-dessous)(?: cette)?(?: la)? publicité|weiter nach der (?:anzeige|werbung)|"
    r"l'articolo continua (?:sotto|dopo la pubblicità)"
)
_SKIP_LINK = (
    r"(?:skip|jump|go) to (?:the )?(?:main )?(?:content|article|navigation|menu|footer|search)|"
    r"(?:direkt )?zum (?:inhalt|hauptinhalt)(?: springen)?|(?:aller|passer) au contenu(?: principal)?|"
    r"(?:saltar|ir) al contenido(?: principal)?|(?:ir|pular|saltar) para o conteúdo(?: principal)?|"
    r"(?:vai|salta) al contenuto(?: principale)?|(?:ga )?naar (?:de )?(?:hoofd)?inhoud"
)
_WIDGET_HEADER = (
    r"related (?:posts?|articles?|stories|content|news|links|reading|videos?|topics)|"
    r"you (?:missed|may have missed)|you (?:may|might) (?:also )?like|more (?:stories|news|articles)|"
    r"recommended (?:for you|stories|articles|reading)|most (?:read|popular|viewed|shared)(?: (?:stories|articles))?|"
    r"popular (?:posts|stories|articles)|read next|up next|don'?t miss|trending (?:now|stories|articles|news)|"
    r"leave a (?:reply(?: cancel reply)?|comment)|post a comment|add (?:a |your )?comment|source link|"
    r"explore more on these topics|"
    r"artigos relacionados|notícias relacionadas|articles similaires|à lire aussi|ähnliche (?:beiträge|artikel)|"
    r"artículos relacionados|noticias relacionadas|articoli correlati|"
    # "you may also like" and "most read" in other languages
    r"(?:también )?te puede(?:n)? (?:gustar|interesar)|(?:ti )?potrebbe(?:ro)? (?:interessarti|piacerti)|"
    r"vous (?:aimerez|pourriez) aussi(?: aimer)?|das könnte sie auch interessieren|"
    r"você (?:também )?pode gostar|(?:lo )?más leíd[oa]s?|mais lid[oa]s|più lett[ei]|meistgelesen"
)
# Buttons of recipe-card plugins (WP Recipe Maker, Tasty Recipes...), as a scraper dumps them.
_RECIPE_BUTTON = (
    r"(?:jump|skip) to (?:the )?recipe|(?:print|pin|save|rate)(?: this)? recipe|rate this recipe|"
    r"aller à la recette|imprimer(?: la)? recette|épingler(?: la)? recette|ir a la receta|imprimir(?: la)? receta|"
    r"zum rezept|rezept drucken|vai alla ricetta|stampa(?: la)? ricetta|ir para a receita|imprimir(?: a)? receita"
)
_SHARE_LABEL = (
    r"share(?: this(?: (?:article|story|post|page))?)?|like this|tweet|pin it|"
    r"share (?:on|via) (?:facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|email|telegram)"
)
# A promo label, then a colon-like separator and another story's title: "READ MORE: ...", "Leia também: ...".
_PROMO_LABEL = (
    r"read more|read also|also read|related(?: story| article| reading)?|see also|"
    r"leia (?:também|mais)|veja (?:também|mais)|lire aussi|à lire aussi|a lire aussi|voir aussi|"
    r"lesen sie (?:auch|mehr)|mehr zum thema|auch interessant|lea también|lee también|ver también|"
    r"leggi anche|vedi anche|lees ook|zie ook|(?:también )?te puede(?:n)? interesar|(?:ti )?potrebbe interessarti|"
    r"pode (?:te )?interessar|das könnte sie auch interessieren"
)
# A pitch to the reader, found anywhere in a short block: newsletter and subscription boxes, affiliate disclosures,
# social calls to action. Phrases an article about newsletters or affiliate marketing would not use about itself.
_PITCH = (
    r"delivered (?:straight |directly |right )?to your inbox|"
    r"(?:sign up|subscribe) (?:for|to) (?:our|my|the) (?:free )?(?:daily |weekly )?(?:[\w-]+ ){0,2}newsletter|"
    r"join (?:our|my) (?:[\w-]+ ){0,2}(?:newsletter|mailing list)|by submitting your email|"
    r"thanks for reading\b.{0,80}\bsubscribe|subscribe for free|"
    r"(?:meld je|schrijf je) (?:aan|in) voor (?:onze|de) (?:gratis )?nieuwsbrief|abonnez-vous|"
    r"inscrivez-vous (?:à|a) (?:notre|la) (?:newsletter|lettre)|inscreva-se (?:na|em) nossa newsletter|"
    r"receba (?:as )?(?:notícias|novidades)\b.{0,60}\b(?:whatsapp|e-mail|email|newsletter|telegram)|"
    r"suscr[ií]bete a (?:nuestr[oa]) (?:newsletter|bolet[ií]n)|newsletter abonnieren|"
    r"melden sie sich\b.{0,40}\bnewsletter an|"
    r"(?:this|the|our|my) (?:post|article|page|site|blog|website|guide|review) (?:may )?contains? (?:some )?"
    r"affiliate links|as an amazon associate|(?:i|we) (?:may )?(?:earn|receive|make|get) (?:a )?(?:small )?"
    r"(?:commission|kickback)|"
    r"when you (?:buy|purchase|shop|book) (?:something )?(?:through|via|using) (?:our|the|my|links)|"
    r"report this ad|pin (?:it|this) for later|tag @\w+ on (?:instagram|twitter|x|tiktok)|"
    r"did you (?:make|try) this recipe|follow us on (?:facebook|twitter|instagram|x|tiktok)\b"
)
PITCH_MAX_WORDS = 40
# A photo credit: a credit label, a separator and a name ("Photo: Jane Doe", "(Credit: Reuters)", "Foto: K. Weidlich",
# "Image by NASA"). At most CREDIT_MAX_WORDS words: a caption sentence that opens with "Photo:" is left to the model.
_CREDIT = re.compile(
    r"[\s(\[]*(?:photos?|fotos?|images?|pictures?|photograph(?:y|s)?|photo credits?|image credits?|credits?|"
    r"bild(?:er)?|fotografía|fotografia|créditos?|imagem|immagine|afbeelding|illustration)"
    r"\s*(?:by|von|par|por|di|:|：|©|/|\|)\s*[^\s:：]",
    re.I,
)
CREDIT_MAX_WORDS = 10
# A promo is a title, not a paragraph: "RELATED: GOProud's 2012 endorsees did not fare very well. Aside from ..." opens
# an article paragraph with the same label.
PROMO_MAX_WORDS = 20
# Whole-line labels are short; longer blocks are not even tried (the rules run per kept block, so this bounds the cost).
LABEL_MAX_CHARS = 80
PROMO_MAX_CHARS = 250
PITCH_MAX_CHARS = 320

# Rule names, and the alternatives of each; one regex tries them all (a fullmatch per kept short block).
RULES: dict[str, str] = {
    "ad label": f"{_AD_LABEL}|{_AD_CONTINUE}",
    "skip link": _SKIP_LINK,
    "widget header": _WIDGET_HEADER,
    "share label": _SHARE_LABEL,
    "recipe button": _RECIPE_BUTTON,
}
_GROUPS = {f"r{k}": name for k, name in enumerate(RULES)}
_LABEL = re.compile(
    _LEAD
    + "(?:"
    + "|".join(f"(?P<{g}>{RULES[name]})" for g, name in _GROUPS.items())
    + ")"
    + _TAIL
    # a markdown link's target after the label: "[Skip to content](#main)"
    + r"(?:\(#[^)\s]*\)\s*)?",
    re.I,
)
_PROMO = re.compile(f"{_LEAD}(?:{_PROMO_LABEL})\\s*[:：|»›→]\\s*\\S", re.I)
# Matched on the lowercased text: a case-insensitive search of this many alternatives costs ~6 us per line, a search of
# the lowercased one a tenth of that; the trigger words below (one of which every pitch phrase contains) go first.
_PITCH_RE = re.compile(_PITCH)
_PITCH_TRIGGERS = re.compile(
    r"inbox|newsletter|subscribe|affiliate|associate|commission|kickback|report this ad|for later|tag @|this recipe|"
    r"follow us|nieuwsbrief|abonnez|inscrivez|inscreva|receba|suscr|abonnieren|when you"
)


def boilerplate_rule(text: str, *, pitches: bool = True) -> str | None:
    """The name of the boilerplate rule a block's text matches ("ad label", "read-also promo"...), or None.

    ``pitches=False`` leaves out the "pitch" rule (see drop_boilerplate).
    """
    n = len(text)
    if n > PITCH_MAX_CHARS:
        return None
    if n <= LABEL_MAX_CHARS:
        m = _LABEL.fullmatch(text)
        if m is not None:
            return _GROUPS[m.lastgroup or ""]
    if n <= PROMO_MAX_CHARS and _PROMO.match(text) and len(text.split()) <= PROMO_MAX_WORDS:
        return "read-also promo"
    if n <= LABEL_MAX_CHARS and _CREDIT.match(text) and len(text.split()) <= CREDIT_MAX_WORDS:
        return "photo credit"
    if pitches:
        low = text.lower()
        if _PITCH_TRIGGERS.search(low) and _PITCH_RE.search(low) and len(text.split()) <= PITCH_MAX_WORDS:
            return "pitch"
    return None


# A byline that a text-node scraper cut in two: a line that is only "by" (or "Posted by", "von", "par"...), then the
# name on a line of its own. On the corpora's dumps such names are authors' and commenters' names; dropping them
# leaves the validation F1 unchanged to four places (benchmarks/rules.py), and the text policy calls bylines clutter.
_BY_FRAGMENT = re.compile(r"\W*(?:written |posted |words |story )?(?:by|von|par|por|door|di|da)\W*", re.I)
BYLINE_NAME_MAX_WORDS = 4


def _byline_name(text: str, previous: str) -> bool:
    """Whether a line is the name half of a byline cut in two ("by" on the line before it)."""
    return (
        len(previous) <= 20
        and _BY_FRAGMENT.fullmatch(previous) is not None
        and len(text.split()) <= BYLINE_NAME_MAX_WORDS
        and not text.rstrip().endswith((".", "!", "?"))
    )


def pitches_for(source: str) -> bool:
    """Whether the pitch rule applies to a page of this input kind: plain text only (see drop_boilerplate)."""
    return source == "text"


def drop_boilerplate(blocks: Sequence[Block], keep: list[bool], *, pitches: bool = True) -> list[bool]:
    """``keep`` (one decision per block) with every kept boilerplate block set to False, in place; returns it.

    The Detector passes ``pitches=False`` for HTML: there the model sees the newsletter box or disclosure element
    around a pitch (measured: 6 more pitch lines dropped on 1,142 validation pages), and the search would add ~0.2 ms
    per page to the ~0.1 ms the other rules take, a further 3% of an HTML page's extraction time.
    """
    longest = PITCH_MAX_CHARS if pitches else PROMO_MAX_CHARS  # no rule matches a longer block
    for i in compress(range(len(keep)), keep):
        if len(blocks[i].text) <= longest and rule_at(blocks, i, pitches=pitches) is not None:
            keep[i] = False
    return keep


def rule_at(blocks: Sequence[Block], i: int, *, pitches: bool = True) -> str | None:
    """The boilerplate rule that block ``i`` of a page matches (its text, or with the block before it), or None."""
    text = blocks[i].text
    name = boilerplate_rule(text, pitches=pitches)
    if name is None and i and _byline_name(text, blocks[i - 1].text):
        name = "byline name"
    return name
