"""One API key's budget kept in Redis and shared by every process and host that spends it.

:class:`SharedLedger` is the budget backend for a key whose budget lives in Redis: each grant,
answer and failure is one atomic script (:mod:`.redis_scripts`) on Redis's own clock, so every
process follows the same rules on the same books: rule 1's holds (with leases, so that a
process killed while holding slots gives them back), the 429 pause and its probe, the
interactive reserve and lane order across processes, and rule 3's room when a client outside
the budget spends the key too.

Grants are asked for asynchronously (:meth:`SharedLedger.grant`, by the waiting room of
:mod:`.shared_waiting`); what the request loop reports back (sent, answered, failed) is written
in the background, so that no request waits on Redis after its answer. Until a write lands,
Redis keeps the slot as in flight under its lease: the slot frees later, never sooner.

When Redis does not answer, the process runs on a *local share* (a :class:`~.ledger.Ledger`
with the limit divided among the processes last seen, so that the shares never add up to
more than the limit) or, with ``on_unavailable="wait"``, holds its requests; it asks Redis
again every ``retry_every`` seconds and, once it answers, gives it the slots it holds and
shares again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._sansio import Lane, RateLimitHeaders
from ..errors import ConfigurationError
from ..events import BudgetDegraded, BudgetShared
from ..limits import RateLimit
from .backend import BudgetBackend, Grant, Listener, Listeners, RateLimitStatus
from .heartbeat import Heartbeats
from .ledger import Ledger
from .redis_store import Connections, RedisUnavailable, ScriptArg, ScriptRunner
from .shared_parts import (
    ResetReading,
    SharedGrant,
    SharedSettings,
    SharedView,
    held_slots,
    limit_reported,
    local_share,
    margin_taught,
    pause_of,
    share_of,
    shared_status,
)

_log = logging.getLogger("shipstation_async.scheduler")


class SharedLedger:
    """The backend of one key's budget in Redis (see the module's doc)."""

    def __init__(
        self,
        connections: Connections,
        settings: SharedSettings,
        rate_limit: RateLimit,
        *,
        name: str = "",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self._connections = connections
        self._settings = settings
        # Read when called, like the request loop's send and answer times it is compared with.
        self._clock = clock if clock is not None else time.monotonic
        self._lock = threading.Lock()
        self._process = uuid.uuid4().hex[:16]
        self._ids = itertools.count()
        self.view = SharedView()
        self._reset = ResetReading()  # rule 4, from this process's answers
        self._epoch = 0  # this process's epoch: moves when any process's 429 is seen
        self._shared_epoch = 0  # the highest epoch Redis reported
        self._pending_429 = 0  # 429s whose write has not landed: grants meanwhile re-queue
        self._pause_until = -math.inf
        self._longest = 0.0
        # This process's slots: id -> when it frees (inf while in flight), for Redis to take
        # back after it lost them, and for the local share to count.
        self._mine: dict[str, float] = {}
        self.degraded = False
        self._transitions = 0  # every switch between shared and local; clients report them
        self._modes: deque[tuple[int, BudgetDegraded | BudgetShared]] = deque(maxlen=64)
        self._share_now = 0
        self._local: Ledger | None = None
        self._retry_at = -math.inf
        self._born: bytes | None = None  # the generation of Redis's state last seen
        self._heard = False  # whether Redis ever answered (until then the processes are unknown)
        # When Redis last counted this process among the key's (a GRANT, RENEW or RESTORE):
        # past the process TTL the others' shares leave it out.
        self._counted_at = -math.inf
        self._unclaimed: set[str] = set()  # grants asked of Redis with no answer seen
        self._recovery: asyncio.Task[None] | None = None
        self._last_contact = -math.inf  # when Redis last answered a script of ours
        self._listeners = Listeners()
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeats = Heartbeats(self._flying, self._renew, settings.lease / 3)
        self.configure(rate_limit)

    # -- the seam's plain parts --------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock durations are measured on (instants come from Redis)."""
        return self._clock

    @property
    def transitions(self) -> int:
        """Switches between the shared budget and the local share so far."""
        return self._transitions

    def local_share(self) -> int | None:
        """The share spent alone while Redis does not answer (None: shared)."""
        return self._share_now if self.degraded else None

    def mode_log(self) -> Sequence[tuple[int, BudgetDegraded | BudgetShared]]:
        """The latest switches between shared and local (up to 64), numbered."""
        return tuple(self._modes)

    @property
    def poll(self) -> float:
        """Seconds between asks while another process's answer decides."""
        return self._settings.poll

    @property
    def epoch(self) -> int:
        """Moves with every 429 pause seen here or in Redis, and every probe granted here."""
        return self._epoch

    def configure(self, rate_limit: RateLimit) -> None:
        """Adopt a (new) plan."""
        with self._lock:
            self.rate_limit = rate_limit
            self.limit = rate_limit.requests
            self.period = rate_limit.period
            self.margin = rate_limit.effective_margin
            self.reserve = rate_limit.effective_reserve

    def paused_until(self) -> float:
        """Clock time until which a 429 pause seen here holds every request."""
        local = self._local
        return max(self._pause_until, local.paused_until() if local else -math.inf)

    def add_listener(self, listener: Listener) -> None:
        """Register a loop's waiting room to be woken when the budget may have room again."""
        self._listeners.add(listener)

    def _notify(self) -> None:
        self._listeners.notify()

    def try_grant(self, lane: Lane, now: float | None = None) -> Grant | None:
        """A grant without asking Redis: only the local share's, while Redis is away."""
        if not self.degraded or self._clock() >= self._retry_at:
            return None
        grant = self._local_grant(lane)
        return grant if isinstance(grant, Grant) else None

    def next_opportunity(self, lane: Lane, now: float | None = None) -> float | None:
        """None: not known here (Redis answers per lane and moment; nothing is refused early)."""
        return None

    # -- granting ----------------------------------------------------------------------------

    async def grant(self, lane: Lane, *, interactive_waiting: bool) -> Grant | float | None:
        """A grant for ``lane``, or the clock time to ask again (None: when an answer comes).

        ``interactive_waiting``: other interactive calls of this process wait besides this
        one (bulk work elsewhere lets them go first; an interactive call refused claims that
        too).
        """
        now = self._clock()
        if now < self._pause_until:
            return self._pause_until
        if self.degraded and now < self._retry_at:
            return self._local_grant(lane)
        runner = self._connections.runner()
        grant_id = f"{self._process}:{next(self._ids)}"
        try:
            if self.degraded:
                await self._restore(runner, returning=True)  # first what this process holds
            reply = await self._grant_script(runner, grant_id, lane, interactive_waiting)
            if reply[0] == b"lost":  # lost, or a generation this process has not restored into
                await self._restore(runner)
                grant_id = f"{self._process}:{next(self._ids)}"
                reply = await self._grant_script(runner, grant_id, lane, interactive_waiting)
        except RedisUnavailable as exc:
            # The script may still run once Redis reads it: a slot (or the probe's role) held
            # by nobody. Given back at the next answer.
            with self._lock:
                self._unclaimed.add(grant_id)
            if runner.closing:  # the store closed this loop's connections: ask again later
                return self._clock() + self._settings.poll
            if exc.setup and not self._heard:
                # Never answered, and refused for its settings: no outage that ends by itself
                # (one that worked before may be rotating its password: that waits).
                raise ConfigurationError(
                    f"Redis refused the shared budget's scripts ({exc}): check the budget's "
                    "Redis URL (SHIPSTATION_BUDGET_URL): its password, user and database"
                ) from None
            self.degrade(str(exc))
            return self._local_grant(lane)
        self._last_contact = self._clock()
        self._shared_again()
        self._give_back_unclaimed()
        return self._read_grant(grant_id, reply, lane)

    def _give_back_unclaimed(self) -> None:
        """Give back the grants whose GRANT was given up on (Redis answers again by now)."""
        if not self._unclaimed:
            return
        with self._lock:
            unclaimed, self._unclaimed = self._unclaimed, set()
        for grant_id in unclaimed:
            args: list[ScriptArg] = [grant_id, 0, self.period, self.margin, self._ttl_ms(), 0.0]
            self._spawn(self._write("FAIL", [*args, self._known_born()]))

    async def _grant_script(
        self, runner: ScriptRunner, grant_id: str, lane: Lane, waiting: bool
    ) -> Any:
        args: list[ScriptArg] = [lane, grant_id, self._process, self.limit, self.period]
        args += [self.reserve, self._settings.lease, int(waiting), self._ttl_ms()]
        return await runner.run(
            "GRANT", self._settings.keys, [*args, self._process_ttl(), self._known_born()]
        )

    def _read_grant(self, grant_id: str, reply: Sequence[Any], lane: Lane) -> Grant | float | None:
        kind = reply[0]
        if kind == b"lost":
            return self._clock() + self._settings.poll  # lost again at once: ask soon
        self._heard = True
        self._counted_at = self._clock()
        if self._born is None:
            self._born = reply[-1]  # the generation its slots are written into
        shared_epoch = int(reply[2])
        stale = self._see_epoch(shared_epoch)
        if kind == b"grant":
            probe = bool(int(reply[3]))
            with self._lock:
                self._mine[grant_id] = math.inf
                self.view.read_grant(reply)
                self._epoch += probe  # it goes alone: grants not sent yet queue again
            self._adopt_margin(float(reply[8]))
            self._heartbeats.ensure(asyncio.get_running_loop())
            return SharedGrant(
                lane,
                -1 if stale else self._epoch,
                probe,
                margin=self.margin,  # the margin in force at the grant
                id=grant_id,
                granted_at=reply[1].decode(),
            )
        # A time to ask again, or None: an answer (here or in another process) decides.
        return self.view.read_refusal(reply, self._clock())

    def _adopt_margin(self, margin: float) -> None:
        """Hold slots by the margin Redis holds them by (rule 6, learned for every process)."""
        with self._lock:
            grew, self.margin = margin > self.margin, max(self.margin, margin)
        if grew:
            margin_taught(self.name, margin)

    def _see_epoch(self, shared_epoch: int) -> bool:
        """Note Redis's epoch; whether a grant made under ``shared_epoch`` is stale."""
        with self._lock:
            if shared_epoch > self._shared_epoch:
                self._shared_epoch = shared_epoch
                self._epoch += 1
            return shared_epoch < self._shared_epoch or self._pending_429 > 0

    # -- what the request loop reports ---------------------------------------------------------

    def mark_sent(self, grant: Grant, at: float | None = None) -> None:
        """Stamp the send (locally: Redis holds the slot from its grant)."""
        if isinstance(grant, SharedGrant) and grant.local is not None:
            assert grant.local_ledger is not None
            grant.local_ledger.mark_sent(grant.local, at)
        if grant.state == "reserved":
            grant.state = "sent"
            grant.sent_at = self._clock() if at is None else at

    def release(self, grant: Grant) -> None:
        """Give back a slot that was granted but never sent."""
        self._settle(grant, sent=False, at=None)

    def fail(self, grant: Grant, *, sent: bool, at: float | None = None) -> None:
        """An attempt with no answer; ``sent``: it may have gone out and may be counted."""
        self._settle(grant, sent=sent, at=at)

    def _settle(self, grant: Grant, *, sent: bool, at: float | None) -> None:
        if grant.state == "done" or not isinstance(grant, SharedGrant):
            return
        now = self._clock()
        at = now if at is None else at
        grant.state = "done"
        with self._lock:
            if sent:
                frees = self._mine[grant.id] = at + self._longest + self.period + self.margin
                if self._local is not None and grant.local is None:
                    self._local.hold_until(frees)  # sent while shared, failed while away
            else:
                self._mine.pop(grant.id, None)
        if grant.local is not None:
            assert grant.local_ledger is not None
            grant.local_ledger.fail(grant.local, sent=sent, at=at)
            self._notify()  # the local share's waiters may go
            return
        args: list[ScriptArg] = [grant.id, int(sent), self.period, self.margin, self._ttl_ms()]
        args += [now - at, self._known_born()]
        self._spawn(self._write("FAIL", args))

    def complete(
        self,
        grant: Grant,
        status: int,
        headers: RateLimitHeaders | None,
        at: float | None = None,
    ) -> None:
        """An answer arrived ``at``: its slot frees W later; a 429 pauses every process."""
        if grant.state == "done" or not isinstance(grant, SharedGrant):
            return
        now = self._clock()
        at = now if at is None else at
        took = at - grant.sent_at if grant.sent_at is not None else 0.0
        grant.state = "done"
        with self._lock:
            self._longest = max(self._longest, took)
            self._mine[grant.id] = at + self.period + self.margin
            if status == 429:
                self._epoch += 1
                self._pause_until = max(self._pause_until, at + pause_of(headers, self.period))
        if grant.local is not None:
            assert grant.local_ledger is not None
            grant.local_ledger.complete(grant.local, status, headers, at)
            self._notify()  # the local share's waiters may go
            return
        local = self._local
        if local is not None:  # sent while shared, answered while Redis is away
            local.hold_until(at + self.period + self.margin)
        with self._lock:  # loops on other threads answer too
            self._pending_429 += 1 if status == 429 else 0  # its write has not landed yet
            plan = (self.limit, self.period)
            header_values = self._reset.complete_args(headers, grant.sent_at, at, plan)
        self._spawn(self._write_answer(grant, status, header_values, now - at, took))

    async def _write_answer(
        self,
        grant: SharedGrant,
        status: int,
        header_values: list[ScriptArg],
        ago: float,
        took: float,
    ) -> None:
        args: list[ScriptArg] = [grant.id, status, self.period, self.margin, self._ttl_ms()]
        args += [ago, took, grant.granted_at, *header_values]
        args += [self.limit, self._known_born(), grant.margin]
        try:
            reply = await self._write("COMPLETE", args)
        finally:
            if status == 429:
                with self._lock:
                    self._pending_429 -= 1
        if reply is not None:
            self._see_epoch(int(reply[0]))
            self._adopt_margin(float(reply[2]))
            if int(reply[1]):
                limit_reported(self.name, int(reply[1]), self.limit)

    async def _write(self, script: str, args: list[ScriptArg]) -> Any:
        """Run a write script; when Redis is away the lease keeps the slot held meanwhile.

        When Redis lost the state, this process's slots (this one's outcome noted among them)
        are restored first, and the write is made again.
        """
        runner = self._connections.runner()
        try:
            reply = await runner.run(script, self._settings.keys, args)
            if reply and reply[0] == b"lost":
                await self._restore(runner)
                reply = await runner.run(script, self._settings.keys, args)
            self._last_contact = self._clock()
            self._give_back_unclaimed()
            return reply
        except RedisUnavailable as exc:
            if not runner.closing:  # (closed by the store: no sign of Redis away)
                self.degrade(str(exc))
            return None
        finally:
            self._notify()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        with self._lock:  # loops on other threads add and drop theirs
            self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        with self._lock:
            self._tasks.discard(task)

    async def flush(self) -> None:
        """Wait for this loop's writes to Redis to land (at a client's close)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pending = [task for task in self._tasks if task.get_loop() is loop]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def stop_heartbeat(self) -> None:
        """Stop this loop's lease renewals (its connections are closing)."""
        self._heartbeats.stop(asyncio.get_running_loop())

    # -- leases --------------------------------------------------------------------------------

    def _flying(self) -> list[str]:
        with self._lock:
            return [grant_id for grant_id, frees in self._mine.items() if frees == math.inf]

    async def _renew(self, flying: list[str]) -> None:
        """Renew the leases of ``flying`` (this process's slots in flight)."""
        args: list[ScriptArg] = [self._process, self.period, self._settings.lease]
        args += [self._ttl_ms(), self._process_ttl(), self._known_born(), *flying]
        reply = await self._write("RENEW", args)
        if reply is not None and reply[0] == b"ok":
            self._heard = True
            self._counted_at = self._clock()
            self._see_epoch(self.view.read_renewal(reply))

    # -- Redis away and back -------------------------------------------------------------------

    def degrade(self, reason: str) -> None:
        """Run on the local share from now on, until Redis answers a retry."""
        with self._lock:
            now = self._clock()
            self._retry_at = now + self._settings.retry_every
            if self.degraded:
                return
            self.degraded = True
            self._transitions += 1
            share = self._share_now = self._share()
            self._local = self._local_ledger(share, now)
            self._modes.append((self._transitions, BudgetDegraded(share, self.view.processes)))
        self._start_recovery()
        _log.warning(
            "budget %s: Redis did not answer (%s); %s until it does",
            self.name,
            reason,
            f"running on a local share of {share} requests per {self.period:g} s"
            if self._local is not None
            else "holding requests",
        )

    def _share(self) -> int:
        """What this process may spend alone: the shares of the processes seen sum to L.

        None for a process Redis no longer counts (idle past the process TTL): the shares the
        others took when Redis went away left it out.
        """
        if self._settings.on_unavailable == "wait" or not self._heard:
            return 0  # waiting, or no count of the processes yet: none may be taken for 1
        if self._clock() - self._counted_at > self._process_ttl():
            return 0
        limit = min(self.limit, self.view.limit or self.limit)  # never past the configured one
        return share_of(limit, self.view.processes, self.view.rank)

    def _local_ledger(self, share: int, now: float) -> Ledger | None:
        if share <= 0:
            return None
        plan = RateLimit(
            share, self.period, margin=self.margin, reserve=min(self.reserve, share - 1)
        )
        full_until = now + self.period + self._longest + self.margin
        return local_share(plan, self.name, self._clock, list(self._mine.values()), now, full_until)

    def _local_grant(self, lane: Lane) -> Grant | float | None:
        local = self._local
        if local is None:
            return self._retry_at
        granted = local.try_grant(lane)
        if granted is None:
            at = local.next_opportunity(lane)
            return self._retry_at if at is None else min(at, self._retry_at)
        grant_id = f"{self._process}:{next(self._ids)}"
        with self._lock:
            self._mine[grant_id] = math.inf
            self._epoch += granted.probe  # as for a probe Redis grants
        return SharedGrant(
            lane, self._epoch, granted.probe, id=grant_id, local=granted, local_ledger=local
        )

    async def _restore(self, runner: ScriptRunner, *, returning: bool = False) -> None:
        """Give Redis the slots this process holds (after it lost its state, or came back).

        ``returning`` from the local share: the other processes may still be on theirs, and
        Redis has not heard of what they spend, so the rest of the limit is held for a
        window (phantom slots) beside this process's own.
        """
        now = self._clock()
        with self._lock:
            triples = held_slots(self._mine, now, self.period + self._settings.lease)
        # Others may still spend local shares only under the "share" policy.
        sharing = returning and self._settings.on_unavailable == "share"
        phantoms = max(0, self.limit - self._share_now) if sharing else 0
        args: list[ScriptArg] = [self._process, self._ttl_ms(), self._process_ttl()]
        args += [max(0.0, self._pause_until - now), phantoms]
        args += [self.period + self._longest + self.margin]
        # A state this process recreates starts full when it had been lost: this process
        # holds slots, or wrote there more recently than the keys live. Otherwise the keys
        # expired while everyone was idle, or this is a cold start: nothing is in the window.
        recent = self._born is not None and now - self._last_contact < self._ttl_ms() / 1000
        args += [self.limit if triples or recent else 0, *triples]
        lost, born, epoch = await runner.run("RESTORE", self._settings.keys, args)
        self._counted_at = self._clock()
        if born != self._born:
            with self._lock:  # a new generation counts its epochs from its own start
                self._born, self._shared_epoch = born, int(epoch)
                self._epoch += 1  # grants of the old one queue again
        if int(lost) and triples:
            _log.warning(
                "budget %s: Redis had lost the budget's state; restored this process's %d "
                "slots, and one request probes the server's count first",
                self.name,
                len(triples) // 3,
            )

    def _start_recovery(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop here: the next grant asks Redis again
            return
        task = self._recovery  # one on a loop that ended never finishes: start another
        if task is None or task.done() or task.get_loop().is_closed():
            self._recovery = loop.create_task(self._recover())

    async def _recover(self) -> None:
        """Ask Redis every ``retry_every`` while it is away; once back, restore and share again."""
        while self.degraded:
            await asyncio.sleep(self._settings.retry_every)
            if not self.degraded:
                return
            try:
                await self._restore(self._connections.runner(), returning=True)
            except RedisUnavailable:
                continue
            self._shared_again()
            self._give_back_unclaimed()
            self._notify()

    def _shared_again(self) -> None:
        if not self.degraded:
            return
        with self._lock:
            self.degraded = False
            self._transitions += 1
            self._local = None
            self._modes.append((self._transitions, BudgetShared()))
        _log.warning("budget %s: Redis answers again; the budget is shared again", self.name)

    # -- figures -------------------------------------------------------------------------------

    def _known_born(self) -> bytes:
        """The generation this process's slots are written into (b"": none yet)."""
        return b"" if self._born is None else self._born

    def _ttl_ms(self) -> int:
        # Idle keys expire, but never before a pause someone saw has ended.
        pause = max(0.0, self._pause_until - self._clock())
        idle = 3 * self.period + self._settings.lease + self._longest + 60
        return math.ceil((idle + pause) * 1000)

    def _process_ttl(self) -> float:
        return 2 * self.period + self._settings.lease

    def snapshot(self, queued: dict[str, int], now: float | None = None) -> RateLimitStatus:
        """The budget as the latest replies from Redis showed it."""
        now = self._clock() if now is None else now
        view = self.view
        local = self._local
        if local is not None:
            status = local.snapshot(queued, now)
            return attrs.evolve(status, shared=True, processes=view.processes, degraded=True)
        plan = RateLimit(self.limit, self.period, margin=self.margin, reserve=self.reserve)
        paused_for = self._pause_until - now
        learned = self._reset.learned
        return shared_status(view, plan, queued, paused_for, self.degraded, now, learned)


if TYPE_CHECKING:
    _SHARED_BACKEND: type[BudgetBackend] = SharedLedger
