"""The waiting room of one budget on one event loop: lanes, wake-ups, max_wait, cancellation.

The budget (a :class:`~.backend.BudgetBackend`) is shared by every thread and event loop of
the process; the waiting is per loop. A :class:`LoopScheduler` queues waiters in two lanes
(``interactive`` ahead of ``bulk``), hands out slots as the budget allows, wakes itself with a
timer when the window will next have room (or when the budget notifies it), and enforces
``max_wait`` and cancellation. :class:`InFlightLimit` is one client's cap on concurrent
requests, which ``bulk`` leaves a slot of to ``interactive``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

import attrs

from .._sansio import Lane
from ..errors import RateLimitError
from .backend import BudgetBackend, Grant, RateLimitStatus

LANES: tuple[Lane, ...] = ("interactive", "bulk")
# The logger keeps the name of the module the budget grew in: users filter on it.
_log = logging.getLogger("shipstation_async.scheduler")
LOST_LOOP_CHECK = 1.0
"""Seconds between looks for slots held on closed event loops, while waiting on answers."""

_rooms: dict[int, list[LoopScheduler]] = {}  # id(budget) -> its waiting rooms, every loop
_loops_seen: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()  # rooms made there
_rooms_lock = threading.Lock()


def reap_closed_rooms(budget: BudgetBackend | None = None) -> None:
    """Account for the slots of ``budget`` (None: every budget) held on closed event loops.

    ``loop.close()`` (rather than ``asyncio.run``) leaves the requests out on that loop
    pending for ever: their slots, and a probe among them every loop's requests, would be
    held for good. A request that went out counts as failed (its slot is held a window
    longer, as it may have been counted); one that did not is given back. The rooms of
    closed loops are dropped.
    """
    with _rooms_lock:
        keys = list(_rooms) if budget is None else [id(budget)]
        dead: list[LoopScheduler] = []
        for key in keys:
            rooms = _rooms.get(key, [])
            gone = [room for room in rooms if room.loop_is_gone()]
            if gone:
                dead += gone
                left = [room for room in rooms if room not in gone]
                if left:
                    _rooms[key] = left
                else:
                    del _rooms[key]
    for room in dead:
        try:
            room.give_up_grants()
        except Exception as exc:  # never in the way of the room being made or woken
            _log.warning(
                "budget: could not account for a closed loop's slots (%s)", type(exc).__name__
            )


class InFlightLimit:
    """A client's cap on concurrent requests; ``bulk`` leaves the last slot to ``interactive``."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.count = 0
        self._bulk_maximum = maximum - 1 if maximum > 1 else maximum
        self._idle_waiters: list[asyncio.Future[None]] = []

    def has_room(self, lane: Lane) -> bool:
        """Whether one more request of ``lane`` may start."""
        return self.count < (self.maximum if lane == "interactive" else self._bulk_maximum)

    def release(self) -> None:
        """One request finished (or gave its slot back)."""
        self.count -= 1
        if not self.count and self._idle_waiters:
            for future in self._idle_waiters:
                if not future.done():
                    future.set_result(None)
            self._idle_waiters.clear()

    async def wait_idle(self) -> None:
        """Return once no request holds a slot (those granted, sending or awaiting an answer)."""
        if self.count:
            future = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(future)
            await future


@attrs.define(eq=False)
class _Waiter:
    future: asyncio.Future[Grant]
    lane: Lane
    owner: InFlightLimit | None
    deadline: float | None
    group: object | None  # whose request it is (a client closing fails its own waiters)
    timer: asyncio.TimerHandle | None = None


