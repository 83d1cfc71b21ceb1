"""Where a backfill writes records: a JSONL file (the default) or an async callback."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .._raw_records import json_lines, json_texts
from ..errors import ConfigurationError
from ._threads import finish_in_thread


class Sink(Protocol):
    """A destination for records. ``write`` returns the new committed offset."""

    def open(self, offset: int) -> None:
        """Prepare to write, discarding anything past ``offset`` (a resumed run)."""

    async def write(self, records: Sequence[dict[str, Any]]) -> int:
        """Durably store ``records`` and return the offset after them."""

    def close(self) -> None:
        """Release the destination."""


class JsonlSink:
    """One record per line: the API's JSON as received (its keys, values and numbers as spelt).

    A record read with its bytes kept (:class:`~shipstation_async.streams.RawRecord`, as the
    backfill reads for this sink) is written as those bytes; a dict is written compact, each
    number with its own digits.

    Lines are appended and fsynced per batch, in a worker thread: the event loop (and the
    interactive calls sharing it) carries on while a slow disk syncs. A resumed run truncates
    the file back to the offset the checkpoint committed, so a record is never written twice.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: Any = None

    def open(self, offset: int) -> None:
        """Open for appending, cut back to ``offset``.

        A file shorter than ``offset`` (deleted or cut since the checkpoint committed it) has
        lost records the checkpoint counts as written: that is a :class:`ConfigurationError`,
        not a file padded out to the offset.
        """
        size = self.path.stat().st_size if self.path.exists() else 0
        if size < offset:
            raise ConfigurationError(
                f"{self.path} holds {size} bytes but its checkpoint committed {offset}: records "
                "written before were lost since; remove the checkpoint to start over"
            )
        mode = "r+b" if self.path.exists() else "w+b"
        self._file = open(self.path, mode)  # noqa: SIM115 - kept open across batches
        self._file.truncate(offset)
        self._file.seek(offset)

    async def write(self, records: Sequence[dict[str, Any]]) -> int:
        """Append the records and fsync; returns the file offset after them.

        In a worker thread; a cancellation waits for it, so the file is never closed under a
        write.
        """
        return await finish_in_thread(self._append, records)

    def _append(self, records: Sequence[dict[str, Any]]) -> int:
        if records:
            data = json_lines(records)
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())
        return int(self._file.tell())

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


class CallbackSink:
    """Hands each batch to an async callback; the offset is the count of records handed over.

    The callback must be idempotent by id (a batch being written when the process died is
    handed over again on resume).
    """

    def __init__(self, callback: Callable[[Sequence[dict[str, Any]]], Awaitable[None]]) -> None:
        self._callback = callback
        self._offset = 0

    def open(self, offset: int) -> None:
        """Continue counting from ``offset``."""
        self._offset = offset

    async def write(self, records: Sequence[dict[str, Any]]) -> int:
        """Await the callback with the batch."""
        if records:
            await self._callback(records)
        self._offset += len(records)
        return self._offset

    def close(self) -> None:
        """Nothing to release."""


class SqliteSink:
    """Records upserted by id into a table of a SQLite file, as (id, json) rows.

    The backfill keeps its checkpoint in the same file and writes each batch and its
    checkpoint in one transaction, so the table and the cursors can never disagree.
    """

    def __init__(self, path: str | Path, table: str, id_key: str) -> None:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"table must be a plain name, got {table!r}")
        self.path = Path(path)
        self.table = table
        self.id_key = id_key
        self._count = 0

    def rows(self, records: Sequence[dict[str, Any]]) -> tuple[str, list[tuple[str, str]]]:
        """The batch as (table, [(id, json), ...]) for the checkpoint's transaction.

        A record without ``id_key`` is a :class:`ConfigurationError` (a misspelt key would
        otherwise key every row as "None", each record replacing the one before).
        """
        ids = []
        for record in records:
            value = record.get(self.id_key)
            if value is None:
                found = sorted(k for k in record if isinstance(k, str) and k.endswith("Id"))
                raise ConfigurationError(
                    f"SqliteSink: a record has no {self.id_key!r} to key its row by (its ids: "
                    f"{', '.join(found) or 'none'}); give the key the records carry"
                )
            ids.append(str(value))
        return self.table, list(zip(ids, json_texts(records), strict=True))

    def open(self, offset: int) -> None:
        """Continue counting from ``offset`` (records committed so far)."""
        self._count = offset

    async def write(self, records: Sequence[dict[str, Any]]) -> int:
        """Count the batch; the rows themselves are written with the checkpoint."""
        self._count += len(records)
        return self._count

    def close(self) -> None:
        """Nothing to release: the checkpoint owns the connection."""
