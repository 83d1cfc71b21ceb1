"""``RedisStore``: the webhook receiver's store in Redis (or Valkey), for many processes.

Needs the ``redis`` extra (``pip install shipstation-async[redis]``)::

    receiver = WebhookReceiver(ss, token=..., store=RedisStore("redis://localhost:6379/0"))

What it keeps is what :class:`~shipstation_async.webhooks.store.SQLiteStore` keeps, with the
same meaning (see :class:`~shipstation_async.webhooks.store.WebhookStore`); a delivery is
answered 200 once Redis has its job (as durable as the server's persistence settings make it).

Several receiver processes may share one store (one ``prefix`` on one Redis). Each accepted
job is stored once (its delivery key is checked and remembered in the same script that stores
it) and kept until a process finished it. Scheduling stays per process: a process runs the
jobs it accepted, and at start those no live process runs. A job belongs to the store that
accepted or took it, whose heartbeat renews a lease (``lease`` seconds); at start a store
takes the jobs without an owner, and those whose owner stopped beating for a lease (killed,
frozen, cut off), so two processes starting together never both resume one job. A start
waits for that: up to ``lease`` when an owner has just died, up to a heartbeat when owners
are alive (``receiver.start()`` at start-up keeps it off the first delivery's answer). A
clean :meth:`RedisStore.close` hands its unfinished jobs back at once. Processes that keep
running do not look for work: the jobs of a process that died wait for the next start of any
process (a supervisor's restart of it will do). A process whose lease ran out while it ran a
job (frozen longer than ``lease``) finds the job taken over at its next save:
:class:`JobTakenOver` stops it there.

Across processes a record is handed to a handler by one process at a time: a process claims
the records (handler and record) before the call, renews the claim every third of ``lease``
while the call runs, and drops it once the versions are recorded as handled (or the call
failed); another process that has the record to hand over meanwhile waits until then, and
then hands over only a version not handled. So a version is handed to a handler once, but
when a claim ran out under a call still running: a process frozen (or cut off from Redis)
for longer than ``lease``, whose call then overlaps the next one, as its job may be taken
over (:class:`JobTakenOver`). A version handled, then listed again after ``remember`` ran out,
is handed over again, as in one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .._redact import Secret
from .._redis_url import checked_url
from ..errors import ConfigurationError, ShipStationError
from ..limits import is_seconds
from . import _redis_scripts
from .store import DeadLetterRecord, Job, JobTakenOver, Taken, dump, load

try:
    import redis.asyncio
    from redis.asyncio.connection import parse_url
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as missing:  # pragma: no cover - the extra is installed where it is used
    raise ImportError(
        "RedisStore needs the redis extra: pip install 'shipstation-async[redis]'"
    ) from missing

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

T = TypeVar("T")

logger = logging.getLogger("shipstation_async.webhooks")

KEEP_MARGIN = 3600.0
"""Seconds a Redis key of remembered delivery keys or versions outlives the latest of them.

