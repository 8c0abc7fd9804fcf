"""Blocks to a feature matrix: a fixed, named, versioned feature list computed vectorized over a whole document.

One schema serves both sources: DOM features are 0 for plain-text input (``Block.source == "text"``) and the
``is_text_input`` column tells the two apart; the plain-text columns are 0 for HTML input.

How it stays fast (budget: well under lxml's parse time for the same page):
- base columns come from C-level ``map`` calls over the blocks (attribute getters, ``str`` methods, ``str.split``), so
  no Python code runs per block;
- character classes (commas, sentence punctuation, separators) are counted with one lookup table over the page's code
  points;
- token facts (alphabetic, capitalized, stopword, month, trigger word...) are computed once per distinct token, kept
  in a bounded memo (Python path only), and summed per block with one ``np.add.reduceat``;
- text patterns are found in two stages, trigger tokens pick candidate blocks and a small regex confirms each, plus a
  few literal-led regex scans of the whole page;
- everything else is whole-column numpy;
- the optional compiled Kit (bpdetect/_cfeatures.pyx, see _KIT) runs the per-block and per-character loops in C with
  bitwise-equal results.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import attrgetter, itemgetter

import numpy as np

from ._speedups import load as _load_speedup
from .records import SEM_LINK_ONLY, SEMANTIC_FLAGS, Block

__all__ = ["FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "featurize", "featurize_many"]

# Bump whenever a feature is added, removed, reordered or its definition changes: models record it and refuse a
# mismatched schema.
FEATURE_SCHEMA_VERSION = 5

# ---------------------------------------------------------------------------------------------------------------------
# Tunable constants (heuristics, not learned)
# ---------------------------------------------------------------------------------------------------------------------

# Value of a neighbour column where the neighbour lies outside the document (distinct from any real value: all
# neighbour columns are >= 0).
NEIGHBOUR_PAD = -1.0
# Half-width of the windowed means and of the smoothing of the chars-per-block curve.
WINDOW = 3
# A block is "content-ish" (used for page statistics only) when it has this many words and little link text.
CONTENTISH_MIN_WORDS = 10
# Boundary markers (see _STRUCTURE_FEATURES) are short: a widget header, not a paragraph that mentions related posts.
MARKER_MAX_WORDS = 8
# Blocks on each side over which the share of prose-like blocks is taken.
STRUCTURE_WINDOW = 8
# Pattern columns whose short blocks are boundary markers.
MARKER_PATTERNS: tuple[str, ...] = (
    "pat_related", "pat_you_missed", "pat_reply", "pat_source", "pat_copyright", "pat_pagination",
)  # fmt: skip
CONTENTISH_MAX_LINK_DENSITY = 0.33
# The block's own class/id tokens plus those of its nearest ancestors: Block.class_tokens is flat, so "nearest"
# means the first few tokens (an owner with 1–2 classes plus its parent's, typically).
NEAR_CLASS_TOKENS = 4
# Words of at most this many letters count as "short" (function-word proxy: the, de, und, la, het, …).
SHORT_TOKEN_MAX_LEN = 3
# A word seen at least this many times on the page counts as frequent there.
DOC_FREQUENT_MIN_COUNT = 3
# Size of the page's "most frequent words" list (words must occur at least twice to be in it).
DOC_TOP_TOKENS = 20
# Plain-text lines of at most this many words, without sentence punctuation at the end, may be titles.
TITLE_LINE_MAX_WORDS = 12
# Indentation is capped: deeper indents carry no more information and would only stretch the column.
MAX_INDENT = 40
# A meta line is short, does not end a sentence and carries one of these patterns: (columns, most words of the line).
META_LINE_RULES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("pat_byline",), 8),  # "By John", "Von Jana Becker", "By Marcus Hale, Staff Writer"
    (("pat_date", "pat_time", "pat_relative_time"), 10),  # "Posted Tuesday, November 12, 2024 4:05 pm"
    (("pat_counts", "reading_time_line"), 5),  # "0 views", "2 Comentarios", "Lesezeit: 3 Minuten"
)
# Distances to the next content-ish block are capped (log1p of this many blocks when none follows).
MAX_CONTENTISH_DIST = 200
# Reading-time lines are looked for among blocks with a digit and at most this many words.
READING_TIME_MAX_WORDS = 8
# A block opens with a label when a separator (_LEAD_SEP_RE) follows at most LEAD_LABEL_MAX_WORDS words within
# its first LEAD_LABEL_MAX_CHARS characters ("READ MORE: ..." but not a sentence that happens to contain a colon).
LEAD_LABEL_MAX_CHARS = 40
LEAD_LABEL_MAX_WORDS = 5
# Whole block is link text when at least this share of its characters sits inside links (spaces between links fall
# outside them).
LINK_ONLY_MIN_DENSITY = 0.95

_SEP = "\x00"  # joins block texts for whole-page scans; the page scans below cannot match it

# ---------------------------------------------------------------------------------------------------------------------
# Feature names, by group (the order here is the column order)
# ---------------------------------------------------------------------------------------------------------------------

_LENGTH_FEATURES: tuple[str, ...] = (
    "n_chars",
    "n_words",
    "log_chars",
    "log_words",
    "n_sentences",
    "mean_word_len",
    "n_lines",
)
_LINK_FEATURES: tuple[str, ...] = ("link_density", "n_links", "links_per_word", "is_link_only")
_STYLE_FEATURES: tuple[str, ...] = (
    "words_per_line",
    "chars_per_line",
    "punct_ratio",
    "digit_ratio",
    "upper_ratio",
    "sent_punct_ratio",
    "commas_per_word",
    "starts_upper",
    "ends_sentence_punct",
    "ends_colon",
    "is_all_caps",
    "title_case_share",
    "digit_token_share",
    "starts_bullet_char",
    "sep_chars_per_word",
)
_TOKEN_FEATURES: tuple[str, ...] = (
    "short_token_share",
    "stopword_share",
    "doc_frequent_token_share",
    "doc_frequent_short_share",
    "doc_top_token_share",
)
_PATTERN_FEATURES: tuple[str, ...] = (
    "pat_date",
    "pat_relative_time",
    "pat_time",
    "pat_counts",
    "pat_read_more",
    "pat_copyright",
    "pat_reply",
    "pat_related",
    "pat_you_missed",
    "pat_source",
    "pat_byline",
    "pat_share",
    "pat_cookie",
    "pat_subscribe_login",
    "pat_pagination",
    "pat_url",
    "pat_email",
)
_POSITION_FEATURES: tuple[str, ...] = ("rel_position", "rel_char_offset")

# Tag groups for the one-hot columns; any other HTML tag goes to "tag_other", plain-text lines to none.
_TAG_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tag_p", ("p",)),
    ("tag_div", ("div",)),
    ("tag_li", ("li",)),
    ("tag_td", ("td", "th")),
    ("tag_heading", ("h1", "h2", "h3", "h4", "h5", "h6")),
    ("tag_pre", ("pre", "code")),
    ("tag_blockquote", ("blockquote",)),
    ("tag_a", ("a",)),
    ("tag_figcaption", ("figcaption", "caption")),
    ("tag_dd_dt", ("dd", "dt", "dl")),
    ("tag_section", ("section", "article", "main")),
)
_TAG_OTHER = "tag_other"
_SEM_NAMES: tuple[str, ...] = tuple(f"sem_{name}" for name in SEMANTIC_FLAGS)
_DOM_FEATURES: tuple[str, ...] = (
    "depth",
    "depth_minus_content_median",
    "depth_rel_max",
    *(name for name, _ in _TAG_GROUPS),
    _TAG_OTHER,
    "heading_level",
    "is_heading",
    "is_list_item",
    "is_table_cell",
    "is_caption",
    *_SEM_NAMES,
    "n_class_tokens",
    "path_chars_share",
    "parent_chars_share",
)

# Class/id token families, matched by substring (or light boundaries where a short stem would over-match).
_CLASS_FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("nav", r"nav|menu|topbar|toolbar|dropdown|skip-?link"),
    ("footer", r"foot|colophon|copyright|bottom|site-?info"),
    ("header", r"header|masthead|branding|site-?title|logo|top-?bar"),
    ("comment", r"comment|disqus|discuss|repl(?:y|ies)|respond|responses|feedback"),
    (
        "related",
        r"related|recommend|popular|trending|more-?(?:stor|art|news|post|from)|also-?like|missed|read-?next|"
        r"up-?next|suggest|most-?(?:read|view|shar)|outbrain|taboola|teaser",
    ),
    ("share", r"share|sharing|social|sociable|addthis|addtoany|facebook|twitter|tweet|pinterest|whatsapp|linkedin"),
    ("sidebar", r"sidebar|side-?bar|side-?col|widget|aside|rail|secondary|complementary"),
    (
        "ad",
        r"(?:^|[-_:])ads?(?:$|[-_:\d]|unit|slot|box|wrap|container|zone|block|banner)|^ad[-_]?|advert|sponsor|"
        r"promo|adsense|adsbygoogle|doubleclick|dfp|banner|affiliate|commercial",
    ),
    ("cookie", r"cookie|consent|gdpr|onetrust|privacy|cmp-|didomi|usercentrics"),
    ("subscribe", r"subscri|newsletter|sign-?up|opt-?in|mailchimp|mc4wp|regist|log-?in|sign-?in"),
    ("byline", r"byline|by-line|author|writer|contributor|posted-?by"),
    ("meta", r"meta|date|time|posted|publish|updated|dateline|post-?info|entry-?info"),
    ("tags", r"(?:^|[-_])tags?(?:$|[-_])|tag-?(?:list|cloud|links)|categor|topics?(?:$|[-_])|keyword|taxonom|label"),
    ("breadcrumb", r"crumb"),
    ("pagination", r"paginat|pager|page-?nav|page-?numbers|nav-?links|prev|next|older|newer"),
    (
        "content",
        r"article|content|post|entry|story|body|text|main|prose|blog|news|detail|single|hentry|markdown|"
        r"paragraph|lead|intro|abstract|summary",
    ),
    (
        "hidden",
        r"hidden|hide|modal|popup|pop-?up|overlay|lightbox|dialog|off-?canvas|drawer|sr-only|screen-?reader|"
        r"collapse|tooltip|toast",
    ),
)
_CLASS_FAMILIES: tuple[str, ...] = tuple(name for name, _ in _CLASS_FAMILY_PATTERNS)
_CLASS_FEATURES: tuple[str, ...] = tuple(
    f"cls_{scope}_{family}" for family in _CLASS_FAMILIES for scope in ("near", "any")
)

# Neighbour columns: the value of a few key per-block columns at offsets -2, -1, +1, +2.
_NEIGHBOUR_KEYS: tuple[str, ...] = (
    "log_chars",
    "link_density",
    "punct_ratio",
    "is_heading",
    "is_list_item",
    "cls_near_content",
)
_NEIGHBOUR_OFFSETS: tuple[tuple[str, int], ...] = (("prev2", -2), ("prev1", -1), ("next1", 1), ("next2", 2))
_NEIGHBOUR_FEATURES: tuple[str, ...] = (
    *(f"{key}_{tag}" for key in _NEIGHBOUR_KEYS for tag, _ in _NEIGHBOUR_OFFSETS),
    "win_mean_log_chars",
    "win_mean_link_density",
    "same_tag_run_len",
    "same_path_run_len",
    "text_repeat_count",
)
_DOCUMENT_FEATURES: tuple[str, ...] = (
    "chars_rel_max",
    "chars_rel_median",
    "log_chars_minus_mean",
    "dense_dist_blocks",
    "dense_dist_rel",
    "dense_curve_rel",
    "contentish_before",
    "contentish_after",
    "doc_log_blocks",
    "doc_log_chars",
    "doc_link_density",
    "is_text_input",
)
_PLAIN_TEXT_FEATURES: tuple[str, ...] = ("indent", "has_bullet", "blank_before", "blank_after", "title_like_line")
# Meta lines and inline promos: a reading-time line ("7 min read", "Lesezeit: 3 Minuten"); a short meta line (byline,
# date/time, counter, reading time: META_LINE_RULES); how many of the two adjacent blocks are meta lines, which marks
# the fragments a scraper cuts a byline into ("Posted on" / "March 3, 2024" / "by" / "John"); the distance in blocks to
# the next content-ish block (a headline sits a few lines above the first paragraph, a site name or a ticker further
# up); whether the previous block is longer and ends with this block's text (a breadcrumb "Home » Baking » <headline>"
# above the headline); how many title-like lines that are not meta lines lie between the block and the next content-ish
# block (none under a headline, many under a site name or a ticker above the menu); a social handle ("Tag @kitchen on
# Instagram", "Follow @site"); a block opening with a known promo label, with an all-caps label, and with a label
# followed by another block's text ("READ MORE: <a teaser title of the page>").
_META_LINE_FEATURES: tuple[str, ...] = (
    "reading_time_line",
    "meta_line",
    "meta_line_neighbours",
    "next_contentish_dist",
    "prev_ends_with_block",
    "title_lines_to_content",
    "has_handle",
    "lead_label_promo",
    "lead_label_caps",
    "lead_label_tail_repeats",
)

# Where a block sits between the article and the widgets after it: a "boundary marker" is a short block of a
# post-article widget's kind ("Related Posts", "Leave a Reply", "Source link", "You Missed", a pager, a copyright
# line). Markers before the block (a teaser list under "Related Posts"), the distance to the previous and the next
# marker (the page's start and end count as markers; a list just above "Source link" ends the article), and the share
# of prose-like ("contentish") blocks among the STRUCTURE_WINDOW blocks before and after (a pros/cons list between two
# paragraphs of a review, or followed by its verdict paragraph, is inside the article).
_STRUCTURE_FEATURES: tuple[str, ...] = (
    "markers_before",
    "marker_prev_dist",
    "marker_next_dist",
    "prose_before_share",
    "prose_after_share",
)

FEATURE_NAMES: tuple[str, ...] = (
    *_LENGTH_FEATURES,
    *_LINK_FEATURES,
    *_STYLE_FEATURES,
    *_TOKEN_FEATURES,
    *_PATTERN_FEATURES,
    *_POSITION_FEATURES,
    *_DOM_FEATURES,
    *_CLASS_FEATURES,
    *_NEIGHBOUR_FEATURES,
    *_DOCUMENT_FEATURES,
    *_PLAIN_TEXT_FEATURES,
    *_META_LINE_FEATURES,
    *_STRUCTURE_FEATURES,
)

# ---------------------------------------------------------------------------------------------------------------------
# Built-in word lists and text patterns
# ---------------------------------------------------------------------------------------------------------------------

# Labels that open an inline promo or post-navigation line ("READ MORE: <another article's title>"), lowercased, in
# the languages of the stopword lists (en, de, fr, es, it, pt, nl).
_PROMO_LABELS: frozenset[str] = frozenset(
    " ".join(label.split())
    for label in """
    read more|read also|also read|read next|read|see also|see more|more|related|related story|related stories|
    related article|related articles|related coverage|related content|related reading|further reading|recommended|
    watch|watch now|watch video|video|listen|don't miss|do not miss|must read|also on|more on this|more on this story|
    up next|next|previous|prev|trending|popular|latest|top stories|more stories|you may also like|suggested|
    mehr zum thema|zum thema|passend zum thema|lesen sie auch|lesen sie mehr|auch interessant|mehr dazu|siehe auch|
    weiterlesen|mehr lesen|empfehlung|das könnte sie auch interessieren|
    lire aussi|à lire aussi|a lire aussi|à lire|voir aussi|à voir aussi|à voir|sur le même sujet|lire la suite|
    lee también|lea también|leer más|lee más|ver también|véase también|te puede interesar|le puede interesar|
    relacionado|relacionada|relacionadas|relacionados|noticias relacionadas|
    leggi anche|leggi|vedi anche|guarda anche|potrebbe interessarti|
    leia também|leia mais|veja também|veja mais|saiba mais|
    lees ook|lees meer|zie ook|meer lezen|bekijk ook
    """.split("|")
)

# About fifty of the most frequent function words per language (en, de, fr, es, it, pt, nl), lowercased.
_STOPWORDS: frozenset[str] = frozenset(
    """
    the of and to a in is it that for on was with as at by be this are from or an not but have has had he she they
    we you i his her their its which who will would can there been were if so all also more than into about what
    when no one our up out
    der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat
    dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis
    mehr durch man sein wurde ich wir
    de la le et les des en un du une que est pour qui dans par plus pas au sur ne se ce il sont son aux avec ou mais
    comme on ses elle nous vous leur été cette y très sans être fait même aussi tout c'est qu'il l'on
    el y los del las por para con no una su al lo como más pero sus le ya o este sí porque esta entre cuando muy sin
    sobre también me hasta hay donde quien desde todo nos durante todos uno les ni ese eso ante ellos e esto es son
    fue ha
    di e il che per è non si da sono dei alla gli della ma anche più nel delle questo se ci io mi sua suo loro nella
    cui sul tra molto essere stato dal
    do da em um é não os no na mais as dos foi ao ele das tem à seu sua ser muito há já está eu só pelo pela até
    isso ela era depois mesmo aos ter seus quem nas esse eles você
    van ik te dat die een hij het niet zijn was op aan met voor had er maar om hem dan zou wat mijn men dit zo door
    over ze zich bij ook tot je mij uit daar haar naar heb hoe heeft hebben deze u want nog zal zij nu geen omdat
    """.split()
)

# Month names and abbreviations (en, de, fr, es, it, pt, nl), lowercased; a date is a month next to a number.
# Abbreviations that are common words next to numbers elsewhere ("gen 2", "set 3", "out 5") are left out.
_MONTHS: frozenset[str] = frozenset(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    januar februar märz mai juni juli oktober dezember jän
    janvier février mars avril juin juillet août septembre octobre novembre décembre janv févr avr juil déc
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
    ene abr ago dic
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre mag giu lug ott
    janeiro fevereiro março maio junho julho setembro outubro novembro dezembro fev dez
    januari februari maart mei augustus mrt okt
    """.split()
)
# A day or year token: 1–4 digits, optionally with an ordinal suffix (1st, 2nd, 3rd, 4th, 1er, 1º).
_DAY_OR_YEAR_RE = re.compile(r"\d{1,4}(?:st|nd|rd|th|er|e|º)?")
# Words allowed between a number and a month: "12 de marzo", "5 of May".
_DATE_JOINERS: frozenset[str] = frozenset({"de", "of", "del"})


