"""Giving the memory a file's engines freed back to the system.

CPython returns a freed object's memory to its allocator, not to the system: the C
library keeps freed blocks for reuse, and the process's resident size stays at its
high-water mark though most of it is free. After a file drops an engine (the serving
circuit, the replay evaluator: :func:`checker.api.release_plan`), what is left is
smaller than what the next checks will build, and they build it in fresh pages on
top. ``malloc_trim(0)`` of the GNU C library hands the free pages back (a few
milliseconds); at 100k components it lowers the run's peak by about 30 MB. Elsewhere
(macOS, musl) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import sys
from functools import lru_cache
from typing import Callable


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not the GNU C library
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def can_release() -> bool:
    """Whether :func:`release_free_memory` can give memory back here."""
    return _malloc_trim() is not None


def release_free_memory() -> None:
    """Hand the C library's free pages back to the system (where it can)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
