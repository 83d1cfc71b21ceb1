"""What resource modules share: the call helper, argument checks, bodies and page decoding."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast, get_args

import attrs

from .._arguments import check_mapping_as, checked
from .._intents import (
    INTENTS,
    Key,
    one_at_a_time,
    purchase_intent,
    purchase_key,
    remember_cancelled,
)
from .._sansio import Lane, Operation, Safety
from .._send_watch import SEND_WATCH, SendWatch
from .._time import as_instant, require_aware, sent_wall
from ..errors import (
    AmbiguousRequestError,
    DecodeError,
    InvalidRequestError,
)
from ..limits import is_count
from ..models import Label, Page, SuccessResult
from ..models.converter import converter, structure_records, wire_keys
from ..models.types import Confirmation, DimensionUnits, WeightUnits

if TYPE_CHECKING:
    from ..client import ShipStation

T = TypeVar("T")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marker for "use the client's default" (``max_wait``)."""


class CallOptions(TypedDict, total=False):
    """Per-call scheduling options accepted by every resource method.

    ``max_wait``: seconds this call may wait for a budget slot (None: no limit), overriding the
    client's default; ``lane``: ``"interactive"`` (default for single calls) or ``"bulk"``.
    """

    max_wait: float | None
    lane: Lane


def choices(literal: Any) -> frozenset[str]:
    """The values of a ``Literal`` type (the one list of an enumeration), as a set."""
    return frozenset(get_args(literal))


CONFIRMATIONS = choices(Confirmation)
"""The delivery confirmation options a label or rate request may ask for."""


class Resource:
    """Base of the resource objects hung on the client (``ss.orders``...).

    Every public method of a resource has its arguments checked against its annotations
    before it runs (``.._arguments``), the ``TypedDict`` of ``**options`` included.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(value):
                setattr(cls, name, checked(value))

    max_range_days: int | None = None
    """The longest date range a ``list()`` filter may span (None: the API sets no limit)."""

    def __init__(self, client: ShipStation) -> None:
        self._client = client

    async def _call(self, operation: Operation, options: CallOptions) -> Any:
        return await self._client.request(operation, **options)

    async def _model(self, operation: Operation, cls: type[T], options: CallOptions) -> T:
        reader = functools.partial(structure, cls=cls)
        result: T = await self._call(attrs.evolve(operation, structure=reader), options)
        return result

    async def _models(self, operation: Operation, cls: type[T], options: CallOptions) -> list[T]:
        reader = functools.partial(structure_list, cls=cls)
        result: list[T] = await self._call(attrs.evolve(operation, structure=reader), options)
        return result


def structure(data: Any, cls: type[T]) -> T:
    """Read one object of ``cls`` from an answer."""
    return converter.structure(data, cls)


def structure_list(data: Any, cls: type[T], *, key: str | None = None) -> list[T]:
    """Read a bare array (or, when ``key`` is given, ``{key: [...]}`` too) of ``cls``.

    The envelope's key is matched without case, and ``{key: null}`` is an empty list. A single
    object stands for a list of one (the users example shows that) only when it has a key of
    ``cls``; any other object is a :class:`DecodeError`, never a record made up of nulls.
    """
    if key is not None and isinstance(data, Mapping):
        found = next((k for k in data if isinstance(k, str) and k.lower() == key.lower()), None)
        if found is not None:
            data = data[found]
            if data is None:
                return []
            if not isinstance(data, list):
                raise DecodeError(
                    f"expected {found!r} to be a JSON array of {cls.__name__}, got {_shape(data)}"
                )
    if data is None:
        return []
    if isinstance(data, Mapping):
        if not wire_keys(cls) & set(data):
            raise DecodeError(f"expected a JSON array of {cls.__name__}, got {_shape(data)}")
        return [converter.structure(data, cls)]
    if not isinstance(data, list):
        raise DecodeError(f"expected a JSON array of {cls.__name__}, got {type(data).__name__}")
    return structure_records(data, cls)


def success(data: Any) -> SuccessResult:
    """Read a ``{success, message}`` answer (an empty body counts as success)."""
    if data is None:
        return SuccessResult(success=True, message=None)
    return converter.structure(data, SuccessResult)


def check_page(page: int, page_size: int) -> None:
    """Validate paging arguments before any request: page >= 1, page_size in 1..500."""
    if not is_count(page) or page < 1:
        raise InvalidRequestError(f"page must be an integer >= 1, got {page!r}", field="page")
    if not is_count(page_size) or not 1 <= page_size <= 500:
        raise InvalidRequestError(
            f"page_size must be an integer from 1 to 500 (the API's maximum), got {page_size!r}",
            field="page_size",
        )


def check_range(
    start: datetime | date | None,
    end: datetime | date | None,
    start_name: str,
    end_name: str,
    max_days: int | None = None,
) -> None:
    """Reject naive datetimes, a range whose end precedes its start, and one over ``max_days``.

    The span is measured as the server sees it: between the Pacific wall-clock times sent.
    """
    for value, name in ((start, start_name), (end, end_name)):
        if isinstance(value, datetime):
            require_aware(value, name)
        elif value is not None and not isinstance(value, date):
            raise InvalidRequestError(
                f"{name} must be an aware datetime or a date, got {type(value).__name__}",
                field=name,
            )
    if start is None or end is None:
        return
    if as_instant(end) < as_instant(start):
        raise InvalidRequestError(
            f"{end_name} ({end.isoformat()}) precedes {start_name} ({start.isoformat()})",
            field=end_name,
        )
    if max_days is not None and sent_wall(end) - sent_wall(start) > timedelta(days=max_days):
        hint = (
            "iter() splits a longer creation-date range into several"
            if start_name.startswith("create")
            else "give a shorter one (iter() splits only a creation-date range)"
        )
        raise InvalidRequestError(
            f"{start_name} to {end_name} spans more than {max_days} days, the most the API "
            f"answers in one request; {hint}",
            field=end_name,
        )


def check_ranges(max_days: int | None = None, **bounds: datetime | date | None) -> None:
    """Check every ``<name>_start``/``<name>_end`` pair among the keyword arguments."""
    for name, value in bounds.items():
        if name.endswith("_start"):
            stem = name[: -len("_start")]
            check_range(value, bounds.get(f"{stem}_end"), name, f"{stem}_end", max_days)
        elif name.endswith("_end") and f"{name[: -len('_end')]}_start" not in bounds:
            check_range(None, value, name, name)


def check_choice(value: str | None, allowed: frozenset[str], field: str) -> None:
    """Reject a value outside a documented set of strings (a non-string included)."""
    if value is not None and (not isinstance(value, str) or value not in allowed):
        raise InvalidRequestError(
            f"{field} must be one of {sorted(allowed)}, got {value!r}", field=field
        )


def check_id(value: Any, field: str, *, minimum: int = 1) -> int:
    """An integer id of at least ``minimum`` (1 unless 0 is a real one), or InvalidRequestError."""
    if is_count(value) and value >= minimum:
        return value
    raise InvalidRequestError(
        f"{field} must be an integer id of at least {minimum}, got {value!r}", field=field
    )


def check_bool(value: Any, field: str) -> bool:
    """A real bool (not a truthy string such as "no"), or InvalidRequestError."""
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def check_text(value: Any, field: str) -> str:
    """A non-empty string, or InvalidRequestError."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{field} must be a non-empty string, got {value!r}", field=field)
    return value


