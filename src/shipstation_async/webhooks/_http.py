"""The receiving end of a delivery, free of any web framework: token, size, shape (pure).

``check_token`` runs before the body is read; ``read_delivery`` turns a body into a
:class:`Delivery` or a refusal. The adapters (aiohttp, ASGI) and ``handle()`` share them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from ..models.webhooks import WebhookEvent
from .events import FULFILLMENT_EVENTS, ORDER_EVENTS, SHIP_EVENTS

EVENTS: frozenset[str] = frozenset(ORDER_EVENTS + SHIP_EVENTS + FULFILLMENT_EVENTS)
TOKEN_PARAM = "token"

Answer = tuple[int, list[tuple[str, str]], bytes]
"""A response: status, headers, body."""


def answer(status: int, message: str) -> Answer:
    """A small JSON answer; ``message`` never holds anything the caller sent."""
    body = json.dumps({"status": status, "message": message}).encode()
    return status, [("Content-Type", "application/json")], body


@attrs.frozen
class Delivery:
    """A delivery's parsed body."""

    resource_type: WebhookEvent
    resource_url: str


class Refused(Exception):
    """A delivery refused with ``status``: the message names no value it carried."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def token_of(path_qs: str) -> str | None:
    """The ``token`` query parameter of a request target, if exactly one."""
    try:
        values = [v for k, v in parse_qsl(urlsplit(path_qs).query) if k == TOKEN_PARAM]
    except ValueError:
        return None
    return values[0] if len(values) == 1 else None


def check_token(path_qs: str, accepted: Sequence[bytes]) -> bool:
    """Whether the target carries one of the accepted tokens (constant-time comparisons)."""
    given = token_of(path_qs)
    if given is None:
        return False
    raw = given.encode("utf-8", "surrogateescape")
    # Every accepted token is compared, so the time taken says nothing of which matched.
    matches = [hmac.compare_digest(raw, token) for token in accepted]
    return any(matches)


def read_delivery(body: bytes, limit: int) -> Delivery:
    """The delivery in ``body``, or :class:`Refused` (413 too large, 400 malformed)."""
    if len(body) > limit:
        raise Refused(413, f"the body is over {limit} bytes")
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body is not a JSON object")
    resource_type, resource_url = data.get("resource_type"), data.get("resource_url")
    if not isinstance(resource_type, str) or resource_type not in EVENTS:
        raise Refused(400, "resource_type is missing or not a ShipStation event")
    if not isinstance(resource_url, str) or not resource_url:
        raise Refused(400, "resource_url is missing")
    return Delivery(resource_type, resource_url)  # type: ignore[arg-type]
