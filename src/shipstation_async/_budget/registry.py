"""One budget per (API, key) per process, and one waiting room per budget per event loop.

The only global state of the package: clients made one per request, one per thread or one per
``asyncio.run()`` all find the same budget here, so they spend it together.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import weakref

import yarl

from ..limits import RateLimit
from .backend import BudgetBackend
from .ledger import Ledger
from .shared import SharedLedger
from .shared_waiting import SharedWaitingRoom
from .waiting import LoopScheduler

# The logger keeps the name of the module the budget grew in: users filter on it.
_log = logging.getLogger("shipstation_async.scheduler")

_SHIPSTATION_HOST = re.compile(r"ssapi\d*\.shipstation\.com", re.IGNORECASE)
_registry: dict[tuple[str, str], Ledger] = {}
_registry_lock = threading.Lock()
_loop_schedulers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, LoopScheduler]] = (
    weakref.WeakKeyDictionary()
)


def budget_key(base_url: str, api_key: str) -> tuple[str, str]:
    """The (API, key) a request is budgeted under.

    Every ``ssapi*.shipstation.com`` host (webhooks point at numbered ``ssapiN`` hosts) is one
    API; any other base URL (the sandbox) is keyed by its host and port.
    """
    url = yarl.URL(base_url)
    host = (url.host or "").lower()
    api = "shipstation" if _SHIPSTATION_HOST.fullmatch(host) else f"{host}:{url.port}"
    return api, api_key


def ledger_for(key: tuple[str, str], rate_limit: RateLimit) -> Ledger:
    """The process-wide ledger of ``key``, created on first use.

    A later client that asks for a different plan on the same key reconfigures the shared
    ledger (one key has one plan), with a log line.
    """
    with _registry_lock:
        ledger = _registry.get(key)
        if ledger is None:
            ledger = Ledger(rate_limit, name=key[0])
            _registry[key] = ledger
            return ledger
    if ledger.rate_limit != rate_limit:
        _log.info("budget %s: rate limit reconfigured to %s", key[0], rate_limit)
        ledger.configure(rate_limit)
    return ledger


def loop_scheduler_for(budget: BudgetBackend, loop: asyncio.AbstractEventLoop) -> LoopScheduler:
    """The waiting room of ``budget`` on ``loop``, created on first use (per loop, per budget)."""
    with _registry_lock:
        per_loop = _loop_schedulers.get(loop)
        if per_loop is None:
            per_loop = {}
            _loop_schedulers[loop] = per_loop
        scheduler = per_loop.get(id(budget))
        if scheduler is None:
            if isinstance(budget, SharedLedger):
                scheduler = SharedWaitingRoom(budget, loop)
            else:
                scheduler = LoopScheduler(budget, loop)
            per_loop[id(budget)] = scheduler
        return scheduler
