"""Webhook subscriptions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs

from ._base import Model, api_key, extra_field, raw_field

WebhookEvent = Literal[
    "ORDER_NOTIFY",
    "ITEM_ORDER_NOTIFY",
    "SHIP_NOTIFY",
    "ITEM_SHIP_NOTIFY",
    "FULFILLMENT_SHIPPED",
    "FULFILLMENT_REJECTED",
]
"""The events a webhook can subscribe to."""


_TOKEN_VALUE = re.compile(r"([?&](?:token|secret|key|signature|auth)[^=&#]*=)[^&#]*", re.IGNORECASE)


def masked_url(url: str | None) -> str:
    """The URL's repr with credential-like query values (``token=`` ...) masked."""
    if url is None:
        return "None"
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # user info is a credential too
    shown = urlunsplit(parts._replace(netloc=netloc))
    return repr(_TOKEN_VALUE.sub(r"\1***", shown))


@attrs.frozen(kw_only=True)
class Webhook(Model):
    """A webhook subscription as ``webhooks.list`` returns it (PascalCase keys on the wire).

    Its repr masks the URL's token (``?token=***``): a target URL carries a credential.
    """

    is_label_api_hook: bool | None = attrs.field(default=None, metadata=api_key("IsLabelAPIHook"))
    webhook_id: int | None = attrs.field(default=None, metadata=api_key("WebHookID"))
    seller_id: int | None = attrs.field(default=None, metadata=api_key("SellerID"))
    store_id: int | None = attrs.field(default=None, metadata=api_key("StoreID"))
    hook_type: WebhookEvent | None = attrs.field(default=None, metadata=api_key("HookType"))
    message_format: str | None = attrs.field(default=None, metadata=api_key("MessageFormat"))
    url: str | None = attrs.field(default=None, metadata=api_key("Url"), repr=masked_url)
    name: str | None = attrs.field(default=None, metadata=api_key("Name"))
    bulk_copy_batch_id: Any = attrs.field(default=None, metadata=api_key("BulkCopyBatchID"))
    bulk_copy_record_id: Any = attrs.field(default=None, metadata=api_key("BulkCopyRecordID"))
    active: bool | None = attrs.field(default=None, metadata=api_key("Active"))
    webhook_logs: Any = attrs.field(default=None, metadata=api_key("WebhookLogs"))
    seller: Any = attrs.field(default=None, metadata=api_key("Seller"))
    store: Any = attrs.field(default=None, metadata=api_key("Store"))
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class SubscribeResult(Model):
    """The answer of webhooks/subscribe: the new subscription's ``id``."""

    id: int | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
