"""Time-ordered UUIDs (version 7), as Pulp generates them, so ids sort by creation."""

from __future__ import annotations

import random
import time
import uuid

_MILLIS = (1 << 48) - 1
_VERSION_AND_VARIANT = 0x7 << 76 | 0b10 << 62


def uuid7() -> uuid.UUID:
    # A big sync makes a few ids per object, hundreds of thousands in all: the random bits
    # come from the module PRNG (seeded from the OS, reseeded in forked children) rather
    # than a system call each. Ids need to be unique, not secret.
    value = ((time.time_ns() // 1_000_000) & _MILLIS) << 80
    value |= _VERSION_AND_VARIANT | random.getrandbits(12) << 64 | random.getrandbits(62)
    return uuid.UUID(int=value)
