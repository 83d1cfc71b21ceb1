"""The shared budget's lease renewals: per event loop, one task while slots are in flight."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable


class Heartbeats:
    """Renews the leases of a process's slots in flight, every ``every`` seconds, per loop.

    ``flying`` names the slots in flight now; ``renew`` renews them. A loop's task ends
    when none is left (the next grant starts it again).
    """

    def __init__(
        self,
        flying: Callable[[], list[str]],
        renew: Callable[[list[str]], Awaitable[None]],
        every: float,
    ) -> None:
        self._flying = flying
        self._renew = renew
        self._every = every
        self._tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]
        self._tasks = weakref.WeakKeyDictionary()

    def ensure(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start ``loop``'s renewals unless they run."""
        task = self._tasks.get(loop)
        if task is None or task.done():
            task = self._tasks[loop] = loop.create_task(self._beat())
            # The entry goes with the task: a finished task would keep its loop alive.
            task.add_done_callback(lambda _: self._tasks.pop(loop, None))

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop ``loop``'s renewals (its connections are closing)."""
        task = self._tasks.pop(loop, None)
        if task is not None:
            task.cancel()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            flying = self._flying()
            if not flying:
                return
            await self._renew(flying)
