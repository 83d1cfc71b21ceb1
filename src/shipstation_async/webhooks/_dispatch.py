"""Running accepted jobs: fetch a delivery's records, hand new versions to each handler once.

Each job runs in its own task: fetch (retried with backoff), then every handler of its event
at once, each on its own schedule. A handler gets only record versions it has not handled;
one that raises gets them again after a backoff, and after its last attempt they go to the
dead letters. A version goes to a handler once it returned: the store remembers it. In this
process a version being handed to a handler is not handed to it by another job meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._sansio import Operation
from ..errors import DecodeError
from ..models import Fulfillment, Order, Shipment
from ..models.converter import converter
from ..models.webhooks import WebhookEvent
from .events import (
    FULFILLMENT_EVENTS,
    ORDER_EVENTS,
    SHIP_EVENTS,
    Notification,
    Source,
    record_version,
)
from .store import DeadLetterRecord, Job, JobTakenOver, Progress, WebhookStore

if TYPE_CHECKING:
    from ..client import ShipStation

logger = logging.getLogger("shipstation_async.webhooks")

Handler = Callable[[Notification], Awaitable[object]]
"""An async function that receives a :class:`Notification`."""

_MODELS: Mapping[str, type[Any]] = {
    "orders": Order,
    "shipments": Shipment,
    "fulfillments": Fulfillment,
}
FAMILIES: Mapping[str, tuple[WebhookEvent, ...]] = {
    "orders": ORDER_EVENTS,
    "shipments": SHIP_EVENTS,
    "fulfillments": FULFILLMENT_EVENTS,
}


@attrs.frozen
class Route:
    """A handler and the events it is for; ``items``: shipments with their items."""

    name: str
    events: frozenset[str]
    handler: Handler
    items: bool = False


@attrs.frozen
class RetryPlan:
    """How often and how far apart a failing fetch or handler is tried again."""

    attempts: int = 8
    first_delay: float = 1.0
    max_delay: float = 300.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure."""
        return float(min(self.max_delay, self.first_delay * 2 ** (failures - 1)))


