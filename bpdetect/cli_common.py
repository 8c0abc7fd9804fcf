"""Pieces the command-line modules share: the input-kind option, error exits and reading a page argument."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer


class InputOpt(str, Enum):
    """Input kind option."""

    auto = "auto"
    html = "html"
    text = "text"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise (status 2: a usage error)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def read_source(source: str) -> bytes:
    """The bytes of a file argument, or of standard input for "-" (a clear error exit otherwise)."""
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise fail(f"no such file: {source}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {source}: {exc}") from exc
