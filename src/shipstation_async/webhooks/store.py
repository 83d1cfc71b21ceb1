"""Where accepted deliveries, handled record versions, dead letters and poll marks are kept.

A delivery is answered 200 only once its job is in the store, so a store that survives a
restart (:class:`SQLiteStore`) loses no accepted delivery to a crash. :class:`MemoryStore`
is for tests and for processes that may lose in-flight work. One receiver process per store:
the store records work, the receiver in one process schedules it. Several processes share
one :class:`~shipstation_async.webhooks.redis_store.RedisStore` (the ``redis`` extra): each
runs the jobs it accepted, and at start the jobs no live process runs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

import attrs
import cattrs

from ..errors import ConfigurationError, ShipStationError
from .events import replaces

T = TypeVar("T")


class JobTakenOver(ShipStationError):
    """Another process took over a job this one held: its lease ran out while it ran it.

    A store's ``save_job`` raises it; the job stops here (the other process runs it).
    """


@attrs.define
class Progress:
    """One handler's state in a job: failed attempts so far, and when it may run next."""

    attempts: int = 0
    next_at: float = 0.0
    error: str = ""


@attrs.define
class Job:
    """Accepted work: a delivery to fetch and hand over, or records a poll found.

    ``key``: what duplicates of it share (a delivery's batch; unique for a poll).
    ``query``: for a delivery, ``{"kind": ..., "filters": {...}}`` from its resource_url;
    ``records``: the API's JSON by list name, once fetched (a poll's from the start).
    ``handlers``: the handlers still to run, by name (filled when the records are known);
    ``only``: the handlers a replay is for (None: every handler of the event).
    """

    id: str
    key: str
    resource_type: str
    source: str
    received_at: float
    resource_url: str | None = None
    query: dict[str, Any] | None = None
    records: dict[str, list[dict[str, Any]]] | None = None
    fetch: Progress = attrs.Factory(Progress)
    handlers: dict[str, Progress] | None = None
    only: list[str] | None = None


@attrs.define
class DeadLetterRecord:
    """A dead letter as stored: the job it came from, for one handler."""

    id: str
    handler: str
    job: Job
    failed_at: float


@attrs.frozen
class Taken:
    """What claiming records found: those another process holds, and the versions handled.

    ``elsewhere``: identities another process is handing to the handler now (not claimed);
    ``handled``: of the others (claimed), the version the store has as handled, if any.
    """

    elsewhere: frozenset[str] = frozenset()
    handled: Mapping[str, str] = attrs.field(factory=dict)


_converter = cattrs.Converter()


def _number(value: Any) -> float:
    # Money arrives as Decimal; up to 15 significant digits a float's repr gives it back.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dump(value: Any) -> str:
    """A store row's JSON."""
    return json.dumps(_converter.unstructure(value), separators=(",", ":"), default=_number)


def load(text: str, cls: type[T]) -> T:
    """A store row read back (fractions as Decimal, as the client reads the API's JSON)."""
    return _converter.structure(json.loads(text, parse_float=Decimal), cls)


