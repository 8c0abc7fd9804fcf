"""Render datasets/REGISTRY.md from datasets/registry.json.

python datasets/render_registry.py          # rewrite REGISTRY.md
python datasets/render_registry.py --check  # exit 1 if REGISTRY.md is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cell(value: object) -> str:
    text = "–" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _languages(langs: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in langs.items())


def _split(split: dict[str, int] | None) -> str:
    if not split:
        return "–"
    return " / ".join(f"{k} {v:,}" for k, v in split.items())


def render(reg: dict) -> str:
    """The whole REGISTRY.md text for a parsed registry.json."""
    entries = reg["datasets"]
    total = sum(e["pages"] for e in entries)
    out = [
        "# Labelled corpora known to bpdetect",
        "",
        "<!-- Generated from registry.json by `python datasets/render_registry.py`. Do not edit by hand. -->",
        "",
        f"{len(entries)} public corpora, {total:,} pages, all staged in the [layout of FORMAT.md](FORMAT.md) under "
        f"`{reg['staging']}/<name>/`. Pages whose gold does not match the page are listed in `{reg['suspect_pages']}`; "
        "leave them out of training. **Never copy pages or gold from these corpora into the project or its package.**",
        "",
        "| name | pages | languages | split | license | gold kind | title | comments | markup in gold | labels |",
        "|---|---:|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        g = e["gold"]
        out.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{e['name']}`",
                    f"{e['pages']:,}",
                    _languages(e["languages"]),
                    _split(e["split"]),
                    e["license"]["short"],
                    g["kind"],
                    g["title"],
                    g["comments"],
                    "yes: " + g["format"] if g["markup"] else "no",
                    "yes" if g["labels_files"] else "–",
                )
            )
            + " |"
        )
    out += ["", "## Per corpus: gold, adapter quirks, source", ""]
    for e in entries:
        g, s = e["gold"], e["source"]
        out += [
            f"### `{e['name']}` — {e['title']}",
            "",
            f"- **Gold**: {g['kind']}; {g['procedure']}. Format: {g['format']}. Title: {g['title']}. "
            f"Byline/date: {g['byline_date']}. Comments: {g['comments']}.",
        ]
        if g["labels_files"]:
            out.append(f"- **Labels**: {g['labels_files']}")
        out += [f"- **Quirk**: {q}" for q in e["quirks"]]
        lic = e["license"]
        out.append(f"- **License** (as stated): {lic['stated']}. Restriction: **{lic['restriction']}**.")
        out += [
            f"- **Source**: `{s['repository']}` @ `{s['commit'][:12]}`, {s['files']}.",
            f"- **Cite**: {e['citation']}",
            f"- **Obtain**: {e['obtain']['public']}. Staged copy: `{e['obtain']['staged']}`.",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    reg = json.loads((HERE / "registry.json").read_text(encoding="utf-8"))
    text = render(reg)
    target = HERE / "REGISTRY.md"
    if "--check" in argv:
        ok = target.is_file() and target.read_text(encoding="utf-8") == text
        print("REGISTRY.md is up to date" if ok else "REGISTRY.md is stale: run python datasets/render_registry.py")
        return 0 if ok else 1
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
