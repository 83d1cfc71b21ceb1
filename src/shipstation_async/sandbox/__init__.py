"""A faithful local stand-in for ShipStation V1 that enforces its rate limit.

``Sandbox`` serves on loopback from the caller's event loop; ``ThreadedSandbox`` from its
own thread (for synchronous tests and any-loop callers); ``Faults`` injects errors, drops,
429s and latency; ``SandboxStats`` is what ``stats()`` returns; ``serve`` runs one until
cancelled. The pytest plugin (``shipstation_sandbox`` fixtures) lives in ``pytest_plugin``.

Every V1 endpoint is served (orders, shipments, products, warehouses, carriers, customers,
fulfillments, stores, users, accounts, webhooks) over one consistent seeded ``World``;
deviations from the reference are listed in each handler module's docstring, and what is
documented or guessed of the API's HTTP behaviour (typed binding of bodies, media types,
malformed and oversized bodies, the 401) in those of ``.http.binding`` and
``.http.request_body``. Seed and
inspect from Python through ``sandbox.world`` (``add_store``, ``add_order``, ...,
``get(resource, id)``, ``labels()``, ``write_counts()``) or over HTTP through the control
API under ``/__sandbox`` (see ``.http.server``). ``LabelPurchase`` is one entry of the label
ledger. ``MutationWorkload`` changes the data while clients list it (inserts, modifications,
status changes, soft deletes, shipments and a burst of orders in one second), seeded and
logged as ``Mutation`` entries (see ``.mutations``); ``World(dense_seconds=...)`` puts
runs of generated orders in one createDate second.

Webhooks: while serving, a sandbox POSTs ``{"resource_url", "resource_type"}`` to the
loopback subscriptions made on it (``POST /webhooks/subscribe``) when orders are imported and
labels bought, by ShipStation's trigger rules, with ``resource_url`` on the sandbox's own URL
(rules and guesses: ``.state.webhook_triggers``). ``WebhookDelivery`` switches delay,
drop and duplicate faults (``Sandbox(webhooks=...)``, ``sandbox.webhooks``,
``POST /__sandbox/webhooks``); ``sandbox.webhook_log()`` lists each ``WebhookEmission``
(with its ``WebhookAttempt`` s), ``world.webhook_triggers.notifications()`` each
``WebhookNotification`` the world made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .faults import FaultDecision, Faults
    from .http.server import Sandbox, SandboxOptions, SandboxStats
    from .labels import LabelPurchase
    from .mutations import Mutation, MutationKind, MutationWorkload
    from .ratewindow import Decision, RateWindow, WindowMeter
    from .standalone import serve
    from .state.products import ProductQuery
    from .state.webhook_triggers import WebhookNotification
    from .threaded import ThreadedSandbox
    from .webhook_delivery import DeliveryPlan, WebhookAttempt, WebhookDelivery, WebhookEmission
    from .world import OrderQuery, World

# Where each exported name lives. Imported on first use, so that the pytest plugin (loaded
# into every test run of a project that installs the SDK) costs no sandbox or aiohttp.web.
_EXPORTS: dict[str, str] = {
    "Decision": ".ratewindow",
    "DeliveryPlan": ".webhook_delivery",
    "FaultDecision": ".faults",
    "Faults": ".faults",
    "LabelPurchase": ".labels",
    "Mutation": ".mutations",
    "MutationKind": ".mutations",
    "MutationWorkload": ".mutations",
    "OrderQuery": ".world",
    "ProductQuery": ".state.products",
    "RateWindow": ".ratewindow",
    "Sandbox": ".http.server",
    "SandboxOptions": ".http.server",
    "SandboxStats": ".http.server",
    "ThreadedSandbox": ".threaded",
    "WebhookAttempt": ".webhook_delivery",
    "WebhookDelivery": ".webhook_delivery",
    "WebhookEmission": ".webhook_delivery",
    "WebhookNotification": ".state.webhook_triggers",
    "WindowMeter": ".ratewindow",
    "World": ".world",
    "serve": ".standalone",
}

__all__ = [
    "Decision",
    "DeliveryPlan",
    "FaultDecision",
    "Faults",
    "LabelPurchase",
    "Mutation",
    "MutationKind",
    "MutationWorkload",
    "OrderQuery",
    "ProductQuery",
    "RateWindow",
    "Sandbox",
    "SandboxOptions",
    "SandboxStats",
    "ThreadedSandbox",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEmission",
    "WebhookNotification",
    "WindowMeter",
    "World",
    "serve",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
