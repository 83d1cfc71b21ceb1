"""The one hook point of the state: every write emits one :class:`ChangeRecord`.

Each public write of a backend (an order created, a store deactivated, funds added, ...)
emits one record once it took effect. A write made of several (buying a label: the balance
charged, a shipment stored, the order shipped) runs inside :meth:`ChangeFeed.operation`,
which emits that operation's one record and holds back the records of the writes inside it.
So every write endpoint yields exactly one record (a batch endpoint one per record it
wrote). Subscribers (the :class:`ChangeLog`, the webhook triggers) are called synchronously,
under the world's lock, in the order the writes happened; they must not write themselves.

Writes are also grouped into *actions* (:meth:`ChangeFeed.action`): an import of several
orders (``POST /orders/createorders``, a burst of the mutation workload) is one action, any
other write its own. Each record carries its action's id, and listeners given to
:meth:`ChangeFeed.on_action_end` hear when an action that emitted records is over: that is
how the webhook triggers send one payload per import action.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs

from .._time import now_ms

Subscriber = Callable[["ChangeRecord"], None]
ActionListener = Callable[[int], None]


@attrs.frozen
class ChangeRecord:
    """One write: ``resource`` kind, the record's id, what was done, when.

    ``resource`` is a :data:`..world.Resource` name (``"orders"``, ``"stores"``, ...) or
    ``"labels"`` (a test label: a ledger entry and nothing else) or ``"accounts"``.
    ``record_id``: an int, a carrier code or a user GUID. ``at_ms``: Pacific wall-clock ms.
    ``action_id``: the :meth:`ChangeFeed.action` the write belongs to (records of one import
    share it; not part of equality).
    """

    resource: str
    record_id: int | str
    action: str
    at_ms: int
    action_id: int = attrs.field(default=0, eq=False)


class ChangeFeed:
    """Where the state's writes are announced; subscribe to hear of each one."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._action_listeners: list[ActionListener] = []
        self._local = threading.local()
        self._action_ids = itertools.count(1)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every later record; returns the unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def on_action_end(self, listener: ActionListener) -> Callable[[], None]:
        """Call ``listener(action_id)`` when an action that emitted records ends.

        Called in the thread that ran the action, after its last record's subscribers;
        returns the unsubscribe function.
        """
        self._action_listeners.append(listener)
        return lambda: self._action_listeners.remove(listener)

    def emit(self, resource: str, record_id: int | str, action: str) -> None:
        """Announce one write (held back inside an :meth:`operation`)."""
        if getattr(self._local, "depth", 0):
            return
        with self.action() as action_id:
            record = ChangeRecord(resource, record_id, action, now_ms(), action_id)
            self._local.emitted = True
            for subscriber in list(self._subscribers):
                subscriber(record)

    @contextmanager
    def action(self) -> Iterator[int]:
        """Group the writes made inside into one action (one import); yields its id.

        Actions are per thread and nest: only the outermost counts. A write made outside
        any action is an action of its own. Listeners of :meth:`on_action_end` are called
        when the outermost action ends, if it emitted a record (also when its body raised:
        the writes made before took effect).
        """
        current = getattr(self._local, "action_id", 0)
        if current:
            yield current
            return
        action_id = next(self._action_ids)
        self._local.action_id = action_id
        self._local.emitted = False
        try:
            yield action_id
        finally:
            self._local.action_id = 0
            if self._local.emitted:
                for listener in list(self._action_listeners):
                    listener(action_id)

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
