"""Real-time events: receive ShipStation's webhooks, with a polling backup that closes gaps.

``WebhookReceiver(ss, token=...)``: register async handlers with ``@receiver.on(...)``, mount
``receiver.aiohttp_app()`` or ``receiver.asgi_app()`` (or call ``receiver.handle(...)``),
subscribe with ``receiver.ensure_subscribed(url)``, and run ``receiver.poll(...)`` (or give
``poll_interval=``) as the backup. Each record version reaches each handler once it returned.

Security: a delivery must carry the token in its URL (constant-time check, two tokens while
rotating); its ``resource_url`` is only read for which list it names, which the client then
asks of its own ``base_url`` with its own credentials, so no credential is ever sent to a
host a delivery names.
"""

from __future__ import annotations

from ._dispatch import Handler
from ._resource_url import ResourceQuery, UnsafeResourceURL, parse_resource_url
from ._subscribe import SubscriptionReport
from .events import DeadLetter, Notification, Source
from .receiver import TOKEN_ENV, WebhookReceiver
from .store import MemoryStore, SQLiteStore, WebhookStore

__all__ = [
    "TOKEN_ENV",
    "DeadLetter",
    "Handler",
    "MemoryStore",
    "Notification",
    "ResourceQuery",
    "SQLiteStore",
    "Source",
    "SubscriptionReport",
    "UnsafeResourceURL",
    "WebhookReceiver",
    "WebhookStore",
    "parse_resource_url",
]
