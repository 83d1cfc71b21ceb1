"""The backfill's checkpoint: one SQLite file, and the lock that lets one run at a time use it.

It holds the walk's parts, their cursors and the sink's committed offset, all changed in one
transaction per batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

import attrs

from ..errors import ConfigurationError
from ..streams import SubRange

if sys.platform == "win32":  # pragma: no cover - no flock there
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    resource TEXT NOT NULL,
    query TEXT NOT NULL,
    t0 TEXT,
    sink_offset INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    expected INTEGER
);
CREATE TABLE IF NOT EXISTS sync (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    high_water TEXT NOT NULL,
    band TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS band (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS part (
    idx INTEGER PRIMARY KEY,
    cursor TEXT NOT NULL,
    end_key TEXT NOT NULL,
    inclusive INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
"""


_TABLES = frozenset({"run", "sync", "band", "part"})


def checkpoint_beside(output: str | Path) -> Path:
    """Where the checkpoint of a file output lives by default: ``<output>.checkpoint.sqlite``."""
    return Path(f"{output}.checkpoint.sqlite")


class BackfillRunning(ConfigurationError):
    """Another run (of this process or another) is using the same checkpoint and output.

    Two runs at once would both append to the output and commit into one checkpoint: the
    second is refused before it opens either. The lock goes when the first run ends or its
    process dies.
    """


def lock_beside(checkpoint: str | Path) -> Path:
    """The lock file a run holds beside its checkpoint: ``<checkpoint>.lock``."""
    return Path(f"{checkpoint}.lock")


@contextlib.contextmanager
def run_lock(checkpoint: str | Path) -> Iterator[None]:
    """Hold the checkpoint's lock for a run, or raise :class:`BackfillRunning` at once.

    An exclusive ``flock`` on :func:`lock_beside`: the system releases it when the process
    dies, even by SIGKILL, so a killed run never leaves its output locked. The file holds the
    holder's process id (for the error) and is removed when the run ends.
    """
    # Beside the file itself: the same checkpoint reached through a link takes the same lock.
    path = lock_beside(Path(checkpoint).resolve())
    file = _locked(path, checkpoint)
    try:
        file.truncate(0)
        file.write(str(os.getpid()).encode())
        file.flush()
        yield
    finally:
        # Removed while still locked: a run that locks this file after it is gone sees that
        # and locks the next one (see _locked).
        with contextlib.suppress(OSError):  # Windows: an open file cannot be removed
            path.unlink()
        file.close()


def _locked(path: Path, checkpoint: str | Path) -> IO[bytes]:
    """``path`` opened and locked: the file at that path when the lock was taken."""
    while True:
        try:
            file = open(path, "a+b")  # noqa: SIM115 - held open for the whole run
        except OSError as exc:  # a read-only folder, say: the checkpoint could not be written
            raise ConfigurationError(
                f"cannot make the run lock {path} beside the checkpoint: {exc.strerror}"
            ) from None
        file.seek(0)
        if not _try_lock(file.fileno()):
            holder = _holder(file)
            file.close()
            raise BackfillRunning(
                f"another backfill is running with the checkpoint {checkpoint}"
                f"{holder}: wait for it to finish or stop it; two runs at once would "
                "corrupt the output"
            )
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(file.fileno()), current):
            return file
        file.close()  # the run before removed it between our open and our lock: again


def _holder(file: IO[bytes]) -> str:
    """`` (process N)`` of the run holding the lock, when its file says."""
    with contextlib.suppress(OSError, ValueError):
        return f" (process {int(file.read(20))})"
    return ""


def unaccounted_data(output: str | Path, checkpoint: str | Path) -> bool:
    """Whether ``output`` holds data that no backfill checkpoint says it wrote.

    Such a file is someone else's: a backfill never writes to it. An empty one (what a first
    run that failed before its first batch leaves) does not count.
    """
    path = Path(output)
    return path.exists() and path.stat().st_size > 0 and not holds_output(checkpoint)


@attrs.define
class Saved:
    """A run's saved state: what it walks, its parts and how much of the sink is committed.

    ``expected``: the ``records`` count the run should reach when it ends, when its first
    request counted every record (None otherwise): a resumed run's progress rests on it.
    """

    resource: str
    query: dict[str, object]
    t0: datetime | None
    parts: list[SubRange]
    sink_offset: int
    records: int
    expected: int | None = None