@dataclass(frozen=True, slots=True)
class _Rule:
    """One way to find a text pattern: any trigger token makes a block a candidate, the regex confirms it."""

    name: str  # the pattern column it sets
    triggers: str  # space-separated lowercase tokens (whitespace tokens, surrounding punctuation stripped)
    regex: str | None  # searched in the candidate's lowercased text; None: the trigger token alone suffices
    cased: bool = False  # match the original text instead of the lowercased one
    anchored: bool = False  # match at the start of the block only


# Two stages keep the cost proportional to the few candidate blocks: a many-branch regex scanned over a whole page
# costs ~0.5 us per character in Python's re, a trigger lookup is one bit of the memoized per-token facts. Regexes
# start with a literal where they can (re then jumps between occurrences of it); a leading \b would disable that.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "pat_relative_time",
        "ago",
        r"\d\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b",
    ),
    _Rule("pat_relative_time", "vor", r"vor\s+\d"),
    _Rule("pat_relative_time", "hace", r"hace\s+\d"),
    _Rule("pat_relative_time", "há", r"há\s+\d"),
    _Rule("pat_relative_time", "il", r"il y a\s+\d"),
    _Rule("pat_relative_time", "fa geleden", r"\d\s+\w+\s+(?:fa|geleden)\b"),
    _Rule(
        "pat_relative_time",
        "yesterday today gestern heute aujourd'hui aujourd’hui ayer hoy ieri oggi ontem hoje gisteren vandaag",
        None,
    ),
    _Rule("pat_time", "am", r"am\b(?:(?<=\dam)|(?<=\d am))"),
    _Rule("pat_time", "pm", r"pm\b(?:(?<=\dpm)|(?<=\d pm))"),
    _Rule("pat_time", "uhr", r"uhr\b(?:(?<=\duhr)|(?<=\d uhr))"),
    _Rule(
        "pat_counts",
        "views comment comments likes shares replies responses reads votes points followers retweets kommentar "
        "kommentare aufrufe vues commentaire commentaires partages comentario comentarios visitas vistas commenti "
        "visualizzazioni comentário comentários visualizações reacties weergaven",
        r"\d\s*[km]?\s*(?:views|comments?|likes|shares|replies|responses|reads|votes|points|followers|retweets|"
        r"kommentare?|aufrufe|vues|commentaires?|partages|comentarios?|visitas|vistas|commenti|visualizzazioni|"
        r"comentários?|visualizações|reacties|weergaven)\b",
    ),
    _Rule(
        "pat_read_more",
        "more",
        r"more(?:(?<=read more)|(?<=view more)|(?<=see more)|(?<=learn more)|(?<=show more)|(?<=load more)|"
        r"\s*(?:»|›|→|>|\.\.\.|…))",
    ),
    _Rule(
        "pat_read_more",
        "full",
        r"full\b(?:(?<=read full)|(?<=view full)|(?<=see full)|(?<=read the full)|(?<=view the full)|"
        r"(?<=see the full))",
    ),
    _Rule("pat_read_more", "reading", r"continue\s+reading"),
    _Rule("pat_read_more", "weiterlesen", None),
    _Rule("pat_read_more", "mehr", r"mehr\s+(?:lesen|erfahren|anzeigen)"),
    _Rule("pat_read_more", "suite", r"lire la suite"),
    _Rule("pat_read_more", "plus", r"en savoir plus"),
    _Rule("pat_read_more", "más mas", r"leer\s+m[aá]s"),
    _Rule("pat_read_more", "leyendo", r"seguir\s+leyendo"),
    _Rule("pat_read_more", "leggi leggere", r"leggi\s+(?:di\s+pi[uù]|tutto)|continua\s+a\s+leggere"),
    _Rule("pat_read_more", "mais", r"\b(?:leia|saiba)\s+mais"),
    _Rule("pat_read_more", "meer verder lezen", r"lees\s+(?:meer|verder)|verder\s+lezen"),
    # Inline "read also" promos that open a line before another article's title.
    _Rule("pat_read_more", "also", r"also\s+read|read\s+also"),
    _Rule("pat_read_more", "auch thema", r"lesen\s+sie\s+auch|auch\s+interessant|mehr\s+zum\s+thema"),
    _Rule("pat_read_more", "también também", r"(?:lee|lea|ver|véase|leia|veja)\s+tamb[ié]m|(?:lee|lea|ver)\s+también"),
    _Rule("pat_read_more", "aussi", r"(?:lire|voir)\s+aussi"),
    _Rule("pat_read_more", "anche", r"(?:leggi|vedi|guarda)\s+anche"),
    _Rule("pat_read_more", "ook", r"(?:lees|zie|bekijk)\s+ook"),
    _Rule("pat_copyright", "copyright impressum", None),
    _Rule(
        "pat_copyright",
        "reserved vorbehalten réservés reservados riservati voorbehouden",
        r"rights reserved|rechte vorbehalten|droits réservés|derechos reservados|diritti riservati|"
        r"direitos reservados|rechten voorbehouden",
    ),
    _Rule("pat_copyright", "terms", r"terms (?:of|and) (?:use|service|conditions)"),
    _Rule("pat_copyright", "c", r"\(c\)\s*\d{4}"),
    _Rule("pat_reply", "reply", r"reply(?:(?<=leave a reply)|(?<=login to reply)|(?<=log in to reply))"),
    _Rule(
        "pat_reply",
        "comment",
        r"comment(?:(?<=leave a comment)|(?<=post a comment)|(?<=add a comment)|(?<=add your comment)|"
        r"(?<=write a comment)|(?<=login to comment)|(?<=log in to comment))",
    ),
    _Rule("pat_reply", "published", r"email address will not be published"),
    _Rule("pat_reply", "required", r"required fields are marked"),
    _Rule("pat_reply", "notify", r"notify me of"),
    _Rule("pat_reply", "kommentar", r"kommentar (?:schreiben|verfassen|hinterlassen)"),
    _Rule("pat_reply", "commentaire", r"laiss(?:er|ez) un commentaire"),
    _Rule("pat_reply", "comentario", r"deja (?:un|tu) comentario"),
    _Rule("pat_reply", "commento", r"lascia un commento"),
    _Rule("pat_reply", "comentário", r"deixe (?:um|seu) comentário"),
    _Rule("pat_reply", "reactie", r"laat een reactie achter"),
    _Rule("pat_related", "related", r"related (?:posts?|articles?|stories|content|news|links|reading|videos?|topics)"),
    _Rule("pat_related", "also", r"see also"),
    _Rule("pat_related", "ähnliche weitere", r"ähnliche (?:beiträge|artikel)|weitere artikel"),
    _Rule("pat_related", "similaires connexes liés", r"articles? (?:similaires|connexes|liés)"),
    _Rule("pat_related", "relacionados relacionadas", r"(?:artículos|noticias|posts|artigos|notícias) relacionad[oa]s"),
    _Rule("pat_related", "correlati", r"articoli correlati"),
    _Rule("pat_related", "gerelateerde", None),
    _Rule("pat_you_missed", "missed like", r"you (?:missed|may also like|might also like|may like|might like)"),
    _Rule("pat_you_missed", "more", r"more (?:stories|news|articles|from)"),
    _Rule("pat_you_missed", "recommended", r"recommended (?:for you|stories|articles|reading)"),
    _Rule("pat_you_missed", "trending meistgelesen aimerez interessarti", None),
    _Rule("pat_you_missed", "popular", r"popular(?:(?<=most popular)| (?:posts|stories|articles))"),
    _Rule("pat_you_missed", "most", r"most (?:read|viewed|shared|commented)\b"),
    _Rule("pat_you_missed", "miss", r"don'?t miss"),
    _Rule("pat_you_missed", "next", r"next\b(?:(?<=read next)|(?<=up next))"),
    _Rule("pat_you_missed", "interessieren", r"könnte sie auch interessieren"),
    _Rule("pat_you_missed", "lire", r"à lire aussi"),
    _Rule("pat_you_missed", "interesar", r"te puede interesar"),
    _Rule("pat_you_missed", "leído letti lidas gelezen", r"más leído|più letti|mais lidas|meest gelezen"),
    _Rule("pat_you_missed", "gostar", r"você (?:pode|também) gostar"),
    _Rule("pat_source", "source", r"source\s*:|source link"),
    _Rule("pat_source", "quelle", r"quelle\s*:"),
    _Rule("pat_source", "fuente", r"fuente\s*:"),
    _Rule("pat_source", "fonte", r"fonte\s*:"),
    _Rule("pat_source", "bron", r"bron\s*:"),
    _Rule("pat_source", "via", r"via\s*:"),
    _Rule("pat_source", "originally", r"originally (?:published|appeared)"),
    # A byline opens its block: "By"/"Von"/"Par"/"Por"/"Door" (optionally after "Written", "Posted", "Story"...) and
    # then a capitalized word; or an "Author:" label anywhere.
    _Rule(
        "pat_byline",
        "by von par por door",
        r"\s*(?:(?:[Ww]ritten|[Pp]osted|[Ss]tory|[Ww]ords|[Tt]ext|[Pp]hotos?)\s+)?(?:[Bb]y|BY|[Vv]on|[Pp]ar|[Pp]or|"
        r"[Dd]oor)\s*:?\s+[A-ZÀ-Þ]",
        cased=True,
        anchored=True,
    ),
    _Rule("pat_byline", "author autor auteur", r"\b(?:author|autor|auteur)\s*:"),
    _Rule(
        "pat_share",
        "share tweet facebook twitter linkedin pinterest whatsapp reddit telegram teilen partager compartir "
        "condividi compartilhar compartilhe delen instagram youtube tiktok",
        None,
    ),
    _Rule("pat_share", "email", r"email this"),
    # A bare "Print" action, alone or with its object ("Print", "Print recipe", "Print this article").
    _Rule("pat_share", "print", r"print(?:\s+(?:this|the|recipe|article|page|story|post))*\s*$", anchored=True),
    _Rule(
        "pat_cookie",
        "cookie cookies consent gdpr dsgvo privacy datenschutz datenschutzerklärung datenschutzhinweise "
        "confidentialité privacidad",
        None,
    ),
    _Rule("pat_cookie", "accept", r"accept (?:all|cookies)"),
    _Rule("pat_subscribe_login", "sign", r"sign\s?(?:in|up|out)\b"),
    _Rule("pat_subscribe_login", "log", r"log\s?(?:in|out)\b"),
    _Rule(
        "pat_subscribe_login",
        "signin signup login logout sign-in sign-up log-in sign-out log-out subscribe newsletter register anmelden "
        "abonnieren registrieren s'abonner s’abonner s'inscrire s’inscrire connexion suscribirse suscríbete "
        "registrarse iscriviti accedi assine inscreva inloggen abonneren",
        None,
    ),
    _Rule("pat_subscribe_login", "account", r"account(?:(?<=create an account)|(?<=my account))"),
    _Rule("pat_subscribe_login", "sesión", r"iniciar sesión"),
    _Rule("pat_pagination", "page", r"page\s+\d+\s+(?:of|/)\s+\d+"),
    _Rule("pat_pagination", "next", r"next (?:page|post|article)\b|next\s*»"),
    _Rule("pat_pagination", "previous prev", r"prev(?:ious)? (?:page|post|article)\b|«\s*prev"),
    _Rule("pat_pagination", "older newer", r"(?:older|newer) (?:posts|entries|articles)\b|«\s*older"),
    _Rule(
        "pat_pagination",
        "nächste suivante siguiente successiva próxima volgende",
        r"nächste seite|page suivante|página siguiente|pagina successiva|próxima página|volgende pagina",
    ),
)


