"""Leave-one-corpus-out: how well bpdetect's HTML model carries over to a corpus (a gold convention, an era, a set of
sites) it has never seen, beside trafilatura on the same pages.

For each held-out corpus C: train on every page of the other corpora (``train_model(..., use_validation_split=False)``,
so the decision threshold is the untuned 0.5 unless ``--threshold`` says otherwise), then run the model end to end
on ALL pages of C (``Detector(html_model=bundle).extract_document(page_document(page, "html"))``) and score the text
with ``training.align.token_prf``. trafilatura runs on the same pages; its outputs are cached per page under
``<cache>/peers/`` so reruns are fast. Labeled block matrices come from ``load_blocksets(..., cache_dir=<cache>)``,
computed once. Ten trainings are expensive: results are written to ``--out`` after every held-out corpus, and a rerun
with the same settings skips the corpora already done (``--restart`` starts over).

``--corpora`` chooses the corpora that take part (default: all under ``--root``); ``--held-out`` the ones that are
held out in turn (default: each of them). ``--corpora cleanportaleval readability`` is a quick functional check:
train on one, test on the other, and back.

Usage: python benchmarks/loco.py [--root ../shared/datasets] [--corpora NAME ...] [--held-out NAME ...]
       [--max-iter 150] [--no-context] [--cache .cache/blocks] [--out reports/loco.json] [--jobs 2] [--threads N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import peers  # sibling module: benchmarks/ is on sys.path when this file runs as a script
from joblib import Parallel, delayed

from bpdetect import __version__
from bpdetect.extract import Detector
from bpdetect.features import FEATURE_SCHEMA_VERSION
from training.align import token_prf
from training.corpora import Page, iter_pages, list_corpora
from training.dataset import BlockSet, load_blocksets, page_document
from training.train import train_model

__all__ = ["evaluate_held_out", "format_table", "main", "trafilatura_texts"]

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_CACHE = Path(".cache/blocks")
DEFAULT_OUT = Path("reports/loco.json")


def _stats(rows: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    if not rows:
        return {"f1_mean": 0.0, "f1_median": 0.0, "precision_mean": 0.0, "recall_mean": 0.0}
    f1 = [r[2] for r in rows]
    return {
        "f1_mean": statistics.fmean(f1),
        "f1_median": statistics.median(f1),
        "precision_mean": statistics.fmean(r[0] for r in rows),
        "recall_mean": statistics.fmean(r[1] for r in rows),
    }


def _page_key(page: Page) -> str:
    return hashlib.sha256(page.html).hexdigest()[:16]


def _trafilatura_chunk(htmls: Sequence[bytes]) -> list[str]:
    return [peers.trafilatura_extract(h) for h in htmls]


def trafilatura_texts(pages: Sequence[Page], cache_dir: Path, jobs: int = 2) -> list[str]:
    """trafilatura's text for each page, from ``<cache_dir>/peers/trafilatura-<version>/<corpus>.json`` when cached.

    A cache entry is keyed by page id and checked against a hash of the page bytes; missing ones are computed with
    ``jobs`` processes and the file is rewritten.
    """
    version = peers.versions().get("trafilatura") or "missing"
    out: list[str] = [""] * len(pages)
    by_corpus: dict[str, list[int]] = {}
    for i, p in enumerate(pages):
        by_corpus.setdefault(p.corpus, []).append(i)
    for corpus, idx in by_corpus.items():
        path = Path(cache_dir) / "peers" / f"trafilatura-{version}" / f"{corpus}.json"
        cached: dict[str, dict[str, str]] = {}
        if path.is_file():
            try:
                cached = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                cached = {}
        todo = [i for i in idx if cached.get(pages[i].id, {}).get("sha") != _page_key(pages[i])]
        if todo:
            chunks = [todo[k : k + 8] for k in range(0, len(todo), 8)]
            results = Parallel(n_jobs=jobs)(delayed(_trafilatura_chunk)([pages[i].html for i in c]) for c in chunks)
            for c, texts in zip(chunks, results, strict=True):
                for i, text in zip(c, texts, strict=True):
                    cached[pages[i].id] = {"sha": _page_key(pages[i]), "text": text}
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(cached, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        for i in idx:
            out[i] = cached[pages[i].id]["text"]
    return out


def evaluate_held_out(detector: Detector, pages: Sequence[Page], threshold: float | None = None) -> list[tuple]:
    """(precision, recall, f1) of the detector's HTML model end to end on each page (a page it cannot read: zeros)."""
    rows: list[tuple] = []
    for page in pages:
        try:
            doc = page_document(page, "html")
            text = detector.extract_document(doc, threshold=threshold).text if doc is not None else ""
        except Exception as exc:  # one unreadable page must not cost a held-out corpus
            print(f"  {page.corpus}/{page.id}: {type(exc).__name__}: {exc}", file=sys.stderr)
            text = ""
        rows.append(token_prf(text, page.gold_text))
    return rows


