"""Carriers: the connected shipping accounts and the balances labels are charged to."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from .. import normalize
from .base import Shared

JSON = dict[str, Any]

CARRIER_KEYS: tuple[str, ...] = (
    "name",
    "code",
    "accountNumber",
    "requiresFundedAccount",
    "balance",
    "nickname",
    "shippingProviderId",
    "primary",
)
"""The keys of a Carrier, as the docs' examples show them."""


class CarrierBackend:
    """The carriers by code, with their balances in cents."""

    def __init__(self, shared: Shared, carriers: dict[str, JSON], balances: dict[str, int]) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._carriers = carriers
        self._balances = balances

    def _json(self, code: str) -> JSON:
        out = copy.deepcopy(self._carriers[code])
        out["balance"] = normalize.money(self._balances[code])
        return out

    def list_carriers(self) -> list[JSON]:
        """The connected carriers with their current balances."""
        with self._lock:
            return [self._json(code) for code in self._carriers]

    def get(self, code: str) -> JSON | None:
        """One carrier by code (with its balance), or None."""
        with self._lock:
            return self._json(code) if code in self._carriers else None

    def balance(self, code: str) -> Decimal:
        """A carrier's balance in dollars (0 for an unknown carrier)."""
        with self._lock:
            return Decimal(self._balances.get(code, 0)) / 100

    def add_funds(self, code: str, cents: int) -> JSON | None:
        """Add to a carrier's balance; returns the carrier, or None if unknown."""
        with self._lock:
            if code not in self._carriers:
                return None
            self._balances[code] += cents
            self._shared.changes.emit("carriers", code, "fund")
            return self._json(code)

    def charge(self, code: str, cents: int) -> bool:
        """Take ``cents`` from a funded carrier's balance; False when it is too low.

        Carriers that need no funded account are billed elsewhere: always True.
        """
        with self._lock:
            if not self._carriers[code]["requiresFundedAccount"]:
                return True
            if self._balances[code] < cents:
                return False
            self._balances[code] -= cents
            self._shared.changes.emit("carriers", code, "charge")
            return True
