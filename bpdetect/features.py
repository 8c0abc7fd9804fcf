"""Blocks to a feature matrix: a fixed, named, versioned feature list computed vectorized over a whole document.

One schema serves both sources: DOM features are 0 for plain-text input (``Block.source == "text"``) and the
``is_text_input`` column tells the two apart; the plain-text columns are 0 for HTML input.

How it stays fast: a single pass over the blocks reads attributes and does a few C-level string calls per block;
regex text patterns run once over the whole document (blocks joined by NUL) and their match offsets are mapped back
to blocks with ``np.searchsorted``; token statistics are computed once per distinct token and gathered with numpy;
everything else is whole-column numpy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

import numpy as np

from .records import SEM_LINK_ONLY, SEMANTIC_FLAGS, Block

__all__ = ["FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "featurize"]

# Bump whenever a feature is added, removed, reordered or its definition changes: models record it and refuse a
# mismatched schema.
FEATURE_SCHEMA_VERSION = 1

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
CONTENTISH_MAX_LINK_DENSITY = 0.33
# The block's own class/id tokens plus those of its nearest ancestors: Block.class_tokens is flat, so "nearest"
# means the first few tokens (an owner with 1–2 classes plus its parent's, typically).
NEAR_CLASS_TOKENS = 4
# Tokens of at most this many characters count as "short" (function-word proxy: the, de, und, la, het, …).
SHORT_TOKEN_MAX_LEN = 3
# A token seen at least this many times on the page counts as frequent there.
DOC_FREQUENT_MIN_COUNT = 3
# Size of the page's "most frequent tokens" list (tokens must occur at least twice to be in it).
DOC_TOP_TOKENS = 20
# Plain-text lines of at most this many words, without sentence punctuation at the end, may be titles.
TITLE_LINE_MAX_WORDS = 12
# Indentation is capped: deeper indents carry no more information and would only stretch the column.
MAX_INDENT = 40

_SEP = "\x00"  # joins block texts; no text pattern below can match it (no '.', '\W' or negated classes)

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
)

# ---------------------------------------------------------------------------------------------------------------------
# Built-in word lists and text patterns
# ---------------------------------------------------------------------------------------------------------------------

# About fifty of the most frequent function words per language (en, de, fr, es, it, pt, nl), lowercased; elided
# French/Italian articles appear as the single letters the tokenizer leaves (l', d', qu').
_STOPWORDS: frozenset[str] = frozenset(
    """
    the of and to a in is it that for on was with as at by be this are from or an not but have has had he she they
    we you i his her their its which who will would can there been were if so all also more than into about what
    when no one our up out
    der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat
    dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis
    mehr durch man sein wurde ich wir
    de la le et les des en un du une que est pour qui dans par plus pas au sur ne se ce il sont son aux avec ou mais
    comme on ses elle nous vous leur été cette l d qu n s c j y très sans être fait même aussi tout
    el y los del las por para con no una su al lo como más pero sus le ya o este sí porque esta entre cuando muy sin
    sobre también me hasta hay donde quien desde todo nos durante todos uno les ni ese eso ante ellos e esto es son
    fue ha
    di e il che per è non si da sono dei alla gli della ma anche più nel delle questo se ci io mi sua suo loro nella
    cui sul tra molto essere stato dal all dell nell
    do da em um é não os no na mais as dos foi ao ele das tem à seu sua ser muito há já está eu só pelo pela até
    isso ela era depois mesmo aos ter seus quem nas esse eles você
    van ik te dat die een hij het niet zijn was op aan met voor had er maar om hem dan zou wat mijn men dit zo door
    over ze zich bij ook tot je mij uit daar haar naar heb hoe heeft hebben deze u want nog zal zij nu geen omdat
    """.split()
)

_MONTHS = sorted(
    set(
        """
        january february march april may june july august september october november december
        jan feb mar apr jun jul aug sep sept oct nov dec
        januar februar märz mai juni juli oktober dezember jän
        janvier février mars avril juin juillet août septembre octobre novembre décembre janv févr avr juil déc
        enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
        ene abr ago dic
        gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre gen mag giu lug ott
        janeiro fevereiro março maio junho julho setembro outubro novembro dezembro fev set out dez
        januari februari maart mei augustus mrt okt
        """.split()
    ),
    key=len,
    reverse=True,
)
_MONTH_RE = "(?:" + "|".join(_MONTHS) + ")"

# All lowercase patterns run over the lowercased document; multilingual where the phrase is common and cheap.
_LOWER_PATTERNS: dict[str, str] = {
    "pat_date": (
        r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b|"
        rf"\b\d{{1,2}}(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?{_MONTH_RE}\b|\b{_MONTH_RE}\.?\s+\d{{1,4}}\b"
    ),
    "pat_relative_time": (
        r"\b\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b|"
        r"\bvor\s+\d+\s+(?:sekunden|minuten|stunden|tagen|wochen|monaten|jahren)\b|\bil y a\s+\d+|\bhace\s+\d+|"
        r"\b\d+\s+(?:secondi|minuti|ore|giorni|settimane|mesi|anni)\s+fa\b|\bhá\s+\d+|\b\d+\s+\w+\s+geleden\b|"
        r"\b(?:yesterday|today|gestern|heute|hier|aujourd'hui|ayer|hoy|ieri|oggi|ontem|hoje|gisteren|vandaag)\b"
    ),
    "pat_time": r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:am|pm|a\.m\.|p\.m\.|uhr|h)\b)?",
    "pat_counts": (
        r"\b\d[\d.,]*\s*[km]?\s*(?:views?|comments?|shares?|likes?|repl(?:y|ies)|responses?|reads?|votes?|"
        r"points?|followers?|retweets?|kommentare?|aufrufe|vues|commentaires?|partages|comentarios?|visitas|"
        r"vistas|commenti|visualizzazioni|comentários|visualizações|reacties|weergaven)\b"
    ),
    "pat_read_more": (
        r"\b(?:read|view|see|learn|show|load)\s+(?:more|full|the full|all)\b|\bcontinue\s+reading\b|"
        r"\bmore\s*(?:»|›|→|>)|\bweiterlesen\b|\bmehr\s+(?:lesen|erfahren|anzeigen)\b|\blire la suite\b|"
        r"\ben savoir plus\b|\bleer\s+m[aá]s\b|\bseguir\s+leyendo\b|\bleggi\s+(?:di\s+pi[uù]|tutto)\b|"
        r"\bcontinua\s+a\s+leggere\b|\bleia\s+mais\b|\bsaiba\s+mais\b|\blees\s+(?:meer|verder)\b|\bverder\s+lezen\b|"
        r"\[(?:…|\.\.\.)\]"
    ),
    "pat_copyright": (
        r"©|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b|\balle rechte vorbehalten\b|"
        r"\btous droits réservés\b|\btodos los derechos reservados\b|\btutti i diritti riservati\b|"
        r"\btodos os direitos reservados\b|\balle rechten voorbehouden\b|\bimpressum\b|"
        r"\bterms (?:of|and) (?:use|service|conditions)\b"
    ),
    "pat_reply": (
        r"\bleave a (?:reply|comment)\b|\bpost a comment\b|\badd (?:a|your) comment\b|\bwrite a comment\b|"
        r"\byour email address will not be published\b|\brequired fields are marked\b|\bnotify me of\b|"
        r"\blog ?in to (?:reply|comment)\b|\bkommentar (?:schreiben|verfassen|hinterlassen)\b|"
        r"\blaiss(?:er|ez) un commentaire\b|\bdeja (?:un|tu) comentario\b|\blascia un commento\b|"
        r"\bdeixe (?:um|seu) comentário\b|\blaat een reactie achter\b"
    ),
    "pat_related": (
        r"\brelated (?:posts?|articles?|stories|content|news|links|reading|videos?|topics)\b|\bsee also\b|"
        r"\bähnliche (?:beiträge|artikel)\b|\bweitere artikel\b|\barticles? (?:similaires|connexes|liés)\b|"
        r"\b(?:artículos|noticias|posts|artigos|notícias) relacionad[oa]s\b|\barticoli correlati\b|"
        r"\bgerelateerde artikel"
    ),
    "pat_you_missed": (
        r"\byou (?:missed|may also like|might also like|may like|might like)\b|"
        r"\bmore (?:stories|news|articles|from)\b|\brecommended (?:for you|stories|articles|reading)\b|\btrending\b|"
        r"\bmost (?:popular|read|viewed|shared|commented)\b|\bpopular (?:posts|stories|articles)\b|"
        r"\bdon'?t miss\b|\bread next\b|\bup next\b|\bdas könnte sie auch interessieren\b|\bmeistgelesen|"
        r"\bvous aimerez (?:aussi|également)\b|\bà lire aussi\b|\bte puede interesar\b|\blo más leído\b|"
        r"\bpotrebbe interessarti\b|\bpiù letti\b|\bvocê (?:pode|também) gostar\b|\bmais lidas\b|\bmeest gelezen\b"
    ),
    "pat_source": (
        r"\bsource(?:\s+link)?\s*:|\bsource link\b|\bquelle\s*:|\bfuente\s*:|\bfonte\s*:|\bbron\s*:|\bvia\s*:|"
        r"\boriginally (?:published|appeared)\b"
    ),
    "pat_share": (
        r"\bshare\b|\btweet\b|\bfacebook\b|\btwitter\b|\blinkedin\b|\bpinterest\b|\bwhatsapp\b|\breddit\b|"
        r"\btelegram\b|\bemail this\b|\bteilen\b|\bpartager\b|\bcompartir\b|\bcondividi\b|\bcompartilh|\bdelen\b"
    ),
    "pat_cookie": (
        r"cookie|\bconsent\b|\bgdpr\b|\bdsgvo\b|\bprivacy\b|\bdatenschutz|\bconfidentialité\b|\bprivacidad\b|"
        r"\baccept (?:all|cookies)\b"
    ),
    "pat_subscribe_login": (
        r"\b(?:sign|log)\s?(?:in|up|out)\b|\bsubscribe\b|\bnewsletter\b|\bregister\b|\bcreate an account\b|"
        r"\bmy account\b|\banmelden\b|\babonnieren\b|\bregistrieren\b|\bs'abonner\b|\bs'inscrire\b|\bconnexion\b|"
        r"\bsuscrib|\biniciar sesión\b|\bregistrarse\b|\biscriviti\b|\baccedi\b|\binscreva|\binloggen\b|"
        r"\babonneren\b"
    ),
    "pat_pagination": (
        r"\bpage\s+\d+\s+(?:of|/)\s+\d+\b|\b(?:next|previous|prev) (?:page|post|article)\b|"
        r"\b(?:older|newer) (?:posts|entries|articles)\b|«\s*(?:previous|prev|older)\b|\bnext\s*»|"
        r"\bnächste seite\b|\bpage suivante\b|\bpágina siguiente\b|\bpagina successiva\b|\bpróxima página\b|"
        r"\bvolgende pagina\b"
    ),
    "pat_url": r"https?://|\bwww\.\w",
    # Anchored at '@' so the scan stays linear even over very long word runs.
    "pat_email": r"(?<=\w)@[\w-]+\.\w{2,}",
}
# Case-sensitive patterns run over the original text. A byline: at the very start of a block, "By"/"Von"/"Par"/
# "Por"/"Door" (optionally after "Written"/"Posted"/"Story"), then a capitalized word. (?<![^\x00]) = block start.
_CASED_PATTERNS: dict[str, str] = {
    "pat_byline": (
        r"(?<![^\x00])\s*(?:(?:[Ww]ritten|[Pp]osted|[Ss]tory|[Ww]ords|[Tt]ext|[Pp]hotos?)\s+)?"
        r"(?:[Bb]y|BY|[Vv]on|[Pp]ar|[Pp]or|[Dd]oor)\s*:?\s+[A-ZÀ-Þ]|\b(?:[Aa]uthor|AUTHOR|[Aa]utor|[Aa]uteur)\s*:"
    ),
}
_LOWER_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((k, re.compile(v)) for k, v in _LOWER_PATTERNS.items())
_CASED_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((k, re.compile(v)) for k, v in _CASED_PATTERNS.items())
assert {k for k, _ in _LOWER_RES + _CASED_RES} == set(_PATTERN_FEATURES)

_WORD_RE = re.compile(r"\w+")
# Separator characters typical of menus, breadcrumbs and footers.
_SEP_CHARS_RE = re.compile(r"[|•·»›«‹→/]")
# Characters that open a list-like line ("• item", "- item", "» link").
_BULLET_CHARS = frozenset("•·-–—*»›>▪■□◦●○►▶✓✔+")
_SENT_END_CHARS = frozenset(".!?…。！？")
# Closing quotes/brackets stripped before looking at a block's last character.
_TRAILING_CLOSERS = " \t\n\"'”’»)]}"

_CLASS_FAMILY_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for _, p in _CLASS_FAMILY_PATTERNS)
_FAMILY_BIT: dict[str, int] = {name: 1 << k for k, name in enumerate(_CLASS_FAMILIES)}

_TAG_CODE: dict[str, int] = {tag: k for k, (_, tags) in enumerate(_TAG_GROUPS) for tag in tags}
_TAG_CODE_OTHER = len(_TAG_GROUPS)
_TAG_CODE_LINE = _TAG_CODE_OTHER + 1  # plain-text lines (and blocks from text input): no tag column set

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


# ---------------------------------------------------------------------------------------------------------------------
# Per-block pass
# ---------------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _token_family_bits(token: str) -> int:
    """Bit set of the class/id families whose pattern occurs in one lowercased token."""
    bits = 0
    for k, rx in enumerate(_CLASS_FAMILY_RES):
        if rx.search(token):
            bits |= 1 << k
    return bits


@lru_cache(maxsize=1 << 14)
def _class_bits(tokens: tuple[str, ...]) -> tuple[int, int]:
    """(families among the nearest tokens, families among all tokens) of one block's class/id tokens."""
    near = every = 0
    for i, token in enumerate(tokens):
        bits = _token_family_bits(token)
        every |= bits
        if i < NEAR_CLASS_TOKENS:
            near |= bits
    return near, every


