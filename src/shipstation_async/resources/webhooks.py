"""``ss.webhooks``: subscribe to ShipStation's event notifications."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Unpack

import attrs

from .._redact import Secret
from .._sansio import Operation, Safety
from ..errors import APIError, InvalidRequestError
from ..models import SubscribeResult, SuccessResult, Webhook
from ..models.webhooks import WebhookEvent
from ._base import (
    CallOptions,
    Resource,
    check_choice,
    check_id,
    check_text,
    structure_list,
    success,
)

_EVENTS = frozenset(WebhookEvent.__args__)  # type: ignore[attr-defined]


class Webhooks(Resource):
    """Webhook subscriptions: list, subscribe, unsubscribe (edits only in the web UI)."""

    async def list(self, **options: Unpack[CallOptions]) -> builtins.list[Webhook]:
        """Every subscription; accepts ``{"webhooks": [...]}`` and a bare array alike."""
        data = await self._call(Operation("GET", "/webhooks"), options)
        return structure_list(data, Webhook, key="webhooks")

    async def subscribe(
        self,
        target_url: str | Secret,
        event: WebhookEvent,
        *,
        store_id: int | None = None,
        friendly_name: str | None = None,
        **options: Unpack[CallOptions],
    ) -> SubscribeResult:
        """Subscribe ``target_url`` to ``event`` (POST /webhooks/subscribe); returns its id.

        A URL that carries a secret (a webhook token) may come as a
        :class:`~shipstation_async.Secret`: it is then shown in no repr, log or
        traceback's frame, only sent. Not idempotent: whether ShipStation rejects duplicates
        is undocumented, so an ambiguous failure is raised; check ``list()`` before
        subscribing again.
        """
        url = HiddenText.of(target_url) if isinstance(target_url, Secret) else target_url
        if not check_text(url, "target_url").startswith(("https://", "http://")):
            raise InvalidRequestError("target_url must be an http(s) URL", field="target_url")
        check_choice(event, _EVENTS, "event")
        body: dict[str, object] = {"target_url": url, "event": event}
        if store_id is not None:
            body["store_id"] = check_id(store_id, "store_id")
        if friendly_name is not None:
            body["friendly_name"] = friendly_name
        operation = Operation(
            "POST", "/webhooks/subscribe", body=body, safety=Safety.NON_IDEMPOTENT
        )
        result = await self._model(operation, SubscribeResult, options)
        if result.id is None:  # also documented as {"WebHookID": 1, "HookType": ..., ...}
            found = webhook_id(result.extra)
            result = attrs.evolve(result, id=found) if found is not None else result
        return result

    async def unsubscribe(self, webhook_id: int, **options: Unpack[CallOptions]) -> SuccessResult:
        """Remove a subscription (DELETE /webhooks/{webhookId}); a 404 on a retry counts as done."""
        check_id(webhook_id, "webhook_id")
        operation = Operation("DELETE", f"/webhooks/{webhook_id}", recover=_gone)
        return success(await self._call(operation, options))


class HiddenText(str):
    """Text sent as it is (JSON writes a str's characters) that shows as ``[redacted]``.

    A secret in a request body, held this way, stays out of the reprs of the body and of the
    operation that carries it, and so out of tracebacks' frame locals.
    """

    __slots__ = ()

    @classmethod
    def of(cls, secret: Secret) -> HiddenText:
        """The secret's text, hidden."""
        return cls(secret.reveal())

    def __repr__(self) -> str:
        return "'[redacted]'"

    def __str__(self) -> str:
        return "[redacted]"


def webhook_id(extra: Mapping[str, Any]) -> int | None:
    """A subscription's id under its other documented name (``WebHookID``), if present."""
    for key, value in extra.items():
        if key.lower() == "webhookid" and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _gone(error: APIError) -> SuccessResult | None:
    if error.status == 404:
        return SuccessResult(success=True, message="Already removed (an earlier attempt did it).")
    return None