def to_body(value: Any, cls: type[Any], field: str) -> dict[str, Any]:
    """A request body from a model of ``cls`` or a plain mapping with the API's camelCase keys.

    Aware datetimes become Pacific wall-clock strings; a naive one is an InvalidRequestError.
    Negative weights and dimensions are refused here, before anything is sent.
    """
    body: dict[str, Any]
    if isinstance(value, cls):
        body = converter.unstructure(value)
    elif isinstance(value, Mapping):
        check_mapping_as(cls, value, field)
        body = {str(k): _plain(v, f"{field}.{k}") for k, v in value.items()}
    else:
        raise InvalidRequestError(
            f"{field} must be a {cls.__name__} or a mapping with the API's keys, "
            f"got {type(value).__name__}",
            field=field,
        )
    check_measures(body, field)
    return body


def _plain(value: Any, field: str) -> Any:
    if attrs.has(type(value)):
        return converter.unstructure(value)
    if isinstance(value, datetime):
        return converter.unstructure(value) if value.tzinfo else _naive(field)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{field}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def _naive(field: str) -> Any:
    raise InvalidRequestError(
        f"{field} is a naive datetime; pass an aware one (for example with "
        "tzinfo=ZoneInfo('America/Los_Angeles'))",
        field=field,
    )


_MEASURES = {"weight": ("value",), "dimensions": ("length", "width", "height")}
_UNITS = {
    "weight": choices(WeightUnits),
    "dimensions": choices(DimensionUnits),
}


