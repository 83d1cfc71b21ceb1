"""Blocking disk work of a backfill, run in a worker thread that a cancellation waits for."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_log = logging.getLogger("shipstation_async.backfill")


async def finish_in_thread(work: Callable[..., T], *args: object) -> T:
    """Run ``work(*args)`` in the loop's default executor and return its result.

    A slow fsync then leaves the event loop free. A thread cannot be stopped, so a cancellation
    (Ctrl-C under ``asyncio.run``, a timeout, a task group) is held until the work has finished
    and only then raised: the caller's ``finally`` must not close the file or the database
    under it (SQLite crashes the process when a connection is closed mid-statement).
    """
    future = asyncio.get_running_loop().run_in_executor(None, functools.partial(work, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.shield(future)
            except asyncio.CancelledError:
                continue  # cancelled again: still the thread must finish first
            except Exception:
                break
        if not future.cancelled() and future.exception() is not None:
            _log.warning("%s failed while the backfill was being cancelled", work.__name__)
        raise
