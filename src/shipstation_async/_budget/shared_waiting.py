"""The waiting room of a shared (Redis) budget on one event loop.

It keeps :class:`~.waiting.LoopScheduler`'s lanes, ``max_wait`` and cancellation, and changes
how slots are handed out: every grant is asked of Redis, one waiter at a time in lane order,
by one dispatch task per loop. A refusal names when to ask again: a time (the next slot to
free, the end of a pause) or an answer; this process's answers wake the room at once, other
processes' answers are noticed by asking again every ``poll`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import math

from .._sansio import Lane
from ..errors import ConfigurationError
from .backend import Grant
from .shared import SharedLedger
from .waiting import LANES, LoopScheduler, _loop_time, _Waiter

_log = logging.getLogger("shipstation_async.scheduler")


class SharedWaitingRoom(LoopScheduler):
    """One loop's waiting room for a :class:`~.shared.SharedLedger`.

    ``grant_now`` is the base class's: the shared ledger's ``try_grant`` grants without a
    wait only from the local share, while Redis is away; otherwise every request queues.
    """

    def __init__(self, ledger: SharedLedger, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(ledger, loop)
        self.shared = ledger
        self._dispatching: asyncio.Task[None] | None = None
        self._again = False

    def _dispatch(self) -> None:
        self._wake_pending = False
        loop = self._loop_ref()
        if loop is None:
            return
        task = self._dispatching
        if task is not None and not task.done():
            self._again = True  # the running pass looks again before it ends
            return
        self._dispatching = loop.create_task(self._dispatch_all())

    async def _dispatch_all(self) -> None:
        retry_at: float | None = None
        try:
            while True:
                self._again = False
                retry_at = await self._grant_waiters()
                if not self._again:
                    break
        except ConfigurationError as exc:
            # The store's settings are wrong (Redis refused them before it ever answered):
            # the requests waiting fail with it rather than wait for ever.
            refused = exc  # (an except clause's name is gone after it)
            self.fail_group(None, lambda: refused)
            retry_at = None
        except Exception as exc:
            # Not a Redis that is away (that is a refusal): something unforeseen. The local
            # share takes over and the room tries again; the type only (a message may
            # quote the URL).
            _log.error("budget %s: granting failed (%s)", self.shared.name, type(exc).__name__)
            self.shared.degrade(type(exc).__name__)
            retry_at = None
        self._arm(retry_at)

    async def _grant_waiters(self) -> float | None:
        """Grant waiters in lane order; the clock time to try again (inf: nobody waits)."""
        for lane in LANES:
            while True:
                waiter = self._next_waiter(lane)
                if waiter is None:
                    break
                # Interactive calls waiting besides this one keep their claim in Redis.
                others = len(self._queues["interactive"]) - (lane == "interactive")
                outcome = await self.shared.grant(lane, interactive_waiting=others > 0)
                if not isinstance(outcome, Grant):
                    return outcome  # lower lanes need more room: they wait too
                self._hand_over(waiter, outcome)
        return math.inf

    def _next_waiter(self, lane: Lane) -> _Waiter | None:
        queue = self._queues[lane]
        for waiter in list(queue):
            if waiter.future.done():
                self._drop(waiter)
            elif waiter.owner is None or waiter.owner.has_room(lane):
                return waiter
        return None

    def _hand_over(self, waiter: _Waiter, grant: Grant) -> None:
        if waiter.future.done():  # cancelled or expired while Redis answered
            self.shared.release(grant)
            return
        self._drop(waiter)
        if waiter.owner is not None:
            waiter.owner.count += 1
        self.handed_out(grant)
        waiter.future.set_result(grant)

    def _drop(self, waiter: _Waiter) -> None:
        try:
            self._queues[waiter.lane].remove(waiter)
        except ValueError:
            return
        self._forget_owner(waiter)

    def _arm(self, retry_at: float | None) -> None:
        loop = self._loop_ref()
        self._cancel_timer()
        if loop is None or not self.has_waiters or retry_at == math.inf:
            return
        clock = self.shared.clock
        now = clock()
        when = now + self.shared.poll if retry_at is None else max(retry_at, now + 0.001)
        self._timer_at = when
        self._timer = loop.call_at(_loop_time(loop, when, clock), self._on_timer)
