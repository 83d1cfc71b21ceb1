"""Whether a label purchase's request went out, seen from the task that sends it.

The pipeline marks the watch of the running task (a context variable) when a request is
sent, and notes what was sent when the caller was cancelled with it on the wire:
``create_label_once`` uses it to know whether a dropped purchase could have acted, and a
plain purchase to remember one that ran on unseen.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

import attrs

from .errors import WriteAttempt


@attrs.define
class SendWatch:
    """Set when a request of the purchase's task went out (see :data:`SEND_WATCH`).

    ``cancelled``: what was sent when the caller was cancelled with the request out (it runs
    on, shielded; its outcome is unknown to the caller). ``on_wire``: what the request that
    went out last sent, for when its event loop ends before its answer is read.
    """

    sent: bool = False
    cancelled: WriteAttempt | None = None
    on_wire: Callable[[], WriteAttempt] | None = None


SEND_WATCH: contextvars.ContextVar[SendWatch | None] = contextvars.ContextVar(
    "shipstation_async_send_watch", default=None
)
"""The sending task's watch; the pipeline marks it when a request of the task is sent."""
