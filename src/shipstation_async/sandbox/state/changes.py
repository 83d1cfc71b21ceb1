"""The one hook point of the state: every write emits one :class:`ChangeRecord`.

Each public write of a backend (an order created, a store deactivated, funds added, ...)
emits one record once it took effect. A write made of several (buying a label: the balance
charged, a shipment stored, the order shipped) runs inside :meth:`ChangeFeed.operation`,
which emits that operation's one record and holds back the records of the writes inside it.
So every write endpoint yields exactly one record (a batch endpoint one per record it
wrote). Subscribers (the :class:`ChangeLog`, a webhook emitter) are called synchronously,
under the world's lock, in the order the writes happened; they must not write themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs

from .._time import now_ms

Subscriber = Callable[["ChangeRecord"], None]


@attrs.frozen
class ChangeRecord:
    """One write: ``resource`` kind, the record's id, what was done, when.

    ``resource`` is a :data:`..world.Resource` name (``"orders"``, ``"stores"``, ...) or
    ``"labels"`` (a test label: a ledger entry and nothing else) or ``"accounts"``.
    ``record_id``: an int, a carrier code or a user GUID. ``at_ms``: Pacific wall-clock ms.
    """

    resource: str
    record_id: int | str
    action: str
    at_ms: int


class ChangeFeed:
    """Where the state's writes are announced; subscribe to hear of each one."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._local = threading.local()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every later record; returns the unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def emit(self, resource: str, record_id: int | str, action: str) -> None:
        """Announce one write (held back inside an :meth:`operation`)."""
        if getattr(self._local, "depth", 0):
            return
        record = ChangeRecord(resource, record_id, action, now_ms())
        for subscriber in list(self._subscribers):
            subscriber(record)

    @contextmanager
    def operation(self) -> Iterator[Callable[[str, int | str, str], None]]:
        """Group writes into one: yields ``done(resource, id, action)``, emitted at the end.

        The writes inside emit nothing; the operation emits the record given to ``done``
        (nothing if ``done`` was not called: the operation was refused). Operations nest:
        only the outermost emits.
        """
        chosen: list[tuple[str, int | str, str]] = []
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield lambda resource, record_id, action: chosen.append((resource, record_id, action))
        finally:
            self._local.depth = depth
        if chosen and not depth:
            self.emit(*chosen[-1])


class ChangeLog:
    """A subscriber that keeps every record (``records()``), oldest first."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._records: list[ChangeRecord] = []
        self._lock = threading.Lock()
        feed.subscribe(self._append)

    def _append(self, record: ChangeRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[ChangeRecord]:
        """Every record so far, oldest first."""
        with self._lock:
            return list(self._records)
