"""A self-contained HTML report of why each block of a page was kept or dropped (``bpdetect explain``).

The report is one HTML5 document with inline CSS and no script or external resource, so it renders offline and can be
mailed around: a header with the page facts and the model, a score strip (minimap) of the whole page, then every
block in document order, coloured by its score, marked kept or dropped, with its most informative feature values in
a hover/focus popover. Page content is untrusted: every text and attribute value goes through ``_esc``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .boilerplate import rule_at, text_rules_for
from .extract import Detector, Threshold
from .features import FEATURE_NAMES, featurize
from .persist import ModelBundle
from .records import Block, Document, Extraction, ScoredBlock
from .runtime import RuntimeClassifier
from .segment import InputKind

__all__ = [
    "DROPPED_COLOR",
    "KEPT_COLOR",
    "Explanation",
    "build_explanation",
    "explain_report",
    "feature_importance",
    "informative_order",
    "score_color",
]

# Solid marker colours of the keep/drop decision (badges and the thick left border of every block). They are kept
# well apart from the score scale below so the decision reads at a glance even where a score sits near the threshold.
KEPT_COLOR = "#0b6e2e"
DROPPED_COLOR = "#8e1b1b"
# Score scale anchors (ColorBrewer RdYlGn ends and middle): 0 → red, 0.5 → yellow, 1 → green.
_SCALE: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (215, 48, 39)),
    (0.5, (254, 224, 139)),
    (1.0, (26, 152, 80)),
)
# Block backgrounds are the score colour mixed with this much white, so black text stays readable on them.
_TINT_WHITE = 0.72
# Feature values listed in each block's popover (most informative first); the full row would be 168 values per
# block and make reports of long pages several megabytes.
FEATURES_SHOWN = 12
# Per-block ranking of features: a feature's split gain times how unusual the block's value is on this page (its
# absolute z-score, capped so one outlier column cannot dominate, plus a floor so important features still show on
# blocks that are typical). Page-constant features (document statistics) get only the floor.
_Z_CAP = 4.0
_Z_FLOOR = 0.25
# Minimap cell width grows with the block's length, on a log scale so one huge block does not flatten the strip.
_MINIMAP_MIN_WEIGHT = 1.0
# C0 controls other than tab and newline, DEL and C1 controls: shown as U+FFFD (NUL is a parse error in HTML).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Explanation:
    """A rendered report with the Document and Extraction it was built from."""

    html: str
    document: Document
    extraction: Extraction
    threshold: float  # the threshold applied (the model's, for a page without blocks too)

    @property
    def kept(self) -> int:
        """Number of blocks kept as content."""
        return sum(1 for sb in self.extraction.blocks if sb.is_content)

    @property
    def dropped(self) -> int:
        """Number of blocks dropped as clutter."""
        return len(self.extraction.blocks) - self.kept


def _esc(value: object) -> str:
    """Escape any value for HTML text and quoted attributes; controls and lone surrogates become U+FFFD."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return html.escape(_CONTROL_RE.sub("\ufffd", text), quote=True)


def score_color(score: float, tint: float = 0.0) -> str:
    """CSS colour of a score on the red (0) → yellow → green (1) scale, mixed with ``tint`` parts of white."""
    s = min(max(float(score), 0.0), 1.0) if np.isfinite(score) else 0.0
    rgb: list[float] = list(map(float, _SCALE[-1][1]))
    for (a, ca), (b, cb) in pairwise(_SCALE):
        if s <= b:
            t = (s - a) / (b - a)
            rgb = [ca[k] + (cb[k] - ca[k]) * t for k in range(3)]
            break
    rgb = [c + (255 - c) * tint for c in rgb]
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def feature_importance(bundle: ModelBundle) -> np.ndarray:
    """Split gain of each block feature summed over the model's trees (both stages); zeros when unavailable.

    HistGradientBoosting exposes no importances, so this reads its fitted tree predictors; a model without them (or
    a future scikit-learn that renames them) just gets schema order in the report.
    """
    clf = bundle.classifier
    n = len(bundle.feature_names)
    if isinstance(clf, RuntimeClassifier):  # an .npz model keeps its split gains in its node arrays
        gains = clf.feature_gains()
        return gains if len(gains) == n else np.zeros(n)
    gains = np.zeros(n)
    for stage in (getattr(clf, "stage1_", None), getattr(clf, "stage2_", None)):
        for iteration in getattr(stage, "_predictors", None) or ():
            for predictor in iteration:
                nodes = getattr(predictor, "nodes", None)
                if nodes is None:
                    continue
                split = ~nodes["is_leaf"].astype(bool) & (nodes["feature_idx"] < n)
                np.add.at(gains, nodes["feature_idx"][split].astype(np.int64), nodes["gain"][split])
    return gains


