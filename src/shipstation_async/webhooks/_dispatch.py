"""Running accepted jobs: fetch a delivery's records, hand new versions to each handler once.

Each job runs in its own task: fetch (retried with backoff), then every handler of its event
at once, each on its own schedule. A record the models cannot read goes to the dead letters
of each handler at once, alone: the others are handed over. A handler gets only record
versions it has not handled; one that raises gets them again after a backoff, and after its
last attempt they go to the dead letters. A version goes to a handler once it returned: the
store remembers it. In this process a version being handed to a handler is not handed to it
by another job meanwhile: that job waits until the call holding it ends.

Only a failing store is retried without end (the job is stored: nothing is lost by waiting);
whatever else fails counts as the handler's attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .._sansio import Operation
from ._records import POLLED, kind_of, letter_id_of, notification, page_of, split_readable
from ._shared import held_elsewhere
from .events import Notification, is_newer, record_version, replaces
from .store import DeadLetterRecord, Job, JobTakenOver, Progress, Taken, WebhookStore

if TYPE_CHECKING:
    from ..client import ShipStation

T = TypeVar("T")

logger = logging.getLogger("shipstation_async.webhooks")

Handler = Callable[[Notification], Awaitable[object]]
"""An async function that receives a :class:`Notification`."""


@attrs.frozen
class Route:
    """A handler and the events it is for; ``items``: shipments with their items."""

    name: str
    events: frozenset[str]
    handler: Handler
    items: bool = False

    @property
    def wants_items(self) -> bool:
        """Whether its shipments come with their items: asked for, or an ITEM_SHIP_NOTIFY handler.

        Whichever delivery or poll first brings a shipment's version is the one it is handed.
        """
        return self.items or "ITEM_SHIP_NOTIFY" in self.events


@attrs.frozen
class RetryPlan:
    """How often and how far apart a failing fetch or handler is tried again."""

    attempts: int = 8
    first_delay: float = 1.0
    max_delay: float = 300.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure."""
        return float(min(self.max_delay, self.first_delay * 2 ** (failures - 1)))


class StoreFailed(Exception):
    """A store call failed; its text is the failure's type and message, credentials out."""


MAX_PAGES = 20
"""Pages one delivery may fetch (10,000 records): a bigger batch is left to the poll."""
RECENT = 100_000
"""Versions a handler finished that this process remembers without asking the store."""

Claim = tuple[str, str]
"""A handler's name and a record's identity: what one handler call at a time may hold."""