def _rule_matcher(rule: _Rule) -> Callable[[str], object] | None:
    """The bound match/search method that confirms a rule, or None when its trigger alone suffices."""
    if rule.regex is None:
        return None
    rx = re.compile(rule.regex)
    return rx.match if rule.anchored else rx.search


_Matcher = tuple[str, bool, "Callable[[str], object] | None"]  # (column, cased, matcher)


def _rules_by_trigger() -> dict[str, tuple[_Matcher, ...]]:
    """Map each trigger token to the (column, cased, matcher) of the rules it triggers."""
    table: dict[str, list[_Matcher]] = {}
    for rule in _RULES:
        entry = (rule.name, rule.cased, _rule_matcher(rule))
        for word in rule.triggers.split():
            table.setdefault(word, []).append(entry)
    return {word: tuple(entries) for word, entries in table.items()}


_RULES_BY_TRIGGER = _rules_by_trigger()

# Whole-page scans over the block texts joined by NUL, each starting with a literal so that re jumps straight between
# occurrences of that character (lookbehinds come after the literal on purpose); none can match across a NUL.
_PAGE_SCANS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pat_date", re.compile(r"-(?<=\d-)\d{1,2}-\d{2,4}(?!\d)")),  # 2024-05-06, 06-05-2024
    ("pat_date", re.compile(r"/(?<=\d/)\d{1,2}/\d{2,4}(?!\d)")),  # 5/6/2024
    ("pat_date", re.compile(r"\.(?<=\d\.)\d{1,2}\.\d{2,4}(?!\d)")),  # 06.05.2024
    ("pat_time", re.compile(r":(?<=\d:)\d\d(?!\d)")),  # 10:30, 10:30:15
    ("pat_read_more", re.compile(r"\[(?:…|\.\.\.)\]")),  # "[…]" where an excerpt was cut
    ("pat_copyright", re.compile(r"©")),
    ("pat_url", re.compile(r"://(?<=\w://)\w")),
    ("pat_url", re.compile(r"www\.\w")),  # lowercase only: IGNORECASE would lose the literal-prefix speed-up
    ("pat_email", re.compile(r"@(?<=\w@)[\w-]+\.\w{2,}")),
)

_PATTERN_COLUMN: dict[str, int] = {name: k for k, name in enumerate(_PATTERN_FEATURES)}
# "@name" not preceded by a word character or a dot (e-mail addresses are pat_email).
_HANDLE_RE = re.compile(r"@(?<![\w.]@)[A-Za-z0-9_]{2,}")
# Kit.page_scans runs the page scans and the handle pattern in one pass: the output column of each (has_handle in the
# column after the patterns).
_PAGE_SCAN_COLUMNS = (*(_PATTERN_COLUMN[name] for name, _ in _PAGE_SCANS), len(_PATTERN_FEATURES))