class WebhookStore(Protocol):
    """What the receiver needs of a store. Every method is safe to call concurrently."""

    async def add_job(
        self, job: Job, *, remember_until: float, mark: tuple[str, str] | None = None
    ) -> bool:
        """Keep ``job`` unless a job with its key was added before ``remember_until`` ran out.

        True when added. ``mark``: a poll's (name, value) high-water mark, committed with it.
        """

    async def save_job(self, job: Job) -> None:
        """Write a job's progress."""

    async def drop_job(self, job_id: str) -> None:
        """Forget a finished job (its key stays remembered)."""

    async def jobs(self) -> list[Job]:
        """Every unfinished job (after a restart: the work to resume)."""

    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        """The versions ``handler`` handled of these records, by record identity."""

    async def mark_handled(self, handler: str, versions: Mapping[str, str], until: float) -> None:
        """Remember that ``handler`` handled these versions (a newer one replaces an older).

        Which replaces which: ``shipstation_async.webhooks.events.replaces`` says.
        """

    async def add_dead_letter(self, letter: DeadLetterRecord) -> None:
        """Keep a dead letter."""

    async def dead_letters(self) -> list[DeadLetterRecord]:
        """Every dead letter, oldest first."""

    async def drop_dead_letter(self, letter_id: str) -> bool:
        """Remove a dead letter; False when there is none with that id."""

    async def lead(self, role: str, seconds: float) -> bool:
        """Take or keep ``role`` (``"poller"``) for ``seconds``; False while another holds it.

        A store one process uses always says True; a shared store lets one process poll.
        """

    async def mark(self, name: str) -> str | None:
        """A poll's committed high-water mark."""

    async def prune(self, now: float) -> None:
        """Forget remembered keys and versions whose time ran out."""

    async def close(self) -> None:
        """Release what the store holds."""


@runtime_checkable
class SharedClaims(Protocol):
    """What a store several processes share adds: claims on records being handed over.

    While a process hands a record to a handler, its claim keeps other processes from handing
    the record to that handler too: they wait for it. A claim runs out ``claim_seconds`` after
    it was taken or last renewed (a process that died frees its records then). A store one
    process uses has no need of it (the dispatcher's own claims do).
    """

    @property
    def claim_seconds(self) -> float:
        """How long a claim holds unless renewed."""

    async def claim(self, handler: str, versions: Mapping[str, str]) -> Taken:
        """Claim the records (identity -> version) for ``handler``, but those another holds."""

    async def renew(self, handler: str, idents: Iterable[str]) -> None:
        """Renew this process's claims on these records."""

    async def release(self, handler: str, idents: Iterable[str]) -> None:
        """Drop this process's claims on these records."""


class MemoryStore:
    """A store in this process's memory: fast, and gone with the process (tests, dev)."""

    def __init__(self) -> None:
        self._jobs: dict[str, str] = {}
        self._keys: dict[str, float] = {}
        self._versions: dict[tuple[str, str], tuple[str, float]] = {}
        self._letters: dict[str, str] = {}
        self._marks: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._jobs)} jobs, {len(self._letters)} dead letters)"

    async def add_job(
        self, job: Job, *, remember_until: float, mark: tuple[str, str] | None = None
    ) -> bool:
        """See :meth:`WebhookStore.add_job`."""
        if self._keys.get(job.key, 0.0) > job.received_at:
            return False
        self._keys[job.key] = remember_until
        self._jobs[job.id] = dump(job)
        if mark is not None:
            self._marks[mark[0]] = mark[1]
        return True

    async def save_job(self, job: Job) -> None:
        """See :meth:`WebhookStore.save_job`."""
        if job.id in self._jobs:
            self._jobs[job.id] = dump(job)

    async def drop_job(self, job_id: str) -> None:
        """See :meth:`WebhookStore.drop_job`."""
        self._jobs.pop(job_id, None)

    async def jobs(self) -> list[Job]:
        """See :meth:`WebhookStore.jobs`."""
        return [load(text, Job) for text in self._jobs.values()]

    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        """See :meth:`WebhookStore.handled`."""
        found = {i: self._versions.get((handler, i)) for i in idents}
        return {i: v[0] for i, v in found.items() if v is not None}

    async def mark_handled(self, handler: str, versions: Mapping[str, str], until: float) -> None:
        """See :meth:`WebhookStore.mark_handled`."""
        for ident, version in versions.items():
            old = self._versions.get((handler, ident))
            if replaces(version, None if old is None else old[0]):
                self._versions[(handler, ident)] = (version, until)

    async def add_dead_letter(self, letter: DeadLetterRecord) -> None:
        """See :meth:`WebhookStore.add_dead_letter`."""
        self._letters[letter.id] = dump(letter)

    async def dead_letters(self) -> list[DeadLetterRecord]:
        """See :meth:`WebhookStore.dead_letters`."""
        letters = [load(text, DeadLetterRecord) for text in self._letters.values()]
        return sorted(letters, key=lambda letter: letter.failed_at)

    async def drop_dead_letter(self, letter_id: str) -> bool:
        """See :meth:`WebhookStore.drop_dead_letter`."""
        return self._letters.pop(letter_id, None) is not None

    async def lead(self, role: str, seconds: float) -> bool:
        """See :meth:`WebhookStore.lead` (one process: always True)."""
        return True

    async def mark(self, name: str) -> str | None:
        """See :meth:`WebhookStore.mark`."""
        return self._marks.get(name)

    async def prune(self, now: float) -> None:
        """See :meth:`WebhookStore.prune`."""
        self._keys = {k: until for k, until in self._keys.items() if until > now}
        self._versions = {k: v for k, v in self._versions.items() if v[1] > now}

    async def close(self) -> None:
        """See :meth:`WebhookStore.close`."""
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_keys (key TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS handled (
    handler TEXT NOT NULL, ident TEXT NOT NULL, version TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (handler, ident));
CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, failed_at REAL, body TEXT);
CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_Adding = tuple[Job, str, float, "tuple[str, str] | None", "asyncio.Future[bool]"]