class Dispatcher:
    """Runs jobs: see the module's docstring."""

    def __init__(
        self,
        client: ShipStation,
        store: WebhookStore,
        routes: Mapping[str, Route],
        *,
        retry: RetryPlan,
        remember: float,
        concurrency: int,
        redact: Callable[[str], str],
    ) -> None:
        self._client = client
        self._store = store
        self._routes = routes
        self._retry = retry
        self._remember = remember
        self._slots = asyncio.Semaphore(concurrency)
        self._redact = redact
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Records being handed to a handler, each set when the call holding it ends.
        self._claims: dict[Claim, asyncio.Event] = {}
        # (handler, record) -> the newest version it finished, until the store surely has it.
        self._recent: OrderedDict[Claim, str] = OrderedDict()
        self._calls = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Jobs accepted and not finished."""
        return len(self._tasks)

    def submit(self, job: Job) -> None:
        """Run ``job`` (already in the store) in a task of its own; after close, nothing.

        A job submitted after :meth:`close` stays in the store for the next start.
        """
        if self._closed or job.id in self._tasks:
            return
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"webhook-job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda done: self._finished(job.id, done))

    def _finished(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and (error := task.exception()) is not None:
            # Not a store's failure nor a handler's (those are retried): a bug of this module.
            logger.error(
                "webhook job %s stopped (it stays stored for the next start): %s",
                job_id,
                self._describe(error),
            )

    async def drain(self) -> None:
        """Wait until every job submitted so far (and any submitted meanwhile) finished."""
        while self._tasks:
            await self._idle.wait()

    async def close(self, grace: float) -> None:
        """Stop every job where it stands (the store keeps what is left, for the next start).

        Handler calls under way get ``grace`` seconds to return first.
        """
        self._closed = True
        if self._calls:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), grace)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job) -> None:
        # Handlers waiting for records another job's call holds: the claims they wait for.
        held: dict[str, list[asyncio.Event]] = {}
        while not self._closed:
            try:
                if await self._advance(job, held):
                    return
            except JobTakenOver:
                logger.warning("webhook job %s: another process runs it now", job.id)
                return
            except StoreFailed as failure:  # the job is still stored: try again
                if self._closed:
                    return  # closing: left for the next start
                logger.error("webhook job %s: store failed: %s", job.id, failure)
                await asyncio.sleep(self._retry.first_delay)

    async def _stored(self, call: Awaitable[T]) -> T:
        """The store's answer; any failure but :class:`JobTakenOver` as :class:`StoreFailed`."""
        try:
            return await call
        except JobTakenOver:
            raise
        except Exception as exc:
            raise StoreFailed(self._describe(exc)) from exc

    async def _advance(self, job: Job, held: dict[str, list[asyncio.Event]]) -> bool:
        """One step of a job: a fetch, or a round of its due handlers; True once finished."""
        if job.records is None:
            return not await self._fetch(job)
        if job.handlers is None:
            names = job.only if job.only is not None else self._route_names(job)
            # Before the handlers are set: a store failure while burying comes back here.
            await self._set_aside_unreadable(job, names)
            job.handlers = {name: Progress() for name in names}
            await self._stored(self._store.save_job(job))
        if not job.handlers:
            await self._stored(self._store.drop_job(job.id))
            return True
        runnable = {n: p for n, p in job.handlers.items() if n in self._routes}
        if not runnable:
            # Never drop work for a handler this process does not have (renamed, not yet
            # registered): the job stays stored for a process that has it.
            logger.error(
                "webhook job %s waits for handlers not registered here: %s",
                job.id,
                ", ".join(sorted(job.handlers)),
            )
            return True
        due = await _next_turn(runnable, held)
        before = {name: attrs.astuple(p) for name, p in job.handlers.items()}
        results = await asyncio.gather(
            *(self._hand_over(job, name) for name in due), return_exceptions=True
        )
        if before != {name: attrs.astuple(p) for name, p in job.handlers.items()}:
            await self._stored(self._store.save_job(job))  # only what changed is written
        for name, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            if result:
                held[name] = result
        return False

    def _route_names(self, job: Job) -> list[str]:
        if job.source == "poll":
            events = set(POLLED.get(kind_of(job), ()))
            return [r.name for r in self._routes.values() if r.events & events]
        return [r.name for r in self._routes.values() if job.resource_type in r.events]

    async def _set_aside_unreadable(self, job: Job, names: list[str]) -> None:
        """Dead-letter each record the models cannot read, for each of the handlers ``names``.

        The version is not remembered as handled: the record listed again replaces its dead
        letter (one per handler and record content), and a replay once the models read it
        hands it over. The job keeps its records until every one is buried (a store failure
        meanwhile buries them again).
        """
        assert job.records is not None
        readable, unreadable = split_readable(job.records)
        if not unreadable:
            return
        for bad in unreadable:
            error = f"unreadable record: {self._describe(bad.error)}"
            logger.error("webhook job %s: %s", job.id, error)
            for name in names:
                letter_id = letter_id_of(name, bad)
                await self._bury(
                    job, name, {bad.kind: [bad.record]}, Progress(error=error), letter_id
                )
        job.records = readable

    async def _fetch(self, job: Job) -> bool:
        """Fetch a delivery's records; False when the job ended (given up)."""
        await _sleep_until(job.fetch.next_at)
        try:
            async with self._slots:
                job.records = await self._list(job)
        except Exception as exc:
            job.fetch.attempts += 1
            job.fetch.error = self._describe(exc)
            logger.warning("webhook job %s: fetch failed: %s", job.id, job.fetch.error)
            if job.fetch.attempts >= self._retry.attempts:
                for name in job.only or self._route_names(job):
                    await self._bury(job, name, {}, job.fetch)
                await self._stored(self._store.drop_job(job.id))
                return False
            job.fetch.next_at = time.time() + self._retry.delay(job.fetch.attempts)
        await self._stored(self._store.save_job(job))
        return True

    async def _list(self, job: Job) -> dict[str, list[dict[str, Any]]]:
        """Every page of the list the delivery points at, from the client's own base_url."""
        assert job.query is not None
        kind = str(job.query["kind"])
        query = dict(job.query["filters"])
        if kind == "shipments" and self._wants_items(job):
            query["includeShipmentItems"] = True
        records: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            operation = Operation("GET", "/" + kind, query={**query, "page": page, "pageSize": 500})
            data = await self._client.request(operation, lane="bulk")
            items, pages = page_of(data, kind)
            records.extend(items)
            if not items or page >= pages:
                break
        else:
            logger.warning(
                "webhook job %s: over %d pages; the rest is left to the poll", job.id, MAX_PAGES
            )
        return {kind: records}

    def _wants_items(self, job: Job) -> bool:
        if job.resource_type == "ITEM_SHIP_NOTIFY":
            return True
        names = job.only or self._route_names(job)
        return any(self._routes[n].wants_items for n in names if n in self._routes)

    async def _hand_over(self, job: Job, name: str) -> list[asyncio.Event]:
        """One attempt of handler ``name`` on the job's records it has not handled.

        Returns the claims it waits for (records another job is handing to it): empty once
        the handler is done with the job, or failed and waits for its next attempt.
        """
        assert job.handlers is not None and job.records is not None
        progress, route = job.handlers[name], self._routes[name]
        fresh, versions, busy = await self._fresh(job.records, name)
        if not versions and not any(fresh.values()):
            return self._done_unless_busy(job, name, busy)
        claimed = [(name, ident) for ident in versions]
        self._claims.update((key, asyncio.Event()) for key in claimed)
        self._calls += 1  # until the versions are remembered: close() waits for both
        self._quiet.clear()
        try:
            # Other processes sharing the store (RedisStore) do not hand these records to
            # this handler meanwhile: until the versions are remembered, or the call failed.
            async with held_elsewhere(self._store, name, versions, self._stored) as taken:
                busy += self._leave_out(fresh, versions, taken)
                if not versions and not any(fresh.values()):
                    return self._done_unless_busy(job, name, busy)
                error = await self._attempt(job, fresh, progress.attempts + 1, route)
                if error is None:
                    await self._remember_handled(name, versions)
                    return self._done_unless_busy(job, name, busy)
        finally:
            for key in claimed:
                self._claims.pop(key).set()  # wakes the jobs waiting for these records
            self._calls -= 1
            if not self._calls:
                self._quiet.set()
        await self._failed(job, name, fresh, error)
        return []

    def _leave_out(
        self, fresh: dict[str, list[dict[str, Any]]], versions: dict[str, str], taken: Taken
    ) -> list[asyncio.Event]:
        """Leave out records another process holds or handled meanwhile (see the claims).

        Returns what wakes the handler to look at those it holds again (after a retry delay).
        """
        gone = set(taken.elsewhere)
        gone.update(i for i, v in taken.handled.items() if not is_newer(versions[i], v))
        if not gone:
            return []
        for ident in gone:
            del versions[ident]
        for kind, items in fresh.items():
            items[:] = [r for r in items if _ident(kind, r) not in gone]
        if not taken.elsewhere:
            return []
        wake = asyncio.Event()
        asyncio.get_running_loop().call_later(self._retry.first_delay, wake.set)
        return [wake]

    async def _attempt(
        self, job: Job, records: Mapping[str, list[dict[str, Any]]], attempt: int, route: Route
    ) -> str | None:
        """Read the records and call the handler; None when it returned, else what failed."""
        try:
            given = notification(job, records, attempt, route.events)
        except Exception as exc:  # set aside when the job began: the models changed since
            return f"unreadable records: {self._describe(exc)}"
        return await self._call(route, given)

    async def _failed(
        self, job: Job, name: str, records: Mapping[str, list[dict[str, Any]]], error: str
    ) -> None:
        """Count a failed attempt: try again later, or give the records to the dead letters."""
        assert job.handlers is not None
        progress = job.handlers[name]
        progress.attempts += 1
        progress.error = error
        logger.warning(
            "webhook handler %s failed (attempt %d): %s", name, progress.attempts, progress.error
        )
        if progress.attempts >= self._retry.attempts:
            await self._bury(job, name, records, progress)
            del job.handlers[name]
        else:
            progress.next_at = time.time() + self._retry.delay(progress.attempts)

    def _done_unless_busy(
        self, job: Job, name: str, busy: list[asyncio.Event]
    ) -> list[asyncio.Event]:
        """The handler is done with the job, unless records held back as busy remain."""
        assert job.handlers is not None
        if not busy:
            del job.handlers[name]
        # Else another job is handing those records to this handler: wait for it, so a
        # handler never sees two versions of a record at once (nor one out of order).
        return busy

    async def _call(self, route: Route, notification: Notification) -> str | None:
        """Run the handler; None when it returned, else what went wrong."""
        async with self._slots:
            try:
                await route.handler(notification)
                return None
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # we are being stopped
                return self._describe(exc)  # the handler cancelled itself: a failure
            except Exception as exc:
                return self._describe(exc)

    async def _remember_handled(self, name: str, versions: Mapping[str, str]) -> None:
        """Record that ``name`` handled ``versions``: at once here, and in the store."""
        for ident, version in versions.items():
            key = (name, ident)
            if replaces(version, self._recent.get(key)):
                self._recent[key] = version
            self._recent.move_to_end(key)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        failures = 0
        while True:  # the handler returned: only the store's record is left to make
            try:
                await self._store.mark_handled(name, versions, time.time() + self._remember)
                return
            except JobTakenOver:
                raise
            except Exception as exc:
                failures += 1
                logger.error(
                    "webhook store failed to record handled versions: %s", self._describe(exc)
                )
                await asyncio.sleep(self._retry.delay(failures))

    async def _fresh(
        self, records: Mapping[str, list[dict[str, Any]]], name: str
    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str], list[asyncio.Event]]:
        """The records ``name`` has neither handled nor is handling, and their versions.

        Also the claims of those held back because another job is handing them over.
        """
        identified: list[tuple[str, dict[str, Any], tuple[str, str] | None]] = [
            (kind, record, record_version(kind, record))
            for kind, items in records.items()
            for record in items
        ]
        idents = [iv[0] for _, _, iv in identified if iv is not None]
        done = await self._stored(self._store.handled(name, idents))
        # Read after the store answered: a version finished meanwhile is in _recent.
        fresh: dict[str, list[dict[str, Any]]] = {}
        versions: dict[str, str] = {}
        busy: list[asyncio.Event] = []
        for kind, record, iv in identified:
            if iv is not None:
                ident, version = iv
                known = (done.get(ident), self._recent.get((name, ident)))
                if not all(k is None or is_newer(version, k) for k in known):
                    continue
                claim = self._claims.get((name, ident))
                if claim is not None:
                    busy.append(claim)  # held back: handed over once the other job is done
                    continue
                if ident in versions and not is_newer(version, versions[ident]):
                    continue  # the same record twice in one answer
                versions[ident] = version
            fresh.setdefault(kind, []).append(record)
        return fresh, versions, busy

    async def _bury(
        self,
        job: Job,
        name: str,
        records: Mapping[str, list[dict[str, Any]]],
        progress: Progress,
        letter_id: str | None = None,
    ) -> None:
        left = attrs.evolve(
            job,
            id=uuid.uuid4().hex,
            records=dict(records) if job.records is not None else None,
            handlers=None,
            only=[name],
            fetch=Progress(attempts=progress.attempts, error=progress.error),
        )
        letter = DeadLetterRecord(
            id=letter_id or uuid.uuid4().hex, handler=name, job=left, failed_at=time.time()
        )
        await self._stored(self._store.add_dead_letter(letter))
        logger.error(
            "webhook handler %s: dead letter %s after %d attempts (%s)",
            name,
            letter.id,
            progress.attempts,
            progress.error,
        )

    def _describe(self, exc: BaseException) -> str:
        try:
            text = f"{type(exc).__name__}: {exc}"
        except Exception:  # its __str__ failed: the type still says something
            text = f"{type(exc).__name__} (its message could not be read)"
        return self._redact(text)[:1000]


async def _next_turn(
    runnable: Mapping[str, Progress], held: dict[str, list[asyncio.Event]]
) -> list[str]:
    """Wait for the first handler's turn; the handlers due then.

    A handler's turn comes at its ``next_at``, or, for one waiting for records another job's
    call holds, when one of those calls ended.
    """
    timed = [p.next_at for name, p in runnable.items() if name not in held]
    delay = max(0.0, min(timed) - time.time()) if timed else None
    waits = [claim for name in runnable if name in held for claim in held[name]]
    if waits:
        waiters = [asyncio.ensure_future(claim.wait()) for claim in waits]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
    elif delay:
        await asyncio.sleep(delay)
    now = time.time()
    due: list[str] = []
    for name, progress in runnable.items():
        if name in held:
            if any(claim.is_set() for claim in held[name]):
                del held[name]
                due.append(name)
        elif progress.next_at <= now:
            due.append(name)
    return due


def _ident(kind: str, record: Mapping[str, Any]) -> str | None:
    found = record_version(kind, record)
    return None if found is None else found[0]


async def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
