"""Real-time events: receive ShipStation's webhooks, with a polling backup that closes gaps.

``WebhookReceiver(ss, token=...)``: register async handlers with ``@receiver.on(...)``, mount
``receiver.aiohttp_app()`` or ``receiver.asgi_app()`` (or call ``receiver.handle(...)``),
subscribe with ``receiver.ensure_subscribed(url)``, and run ``receiver.poll(...)`` (or give
``poll_interval=``) as the backup. Each record version reaches each handler once it returned.
Stores: ``SQLiteStore`` (the default), ``MemoryStore`` (tests), ``RedisStore`` (several
processes on one Redis or Valkey; the ``redis`` extra).

Security: a delivery must carry the token in its URL (constant-time check, two tokens while
rotating); its ``resource_url`` is only read for which list it names, which the client then
asks of its own ``base_url`` with its own credentials, so no credential is ever sent to a
host a delivery names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._dispatch import Handler
from ._resource_url import ResourceQuery, UnsafeResourceURL, parse_resource_url
from ._subscribe import SubscriptionReport, WebhookSubscriptionError
from ._tokens import TOKEN_ENV
from .events import DeadLetter, Notification, Source
from .receiver import WebhookReceiver
from .store import JobTakenOver, MemoryStore, SQLiteStore, WebhookStore

if TYPE_CHECKING:
    from .redis_store import RedisStore, WebhookStoreUnavailable

# Imported on first use: importing the package must not import redis (an optional extra).
_LAZY: dict[str, str] = {
    "RedisStore": ".redis_store",
    "WebhookStoreUnavailable": ".redis_store",
}

__all__ = [
    "TOKEN_ENV",
    "DeadLetter",
    "Handler",
    "JobTakenOver",
    "MemoryStore",
    "Notification",
    "RedisStore",
    "ResourceQuery",
    "SQLiteStore",
    "Source",
    "SubscriptionReport",
    "UnsafeResourceURL",
    "WebhookReceiver",
    "WebhookStore",
    "WebhookStoreUnavailable",
    "WebhookSubscriptionError",
    "parse_resource_url",
]


def __getattr__(name: str) -> Any:
    """Import a lazily exported name's module on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *__all__})