def check_measures(body: Any, field: str) -> None:
    """Refuse negative weights, dimensions or quantities, and units the API does not know."""
    if isinstance(body, Mapping):
        for key, value in body.items():
            path = f"{field}.{key}"
            if key == "quantity" and isinstance(value, int | Decimal) and value < 0:
                raise InvalidRequestError(f"{path} must not be negative, got {value}", field=path)
            if key in _MEASURES and isinstance(value, Mapping):
                for part in _MEASURES[key]:
                    number = value.get(part)
                    if isinstance(number, int | float | Decimal) and number < 0:
                        raise InvalidRequestError(
                            f"{path}.{part} must not be negative, got {number}",
                            field=f"{path}.{part}",
                        )
                units = value_of(value, "units")
                # Compared without case: a record read back may spell them either way.
                if units is not None and (
                    not isinstance(units, str) or units.lower() not in _UNITS[key]
                ):
                    raise InvalidRequestError(
                        f"{path}.units must be one of {sorted(_UNITS[key])}, got {units!r}",
                        field=f"{path}.units",
                    )
            check_measures(value, path)
    elif isinstance(body, list):
        for index, item in enumerate(body):
            check_measures(item, f"{field}[{index}]")


def value_of(body: Mapping[str, Any], key: str) -> Any:
    """``body[key]``, the key matched without case as the API matches it (None when absent)."""
    if key in body:
        return body[key]
    folded = key.lower()
    return next((v for k, v in body.items() if isinstance(k, str) and k.lower() == folded), None)


def check_parcel_weight(weight: Any, field: str) -> None:
    """A label's or a rate's weight (``weight``, as sent): a value above 0, and its units.

    The API prices the parcel by them: a weight without them is refused, or priced wrong.
    """
    if weight is None:
        return
    value = value_of(weight, "value") if isinstance(weight, Mapping) else None
    number = None
    if isinstance(value, int | float | Decimal | str) and not isinstance(value, bool):
        with contextlib.suppress(InvalidOperation, ValueError):
            number = Decimal(value.strip() if isinstance(value, str) else str(value))
    if number is None or not number.is_finite() or number <= 0:
        raise InvalidRequestError(
            f"{field}.value must be a number above 0, got {value!r}", field=f"{field}.value"
        )
    if value_of(weight, "units") is None:
        raise InvalidRequestError(f"{field}.units is required", field=f"{field}.units")


def decode_page(data: Any, key: str, cls: type[T], *, page: int, page_size: int) -> Page[T]:
    """Read a ``{<key>: [...], total, page, pages}`` envelope into a typed :class:`Page`."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise DecodeError(f"expected an object with a {key!r} list, got {_shape(data)}")
    items = structure_records(data[key], cls)
    total = _int(data.get("total"), len(items))
    pages = _int(data.get("pages"), -(-total // page_size) if total else 0)
    return Page(items=items, total=total, page=_int(data.get("page"), page), pages=pages)


def paged_query(
    page: int, page_size: int, *, max_range_days: int | None = None, **filters: Any
) -> dict[str, Any]:
    """Check paging and date ranges, and build the query in the API's camelCase.

    ``max_range_days``: the longest date range one request may ask for (orders and shipments:
    90), checked on the wall-clock times as sent.
    """
    check_page(page, page_size)
    check_ranges(
        max_days=max_range_days,
        **{k: v for k, v in filters.items() if k.endswith(("_start", "_end"))},
    )
    for name, value in filters.items():
        # Every id filter the API has is an integer; 0 is a real one (a manual store's
        # marketplaceId).
        if name.endswith("_id") and value is not None:
            check_id(value, name, minimum=0)
    query = {camel(name): value for name, value in filters.items()}
    query["page"] = page
    query["pageSize"] = page_size
    return query


def camel(name: str) -> str:
    """snake_case to the API's camelCase (``create_date_start`` -> ``createDateStart``)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


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


