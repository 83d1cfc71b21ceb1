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

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._dispatch import Handler
from ._resource_url import Origin, ResourceQuery, UnsafeResourceURL, parse_resource_url
from ._subscribe import SubscriptionReport, WebhookSubscriptionError
from ._tokens import TOKEN_ENV
from .events import DeadLetter, Notification, Source
from .receiver import WebhookReceiver
from .store import (
    DeadLetterRecord,
    Job,
    JobTakenOver,
    MemoryStore,
    Progress,
    SharedClaims,
    SQLiteStore,
    Taken,
    WebhookStore,
)

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
    "DeadLetterRecord",
    "Handler",
    "Job",
    "JobTakenOver",
    "MemoryStore",
    "Notification",
    "Origin",
    "Progress",
    "RedisStore",
    "ResourceQuery",
    "SQLiteStore",
    "SharedClaims",
    "Source",
    "SubscriptionReport",
    "Taken",
    "UnsafeResourceURL",
    "WebhookReceiver",
    "WebhookStore",
    "WebhookStoreUnavailable",
    "WebhookSubscriptionError",
    "parse_resource_url",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
