"""Budgets shared across processes and hosts: :class:`RedisBudget` (Redis or Valkey).

By default each process keeps the budget of each API key to itself (every client, thread and
event loop of the process share it). Workers in several processes, or on several hosts, that
use one key share its budget through Redis::

    budget = RedisBudget("redis://localhost:6379/0")
    async with ShipStation(key, secret, budget=budget) as ss:
        ...

or, without code, ``SHIPSTATION_BUDGET_URL=redis://...`` in the environment makes every client
of the process use it. Needs the ``redis`` extra (``pip install shipstation-async[redis]``).
Only commands Valkey has too are used, so a Valkey URL works the same.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Literal

from ._budget.redis_store import Connections
from ._budget.shared import SharedLedger
from ._budget.shared_parts import SharedSettings
from ._redact import Secret
from ._redis_url import checked_url, cluster_option, cluster_url_fits
from .errors import ConfigurationError
from .limits import RateLimit, is_seconds

ENVIRONMENT_VARIABLE = "SHIPSTATION_BUDGET_URL"


class RedisBudget:
    """A store for API keys' budgets in Redis: every process that uses it shares each key's.

    ``url``: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS, ``unix://`` for a
    socket); it is held as a credential and never shown. ``prefix`` starts every key name
    (each key's names also hold a hash of the API key, never the key). ``lease``: seconds a
    slot whose process stopped renewing it (killed, frozen, cut off) stays held beyond W.
    ``timeout``: seconds each socket operation waits for Redis; a script call gives up after
    three of them (1.5 s by default) and the process runs on the local share.
    ``on_unavailable``: what a process does while Redis does not answer: ``"share"`` (the
    default) spends a conservative local share (the limit divided among the processes last
    seen, so that the shares never sum to more than the limit; none for a process idle for
    longer than 2 W + lease, which the others no longer count), ``"wait"`` holds its requests
    (``max_wait`` applies); either way it asks Redis again every ``retry_every`` seconds and
    shares again once it answers. ``poll``: seconds between asks while another process's
    answer decides whether a slot is free. ``cluster``: the URL names a node of a Redis (or
    Valkey) Cluster, reached with redis-py's cluster client; ``?cluster=true`` in the URL
    says the same (the way to say it in ``SHIPSTATION_BUDGET_URL``; either one turns it on).
    A cluster URL is TCP with database 0 (``redis://``, ``rediss://`` or ``valkey://``
    host:port), else ConfigurationError. Every key of one API key carries one hash tag, so
    its scripts run on the one node that serves its slot. The client starts from the node the
    URL names, and from it again after a failure: name an address that stays reachable (a
    DNS name or proxy in front of the nodes) when nodes may be replaced. A plain client
    pointed at a cluster, or a cluster client at a plain Redis, logs that it is one.
    """

    def __init__(
        self,
        url: str | Secret,
        *,
        prefix: str = "shipstation",
        lease: float = 10.0,
        timeout: float = 0.5,
        on_unavailable: Literal["share", "wait"] = "share",
        retry_every: float = 1.0,
        poll: float = 0.05,
        cluster: bool = False,
    ) -> None:
        # Set first: a repr of a half-made store must work and show no password.
        self._where, self.prefix = "?", "?"
        secret = Secret(url) if isinstance(url, str) else url
        url = ""  # a password may be in it: not a local of this frame from here on
        for name, value in (
            ("lease", lease),
            ("timeout", timeout),
            ("retry_every", retry_every),
            ("poll", poll),
        ):
            if not is_seconds(value) or value <= 0:
                raise ConfigurationError(
                    f"RedisBudget {name} must be a positive number of seconds, got {value!r}"
                )
        if on_unavailable not in ("share", "wait"):
            raise ConfigurationError(
                f"RedisBudget on_unavailable must be 'share' or 'wait', got {on_unavailable!r}"
            )
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError("RedisBudget prefix must be a non-empty name without braces")
        if not isinstance(cluster, bool):
            raise ConfigurationError(f"RedisBudget cluster must be True or False, got {cluster!r}")
        secret, self._where = checked_url(secret, "RedisBudget")
        secret, cluster_in_url = cluster_option(secret)
        self.cluster = cluster or cluster_in_url
        """Whether Redis is a Cluster (reached with redis-py's cluster client)."""
        if self.cluster and not cluster_url_fits(secret):
            raise ConfigurationError(
                "RedisBudget url with cluster: a Redis Cluster is reached over TCP and has "
                "database 0 only: redis://host:port, rediss://host:port or valkey://host:port"
            )
        self.prefix = prefix
        self.lease = float(lease)
        self.on_unavailable = on_unavailable
        self.retry_every = float(retry_every)
        self.poll = float(poll)
        self._connections = Connections(secret, timeout=float(timeout), cluster=self.cluster)
        self._ledgers: dict[tuple[str, str], SharedLedger] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        cluster = ", cluster=True" if self.cluster else ""
        return f"RedisBudget({self._where!r}, prefix={self.prefix!r}{cluster})"

    def key_names(self, key: tuple[str, str]) -> tuple[str, ...]:
        """The Redis keys of one (API, API key) budget: one hash tag, no API key in them."""
        digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:24]
        return tuple(
            f"{self.prefix}:{{{digest}}}:{part}"
            for part in ("holds", "flight", "meta", "procs", "iwait", "freed")
        )

    def _ledger_for(self, key: tuple[str, str], rate_limit: RateLimit) -> SharedLedger:
        """The handle of this process on the shared budget of ``key`` (one per key per store)."""
        with self._lock:
            ledger = self._ledgers.get(key)
            if ledger is None:
                settings = SharedSettings(
                    keys=self.key_names(key),
                    lease=self.lease,
                    on_unavailable=self.on_unavailable,
                    retry_every=self.retry_every,
                    poll=self.poll,
                )
                ledger = SharedLedger(self._connections, settings, rate_limit, name=key[0])
                self._ledgers[key] = ledger
                return ledger
        if ledger.rate_limit != rate_limit:
            ledger.configure(rate_limit)
        return ledger

    async def aclose(self) -> None:
        """Close this event loop's connections to Redis, once its writes have landed.

        Slots still in flight are then no longer renewed: Redis frees them a lease after W.
        """
        with self._lock:
            ledgers = list(self._ledgers.values())
        for ledger in ledgers:
            await ledger.flush()
            ledger.stop_heartbeat()
        await self._connections.aclose()


_from_environment: dict[str, RedisBudget] = {}
_environment_lock = threading.Lock()


def budget_from_environment() -> RedisBudget | None:
    """The process-wide :class:`RedisBudget` named by ``SHIPSTATION_BUDGET_URL``, if set."""
    # Known by a digest of the URL (it may hold a password), so a changed variable is seen.
    url = Secret(os.environ.get(ENVIRONMENT_VARIABLE, "").strip())
    if not url.reveal():
        return None
    digest = hashlib.sha256(url.reveal().encode()).hexdigest()
    with _environment_lock:
        store = _from_environment.get(digest)
        if store is None:
            store = RedisBudget(url)
            _from_environment.clear()
            _from_environment[digest] = store
        return store


__all__ = ["ENVIRONMENT_VARIABLE", "RedisBudget", "budget_from_environment"]
