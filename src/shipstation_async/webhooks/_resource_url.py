"""Which ``resource_url`` a delivery may make us fetch, and what to fetch for it (pure).

A webhook delivery is unsigned: anyone who learns the target URL can post one. So a
``resource_url`` is never requested as given. It is parsed, checked against ShipStation's own
hosts (or the client's ``base_url``, the sandbox), and turned into a list query that the
client sends to its own ``base_url`` with its own credentials. A forged URL can at worst make
us list our own account's data; it can never make the credentials travel anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import SplitResult, parse_qsl, urlsplit

import attrs

from ..errors import ShipStationError

ResourceKind = Literal["orders", "shipments", "fulfillments"]

MAX_URL_LENGTH = 2048
"""ShipStation documents at most 200 characters; anything far longer is not from it."""

_SHIPSTATION_HOST = re.compile(r"ssapi[0-9]{0,3}\.shipstation\.com", re.ASCII)

# The query keys each list a notification points at may carry, by their lowercase name (the
# API reads them without case): canonical spelling and kind of value.
_KEYS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "orders": {
        "storeid": ("storeId", "id"),
        "importbatch": ("importBatch", "text"),
    },
    "shipments": {
        "storeid": ("storeId", "id"),
        "batchid": ("batchId", "id"),
        "includeshipmentitems": ("includeShipmentItems", "bool"),
        "orderid": ("orderId", "id"),
        "shipmentid": ("shipmentId", "id"),
    },
    "fulfillments": {
        "storeid": ("storeId", "id"),
        "orderid": ("orderId", "id"),
        "fulfillmentid": ("fulfillmentId", "id"),
    },
}
# A notification names what it is about: a batch or a record, by a filter the list matches
# exactly. A URL without one would list a whole account (or store) on every delivery.
_IDENTIFYING: Mapping[str, frozenset[str]] = {
    "orders": frozenset({"importBatch"}),
    "shipments": frozenset({"batchId", "shipmentId", "orderId"}),
    "fulfillments": frozenset({"fulfillmentId", "orderId"}),
}
BATCH_KEYS = frozenset({"importBatch", "batchId"})
"""Filters naming one import action or one label batch: its deliveries are duplicates."""
# Paging in the URL is ignored: every page is fetched.
_PAGING = frozenset({"page", "pagesize"})
_TEXT = re.compile(r"[A-Za-z0-9._:-]{1,100}", re.ASCII)


class UnsafeResourceURL(ShipStationError):
    """A delivery's ``resource_url`` is not one ShipStation would send: it is not followed."""


@attrs.frozen
class ResourceQuery:
    """What a ``resource_url`` asks for: one list (``kind``) and its filters (API spelling)."""

    kind: ResourceKind
    filters: Mapping[str, str | int | bool]

    def batch_key(self) -> str:
        """The key two deliveries of one import action or one label batch share."""
        parts = [self.kind] + [f"{k}={v}" for k, v in sorted(self.filters.items())]
        return "&".join(str(part) for part in parts)


@attrs.frozen
class Origin:
    """A scheme, host and port a ``resource_url`` may name besides ShipStation's hosts."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, base_url: str) -> Origin:
        """The origin of the client's ``base_url``."""
        parts = urlsplit(base_url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(scheme, (parts.hostname or "").lower(), port)


def parse_resource_url(url: object, own: Origin | None = None) -> ResourceQuery:
    """The list query a delivery's ``resource_url`` stands for, or :class:`UnsafeResourceURL`.

    Accepted: https on ``ssapi`` + up to three digits + ``.shipstation.com`` (any case, no
    trailing dot, default port), or exactly ``own``'s scheme, host and port; no user info, no
    fragment; the path ``/orders``, ``/shipments`` or ``/fulfillments``; only the query keys
    those lists take, each once, with plain values, one of them naming a batch or a record.
    The reason for a refusal names no value.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeResourceURL("resource_url is not a URL of a plausible length")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url) or "\\" in url:
        raise UnsafeResourceURL("resource_url holds characters no ShipStation URL has")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeResourceURL("resource_url cannot be parsed") from None
    _check_origin(parts, port, own)
    kind = _kind(parts.path)
    filters = _filters(kind, parts.query)
    if not _IDENTIFYING[kind] & set(filters):
        raise UnsafeResourceURL("resource_url names no batch or record: it would list everything")
    return ResourceQuery(kind, filters)


def _check_origin(parts: SplitResult, port: int | None, own: Origin | None) -> None:
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeResourceURL("resource_url carries user info")
    if parts.fragment:
        raise UnsafeResourceURL("resource_url carries a fragment")
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if own is not None and (scheme, host, port or _default_port(scheme)) == (
        own.scheme,
        own.host,
        own.port,
    ):
        return
    if scheme != "https":
        raise UnsafeResourceURL("resource_url is not https")
    if not _SHIPSTATION_HOST.fullmatch(host):
        raise UnsafeResourceURL("resource_url's host is not one of ShipStation's API hosts")
    if port not in (None, 443):
        raise UnsafeResourceURL("resource_url names a port other than https's")


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _kind(path: str) -> ResourceKind:
    # Exact paths only: no dot segments, no encoded characters, no doubled slashes.
    trimmed = path[:-1] if path.endswith("/") else path
    for kind in ("orders", "shipments", "fulfillments"):
        if trimmed.lower() == "/" + kind:
            return kind
    raise UnsafeResourceURL("resource_url's path is not a list a notification points at")


def _filters(kind: str, query: str) -> dict[str, str | int | bool]:
    allowed = _KEYS[kind]
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise UnsafeResourceURL("resource_url's query cannot be parsed") from None
    filters: dict[str, str | int | bool] = {}
    for raw_key, value in pairs:
        key = raw_key.lower()
        if key in _PAGING:
            continue
        if key not in allowed:
            raise UnsafeResourceURL(f"resource_url's query has a key {kind} does not take")
        name, shape = allowed[key]
        if name in filters:
            raise UnsafeResourceURL("resource_url's query repeats a key")
        filters[name] = _value(shape, value)
    return filters


def _value(shape: str, value: str) -> str | int | bool:
    if shape == "bool":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif shape == "id":
        if value.isdigit() and 0 < len(value) <= 18:
            return int(value)
    elif _TEXT.fullmatch(value):
        return value
    raise UnsafeResourceURL("resource_url's query has a value of an unexpected shape")
