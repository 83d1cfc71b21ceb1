"""A faithful local stand-in for ShipStation V1 that enforces its rate limit.

``Sandbox`` serves on loopback from the caller's event loop; ``ThreadedSandbox`` from its
own thread (for synchronous tests and any-loop callers); ``Faults`` injects errors, drops,
429s and latency; ``SandboxStats`` is what ``stats()`` returns; ``serve`` runs one until
cancelled. The pytest plugin (``shipstation_sandbox`` fixtures) lives in ``pytest_plugin``.

Every V1 endpoint is served (orders, shipments, products, warehouses, carriers, customers,
fulfillments, stores, users, accounts, webhooks) over one consistent seeded ``World``;
deviations from the reference are listed in each handler module's docstring. Seed and
inspect from Python through ``sandbox.world`` (``add_store``, ``add_order``, ...,
``get(resource, id)``, ``labels()``, ``write_counts()``) or over HTTP through the control
API under ``/__sandbox`` (see :mod:`.server`). ``LabelPurchase`` is one entry of the label
ledger. ``MutationWorkload`` changes the data while clients list it (inserts, modifications,
status changes, soft deletes, shipments and a burst of orders in one second), seeded and
logged as ``Mutation`` entries (see :mod:`.mutations`); ``World(dense_seconds=...)`` puts
runs of generated orders in one createDate second.
"""

from __future__ import annotations

from .faults import Faults
from .labels import LabelPurchase
from .mutations import Mutation, MutationKind, MutationWorkload
from .ratewindow import Decision, RateWindow, WindowMeter
from .serve import serve
from .server import Sandbox, SandboxOptions, SandboxStats
from .threaded import ThreadedSandbox
from .world import OrderQuery, World

__all__ = [
    "Decision",
    "Faults",
    "LabelPurchase",
    "Mutation",
    "MutationKind",
    "MutationWorkload",
    "OrderQuery",
    "RateWindow",
    "Sandbox",
    "SandboxOptions",
    "SandboxStats",
    "ThreadedSandbox",
    "WindowMeter",
    "World",
    "serve",
]