# Punctuation stripped from both ends of a whitespace token before it is looked up ("(c)" -> "c", "2024," -> "2024").
_TOKEN_STRIP = "\"'“”‘’„«»‹›()[]{}<>.,;:!?¡¿…*#|/\\-–—_~•·"
# Character classes counted per block with one lookup table over the page's code points (BMP only; the rest are
# class 0): commas, sentence-ending punctuation, separators typical of menus, breadcrumbs and footers.
_CHAR_CLASSES: tuple[str, ...] = (",", ".!?。！？", "|•·»›«‹→/")
# Flags of a block's first and last characters, looked up the same way.
_CH_BULLET = 1  # opens a list-like line ("• item", "- item", "» link")
_CH_SENT_END = 2  # ends a sentence
_CH_COLON = 4
_CH_SKIP = 8  # skipped when looking for the first/last character: white space, closing quotes and brackets
_CHAR_FLAG_CHARS: tuple[tuple[int, str], ...] = (
    (_CH_BULLET, "•·-–—*»›>▪■□◦●○►▶✓✔+"),
    (_CH_SENT_END, ".!?…。！？"),
    (_CH_COLON, ":："),
    (_CH_SKIP, " \t\n\u00a0\"'”’»)]}"),
)


def _char_tables() -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables from a BMP code point to its 1-based class in _CHAR_CLASSES and to its _CH_* flags."""
    classes = np.zeros(0x10000, dtype=np.uint8)
    for k, chars in enumerate(_CHAR_CLASSES, start=1):
        for ch in chars:
            classes[ord(ch)] = k
    flags = np.zeros(0x10000, dtype=np.uint8)
    for flag, chars in _CHAR_FLAG_CHARS:
        for ch in chars:
            flags[ord(ch)] |= flag
    return classes, flags


_CHAR_CLASS_TABLE, _CHAR_FLAG_TABLE = _char_tables()

_CLASS_FAMILY_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for _, p in _CLASS_FAMILY_PATTERNS)
# One search with every family's pattern: when a class/id token matches none, one search replaces one per family.
_ANY_FAMILY_RE = re.compile("|".join(f"(?:{p})" for _, p in _CLASS_FAMILY_PATTERNS))
# A letter or digit anywhere in a token (\w minus the underscore).
_ALNUM_RE = re.compile(r"[^\W_]")
_FAMILY_BITS = np.array([1 << k for k in range(len(_CLASS_FAMILIES))], dtype=np.int64)
_SEM_BITS = np.array(list(SEMANTIC_FLAGS.values()), dtype=np.int64)

_TAG_CODE: dict[str, int] = {tag: k for k, (_, tags) in enumerate(_TAG_GROUPS) for tag in tags}
_TAG_CODE_OTHER = len(_TAG_GROUPS)
_TAG_CODE_LINE = _TAG_CODE_OTHER + 1  # blocks from plain-text input: no tag column set

# Numeric Block fields read in one attrgetter call per block; _F maps a field to its column.
_NUM_FIELDS: tuple[str, ...] = (
    "n_chars",
    "n_words",
    "n_sentences",
    "n_punct",
    "n_digits",
    "n_upper",
    "n_link_chars",
    "n_links",
    "n_lines",
    "depth",
    "heading",
    "is_list_item",
    "is_table_cell",
    "is_caption",
    "semantic",
    "indent",
    "blank_before",
)
_F: dict[str, int] = {name: k for k, name in enumerate(_NUM_FIELDS)}
_get_nums = attrgetter(*_NUM_FIELDS)
_get_strs = attrgetter("text", "tag", "path", "class_tokens", "source", "bullet")

# ---------------------------------------------------------------------------------------------------------------------
# Per-token facts, memoized (a pure function of the token: the memo never changes any result)
# ---------------------------------------------------------------------------------------------------------------------

_TF_ALPHA = 1 << 0  # letters only (after stripping punctuation)
_TF_DIGIT = 1 << 1  # digits only
_TF_CAP = 1 << 2  # starts with an upper-case letter
_TF_STOP = 1 << 3  # in the built-in stopword lists
_TF_SHORT = 1 << 4  # letters only, at most SHORT_TOKEN_MAX_LEN of them
_TF_TRIGGER = 1 << 5  # triggers a text-pattern rule
_TF_MONTH = 1 << 6
_TF_NUMBER = 1 << 7  # day or year number
_TF_JOINER = 1 << 8  # "de", "of" between a day and a month
_TF_WORD = 1 << 9  # has a letter or digit (counts for page frequencies)
_TF_LEN_SHIFT = 16  # the stripped length sits above the flag bits
_TF_FLAGS: tuple[int, ...] = (_TF_ALPHA, _TF_DIGIT, _TF_CAP, _TF_STOP, _TF_SHORT)

_TOKEN_FACTS: dict[str, int] = {}
# The memo is replaced by an empty one when it would grow past this many tokens (a few tens of MB at most).
_TOKEN_FACTS_MAX = 1 << 18


def _compute_token_facts(token: str) -> int:
    """Packed facts of one whitespace token (see the _TF_* bits)."""
    core = token.strip(_TOKEN_STRIP)
    word = core.lower()
    facts = min(len(core), 0xFFFF) << _TF_LEN_SHIFT
    if core.isalpha():
        facts |= _TF_ALPHA
        if len(core) <= SHORT_TOKEN_MAX_LEN:
            facts |= _TF_SHORT
    if core.isdigit():
        facts |= _TF_DIGIT
    if core[:1].isupper():
        facts |= _TF_CAP
    if word in _STOPWORDS:
        facts |= _TF_STOP
    if word in _RULES_BY_TRIGGER:
        facts |= _TF_TRIGGER
    if word in _MONTHS:
        facts |= _TF_MONTH
    if word[:1].isdigit() and _DAY_OR_YEAR_RE.fullmatch(word):
        facts |= _TF_NUMBER
    if word in _DATE_JOINERS:
        facts |= _TF_JOINER
    if word.isalnum() or _ALNUM_RE.search(word):
        facts |= _TF_WORD
    return facts


def _token_facts(distinct: Iterable[str], tokens: list[str]) -> np.ndarray:
    """Packed facts of every token (memoized per distinct token; `distinct` lists each token of `tokens` once)."""
    global _TOKEN_FACTS
    memo = _TOKEN_FACTS  # a local reference: entries are never removed from a memo, so lookups below cannot miss
    missing = [token for token in distinct if token not in memo]
    if missing:
        if len(memo) + len(missing) > _TOKEN_FACTS_MAX:
            # Start a fresh memo instead of clearing: another thread may be reading the old one.
            memo = _TOKEN_FACTS = {}
            missing = list(distinct)
        memo.update(zip(missing, map(_compute_token_facts, missing), strict=True))
    return np.fromiter(map(memo.__getitem__, tokens), dtype=np.int64, count=len(tokens))


@lru_cache(maxsize=1 << 16)
def _token_family_bits(token: str) -> int:
    """Bit set of the class/id families whose pattern occurs in one lowercased class/id token."""
    bits = 0
    if _ANY_FAMILY_RE.search(token) is None:
        return bits
    for k, rx in enumerate(_CLASS_FAMILY_RES):
        if rx.search(token):
            bits |= 1 << k
    return bits


@lru_cache(maxsize=1 << 16)
def _class_bits(tokens: tuple[str, ...]) -> tuple[int, int]:
    """(families among the nearest tokens, families among all tokens) of one block's class/id tokens."""
    bits = list(map(_token_family_bits, tokens))
    near = 0
    for b in bits[:NEAR_CLASS_TOKENS]:
        near |= b
    every = near
    for b in bits[NEAR_CLASS_TOKENS:]:
        every |= b
    return near, every


def _kit_args() -> dict[str, object]:
    """The tables, word lists, patterns and flag bits of this module that the compiled Kit is built from."""
    return dict(
        class_table=_CHAR_CLASS_TABLE,
        flag_table=_CHAR_FLAG_TABLE,
        n_char_classes=len(_CHAR_CLASSES),
        token_strip=_TOKEN_STRIP,
        flags={
            "alpha": _TF_ALPHA,
            "digit": _TF_DIGIT,
            "cap": _TF_CAP,
            "stop": _TF_STOP,
            "short": _TF_SHORT,
            "trigger": _TF_TRIGGER,
            "month": _TF_MONTH,
            "number": _TF_NUMBER,
            "joiner": _TF_JOINER,
            "word": _TF_WORD,
        },
        ch_flags={"bullet": _CH_BULLET, "sent_end": _CH_SENT_END, "colon": _CH_COLON, "skip": _CH_SKIP},
        len_shift=_TF_LEN_SHIFT,
        short_max=SHORT_TOKEN_MAX_LEN,
        stopwords=_STOPWORDS,
        triggers=_RULES_BY_TRIGGER,
        months=_MONTHS,
        joiners=_DATE_JOINERS,
        day_or_year_pattern=_DAY_OR_YEAR_RE.pattern,
        alnum_pattern=_ALNUM_RE.pattern,
        tag_code=_TAG_CODE,
        tag_other=_TAG_CODE_OTHER,
        tag_line=_TAG_CODE_LINE,
        block_type=Block,
        num_fields=_NUM_FIELDS,
        family_patterns=tuple(pattern for _, pattern in _CLASS_FAMILY_PATTERNS),
        near_tokens=NEAR_CLASS_TOKENS,
        family_memo_max=_token_family_bits.cache_info().maxsize,
        page_scan_patterns=(*(rx.pattern for _, rx in _PAGE_SCANS), _HANDLE_RE.pattern),
    )


# The compiled twins (bpdetect/_cfeatures.pyx) of _collect (class/id families included), of the token counts and
# facts of _token_index, of the per-block sums of _token_stats, of the trigger rules and page scans of _patterns, of
# _month_dates, of the per-block loops of _meta_lines and of featurize's final stacking, built from _kit_args(). None
# when not built (or BPDETECT_PURE_PYTHON is set): the Python code below runs. Both give bitwise-equal features
# (tests/test_cfeatures.py).
_CFEATURES = _load_speedup("_cfeatures")
_KIT = None if _CFEATURES is None else _CFEATURES.Kit(**_kit_args())


# ---------------------------------------------------------------------------------------------------------------------
# Base columns
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Base:
    """Per-block base columns, gathered with C-level maps over the blocks (no per-block Python code)."""

    n: int
    num: np.ndarray  # (n, len(_NUM_FIELDS)) float64, clipped at 0
    texts: list[str]
    doc: str  # the texts joined by _SEP
    starts: np.ndarray  # each text's offset in doc
    is_text: np.ndarray  # bool
    tag_code: np.ndarray  # int64
    path_id: np.ndarray  # int64
    parent_id: np.ndarray  # int64: id of the path's parent path
    near_bits: np.ndarray  # int64 class-family bits of the nearest class/id tokens
    any_bits: np.ndarray  # int64 class-family bits of all class/id tokens
    n_class_tokens: np.ndarray
    has_bullet: np.ndarray
    starts_upper: np.ndarray
    starts_bullet: np.ndarray
    ends_sent: np.ndarray
    ends_colon: np.ndarray
    all_caps: np.ndarray
    char_counts: np.ndarray  # (n, len(_CHAR_CLASSES))
    repeat_count: np.ndarray
    tok_count: np.ndarray  # whitespace tokens per block
    tokens: list[str]  # all whitespace tokens of the page, in order
    # Compiled _collect only: (distinct tokens, their counts on the page, each token's index among them).
    token_table: tuple[list[str], np.ndarray, np.ndarray] | None = None

    def col(self, field: str) -> np.ndarray:
        """One numeric Block field as a float64 column."""
        return self.num[:, _F[field]]


