"""Pages/s of the plain-text path (text in, text out) for one or more text models, taking turns in the same run.

Input: the hand-written scraper dumps (tests/fixtures/dumps and datasets/dumps, or ``--dumps DIR``...), read into
memory once. Each round extracts every dump once with each model, in alternating order, one page per
``Detector.extract`` call; the best round of each model counts (the machine is shared: the minimum is the least
disturbed). Prints pages/s, MB/s and the ratio to the first model.

Usage: OMP_NUM_THREADS=1 python benchmarks/text_speed.py [MODEL.npz ...] [--dumps DIR ...] [--rounds N]
(no model: the shipped text model)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bpdetect.extract import Detector

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUMPS = (ROOT / "tests" / "fixtures" / "dumps", ROOT / "datasets" / "dumps")


def load_dumps(folders: list[Path]) -> list[str]:
    """The text of every ``*.txt`` dump in the folders, in name order."""
    return [p.read_text(encoding="utf-8") for folder in folders for p in sorted(Path(folder).glob("*.txt"))]


def time_rounds(models: list[str | None], texts: list[str], rounds: int) -> list[float]:
    """Best seconds per model to extract every text once, models taking turns (order reversed every other round)."""
    detectors = [Detector(text_model=m) for m in models]
    for det in detectors:  # load the models and warm the caches outside the timing
        det.extract(texts[0], input="text")
    best = [float("inf")] * len(models)
    for r in range(rounds):
        order = list(range(len(models)))
        if r % 2:
            order.reverse()
        for i in order:
            t0 = time.perf_counter()
            for text in texts:
                detectors[i].extract(text, input="text")
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the turns and print the table; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="text model files (default: the shipped text model)")
    ap.add_argument("--dumps", type=Path, nargs="+", default=list(DEFAULT_DUMPS), help="folders of *.txt dumps")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of turns (best of them counts)")
    args = ap.parse_args(argv)
    texts = load_dumps(args.dumps)
    if not texts:
        raise SystemExit("no *.txt dumps in " + ", ".join(map(str, args.dumps)))
    models: list[str | None] = list(args.models) or [None]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    best = time_rounds(models, texts, max(args.rounds, 1))
    print(f"{len(texts)} dumps, {mb:.2f} MB, best of {args.rounds} rounds, one page per call")
    print(f"{'model':<48}{'pages/s':>10}{'MB/s':>8}{'× first':>9}")
    for model, seconds in zip(models, best, strict=True):
        name = model or "shipped text model"
        print(f"{name:<48}{len(texts) / seconds:>10.1f}{mb / seconds:>8.2f}{best[0] / seconds:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
