"""Labeled scraper dumps (tests/fixtures/dumps style) as a text-input corpus in the datasets/FORMAT.md layout.

A labeled dump is ``<id>.txt`` (a naive scraper's whole-page text, one block per line) beside ``<id>.json`` sorting
every non-empty line into ``title``, ``article`` and ``clutter``. The corpus written from a folder of them has one
``input: "text"`` page per dump and, as gold, the title and article lines in page order, so ``bpdetect train`` can
learn from a user's own labeled dumps next to the HTML corpora (the text model's training pages).

Usage: python -m training.labeled_dumps SRC_DIR [SRC_DIR...] OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["read_labeled_dump", "write_corpus"]


def read_labeled_dump(txt: Path) -> tuple[str, list[str], list[int]]:
    """The dump's text, its gold lines (title and article, in page order) and a 1/0 label per non-empty line."""
    text = txt.read_text(encoding="utf-8")
    meta = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
    wanted = {meta["title"], *meta["article"]}
    known = wanted | set(meta["clutter"])
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    unlabeled = [ln for ln in lines if ln not in known]
    if unlabeled:
        raise ValueError(f"{txt.name}: {len(unlabeled)} lines in no category, first: {unlabeled[0][:80]!r}")
    return text, [ln for ln in lines if ln in wanted], [int(ln in wanted) for ln in lines]


def write_corpus(src: Path | Sequence[Path], out: Path, name: str | None = None) -> int:
    """Write every labeled dump of ``src`` (one folder or several) as one corpus folder ``out``; the page count.

    The corpus has index.jsonl, pages/ and gold/; a dump id that two source folders share is an error.
    """
    out = Path(out)
    (out / "pages").mkdir(parents=True, exist_ok=True)
    (out / "gold").mkdir(parents=True, exist_ok=True)
    entries = []
    folders = [Path(src)] if isinstance(src, (str, Path)) else [Path(f) for f in src]
    dumps = sorted((txt for folder in folders for txt in folder.glob("*.txt")), key=lambda t: t.stem)
    stems = [t.stem for t in dumps]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise ValueError(f"dump ids in more than one source folder: {', '.join(twice)}")
    for txt in dumps:
        text, gold, labels = read_labeled_dump(txt)
        page, gold_path = f"pages/{txt.stem}.txt", f"gold/{txt.stem}.txt"
        (out / page).write_text(text, encoding="utf-8")
        (out / gold_path).write_text("\n\n".join(gold) + "\n", encoding="utf-8")
        # Every dump is its own site: the training code's site-wise split then sends about one in five to validation.
        entries.append({"id": txt.stem, "url": None, "lang": None, "html": page, "gold": gold_path, "input": "text",
                        "group": f"{name or out.name}/{txt.stem}", "line_labels": labels})
    (out / "index.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: convert a folder of labeled dumps; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, nargs="+", help="folders of <id>.txt + <id>.json labeled dumps")
    ap.add_argument("out", type=Path, help="corpus folder to write (its name is the corpus name)")
    args = ap.parse_args(argv)
    n = write_corpus(args.src, args.out)
    print(f"wrote {n} pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
