"""A fake-clock simulation of a client's ledger against a rate-limited server (pure logic).

The server is the sandbox's :class:`RateWindow`: a request reaches it ``up`` seconds after it
was sent, waits a random 0 to ``counting_delay`` seconds in its queue, is counted (and its
headers computed) then, and is answered ``down`` seconds later. The client is a ledger and a
first-come-first-served queue of calls, retried at the front after a 429, dispatched whenever
an answer lands or the ledger's next opportunity comes: what the loop scheduler does, on a
clock the test controls.

:data:`BACKENDS` lists every budget backend the rules' tests run against (one conformance
suite): how to make one on a fake clock, and how to reach the little state the tests inspect
beyond the backend's interface.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from typing import Any

import attrs

from shipstation_async import RateLimit
from shipstation_async._budget import Grant, Ledger
from shipstation_async._sansio import parse_rate_limit
from shipstation_async.sandbox.ratewindow import RateWindow, ResetFormat, WindowMeter, WindowMode


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@attrs.frozen
class BackendCase:
    """One budget backend as the conformance suite drives it.

    ``make`` builds a budget on a fake clock. The hooks reach what a few tests inspect beyond
    the interface: the header rooms in force, the "first reused slot was checked" mark (set
    by tests that start past that check), and the learned Reset rounding's offsets.
    """

    name: str
    make: Callable[[RateLimit, Callable[[], float]], Ledger]
    rooms: Callable[[Ledger], list[Any]]
    mark_reuse_checked: Callable[[Ledger], None]
    rounding_offsets: Callable[[Ledger], tuple[float, float]]


def _mark_reuse_checked(ledger: Ledger) -> None:
    """As if the first slot used again had gone alone and the server agreed."""
    ledger._probes.checked = True


IN_PROCESS = BackendCase(
    name="in-process",
    make=lambda rate_limit, clock: Ledger(rate_limit, clock=clock),
    rooms=lambda ledger: ledger._view.rooms,
    mark_reuse_checked=_mark_reuse_checked,
    rounding_offsets=lambda ledger: ledger._view.rounding.offsets(),
)

BACKENDS: tuple[BackendCase, ...] = (IN_PROCESS,)


class Client:
    """One process: a ledger and a first-come-first-served queue of calls."""

    def __init__(self, sim: Simulation, ledger: Ledger) -> None:
        self.sim = sim
        self.ledger = ledger
        self.queue: list[int] = []  # call ids waiting for a slot, front first
        self.sends: list[tuple[float, int]] = []  # (send time, call id)
        self.answers: list[tuple[float, int, int]] = []  # (answer time, call id, status)
        self.rejected = 0
        self.done = 0
        self._calls = 0
        self._timer_at = math.inf

    def call(self, count: int, at: float | None = None) -> None:
        """Queue ``count`` calls at ``at`` (default now)."""

        def queue() -> None:
            self.queue.extend(range(self._calls, self._calls + count))
            self._calls += count
            self.dispatch()

        self.sim.at(self.sim.clock.now if at is None else at, queue)

    def dispatch(self) -> None:
        sim = self.sim
        now = sim.clock.now
        ledger = self.ledger
        while self.queue:
            grant = ledger.try_grant("interactive", now)
            if grant is None:
                break
            call = self.queue.pop(0)
            ledger.mark_sent(grant, now)
            self.sends.append((now, call))
            sim.at(now + sim.up, lambda g=grant, c=call: sim.arrive(self, g, c))
        if self.queue:
            when = ledger.next_opportunity("interactive", now)
            if when is not None and when < self._timer_at:
                self._timer_at = max(when, now + 1e-6)
                sim.at(self._timer_at, self._on_timer)

    def _on_timer(self) -> None:
        if self.sim.clock.now >= self._timer_at:
            self._timer_at = math.inf
        self.dispatch()

    def answer(self, grant: Grant, call: int, status: int, headers: object) -> None:
        now = self.sim.clock.now
        self.ledger.complete(grant, status, headers, at=now)  # type: ignore[arg-type]
        self.answers.append((now, call, status))
        if status == 429:
            self.rejected += 1
            self.queue.insert(0, call)  # a retry goes first
        else:
            self.done += 1
        self.dispatch()

    def accepted_sends(self) -> list[float]:
        """Send times of the attempts the server admitted, in order."""
        ok = {call for _, call, status in self.answers if status != 429}
        seen: set[int] = set()
        times = []
        # The last send of a call is the one admitted (earlier ones were refused).
        for t, call in reversed(self.sends):
            if call in ok and call not in seen:
                seen.add(call)
                times.append(t)
        return sorted(times)


class Simulation:
    """One server window and its clients (the first, ``client``, made here); ``run()``."""

    def __init__(
        self,
        *,
        limit: int = 40,
        period: float = 60.0,
        mode: WindowMode = "rolling",
        reset_format: ResetFormat = "float",
        count_rejected: bool = True,
        counting_delay: float = 0.0,
        up: float = 0.002,
        down: float = 0.002,
        seed: int = 0,
        start: float = 1000.0,
        client_limit: RateLimit | None = None,
        backend: BackendCase = IN_PROCESS,
    ) -> None:
        self.clock = Clock(start)
        self.backend = backend
        self.period = period
        self.limit = limit
        self.window = RateWindow(RateLimit(limit, period), mode=mode, count_rejected=count_rejected)
        self.reset_format: ResetFormat = reset_format
        self.counting_delay = counting_delay
        self.up, self.down = up, down
        self.rng = random.Random(seed)
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.counted: list[tuple[float, bool, bool]] = []  # (count time, admitted, ours)
        self.client_limit = client_limit or RateLimit(limit, period, reserve=0)
        self.client = self.add_client()

    def add_client(self) -> Client:
        """Another process on the same key: a ledger of its own."""
        return Client(self, self.backend.make(self.client_limit, self.clock))

    # -- plumbing ---------------------------------------------------------------------------

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._seq), action))

    def run(self, until: float = math.inf) -> None:
        while self._events and self._events[0][0] <= until:
            when, _, action = heapq.heappop(self._events)
            self.clock.now = max(self.clock.now, when)
            action()

    # -- the server -------------------------------------------------------------------------

    def foreign(self, times: list[float]) -> None:
        """Another client's requests, counted at these times (nobody reads their answers)."""
        for t in times:
            self.at(t, self._count_foreign)

    def _count_foreign(self) -> None:
        decision = self.window.decide(self.clock.now)
        self.counted.append((self.clock.now, decision.admitted, False))

    def arrive(self, client: Client, grant: Grant, call: int) -> None:
        """A request reaches the server: queued, then counted."""
        delay = self.rng.uniform(0.0, self.counting_delay) if self.counting_delay else 0.0
        self.at(self.clock.now + delay, lambda: self._count(client, grant, call))

    def _count(self, client: Client, grant: Grant, call: int) -> None:
        now = self.clock.now
        decision = self.window.decide(now)
        self.counted.append((now, decision.admitted, True))
        status = 200 if decision.admitted else 429
        headers = parse_rate_limit(decision.headers(self.reset_format))
        self.at(now + self.down, lambda: client.answer(grant, call, status, headers))

    # -- figures ----------------------------------------------------------------------------

    def budget_use(self, client: Client | None = None) -> float:
        """Ideal / achieved, from the first send to the first send of the last window."""
        sends = (client or self.client).accepted_sends()
        windows = math.ceil(len(sends) / self.limit)
        first_of_last = sends[(windows - 1) * self.limit]
        return (windows - 1) * self.period / (first_of_last - sends[0])

    def max_in_window(self, *, ours_only: bool = False) -> int:
        """The most admitted requests counted within any W (by default others' too)."""
        meter = WindowMeter(self.period)
        for t, admitted, ours in self.counted:
            if admitted and (ours or not ours_only):
                meter.observe(t)
        return meter.max_in_window