Their ``until`` are hosts' clocks: the margin covers hosts that disagree.
"""
_BATCH = 1000
_PARTS = (
    "jobs",
    "owners",
    "beats",
    "keys",
    "handled",
    "handled-until",
    "letters",
    "marks",
    "lead",
    "claims",
)
# A retried call is safe: every write is idempotent (a job is known by its id).
_RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


class WebhookStoreUnavailable(ShipStationError):
    """Redis did not answer the webhook store (connection, timeout, auth, failover).

    Its message is the failure's type only: another error's message may quote the URL.
    """


@attrs.frozen
class _Keys:
    jobs: str
    owners: str
    beats: str
    keys: str
    handled: str
    handled_until: str
    letters: str
    marks: str
    lead: str
    claims: str


@attrs.frozen
class _Connection:
    loop: asyncio.AbstractEventLoop
    client: redis.asyncio.Redis
    scripts: dict[str, AsyncScript]


class RedisStore:
    """A :class:`~shipstation_async.webhooks.store.WebhookStore` in Redis or Valkey.

    ``url``: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS, ``unix://`` for a
    socket, ``valkey://`` too); held as a credential and never shown. ``prefix``: the hash
    tag every key name starts with (``{prefix}:jobs``, ...): one Redis Cluster slot.
    ``lease``: seconds after which the jobs of a process that stopped beating (every third
    of it) may be taken by another. ``timeout``: seconds to wait for Redis on each attempt;
    ``attempts``: tries of a call before it raises :class:`WebhookStoreUnavailable`.

    Jobs, dead letters and poll marks never expire (they are accepted work, and the user's
    to drop); remembered delivery keys and handled versions go at :meth:`prune` and their
    Redis keys expire ``KEEP_MARGIN`` after the latest of them, so a store nobody uses
    any more leaves only its unfinished work behind.
    """

    def __init__(
        self,
        url: str | Secret,
        *,
        prefix: str = "shipstation-webhooks",
        lease: float = 15.0,
        timeout: float = 2.0,
        attempts: int = 3,
    ) -> None:
        # Set first: a repr of a half-made store must work and show no password.
        self._where, self.prefix = "?", "?"
        secret = Secret(url) if isinstance(url, str) else url
        url = ""  # a password may be in it: not a local of this frame from here on
        for name, value in (("lease", lease), ("timeout", timeout)):
            if not is_seconds(value) or value <= 0:
                raise ConfigurationError(
                    f"RedisStore {name} must be a positive number of seconds, got {value!r}"
                )
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigurationError("RedisStore attempts must be a positive int")
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError("RedisStore prefix must be a non-empty name without braces")
        self._url, self._where = checked_url(secret, "RedisStore")
        try:
            parse_url(self._url.reveal())
        except ValueError:
            # Not the error's text: it may quote a part of the URL.
            raise ConfigurationError(
                "RedisStore url has a database or an option redis-py cannot read"
            ) from None
        self.prefix = prefix
        self.lease = float(lease)
        self.timeout = float(timeout)
        self.attempts = attempts
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        """This store's name as the owner of the jobs it runs (unique per store object)."""
        names = self.key_names()
        self._keys = _Keys(*names)
        self._beat_every = self.lease / 3
        self._beat_ttl_ms = int(self.lease * 4 * 1000)
        self._connection: _Connection | None = None
        self._beating: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, prefix={self.prefix!r})"

    def key_names(self) -> tuple[str, ...]:
        """Every Redis key the store uses: one hash tag (the prefix), so one Cluster slot."""
        return tuple(f"{{{self.prefix}}}:{part}" for part in _PARTS)

    # -- the protocol --------------------------------------------------------------------

    async def add_job(
        self, job: Job, *, remember_until: float, mark: tuple[str, str] | None = None
    ) -> bool:
        """See :meth:`WebhookStore.add_job` (the job is this store's to run)."""
        k = self._keys
        args: list[str | float | int] = [
            job.id,
            job.key,
            job.received_at,
            remember_until,
            dump(job),
            self.owner,
            time.time(),
            KEEP_MARGIN,
            self._beat_ttl_ms,
        ]
        args.extend(["1", *mark] if mark is not None else ["0", "", ""])
        keys = [k.jobs, k.owners, k.beats, k.keys, k.marks]
        added = await self._script("ADD_JOB", keys, args)
        self._beat_soon()
        return bool(added)

    async def save_job(self, job: Job) -> None:
        """See :meth:`WebhookStore.save_job`; :class:`JobTakenOver` if another process has it."""
        keys = [self._keys.jobs, self._keys.owners]
        if await self._script("SAVE_JOB", keys, [job.id, dump(job), self.owner]) == -1:
            raise JobTakenOver(f"webhook job {job.id} is run by another process now")

    async def drop_job(self, job_id: str) -> None:
        """See :meth:`WebhookStore.drop_job`."""
        await self._script("DROP_JOB", [self._keys.jobs, self._keys.owners], [job_id])

    async def jobs(self) -> list[Job]:
        """Every unfinished job no other live process runs, taken to run in this one.

        Waits (up to ``lease``) for jobs whose owner may have just stopped: see the module.
        """
        k = self._keys
        deadline = time.monotonic() + self.lease + self._beat_every
        since = ""
        found: dict[str, str] = {}
        while True:
            args = [self.owner, self.lease, since, self._beat_ttl_ms]
            now, waiting, taken = await self._script("CLAIM", [k.jobs, k.owners, k.beats], args)
            since = since or str(now)
            found.update(zip(taken[::2], taken[1::2], strict=True))
            if not waiting or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(0.2, self._beat_every / 2))
        self._beat_soon()
        return [load(body, Job) for body in found.values()]

    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        """See :meth:`WebhookStore.handled`."""
        fields = {_field(handler, ident): ident for ident in idents}
        names = list(fields)
        if not names:
            return {}
        key = self._keys.handled

        async def read(connection: _Connection) -> list[Any]:
            pipe = connection.client.pipeline(transaction=False)
            for start in range(0, len(names), _BATCH):
                pipe.execute_command("HMGET", key, *names[start : start + _BATCH])
            return await pipe.execute()

        chunks = await self._attempt(read)
        values = [value for chunk in chunks for value in chunk]
        return {fields[n]: v for n, v in zip(names, values, strict=True) if v is not None}

    async def mark_handled(self, handler: str, versions: Mapping[str, str], until: float) -> None:
        """See :meth:`WebhookStore.mark_handled` (each version compared and set atomically)."""
        pairs = [(_field(handler, ident), version) for ident, version in versions.items()]
        keys = [self._keys.handled, self._keys.handled_until]
        for start in range(0, len(pairs), _BATCH):
            args: list[str | float] = [until, time.time(), KEEP_MARGIN]
            args.extend(word for pair in pairs[start : start + _BATCH] for word in pair)
            await self._script("MARK_HANDLED", keys, args)

    async def add_dead_letter(self, letter: DeadLetterRecord) -> None:
        """See :meth:`WebhookStore.add_dead_letter`."""
        await self._command("HSET", self._keys.letters, letter.id, dump(letter))

    async def dead_letters(self) -> list[DeadLetterRecord]:
        """See :meth:`WebhookStore.dead_letters`."""
        bodies = await self._command("HVALS", self._keys.letters)
        letters = [load(body, DeadLetterRecord) for body in bodies]
        return sorted(letters, key=lambda letter: letter.failed_at)

    async def drop_dead_letter(self, letter_id: str) -> bool:
        """See :meth:`WebhookStore.drop_dead_letter`."""
        return bool(await self._command("HDEL", self._keys.letters, letter_id))

    async def lead(self, role: str, seconds: float) -> bool:
        """See :meth:`WebhookStore.lead`: one store on this Redis holds ``role`` at a time."""
        ttl_ms = max(1, int(seconds * 1000))
        return bool(await self._script("LEAD", [self._keys.lead], [role, self.owner, ttl_ms]))

    async def mark(self, name: str) -> str | None:
        """See :meth:`WebhookStore.mark`."""
        value = await self._command("HGET", self._keys.marks, name)
        return None if value is None else str(value)

    async def prune(self, now: float) -> None:
        """See :meth:`WebhookStore.prune` (in batches: Redis is never held long)."""
        k = self._keys
        while await self._script("PRUNE", [k.keys, k.handled, k.handled_until], [now, _BATCH]):
            pass

    async def close(self) -> None:
        """Stop the heartbeat, hand this store's unfinished jobs back, close the connections."""
        if self._closed:
            return
        if self._beating is not None:
            self._beating.cancel()
            await asyncio.gather(self._beating, return_exceptions=True)
            self._beating = None
        connection = self._connection
        if connection is None or connection.loop is not asyncio.get_running_loop():
            self._closed = True
            return
        try:
            keys = [self._keys.owners, self._keys.beats, self._keys.claims]
            await self._script("RELEASE", keys, [self.owner])
        except WebhookStoreUnavailable as exc:
            # Not handed back: another process takes them a lease from now.
            logger.warning("webhook store could not hand its jobs back: %s", exc)
        finally:
            self._closed = True
            self._connection = None
            await connection.client.aclose()

    # -- claims on records being handed over (SharedClaims) -------------------------------

    @property
    def claim_seconds(self) -> float:
        """How long a claim on a record holds unless renewed: the lease."""
        return self.lease

    async def claim(self, handler: str, versions: Mapping[str, str]) -> Taken:
        """See :meth:`SharedClaims.claim` (each record's handled version read in the same step)."""
        fields = {_field(handler, ident): ident for ident in versions}
        if not fields:
            return Taken()
        args = [self.owner, int(self.lease * 1000), *fields]
        answer = await self._script("CLAIM_RECORDS", [self._keys.claims, self._keys.handled], args)
        elsewhere: set[str] = set()
        handled: dict[str, str] = {}
        for ident, busy, version in zip(fields.values(), answer[::2], answer[1::2], strict=True):
            if busy:
                elsewhere.add(ident)
            elif version:
                handled[ident] = version
        return Taken(frozenset(elsewhere), handled)

    async def renew(self, handler: str, idents: Iterable[str]) -> None:
        """See :meth:`SharedClaims.renew`."""
        fields = [_field(handler, ident) for ident in idents]
        if fields:
            args = [self.owner, int(self.lease * 1000), *fields]
            await self._script("RENEW_CLAIMS", [self._keys.claims], args)

    async def release(self, handler: str, idents: Iterable[str]) -> None:
        """See :meth:`SharedClaims.release`."""
        fields = [_field(handler, ident) for ident in idents]
        if fields:
            await self._script("RELEASE_CLAIMS", [self._keys.claims], [self.owner, *fields])

    # -- Redis ---------------------------------------------------------------------------

    async def _script(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        async def run(connection: _Connection) -> Any:
            return await connection.scripts[name](keys=list(keys), args=list(args))

        return await self._attempt(run)

    async def _command(self, *words: str) -> Any:
        async def run(connection: _Connection) -> Any:
            # redis-py leaves execute_command untyped; the commands used answer plain values.
            return await connection.client.execute_command(*words)  # type: ignore[no-untyped-call]

        return await self._attempt(run)

    async def _attempt(self, work: Callable[[_Connection], Awaitable[T]]) -> T:
        """``work`` on this loop's client, tried again on a connection failure or timeout."""
        if self._closed:
            raise WebhookStoreUnavailable("the store is closed")
        failure = ""
        for attempt in range(1, self.attempts + 1):
            try:
                return await work(self._connect())
            except _RETRYABLE as exc:
                failure = type(exc).__name__
            except RedisError as exc:  # refused (auth, a script error): trying again won't do
                raise WebhookStoreUnavailable(type(exc).__name__) from None
            if attempt < self.attempts:
                await asyncio.sleep(0.05 * 2**attempt)
        # The type only, and no chained error: a message may quote the URL.
        raise WebhookStoreUnavailable(failure)

    def _connect(self) -> _Connection:
        """The running loop's client (redis.asyncio binds a pool to the loop it ran on)."""
        loop = asyncio.get_running_loop()
        connection = self._connection
        if connection is not None and connection.loop is loop:
            return connection
        if connection is not None and not connection.loop.is_closed():
            raise ConfigurationError("a RedisStore is used from one event loop at a time")
        client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
            self._url.reveal(),
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),  # the store tries again itself (see _attempt)
        )
        scripts = {
            n: client.register_script(getattr(_redis_scripts, n)) for n in _redis_scripts.NAMES
        }
        self._connection = _Connection(loop, client, scripts)
        return self._connection

    def _beat_soon(self) -> None:
        """Keep this store's jobs leased while it lives (a task on the running loop)."""
        if self._beating is None or self._beating.done():
            self._beating = asyncio.get_running_loop().create_task(
                self._beat(), name="shipstation-webhooks-heartbeat"
            )

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._beat_every)
            try:
                await self._script("BEAT", [self._keys.beats], [self.owner, self._beat_ttl_ms])
            except WebhookStoreUnavailable as exc:
                logger.warning("webhook store heartbeat failed: %s", exc)


def _field(handler: str, ident: str) -> str:
    # The handler's length first: no handler name and identity can make another's field.
    return f"{len(handler)}:{handler}:{ident}"