@dataclass(slots=True)
class _Base:
    """Per-block base columns gathered in one pass, plus the joined document text for regex scans."""

    n: int
    num: np.ndarray  # (n, len(_NUM_FIELDS)) float64
    is_text: np.ndarray  # bool
    tag_code: np.ndarray  # int
    path_id: np.ndarray  # int
    parent_id: np.ndarray  # int, id of the path's parent path
    near_bits: np.ndarray  # int64
    any_bits: np.ndarray  # int64
    n_class_tokens: np.ndarray
    has_bullet: np.ndarray
    starts_upper: np.ndarray
    starts_bullet: np.ndarray
    ends_sent: np.ndarray
    ends_colon: np.ndarray
    all_caps: np.ndarray
    commas: np.ndarray
    sent_punct: np.ndarray
    repeat_count: np.ndarray
    tok_count: np.ndarray  # tokens per block
    tokens: list[str]  # all tokens of the document, in order
    texts: list[str]

    def col(self, field: str) -> np.ndarray:
        """One numeric Block field as a float64 column."""
        return self.num[:, _F[field]]


def _collect(blocks: Sequence[Block]) -> _Base:
    """Read every block once: numeric fields, tag/path ids, class families, cheap string facts and tokens."""
    nums: list[tuple] = []
    is_text: list[bool] = []
    tag_code: list[int] = []
    path_ids: dict[str, int] = {}
    path_id: list[int] = []
    near: list[int] = []
    every: list[int] = []
    n_cls: list[int] = []
    bullet: list[bool] = []
    starts_upper: list[bool] = []
    starts_bullet: list[bool] = []
    ends_sent: list[bool] = []
    ends_colon: list[bool] = []
    caps: list[bool] = []
    commas: list[int] = []
    sent_punct: list[int] = []
    tok_count: list[int] = []
    tokens: list[str] = []
    texts: list[str] = []
    findall = _WORD_RE.findall
    tag_get = _TAG_CODE.get
    for b in blocks:
        t = b.text
        texts.append(t)
        nums.append(_get_nums(b))
        text_input = b.source == "text"
        is_text.append(text_input)
        tag_code.append(_TAG_CODE_LINE if text_input else tag_get(b.tag, _TAG_CODE_OTHER))
        pid = path_ids.get(b.path)
        if pid is None:
            pid = path_ids[b.path] = len(path_ids)
        path_id.append(pid)
        cls = b.class_tokens
        n_cls.append(len(cls))
        nb, ab = _class_bits(cls) if cls else (0, 0)
        near.append(nb)
        every.append(ab)
        bullet.append(bool(b.bullet))
        first = t.lstrip()[:1]
        starts_upper.append(first.isupper())
        starts_bullet.append(first in _BULLET_CHARS)
        last = t.rstrip(_TRAILING_CLOSERS)[-1:]
        ends_sent.append(last in _SENT_END_CHARS)
        ends_colon.append(last == ":")
        caps.append(t.isupper())
        commas.append(t.count(","))
        sent_punct.append(t.count(".") + t.count("!") + t.count("?") + t.count("。"))
        toks = findall(t)
        tok_count.append(len(toks))
        tokens += toks
    counts = Counter(texts)
    repeat = [counts[t] - 1 if t else 0 for t in texts]
    parent_of = {p: path_ids.setdefault(p.rpartition("/")[0], len(path_ids)) for p in list(path_ids)}
    paths_by_id = list(path_ids)
    parent_id = [parent_of.get(paths_by_id[i], i) for i in path_id]
    return _Base(
        n=len(texts),
        num=np.array(nums, dtype=np.float64).reshape(len(texts), len(_NUM_FIELDS)),
        is_text=np.array(is_text, dtype=bool),
        tag_code=np.array(tag_code, dtype=np.int64),
        path_id=np.array(path_id, dtype=np.int64),
        parent_id=np.array(parent_id, dtype=np.int64),
        near_bits=np.array(near, dtype=np.int64),
        any_bits=np.array(every, dtype=np.int64),
        n_class_tokens=np.array(n_cls, dtype=np.float64),
        has_bullet=np.array(bullet, dtype=np.float64),
        starts_upper=np.array(starts_upper, dtype=np.float64),
        starts_bullet=np.array(starts_bullet, dtype=np.float64),
        ends_sent=np.array(ends_sent, dtype=np.float64),
        ends_colon=np.array(ends_colon, dtype=np.float64),
        all_caps=np.array(caps, dtype=np.float64),
        commas=np.array(commas, dtype=np.float64),
        sent_punct=np.array(sent_punct, dtype=np.float64),
        repeat_count=np.array(repeat, dtype=np.float64),
        tok_count=np.array(tok_count, dtype=np.float64),
        tokens=tokens,
        texts=texts,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Whole-column helpers
# ---------------------------------------------------------------------------------------------------------------------


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den is 0."""
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def _shift(a: np.ndarray, offset: int) -> np.ndarray:
    """Value of block i+offset at row i; NEIGHBOUR_PAD where that block does not exist."""
    out = np.full(a.shape, NEIGHBOUR_PAD, dtype=np.float64)
    n = a.shape[0]
    if abs(offset) >= n:
        return out
    if offset > 0:
        out[:-offset] = a[offset:]
    else:
        out[-offset:] = a[:offset]
    return out


def _window_sum(a: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of a over rows [i-half, i+half] clipped to the document, and the number of rows summed."""
    n = a.shape[0]
    c = np.concatenate(([0.0], np.cumsum(a, dtype=np.float64)))
    idx = np.arange(n)
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, n)
    return c[hi] - c[lo], (hi - lo).astype(np.float64)


