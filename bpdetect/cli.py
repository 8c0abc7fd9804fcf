"""The `bpdetect` command line: thin typer commands over the library (and, for train/evaluate, `training`)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .persist import ModelError, read_sidecar
from .segment import segment

app = typer.Typer(
    name="bpdetect",
    help="Find the main content of web pages (HTML or scraped plain text) with a trained block classifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="Inspect model files.", no_args_is_help=True)
app.add_typer(model_app, name="model")


class InputOpt(str, Enum):
    """Input kind option."""

    auto = "auto"
    html = "html"
    text = "text"


class BlocksFormat(str, Enum):
    """Output formats of `bpdetect blocks`."""

    table = "table"
    jsonl = "jsonl"


class ExtractFormat(str, Enum):
    """Output formats of `bpdetect extract`."""

    text = "text"
    json = "json"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _read_source(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise _fail(f"no such file: {source}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc}") from exc


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"bpdetect {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """bpdetect: main-content detection for web pages and scraped text."""


@app.command()
def blocks(
    source: Annotated[str, typer.Argument(help="An HTML or text file, or - for standard input.")],
    input: Annotated[InputOpt, typer.Option("--input", "-i", help="Input kind; auto-detected by default.")] = (
        InputOpt.auto
    ),
    fmt: Annotated[BlocksFormat, typer.Option("--format", "-f", help="table or jsonl.")] = BlocksFormat.table,
    encoding: Annotated[str | None, typer.Option(help="Encoding of the bytes, as from an HTTP header.")] = None,
) -> None:
    """Print the text blocks a page is cut into (for debugging segmentation)."""
    data = _read_source(source)
    doc = segment(data, input=input.value, encoding=encoding)
    if fmt is BlocksFormat.jsonl:
        for b in doc.blocks:
            rec = b._asdict()
            rec["class_tokens"] = list(b.class_tokens)
            typer.echo(json.dumps(rec, ensure_ascii=False))
        return
    typer.echo(
        f"# {len(doc.blocks)} blocks, source={doc.source}, encoding={doc.encoding} ({doc.encoding_source}), "
        f"title={doc.title!r}"
    )
    typer.echo(f"{'#':>4}  {'tag':<8}{'words':>6}{'links':>6}  text")
    for b in doc.blocks:
        text = b.text.replace("\n", " ⏎ ")
        if len(text) > 90:
            text = text[:87] + "..."
        link = f"{b.n_link_chars / b.n_chars:.2f}" if b.n_chars else "0"
        typer.echo(f"{b.index:>4}  {b.tag:<8}{b.n_words:>6}{link:>6}  {text}")


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(help="HTML or text files, or - for standard input.")],
    input: Annotated[InputOpt, typer.Option("--input", "-i", help="Input kind; auto-detected by default.")] = (
        InputOpt.auto
    ),
    fmt: Annotated[ExtractFormat, typer.Option("--format", "-f", help="text or json.")] = ExtractFormat.text,
    threshold: Annotated[
        str | None, typer.Option("--threshold", "-t", help="A number in [0, 1] or a preset: precision/balanced/recall.")
    ] = None,
    model: Annotated[Path | None, typer.Option(help="A model file (.skops with its .json sidecar).")] = None,
    force: Annotated[bool, typer.Option(help="Load a model even if its library versions differ.")] = False,
) -> None:
    """Extract the main content of pages."""
    from .extract import Detector

    thr: float | str | None = threshold
    if threshold is not None:
        try:
            thr = float(threshold)
        except ValueError:
            thr = threshold
    try:
        det = Detector.load(model, allow_version_mismatch=force) if model else Detector(allow_version_mismatch=force)
        failures = 0
        for src in sources:
            data = _read_source(src)
            try:
                ext = det.extract(data, input=input.value, threshold=thr)
            except (ValueError, OSError) as exc:
                failures += 1
                typer.echo(json.dumps({"source": src, "error": str(exc)}), err=True)
                continue
            if fmt is ExtractFormat.json:
                rec = {
                    "source": src,
                    "title": ext.title,
                    "text": ext.text,
                    "input": ext.source,
                    "threshold": ext.threshold,
                    "blocks": [
                        {"text": sb.block.text, "tag": sb.block.tag, "score": round(sb.score, 4),
                         "content": sb.is_content}
                        for sb in ext.blocks
                    ],
                }
                typer.echo(json.dumps(rec, ensure_ascii=False))
            else:
                typer.echo(ext.text)
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if failures:
        raise typer.Exit(1)


@model_app.command("info")
def model_info(
    path: Annotated[Path | None, typer.Argument(help="Model file; the shipped default html model when omitted.")] = (
        None
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole sidecar as JSON.")] = False,
) -> None:
    """Show a model's metadata (read from its sidecar; the model itself is not loaded)."""
    from .extract import _default_model_path

    path = path or _default_model_path("html")
    try:
        meta = read_sidecar(path)
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(meta, indent=2, sort_keys=True))
        return
    val = meta.get("validation") or {}
    tr = meta.get("training") or {}
    typer.echo(f"model:      {path}")
    typer.echo(f"input:      {meta.get('input')}")
    typer.echo(f"threshold:  {meta.get('threshold')}  presets: {meta.get('presets')}")
    typer.echo(f"features:   schema v{meta.get('feature_schema_version')}, {len(meta.get('feature_names', []))}")
    typer.echo(f"versions:   {meta.get('versions')}")
    typer.echo(f"created:    {meta.get('created')}  sha256: {str(meta.get('sha256'))[:16]}…")
    typer.echo(f"training:   {tr.get('pages')} pages, {tr.get('blocks')} blocks, {tr.get('seconds')} s")
    for c in tr.get("corpora", []):
        typer.echo(f"  - {c['name']}: {c['pages']} pages ({c.get('train_pages')} for training)")
    if val:
        typer.echo(f"validation: {val.get('pages')} pages, alignment token F1 mean {val.get('f1_mean', 0):.3f}")


def _load_plugins() -> None:
    """Add commands that installed packages register under the ``bpdetect.commands`` entry-point group.

    This is how `bpdetect train` and `bpdetect evaluate` arrive from the ``training`` package without the library
    importing it: the distribution wires them in, and an install without ``training`` simply lacks them.
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group="bpdetect.commands"):
        try:
            register = ep.load()
        except ImportError as exc:  # a plugin whose optional dependencies are missing
            typer.echo(f"warning: bpdetect command plugin {ep.name!r} unavailable: {exc}", err=True)
            continue
        register(app)


_load_plugins()


def main() -> None:
    """Console-script entry point."""
    app()
