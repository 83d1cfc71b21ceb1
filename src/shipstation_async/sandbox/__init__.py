"""A faithful local stand-in for ShipStation V1 that enforces its rate limit.

``Sandbox`` serves on loopback from the caller's event loop; ``ThreadedSandbox`` from its
own thread (for synchronous tests and any-loop callers); ``Faults`` injects errors, drops,
429s and latency; ``SandboxStats`` is what ``stats()`` returns; ``serve`` runs one until
cancelled. The pytest plugin (``shipstation_sandbox`` fixtures) lives in ``pytest_plugin``.
"""

from __future__ import annotations

from .faults import Faults
from .ratewindow import Decision, RateWindow, WindowMeter
from .serve import serve
from .server import Sandbox, SandboxOptions, SandboxStats
from .threaded import ThreadedSandbox
from .world import OrderQuery, World

__all__ = [
    "Decision",
    "Faults",
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
