"""End-to-end speed (bytes in, text out) of bpdetect beside trafilatura and resiliparse, measured in the same run.

Part 1, in this process, pages already in memory, one thread (OpenMP/BLAS limited to 1, as one job of a batch):

- ``bpdetect``: ``Detector.extract_many`` over chunks of ``--chunk`` pages (what ``bpdetect extract`` does);
- ``bpdetect (one page per call)``: ``Detector.extract(page)`` in a loop (what a scraper callback does);
- ``trafilatura``: ``trafilatura.extract(html, include_comments=False)``, defaults otherwise;
- ``trafilatura (fast)``: the same with ``fast=True`` (no fallback extractors), for reference;
- ``resiliparse``: ``extract_plain_text(..., main_content=True)``.

The extractors take turns chunk by chunk, so a noisy neighbour on a shared machine slows all of them alike; the
ratios to trafilatura are the numbers to read. Each extractor's text is kept so nothing can be optimized away.

Part 2, the command line over the same pages written as files: ``bpdetect extract DIR --format json -o out.jsonl``
with ``--jobs 1`` and ``--jobs N``, and for reference N one-job commands at once on 1/N of the files each (a perfect
split: what the machine gives N processes at that moment). The three take turns ``--cli-repeat`` times (default 3);
the table gives median wall seconds, pages/s, the speed-up over one job, and the peak memory of the whole process
tree, sampled from /proc every 50 ms: RSS (a shared library page counts once per process) and PSS (shared pages
divided among the processes: what the tree really takes). ``--cli-every K`` takes its own sample for this part (a
larger one spreads the workers' start-up over more pages, as a long batch does).

Usage: python benchmarks/speed.py [--root DIR] [--every K] [--cli-every K] [--cli-repeat R] [--limit N] [--jobs N]
       [--skip-cli] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_pages import iter_corpus_pages
from peers import resiliparse_extract, trafilatura_extract, versions

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def load_pages(root: Path, every: int, limit: int | None) -> list[tuple[str, bytes]]:
    """(name, raw bytes) of every ``every``-th page of every corpus under root, in a fixed order."""
    return [(f"{corpus}-{rec['id']}", raw) for corpus, rec, raw in iter_corpus_pages(root, every, limit)]


def _trafilatura_fast(html: bytes) -> str:
    import trafilatura

    try:
        return trafilatura.extract(html, include_comments=False, fast=True) or ""
    except Exception:  # a peer failing on a page is its problem, not the benchmark's
        return ""


def in_process(pages: list[bytes], chunk: int, model: Path | None = None) -> dict[str, dict[str, float]]:
    """Seconds and pages/s of each extractor over the pages, taking turns chunk by chunk, on one thread."""
    from bpdetect import Detector

    det = Detector.load(model) if model else Detector.default()
    det.bundle("html")  # load outside the clock
    det.bundle("text")

    def bp_batch(batch: list[bytes]) -> list[str]:
        return [e.text for e in det.extract_many(batch, input="html")]

    def bp_single(batch: list[bytes]) -> list[str]:
        return [det.extract(p, input="html").text for p in batch]

    def per_page(fn: Callable[[bytes], str]) -> Callable[[list[bytes]], list[str]]:
        return lambda batch: [fn(p) for p in batch]

    runners: dict[str, Callable[[list[bytes]], list[str]]] = {
        "bpdetect": bp_batch,
        "bpdetect (one page per call)": bp_single,
        "trafilatura": per_page(trafilatura_extract),
        "trafilatura (fast)": per_page(_trafilatura_fast),
        "resiliparse": per_page(resiliparse_extract),
    }
    seconds = dict.fromkeys(runners, 0.0)
    chars = dict.fromkeys(runners, 0)
    empty = dict.fromkeys(runners, 0)
    with threadpool_limits(limits=1):
        for start in range(0, len(pages), chunk):
            batch = pages[start : start + chunk]
            for name, run in runners.items():
                t0 = time.perf_counter()
                texts = run(batch)
                seconds[name] += time.perf_counter() - t0
                chars[name] += sum(map(len, texts))
                empty[name] += sum(1 for t in texts if not t.strip())
    return {
        name: {
            "seconds": round(seconds[name], 3),
            "pages_per_s": round(len(pages) / seconds[name], 2),
            "ratio_to_trafilatura": round(seconds["trafilatura"] / seconds[name], 2),
            "chars_out": chars[name],
            "empty_outputs": empty[name],
        }
        for name in runners
    }


def _pss_kb(pid: int) -> int:
    """Proportional set size (kB) of one process: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB of a process and all its descendants, from /proc.

    RSS counts a library page once per process that maps it; PSS shares it among them, so the PSS of a process tree
    is the memory it really takes (the sum of RSS overstates a tree of workers that load the same libraries).
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(entry)
        children.setdefault(int(fields[1]), []).append(p)
        rss[p] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, pss, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        pss += _pss_kb(p)
        todo.extend(children.get(p, ()))
    return total / 2**20, pss / 1024