def holds_output(path: str | Path) -> bool:
    """Whether ``path`` holds a started run or other data, read without changing the file.

    A checkpoint whose first run failed before its plan was saved holds nothing. Any other
    database (a SQLite sink's table, someone's own tables), or a file that is not a
    database, counts as output that must not be touched.
    """
    path = Path(path)
    if not path.exists():
        return False
    try:
        with _read_only(path) as db:
            tables = _tables(db)
            if tables - _TABLES:
                return True
            return "run" in tables and db.execute("SELECT 1 FROM run").fetchone() is not None
    except sqlite3.Error:
        return True


def read_run(path: str | Path) -> Saved | None:
    """The run a checkpoint holds, read without changing the file (None: none, or no file).

    Raises sqlite3.Error when the file is not a database.
    """
    path = Path(path)
    if not path.exists():
        return None
    with _read_only(path) as db:
        return _saved_run(db) if "run" in _tables(db) else None


def _read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    # A checkpoint is a WAL database: opened with mode=ro, SQLite creates -wal and -shm files
    # beside it, and leaves them. With no journal beside it (no run writing, none killed
    # mid-way) the whole database is in the file: read it as immutable, which creates none.
    path = path.resolve()  # SQLite keeps the journal beside the file a link points to
    journals = (Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    mode = "ro" if any(journals) else "ro&immutable=1"
    uri = path.as_uri() + f"?mode={mode}"
    return contextlib.closing(sqlite3.connect(uri, uri=True))


def _tables(db: sqlite3.Connection) -> set[str]:
    """The tables of a database: not its indexes (a TEXT primary key has one), not SQLite's.

    Only SQLite may name a table ``sqlite_...``: such a table is its own, not data.
    """
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        r"AND name NOT LIKE 'sqlite\_%' ESCAPE '\'"
    )
    return {name for (name,) in rows}


def _saved_run(db: sqlite3.Connection) -> Saved | None:
    # A checkpoint written before the expected count was kept has no such column.
    columns = {row[1] for row in db.execute("PRAGMA table_info(run)")}
    expected = "expected" if "expected" in columns else "NULL"
    row = db.execute(
        f"SELECT resource, query, t0, sink_offset, records, {expected} FROM run WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    parts = [
        SubRange(cursor, end, inclusive=bool(inclusive), done=bool(done))
        for cursor, end, inclusive, done in db.execute(
            "SELECT cursor, end_key, inclusive, done FROM part ORDER BY idx"
        )
    ]
    return Saved(
        resource=row[0],
        query=json.loads(row[1]),
        t0=None if row[2] is None else datetime.fromisoformat(row[2]),
        parts=parts,
        sink_offset=int(row[3]),
        records=int(row[4]),
        expected=None if row[5] is None else int(row[5]),
    )


