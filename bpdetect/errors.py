"""Errors raised by the resource guards (a leaf module: it imports nothing from bpdetect)."""

from __future__ import annotations

__all__ = ["InputTooLarge", "check_limit", "input_size"]


class InputTooLarge(ValueError):
    """The input is larger than the ``max_bytes`` limit the caller set; nothing of it was parsed."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"input of {size:,} bytes is over the max_bytes limit of {limit:,} bytes")
        self.size = size
        self.limit = limit


def check_limit(name: str, value: int | None) -> None:
    """Reject a resource limit that is not None or a non-negative integer, with a clear ValueError."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")


def input_size(doc: bytes | bytearray | memoryview | str, limit: int | None = None) -> int:
    """Size of a document in bytes (UTF-8 for str); given ``limit``, only whether it is over the limit is exact."""
    if isinstance(doc, str):
        n = len(doc)
        # A character takes 1 to 4 bytes in UTF-8: skip the encoding when the answer is clear either way.
        if limit is not None and (n > limit or 4 * n <= limit):
            return n
        if doc.isascii():
            return n
        return len(doc.encode("utf-8", errors="surrogatepass"))
    return memoryview(doc).nbytes