def _ids(keys: list) -> tuple[np.ndarray, list]:
    """Dense integer ids of hashable keys (in first-seen order) and the distinct keys."""
    distinct = list(dict.fromkeys(keys))
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys)), distinct


def _joined(texts: list[str]) -> tuple[str, np.ndarray, np.ndarray]:
    """The texts joined by _SEP, each text's start offset in the joined string, and each text's length."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    return _SEP.join(texts), starts, lengths


@dataclass(slots=True)
class _PageChars:
    """Per-block facts read from the code points of the whole page at once."""

    class_counts: np.ndarray  # (n, len(_CHAR_CLASSES)) counts of each character class
    first: str  # each block's first non-skipped character (NUL for empty blocks)
    first_flags: np.ndarray  # _CH_* flags of that character
    last_flags: np.ndarray  # _CH_* flags of the last character, closing quotes/brackets/spaces skipped


def _page_chars(doc: str, starts: np.ndarray, lengths: np.ndarray) -> _PageChars:
    """Character-class counts and first/last-character facts of every block, from the NUL-joined page text."""
    n = starts.shape[0]
    k = len(_CHAR_CLASSES) + 1
    # A trailing NUL makes every index below valid: an empty block's "first" and "last" characters are NULs.
    codes = np.frombuffer((doc + _SEP).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bmp = np.minimum(codes, 0xFFFF)
    classes = _CHAR_CLASS_TABLE[bmp]
    where = np.flatnonzero(classes)
    block = np.searchsorted(starts, where, side="right") - 1
    counts = np.bincount(block * k + classes[where], minlength=n * k).astype(np.float64)
    ends = starts + lengths

    def skip(pos: np.ndarray, step: int, limit: np.ndarray) -> np.ndarray:
        # Step over up to two skippable characters (a space and a closing quote, say) without leaving the block.
        for _ in range(2):
            movable = ((_CHAR_FLAG_TABLE[bmp[pos]] & _CH_SKIP) != 0) & (pos + step != limit)
            pos = pos + step * movable
        return pos

    first_pos = skip(starts.copy(), 1, ends)
    last_pos = np.where(lengths > 0, skip(ends - 1, -1, starts - 1), ends)
    first_codes = codes[first_pos]
    return _PageChars(
        class_counts=counts.reshape(n, k)[:, 1:],
        first=first_codes.tobytes().decode("utf-32-le", "surrogatepass"),
        first_flags=_CHAR_FLAG_TABLE[bmp[first_pos]],
        last_flags=_CHAR_FLAG_TABLE[bmp[last_pos]],
    )


def _collect(blocks: Sequence[Block]) -> _Base:
    """Read every block once: numeric fields, tag/path ids, class families, cheap string facts and tokens."""
    got = None if _KIT is None else _KIT.collect(blocks)
    if got is not None:
        return _collected(got)
    n = len(blocks)
    k = len(_NUM_FIELDS)
    ints = np.fromiter(chain.from_iterable(map(_get_nums, blocks)), dtype=np.int64, count=n * k).reshape(n, k)
    # Counts are non-negative by contract; clipping here keeps every derived column finite even for a buggy segmenter.
    num = np.maximum(ints, 0).astype(np.float64)
    texts, tags, paths, classes, sources, bullets = (list(c) for c in zip(*map(_get_strs, blocks), strict=True))

    def arr(values: Iterable, dtype: type = np.float64) -> np.ndarray:
        return np.fromiter(values, dtype=dtype, count=n)

    is_text = arr(map("text".__eq__, sources), bool)
    tag_code = arr(map(_TAG_CODE.get, tags, repeat(_TAG_CODE_OTHER)), np.int64)
    tag_code[is_text] = _TAG_CODE_LINE
    path_id, distinct_paths = _ids(paths)
    parent_of_path, _ = _ids([p.rpartition("/")[0] for p in distinct_paths])
    bits = list(map(_class_bits, classes))
    tok_lists = list(map(str.split, texts))
    text_counts = Counter(texts)
    doc, starts, lengths = _joined(texts)
    chars = _page_chars(doc, starts, lengths)
    return _Base(
        n=n,
        num=num,
        texts=texts,
        doc=doc,
        starts=starts,
        is_text=is_text,
        tag_code=tag_code,
        path_id=path_id,
        parent_id=parent_of_path[path_id],
        near_bits=arr(map(itemgetter(0), bits), np.int64),
        any_bits=arr(map(itemgetter(1), bits), np.int64),
        n_class_tokens=arr(map(len, classes)),
        has_bullet=arr(map(bool, bullets)),
        starts_upper=arr(map(str.isupper, chars.first)),
        starts_bullet=((chars.first_flags & _CH_BULLET) != 0).astype(np.float64),
        ends_sent=((chars.last_flags & _CH_SENT_END) != 0).astype(np.float64),
        ends_colon=((chars.last_flags & _CH_COLON) != 0).astype(np.float64),
        all_caps=arr(map(str.isupper, texts)),
        char_counts=chars.class_counts,
        # Occurrences of the same text elsewhere on the page (zeroed for empty texts later).
        repeat_count=arr(map(text_counts.__getitem__, texts)) - 1.0,
        tok_count=arr(map(len, tok_lists)),
        tokens=list(chain.from_iterable(tok_lists)),
    )


def _collected(got: dict) -> _Base:
    """_Base from the fields computed by the compiled _KIT.collect (the values _collect computes in Python)."""
    table = (got.pop("distinct"), got.pop("distinct_counts"), got.pop("token_ids"))
    return _Base(n=len(got["texts"]), token_table=table, **got)


@dataclass(slots=True)
class _Tokens:
    """Per-token facts of the page's whitespace tokens, in block order."""

    block: np.ndarray  # block index
    facts: np.ndarray  # packed _TF_* facts
    frequent: np.ndarray  # bool: the token occurs >= DOC_FREQUENT_MIN_COUNT times on the page
    top: np.ndarray  # bool: the token is among the page's DOC_TOP_TOKENS most frequent


