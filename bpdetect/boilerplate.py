"""Boilerplate lines that are clutter on any page: ad labels, skip links, widget headers, promos, credits, pitches.

The model scores every block; these rules then drop a kept block whose whole text is one of a few fixed phrases, or a
short line of a fixed shape (a copyright notice, a tags line, a "Published: <date>" line, a caption that ends with its
credit, a recipe card's "Prep Time: 15 minutes"). They catch what a learned score leaves near the threshold because the
corpora disagree or rarely show it: an "Advertisement" label between two paragraphs, "Continua após a publicidade",
"[Skip to content](#main)", "Related Posts", "Check price on Amazon", or an inline promo "Leia também: <another story's
title>" that several corpora's gold keeps. On the corpora's 1,142 validation pages (benchmarks/rules.py, the shipped
models of 2026-11-28) 76% of the text lines and 49% of the HTML blocks they drop are clutter by gold. The rest are
lines that some corpora's gold keeps and the product calls clutter: commenters' names after "by", date lines (comment
timestamps and "Published: July 23, 2012" in cleaneval and dragnet), wire copyright notices (l3s-gn1), captions with
credits, promo lines, photo credits, widget headers. Validation macro F1: text 0.9008 without, 0.9004 with the rules;
HTML 0.9190 to 0.9192.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import compress

from .records import Block

__all__ = ["RULES", "TEXT_ONLY_RULES", "boilerplate_rule", "drop_boilerplate", "rule_at", "text_rules_for"]

# Decoration a scraper leaves around a label: markdown heading/list/quote marks, rules, brackets, arrows.
_LEAD = r"[\s#>*\-–—•·|=_.()\[\]…]*"
_TAIL = r"[\s:：.!…»›→\-–—|=_()\[\]*]*"

_AD_LABEL = (
    r"advertisements?|advertising|advertisment|advertorial|sponsored(?: content| links?| posts?| stories)?|"
    r"paid (?:content|post|partnership)|publicité|publicidade|publicidad|anzeige|werbung|pubblicità|advertentie|"
    r"reklame|annonse|mainos|reklama|annons"
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
    r"related(?: (?:posts?|articles?|stories|content|news|links|reading|videos?|topics))?|"
    r"you (?:missed|may have missed)|you (?:may|might) (?:also )?like|more (?:stories|news|articles)|"
    r"recommended (?:for you|stories|articles|reading)|most (?:read|popular|viewed|shared)(?: (?:stories|articles))?|"
    r"popular (?:posts|stories|articles)|read next|up next|don'?t miss|trending (?:now|stories|articles|news)|"
    r"leave a (?:reply(?: cancel reply)?|comment)|post a comment|add (?:a |your )?comment|source link|"
    r"explore more on these topics|"
    r"artigos relacionados|notícias relacionadas|articles similaires|à lire aussi|ähnliche (?:beiträge|artikel)|"
    r"artículos relacionados|noticias relacionadas|articoli correlati|gerelateerde (?:artikelen|berichten)|"
    r"zobacz (?:również|także|też)|czytaj (?:również|także|też)|podobne artykuły|polecane artykuły|"
    r"najczęściej czytane|meest gelezen|"
    # "you may also like" and "most read" in other languages
    r"(?:también )?te puede(?:n)? (?:gustar|interesar)|(?:ti )?potrebbe(?:ro)? (?:interessarti|piacerti)|"
    r"vous (?:aimerez|pourriez) aussi(?: aimer)?|das könnte sie auch interessieren|"
    r"você (?:também )?pode gostar|(?:lo )?más leíd[oa]s?|mais lid[oa]s|più lett[ei]|meistgelesen|"
    # a newsletter box's heading (whole line only: the box's sentence is left to the model and the pitch rule)
    r"(?:do you )?like what you(?:'|’)?re reading\??|enjoy(?:ing|ed) (?:this|the) (?:post|article|story|read)\?|"
    r"(?:du willst|willst du) keine (?:rezepte|beiträge|artikel|posts?|neuigkeiten) mehr verpassen\?|"
    r"keine(?:n)? (?:beitrag|artikel|rezepte|beiträge|post) mehr verpassen!?|"
    r"ne manquez (?:plus )?aucun (?:article|billet)!?|"
    # a table of contents' header (its entries are left to the model) and a feedback widget's question
    r"table of contents|contents|on this page|"
    r"inhaltsverzeichnis|sommaire|(?:tabla de )?contenidos?|índice|indice(?: dei contenuti)?|inhoudsopgave|"
    r"spis treści|innehåll|(?:was|is) this (?:article|page|post|guide|answer|information) (?:helpful|useful)\??|"
    r"did you find this (?:article|page|post|guide) (?:helpful|useful)\??|war dieser artikel hilfreich\??|"
    r"cet article (?:vous )?a-t-il été utile ?\??|¿?te ha resultado útil\??"
)
# The fields and buttons of a sign-up or search form, as a scraper dumps their labels and placeholders.
_FORM_LABEL = (
    r"(?:enter |type )?your (?:e-?mail|email address|e-?mail-adresse)|enter (?:your )?e-?mail(?: address)?|"
    r"e-?mail address|subscribe(?: now)?|sign (?:me )?up(?: now)?|search(?: for)?(?: \.\.\.)?|"
    r"ihre e-?mail-adresse|votre (?:adresse )?e-?mail|tu (?:correo|e-?mail)(?: electrónico)?|seu e-?mail|"
    # a form's name field, a required field ("Name *"; a bare "name" is also an API parameter), an e-mail placeholder
    r"(?:first|last|full|your) name|"
    r"(?:name|e-?mail|e-?mailadres|website|comment|vorname|nachname|prénom|nom|nombre|nome|voornaam|achternaam)\s*\*|"
    r"(?:you|your|name|email|e-mail|ihre|votre|seu|tu)@(?:example|beispiel|exemplo|ejemplo|esempio|voorbeeld)"
    r"\.(?:com|de|fr|es|it|nl|org)"
)
# A line that is only the rights notice of a footer.
_RIGHTS_RESERVED = (
    r"all rights reserved|tous droits réservés|todos los derechos reservados|todos os direitos reservados|"
    r"alle rechte vorbehalten|tutti i diritti riservati|alle rechten voorbehouden|riproduzione riservata"
)
# Buttons of recipe-card plugins (WP Recipe Maker, Tasty Recipes...), as a scraper dumps them.
_RECIPE_BUTTON = (
    r"(?:jump|skip) to (?:the )?recipe|(?:want to )?(?:print|pin|save|rate)(?: this)? recipe\??|rate this recipe|"
    r"aller à la recette|imprimer(?: la)? recette|épingler(?: la)? recette|ir a la receta|imprimir(?: la)? receta|"
    r"zum rezept|rezept drucken|vai alla ricetta|stampa(?: la)? ricetta|ir para a receita|imprimir(?: a)? receita|"
    r"valora esta receta|vota (?:questa|la) ricetta|notez cette recette|rezept bewerten|avalie esta receita"
)
# Buttons of affiliate and price widgets: "Check price on Amazon", "See today's price at ...", "Zum Angebot*".
_SHOP_BUTTON = (
    r"(?:check|see|view|compare) (?:the )?(?:latest |current |today'?s |best )?prices?(?: (?:on|at) [\w.' -]{1,30})?|"
    r"(?:buy|shop|order)(?: (?:it|one|now|this))?(?: now)? (?:on|at|from) (?:amazon|[\w.' -]{1,25})|shop now|"
    r"(?:view|see) (?:it )?on amazon|zum angebot|angebot ansehen|voir (?:le|les) (?:prix|offres?)|comparer les offres|"
    r"ver (?:el )?precio|ver ofertas?|vedi (?:il )?prezzo|vedi offerta|bekijk (?:de )?prijs|ver preço"
)
# A press release's dateline label.
_RELEASE_LABEL = r"for immediate release|(?:for )?release immediately"
_SHARE_LABEL = (
    r"share(?: this(?: (?:article|story|post|page))?)?|like this|tweet|pin it|"
    r"share (?:on|via) (?:facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|email|telegram)|"
    r"partager|épingler|compartir|compartilhar|condividi|teilen|delen|"
    r"(?:pin|save) (?:this|it|me)(?: (?:image|post|recipe|article|pin))?(?: (?:for later|to pinterest|on pinterest))?|"
    r"épingle(?:z)?[- ]moi|épinglez(?:-la| cet article| cette recette)?|guárda(?:lo|la) en pinterest|"
    r"salva(?:lo|la)? su pinterest|spara (?:det |den )?på pinterest|(?:salve|guarde) no pinterest|"
    r"deel dit (?:artikel|bericht)|dela(?: artikeln| inlägget)?|copy link|copier le lien|link kopieren|copiar enlace|"
    # a code block's copy button
    # (a bare "Copy" only as the whole line: "COPY . ." is a Dockerfile instruction)
    r"copy(?= *$)|copy code|copy to clipboard|copied!?|code kopieren|copier le code|copiar código"
)
# A promo label, then a colon-like separator and another story's title: "READ MORE: ...", "Leia também: ...".
_PROMO_LABEL = (
    r"read more|read also|also read|related(?: story| article| reading)?|see also|watch(?: live| now)?|"
    r"leia (?:também|mais)|veja (?:também|mais)|lire aussi|à lire aussi|a lire aussi|voir aussi|"
    r"lesen sie (?:auch|mehr)|mehr zum thema|auch interessant|lea también|lee también|ver también|"
    r"leggi anche|vedi anche|lees ook|zie ook|(?:también )?te puede(?:n)? interesar|(?:ti )?potrebbe interessarti|"
    r"czytaj (?:również|także|też)|zobacz (?:również|także|też)|"
    r"pode (?:te )?interessar|das könnte sie auch interessieren"
)
# A pitch to the reader, found anywhere in a short block: newsletter and subscription boxes, affiliate disclosures,
# social calls to action. Phrases an article about newsletters or affiliate marketing would not use about itself.
_PITCH = (
    r"(?:delivered|sent|send(?: it| them)?|straight|directly|right) (?:straight |directly |right )?to your inbox|"
    r"(?:sign up|subscribe) (?:for|to) (?:our|my|the) (?:free )?(?:daily |weekly )?(?:[\w-]+ ){0,2}newsletter|"
    r"join (?:our|my) (?:[\w-]+ ){0,2}(?:newsletter|mailing list)|by submitting your email|"
    # consent small print under a sign-up form
    r"by (?:submitting|signing up|subscribing|registering|clicking|entering)\b.{0,60}\byou (?:agree|consent|accept)|"
    # donation appeals and calls for readers' photos and tips
    r"(?:please )?consider (?:making a (?:[\w-]+ ){0,2}(?:donation|contribution|gift)|supporting (?:us|our (?:work|"
    r"journalism|reporting|newsroom)))|support (?:our|independent|local|nonprofit) (?:journalism|newsroom)|"
    r"donate (?:now|today)\b|send (?:it|them) to us\b|send us your (?:photos?|videos?|(?:news )?tips?|stories)\b|"
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
    r"did you (?:make|try) this recipe|follow us on (?:facebook|twitter|instagram|x|tiktok)\b|"
    # an app pitch under a story: "Download the free KXRW 6 app for breaking news alerts."
    # ("download the Photos app from your app store" is a how-to's step)
    r"(?:download|get) (?:the|our) (?:free )?(?:[\w-]+ ){0,4}app (?:for|to get|and get)\b"
)
PITCH_MAX_WORDS = 40
# A photo credit: a credit label, a separator and a name ("Photo: Jane Doe", "(Credit: Reuters)", "Foto: K. Weidlich",
# "Image by NASA"). At most CREDIT_MAX_WORDS words: a caption sentence that opens with "Photo:" is left to the model.
_CREDIT = re.compile(
    r"[\s(\[]*(?:photos?|fotos?|images?|pictures?|photograph(?:y|s)?|photo credits?|image credits?|credits?|"
    r"bild(?:er)?|fotografía|fotografia|créditos?|imagem|immagine|afbeelding|illustration)"
    # not a config line such as docker-compose's "image: nginx:1.25" (a name then ":<digit>" is a tag, not a credit)
    r"\s*(?:by|von|par|por|di|:|：|©|/|\|)\s*(?!\S*:\d)[^\s:：]",
    re.I,
)
CREDIT_MAX_WORDS = 10
# A photo caption that ends with its credit: "... folds flat but not inward. (Photo: Priya Natarajan)", "Il gol del 2-1
# al 78' (foto Ravelli)", "... am Ammerbach. Foto: Jonas Wehrle", "... mode Nuit activé. © Labo Mobile". The credit is
# in brackets, or follows a sentence's end, or is a "©" notice; the line is short (a caption, not a paragraph).
_TRAILING_CREDIT = re.compile(
    r"(?:[(\[]\s*(?:photos?|fotos?|images?|pictures?|credits?|bild|imagem|immagine|photo credit|screenshot)\b"
    r"[^()\[\]]{0,60}[)\]]|"
    r"(?<=[.!?»\"”)])\s+(?:photos?|fotos?|bild|images?|credits?|screenshot)\s*(?::|by|von|par|por|di)\s*[^.!?:]{2,50}|"
    r"©\s*[^.!?©]{2,50})\s*\.?",
    re.I,
)
_CREDIT_WORDS = ("photo", "foto", "©", "credit", "bild", "image", "picture", "imagem", "immagine", "screenshot")
CAPTION_MAX_WORDS = 40
# A recipe card's field: "Prep Time: 15 minutes", "Servings: 10 slices", "Tiempo de preparación: 20 minutos",
# "Serves 4"; not "Difficulty: easy", which is also a hiking route's fact. The card's ingredients and steps are the
# article; its fields are not.
_RECIPE_FIELD = re.compile(
    r"[\s|·•\-–—*]*(?:prep(?:aration)? time|cook(?:ing)? time|total time|rest(?:ing)? time|chill(?:ing)? time|"
    r"bake time|inactive time|servings?|serves|yield|calories|course|cuisine|"
    r"tiempo de (?:preparación|cocción|reposo|horneado)|tiempo total|raciones|porciones|calorías|cocina|"
    r"tempo di (?:preparazione|cottura|riposo)|tempo totale|porzioni|dosi per|calorie|portata|cucina|"
    r"temps de (?:préparation|cuisson|repos)|temps total|cuisson|portions|"
    r"vorbereitungszeit|zubereitungszeit|backzeit|kochzeit|ruhezeit|gesamtzeit|wartezeit|portionen|kalorien|"
    r"gericht|küche|tempo de (?:preparo|cozimento)|rendimento|porções|calorias|"
    r"bereidingstijd|oventijd|kooktijd|totale tijd|porties|calorieën|keuken)"
    r"(?:\s*[:：]\s*\S|\s+\d)",
    re.I,
)
RECIPE_FIELD_MAX_WORDS = 8
# Rules for lines that open with a label of their own kind; each runs only on a line whose first characters (past
# _HEAD_DECOR) start with one of its heads, a C-level test, so a kept block pays no regex for them (measured: the three
# searches unconditionally made the rules 60% slower).
_HEAD_DECOR = " \t|·•-–—([#>*"
# A footer's copyright notice: "© 2024 The Courier", "Copyright © 2024 ...", "Copyright 2024 KTLQ. All rights
# reserved". "Copyright" must be followed by a mark, or by a year and then a name, a stop or nothing: "Copyright law
# changed in 2019" opens an article sentence, "Copyright 1970, 194 pages" and "Copyright 1936 and 1939" describe books.
# (A line that is only "All rights reserved" is a label, in RULES.)
_COPYRIGHT = re.compile(
    r"[\s|·•\-–—(\[]*(?:©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4}(?:\s*[-–]\s*\d{4})?(?:\s*$|\s*[.|·]|\s+(?-i:[A-Z]))))",
    re.I,
)
COPYRIGHT_MAX_WORDS = 30
# A tags line: a tag or category label, a colon and the tags ("Tags: budget, schools", "Mots-clés : automne, poires",
# "Kategorie: Vereinsleben").
_TAGS = re.compile(
    r"[\s|·•\-–—(\[#>*]*(?:tags?|tagged(?: with| in)?|filed under|posted in|categor(?:y|ies)|kategorien?|catégories?|"
    r"categorías?|categorias?|categorie|mots[- ]clés|étiquettes|schlagw(?:ö|oe)rter|schlagworte|etiquetas|"
    r"palavras-chave|trefwoorden|tagi|tagy)\s*[:：]\s*\S",
    re.I,
)
TAGS_MAX_WORDS = 20
# A publication-date line: a "published"/"updated" label, then a date ("Updated: March 3, 2024 4:12 pm",
# "Publicado em 09/04/2024 às 16h32 | Atualizado em 10/04/2024"). Short: a sentence that opens with "Updated ..."
# and goes on is left to the model; without a date ("Updated 2024 figures show ...") the rule does not apply.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_LINE = re.compile(
    r"[\s|·•\-–—(\[]*(?:published|posted|updated|last updated|last modified|publicado|atualizado|actualizado|publié|"
    r"mis à jour|veröffentlicht|aktualisiert|pubblicato|aggiornato|gepubliceerd|bijgewerkt)"
    r"(?:\s+(?:on|at|em|el|le|am|il|op))?\s*[:：,]?\s*"
    rf"(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}\b|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?{_MONTH}\s)",
    re.I,
)
DATE_LINE_MAX_WORDS = 16
# A sentence after the date ("posted on July 19. You can watch ...") makes a date line prose.
_SENTENCE_AFTER = re.compile(r"[.!?]\s+[A-Za-z]{2}")
# (rule name, the lowercased heads a line must start with, its regex, the most words it may have)
_HEADED_RULES: tuple[tuple[str, tuple[str, ...], re.Pattern[str], int], ...] = (
    ("copyright", ("©", "c)", "copyright"), _COPYRIGHT, COPYRIGHT_MAX_WORDS),  # "(c) 2024" is "c) 2024" past the "("
    (
        "tags line",
        (
            "tag", "filed", "posted in", "categ", "kateg", "catég", "mots", "étiquettes", "schlagw", "etiquetas",
            "palavras", "trefw",
        ),
        _TAGS,
        TAGS_MAX_WORDS,
    ),
    (
        "date line",
        (
            "published", "posted", "updated", "last ", "publicado", "atualizado", "actualizado", "publié", "mis à",
            "veröffentlicht", "aktualisiert", "pubblicato", "aggiornato", "gepubliceerd", "bijgewerkt",
        ),
        _DATE_LINE,
        DATE_LINE_MAX_WORDS,
    ),
)
_HEADS = tuple(head for _, heads, _, _ in _HEADED_RULES for head in heads)
_HEAD_CHARS = max(map(len, _HEADS))
# A promo is a title, not a paragraph: "RELATED: GOProud's 2012 endorsees did not fare very well. Aside from ..." opens
# an article paragraph with the same label.
PROMO_MAX_WORDS = 20
# Whole-line labels are short; longer blocks are not even tried (the rules run per kept block, so this bounds the cost).
LABEL_MAX_CHARS = 80
PROMO_MAX_CHARS = 250
PITCH_MAX_CHARS = 320

# Rules that run on plain-text input only (see drop_boilerplate): the rest run on both kinds.
TEXT_ONLY_RULES: tuple[str, ...] = ("captioned credit", "recipe field", "shop button", "pitch")
# Rule names, and the alternatives of each; one regex tries them all (a fullmatch per kept short block).
RULES: dict[str, str] = {
    "ad label": f"{_AD_LABEL}|{_AD_CONTINUE}",
    "skip link": _SKIP_LINK,
    "widget header": _WIDGET_HEADER,
    "share label": _SHARE_LABEL,
    "recipe button": _RECIPE_BUTTON,
    "copyright": _RIGHTS_RESERVED,
    "form label": _FORM_LABEL,
    "shop button": _SHOP_BUTTON,
    "release label": _RELEASE_LABEL,
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
    r"follow us|nieuwsbrief|abonnez|inscrivez|inscreva|receba|suscr|abonnieren|when you|submitting|you agree|"
    r"you consent|you accept|consider|journalism|newsroom|donate|send it|send them|send us|mailing list|download|"
    r"get the|get our"
)


def boilerplate_rule(text: str, *, text_rules: bool = True) -> str | None:
    """The name of the boilerplate rule a block's text matches ("ad label", "read-also promo"...), or None.

    ``text_rules=False`` leaves out TEXT_ONLY_RULES (see drop_boilerplate).
    """
    n = len(text)
    if n > PITCH_MAX_CHARS:
        return None
    if n <= LABEL_MAX_CHARS:
        m = _LABEL.fullmatch(text)
        if m is not None:
            name = _GROUPS[m.lastgroup or ""]
            if text_rules or name not in TEXT_ONLY_RULES:
                return name
    if n <= PROMO_MAX_CHARS and _PROMO.match(text) and len(text.split()) <= PROMO_MAX_WORDS:
        return "read-also promo"
    if n <= LABEL_MAX_CHARS and _CREDIT.match(text) and len(text.split()) <= CREDIT_MAX_WORDS:
        return "photo credit"
    if n <= PROMO_MAX_CHARS:
        head = text.lstrip(_HEAD_DECOR)[:_HEAD_CHARS].lower()
        if head.startswith(_HEADS):
            for name, heads, rx, max_words in _HEADED_RULES:
                # A sentence after the date is prose: "posted on July 19. You can watch the video below."
                prose = name == "date line" and _SENTENCE_AFTER.search(text) is not None
                if head.startswith(heads) and rx.match(text) and len(text.split()) <= max_words and not prose:
                    return name
    if not text_rules:
        return None
    low = text.lower()
    words = len(text.split())
    if n <= PROMO_MAX_CHARS:
        if words <= CAPTION_MAX_WORDS and any(w in low for w in _CREDIT_WORDS):
            body = text.rstrip()
            m = _TRAILING_CREDIT.search(body)
            if m is not None and m.end() == len(body) and m.start() > 0:
                return "captioned credit"
        if words <= RECIPE_FIELD_MAX_WORDS and _RECIPE_FIELD.match(text):
            return "recipe field"
    if _PITCH_TRIGGERS.search(low) and _PITCH_RE.search(low) and words <= PITCH_MAX_WORDS:
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


def text_rules_for(source: str) -> bool:
    """Whether TEXT_ONLY_RULES apply to a page of this input kind: plain text only (see drop_boilerplate)."""
    return source == "text"


def drop_boilerplate(blocks: Sequence[Block], keep: list[bool], *, text_rules: bool = True) -> list[bool]:
    """``keep`` (one decision per block) with every kept boilerplate block set to False, in place; returns it.

    The Detector passes ``text_rules=False`` for HTML, which leaves out TEXT_ONLY_RULES. There the model sees the
    newsletter box or disclosure element around a pitch (measured: 6 more pitch lines dropped on 1,142 validation
    pages), and the search would add ~0.2 ms per page to the ~0.1 ms the other rules take, a further 3% of an HTML
    page's extraction time; and the corpora's HTML gold keeps price buttons and recipe-card fields, and half the
    captions that end with a credit (benchmarks/rules.py, 2026-11-28: 0 of 21, 0 of 5 and 12 of 22 such kept blocks
    were clutter by gold).
    """
    longest = PITCH_MAX_CHARS if text_rules else PROMO_MAX_CHARS  # no rule matches a longer block
    for i in compress(range(len(keep)), keep):
        if len(blocks[i].text) <= longest and rule_at(blocks, i, text_rules=text_rules) is not None:
            keep[i] = False
    return keep


def rule_at(blocks: Sequence[Block], i: int, *, text_rules: bool = True) -> str | None:
    """The boilerplate rule that block ``i`` of a page matches (its text, or with the block before it), or None."""
    text = blocks[i].text
    name = boilerplate_rule(text, text_rules=text_rules)
    if name is None and i and _byline_name(text, blocks[i - 1].text):
        name = "byline name"
    return name
