"""What every backend shares: the world's lock, its clock and its change feed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .changes import ChangeFeed

JSON = dict[str, Any]


@attrs.frozen
class Shared:
    """What the backends of one world share.

    ``lock``: the world's re-entrant lock (hold it to make several changes atomic);
    ``clock``: now, Pacific wall-clock ms, never before the world's end nor an earlier now;
    ``changes``: the feed every write is announced on.
    """

    lock: threading.RLock
    clock: Callable[[], int]
    changes: ChangeFeed


def merge(record: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> JSON:
    """``record`` (may be None) updated with ``fields``, as a new dict."""
    out = dict(record or {})
    out.update(fields)
    return out