def run_cli(folders: list[Path], jobs: int, out: Path, model: Path | None = None) -> dict[str, float]:
    """Wall seconds and peak tree RSS and PSS of `bpdetect extract FOLDER --format json -o OUT --jobs N`.

    With several folders, one such command per folder runs at the same time (their trees' memory is summed).
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    outs = [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(len(folders))] if len(folders) > 1 else [out]
    peak = [0.0, 0.0]
    t0 = time.perf_counter()
    procs = []
    for folder, dest in zip(folders, outs, strict=True):
        cmd = [sys.executable, "-m", "bpdetect", "extract", str(folder), "--format", "json", "-o", str(dest),
               "--jobs", str(jobs), "--no-progress"]
        if model:
            cmd += ["--model", str(model)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            trees = [_tree_memory_mb(p.pid) for p in procs]
            peak[0] = max(peak[0], sum(t[0] for t in trees))
            peak[1] = max(peak[1], sum(t[1] for t in trees))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errs = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    for p, err in zip(procs, errs, strict=True):
        if p.returncode not in (0, 1):
            raise SystemExit(f"bpdetect extract failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")
    records = sum(sum(1 for _ in o.open(encoding="utf-8")) for o in outs)
    return {"jobs": jobs, "processes": len(folders), "seconds": round(wall, 2), "records": records,
            "peak_rss_mb": round(peak[0], 1), "peak_pss_mb": round(peak[1], 1)}


def cli_rounds(named: list[tuple[str, bytes]], jobs: int, repeat: int, model: Path | None) -> dict[str, object]:
    """`--jobs 1`, `--jobs N` and the reference "N halves at once", taking turns ``repeat`` times over the same files.

    The reference runs N one-job commands at the same time, each on its own share of the files: a perfect split
    with no coordination, i.e. what this machine allows N processes at that moment. Turns alternate their order
    (1, N, split; then split, N, 1; ...) so a slow spell of a shared machine does not fall on one setting only.
    """
    if jobs < 2:
        raise SystemExit("--jobs must be 2 or more for the CLI part")
    with tempfile.TemporaryDirectory(prefix="bpdetect-speed-") as tmp:
        root = Path(tmp)
        whole = root / "pages"
        shares = [root / f"share-{i}" for i in range(jobs)]
        for d in (whole, *shares):
            d.mkdir()
        for i, (name, raw) in enumerate(named):
            (whole / f"{name}.html").write_bytes(raw)
            os.link(whole / f"{name}.html", shares[i % jobs] / f"{name}.html")
        settings = {"jobs1": ([whole], 1), f"jobs{jobs}": ([whole], jobs), "split": (shares, 1)}
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in settings}
        for turn in range(repeat):
            order = list(settings) if turn % 2 == 0 else list(reversed(settings))
            for key in order:
                folders, j = settings[key]
                r = run_cli(folders, j, root / f"out-{key}.jsonl", model)
                runs[key].append(r)
                print(f"  turn {turn + 1}: {key}: {r['seconds']:.1f} s, peak PSS {r['peak_pss_mb']:.0f} MB",
                      file=sys.stderr)
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    n = len(named)
    summary = {}
    for key, rs in runs.items():
        summary[key] = {
            "seconds_median": round(med[key], 2),
            "seconds_all": [r["seconds"] for r in rs],
            "pages_per_s": round(n / med[key], 2),
            "speedup_vs_jobs1": round(med["jobs1"] / med[key], 2),
            "records": rs[-1]["records"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "peak_pss_mb": max(r["peak_pss_mb"] for r in rs),
        }
    pair = [a["seconds"] / b["seconds"] for a, b in zip(runs["jobs1"], runs[f"jobs{jobs}"], strict=True)]
    summary[f"jobs{jobs}"]["speedup_per_turn"] = [round(x, 2) for x in pair]
    summary[f"jobs{jobs}"]["share_of_split"] = round(med["split"] / med[f"jobs{jobs}"], 3)
    return summary


def main() -> None:
    """Run both parts and print the tables; write a JSON report when --out is given."""
    # One thread for everything in this process, bpdetect's own tree-evaluation pool included (it reads this).
    os.environ["OMP_NUM_THREADS"] = "1"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder of corpora (default: %(default)s)")
    ap.add_argument("--every", type=int, default=4, help="take every K-th page of the corpora (default: 4)")
    ap.add_argument("--cli-every", type=int, default=None, help="every K-th page for the CLI part (default: --every)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many pages")
    ap.add_argument("--chunk", type=int, default=8, help="pages per turn and per extract_many call, as in "
                    "`bpdetect extract` (default: 8)")
    ap.add_argument("--jobs", type=int, default=2, help="jobs for the parallel CLI run (default: 2)")
    ap.add_argument("--cli-repeat", type=int, default=3, help="turns of the CLI runs; medians are reported "
                    "(default: 3)")
    ap.add_argument("--model", type=Path, default=None, help="HTML model file (default: the shipped one)")
    ap.add_argument("--skip-cli", action="store_true", help="only the in-process part")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args()

    named = load_pages(args.root, args.every, args.limit)
    if not named:
        raise SystemExit(f"no pages under {args.root} (expected <corpus>/index.jsonl files; see --root)")
    pages = [raw for _, raw in named]
    mb = sum(map(len, pages)) / 2**20
    print(f"{len(pages)} pages, {mb:.1f} MB, {os.cpu_count()} CPUs, {platform.python_version()}", file=sys.stderr)
    report: dict[str, object] = {"pages": len(pages), "mb": round(mb, 1), "versions": versions()}
    results = in_process(pages, args.chunk, args.model)
    report["in_process"] = results
    print("\n| extractor (one process, one thread) | pages/s | × trafilatura | seconds | empty outputs |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['pages_per_s']:.1f} | {r['ratio_to_trafilatura']:.2f} | {r['seconds']:.1f} | "
              f"{r['empty_outputs']} |")
    if not args.skip_cli:
        if args.cli_every and args.cli_every != args.every:
            named = load_pages(args.root, args.cli_every, args.limit)
            print(f"CLI part: {len(named)} pages, {sum(len(r) for _, r in named) / 2**20:.1f} MB", file=sys.stderr)
        report["cli_pages"] = len(named)
        cli = cli_rounds(named, args.jobs, args.cli_repeat, args.model)
        report["cli"] = cli
        print(f"\n| `bpdetect extract DIR -o out.jsonl`, {len(named)} pages, median of {args.cli_repeat} | seconds | "
              "pages/s | speed-up | records | peak RSS (MB) | peak PSS (MB) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        labels = {"jobs1": "--jobs 1", f"jobs{args.jobs}": f"--jobs {args.jobs}",
                  "split": f"reference: {args.jobs} × --jobs 1 at once, 1/{args.jobs} of the files each"}
        for key, r in cli.items():
            print(f"| {labels[key]} | {r['seconds_median']:.1f} | {r['pages_per_s']:.1f} | "
                  f"{r['speedup_vs_jobs1']:.2f} | {r['records']} | {r['peak_rss_mb']:.0f} | {r['peak_pss_mb']:.0f} |")
        par = cli[f"jobs{args.jobs}"]
        print(f"\n--jobs {args.jobs} speed-up per turn: {par['speedup_per_turn']}; it reaches "
              f"{100 * par['share_of_split']:.0f}% of the reference split's speed.")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