class SQLiteStore:
    """A store in an SQLite file: what was accepted survives a crash or a restart.

    WAL journal with ``synchronous=NORMAL``: a commit survives the process being killed
    (not a power cut before the OS wrote it). One thread owns the connection, so the event
    loop never waits on the disk. One process at a time: the file is locked (``<path>.lock``)
    and a second process gets :class:`~shipstation_async.errors.ConfigurationError` (several
    workers on one store: :class:`RedisStore`).
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="shipstation-webhooks")
        self._local = threading.local()
        self._closed = False
        self._lock: IO[bytes] | None = None
        self._adding: list[_Adding] = []

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            self._lock = _exclusive(self._path.with_name(self._path.name + ".lock"))
            db = sqlite3.connect(self._path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._local.db = db
        return db

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: _transaction(self._db(), work))

    async def add_job(
        self, job: Job, *, remember_until: float, mark: tuple[str, str] | None = None
    ) -> bool:
        """See :meth:`WebhookStore.add_job`.

        Additions that arrive together commit in one transaction (a burst of deliveries
        waits for one disk write, not one each); each is decided on its own.
        """
        done = asyncio.get_running_loop().create_future()
        self._adding.append((job, dump(job), remember_until, mark, done))
        if len(self._adding) == 1:
            asyncio.get_running_loop().create_task(self._add_waiting())
        result: bool = await done
        return result

    async def _add_waiting(self) -> None:
        await asyncio.sleep(0)  # let the deliveries already arriving join this transaction
        while self._adding:
            batch, self._adding = self._adding, []
            try:
                added = await self._run(functools.partial(_add_all, batch))
            except Exception as exc:
                for entry in batch:
                    if not entry[4].done():
                        entry[4].set_exception(exc)
            else:
                for entry, result in zip(batch, added, strict=True):
                    if not entry[4].done():
                        entry[4].set_result(result)

    async def save_job(self, job: Job) -> None:
        """See :meth:`WebhookStore.save_job`."""
        body = dump(job)
        await self._run(
            lambda db: db.execute("UPDATE jobs SET body = ? WHERE id = ?", (body, job.id))
        )

    async def drop_job(self, job_id: str) -> None:
        """See :meth:`WebhookStore.drop_job`."""
        await self._run(lambda db: db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)))

    async def jobs(self) -> list[Job]:
        """See :meth:`WebhookStore.jobs`."""
        rows = await self._run(lambda db: db.execute("SELECT body FROM jobs").fetchall())
        return [load(row[0], Job) for row in rows]

    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        """See :meth:`WebhookStore.handled`."""
        wanted = list(idents)

        def read(db: sqlite3.Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = (
                    f"SELECT ident, version FROM handled WHERE handler = ? AND ident IN ({marks})"
                )
                found.update(db.execute(query, (handler, *chunk)).fetchall())
            return found

        return await self._run(read)

    async def mark_handled(self, handler: str, versions: Mapping[str, str], until: float) -> None:
        """See :meth:`WebhookStore.mark_handled`."""
        rows = [(handler, ident, version, until) for ident, version in versions.items()]

        def write(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO handled VALUES (?, ?, ?, ?) ON CONFLICT (handler, ident) DO UPDATE"
                " SET version = excluded.version, until = excluded.until"
                " WHERE excluded.version >= handled.version"
                # A fall-back hour's version ends with "~" (events.replaces): the last one wins.
                " OR excluded.version LIKE '%~' OR handled.version LIKE '%~'",
                rows,
            )

        await self._run(write)

    async def add_dead_letter(self, letter: DeadLetterRecord) -> None:
        """See :meth:`WebhookStore.add_dead_letter`."""
        row = (letter.id, letter.failed_at, dump(letter))
        await self._run(
            lambda db: db.execute("INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?)", row)
        )

    async def dead_letters(self) -> list[DeadLetterRecord]:
        """See :meth:`WebhookStore.dead_letters`."""
        query = "SELECT body FROM dead_letters ORDER BY failed_at"
        rows = await self._run(lambda db: db.execute(query).fetchall())
        return [load(row[0], DeadLetterRecord) for row in rows]

    async def drop_dead_letter(self, letter_id: str) -> bool:
        """See :meth:`WebhookStore.drop_dead_letter`."""
        query = "DELETE FROM dead_letters WHERE id = ?"
        return await self._run(lambda db: db.execute(query, (letter_id,)).rowcount > 0)

    async def lead(self, role: str, seconds: float) -> bool:
        """See :meth:`WebhookStore.lead` (one process: always True)."""
        return True

    async def mark(self, name: str) -> str | None:
        """See :meth:`WebhookStore.mark`."""
        query = "SELECT value FROM marks WHERE name = ?"
        row = await self._run(lambda db: db.execute(query, (name,)).fetchone())
        return None if row is None else str(row[0])

    async def prune(self, now: float) -> None:
        """See :meth:`WebhookStore.prune`."""

        def prune(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM delivery_keys WHERE until <= ?", (now,))
            db.execute("DELETE FROM handled WHERE until <= ?", (now,))

        await self._run(prune)

    async def close(self) -> None:
        """See :meth:`WebhookStore.close`."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            db = getattr(self._local, "db", None)
            if db is not None:
                db.close()
            if self._lock is not None:
                self._lock.close()  # releases the lock

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)


def _add_all(batch: list[_Adding], db: sqlite3.Connection) -> list[bool]:
    return [_add(db, *entry[:4]) for entry in batch]


def _add(
    db: sqlite3.Connection,
    job: Job,
    body: str,
    remember_until: float,
    mark: tuple[str, str] | None,
) -> bool:
    row = db.execute("SELECT until FROM delivery_keys WHERE key = ?", (job.key,)).fetchone()
    if row is not None and row[0] > job.received_at:
        return False
    db.execute("INSERT OR REPLACE INTO delivery_keys VALUES (?, ?)", (job.key, remember_until))
    db.execute("INSERT INTO jobs VALUES (?, ?)", (job.id, body))
    if mark is not None:
        db.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", mark)
    return True


def _exclusive(path: Path) -> IO[bytes]:
    """Hold an exclusive lock on ``path`` for as long as the returned file stays open."""
    handle = path.open("a+b")
    try:
        import fcntl  # POSIX; elsewhere the store is not guarded
    except ImportError:
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigurationError(
            f"the webhook store {path.name[:-5]!r} is used by another process: give each "
            "process its own store, or share a RedisStore"
        ) from None
    return handle


def _transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result
