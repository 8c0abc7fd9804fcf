"""Token F1 of bpdetect and peer extractors on the site-wise validation pages of every corpus, in one run.

For each validation page (``training.splits.is_validation``: sites the shipped model was not trained on) every
extractor gets the raw HTML bytes and returns plain text, scored against the page's gold with
``training.align.token_prf`` (bag-of-tokens precision, recall, F1). Two more columns start from what a naive
scraper hands over instead of HTML: the page rendered as a text dump (``training.render.render_text`` in the page's
deterministic ``style_for`` style, exactly what the text model was trained on), then

- ``bpdetect-text (scraper dump input)``: bpdetect's plain-text model run on that dump;
- ``dump as-is``: the dump itself, uncleaned (what a user has before bpdetect).

Pages whose index says ``input: "text"`` are already dumps: only the two text columns score them.

Output: a markdown table (corpora as rows, extractors as columns, token F1 mean / median, a macro row over corpora,
and the number of corpora where bpdetect beats trafilatura), precision and recall means, pages/s per extractor,
and a JSON report with everything, per-page scores included. Scores are deterministic; timings are not.

Usage: python benchmarks/quality.py [--root ../shared/datasets] [--model PATH] [--text-model PATH] [--limit N]
       [--jobs 2] [--extractors NAME ...] [--out reports/quality.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import peers  # sibling module: benchmarks/ is on sys.path when this file runs as a script
from joblib import Parallel, delayed

from bpdetect.decode import decode
from bpdetect.extract import DEFAULT_MODELS
from bpdetect.segment import segment_html
from training.align import token_prf
from training.corpora import Page, iter_pages
from training.dataset import chunked
from training.render import render_text, style_for
from training.splits import is_validation

__all__ = [
    "ALL_EXTRACTORS",
    "HTML_EXTRACTORS",
    "LABELS",
    "TEXT_EXTRACTORS",
    "PageResult",
    "default_model_exists",
    "format_tables",
    "main",
    "render_dump",
    "score_pages",
    "summarize",
    "validation_pages",
]

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_OUT = Path("reports/quality.json")
# Extractors that take the page's HTML bytes (peers.EXTRACTORS) and those that take the rendered text dump.
HTML_EXTRACTORS = ("trafilatura", "justext", "readability", "resiliparse", "bpdetect")
TEXT_EXTRACTORS = ("bpdetect-text", "dump")
ALL_EXTRACTORS = HTML_EXTRACTORS + TEXT_EXTRACTORS
# Column titles in the printed tables.
LABELS = {
    "trafilatura": "trafilatura",
    "justext": "jusText",
    "readability": "readability",
    "resiliparse": "resiliparse",
    "bpdetect": "bpdetect",
    "bpdetect-text": "bpdetect-text (scraper dump input)",
    "dump": "dump as-is",
}
# Pages per joblib task: a few hundred milliseconds of work, so process overhead stays small and two cores balance.
CHUNK_PAGES = 6


@dataclass
class PageResult:
    """Scores of every extractor on one page: ``scores[name] = (precision, recall, f1)``, seconds per extractor."""

    corpus: str
    id: str
    scores: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)  # extractors that returned no text (nothing found, or failed)


# ---------------------------------------------------------------------------------------------------------------------
# Pages and models


def validation_pages(root: Path, corpora: Sequence[str] | None = None, limit: int | None = None) -> Iterator[Page]:
    """The site-wise validation pages of the chosen corpora (at most ``limit`` per corpus), in corpus/index order."""
    taken: dict[str, int] = {}
    for page in iter_pages(root, corpora):
        if not is_validation(page.corpus, page.group):
            continue
        if limit is not None and taken.get(page.corpus, 0) >= limit:
            continue
        taken[page.corpus] = taken.get(page.corpus, 0) + 1
        yield page


def default_model_exists(kind: str) -> bool:
    """Whether the shipped default model for "html" or "text" input is present in bpdetect/models."""
    return Path(str(resources.files("bpdetect") / "models" / DEFAULT_MODELS[kind])).is_file()


def render_dump(page: Page) -> str:
    """The page as a naive scraper's text dump, as the text model's training data renders it ("" on failure).

    Pages that are already text (``input: "text"``) are decoded and returned as they are.
    """
    try:
        if page.extra.get("input") == "text":
            return decode(page.html).text
        return render_text(page.html, segment_html(page.html), style_for(f"{page.corpus}/{page.id}"))
    except Exception:
        return ""


def _model_info(path: str | None, kind: str) -> dict[str, Any]:
    """Where a model comes from and what its sidecar says about its training (for the report)."""
    from bpdetect.persist import read_sidecar

    file = Path(path) if path else Path(str(resources.files("bpdetect") / "models" / DEFAULT_MODELS[kind]))
    info: dict[str, Any] = {"path": str(file), "default": path is None}
    try:
        meta = read_sidecar(file)
    except Exception as exc:
        info["error"] = str(exc)
        return info
    inner = meta.get("metadata", meta)
    training = inner.get("training") or {}
    info["created"] = inner.get("created") or meta.get("created")
    info["trained_on"] = [c.get("name") for c in training.get("corpora", [])]
    info["split"] = training.get("split")
    info["threshold"] = meta.get("threshold")
    info["sha256"] = meta.get("sha256")
    return info


# ---------------------------------------------------------------------------------------------------------------------
# Scoring


def _timed(fn: Callable[[], str]) -> tuple[str, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _score_page(page: Page, extractors: Sequence[str], html_model: str | None, text_model: str | None) -> PageResult:
    res = PageResult(corpus=page.corpus, id=page.id)
    gold = page.gold_text
    is_text = page.extra.get("input") == "text"
    for name in extractors:
        if name not in HTML_EXTRACTORS or is_text:
            continue
        fn = peers.bpdetect_extractor(html_model) if name == "bpdetect" else peers.EXTRACTORS[name]
        text, sec = _timed(lambda fn=fn: fn(page.html))
        res.scores[name] = token_prf(text, gold)
        res.seconds[name] = sec
        if not text.strip():
            res.empty.append(name)
    if any(name in TEXT_EXTRACTORS for name in extractors):
        dump = render_dump(page)
        if "dump" in extractors:
            res.scores["dump"] = token_prf(dump, gold)
            res.seconds["dump"] = 0.0
        if "bpdetect-text" in extractors:
            text, sec = _timed(lambda: peers.bpdetect_text_extract(dump, text_model))
            res.scores["bpdetect-text"] = token_prf(text, gold)
            res.seconds["bpdetect-text"] = sec
            if not text.strip():
                res.empty.append("bpdetect-text")
        if "dump" in extractors and not dump.strip():
            res.empty.append("dump")
    return res


# A small page every extractor runs once per process before timing starts (imports, model loading, caches).
_WARM_UP_PAGE = Page(
    corpus="warm-up",
    id="warm-up",
    url=None,
    domain=None,
    lang="en",
    split=None,
    html=(
        b"<html><head><title>Warm-up</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Warm-up</h1>"
        + b"<p>"
        + b"This paragraph only loads the extractors before their time is measured. " * 6
        + b"</p>"
        + b"</article><footer>Footer</footer></body></html>"
    ),
    gold=["Warm-up"],
    group="warm-up",
)
_warmed: set[tuple[str, str | None, str | None]] = set()


def _warm_up(extractors: Sequence[str], html_model: str | None, text_model: str | None) -> None:
    """Run each extractor once in this process (only the first time), so timings leave out one-off start-up costs."""
    key = (",".join(extractors), html_model, text_model)
    if key not in _warmed:
        _score_page(_WARM_UP_PAGE, extractors, html_model, text_model)
        _warmed.add(key)


def _score_chunk(
    pages: Sequence[Page], extractors: Sequence[str], html_model: str | None, text_model: str | None
) -> list[PageResult]:
    _warm_up(extractors, html_model, text_model)
    return [_score_page(p, extractors, html_model, text_model) for p in pages]


def score_pages(
    pages: Iterable[Page],
    extractors: Sequence[str] = ALL_EXTRACTORS,
    *,
    html_model: str | Path | None = None,
    text_model: str | Path | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[PageResult]:
    """Run the extractors on every page (``jobs`` processes) and score each against its gold, in page order.

    ``html_model`` / ``text_model``: bpdetect model files (None = the shipped defaults). Extractors only need to
    be installed when named; a wrapper that fails on a page scores it as an empty extraction.
    """
    unknown = [e for e in extractors if e not in ALL_EXTRACTORS]
    if unknown:
        raise ValueError(f"unknown extractors {unknown}; choose from {list(ALL_EXTRACTORS)}")
    hm = None if html_model is None else str(html_model)
    tm = None if text_model is None else str(text_model)
    tasks = (delayed(_score_chunk)(chunk, tuple(extractors), hm, tm) for chunk in chunked(pages, CHUNK_PAGES))
    out: list[PageResult] = []
    for rows in Parallel(n_jobs=jobs, return_as="generator")(tasks):
        out.extend(rows)
        if progress:
            progress(len(rows))
    return out


def _stats(rows: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    f1 = [r[2] for r in rows]
    return {
        "pages": len(rows),
        "f1_mean": statistics.fmean(f1),
        "f1_median": statistics.median(f1),
        "precision_mean": statistics.fmean(r[0] for r in rows),
        "recall_mean": statistics.fmean(r[1] for r in rows),
    }


def summarize(results: Sequence[PageResult], extractors: Sequence[str]) -> dict[str, Any]:
    """Per corpus and extractor: pages, F1 mean/median, P and R means; a macro row over corpora; speed; wins."""
    corpora = list(dict.fromkeys(r.corpus for r in results))
    per_corpus: dict[str, dict[str, Any]] = {}
    for corpus in corpora:
        rows = [r for r in results if r.corpus == corpus]
        entry: dict[str, Any] = {"pages": len(rows)}
        for name in extractors:
            scores = [r.scores[name] for r in rows if name in r.scores]
            if scores:
                entry[name] = _stats(scores)
                entry[name]["empty_pages"] = sum(name in r.empty for r in rows)
        per_corpus[corpus] = entry
    macro: dict[str, dict[str, float]] = {}
    for name in extractors:
        vals = [c[name] for c in per_corpus.values() if name in c]
        if vals:
            macro[name] = {
                "corpora": len(vals),
                "f1_mean": statistics.fmean(v["f1_mean"] for v in vals),
                "f1_median": statistics.fmean(v["f1_median"] for v in vals),
                "precision_mean": statistics.fmean(v["precision_mean"] for v in vals),
                "recall_mean": statistics.fmean(v["recall_mean"] for v in vals),
            }
    speed: dict[str, dict[str, float]] = {}
    for name in extractors:
        secs = [r.seconds[name] for r in results if name in r.seconds]
        if secs and name != "dump":
            total = sum(secs)
            speed[name] = {"pages": len(secs), "seconds": total, "pages_per_s": len(secs) / total if total else 0.0}
    wins: dict[str, Any] | None = None
    if "bpdetect" in extractors and "trafilatura" in extractors:
        both = [c for c, e in per_corpus.items() if "bpdetect" in e and "trafilatura" in e]
        beat = [c for c in both if per_corpus[c]["bpdetect"]["f1_mean"] > per_corpus[c]["trafilatura"]["f1_mean"]]
        wins = {"count": len(beat), "of": len(both), "corpora": beat, "by": "token F1 mean"}
    return {"per_corpus": per_corpus, "macro": macro, "speed": speed, "bpdetect_beats_trafilatura": wins}


# ---------------------------------------------------------------------------------------------------------------------
# Output


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rule = "|---|" + "---:|" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def format_tables(summary: dict[str, Any], extractors: Sequence[str]) -> str:
    """Markdown: token F1 mean / median table, P / R means table, the win count, and pages/s."""
    per_corpus, macro = summary["per_corpus"], summary["macro"]
    cols = [e for e in extractors if e in macro]
    header = ["corpus", "pages", *(LABELS[e] for e in cols)]

    def cells(entry: dict[str, Any], a: str, b: str) -> list[str]:
        return [f"{entry[e][a]:.3f} / {entry[e][b]:.3f}" if e in entry else "–" for e in cols]

    f1_rows = [[c, str(e["pages"]), *cells(e, "f1_mean", "f1_median")] for c, e in per_corpus.items()]
    n_pages = sum(e["pages"] for e in per_corpus.values())
    macro_name = f"**macro ({len(per_corpus)} {'corpus' if len(per_corpus) == 1 else 'corpora'})**"
    f1_rows.append([macro_name, str(n_pages), *cells(macro, "f1_mean", "f1_median")])
    pr_rows = [[c, str(e["pages"]), *cells(e, "precision_mean", "recall_mean")] for c, e in per_corpus.items()]
    pr_rows.append([macro_name, str(n_pages), *cells(macro, "precision_mean", "recall_mean")])
    parts = [
        "Token F1 on validation pages, mean / median per page:",
        "",
        _table(header, f1_rows),
        "",
        "Token precision / recall, means per page:",
        "",
        _table(header, pr_rows),
    ]
    empty = {
        name: sum(e[name].get("empty_pages", 0) for e in per_corpus.values() if name in e)
        for name in cols
        if name != "dump"
    }
    if any(empty.values()):
        listed = ", ".join(f"{LABELS[n]} {k}" for n, k in empty.items() if k)
        parts += ["", f"Pages with an empty extraction (nothing found, or the extractor failed): {listed}"]
    wins = summary.get("bpdetect_beats_trafilatura")
    if wins:
        listed = ", ".join(wins["corpora"]) or "none"
        parts += [
            "",
            f"Corpora where bpdetect beats trafilatura (F1 mean): **{wins['count']} / {wins['of']}** ({listed})",
        ]
    if summary["speed"]:
        speed = ", ".join(f"{LABELS[n]} {s['pages_per_s']:.1f}" for n, s in summary["speed"].items())
        parts += ["", f"Pages/s per extractor (one process each, shared machine, indicative only): {speed}"]
    return "\n".join(parts)


def _resolve_extractors(requested: Sequence[str], html_model: str | None, text_model: str | None) -> list[str]:
    """Drop (and say so) the extractors that cannot run here: a missing package or a missing default model."""
    chosen: list[str] = []
    for name in requested:
        if name in ("bpdetect", "bpdetect-text"):
            kind, path = ("html", html_model) if name == "bpdetect" else ("text", text_model)
            if path is None and not default_model_exists(kind):
                print(
                    f"skipping {name}: no default {kind} model in bpdetect/models and no model file given",
                    file=sys.stderr,
                )
                continue
        elif name in HTML_EXTRACTORS and not peers.available(name):
            print(f"skipping {name}: package not installed", file=sys.stderr)
            continue
        chosen.append(name)
    return chosen


def check_models(extractors: Sequence[str], html_model: str | None, text_model: str | None) -> None:
    """Load the bpdetect models the run needs, here, once: a stale or wrong model must stop the run, not score 0.

    Raises ``ValueError`` (``bpdetect.persist.ModelError`` is one) with the reason.
    """
    for name, kind, path in (("bpdetect", "html", html_model), ("bpdetect-text", "text", text_model)):
        if name not in extractors:
            continue
        bundle = peers._detector(html_model, text_model).bundle(kind)
        if bundle.input != kind:
            raise ValueError(f"{path or 'the default model'} is a {bundle.input} model, not a {kind} model")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"dataset folder (default {DEFAULT_ROOT})")
    ap.add_argument("--model", help="bpdetect HTML model file (default: the shipped bpdetect/models/html.npz)")
    ap.add_argument("--text-model", help="bpdetect plain-text model file (default: bpdetect/models/text.npz)")
    ap.add_argument("--corpora", nargs="+", help="only these corpora (default: all under --root)")
    ap.add_argument(
        "--extractors",
        nargs="+",
        default=list(ALL_EXTRACTORS),
        choices=ALL_EXTRACTORS,
        metavar="NAME",
        help=f"extractors to run (default: all of {', '.join(ALL_EXTRACTORS)})",
    )
    ap.add_argument("--limit", type=int, help="at most N validation pages per corpus (quick runs)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes over pages (default 2)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON report (default {DEFAULT_OUT})")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = ap.parse_args(argv)
    if not args.root.exists():
        ap.error(f"no dataset folder at {args.root}")
    extractors = _resolve_extractors(args.extractors, args.model, args.text_model)
    if not extractors:
        ap.error("no extractor can run")
    try:
        check_models(extractors, args.model, args.text_model)
    except (ValueError, OSError) as exc:
        print(f"error: bpdetect model: {exc}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    pages = validation_pages(args.root, args.corpora, args.limit)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(desc="scoring validation pages", unit="page", file=sys.stderr)
    results = score_pages(
        pages,
        extractors,
        html_model=args.model,
        text_model=args.text_model,
        jobs=args.jobs,
        progress=bar.update if bar is not None else None,
    )
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - t0
    if not results:
        print("no validation pages found", file=sys.stderr)
        return 1
    summary = summarize(results, extractors)
    print(format_tables(summary, extractors))
    print(f"\n{len(results)} pages in {wall:.0f} s wall ({args.jobs} jobs)")

    report: dict[str, Any] = {
        "benchmark": "token P/R/F1 (training.align.token_prf) on site-wise validation pages",
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "versions": peers.versions(),
        "models": {
            **({"html": _model_info(args.model, "html")} if "bpdetect" in extractors else {}),
            **({"text": _model_info(args.text_model, "text")} if "bpdetect-text" in extractors else {}),
        },
        "extractors": extractors,
        "labels": {e: LABELS[e] for e in extractors},
        "settings": {
            "trafilatura": "trafilatura.extract(html, include_comments=False), defaults otherwise",
            "justext": "union of all jusText stoplists; bytes decoded by bpdetect.decode",
            "readability": "Document(html).summary() flattened to text, a line per block",
            "resiliparse": "extract_plain_text(HTMLTree.parse_from_bytes(html, detect_encoding(html)), "
            "main_content=True)",
            "bpdetect": "Detector.extract(html, input='html')",
            "bpdetect-text": "Detector.extract(render_text(page, style_for(page)), input='text')",
            "dump": "render_text(page, style_for(page)) scored as is",
        },
        "pages": len(results),
        "wall_seconds": round(wall, 1),
        "jobs": args.jobs,
        **summary,
        "page_scores": {
            corpus: {
                r.id: {n: [round(x, 4) for x in s] for n, s in r.scores.items()} for r in results if r.corpus == corpus
            }
            for corpus in summary["per_corpus"]
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
