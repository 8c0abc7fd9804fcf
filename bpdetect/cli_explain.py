"""`bpdetect explain PAGE -o report.html`: a visual HTML report of why each block was kept or dropped.

It does not import ``bpdetect.cli`` (which imports this module while it is still being initialised); the pieces both
need live in ``bpdetect.cli_common``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import InputOpt, fail, read_source
from .persist import ModelError


def explain(
    page: Annotated[str, typer.Argument(help="An HTML or text file, or - for standard input.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML report.")],
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
    url: Annotated[str | None, typer.Option(help="The page's URL, shown in the report.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Encoding of the bytes, as from an HTTP header.")] = None,
) -> None:
    """Write a visual HTML report of a page: every block coloured by score, kept or dropped, with its features."""
    from .batch import parse_threshold, write_atomic
    from .explain import build_explanation
    from .extract import Detector

    if output.is_dir():
        raise fail(f"--output is a folder, not a file: {output}")
    if not output.parent.is_dir():
        raise fail(f"output folder does not exist: {output.parent}")
    data = read_source(page)
    try:
        det = Detector.load(model, allow_version_mismatch=force) if model else Detector(allow_version_mismatch=force)
        result = build_explanation(
            data, detector=det, url=url, input=input.value, threshold=parse_threshold(threshold), encoding=encoding
        )
    except ModelError as exc:
        raise fail(str(exc)) from exc
    except (ValueError, LookupError) as exc:  # bad threshold/preset, unknown encoding name
        raise fail(str(exc)) from exc
    try:
        write_atomic(output, result.html)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from exc
    typer.echo(
        f"wrote {output}: {result.kept} blocks kept, {result.dropped} dropped "
        f"({result.document.source} input, threshold {result.threshold:.3f})"
    )