MAX_PAGES = 20
"""Pages one delivery may fetch (10,000 records): a bigger batch is left to the poll."""
RECENT = 100_000
"""Versions a handler finished that this process remembers without asking the store."""
BUSY_RETRY = 0.05


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
        # (handler, record) -> the version being handed over: one call per record at a time.
        self._claims: dict[tuple[str, str], str] = {}
        # (handler, record) -> the newest version it finished, until the store surely has it.
        self._recent: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._calls = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Jobs accepted and not finished."""
        return len(self._tasks)

    def submit(self, job: Job) -> None:
        """Run ``job`` (already in the store) in a task of its own."""
        if job.id in self._tasks:
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

    async def drain(self) -> None:
        """Wait until every job submitted so far (and any submitted meanwhile) finished."""
        while self._tasks:
            await self._idle.wait()

    async def close(self, grace: float) -> None:
        """Stop every job where it stands (the store keeps what is left, for the next start).

        Handler calls under way get ``grace`` seconds to return first.
        """
        if self._calls:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), grace)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job) -> None:
        while True:
            try:
                if await self._advance(job):
                    return
            except JobTakenOver:
                logger.warning("webhook job %s: another process runs it now", job.id)
                return
            except Exception as exc:  # the store failed: try again, the job is still stored
                logger.error("webhook job %s: store failed: %s", job.id, self._describe(exc))
                await asyncio.sleep(self._retry.first_delay)

    async def _advance(self, job: Job) -> bool:
        """One step of a job: a fetch, or a round of its due handlers; True once finished."""
        if job.records is None:
            return not await self._fetch(job)
        if job.handlers is None:
            names = job.only if job.only is not None else self._route_names(job)
            job.handlers = {name: Progress() for name in names}
            await self._store.save_job(job)
        if not job.handlers:
            await self._store.drop_job(job.id)
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
        await _sleep_until(min(p.next_at for p in runnable.values()))
        now = time.time()
        due = [name for name, p in runnable.items() if p.next_at <= now]
        results = await asyncio.gather(
            *(self._hand_over(job, name) for name in due), return_exceptions=True
        )
        await self._store.save_job(job)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return False

    def _route_names(self, job: Job) -> list[str]:
        if job.source == "poll":
            family = set(FAMILIES.get(_kind_of(job), ()))
            return [r.name for r in self._routes.values() if r.events & family]
        return [r.name for r in self._routes.values() if job.resource_type in r.events]

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
                await self._store.drop_job(job.id)
                return False
            job.fetch.next_at = time.time() + self._retry.delay(job.fetch.attempts)
        await self._store.save_job(job)
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
            items, pages = _page_of(data, kind)
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
        return any(self._routes[n].items for n in names if n in self._routes)

    async def _hand_over(self, job: Job, name: str) -> None:
        """One attempt of handler ``name`` on the job's records it has not handled."""
        assert job.handlers is not None and job.records is not None
        progress, route = job.handlers[name], self._routes[name]
        fresh, versions, busy = await self._fresh(job.records, name)
        if not versions and not any(fresh.values()):
            self._done_or_later(job, name, busy)
            return
        claimed = [(name, ident) for ident in versions]
        self._claims.update((key, versions[key[1]]) for key in claimed)
        self._calls += 1  # until the versions are remembered: close() waits for both
        self._quiet.clear()
        try:
            notification = self._notification(job, fresh, progress.attempts + 1, route)
            error = await self._call(route, notification)
            if error is None:
                await self._remember_handled(name, versions)
                self._done_or_later(job, name, busy)
                return
        finally:
            for key in claimed:
                del self._claims[key]
            self._calls -= 1
            if not self._calls:
                self._quiet.set()
        progress.attempts += 1
        progress.error = error
        logger.warning(
            "webhook handler %s failed (attempt %d): %s", name, progress.attempts, progress.error
        )
        if progress.attempts >= self._retry.attempts:
            await self._bury(job, name, fresh, progress)
            del job.handlers[name]
        else:
            progress.next_at = time.time() + self._retry.delay(progress.attempts)

    def _done_or_later(self, job: Job, name: str, busy: bool) -> None:
        """The handler is done with the job, unless records held back as busy remain."""
        assert job.handlers is not None
        if busy:
            # Another job is handing those records to this handler: wait for it, so a handler
            # never sees two versions of a record at once (nor one out of order).
            job.handlers[name].next_at = time.time() + BUSY_RETRY
        else:
            del job.handlers[name]

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
            if self._recent.get(key, "") < version:
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
    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str], bool]:
        """The records ``name`` has neither handled nor is handling, and their versions.

        The flag says whether some were held back because another job is handing them over.
        """
        identified: list[tuple[str, dict[str, Any], tuple[str, str] | None]] = [
            (kind, record, record_version(kind, record))
            for kind, items in records.items()
            for record in items
        ]
        idents = [iv[0] for _, _, iv in identified if iv is not None]
        done = await self._store.handled(name, idents)
        # Read after the store answered: a version finished meanwhile is in _recent.
        fresh: dict[str, list[dict[str, Any]]] = {}
        versions: dict[str, str] = {}
        busy = False
        for kind, record, iv in identified:
            if iv is not None:
                ident, version = iv
                if version <= max(done.get(ident, ""), self._recent.get((name, ident), "")):
                    continue
                if (name, ident) in self._claims:
                    busy = True  # held back: handed over once the other job is done
                    continue
                if versions.get(ident, "") >= version:
                    continue  # the same record twice in one answer
                versions[ident] = version
            fresh.setdefault(kind, []).append(record)
        return fresh, versions, busy

    def _notification(
        self,
        job: Job,
        records: Mapping[str, list[dict[str, Any]]],
        attempt: int,
        route: Route,
    ) -> Notification:
        typed = {
            kind: tuple(converter.structure(r, _MODELS[kind]) for r in records.get(kind, ()))
            for kind in _MODELS
        }
        event = job.resource_type
        if job.source != "webhook" and event not in route.events:
            # A poll's records, told by the first event of their family this handler is for.
            family = FAMILIES.get(_kind_of(job), ())
            event = next((e for e in family if e in route.events), event)
        return Notification(
            resource_type=cast(WebhookEvent, event),
            source=cast(Source, job.source),
            resource_url=job.resource_url,
            orders=typed["orders"],
            shipments=typed["shipments"],
            fulfillments=typed["fulfillments"],
            attempt=attempt,
        )

    async def _bury(
        self,
        job: Job,
        name: str,
        records: Mapping[str, list[dict[str, Any]]],
        progress: Progress,
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
            id=uuid.uuid4().hex, handler=name, job=left, failed_at=time.time()
        )
        await self._store.add_dead_letter(letter)
        logger.error(
            "webhook handler %s gave up after %d attempts: dead letter %s",
            name,
            progress.attempts,
            letter.id,
        )

    def _describe(self, exc: BaseException) -> str:
        return self._redact(f"{type(exc).__name__}: {exc}")[:1000]


def _kind_of(job: Job) -> str:
    if job.query is not None:
        return str(job.query["kind"])
    return next(iter(job.records or {"orders": []}))


def _page_of(data: Any, kind: str) -> tuple[list[dict[str, Any]], int]:
    if isinstance(data, Mapping):
        found = next((k for k in data if isinstance(k, str) and k.lower() == kind), None)
        items = data.get(found) if found is not None else None
        pages = data.get("pages")
        if items is None:
            items = []
        if isinstance(items, list) and all(isinstance(i, Mapping) for i in items):
            count = pages if isinstance(pages, int) and not isinstance(pages, bool) else 1
            return [dict(i) for i in items], count
    elif isinstance(data, list) and all(isinstance(i, Mapping) for i in data):
        return [dict(i) for i in data], 1
    raise DecodeError(f"the answer for /{kind} is not a list of {kind}")


async def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
