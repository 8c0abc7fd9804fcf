"""The `bpdetect` command line: thin typer commands over the library (and, for train/evaluate, `training`)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .cli_common import InputOpt, read_source
from .cli_common import fail as _fail
from .persist import ModelError, read_sidecar
from .segment import segment

app = typer.Typer(
    name="bpdetect",
    help="Find the main content of web pages (HTML or scraped plain text) with a trained block classifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="Inspect and convert model files.", no_args_is_help=True)
app.add_typer(model_app, name="model")


class BlocksFormat(str, Enum):
    """Output formats of `bpdetect blocks`."""

    table = "table"
    jsonl = "jsonl"


class ExtractFormat(str, Enum):
    """Output formats of `bpdetect extract` (bpdetect.formats.FORMATS)."""

    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


def _version_callback(value: bool) -> None:
    if value:
        from ._speedups import status

        built = [name for name, on in status().items() if on]
        typer.echo(f"bpdetect {__version__} (compiled speed-ups: {', '.join(built) if built else 'none, pure Python'})")
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
    data = read_source(source)
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
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Files, directories (searched recursively), .warc/.warc.gz archives, http(s) URLs, or - for "
            "standard input.",
            show_default=False,
        ),
    ],
    fmt: Annotated[ExtractFormat, typer.Option("--format", "-f", help="Output format.")] = ExtractFormat.text,
    links: Annotated[bool, typer.Option("--links", help="Keep links (markdown and html formats).")] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="A file for all outputs (JSON lines when it ends in .jsonl or with --format json), or a directory "
            "(an existing one, or a path ending in /) for one file per input plus errors.jsonl. Default: stdout.",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: one per core); one thread each.")] = 1,
    globs: Annotated[
        list[str] | None,
        typer.Option(
            "--glob",
            help="File pattern for directory sources (repeatable; matched case-insensitively on the name, or on "
            "the relative path when it has a /). Default: *.html *.htm *.xhtml *.shtml *.txt and their .gz.",
        ),
    ] = None,
    input: Annotated[InputOpt, typer.Option("--input", "-i", help="Input kind; auto-detected by default.")] = (
        InputOpt.auto
    ),
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold", "-t", "--preset", help="A number in [0, 1] or a preset: precision/balanced/recall."
        ),
    ] = None,
    model: Annotated[Path | None, typer.Option(help="A model file (.npz or .skops, with its .json sidecar).")] = None,
    force: Annotated[bool, typer.Option(help="Load a model even if its library versions differ.")] = False,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules/--no-rules",
            help="Drop boilerplate lines the model kept (ad labels, skip links, 'Related Posts', 'READ MORE: ...').",
        ),
    ] = True,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar on stderr (default: when stderr is a terminal).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line on stderr.")] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted run into the same JSON-lines --output: inputs that already have a record "
            "there are skipped (a finished output is left as it is).",
        ),
    ] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Pages per batch (per worker task).")] = 8,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for a URL.")] = 30.0,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Largest input (bytes; decompressed); larger ones are errors.")
    ] = 50 * 1024 * 1024,
    max_blocks: Annotated[
        int, typer.Option("--max-blocks", min=1, help="Blocks segmented per page; the rest is cut (truncated).")
    ] = 200_000,
) -> None:
    """Extract the main content of pages: one output (or one error record) per input.

    Exit status: 0 when every input was extracted, 1 when any failed, 2 for usage errors.
    """
    from . import batch
    from .persist import ModelError

    try:
        thr = batch.parse_threshold(threshold)
        opts = batch.Options(
            fmt=fmt.value,
            links=links,
            input=input.value,
            threshold=thr,
            model=str(model) if model else None,
            force=force,
            rules=rules,
            max_blocks=max_blocks,
        )
        batch.validate_options(opts)
    except (ModelError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    config = batch.BatchConfig(
        options=opts,
        output=output,
        globs=globs or None,
        jobs=jobs,
        chunk_size=chunk_size,
        progress=_show_progress(progress, quiet, sources),
        timeout=timeout,
        max_bytes=max_bytes,
        resume=resume,
    )

    def report(rec: batch.Record) -> None:
        typer.echo(f"error: {rec.source}: {rec.error}", err=True)

    try:
        batch.tune_malloc()  # a long run of big and small pages: give freed page buffers back (see MALLOC_THRESHOLD)
        summary = batch.run_batch(sources, config, on_error=report)
    except (ModelError, ValueError) as exc:  # a bad --output, or a model that fails in a worker
        raise _fail(str(exc)) from exc
    except OSError as exc:  # the output cannot be written (disk full, permissions)
        raise _fail(f"cannot write output: {exc}", 1) from exc
    except KeyboardInterrupt:
        raise _fail(_interrupted_message(output, fmt.value), 130) from None
    except Exception as exc:  # e.g. a worker process killed (out of memory): a message, not a traceback
        raise _fail(f"batch stopped: {type(exc).__name__}: {exc}", 1) from exc
    if not quiet:
        typer.echo(summary.line(), err=True)
    if summary.errors:
        raise typer.Exit(1)


def _interrupted_message(output: str | None, fmt: str) -> str:
    """What an interrupted `extract` left behind, and how to go on."""
    from . import batch

    if output and output != "-" and not batch.is_dir_output(output):
        if fmt == "json" or output.lower().endswith(batch.JSONL_SUFFIXES):
            return (f"interrupted; the records so far are in {output}{batch.PART_SUFFIX}: run the same command with "
                    "--resume to finish it")
        return "interrupted; no partial output file was left"
    return "interrupted"


# A progress bar is shown by default only when there is more to wait for than a handful of pages.
_PROGRESS_MIN_SOURCES = 4


def _show_progress(flag: bool | None, quiet: bool, sources: list[str]) -> bool:
    """--progress/--no-progress, or by default: stderr is a terminal and there are many (or streamed) inputs."""
    if flag is not None:
        return flag
    if quiet or not sys.stderr.isatty():
        return False
    from .batch import source_kind

    return len(sources) >= _PROGRESS_MIN_SOURCES or any(source_kind(s) in ("dir", "warc") for s in sources)


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
    lex = meta.get("lexicon")
    if isinstance(lex, dict):
        typer.echo(
            f"lexical:    {lex.get('feature')}: word {lex.get('word_ngrams')}-grams, "
            f"char {lex.get('char_ngrams')}-grams, {lex.get('buckets')} buckets each"
        )
    typer.echo(f"versions:   {meta.get('versions')}")
    typer.echo(f"created:    {meta.get('created')}  sha256: {str(meta.get('sha256'))[:16]}…")
    typer.echo(f"training:   {tr.get('pages')} pages, {tr.get('blocks')} blocks, {tr.get('seconds')} s")
    for c in tr.get("corpora", []):
        typer.echo(f"  - {c['name']}: {c['pages']} pages ({c.get('train_pages')} for training)")
    if val:
        typer.echo(f"validation: {val.get('pages')} pages, alignment token F1 mean {val.get('f1_mean', 0):.3f}")


@model_app.command("convert")
def model_convert(
    src: Annotated[Path, typer.Argument(help="The model to convert (.skops with its .json sidecar).")],
    dst: Annotated[Path, typer.Argument(help="The .npz model to write (its .json sidecar is written beside it).")],
    force: Annotated[bool, typer.Option(help="Read the source even if its scikit-learn version differs.")] = False,
) -> None:
    """Write a model as node arrays (.npz) that load and predict without scikit-learn, bitwise the same scores.

    The output is deterministic; the conversion is checked against scikit-learn's own predictions first.
    """
    from .persist import convert_model

    try:
        side = convert_model(src, dst, allow_version_mismatch=force)
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    meta = read_sidecar(dst)
    typer.echo(
        f"wrote {dst} ({meta['size']} bytes, {meta['trees']['stage1']} + {meta['trees']['stage2']} trees) and {side}"
    )


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


from .cli_explain import explain as _explain_command  # noqa: E402

app.command("explain")(_explain_command)

# `bpdetect spark`: the module imports pyspark only when the command runs (bpdetect[spark] extra).
from .cli_spark import spark as _spark_command  # noqa: E402

app.command("spark")(_spark_command)

_load_plugins()


def main() -> None:
    """Console-script entry point."""
    app()