def id_list(values: Sequence[int], field: str) -> list[int]:
    """A non-empty list of positive integer ids."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise InvalidRequestError(f"{field} must be a non-empty list of ids", field=field)
    return [check_id(v, f"{field}[{i}]") for i, v in enumerate(values)]


def date_text(value: date | None, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = require_aware(value, field).date()  # the Pacific date
    if not isinstance(value, date):
        raise InvalidRequestError(f"{field} must be a date, got {value!r}", field=field)
    return value.isoformat()


def plain(value: Any) -> Any:
    return None if value is None else converter.unstructure(value)


def label_body(
    carrier_code: str,
    service_code: str,
    package_code: str,
    ship_date: date,
    *,
    confirmation: str | None,
    weight: Any,
    dimensions: Any,
    insurance_options: Any,
    international_options: Any,
    advanced_options: Any,
    test_label: bool,
    **parties: Any,
) -> dict[str, Any]:
    """The body of a label purchase (createlabel, createlabelfororder), checked before sending.

    Documented keys the caller left out go as null, as the API's own examples send them.
    ``parties`` adds ``orderId`` or ``shipFrom``/``shipTo``.
    """
    if ship_date is None:
        raise InvalidRequestError("ship_date is required for a label", field="ship_date")
    check_choice(confirmation, CONFIRMATIONS, "confirmation")
    body = {
        **{k: v for k, v in parties.items() if k == "orderId"},
        "carrierCode": check_text(carrier_code, "carrier_code"),
        "serviceCode": check_text(service_code, "service_code"),
        "packageCode": check_text(package_code, "package_code"),
        "confirmation": confirmation,
        "shipDate": date_text(ship_date, "ship_date"),
        "weight": plain(weight),
        "dimensions": plain(dimensions),
        **{k: v for k, v in parties.items() if k != "orderId"},
        "insuranceOptions": plain(insurance_options),
        "internationalOptions": plain(international_options),
        "advancedOptions": plain(advanced_options),
        "testLabel": check_bool(test_label, "test_label"),
    }
    check_measures(body, "label")
    check_parcel_weight(body["weight"], "weight")
    return body


async def buy_label(
    client: ShipStation, path: str, body: dict[str, Any], options: CallOptions
) -> Label:
    """Send one label purchase (never retried once it may have taken effect).

    Purchases of the same label (same order or recipient, carrier, service and package) take
    turns in this process, ``create_label_once``'s too: overlapping ones could not be told
    apart. The shipment it is answered with is claimed in the process's registry, so that
    settling a later purchase never takes this one for it. An ambiguous outcome (or a caller
    cancelled with the request out) is remembered there until settled, and until then another
    real purchase of the same label is refused before anything is sent: it could buy twice.
    """
    key = purchase_key(client, path, body)
    watch = SEND_WATCH.get()
    if watch is not None:  # create_label_once's purchase: it holds the key, and its watch
        return await _send_label(client, key, path, body, options, watch)
    # Purchases of one label never overlap in this process (they could not be told apart).
    real = not body.get("testLabel")
    async with one_at_a_time(key, purchase_intent(body), remember=real) as watch:
        prior = INTENTS.unresolved(key) if real else None
        if prior is not None:
            raise unsettled_purchase(prior[1])
        return await _send_label(client, key, path, body, options, watch)


async def _send_label(
    client: ShipStation,
    key: Key,
    path: str,
    body: dict[str, Any],
    options: CallOptions,
    watch: SendWatch,
) -> Label:
    operation = Operation(
        "POST",
        path,
        body=body,
        safety=Safety.NON_IDEMPOTENT,
        structure=functools.partial(structure, cls=Label),
    )
    try:
        label: Label = await client.request(operation, **options)
    except AmbiguousRequestError as exc:
        if not body.get("testLabel"):  # a test label costs nothing to buy again
            INTENTS.leave_unresolved(key, purchase_intent(body), exc)
        raise
    except asyncio.CancelledError:
        # Cancelled with the request out: it runs on, and its outcome is unknown here. (For
        # create_label_once's purchase; a plain one's one_at_a_time says the same again.)
        if not body.get("testLabel"):
            remember_cancelled(key, purchase_intent(body), watch)
        raise
    INTENTS.claim(key, [label.shipment_id])
    return label


def unsettled_purchase(earlier: AmbiguousRequestError) -> AmbiguousRequestError:
    """The error refusing a purchase while an earlier one of the same label is unsettled.

    It carries the earlier purchase's attempt: ``await ss.settle(error)`` settles that one.
    """
    return AmbiguousRequestError(
        "an earlier purchase of this label may have bought it and is not settled; nothing was "
        "sent. Settle it first (await ss.settle(error) with this error or the earlier one), "
        "or buy with create_label_once, which settles it itself",
        method=earlier.method,
        path=earlier.path,
        cause=earlier.cause,
        attempt=earlier.attempt,
    )


def list_arguments(
    filters_type: Any,
    arguments: Mapping[str, Any],
    sorting: Mapping[str, Any],
    *,
    sort_before: str | None = None,
) -> tuple[dict[str, Any], CallOptions]:
    """A ``list()`` call's query arguments (its filters and ``sorting``), then its call options.

    The filters come in the order their ``TypedDict`` declares them, whatever order the caller
    wrote them in, with ``sorting`` before the filter ``sort_before`` (else last): the query
    string keeps one order.
    """
    query: dict[str, Any] = {}
    for name in filters_type.__annotations__:
        if name == sort_before:
            query.update(sorting)
        if name in arguments:
            query[name] = arguments[name]
    if sort_before is None:
        query.update(sorting)
    options = {name: arguments[name] for name in CallOptions.__annotations__ if name in arguments}
    return query, cast(CallOptions, options)
