"""Site-wise train/validation split: a site's pages are all in one side, so templates never leak."""

from __future__ import annotations

import zlib

__all__ = ["VALIDATION_BUCKETS", "is_validation"]

# One bucket in five of the site hash goes to validation (about 20% of sites, and of pages on average).
VALIDATION_BUCKETS = 5


def is_validation(corpus: str, group: str) -> bool:
    """True when the page's site (group) falls in the validation share; stable across runs and machines."""
    return zlib.crc32(f"{corpus}\x00{group}".encode()) % VALIDATION_BUCKETS == 0
