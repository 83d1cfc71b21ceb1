"""The label ledger: every label bought through the API, in order."""

from __future__ import annotations

import threading
from typing import Any

from ..labels import LabelPurchase


class LabelLedger:
    """The purchases, oldest first (test labels included, flagged)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._labels: list[LabelPurchase] = []

    def __len__(self) -> int:
        """How many labels were bought."""
        with self._lock:
            return len(self._labels)

    def record(self, **fields: Any) -> LabelPurchase:
        """Append a purchase (the fields of :class:`LabelPurchase` but ``sequence``)."""
        with self._lock:
            purchase = LabelPurchase(sequence=len(self._labels) + 1, **fields)
            self._labels.append(purchase)
            return purchase

    def labels(self) -> list[LabelPurchase]:
        """Every label bought so far, oldest first."""
        with self._lock:
            return list(self._labels)