def _token_index(base: _Base) -> _Tokens:
    """Facts and page frequencies of every token: C-level maps over the tokens, no Python code per token.

    Page frequencies count exact tokens (no case or punctuation folding: folding would cost a second pass over the
    distinct tokens, and function words rarely differ in case or carry punctuation).
    """
    tokens = base.tokens
    if base.token_table is not None and _KIT is not None:  # counted by the compiled _collect (no memo: see there)
        distinct, counts, token_ids = base.token_table
        facts, count = _KIT.token_facts(distinct, counts, token_ids)
    else:
        counter = Counter(tokens)
        facts = _token_facts(counter, tokens)
        count = np.fromiter(map(counter.__getitem__, tokens), dtype=np.float64, count=len(tokens))
        count[(facts & _TF_WORD) == 0] = 0.0  # punctuation-only tokens ("|", "»", "-") are never frequent words
        counts = np.fromiter(counter.values(), dtype=np.float64, count=len(counter))
    # The page's most frequent words: the DOC_TOP_TOKENS largest counts among words seen at least twice (ties kept).
    counts = counts[counts >= 2]
    top = np.zeros(len(tokens), dtype=bool)
    if counts.size:
        k = min(DOC_TOP_TOKENS, counts.size)
        top = count >= max(np.partition(counts, counts.size - k)[counts.size - k], 2.0)
    return _Tokens(
        block=np.repeat(np.arange(base.n), base.tok_count.astype(np.int64)),
        facts=facts,
        frequent=count >= DOC_FREQUENT_MIN_COUNT,
        top=top,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Whole-column helpers
# ---------------------------------------------------------------------------------------------------------------------


def _ratio(num: np.ndarray, den: np.ndarray | float) -> np.ndarray:
    """num / den elementwise (den may be a scalar or broadcast against num), 0 where den is 0."""
    if np.ndim(den) == 0:
        d = float(den)
        return num / d if d > 0 else np.zeros(num.shape)
    shape = num.shape if num.ndim >= np.ndim(den) else np.shape(den)
    return np.divide(num, den, out=np.zeros(shape), where=den > 0)


def _unit(a: np.ndarray) -> np.ndarray:
    """a clipped to [0, 1] (ratios of counts from a segmenter that may count differently)."""
    return np.minimum(np.maximum(a, 0.0), 1.0)


def _median(a: np.ndarray) -> float:
    """Upper median of a non-empty array (np.median costs ~10 us of Python overhead per call)."""
    k = a.shape[0] // 2
    return float(np.partition(a, k)[k])


@dataclass(slots=True)
class _Spans:
    """Where each document's rows lie when several documents' blocks are featurized as one batch."""

    count: int  # documents
    sizes: np.ndarray  # int64 rows of each document
    starts: np.ndarray  # int64 first row of each document
    ends: np.ndarray  # int64 one past the last row of each document
    doc: np.ndarray  # int64 document of each row
    pos: np.ndarray  # int64 index of each row within its document
    rows: list[slice]  # the rows of each document

    def per_row(self, values: np.ndarray) -> np.ndarray | float:
        """A per-document value for every row (the value itself, as a float, for one document)."""
        return float(values[0]) if self.count == 1 else values[self.doc]


def _spans(sizes: Sequence[int]) -> _Spans:
    """_Spans of documents with these (non-zero) numbers of rows, in order."""
    size = np.array(sizes, dtype=np.int64)
    ends = np.cumsum(size)
    starts = ends - size
    n = int(ends[-1])
    rows = [slice(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    if len(sizes) == 1:
        return _Spans(1, size, starts, ends, np.zeros(n, dtype=np.int64), np.arange(n), rows)
    doc = np.repeat(np.arange(len(sizes)), size)
    return _Spans(len(sizes), size, starts, ends, doc, np.arange(n) - starts[doc], rows)


def _upper_medians(values: np.ndarray, spans: _Spans, mask: np.ndarray | None = None) -> np.ndarray:
    """_median of each document's values (where mask, if given); NaN for a document with none."""
    if spans.count == 1:
        chosen = values if mask is None else values[mask]
        return np.array([_median(chosen) if chosen.size else np.nan])
    doc = spans.doc if mask is None else spans.doc[mask]
    chosen = values if mask is None else values[mask]
    counts = np.bincount(doc, minlength=spans.count)
    ordered = chosen[np.lexsort((chosen, doc))]
    out = np.full(spans.count, np.nan)
    has = counts > 0
    out[has] = ordered[(np.cumsum(counts) - counts)[has] + counts[has] // 2]
    return out


def _doc_max(values: np.ndarray, spans: _Spans) -> np.ndarray:
    """The largest value of each document."""
    return np.maximum.reduceat(values, spans.starts) if spans.count > 1 else np.array([values.max()])


def _doc_sum(values: np.ndarray, spans: _Spans) -> np.ndarray:
    """Each document's sum of integer-valued floats (exact in any order; use per-document sums for other values)."""
    return np.add.reduceat(values, spans.starts) if spans.count > 1 else np.array([values.sum()])


def _shift(a: np.ndarray, offset: int, spans: _Spans) -> np.ndarray:
    """Rows of a moved so that row i holds row i+offset of its document; NEIGHBOUR_PAD where that row does not exist."""
    out = np.full(a.shape, NEIGHBOUR_PAD, dtype=np.float64)
    n = a.shape[0]
    if spans.count > 1:
        inside = spans.pos + offset
        ok = (inside >= 0) & (inside < spans.sizes[spans.doc])
        src = np.flatnonzero(ok)
        out[src] = a[src + offset]
        return out
    if abs(offset) >= n:
        return out
    if offset > 0:
        out[:-offset] = a[offset:]
    else:
        out[-offset:] = a[:offset]
    return out


def _window_sum(a: np.ndarray, half: int, spans: _Spans) -> tuple[np.ndarray, np.ndarray]:
    """Sums of a's rows over [i-half, i+half] clipped to the row's document, and the number of rows summed.

    The prefix sums run per document, so a document's sums are bitwise those of the document alone.
    """
    n = a.shape[0]
    if spans.count == 1:
        c = np.concatenate((np.zeros((1, *a.shape[1:])), np.cumsum(a, axis=0, dtype=np.float64)))
        idx = np.arange(n)
        lo = np.maximum(idx - half, 0)
        hi = np.minimum(idx + half + 1, n)
        return c[hi] - c[lo], (hi - lo).astype(np.float64)
    # One leading zero row per document: document d's prefix sums start at row starts[d] + d.
    c = np.empty((n + spans.count, *a.shape[1:]))
    for d, rows in enumerate(spans.rows):
        c[rows.start + d] = 0.0
        np.cumsum(a[rows], axis=0, dtype=np.float64, out=c[rows.start + d + 1 : rows.stop + d + 1])
    size = spans.sizes[spans.doc]
    lo = np.maximum(spans.pos - half, 0)
    hi = np.minimum(spans.pos + half + 1, size)
    base = spans.starts[spans.doc] + spans.doc
    return c[base + hi] - c[base + lo], (hi - lo).astype(np.float64)


def _run_lengths(codes: np.ndarray, spans: _Spans) -> np.ndarray:
    """Length of the run of equal consecutive codes of one document each row belongs to."""
    change = np.empty(codes.shape[0], dtype=bool)
    change[0] = True
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    if spans.count > 1:
        change[spans.starts] = True
    run_id = np.cumsum(change) - 1
    return np.bincount(run_id).astype(np.float64)[run_id]


def _per_block_sums(values: np.ndarray, tok_count: np.ndarray) -> np.ndarray:
    """Sum the rows of a per-token matrix (tokens in block order) per block; 0 rows for blocks without tokens."""
    n = tok_count.shape[0]
    if values.shape[0] == 0:
        return np.zeros((n, values.shape[1]))
    counts = tok_count.astype(np.int64)
    offsets = np.cumsum(counts) - counts
    sums = np.add.reduceat(values, np.minimum(offsets, values.shape[0] - 1), axis=0)
    sums[counts == 0] = 0.0  # reduceat yields the element at the offset for empty segments
    return sums


Cols = dict[str, np.ndarray]
# Column names of the groups stored as blocks of a matrix, built once (not per page).
_TAG_NAMES: tuple[str, ...] = (*(name for name, _ in _TAG_GROUPS), _TAG_OTHER)
_CLASS_NEAR_NAMES: tuple[str, ...] = tuple(f"cls_near_{family}" for family in _CLASS_FAMILIES)
_CLASS_ANY_NAMES: tuple[str, ...] = tuple(f"cls_any_{family}" for family in _CLASS_FAMILIES)
_NEIGHBOUR_SHIFT_NAMES: tuple[tuple[str, ...], ...] = tuple(
    tuple(f"{key}_{tag}" for key in _NEIGHBOUR_KEYS) for tag, _ in _NEIGHBOUR_OFFSETS
)


def _put(cols: Cols, names: Sequence[str], matrix: np.ndarray) -> None:
    """Store the columns of a (n, len(names)) matrix under their names (as views)."""
    for j, name in enumerate(names):
        cols[name] = matrix[:, j]


# ---------------------------------------------------------------------------------------------------------------------
# Feature groups; each adds named columns to `cols`
# ---------------------------------------------------------------------------------------------------------------------


def _length_and_style(base: _Base, cols: Cols) -> None:
    """Length, link and text-style columns from the block's own counts."""
    chars = base.col("n_chars")
    words = base.col("n_words")
    lines = np.maximum(base.col("n_lines"), 1.0)
    cols["n_chars"] = chars
    cols["n_words"] = words
    cols["log_chars"] = np.log1p(chars)
    cols["log_words"] = np.log1p(words)
    cols["n_sentences"] = base.col("n_sentences")
    cols["n_lines"] = lines
    # Ratios of the block's own counts, all in [0, 1] (clipped in case a segmenter counts differently).
    shares = _unit(
        _ratio(base.num[:, [_F["n_link_chars"], _F["n_punct"], _F["n_digits"], _F["n_upper"]]], chars[:, None])
    )
    _put(cols, ("link_density", "punct_ratio", "digit_ratio", "upper_ratio"), shares)
    cols["n_links"] = base.col("n_links")
    cols["links_per_word"] = _ratio(base.col("n_links"), words)
    link_only = (chars > 0) & (shares[:, 0] >= LINK_ONLY_MIN_DENSITY)
    link_only |= (base.col("semantic").astype(np.int64) & SEM_LINK_ONLY) != 0
    cols["is_link_only"] = link_only.astype(np.float64)
    cols["words_per_line"] = words / lines
    cols["chars_per_line"] = chars / lines
    commas, sent_punct, seps = base.char_counts.T
    cols["sent_punct_ratio"] = _unit(_ratio(sent_punct, base.col("n_punct")))
    cols["commas_per_word"] = _ratio(commas, words)
    cols["sep_chars_per_word"] = seps / np.maximum(words, 1.0)
    cols["starts_upper"] = base.starts_upper
    cols["ends_sentence_punct"] = base.ends_sent
    cols["ends_colon"] = base.ends_colon
    cols["is_all_caps"] = base.all_caps
    cols["starts_bullet_char"] = base.starts_bullet


def _token_stats(base: _Base, tok: _Tokens, cols: Cols, spans: _Spans) -> None:
    """Token shares: function-word proxies, stopwords, page-frequent words, title case, digits, mean word length."""
    if spans.count > 1 and not base.tok_count.all():
        # A block without tokens: the sums below have a quirk at the end of a page (see _per_block_sums), so each
        # page is summed on its own.
        tok_ends = np.cumsum(base.tok_count.astype(np.int64))[spans.ends - 1].tolist()
        sums = np.vstack(
            [
                _token_sums(tok.facts[a:b], tok.frequent[a:b], tok.top[a:b], base.tok_count[rows])
                for rows, a, b in zip(spans.rows, [0, *tok_ends[:-1]], tok_ends, strict=True)
            ]
        )
    else:
        sums = _token_sums(tok.facts, tok.frequent, tok.top, base.tok_count)
    _token_shares(sums, base, cols)


def _token_sums(facts: np.ndarray, frequent: np.ndarray, top: np.ndarray, tok_count: np.ndarray) -> np.ndarray:
    """Per-block sums of the token facts (tokens in block order): alpha, digit, cap, stop, short, frequent, frequent
    short, top, stripped length."""
    if _KIT is not None:
        sums = _KIT.token_sums(facts, frequent.view(np.uint8), top.view(np.uint8), tok_count)
    else:
        flags = (facts[:, None] & np.array(_TF_FLAGS, dtype=np.int64)) != 0  # alpha, digit, cap, stop, short
        per_token = np.column_stack(
            (
                flags,
                frequent,
                frequent & flags[:, 4],
                top,
                facts >> _TF_LEN_SHIFT,
            )
        ).astype(np.float64)
        sums = _per_block_sums(per_token, tok_count)
    return sums


def _token_shares(sums: np.ndarray, base: _Base, cols: Cols) -> None:
    """The token-share columns from the per-block token sums."""
    # Shares of all tokens (columns 1 and 3-8 above); title case is a share of the alphabetic tokens only.
    shares = _ratio(sums[:, [1, 3, 4, 5, 6, 7, 8]], base.tok_count[:, None])
    _put(
        cols,
        (
            "digit_token_share",
            "stopword_share",
            "short_token_share",
            "doc_frequent_token_share",
            "doc_frequent_short_share",
            "doc_top_token_share",
            "mean_word_len",
        ),
        shares,
    )
    cols["title_case_share"] = _ratio(sums[:, 2], sums[:, 0])


def _month_dates(base: _Base, tok: _Tokens) -> np.ndarray:
    """1.0 for blocks where a month name stands next to a day/year number ("May 5", "5. Mai", "12 de marzo")."""
    if _KIT is not None:
        return _KIT.month_dates(tok.facts, tok.block, base.n)
    out = np.zeros(base.n)
    facts = tok.facts
    month = (facts & _TF_MONTH) != 0
    if not month.any():
        return out
    number = (facts & _TF_NUMBER) != 0
    joiner = (facts & _TF_JOINER) != 0
    same1 = tok.block[1:] == tok.block[:-1]
    hit = np.zeros(month.shape[0], dtype=bool)
    hit[:-1] |= month[:-1] & number[1:] & same1  # month, number
    hit[1:] |= month[1:] & number[:-1] & same1  # number, month
    if month.shape[0] > 2:
        same2 = tok.block[2:] == tok.block[:-2]
        hit[2:] |= month[2:] & joiner[1:-1] & number[:-2] & same2  # number, de, month
        hit[:-2] |= month[:-2] & joiner[1:-1] & number[2:] & same2  # month, of, number
    out[tok.block[hit]] = 1.0
    return out


def _patterns(base: _Base, tok: _Tokens, cols: Cols) -> None:
    """Text-pattern flags: trigger tokens pick candidate blocks and rules confirm them; literal-led page scans."""
    n = base.n
    texts = base.texts
    tokens = base.tokens
    if _KIT is not None:  # the loops below, in C (the page scans without re: see Kit.page_scans)
        # One column more than the patterns: the page-scan pass also finds the @handles of has_handle (_meta_lines).
        flags = np.zeros((n, len(_PATTERN_FEATURES) + 1))
        _KIT.trigger_patterns(tok.facts, tok.block, tokens, texts, flags, _PATTERN_COLUMN)
        _KIT.page_scans(texts, flags, _PAGE_SCAN_COLUMNS)
        cols["has_handle"] = flags[:, -1]
    else:
        flags = np.zeros((n, len(_PATTERN_FEATURES)))
        found: dict[str, set[int]] = {name: set() for name in _PATTERN_FEATURES}
        hits = np.flatnonzero(tok.facts & _TF_TRIGGER)
        lowered: dict[int, str] = {}
        for block, token in set(zip(tok.block[hits].tolist(), map(tokens.__getitem__, hits.tolist()), strict=True)):
            for name, cased, matcher in _RULES_BY_TRIGGER[token.strip(_TOKEN_STRIP).lower()]:
                done = found[name]
                if block in done:
                    continue
                if matcher is not None:
                    if cased:
                        text = texts[block]
                    else:
                        text = lowered.get(block)
                        if text is None:
                            text = lowered[block] = texts[block].lower()
                    if not matcher(text):
                        continue
                done.add(block)
        for name, blocks in found.items():
            if blocks:
                flags[list(blocks), _PATTERN_COLUMN[name]] = 1.0
        for name, rx in _PAGE_SCANS:
            pos = [m.start() for m in rx.finditer(base.doc)]
            if pos:
                flags[np.searchsorted(base.starts, pos, side="right") - 1, _PATTERN_COLUMN[name]] = 1.0
    _put(cols, _PATTERN_FEATURES, flags)
    np.maximum(cols["pat_date"], _month_dates(base, tok), out=cols["pat_date"])


def _dom(base: _Base, cols: Cols, contentish: np.ndarray, spans: _Spans) -> None:
    """Depth, tag one-hots, list/table/caption/heading flags, semantic ancestors and path sharing (0 for text)."""
    html = ~base.is_text
    html_f = html.astype(np.float64)
    depth = base.col("depth") * html_f
    cols["depth"] = depth
    # The upper median depth of the page's content-ish HTML blocks, else of all its HTML blocks, else 0.
    median = _upper_medians(depth, spans, contentish & html)
    if np.isnan(median).any():
        median = np.where(np.isnan(median), _upper_medians(depth, spans, html), median)
        median[np.isnan(median)] = 0.0
    cols["depth_minus_content_median"] = (depth - spans.per_row(median)) * html_f
    cols["depth_rel_max"] = _ratio(depth, spans.per_row(_doc_max(depth, spans)))
    _put(cols, _TAG_NAMES, (base.tag_code[:, None] == np.arange(len(_TAG_NAMES))).astype(np.float64))
    heading = np.minimum(base.col("heading"), 6.0)
    cols["heading_level"] = heading
    cols["is_heading"] = (heading > 0).astype(np.float64)
    cols["is_list_item"] = base.col("is_list_item")
    cols["is_table_cell"] = base.col("is_table_cell")
    cols["is_caption"] = base.col("is_caption")
    semantic = base.col("semantic").astype(np.int64)
    _put(cols, _SEM_NAMES, ((semantic[:, None] & _SEM_BITS) != 0).astype(np.float64))
    cols["n_class_tokens"] = base.n_class_tokens
    # Share of the page's non-link text in blocks with the same path / the same parent path: an article's
    # paragraphs usually share one path and hold most of the text.
    plain = np.maximum(base.col("n_chars") - base.col("n_link_chars"), 0.0) * html_f
    total = _doc_sum(plain, spans)
    if spans.count == 1 and total[0] <= 0:
        cols["path_chars_share"] = cols["parent_chars_share"] = np.zeros(base.n)
    else:
        # (Path ids are unique across a batch's documents.) A page with no such text gets 0.
        per_row = spans.per_row(total)
        for name, ids in (("path_chars_share", base.path_id), ("parent_chars_share", base.parent_id)):
            summed = np.bincount(ids, weights=plain)[ids]
            cols[name] = _ratio(summed, per_row) * html_f


def _class_families(base: _Base, cols: Cols) -> None:
    """Class/id family flags among the nearest tokens and among all ancestor tokens."""
    near = ((base.near_bits[:, None] & _FAMILY_BITS) != 0).astype(np.float64)
    every = ((base.any_bits[:, None] & _FAMILY_BITS) != 0).astype(np.float64)
    _put(cols, _CLASS_NEAR_NAMES, near)
    _put(cols, _CLASS_ANY_NAMES, every)


def _neighbours(base: _Base, cols: Cols, spans: _Spans) -> None:
    """Previous/next values of key columns, windowed means, same-tag/path run lengths and repeated text."""
    keys = np.column_stack([cols[key] for key in _NEIGHBOUR_KEYS])
    for (_, offset), names in zip(_NEIGHBOUR_OFFSETS, _NEIGHBOUR_SHIFT_NAMES, strict=True):
        _put(cols, names, _shift(keys, offset, spans))
    total, count = _window_sum(np.column_stack((cols["log_chars"], cols["link_density"])), WINDOW, spans)
    _put(cols, ("win_mean_log_chars", "win_mean_link_density"), total / count[:, None])
    cols["same_tag_run_len"] = _run_lengths(base.tag_code, spans)
    cols["same_path_run_len"] = _run_lengths(base.path_id, spans) * ~base.is_text
    cols["text_repeat_count"] = base.repeat_count * (base.col("n_chars") > 0)


def _document(base: _Base, cols: Cols, contentish: np.ndarray, spans: _Spans) -> None:
    """Position and page-relative columns: sizes vs the page, distance to the densest region, content before/after."""
    n = base.n
    chars = base.col("n_chars")
    link_chars = base.col("n_link_chars")
    one = spans.count == 1
    idx = spans.pos.astype(np.float64)
    size = spans.per_row(spans.sizes.astype(np.float64))
    cols["rel_position"] = idx / size
    # Character counts are integers: their sums and prefix sums are exact in float64, whatever the batch.
    total = _doc_sum(chars, spans)
    before = np.cumsum(chars) - chars
    if not one:
        before -= before[spans.starts][spans.doc]
    total_row = spans.per_row(total)
    cols["rel_char_offset"] = _ratio(before, total_row)
    cols["chars_rel_max"] = _ratio(chars, spans.per_row(_doc_max(chars, spans)))
    cols["chars_rel_median"] = chars / spans.per_row(np.maximum(_upper_medians(chars, spans), 1.0))
    log_chars = cols["log_chars"]
    # A mean of non-integers depends on the order of the sum: one np.mean per page, as for a page alone.
    means = np.array([log_chars[rows].mean() for rows in spans.rows])
    cols["log_chars_minus_mean"] = log_chars - spans.per_row(means)
    # Densest region: argmax of the non-link chars per block, summed over a window of +-WINDOW blocks.
    curve = _window_sum(np.maximum(chars - link_chars, 0.0), WINDOW, spans)[0]
    curve_max = _doc_max(curve, spans)
    if one:
        peak: np.ndarray | float = float(np.argmax(curve))
    else:
        at_max = np.flatnonzero(curve == curve_max[spans.doc])  # the first of each page's maxima, as np.argmax
        firsts = at_max[np.searchsorted(at_max, spans.starts)]
        peak = (firsts - spans.starts).astype(np.float64)[spans.doc]
    cols["dense_dist_blocks"] = np.log1p(np.abs(idx - peak))
    cols["dense_dist_rel"] = (idx - peak) / size
    cols["dense_curve_rel"] = _ratio(curve, spans.per_row(curve_max))
    content_chars = chars * contentish
    content_total = spans.per_row(_doc_sum(content_chars, spans))
    content_before = np.cumsum(content_chars) - content_chars
    if not one:
        content_before -= content_before[spans.starts][spans.doc]
    cols["contentish_before"] = _ratio(content_before, content_total)
    cols["contentish_after"] = _ratio(content_total - content_before - content_chars, content_total)
    link_total = _doc_sum(link_chars, spans)
    # Per-page scalars, computed as for a page alone (numpy scalar functions), then spread over its rows.
    doc_values = np.array(
        [
            (
                np.log1p(int(size_d)),
                np.log1p(total_d),
                min(link_d / total_d, 1.0) if total_d > 0 else 0.0,
            )
            for size_d, total_d, link_d in zip(spans.sizes, total, link_total, strict=True)
        ]
    )
    if one:
        for k, name in enumerate(("doc_log_blocks", "doc_log_chars", "doc_link_density")):
            cols[name] = np.full(n, doc_values[0, k])
    else:
        _put(cols, ("doc_log_blocks", "doc_log_chars", "doc_link_density"), doc_values[spans.doc])
    cols["is_text_input"] = base.is_text.astype(np.float64)


def _structure(base: _Base, cols: Cols, contentish: np.ndarray, spans: _Spans) -> None:
    """Boundary-marker and nearby-prose columns (_STRUCTURE_FEATURES), each row's within its document.

    All values are counts (exact in float64), taken over the batch at once with the document bounds clipped in.
    """
    n = base.n
    marker = np.zeros(n, dtype=bool)
    for name in MARKER_PATTERNS:
        marker |= cols[name] > 0
    marker &= base.col("n_words") <= MARKER_MAX_WORDS
    rows = np.arange(n)
    pos = spans.pos
    start = rows - pos  # first row of each row's document
    end = start + spans.sizes[spans.doc]  # one past its last row
    m = marker.astype(np.int64)
    seen = np.cumsum(m)
    cols["markers_before"] = np.log1p((seen - m - (seen[start] - m[start])).astype(np.float64))
    # The previous marker strictly before each row (none in its document: the document's start, one row before it)
    # and the next one strictly after (none: the document's end).
    last = np.maximum.accumulate(np.where(marker, rows, -1))
    prev = np.concatenate(([-1], last[:-1]))
    prev = np.where(prev >= start, prev, start - 1)
    first = np.minimum.accumulate(np.where(marker, rows, n)[::-1])[::-1]
    nxt = np.concatenate((first[1:], [n]))
    nxt = np.where(nxt < end, nxt, end)
    cols["marker_prev_dist"] = np.log1p((rows - prev).astype(np.float64))
    cols["marker_next_dist"] = np.log1p((nxt - rows).astype(np.float64))
    c = np.concatenate(([0], np.cumsum(contentish, dtype=np.int64)))
    w = STRUCTURE_WINDOW
    cols["prose_before_share"] = (c[rows] - c[np.maximum(rows - w, start)]) / w
    cols["prose_after_share"] = (c[np.minimum(rows + 1 + w, end)] - c[rows + 1]) / w


def _plain_text(base: _Base, cols: Cols, spans: _Spans) -> None:
    """Plain-text layout columns (0 for HTML blocks): indent, bullet, blank lines around, title-like line."""
    text = base.is_text.astype(np.float64)
    cols["indent"] = np.minimum(base.col("indent"), MAX_INDENT) * text
    cols["has_bullet"] = base.has_bullet * text
    blank_before = base.col("blank_before")
    cols["blank_before"] = blank_before * text
    blank_after = np.ones(base.n)  # the end of the text counts as a blank line
    blank_after[:-1] = blank_before[1:]
    blank_after[spans.ends - 1] = 1.0
    cols["blank_after"] = blank_after * text
    words = base.col("n_words")
    title_like = (
        (words >= 1)
        & (words <= TITLE_LINE_MAX_WORDS)
        & (base.ends_sent == 0)
        & ((base.starts_upper > 0) | (cols["title_case_share"] >= 0.5))
    )
    cols["title_like_line"] = title_like * text


# ---------------------------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------------------------


_LEAD_SEPS = ":：»›→|"  # characters that end a leading label
_LEAD_SEP_RE = re.compile(f"[{re.escape(_LEAD_SEPS)}]")
_READING_TIME_RE = re.compile(
    r"\d\s*(?:min(?:ute)?s?|minuten|minutos|minuti)\.?\s+(?:read|reading|de lectura|de lecture|de leitura|di lettura|"
    r"lesezeit|leestijd)|(?:reading time|lesezeit|lesedauer|tiempo de lectura|temps de lecture|tempo de leitura|"
    r"tempo di lettura|leestijd)\s*:?\s*(?:ca\.\s*)?\d",
    re.IGNORECASE,
)


def _handles(base: _Base) -> np.ndarray:
    """1.0 for blocks with a social @handle."""
    handle = np.zeros(base.n)
    found = [m.start() for m in _HANDLE_RE.finditer(base.doc)]
    if found:
        handle[np.searchsorted(base.starts, found, side="right") - 1] = 1.0
    return handle


def _meta_lines(base: _Base, cols: Cols, contentish: np.ndarray, spans: _Spans) -> None:
    """Reading-time flag, meta-line neighbours and leading-label columns (see _META_LINE_FEATURES)."""
    texts = base.texts
    words = base.col("n_words")
    cols["reading_time_line"] = _reading_time(texts, words, base.col("n_digits"))
    chars = base.col("n_chars")
    title_like = cols["title_like_line"]
    rule_cols = [(tuple(cols[name] for name in names), max_words) for names, max_words in META_LINE_RULES]
    if spans.count == 1:
        parts = [_meta_page(texts, rule_cols, words, chars, base.ends_sent, title_like, contentish)]
        labels = _lead_labels(texts)
    else:  # the neighbours, distances and repeated tails of each page on its own
        parts = [
            _meta_page(
                texts[rows],
                [(tuple(c[rows] for c in columns), max_words) for columns, max_words in rule_cols],
                words[rows],
                chars[rows],
                base.ends_sent[rows],
                title_like[rows],
                contentish[rows],
            )
            for rows in spans.rows
        ]
        labels = np.vstack([_lead_labels(texts[rows]) for rows in spans.rows])
    meta, neighbours, dist, prev_ends, titles = (
        part[0] if spans.count == 1 else np.concatenate(part) for part in zip(*parts, strict=True)
    )
    cols["meta_line"] = meta
    cols["meta_line_neighbours"] = neighbours
    cols["next_contentish_dist"] = np.log1p(dist)
    cols["prev_ends_with_block"] = prev_ends
    cols["title_lines_to_content"] = np.log1p(titles)
    if _KIT is None:
        cols["has_handle"] = _handles(base)  # (the compiled _patterns finds them in its page-scan pass)
    _put(cols, ("lead_label_promo", "lead_label_caps", "lead_label_tail_repeats"), labels)


def _reading_time(texts: list[str], words: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """1.0 for short blocks with a digit that state a reading time ("3 min read", "Lesezeit: 4 Minuten")."""
    if _KIT is not None:
        return _KIT.reading_time(texts, words, digits, READING_TIME_MAX_WORDS, _READING_TIME_RE.search)
    reading = np.zeros(len(texts))
    short = np.flatnonzero((words <= READING_TIME_MAX_WORDS) & (digits > 0)).tolist()
    if short:
        subset = [texts[short[0]]] if len(short) == 1 else itemgetter(*short)(texts)
        reading[short] = np.fromiter(map(bool, map(_READING_TIME_RE.search, subset)), dtype=bool, count=len(short))
    return reading


def _meta_page(
    texts: list[str],
    rule_cols: list[tuple[tuple[np.ndarray, ...], int]],
    words: np.ndarray,
    chars: np.ndarray,
    ends_sent: np.ndarray,
    title_like: np.ndarray,
    contentish: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """One page's meta_line, meta_line_neighbours, next content-ish distance, prev_ends_with_block and title lines to
    content (the distance and the title count before log1p)."""
    n = len(texts)
    if _KIT is not None:  # the per-block loops below, in C
        return _KIT.meta_lines(
            texts, rule_cols, words, chars, ends_sent, title_like, contentish.view(np.uint8), MAX_CONTENTISH_DIST
        )
    meta = np.zeros(n, dtype=bool)
    for columns, max_words in rule_cols:
        hit = np.zeros(n, dtype=bool)
        for column in columns:
            hit |= column > 0
        meta |= hit & (words <= max_words)
    meta &= ends_sent == 0
    neighbours = np.zeros(n)
    neighbours[1:] += meta[:-1]
    neighbours[:-1] += meta[1:]
    # Blocks from each block to the next content-ish block after it (MAX_CONTENTISH_DIST when none follows).
    positions = np.flatnonzero(contentish)
    idx = np.arange(n)
    nxt = np.searchsorted(positions, idx, side="right")
    dist = np.full(n, float(MAX_CONTENTISH_DIST))
    has_next = nxt < positions.size
    dist[has_next] = np.minimum(positions[nxt[has_next]] - idx[has_next], MAX_CONTENTISH_DIST)
    prev_ends = np.zeros(n)
    if n > 1:
        ends = np.fromiter(map(str.endswith, texts[:-1], texts[1:]), dtype=bool, count=n - 1)
        prev_ends[1:] = ends & (chars[:-1] > chars[1:]) & (chars[1:] > 0)
    # Title-like, non-meta lines strictly between each block and the next content-ish block: prefix sums, read at the
    # block before the next content-ish one (blocks with no content-ish block after them count up to the page's end).
    titles = np.concatenate(([0.0], np.cumsum((title_like > 0) & ~meta)))
    end = np.where(has_next, positions[np.minimum(nxt, max(positions.size - 1, 0))] if positions.size else 0, n)
    return meta.astype(np.float64), neighbours, dist, prev_ends, np.maximum(titles[end] - titles[idx + 1], 0.0)


def _lead_labels(texts: list[str]) -> np.ndarray:
    """One page's lead_label_promo, lead_label_caps and lead_label_tail_repeats columns."""
    if _KIT is not None:
        return _KIT.lead_labels(
            texts, _LEAD_SEPS, LEAD_LABEL_MAX_CHARS, LEAD_LABEL_MAX_WORDS, _PROMO_LABELS, _TOKEN_STRIP
        )
    labels = np.zeros((len(texts), 3))
    # C-level search of the first LEAD_LABEL_MAX_CHARS characters of every block; Python runs on the few hits only.
    hits = list(map(_LEAD_SEP_RE.search, texts, repeat(0), repeat(LEAD_LABEL_MAX_CHARS)))
    candidates = list(compress(range(len(texts)), hits))
    if candidates:
        distinct = set(texts)
        for i in candidates:
            text = texts[i]
            sep = hits[i].start()  # type: ignore[union-attr]
            label = " ".join(text[:sep].split())
            tail = text[sep + 1 :].strip()
            if not label or not tail or label.count(" ") + 1 > LEAD_LABEL_MAX_WORDS:
                continue
            labels[i, 0] = label.lower().strip(_TOKEN_STRIP) in _PROMO_LABELS
            labels[i, 1] = label.isupper()
            labels[i, 2] = tail in distinct
    return labels


def featurize(blocks: Sequence[Block]) -> np.ndarray:
    """Feature matrix (float32, one row per block, columns in FEATURE_NAMES order) for one document's blocks."""
    return featurize_many([blocks])


def featurize_many(documents: Sequence[Sequence[Block]]) -> np.ndarray:
    """featurize of several documents, stacked in order, bitwise equal to featurize of each (vertically stacked).

    The numpy work runs once over the batch instead of once per page (a page costs ~0.5 ms of such per-call work
    whatever its size): per-page values (sizes, medians, prefix sums, neighbours) are taken within each page.
    """
    pages = [blocks for blocks in documents if len(blocks)]
    if not pages:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    bases = [_collect(blocks) for blocks in pages]
    toks = [_token_index(base) for base in bases]
    base, tok = (bases[0], toks[0]) if len(bases) == 1 else _merged(bases, toks)
    spans = _spans([b.n for b in bases])
    n = base.n
    cols: Cols = {}
    _length_and_style(base, cols)
    _token_stats(base, tok, cols, spans)
    _patterns(base, tok, cols)
    contentish = (base.col("n_words") >= CONTENTISH_MIN_WORDS) & (cols["link_density"] <= CONTENTISH_MAX_LINK_DENSITY)
    _dom(base, cols, contentish, spans)
    _class_families(base, cols)
    _neighbours(base, cols, spans)
    _document(base, cols, contentish, spans)
    _plain_text(base, cols, spans)
    _meta_lines(base, cols, contentish, spans)
    _structure(base, cols, contentish, spans)
    if _KIT is not None:
        stacked = _KIT.stack(list(map(cols.__getitem__, FEATURE_NAMES)), n)
        if stacked is not None:
            return stacked
    out = np.empty((len(FEATURE_NAMES), n), dtype=np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        out[j] = cols[name]
    return np.ascontiguousarray(out.T)


# _Base fields holding one row (or value) per block, concatenated as they are when pages are merged.
_ROW_FIELDS = (
    "num", "is_text", "tag_code", "near_bits", "any_bits", "n_class_tokens", "has_bullet", "starts_upper",
    "starts_bullet", "ends_sent", "ends_colon", "all_caps", "char_counts", "repeat_count", "tok_count",
)


def _merged(bases: list[_Base], toks: list[_Tokens]) -> tuple[_Base, _Tokens]:
    """One _Base and _Tokens for several pages' blocks, in order: path ids made unique across pages, token block
    indices and text offsets shifted; page-level values (repeat counts, token frequencies) stay each page's own."""
    rows = np.cumsum([0] + [b.n for b in bases[:-1]])
    path_offsets = np.cumsum([0] + [int(b.path_id.max()) + 1 for b in bases[:-1]])
    parent_offsets = np.cumsum([0] + [int(b.parent_id.max()) + 1 for b in bases[:-1]])
    text_offsets = np.cumsum([0] + [len(b.doc) + len(_SEP) for b in bases[:-1]])

    def cat(field: str) -> np.ndarray:
        return np.concatenate([getattr(b, field) for b in bases])

    def shifted(field: str, offsets: np.ndarray) -> np.ndarray:
        return np.concatenate([getattr(b, field) + off for b, off in zip(bases, offsets.tolist(), strict=True)])

    base = _Base(
        n=sum(b.n for b in bases),
        texts=list(chain.from_iterable(b.texts for b in bases)),
        doc=_SEP.join(b.doc for b in bases),
        starts=shifted("starts", text_offsets),
        path_id=shifted("path_id", path_offsets),
        parent_id=shifted("parent_id", parent_offsets),
        tokens=list(chain.from_iterable(b.tokens for b in bases)),
        **{field: cat(field) for field in _ROW_FIELDS},
    )
    tok = _Tokens(
        block=np.concatenate([t.block + off for t, off in zip(toks, rows.tolist(), strict=True)]),
        facts=np.concatenate([t.facts for t in toks]),
        frequent=np.concatenate([t.frequent for t in toks]),
        top=np.concatenate([t.top for t in toks]),
    )
    return base, tok