def format_table(results: dict[str, dict[str, Any]], peer: bool = True) -> str:
    """Markdown table: held-out corpus, pages, bpdetect and trafilatura token F1 (mean / median), P / R, times."""
    header = ["held-out corpus", "pages", "bpdetect F1 mean / median", "bpdetect P / R"]
    if peer:
        header += ["trafilatura F1 mean / median", "Δ F1 mean"]
    header += ["train s", "eval s"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for corpus, r in results.items():
        b = r["bpdetect"]
        cells = [
            corpus,
            str(r["pages"]),
            f"{b['f1_mean']:.3f} / {b['f1_median']:.3f}",
            f"{b['precision_mean']:.3f} / {b['recall_mean']:.3f}",
        ]
        if peer:
            t = r.get("trafilatura")
            cells += (
                [f"{t['f1_mean']:.3f} / {t['f1_median']:.3f}", f"{b['f1_mean'] - t['f1_mean']:+.3f}"]
                if t
                else ["–", "–"]
            )
        cells += [f"{r['train_seconds']:.0f}", f"{r['eval_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if results:
        n = len(results)
        bm = statistics.fmean(r["bpdetect"]["f1_mean"] for r in results.values())
        bmed = statistics.fmean(r["bpdetect"]["f1_median"] for r in results.values())
        bp = statistics.fmean(r["bpdetect"]["precision_mean"] for r in results.values())
        br = statistics.fmean(r["bpdetect"]["recall_mean"] for r in results.values())
        cells = [
            f"**macro ({n})**",
            str(sum(r["pages"] for r in results.values())),
            f"{bm:.3f} / {bmed:.3f}",
            f"{bp:.3f} / {br:.3f}",
        ]
        if peer:
            with_t = [r for r in results.values() if r.get("trafilatura")]
            if len(with_t) == n:
                tm = statistics.fmean(r["trafilatura"]["f1_mean"] for r in with_t)
                tmed = statistics.fmean(r["trafilatura"]["f1_median"] for r in with_t)
                cells += [f"{tm:.3f} / {tmed:.3f}", f"{bm - tm:+.3f}"]
            else:
                cells += ["–", "–"]
        cells += [
            f"{sum(r['train_seconds'] for r in results.values()):.0f}",
            f"{sum(r['eval_seconds'] for r in results.values()):.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def code_fingerprint() -> str:
    """Hash of the bpdetect and training sources: results from different code are flagged when a run resumes."""
    import bpdetect
    import training

    h = hashlib.sha256()
    for pkg in (bpdetect, training):
        for path in sorted(Path(pkg.__file__).parent.glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _settings(args: argparse.Namespace, corpora: Sequence[str]) -> dict[str, Any]:
    """What decides the results: a saved report is only resumed when these match (the code is only compared)."""
    return {
        "corpora": list(corpora),
        "max_iter": args.max_iter,
        "context": not args.no_context,
        "threshold": args.threshold,
        "bpdetect": __version__,
        "feature_schema_version": FEATURE_SCHEMA_VERSION,
        "root": str(Path(args.root).resolve()),
    }


def _load_previous(out: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    if not out.is_file():
        return None
    try:
        prev = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return prev if prev.get("settings") == settings else {"mismatch": prev.get("settings")}


def _write(out: Path, report: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"dataset folder (default {DEFAULT_ROOT})")
    ap.add_argument("--corpora", nargs="+", metavar="NAME", help="corpora taking part (default: all under --root)")
    ap.add_argument("--held-out", nargs="+", metavar="NAME", help="corpora to hold out in turn (default: --corpora)")
    ap.add_argument("--max-iter", type=int, default=150, help="boosting iterations per stage (default 150)")
    ap.add_argument("--no-context", action="store_true", help="skip the sequence-aware second pass")
    ap.add_argument("--threshold", type=float, help="decision threshold (default: the model's own, 0.5 untuned)")
    ap.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"folder for labeled block matrices and cached peer outputs (default {DEFAULT_CACHE})",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"JSON report, rewritten after each held-out corpus (default {DEFAULT_OUT})",
    )
    ap.add_argument("--jobs", type=int, default=2, help="processes for labeling and for trafilatura (default 2)")
    ap.add_argument("--threads", type=int, help="OpenMP threads for training (default: all; use 1 on a loaded machine)")
    ap.add_argument("--no-trafilatura", action="store_true", help="do not run trafilatura beside bpdetect")
    ap.add_argument("--restart", action="store_true", help="ignore a previous report at --out and start over")
    args = ap.parse_args(argv)
    if not args.root.exists():
        ap.error(f"no dataset folder at {args.root}")
    available = list_corpora(args.root)
    corpora = args.corpora or available
    unknown = [c for c in [*corpora, *(args.held_out or [])] if c not in available]
    if unknown:
        ap.error(f"unknown corpora {unknown}; available: {available}")
    held_out = args.held_out or corpora
    if any(c not in corpora for c in held_out):
        ap.error("--held-out corpora must be among --corpora")
    if len(corpora) < 2:
        ap.error("leave-one-corpus-out needs at least two corpora")
    peer = not args.no_trafilatura
    if peer and not peers.available("trafilatura"):
        print("trafilatura not installed: bpdetect only", file=sys.stderr)
        peer = False

    settings = _settings(args, corpora)
    results: dict[str, dict[str, Any]] = {}
    prev = None if args.restart else _load_previous(args.out, settings)
    if prev and "mismatch" in prev:
        print(
            f"{args.out} holds results for other settings ({prev['mismatch']}); use --restart or another --out",
            file=sys.stderr,
        )
        return 2
    code = code_fingerprint()
    if prev:
        results = {c: r for c, r in prev.get("results", {}).items() if c in corpora}
        if results:
            print(f"resuming: {', '.join(results)} already done", file=sys.stderr)
        stale = [c for c, r in results.items() if r.get("code") != code]
        if stale:
            print(
                f"warning: {', '.join(stale)} were computed with other bpdetect/training code; "
                "use --restart for results from one version",
                file=sys.stderr,
            )

    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=args.threads, user_api="openmp")
    t0 = time.perf_counter()
    todo = [c for c in held_out if c not in results]
    sets: list[BlockSet] = []
    if todo:
        print(f"labeling blocks of {len(corpora)} corpora (cached in {args.cache})…", file=sys.stderr)
        sets = [
            s
            for s in load_blocksets([args.root], "html", corpora=corpora, n_jobs=args.jobs, cache_dir=args.cache)
            if s.n_pages
        ]
    for corpus in todo:
        train_sets = [s for s in sets if s.corpus != corpus]
        print(f"held out {corpus}: training on {', '.join(s.corpus for s in train_sets)}…", file=sys.stderr)
        t1 = time.perf_counter()
        trained = train_model(
            train_sets,
            "html",
            use_validation_split=False,
            params={"max_iter": args.max_iter, "context": not args.no_context},
        )
        train_s = time.perf_counter() - t1
        t1 = time.perf_counter()
        pages = list(iter_pages(args.root, [corpus]))
        detector = Detector(html_model=trained.bundle)
        rows = evaluate_held_out(detector, pages, args.threshold)
        eval_s = time.perf_counter() - t1
        entry: dict[str, Any] = {
            "pages": len(pages),
            "code": code,
            "train_corpora": [s.corpus for s in train_sets],
            "train_pages": int(trained.bundle.metadata["training"]["pages"]),
            "train_blocks": int(trained.bundle.metadata["training"]["blocks"]),
            "threshold": args.threshold if args.threshold is not None else trained.bundle.threshold,
            "train_seconds": round(train_s, 1),
            "eval_seconds": round(eval_s, 1),
            "bpdetect": _stats(rows),
            "page_f1": {"bpdetect": {p.id: round(r[2], 4) for p, r in zip(pages, rows, strict=True)}},
        }
        if peer:
            t1 = time.perf_counter()
            texts = trafilatura_texts(pages, args.cache, args.jobs)
            trows = [token_prf(t, p.gold_text) for t, p in zip(texts, pages, strict=True)]
            entry["trafilatura"] = _stats(trows)
            entry["trafilatura_seconds"] = round(time.perf_counter() - t1, 1)
            entry["page_f1"]["trafilatura"] = {p.id: round(r[2], 4) for p, r in zip(pages, trows, strict=True)}
        results[corpus] = entry
        b = entry["bpdetect"]
        print(
            f"  {corpus}: {len(pages)} pages, bpdetect F1 {b['f1_mean']:.3f}"
            + (f", trafilatura {entry['trafilatura']['f1_mean']:.3f}" if peer else "")
            + f" (train {train_s:.0f} s, eval {eval_s:.0f} s)",
            file=sys.stderr,
        )
        _write(args.out, {"settings": settings, "versions": peers.versions(), "complete": False, "results": results})
    if limiter is not None:
        limiter.unregister()
    wall = time.perf_counter() - t0
    ordered = {c: results[c] for c in corpora if c in results}
    report = {
        "benchmark": "leave-one-corpus-out: train on the other corpora, token P/R/F1 on every page of the held-out one",
        "settings": settings,
        "versions": peers.versions(),
        "complete": all(c in results for c in corpora),
        "wall_seconds_this_run": round(wall, 1),
        "results": ordered,
    }
    _write(args.out, report)
    print(format_table(ordered, peer=peer))
    print(f"\nwall time this run: {wall:.0f} s ({len(todo)} trainings); wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
