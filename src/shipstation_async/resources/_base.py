"""What resource modules share: the call helper, argument checks and page decoding."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .._sansio import Lane, Operation
from .._time import require_aware
from ..errors import DecodeError, InvalidRequestError
from ..models import Page
from ..models.converter import converter

if TYPE_CHECKING:
    from ..client import ShipStation

T = TypeVar("T")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marker for "use the client's default" in per-call options such as ``max_wait``."""


class Resource:
    """Base of the resource objects hung on the client (``ss.orders``...)."""

    def __init__(self, client: ShipStation) -> None:
        self._client = client

    async def _call(
        self, operation: Operation, *, max_wait: float | None = UNSET, lane: Lane | None = None
    ) -> Any:
        return await self._client.request(operation, max_wait=max_wait, lane=lane)


def check_page(page: int, page_size: int) -> None:
    """Validate paging arguments before any request: page >= 1, page_size in 1..500."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidRequestError(f"page must be an integer >= 1, got {page!r}", field="page")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 500:
        raise InvalidRequestError(
            f"page_size must be an integer from 1 to 500 (the API's maximum), got {page_size!r}",
            field="page_size",
        )


def check_range(
    start: datetime | date | None, end: datetime | date | None, start_name: str, end_name: str
) -> None:
    """Reject naive datetimes and a range whose end precedes its start."""
    for value, name in ((start, start_name), (end, end_name)):
        if isinstance(value, datetime):
            require_aware(value, name)
    if start is None or end is None:
        return
    a = _as_instant(start)
    b = _as_instant(end)
    if b < a:
        raise InvalidRequestError(
            f"{end_name} ({end.isoformat()}) precedes {start_name} ({start.isoformat()})",
            field=end_name,
        )


def _as_instant(value: datetime | date) -> datetime:
    from .._time import PACIFIC

    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=PACIFIC)


def decode_page(data: Any, key: str, cls: type[T], *, page: int, page_size: int) -> Page[T]:
    """Read a ``{<key>: [...], total, page, pages}`` envelope into a typed :class:`Page`."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise DecodeError(f"expected an object with a {key!r} list, got {_shape(data)}")
    items = [converter.structure(item, cls) for item in data[key]]
    total = _int(data.get("total"), len(items))
    pages = _int(data.get("pages"), -(-total // page_size) if total else 0)
    return Page(items=items, total=total, page=_int(data.get("page"), page), pages=pages)


def _int(value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"expected an integer in the page envelope, got {value!r}") from None


def _shape(data: Any) -> str:
    if isinstance(data, Mapping):
        return f"an object with keys {sorted(data)[:8]}"
    return type(data).__name__
