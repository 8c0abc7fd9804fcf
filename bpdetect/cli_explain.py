"""`bpdetect explain PAGE -o report.html`: a visual HTML report of why each block was kept or dropped.

Self-contained on purpose (it does not import ``bpdetect.cli``): ``cli`` imports this module while it is still being
initialised, so importing back from it would be circular.
"""

from __future__ import annotations

import os
import secrets
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .persist import ModelError


class ExplainInput(str, Enum):
    """Input kind option."""

    auto = "auto"
    html = "html"
    text = "text"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _read_page(page: str) -> bytes:
    """The page's bytes from a file or standard input ("-")."""
    if page == "-":
        return sys.stdin.buffer.read()
    path = Path(page)
    if not path.is_file():
        raise _fail(f"no such file: {page}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {page}: {exc}") from exc


def _parse_threshold(value: str | None) -> float | str | None:
    """A number when the option parses as one, else the preset name (validated by the model)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def write_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` through a temporary file in the same folder and os.replace."""
    # A fresh name created exclusively (mode "x") so the file gets the usual umask permissions, unlike mkstemp's 0600.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def explain(
    page: Annotated[str, typer.Argument(help="An HTML or text file, or - for standard input.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML report.")],
    input: Annotated[ExplainInput, typer.Option("--input", "-i", help="Input kind; auto-detected by default.")] = (
        ExplainInput.auto
    ),
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold", "-t", "--preset", help="A number in [0, 1] or a preset: precision/balanced/recall."
        ),
    ] = None,
    model: Annotated[Path | None, typer.Option(help="A model file (.skops with its .json sidecar).")] = None,
    force: Annotated[bool, typer.Option(help="Load a model even if its library versions differ.")] = False,
    url: Annotated[str | None, typer.Option(help="The page's URL, shown in the report.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Encoding of the bytes, as from an HTTP header.")] = None,
) -> None:
    """Write a visual HTML report of a page: every block coloured by score, kept or dropped, with its features."""
    from .explain import build_explanation
    from .extract import Detector

    if output.is_dir():
        raise _fail(f"--output is a folder, not a file: {output}")
    if not output.parent.is_dir():
        raise _fail(f"output folder does not exist: {output.parent}")
    data = _read_page(page)
    try:
        det = Detector.load(model, allow_version_mismatch=force) if model else Detector(allow_version_mismatch=force)
        result = build_explanation(
            data, detector=det, url=url, input=input.value, threshold=_parse_threshold(threshold), encoding=encoding
        )
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    except (ValueError, LookupError) as exc:  # bad threshold/preset, unknown encoding name
        raise _fail(str(exc)) from exc
    try:
        write_atomically(output, result.html)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc}") from exc
    typer.echo(
        f"wrote {output}: {result.kept} blocks kept, {result.dropped} dropped "
        f"({result.document.source} input, threshold {result.threshold:.3f})"
    )