class LoopScheduler:
    """The waiting room of one budget on one event loop: lanes, timers, max_wait, cancellation.

    ``ledger`` is the budget it hands slots out of: any :class:`~.backend.BudgetBackend`.
    """

    def __init__(self, ledger: BudgetBackend, loop: asyncio.AbstractEventLoop) -> None:
        self.ledger = ledger
        self._loop_ref = weakref.ref(loop)
        self._queues: dict[Lane, deque[_Waiter]] = {lane: deque() for lane in LANES}
        # The same two queues by name: read on every request (has_waiters, grant_now).
        self._interactive = self._queues["interactive"]
        self._bulk = self._queues["bulk"]
        # Waiters per in-flight owner per lane, so a scan can stop once every owner is full.
        self._owners: dict[Lane, dict[int, int]] = {lane: {} for lane in LANES}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._wake_pending = False
        # Slots handed out on this loop, kept until its loop is known to be alive without
        # them (pruned of finished ones as it grows): see reap_closed_rooms.
        self._out: set[Grant] = set()
        self._prune_at = 64
        ledger.add_listener(self)
        with _rooms_lock:
            new_loop = loop not in _loops_seen
            _loops_seen.add(loop)
        # A new loop is often the one after a loop that was closed: the rooms of every key
        # there go (once per loop, not per key: a platform makes a room for each of its keys).
        reap_closed_rooms(None if new_loop else ledger)
        with _rooms_lock:
            _rooms.setdefault(id(ledger), []).append(self)

    def loop_is_gone(self) -> bool:
        """Whether this room's event loop is closed (or collected): nothing runs there."""
        loop = self._loop_ref()
        return loop is None or loop.is_closed()

    def handed_out(self, grant: Grant) -> None:
        """Note a slot handed to a request on this loop (its loop may be closed under it)."""
        out = self._out
        out.add(grant)
        if len(out) > self._prune_at:
            self._out = out = {g for g in out if g.state != "done"}
            self._prune_at = max(64, 2 * len(out))

    def give_up_grants(self) -> None:
        """Account for the slots this room's requests still hold: its loop is closed."""
        out, self._out = self._out, set()
        for grant in out:
            if grant.state == "reserved":
                self.ledger.release(grant)
            elif grant.state == "sent":
                self.ledger.fail(grant, sent=True)

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether this is the waiting room of ``loop``."""
        return self._loop_ref() is loop

    @property
    def has_waiters(self) -> bool:
        """Whether any request on this loop waits for a slot."""
        return bool(self._interactive or self._bulk)

    def queued(self) -> dict[str, int]:
        """Waiting requests per lane."""
        return {lane: sum(1 for w in q if not w.future.done()) for lane, q in self._queues.items()}

    def grant_now(self, lane: Lane, owner: InFlightLimit | None) -> Grant | None:
        """A slot for ``lane`` at once, or None (then :meth:`acquire` queues).

        Given only when nobody waits ahead of it and the budget and ``owner``'s cap allow.
        """
        if self._interactive or (lane == "bulk" and self._bulk):
            return None
        if owner is not None and not owner.has_room(lane):
            return None
        grant = self.ledger.try_grant(lane)
        if grant is not None:
            self.handed_out(grant)
            if owner is not None:
                owner.count += 1
        return grant

    async def acquire(
        self,
        lane: Lane,
        *,
        owner: InFlightLimit | None,
        deadline: float | None,
        front: bool = False,
        method: str = "",
        path: str = "",
        group: object | None = None,
    ) -> Grant:
        """A slot in ``lane`` (and room under ``owner``'s in-flight cap), waiting if need be.

        :meth:`grant_now` first, else the request queues; ``front`` puts it ahead of its lane
        (retries). Raises :class:`RateLimitError` (``sent=False``) at once when the budget
        cannot have room before ``deadline``, or when the deadline passes while waiting. On
        cancellation a slot already granted is returned. ``group`` (default ``owner``) names
        whose request it is, for :meth:`fail_group`.
        """
        grant = self.grant_now(lane, owner)
        if grant is not None:
            return grant
        loop = asyncio.get_running_loop()
        ledger = self.ledger
        now = ledger.clock()
        when = ledger.next_opportunity(lane, now)
        if when is None:  # waiting on answers: those on a closed loop never come
            reap_closed_rooms(ledger)
            grant = self.grant_now(lane, owner)
            if grant is not None:
                return grant
            when = ledger.next_opportunity(lane, now)
        if deadline is not None and when is not None and when > deadline:
            raise RateLimitError(
                f"no request slot can be granted within max_wait (next in {when - now:.2f} s)",
                method=method,
                path=path,
                retry_after=when - now,
                sent=False,
            )
        waiter = _Waiter(
            loop.create_future(), lane, owner, deadline, owner if group is None else group
        )
        if front:
            self._queues[lane].appendleft(waiter)
        else:
            self._queues[lane].append(waiter)
        owners = self._owners[lane]
        owners[id(owner)] = owners.get(id(owner), 0) + 1
        if deadline is not None:
            waiter.timer = loop.call_at(
                _loop_time(loop, deadline, ledger.clock), self._expire, waiter, method, path
            )
        self.wake()  # one dispatch for every request queued in this loop iteration
        try:
            return await waiter.future
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                self._give_back(future.result(), owner)
            else:
                self._discard(waiter)
            raise
        finally:
            if waiter.timer is not None:
                waiter.timer.cancel()

    def _give_back(self, grant: Grant, owner: InFlightLimit | None) -> None:
        if owner is not None:
            owner.release()
        self.ledger.release(grant)
        self.wake()

    def owner_released(self, owner: InFlightLimit) -> None:
        """An in-flight request of ``owner`` finished: waiters it blocked may go."""
        owner.release()
        if self._interactive or self._bulk:  # has_waiters
            self.wake()

    def fail_group(self, group: object | None, error: Callable[[], BaseException]) -> int:
        """Fail every request of ``group`` still waiting for a slot with ``error()``.

        None of them was sent (or, for a re-send, sent again). Returns how many there were.
        ``group`` None: every request waiting, whoever's.
        """
        failed = 0
        for queue in self._queues.values():
            for waiter in [w for w in queue if group in (None, w.group) and not w.future.done()]:
                self._discard(waiter)
                waiter.future.set_exception(error())
                failed += 1
        if failed:
            self.wake()  # the others may now be granted what these held back
        return failed

    def _discard(self, waiter: _Waiter) -> None:
        try:
            self._queues[waiter.lane].remove(waiter)
        except ValueError:
            pass
        else:
            self._forget_owner(waiter)
        if not self.has_waiters:
            self._cancel_timer()

    def _forget_owner(self, waiter: _Waiter) -> None:
        owners = self._owners[waiter.lane]
        key = id(waiter.owner)
        left = owners.get(key, 1) - 1
        if left > 0:
            owners[key] = left
        else:
            owners.pop(key, None)

    def _expire(self, waiter: _Waiter, method: str, path: str) -> None:
        if waiter.future.done():
            return
        self._discard(waiter)
        now = self.ledger.clock()
        when = self.ledger.next_opportunity(waiter.lane, now)
        waiter.future.set_exception(
            RateLimitError(
                "no request slot was granted within max_wait",
                method=method,
                path=path,
                retry_after=None if when is None else max(0.0, when - now),
                sent=False,
            )
        )

    def wake(self) -> None:
        """Run a dispatch soon on this loop (call from the loop's own thread)."""
        loop = self._loop_ref()
        if loop is None or self._wake_pending or loop.is_closed():  # (closed: nothing waits)
            return
        self._wake_pending = True
        loop.call_soon(self._dispatch)

    def wake_threadsafe(self) -> None:
        """Run a dispatch soon on this loop, from any thread."""
        loop = self._loop_ref()
        if loop is not None:
            call_on_loop(loop, self.wake)

    def _dispatch(self) -> None:
        self._wake_pending = False
        ledger = self.ledger
        now = ledger.clock()
        # Lanes whose waiters the budget (not a client's in-flight cap) holds back: only they
        # need a timer; a cap is lifted by owner_released, which wakes us.
        budget_blocked: list[Lane] = []
        for position, lane in enumerate(LANES):
            queue = self._queues[lane]
            blocked_owners: set[int] = set()
            budget_exhausted = False
            index = 0
            while index < len(queue):
                waiter = queue[index]
                if waiter.future.done():
                    del queue[index]
                    self._forget_owner(waiter)
                    continue
                owner = waiter.owner
                if owner is not None and not owner.has_room(lane):
                    blocked_owners.add(id(owner))
                    if len(blocked_owners) >= len(self._owners[lane]):
                        break  # every waiting client is at its cap: a release wakes us
                    index += 1
                    continue
                grant = ledger.try_grant(lane, now)
                if grant is None:
                    budget_exhausted = True
                    break
                del queue[index]
                self._forget_owner(waiter)
                if owner is not None:
                    owner.count += 1
                self.handed_out(grant)
                waiter.future.set_result(grant)
            if budget_exhausted:
                # Lower lanes need more room than this one, so they are held back too.
                budget_blocked += [later for later in LANES[position:] if self._queues[later]]
                break
        self._arm_timer(now, budget_blocked)

    def _arm_timer(self, now: float, lanes: list[Lane]) -> None:
        loop = self._loop_ref()
        when = math.inf
        for lane in lanes:
            at = self.ledger.next_opportunity(lane, now)
            if at is not None:
                when = min(when, max(at, now + 0.001))
            else:  # waiting on answers: look again now and then for any on a closed loop
                when = min(when, now + LOST_LOOP_CHECK)
        if loop is None or when == math.inf:
            self._cancel_timer()
            return
        if self._timer is not None and now < self._timer_at <= when:
            return
        self._cancel_timer()
        self._timer_at = when
        self._timer = loop.call_at(_loop_time(loop, when, self.ledger.clock), self._on_timer)

    def _cancel_timer(self) -> None:
        # Drop the handle too: it references the loop, which must be free to go away.
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, math.inf

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, math.inf
        reap_closed_rooms(self.ledger)
        self._dispatch()

    def status(self) -> RateLimitStatus:
        """A snapshot of the budget with this loop's queue lengths."""
        return self.ledger.snapshot(self.queued())


def call_on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """Run ``callback`` on ``loop``: now when called from it, else soon from its own thread.

    Dropped when the loop is closed (nothing is left there to act on).
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback()
        return
    with contextlib.suppress(RuntimeError):  # closed, or closing meanwhile
        loop.call_soon_threadsafe(callback)


def _loop_time(loop: asyncio.AbstractEventLoop, at: float, clock: Callable[[], float]) -> float:
    # asyncio's clock is time.monotonic, like the ledger's by default; convert anyway so an
    # injected clock keeps working.
    if clock is time.monotonic:
        return at
    return loop.time() + (at - clock())