def remove_checkpoint(path: str | Path) -> None:
    """Delete a checkpoint file and the journal files SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class CheckpointStore:
    """Reads and writes a backfill's checkpoint (SQLite, synchronous writes).

    Used by one task at a time; the engine runs :meth:`commit` (a batch's fsync) in a worker
    thread, hence a connection not tied to the thread that opened it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit survives power loss
        self._db.executescript(_SCHEMA)
        if "expected" not in {row[1] for row in self._db.execute("PRAGMA table_info(run)")}:
            self._db.execute("ALTER TABLE run ADD COLUMN expected INTEGER")  # an older file

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def load(self) -> Saved | None:
        """The saved run, or None when this checkpoint is new."""
        return _saved_run(self._db)

    def start(
        self,
        resource: str,
        query: dict[str, object],
        t0: datetime | None,
        parts: list[SubRange],
        sink_offset: int = 0,
        records: int = 0,
        expected: int | None = None,
        discard: str | None = None,
        start_over: bool = False,
    ) -> None:
        """Record a new run's plan, replacing the previous run's.

        An incremental run keeps appending after ``sink_offset``, its ``records`` counted on
        from the earlier runs'. ``expected``: see :class:`Saved`. ``discard``: a table of rows
        (a SQLite sink's) emptied in the same transaction, when the run starts over.
        ``start_over``: the incremental sync's mark and band go too (the run lists from its
        start again).
        """
        with self._transaction():
            self._forget_run(discard, start_over)
            self._db.execute(
                "INSERT INTO run (id, resource, query, t0, sink_offset, records, expected) "
                "VALUES (1, ?, ?, ?, ?, ?, ?)",
                (
                    resource,
                    json.dumps(query, sort_keys=True, default=str),
                    None if t0 is None else t0.isoformat(),
                    sink_offset,
                    records,
                    expected,
                ),
            )
            self._db.executemany(
                "INSERT INTO part (idx, cursor, end_key, inclusive, done) VALUES (?, ?, ?, ?, ?)",
                [(i, p.cursor, p.end, int(p.inclusive), int(p.done)) for i, p in enumerate(parts)],
            )

    def clear(self, discard: str | None = None) -> None:
        """Forget everything saved (the run, the incremental sync's mark), as if new.

        For a run that started over and found nothing to plan. ``discard``: as in
        :meth:`start`.
        """
        with self._transaction():
            self._forget_run(discard, start_over=True)

    def _forget_run(self, discard: str | None, start_over: bool) -> None:
        self._db.execute("DELETE FROM run")
        self._db.execute("DELETE FROM part")
        self._db.execute("DELETE FROM band")
        if start_over:
            self._db.execute("DELETE FROM sync")
        if discard is not None and discard in _tables(self._db):
            self._db.execute(f'DELETE FROM "{discard}"')

    def commit(
        self,
        part: int,
        cursor: str,
        done: bool,
        sink_offset: int,
        records: int,
        rows: tuple[str, list[tuple[str, str]]] | None = None,
        band: Sequence[tuple[str, str]] = (),
    ) -> None:
        """After the sink holds a batch: its part's new cursor and the sink's new offset.

        ``rows`` (a table and its (id, json) rows) are upserted in the same transaction: the
        SQLite sink's data and the checkpoint commit together. ``band``: the (id, modifyDate)
        of the batch's records an incremental run's next run must not append again.
        """
        with self._transaction():
            self._db.executemany(
                "INSERT INTO band (id, modified) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET modified = excluded.modified",
                band,
            )
            if rows is not None:
                table, values = rows
                self._db.execute(
                    f'CREATE TABLE IF NOT EXISTS "{table}" '
                    "(id TEXT PRIMARY KEY, json TEXT NOT NULL)"
                )
                self._db.executemany(
                    f'INSERT INTO "{table}" (id, json) VALUES (?, ?) '
                    "ON CONFLICT(id) DO UPDATE SET json = excluded.json",
                    values,
                )
            self._db.execute(
                "UPDATE part SET cursor = ?, done = ? WHERE idx = ?", (cursor, int(done), part)
            )
            self._db.execute(
                "UPDATE run SET sink_offset = ?, records = records + ? WHERE id = 1",
                (sink_offset, records),
            )

    def split(self, part: int, end: str, new_index: int, new_part: SubRange) -> None:
        """Record that ``part`` now ends at ``end`` and the rest is part ``new_index``."""
        with self._transaction():
            self._db.execute(
                "UPDATE part SET end_key = ?, inclusive = 0 WHERE idx = ?", (end, part)
            )
            self._db.execute(
                "INSERT INTO part (idx, cursor, end_key, inclusive, done) VALUES (?, ?, ?, ?, ?)",
                (new_index, new_part.cursor, new_part.end, int(new_part.inclusive), 0),
            )

    def load_sync(self) -> tuple[datetime | None, dict[str, str]]:
        """The incremental sync's high-water mark and its overlap band (id -> modifyDate)."""
        row = self._db.execute("SELECT high_water, band FROM sync WHERE id = 1").fetchone()
        if row is None:
            return None, {}
        return datetime.fromisoformat(row[0]), dict(json.loads(row[1]))

    def load_run_band(self) -> dict[str, str]:
        """The overlap band this incremental run has committed so far (id -> modifyDate)."""
        return dict(self._db.execute("SELECT id, modified FROM band").fetchall())

    def save_sync(self, high_water: datetime, band: dict[str, str]) -> None:
        """Record a finished incremental run's high-water mark and overlap band."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO sync (id, high_water, band) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET high_water = excluded.high_water, "
                "band = excluded.band",
                (high_water.isoformat(), json.dumps(band)),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
