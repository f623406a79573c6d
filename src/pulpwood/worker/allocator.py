"""Keep a worker's resident memory close to what it really uses (glibc only).

A sync moves hundreds of megabytes through short-lived buffers allocated by several
threads (HTTP bodies, inflated content, rows for the database). glibc gives every thread
its own arena and raises its mmap threshold after each large free, so freed buffers stay
in the process instead of going back to the system and the worker's RSS ratchets up by
tens of megabytes per sync. Two arenas and a fixed threshold keep large buffers on their
own mappings, returned when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 1024 * 1024
ARENAS = 2


def bound_retained_memory() -> bool:
    """Apply the settings above; False where the C library has no `mallopt` (not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, ARENAS)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