def _run_lengths(codes: np.ndarray) -> np.ndarray:
    """Length of the run of equal consecutive codes each row belongs to."""
    change = np.empty(codes.shape[0], dtype=bool)
    change[0] = True
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    run_id = np.cumsum(change) - 1
    return np.bincount(run_id).astype(np.float64)[run_id]


def _match_blocks(rx: re.Pattern[str], doc: str, starts: np.ndarray, n: int) -> np.ndarray:
    """1.0 for every block in which rx matches (doc = block texts joined by _SEP, starts = their offsets)."""
    out = np.zeros(n, dtype=np.float64)
    pos = [m.start() for m in rx.finditer(doc)]
    if pos:
        out[np.searchsorted(starts, pos, side="right") - 1] = 1.0
    return out


def _joined(texts: list[str]) -> tuple[str, np.ndarray]:
    """The texts joined by _SEP and each text's start offset in the joined string."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return _SEP.join(texts), starts


# ---------------------------------------------------------------------------------------------------------------------
# Feature groups; each adds named columns to `cols`
# ---------------------------------------------------------------------------------------------------------------------

Cols = dict[str, np.ndarray]


def _length_and_style(base: _Base, cols: Cols) -> None:
    """Length, link and text-style columns from the block's own counts."""
    chars = base.col("n_chars")
    words = base.col("n_words")
    lines = np.maximum(base.col("n_lines"), 1.0)
    link_chars = base.col("n_link_chars")
    cols["n_chars"] = chars
    cols["n_words"] = words
    cols["log_chars"] = np.log1p(chars)
    cols["log_words"] = np.log1p(words)
    cols["n_sentences"] = base.col("n_sentences")
    cols["n_lines"] = lines
    link_density = np.clip(_ratio(link_chars, chars), 0.0, 1.0)
    cols["link_density"] = link_density
    cols["n_links"] = base.col("n_links")
    cols["links_per_word"] = _ratio(base.col("n_links"), words)
    # Whole block is link text: >= 95% of its characters inside links (whitespace between links may be outside).
    link_only = (chars > 0) & (link_density >= 0.95)
    link_only |= (base.col("semantic").astype(np.int64) & SEM_LINK_ONLY) != 0
    cols["is_link_only"] = link_only.astype(np.float64)
    cols["words_per_line"] = words / lines
    cols["chars_per_line"] = chars / lines
    cols["punct_ratio"] = np.clip(_ratio(base.col("n_punct"), chars), 0.0, 1.0)
    cols["digit_ratio"] = np.clip(_ratio(base.col("n_digits"), chars), 0.0, 1.0)
    cols["upper_ratio"] = np.clip(_ratio(base.col("n_upper"), chars), 0.0, 1.0)
    cols["sent_punct_ratio"] = np.clip(_ratio(base.sent_punct, base.col("n_punct")), 0.0, 1.0)
    cols["commas_per_word"] = _ratio(base.commas, words)
    cols["starts_upper"] = base.starts_upper
    cols["ends_sentence_punct"] = base.ends_sent
    cols["ends_colon"] = base.ends_colon
    cols["is_all_caps"] = base.all_caps
    cols["starts_bullet_char"] = base.starts_bullet


