"""Seeded, cheap, well-spread hashes: every generated value derives from one of these."""

from __future__ import annotations

import uuid

M64 = (1 << 64) - 1
"""The 64-bit mask."""


GOLDEN = 0x9E3779B97F4A7C15
"""splitmix64's increment, added before mixing."""


def mix(x: int) -> int:
    """A 64-bit bijective mixer (splitmix64's finaliser): cheap, well-spread hashes."""
    x = (x + GOLDEN) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def guid(value: int) -> str:
    """A GUID string made of the low 128 bits of ``value``."""
    return str(uuid.UUID(int=value & ((1 << 128) - 1)))
