"""Line-level results of a plain-text model on the hand-written scraper dumps in tests/fixtures/dumps.

Each fixture is a naive scraper's text dump of a page plus a JSON file sorting every line into the headline, article
lines (must be kept) and clutter lines (must go); see tests/test_text_dumps.py. For every fixture this prints the lines
the model gets wrong (KEEP: clutter kept, DROP: article or headline dropped) with their scores, then the totals:
fixtures with no wrong line, clutter lines kept, article lines dropped, headlines dropped.

Usage: python benchmarks/dumps.py [--text-model PATH] [--dumps DIR] [--json OUT] [--no-rules]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bpdetect.extract import Detector

DEFAULT_DUMPS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dumps"


def check_fixture(det: Detector, txt: Path) -> dict[str, object]:
    """Wrong lines of one fixture: [kind, score, line] with kind KEEP (clutter kept) or DROP (wanted line dropped)."""
    meta = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
    text = txt.read_text(encoding="utf-8")
    ex = det.extract(text, input="text")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) != len(ex.blocks):
        raise SystemExit(f"{txt.name}: {len(lines)} lines but {len(ex.blocks)} blocks; one block per line expected")
    article = set(meta["article"])
    wrong = []
    counts = {"clutter_kept": 0, "article_dropped": 0, "headline_dropped": 0}
    for line, sb in zip(lines, ex.blocks, strict=True):
        wanted = line == meta["title"] or line in article
        if wanted == sb.is_content:
            continue
        wrong.append(["DROP" if wanted else "KEEP", round(sb.score, 3), line])
        key = "headline_dropped" if line == meta["title"] else "article_dropped" if wanted else "clutter_kept"
        counts[key] += 1
    return {"fixture": txt.stem, "lines": len(lines), "wrong": wrong, **counts}


def main(argv: list[str] | None = None) -> int:
    """Run the check and print the table; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--text-model", help="plain-text model file (default: the shipped bpdetect/models/text.npz)")
    ap.add_argument("--dumps", type=Path, default=DEFAULT_DUMPS, help="fixture folder (default tests/fixtures/dumps)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--no-rules", action="store_true", help="the model alone (no boilerplate rules after it)")
    args = ap.parse_args(argv)
    det = Detector(text_model=args.text_model, boilerplate_rules=not args.no_rules)
    results = [check_fixture(det, txt) for txt in sorted(args.dumps.glob("*.txt"))]
    for r in results:
        print(f"{r['fixture']}: {len(r['wrong'])} wrong of {r['lines']} lines")
        for kind, score, line in r["wrong"]:
            print(f"    {kind} {score:.3f} {line[:100]}")
    totals = {key: sum(r[key] for r in results) for key in ("clutter_kept", "article_dropped", "headline_dropped")}
    clean = sum(not r["wrong"] for r in results)
    print(
        f"\n{clean}/{len(results)} fixtures clean; {totals['clutter_kept']} clutter lines kept, "
        f"{totals['article_dropped']} article lines dropped, {totals['headline_dropped']} headlines dropped "
        f"(of {sum(r['lines'] for r in results)} lines)"
    )
    if args.json:
        args.json.write_text(json.dumps({"clean": clean, **totals, "fixtures": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