def _token_stats(base: _Base, cols: Cols) -> None:
    """Token-level shares: function-word proxies, stopwords, page-frequent tokens, title case, digits, word length."""
    n = base.n
    tokens = base.tokens
    if not tokens:
        for name in (*_TOKEN_FEATURES, "title_case_share", "digit_token_share", "mean_word_len"):
            cols[name] = np.zeros(n)
        return
    counter = Counter(tokens)
    uniq = list(counter)
    uid = dict(zip(uniq, range(len(uniq)), strict=True))
    ids = np.fromiter(map(uid.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    tok_block = np.repeat(np.arange(n), base.tok_count.astype(np.int64))
    # Per distinct token (C-level maps only).
    u_count = np.fromiter(counter.values(), dtype=np.float64, count=len(uniq))
    u_len = np.fromiter(map(len, uniq), dtype=np.float64, count=len(uniq))
    u_alpha = np.fromiter(map(str.isalpha, uniq), dtype=bool, count=len(uniq))
    u_lowercase = np.fromiter(map(str.islower, uniq), dtype=bool, count=len(uniq))
    u_digit = np.fromiter(map(str.isdigit, uniq), dtype=bool, count=len(uniq))
    lowered = list(map(str.lower, uniq))
    u_stop = np.fromiter(map(_STOPWORDS.__contains__, lowered), dtype=bool, count=len(uniq))
    # Page frequency is case-insensitive: fold the distinct tokens onto their lowercase forms.
    lid_of: dict[str, int] = {}
    lids = np.array([lid_of.setdefault(w, len(lid_of)) for w in lowered], dtype=np.int64)
    low_count = np.bincount(lids, weights=u_count)
    u_doc_count = low_count[lids]
    top = np.zeros(low_count.shape[0], dtype=bool)
    k = min(DOC_TOP_TOKENS, low_count.shape[0])
    top_idx = np.argpartition(-low_count, k - 1)[:k]
    top[top_idx[low_count[top_idx] >= 2]] = True
    u_short = u_alpha & (u_len <= SHORT_TOKEN_MAX_LEN)
    u_frequent = u_doc_count >= DOC_FREQUENT_MIN_COUNT
    # Capitalized = alphabetic and not all-lowercase (covers Title and ALLCAPS; caseless scripts count as not).
    u_cap = u_alpha & ~u_lowercase & np.fromiter(map(str.isupper, (w[:1] for w in uniq)), dtype=bool, count=len(uniq))

    def per_block(flags: np.ndarray) -> np.ndarray:
        return np.bincount(tok_block, weights=flags.astype(np.float64)[ids], minlength=n)

    n_tok = base.tok_count
    n_alpha = per_block(u_alpha)
    cols["short_token_share"] = _ratio(per_block(u_short), n_tok)
    cols["stopword_share"] = _ratio(per_block(u_stop), n_tok)
    cols["doc_frequent_token_share"] = _ratio(per_block(u_frequent), n_tok)
    cols["doc_frequent_short_share"] = _ratio(per_block(u_frequent & u_short), n_tok)
    cols["doc_top_token_share"] = _ratio(per_block(top[lids]), n_tok)
    cols["title_case_share"] = _ratio(per_block(u_cap), n_alpha)
    cols["digit_token_share"] = _ratio(per_block(u_digit), n_tok)
    cols["mean_word_len"] = _ratio(np.bincount(tok_block, weights=u_len[ids], minlength=n), n_tok)


def _patterns(base: _Base, cols: Cols) -> None:
    """Text-pattern presence flags and separator-character density, one regex scan of the whole document each."""
    n = base.n
    doc, starts = _joined(base.texts)
    low = doc.lower()
    if len(low) == len(doc):
        low_starts = starts
    else:  # lower() changed some lengths (e.g. 'İ'): lowercase block by block to keep offsets exact
        low, low_starts = _joined([t.lower() for t in base.texts])
    for name, rx in _LOWER_RES:
        cols[name] = _match_blocks(rx, low, low_starts, n)
    for name, rx in _CASED_RES:
        cols[name] = _match_blocks(rx, doc, starts, n)
    pos = [m.start() for m in _SEP_CHARS_RE.finditer(doc)]
    seps = np.bincount(np.searchsorted(starts, pos, side="right") - 1, minlength=n).astype(np.float64)
    cols["sep_chars_per_word"] = _ratio(seps, np.maximum(base.col("n_words"), 1.0))


def _dom(base: _Base, cols: Cols, contentish: np.ndarray) -> None:
    """Depth, tag one-hots, list/table/caption/heading flags, semantic ancestors and path sharing (0 for text)."""
    html = (~base.is_text).astype(np.float64)
    depth = base.col("depth") * html
    cols["depth"] = depth
    ref = depth[contentish & ~base.is_text]
    if ref.size == 0:
        ref = depth[~base.is_text]
    median = float(np.median(ref)) if ref.size else 0.0
    cols["depth_minus_content_median"] = (depth - median) * html
    cols["depth_rel_max"] = _ratio(depth, np.full(base.n, depth.max()))
    for k, (name, _) in enumerate(_TAG_GROUPS):
        cols[name] = (base.tag_code == k).astype(np.float64)
    cols[_TAG_OTHER] = (base.tag_code == _TAG_CODE_OTHER).astype(np.float64)
    heading = np.clip(base.col("heading"), 0.0, 6.0)
    cols["heading_level"] = heading
    cols["is_heading"] = (heading > 0).astype(np.float64)
    cols["is_list_item"] = base.col("is_list_item")
    cols["is_table_cell"] = base.col("is_table_cell")
    cols["is_caption"] = base.col("is_caption")
    semantic = base.col("semantic").astype(np.int64)
    for name, flag in zip(_SEM_NAMES, SEMANTIC_FLAGS.values(), strict=True):
        cols[name] = ((semantic & flag) != 0).astype(np.float64)
    cols["n_class_tokens"] = base.n_class_tokens
    # Share of the page's non-link text in blocks with the same path / the same parent path: the article's
    # paragraphs usually share one path and hold most of the text.
    plain = np.maximum(base.col("n_chars") - base.col("n_link_chars"), 0.0)
    total = plain.sum()
    by_path = np.bincount(base.path_id, weights=plain)
    cols["path_chars_share"] = (by_path[base.path_id] / total if total > 0 else np.zeros(base.n)) * html
    by_parent = np.bincount(base.parent_id, weights=plain)
    cols["parent_chars_share"] = (by_parent[base.parent_id] / total if total > 0 else np.zeros(base.n)) * html


def _class_families(base: _Base, cols: Cols) -> None:
    """Class/id family flags among the nearest tokens and among all ancestor tokens."""
    for family in _CLASS_FAMILIES:
        bit = _FAMILY_BIT[family]
        cols[f"cls_near_{family}"] = ((base.near_bits & bit) != 0).astype(np.float64)
        cols[f"cls_any_{family}"] = ((base.any_bits & bit) != 0).astype(np.float64)


def _neighbours(base: _Base, cols: Cols) -> None:
    """Previous/next values of key columns, windowed means, same-tag/path run lengths and repeated text."""
    for key in _NEIGHBOUR_KEYS:
        column = cols[key]
        for tag, offset in _NEIGHBOUR_OFFSETS:
            cols[f"{key}_{tag}"] = _shift(column, offset)
    for key in ("log_chars", "link_density"):
        total, count = _window_sum(cols[key], WINDOW)
        cols[f"win_mean_{key}"] = total / count
    cols["same_tag_run_len"] = _run_lengths(base.tag_code)
    cols["same_path_run_len"] = _run_lengths(base.path_id) * (~base.is_text)
    cols["text_repeat_count"] = base.repeat_count


def _document(base: _Base, cols: Cols, contentish: np.ndarray) -> None:
    """Position and page-relative columns: sizes vs the page, distance to the densest region, content before/after."""
    n = base.n
    chars = base.col("n_chars")
    link_chars = base.col("n_link_chars")
    idx = np.arange(n, dtype=np.float64)
    cols["rel_position"] = idx / n
    total = chars.sum()
    before = np.cumsum(chars) - chars
    cols["rel_char_offset"] = before / total if total > 0 else np.zeros(n)
    cols["chars_rel_max"] = _ratio(chars, np.full(n, chars.max()))
    cols["chars_rel_median"] = chars / max(float(np.median(chars)), 1.0)
    log_chars = cols["log_chars"]
    cols["log_chars_minus_mean"] = log_chars - log_chars.mean()
    # Densest region: argmax of the non-link chars per block, summed over a window of +-WINDOW blocks.
    plain = np.maximum(chars - link_chars, 0.0)
    curve, _ = _window_sum(plain, WINDOW)
    peak = int(np.argmax(curve))
    cols["dense_dist_blocks"] = np.log1p(np.abs(idx - peak))
    cols["dense_dist_rel"] = (idx - peak) / n
    cols["dense_curve_rel"] = _ratio(curve, np.full(n, curve.max()))
    content_chars = np.where(contentish, chars, 0.0)
    content_total = content_chars.sum()
    content_before = np.cumsum(content_chars) - content_chars
    if content_total > 0:
        cols["contentish_before"] = content_before / content_total
        cols["contentish_after"] = (content_total - content_before - content_chars) / content_total
    else:
        cols["contentish_before"] = np.zeros(n)
        cols["contentish_after"] = np.zeros(n)
    cols["doc_log_blocks"] = np.full(n, np.log1p(n))
    cols["doc_log_chars"] = np.full(n, np.log1p(total))
    cols["doc_link_density"] = np.full(n, min(link_chars.sum() / total, 1.0) if total > 0 else 0.0)
    cols["is_text_input"] = base.is_text.astype(np.float64)


def _plain_text(base: _Base, cols: Cols) -> None:
    """Plain-text layout columns (0 for HTML blocks): indent, bullet, blank lines around, title-like line."""
    text = base.is_text.astype(np.float64)
    cols["indent"] = np.minimum(base.col("indent"), MAX_INDENT) * text
    cols["has_bullet"] = base.has_bullet * text
    blank_before = base.col("blank_before")
    cols["blank_before"] = blank_before * text
    blank_after = np.ones(base.n)  # the end of the text counts as a blank line
    blank_after[:-1] = blank_before[1:]
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


def featurize(blocks: Sequence[Block]) -> np.ndarray:
    """Feature matrix (float32, one row per block, columns in FEATURE_NAMES order) for one document's blocks."""
    n = len(blocks)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    base = _collect(blocks)
    cols: Cols = {}
    _length_and_style(base, cols)
    _token_stats(base, cols)
    _patterns(base, cols)
    contentish = (base.col("n_words") >= CONTENTISH_MIN_WORDS) & (cols["link_density"] <= CONTENTISH_MAX_LINK_DENSITY)
    _dom(base, cols, contentish)
    _class_families(base, cols)
    _neighbours(base, cols)
    _document(base, cols, contentish)
    _plain_text(base, cols)
    out = np.empty((n, len(FEATURE_NAMES)), dtype=np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        out[:, j] = cols[name]
    # Every column is finite by construction; this guards against pathological counts (e.g. inf from huge ints).
    np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return out