def _fmt(value: float) -> str:
    """A feature value, short: integers without decimals, other numbers with 4 significant digits."""
    if not np.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def _kind_details(block: Block) -> str:
    """Tag, DOM path and layout facts of a block, as one line of escaped HTML."""
    parts = [f"<code>#{block.index}</code>", f"<code>&lt;{_esc(block.tag)}&gt;</code>"]
    if block.path:
        parts.append(f'<code class="path">{_esc(block.path)}</code>')
    if block.heading:
        parts.append(f"h{block.heading}")
    if block.source == "text":
        if block.bullet:
            parts.append(f"bullet <code>{_esc(block.bullet)}</code>")
        if block.indent:
            parts.append(f"indent {block.indent}")
    if block.source == "html" and block.n_chars:
        parts.append(f"{block.n_chars} chars, links {block.n_link_chars / block.n_chars:.0%}")
    else:
        parts.append(f"{block.n_chars} chars")
    return " · ".join(parts)


def informative_order(X: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """For each block (row of ``X``), feature indices from most to least informative about that block."""
    if X.size == 0:
        return np.zeros(X.shape, dtype=np.int64)
    weight = gains / gains.max() if gains.max() > 0 else np.ones(X.shape[1])
    std = X.std(axis=0)
    z = np.abs(X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    rank = weight * (_Z_FLOOR + np.minimum(z, _Z_CAP))
    return np.argsort(-rank, axis=1, kind="stable")


def _feature_table(
    row: np.ndarray, order: np.ndarray, medians: np.ndarray, by_gain: bool, names: Sequence[str] = FEATURE_NAMES
) -> str:
    """The popover of one block: its values of the most informative features, next to the page's medians."""
    rows = "".join(
        f"<tr><th>{_esc(names[j])}</th><td>{_fmt(float(row[j]))}</td><td>{_fmt(float(medians[j]))}</td></tr>"
        for j in order[:FEATURES_SHOWN].tolist()
    )
    why = "model split gain × how unusual the value is on this page" if by_gain else "how unusual the value is"
    return (
        f'<div class="features" role="tooltip"><p>Top {min(FEATURES_SHOWN, len(order))} of {len(names)} '
        f"features ({why})</p><table><tr><th>feature</th><td>value</td><td>page median</td></tr>{rows}</table></div>"
    )


def _block_html(sb: ScoredBlock, features: str, rule: str | None = None) -> str:
    """One block of the page: decision badge, score, tag/path, text and its feature popover."""
    b = sb.block
    cls = "kept" if sb.is_content else "dropped"
    badge = "KEPT" if sb.is_content else "DROPPED"
    # ``rule``: the boilerplate rule that dropped the block although its score reaches the threshold.
    why = "" if rule is None else f'<span class="rule">boilerplate: {_esc(rule)}</span>'
    return (
        f'<section class="block {cls}" id="b{b.index}" tabindex="0" '
        f'style="background:{score_color(sb.score, _TINT_WHITE)}"><div class="meta">'
        f'<span class="badge {cls}">{badge}</span>{why}'
        f'<span class="score" style="background:{score_color(sb.score)}">{sb.score:.3f}</span> {_kind_details(b)}</div>'
        f'<div class="text">{_esc(b.text)}</div>{features}</section>'
    )


def _blocks_html(extraction: Extraction, bundle: ModelBundle) -> str:
    """Every block in document order, each with its feature popover."""
    blocks = extraction.blocks
    page = [sb.block for sb in blocks]
    X = featurize(page)
    if bundle.lexicon is not None:
        X = bundle.design(X, [b.text for b in page])
    names = bundle.feature_names
    gains = feature_importance(bundle)
    order = informative_order(X, gains)
    medians = np.median(X, axis=0)
    by_gain = bool(gains.any())
    thr, text_rules = extraction.threshold, text_rules_for(extraction.source)
    return "".join(
        _block_html(
            sb,
            _feature_table(X[i], order[i], medians, by_gain, names),
            None if sb.is_content or sb.score < thr else rule_at(page, i, text_rules=text_rules),
        )
        for i, sb in enumerate(blocks)
    )


def _minimap(blocks: Sequence[ScoredBlock]) -> str:
    """A strip of the whole page: one cell per block, width by length, colour by score, linked to the block."""
    if not blocks:
        return ""
    cells = []
    for sb in blocks:
        weight = _MINIMAP_MIN_WEIGHT + float(np.log1p(sb.block.n_chars))
        decision = "kept" if sb.is_content else "dropped"
        label = f"#{sb.block.index} {sb.score:.2f} {decision}: {sb.block.text[:80]}"
        cells.append(
            f'<a class="cell {decision}" href="#b{sb.block.index}" title="{_esc(label)}" '
            f'style="flex-grow:{weight:.2f};background:{score_color(sb.score)}"></a>'
        )
    return f'<nav class="minimap" aria-label="score of every block">{"".join(cells)}</nav>'


def _legend(threshold: float) -> str:
    """The score scale with the threshold marked, and the two decision badges."""
    stops = ", ".join(f"{score_color(a)} {a:.0%}" for a, _ in _SCALE)
    return (
        '<div class="legend"><span>score 0</span>'
        f'<span class="scale" style="background:linear-gradient(to right, {stops})">'
        f'<span class="tick" style="left:{threshold:.2%}" title="threshold {threshold:.3f}"></span></span>'
        f'<span>1</span> <span class="badge kept">KEPT</span> score ≥ {threshold:.3f} '
        '<span class="badge dropped">DROPPED</span> below, or a boilerplate line (named beside the badge)</div>'
    )


def _header(
    document: Document,
    extraction: Extraction,
    bundle: ModelBundle,
    threshold: float,
    threshold_arg: Threshold,
    url: str | None,
) -> str:
    """Page title, input facts, model, threshold and kept/dropped counts."""
    kept = [sb for sb in extraction.blocks if sb.is_content]
    dropped = [sb for sb in extraction.blocks if not sb.is_content]
    meta = bundle.metadata
    preset = f" (preset {_esc(threshold_arg)})" if isinstance(threshold_arg, str) else ""
    encoding = f"{_esc(document.encoding)} ({_esc(document.encoding_source)})" if document.encoding else "— (str input)"
    facts = [
        ("input", _esc(document.source)),
        ("encoding", encoding),
        ("language", _esc(document.lang or "—")),
        (
            "model",
            f"{_esc(meta.get('file', '?'))} · {_esc(bundle.input)} model · sha256 "
            f"{_esc(str(meta.get('sha256', '?'))[:12])}… · created {_esc(meta.get('created', '?'))}",
        ),
        ("threshold", f"{threshold:.3f}{preset}"),
        ("kept", f"{len(kept)} blocks, {sum(sb.block.n_chars for sb in kept)} chars"),
        ("dropped", f"{len(dropped)} blocks, {sum(sb.block.n_chars for sb in dropped)} chars"),
    ]
    if url:
        facts.insert(0, ("url", _esc(url)))
    if document.truncated:
        facts.append(("warning", "the page hit a resource limit and was read only in part"))
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        f"<header><h1>{_esc(document.title or '(untitled page)')}</h1><dl>{rows}</dl>{_legend(threshold)}"
        '<label class="toggle" for="hide-dropped">hide dropped blocks</label></header>'
    )


_CSS = f"""
*{{box-sizing:border-box}}
body{{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#111;
background:#f4f4f2}}
header{{padding:16px 24px 10px;background:#fff;border-bottom:1px solid #ccc}}
h1{{margin:0 0 8px;font-size:22px}}
dl{{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 10px;font-size:13px}}
dt{{color:#555}} dd{{margin:0}}
.legend{{display:flex;align-items:center;gap:8px;font-size:13px;flex-wrap:wrap}}
.scale{{position:relative;display:inline-block;width:220px;height:14px;border:1px solid #888}}
.tick{{position:absolute;top:-4px;bottom:-4px;width:3px;margin-left:-1px;background:#111}}
.badge{{display:inline-block;padding:1px 7px;border-radius:3px;color:#fff;font-size:12px;font-weight:700;
letter-spacing:.04em}}
.badge.kept{{background:{KEPT_COLOR}}} .badge.dropped{{background:{DROPPED_COLOR}}}
.rule{{margin-left:6px;font-size:12px;font-style:italic;color:#444}}
.toggle{{display:inline-block;margin-top:8px;font-size:13px;cursor:pointer;text-decoration:underline}}
#hide-dropped{{position:absolute;left:-9999px}}
#hide-dropped:checked~main .block.dropped{{display:none}}
#hide-dropped:checked~header .toggle::after{{content:" ✓"}}
.minimap{{position:sticky;top:0;z-index:3;display:flex;height:22px;background:#fff;border-bottom:1px solid #999}}
.minimap .cell{{display:block;min-width:2px;border-right:1px solid rgba(255,255,255,.6)}}
.minimap .cell.dropped{{border-bottom:5px solid {DROPPED_COLOR}}}
.minimap .cell.kept{{border-bottom:5px solid {KEPT_COLOR}}}
main{{max-width:780px;margin:14px 0 40px 24px}}
.block{{position:relative;margin:0 0 8px;padding:6px 10px 8px 12px;border-left:8px solid;border-radius:2px;
outline:none}}
.block.kept{{border-left-color:{KEPT_COLOR}}}
.block.dropped{{border-left-color:{DROPPED_COLOR}}}
.block.dropped .text{{opacity:.6;text-decoration:line-through;text-decoration-color:rgba(0,0,0,.35)}}
.meta{{font-size:12px;color:#333;margin-bottom:3px}}
.meta code{{font-size:11.5px}}
.path{{color:#555;word-break:break-all}}
.score{{display:inline-block;padding:0 6px;margin:0 4px;border-radius:3px;font-weight:700;
font-variant-numeric:tabular-nums}}
.text{{white-space:pre-wrap;overflow-wrap:anywhere}}
.features{{display:none;position:absolute;z-index:5;top:0;left:calc(100% + 6px);width:330px;padding:6px 8px;
background:#fff;border:1px solid #777;box-shadow:0 2px 8px rgba(0,0,0,.25);font-size:12px}}
.features p{{margin:0 0 4px;color:#555}}
.features table{{border-collapse:collapse;width:100%}}
.features th{{text-align:left;font-weight:400;font-family:monospace;padding:0 8px 0 0}}
.features td{{text-align:right;font-variant-numeric:tabular-nums;padding-left:8px}}
.features tr:first-child>*{{color:#555;font-family:inherit;border-bottom:1px solid #ccc}}
.block:hover .features,.block:focus .features{{display:block}}
.empty{{padding:20px;background:#fff;border:1px dashed #999}}
@media print{{.features,.minimap,.toggle{{display:none !important}}}}
"""


def _render(
    document: Document,
    extraction: Extraction,
    bundle: ModelBundle,
    threshold: float,
    threshold_arg: Threshold,
    url: str | None,
) -> str:
    """The whole report document."""
    if extraction.blocks:
        body = _blocks_html(extraction, bundle)
    else:
        body = '<p class="empty">This page has no text blocks: nothing to keep or drop.</p>'
    title = _esc(document.title or "(untitled page)")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="bpdetect explain">'
        f"<title>bpdetect explain: {title}</title><style>{_CSS}</style></head><body>"
        '<input type="checkbox" id="hide-dropped">'
        f"{_header(document, extraction, bundle, threshold, threshold_arg, url)}{_minimap(extraction.blocks)}"
        f"<main>{body}</main></body></html>\n"
    )


def build_explanation(
    doc: bytes | str,
    *,
    detector: Detector | None = None,
    url: str | None = None,
    input: InputKind = "auto",
    threshold: Threshold = None,
    encoding: str | None = None,
) -> Explanation:
    """Segment, score and render a page's report; raises ValueError for a bad threshold or preset."""
    det = detector or Detector.default()
    document = det.segment(doc, input=input, encoding=encoding)
    bundle = det.bundle(document.source)
    thr = bundle.threshold_for(threshold)  # validates the threshold even for a page without blocks
    extraction = det.extract_document(document, threshold=threshold)
    return Explanation(
        html=_render(document, extraction, bundle, thr, threshold, url),
        document=document,
        extraction=extraction,
        threshold=thr,
    )


def explain_report(
    doc: bytes | str,
    *,
    detector: Detector | None = None,
    url: str | None = None,
    input: InputKind = "auto",
    threshold: Threshold = None,
    encoding: str | None = None,
) -> str:
    """One self-contained HTML document explaining which blocks of a page were kept or dropped, and why."""
    return build_explanation(doc, detector=detector, url=url, input=input, threshold=threshold, encoding=encoding).html
