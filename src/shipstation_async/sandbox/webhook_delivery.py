"""How the sandbox delivers webhooks (:class:`WebhookDelivery`) and its record of them.

``WebhookDelivery`` holds the switchable faults (delay, drop, duplicate rates drawn from a
seeded random stream) and the delivery rules (timeout, retries, the loopback-only guard);
``WebhookEmission`` is one payload decided for one subscription, as
``Sandbox.webhook_log()`` and ``GET /__sandbox/webhooks/log`` report it, with its
``WebhookAttempt`` s. The delivering itself is :mod:`.http.emitter`.
"""

from __future__ import annotations

import ipaddress
import random
import threading
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigurationError
from ..limits import is_seconds

JSON = dict[str, Any]

Outcome = Literal["dropped", "refused", "pending", "delivered", "failed", "cancelled"]
"""What became of one emission (see :class:`WebhookEmission`)."""

SETTINGS: tuple[str, ...] = (
    "delay_rate",
    "max_delay",
    "drop_rate",
    "duplicate_rate",
    "seed",
    "timeout",
    "retries",
    "retry_backoff",
    "allow_remote",
)
"""The settings of :class:`WebhookDelivery`, as the control API names them."""


def _share(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or not 0 <= value <= 1:
        raise ConfigurationError(f"{attribute.name} must be a share from 0 to 1, got {value!r}")


def _seconds(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value < 0:
        raise ConfigurationError(f"{attribute.name} must be >= 0 seconds, got {value!r}")


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value <= 0:
        raise ConfigurationError(f"{attribute.name} must be > 0 seconds, got {value!r}")


def _retries(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 20:
        raise ConfigurationError(f"retries must be an integer from 0 to 20, got {value!r}")


def _flag(_: object, attribute: attrs.Attribute[Any], value: bool) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{attribute.name} must be true or false, got {value!r}")


def _seed(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigurationError(f"seed must be an integer, got {value!r}")


@attrs.frozen
class DeliveryPlan:
    """The random decisions for one emission: dropped, or one delay per copy (2: duplicated)."""

    dropped: bool
    delays: tuple[float, ...]


@attrs.define(eq=False)
class WebhookDelivery:
    """How a sandbox delivers webhooks; mutable while it serves (validated when set).

    Each emission (one payload for one subscription) draws, from ``random.Random(seed)`` in
    the order emissions are decided, always six numbers, so the same seed and the same
    sequence of writes give the same decisions whatever the rates: dropped with probability
    ``drop_rate`` (never sent, never retried); else duplicated with probability
    ``duplicate_rate`` (two independent copies); each copy delayed, with probability
    ``delay_rate``, by a uniform 0 to ``max_delay`` seconds (else sent at once). Default:
    every payload sent once, at once. The rates may be changed while serving; ``seed`` is
    fixed at creation (assign a new object, or POST settings to the control API, to restart
    the stream).

    A copy is a POST of ``{"resource_url", "resource_type"}`` that waits at most ``timeout``
    seconds for the answer; a connection failure, a timeout or a status outside 200-299
    (redirects are not followed) is retried up to ``retries`` times, after
    ``retry_backoff`` * 1, 2, 4, ... seconds. ShipStation documents no retry policy ("within
    a few minutes", at least once): this one is the sandbox's choice.

    Only loopback targets (``127.0.0.0/8``, ``::1``, ``localhost``) are delivered to; any
    other subscription's emissions are logged as ``"refused"`` and nothing is sent, unless
    ``allow_remote`` is true.
    """

    delay_rate: float = attrs.field(default=0.0, validator=_share)
    max_delay: float = attrs.field(default=10.0, validator=_seconds)
    drop_rate: float = attrs.field(default=0.0, validator=_share)
    duplicate_rate: float = attrs.field(default=0.0, validator=_share)
    seed: int = attrs.field(default=0, validator=_seed, on_setattr=attrs.setters.frozen)
    timeout: float = attrs.field(default=10.0, validator=_positive)
    retries: int = attrs.field(default=3, validator=_retries)
    retry_backoff: float = attrs.field(default=1.0, validator=_seconds)
    allow_remote: bool = attrs.field(default=False, validator=_flag)
    _rng: random.Random = attrs.field(init=False, repr=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(f"shipstation-sandbox-webhooks:{self.seed}")

    def plan(self) -> DeliveryPlan:
        """Draw the decisions for one emission (the sandbox calls this once per emission)."""
        with self._lock:
            r_drop, r_dup, r_late1, r_delay1, r_late2, r_delay2 = (
                self._rng.random() for _ in range(6)
            )
            if r_drop < self.drop_rate:
                return DeliveryPlan(True, ())
            delays = [self._delay(r_late1, r_delay1)]
            if r_dup < self.duplicate_rate:
                delays.append(self._delay(r_late2, r_delay2))
            return DeliveryPlan(False, tuple(delays))

    def _delay(self, r_late: float, r_delay: float) -> float:
        return r_delay * self.max_delay if r_late < self.delay_rate else 0.0

    def allows(self, target_url: str) -> bool:
        """Whether a subscription's target may be delivered to (see the class docstring)."""
        return self.allow_remote or is_loopback_url(target_url)

    def to_json(self) -> JSON:
        """The settings as a JSON object (the control API's form)."""
        return {name: getattr(self, name) for name in SETTINGS}

    def updated(self, changes: JSON) -> WebhookDelivery:
        """A new object with these settings changed (its random stream restarts from seed).

        Raises ConfigurationError for an unknown setting or a bad value.
        """
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise ConfigurationError(f"unknown webhook settings {unknown}; known: {SETTINGS}")
        return WebhookDelivery(**{**self.to_json(), **changes})


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) on a loopback host.

    Loopback: an address in 127.0.0.0/8, ``::1``, or the name ``localhost``. No name is
    resolved; any other name is not loopback.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_origin(url: str) -> str:
    """``scheme://host:port`` of a target URL: what the log shows of it.

    The path and query are left out: a receiver's secret token travels there.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        return "(malformed URL)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")


@attrs.frozen
class WebhookAttempt:
    """One POST of one copy: ``copy`` 0 (or 1, the duplicate), ``attempt`` from 1.

    ``status``: the HTTP status answered, 0 when none (``error`` then names the failure:
    the exception's class, e.g. ``ClientConnectorError`` or ``TimeoutError``). ``at``:
    when the POST was answered or failed, ``time.time()`` seconds.
    """

    copy: int
    attempt: int
    status: int
    error: str | None
    at: float

    def to_json(self) -> JSON:
        """The attempt as a JSON object."""
        return {
            "copy": self.copy,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "at": self.at,
        }


@attrs.frozen
class WebhookEmission:
    """One payload the sandbox decided to send to one subscription, and what became of it.

    ``sequence``: from 1, in the order decided; ``notification``: the sequence of the
    :class:`..state.webhook_triggers.WebhookNotification` it comes from (one notification
    goes to every matching subscription). ``webhook_id``, ``target`` (the subscription's
    ``scheme://host:port`` only), ``resource_type``, ``resource_url``: what was posted where.
    ``resource`` (``"orders"``, ``"shipments"``, ``"fulfillments"``), ``store_id``,
    ``batch`` (importBatch GUID, label batch id, or orderId), ``record_ids`` and
    ``versions`` (modifyDate of each order, createDate of a shipment or fulfillment, as
    the action wrote them): what it covers. ``emitted_at``: ``time.time()`` when decided.

    ``outcome``: ``"dropped"`` (a drop fault: nothing sent), ``"refused"`` (not a loopback
    target: nothing sent), ``"pending"`` (a copy waits or is being sent), ``"delivered"``
    (every copy answered 2xx), ``"failed"`` (a copy ran out of retries), ``"cancelled"`` (the
    sandbox closed before a copy was delivered). ``delays``: the delay of each copy (two:
    duplicated); ``delivered``: how many copies were answered 2xx; ``attempts``: every POST.
    """

    sequence: int
    notification: int
    webhook_id: int
    target: str
    resource_type: str
    resource_url: str
    resource: str
    store_id: int | None
    batch: str
    record_ids: tuple[int, ...]
    versions: tuple[str, ...]
    emitted_at: float
    outcome: Outcome
    delays: tuple[float, ...]
    delivered: int
    attempts: tuple[WebhookAttempt, ...]

    @property
    def dropped(self) -> bool:
        """Whether a drop fault kept it from being sent."""
        return self.outcome == "dropped"

    @property
    def duplicated(self) -> bool:
        """Whether it was sent twice (a duplicate fault)."""
        return len(self.delays) == 2

    @property
    def delayed(self) -> bool:
        """Whether a copy was held back by a delay fault."""
        return any(d > 0 for d in self.delays)

    def to_json(self) -> JSON:
        """The emission as a JSON object with camelCase keys."""
        return {
            "sequence": self.sequence,
            "notification": self.notification,
            "webhookId": self.webhook_id,
            "target": self.target,
            "resourceType": self.resource_type,
            "resourceUrl": self.resource_url,
            "resource": self.resource,
            "storeId": self.store_id,
            "batch": self.batch,
            "recordIds": list(self.record_ids),
            "versions": list(self.versions),
            "emittedAt": self.emitted_at,
            "outcome": self.outcome,
            "dropped": self.dropped,
            "duplicated": self.duplicated,
            "delayed": self.delayed,
            "delays": list(self.delays),
            "delivered": self.delivered,
            "attempts": [a.to_json() for a in self.attempts],
        }
