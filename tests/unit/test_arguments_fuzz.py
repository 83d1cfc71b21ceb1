"""Every public method, every parameter, every family of bad value: nothing sent, a typed error.

The calls are generated from the methods' signatures and the ``TypedDict`` of their
``**options``, so a new method or parameter is covered without editing this file. For each
parameter a valid call is built first (from the annotations); then the parameter alone is
replaced by each bad value of its kind, and the call must raise a ShipStationError (an
``InvalidRequestError`` for an argument) with nothing reaching the server. A property test
then sends valid values at their limits and finds them unchanged on the wire.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import json
import re
import types
import typing
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipstation_async import (
    AmbiguousRequestError,
    InvalidRequestError,
    Operation,
    RateLimit,
    RetryPolicy,
    ShipStation,
    ShipStationError,
)
from shipstation_async._arguments import INT32_MAX, INT64_MAX, MAX_QUERY, RANGES
from shipstation_async.models import (
    Address,
    Order,
    OrderItem,
    Product,
    Store,
    Warehouse,
    Weight,
)
from shipstation_async.resources._base import CallOptions, Resource

from ..conftest import unique_key
from ..recording import RecordingServer, Reply

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
ADDRESS = Address(
    name="Zoë", street1="1 Main", city="Austin", state="TX", postal_code="78703", country="US"
)
ORDER = Order(
    order_number="A-1",
    order_key="k-1",
    order_date=T0,
    order_status="awaiting_shipment",
    bill_to=ADDRESS,
    ship_to=ADDRESS,
    items=[OrderItem(sku="S", name="N", quantity=1, unit_price=Decimal("1.50"))],
)

# Valid values the annotation alone cannot pick (a carrier that needs no state, a record with
# the id an update names it by).
BY_NAME: dict[str, Any] = {
    "carrier_code": "fedex",
    "service_code": "fedex_ground",
    "package_code": "package",
    "amount": Decimal("20.00"),
    "target_url": "https://example.com/hook",
    "email": "a@example.com",
    "order_ids": [1],
    "product": Product(product_id=1, sku="S", name="N"),
    "store": Store(store_id=1, store_name="S"),
    "warehouse": Warehouse(warehouse_id=1, origin_address=ADDRESS),
    "orders": [ORDER],
    "order": ORDER,
    "page_size": 100,
}


def valid(hint: Any, name: str) -> Any:
    """A valid value for a parameter, from its name or its annotation."""
    if name in BY_NAME:
        return BY_NAME[name]
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return valid(next(a for a in args if a is not type(None)), name)
    if origin is Literal:
        return args[0]
    simple = {
        int: 1,
        str: "abc",
        bool: False,
        float: 1.0,
        Decimal: Decimal("1.00"),
        date: date(2026, 1, 5),
        datetime: T0,
        Weight: Weight(value=Decimal(1), units="ounces"),
        Address: ADDRESS,
    }
    if hint in simple:
        return simple[hint]
    if origin is not None and issubclass(origin, Sequence):
        return [valid(args[0], name)]
    if isinstance(hint, type) and attrs.has(hint):
        return hint()
    if isinstance(hint, type) and issubclass(hint, AmbiguousRequestError):
        return None  # no valid one without a failed write; its bad values are checked
    raise AssertionError(f"no valid value for {name}: {hint!r}")


class Nope:
    """An object of no kind the API takes."""


class Sneaky(int):
    """An int whose own formatting would decide what goes into a path."""

    def __format__(self, spec: str) -> str:
        return "1/../../users"


class Broken:
    """An object whose repr, str, hash and equality all raise."""

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    __str__ = __repr__

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {}
    value["self"] = value
    return value


def bad_values(hint: Any, name: str) -> list[Any]:
    """The families of bad value for a parameter of this annotation."""
    origin, args = get_origin(hint), get_args(hint)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args
    kinds = [a for a in args if a is not type(None)] if optional else [hint]
    out: list[Any] = [Nope(), b"bytes", {"x": Nope()}, Broken(), deep(1000), cyclic()]
    if not optional:
        out.append(None)
    for kind in kinds:
        k_origin = get_origin(kind)
        if kind is int:
            low, high = RANGES.get(name, RANGES["id"] if name.endswith("_id") else (None, None))
            out += [True, 1.5, "1", float("nan"), 2**70, Decimal(1), Sneaky(1)]
            out += [v for v in (low - 1 if low is not None else None, (high or 0) + 1) if v]
        elif kind is str:
            out += ["", "   ", "a\nb", "a\tb", "a\x00b", "a\x85b", "\ud800", 123, "x" * 100_000]
        elif kind is bool:
            out += ["false", "true", 0, 1, "yes"]
        elif kind is float:
            out += [-1, float("nan"), float("inf"), "5", True, 10**400, 1e300]
        elif kind is Decimal:
            out += [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), True, "NaN"]
        elif kind in (date, datetime):
            out += ["2026-01-05", datetime(2026, 1, 5), 20260105, datetime.min.replace(tzinfo=UTC)]
        elif k_origin is Literal:
            first = get_args(kind)[0]
            out += ["bogus", "", 0, ["x"], first.swapcase() if isinstance(first, str) else 99]
        elif k_origin is not None and issubclass(k_origin, Sequence):
            out += ["abc", [Nope()], [], [None], [2**70], [True]]
        elif k_origin is not None and issubclass(k_origin, Mapping):
            out += [{"a": float("nan")}, {"a": "\ud800"}, {1: "x"}, {"a": {"b": Nope()}}, "x"]
            out += [{"residential": "false"}, {"postalCode": 20500}, {"name": ["x"]}]
        elif isinstance(kind, type) and attrs.has(kind):
            out += ["yes", 1, [kind()]]
    return out


def public_methods() -> list[tuple[str, str, Callable[..., Any]]]:
    client = ShipStation("k", "s", base_url="http://127.0.0.1:1")
    found = []
    for attribute, resource in vars(client).items():
        if isinstance(resource, Resource):
            for name, function in inspect.getmembers(type(resource), inspect.isfunction):
                if not name.startswith("_"):
                    found.append((attribute, name, function))
    found += [("", "settle", ShipStation.settle), ("", "aclose", ShipStation.aclose)]
    return found


def unpacked_options(function: Callable[..., Any], name: str) -> dict[str, Any]:
    """The keywords ``**name`` takes: its ``Unpack[TypedDict]``'s (the filters and options)."""
    hint = typing.get_type_hints(function, include_extras=True)[name]
    (typed_dict,) = get_args(hint) or (CallOptions,)
    return typing.get_type_hints(typed_dict)


def cases() -> list[tuple[str, str, str, Any]]:
    """(resource, method, parameter, bad value) for every parameter of every public method."""
    out = []
    for resource, method, function in public_methods():
        hints = typing.get_type_hints(function)
        for param in list(inspect.signature(function).parameters.values())[1:]:
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                for option, hint in unpacked_options(function, param.name).items():
                    out += [(resource, method, option, v) for v in bad_values(hint, option)]
                out.append((resource, method, "unknown_option", 1))
                continue
            hint = hints[param.name]
            out += [(resource, method, param.name, v) for v in bad_values(hint, param.name)]
    return out


CASES = cases()


# Methods that need one of several optional arguments.
ONE_OF: dict[str, dict[str, Any]] = {"find_labels": {"order_id": 1}}


def baseline(function: Callable[..., Any]) -> dict[str, Any]:
    """Valid keyword arguments for every parameter without a default."""
    hints = typing.get_type_hints(function)
    kwargs = {
        p.name: valid(hints[p.name], p.name)
        for p in list(inspect.signature(function).parameters.values())[1:]
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }
    return {**ONE_OF.get(function.__name__, {}), **kwargs}


@pytest.fixture
async def client(recorder: RecordingServer) -> AsyncIterator[ShipStation]:
    async with ShipStation(
        unique_key(),
        "s3cr3t-value",
        base_url=recorder.url,
        rate_limit=RateLimit(100_000, 60.0),
        retry=RetryPolicy(max_attempts=1, base=0.0),
        max_wait=5,
    ) as ss:
        yield ss


async def call(ss: ShipStation, resource: str, method: str, kwargs: dict[str, Any]) -> Any:
    target = getattr(ss, resource) if resource else ss
    result = getattr(target, method)(**kwargs)
    if inspect.isawaitable(result):
        return await result
    async with result as stream:  # iter(): a stream, which sends when read
        return await anext(aiter(stream), None)


def test_every_public_method_is_covered() -> None:
    methods = {(r, m) for r, m, _, _ in CASES}
    assert len(methods) == len(public_methods()) >= 58
    assert len(CASES) > 2000


@pytest.mark.parametrize(
    "resource, method", sorted({(r, m) for r, m, _ in public_methods() if m != "settle"})
)
async def test_the_valid_baseline_of_every_method_is_accepted(
    client: ShipStation, recorder: RecordingServer, resource: str, method: str
) -> None:
    function = getattr(type(getattr(client, resource)) if resource else ShipStation, method)
    recorder.default = Reply(body={})
    try:
        await call(client, resource, method, baseline(function))
    except InvalidRequestError as exc:  # the baseline itself must pass the checks
        raise AssertionError(f"{resource}.{method}: {exc}") from exc
    except ShipStationError:
        pass  # the canned answer may not fit the method: what matters is what was sent


@pytest.mark.parametrize("resource, method", sorted({(r, m) for r, m, _, _ in CASES}))
async def test_a_bad_argument_sends_nothing_and_raises_a_typed_error(
    client: ShipStation, recorder: RecordingServer, resource: str, method: str
) -> None:
    function = getattr(type(getattr(client, resource)) if resource else ShipStation, method)
    failures = []
    for _, _, param, bad in (c for c in CASES if c[:2] == (resource, method)):
        kwargs = baseline(function)
        kwargs[param] = bad
        if method == "settle" and param != "error":
            kwargs["error"] = Nope()  # no valid one to pair with; either way refused unsent
        try:
            await call(client, resource, method, kwargs)
        except InvalidRequestError:
            pass
        except Exception as exc:
            failures.append(f"{param}={bad!r:.60}: {exc!r:.200}")
        else:
            failures.append(f"{param}={bad!r:.60}: accepted")
        if recorder.requests:
            failures.append(f"{param}={bad!r:.60}: sent {len(recorder.requests)} request(s)")
            recorder.requests.clear()
    assert not failures, "\n".join(failures)


# -- valid values arrive unchanged ----------------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
NOTES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=TEXT, number=st.text(alphabet="AZ09-ü", min_size=1, max_size=50), notes=NOTES)
async def test_valid_values_at_their_limits_arrive_unchanged(
    client: ShipStation, recorder: RecordingServer, name: str, number: str, notes: str
) -> None:
    recorder.requests.clear()
    recorder.default = Reply(body={"orders": [], "total": 0, "page": 1, "pages": 0})
    await client.orders.list(
        INT32_MAX, 500, customer_name=name, order_number=number, store_id=INT64_MAX
    )
    query = urllib.parse.parse_qs(recorder.requests[-1].query_string)
    assert query == {
        "customerName": [name],
        "orderNumber": [number],
        "storeId": [str(INT64_MAX)],
        "page": [str(INT32_MAX)],
        "pageSize": ["500"],
    }
    recorder.default = Reply(body={"success": True})
    await client.orders.assign_user([INT64_MAX, 1], name)
    assert recorder.requests[-1].json == {"orderIds": [INT64_MAX, 1], "userId": name}
    recorder.default = Reply(body={})
    order = attrs.evolve(ORDER, order_number=number, internal_notes=notes, customer_notes=name)
    await client.orders.create_or_update(order)
    sent = json.loads(recorder.requests[-1].body)
    assert (sent["orderNumber"], sent["internalNotes"], sent["customerNotes"]) == (
        number,
        notes,
        name,
    )
    await client.orders.get(INT64_MAX)
    assert recorder.requests[-1].path == f"/orders/{INT64_MAX}"
    # The longest query string the API's web server takes, filled with one filter.
    recorder.default = Reply(body={"orders": [], "total": 0, "page": 1, "pages": 0})
    longest = "a" * (MAX_QUERY - len("customerName=&page=1&pageSize=100"))
    await client.orders.list(customer_name=longest)
    assert urllib.parse.parse_qs(recorder.requests[-1].query_string)["customerName"] == [longest]
    with pytest.raises(InvalidRequestError) as info:
        await client.orders.list(customer_name=longest + "ü")  # its encoding: 6 more
    assert info.value.field == "customer_name"


class Status(str, enum.Enum):  # noqa: UP042 - str() of this mixin is "Status.SHIPPED"
    SHIPPED = "shipped"


async def test_a_str_enum_member_goes_out_as_its_value(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(body={"orders": [], "total": 0, "page": 1, "pages": 0})
    await client.orders.list(order_status=Status.SHIPPED, customer_name=Status.SHIPPED)  # type: ignore[arg-type]
    query = urllib.parse.parse_qs(recorder.requests[-1].query_string)
    assert query["orderStatus"] == query["customerName"] == ["shipped"]


async def test_a_request_through_the_pipeline_is_checked_too(client: ShipStation) -> None:
    for lane in (0, "", "fast"):
        with pytest.raises(InvalidRequestError):
            await client.request(Operation("GET", "/orders"), lane=lane)  # type: ignore[arg-type]
    for operation in (
        Operation("GET", "/orders", query={"a": "\ud800"}),
        Operation("GET", "/orders", query={"page": Decimal("NaN")}),
        Operation("GET", "/orders/1\r\nX-Injected: 1"),
        Operation("GET", "/orders/1 HTTP/1.1"),
    ):
        with pytest.raises(InvalidRequestError):
            await client.request(operation)


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ({"orderNumber": "A-1", "order_key": "K-1"}, "order.order_key", "'orderKey'"),
        ({"shipTo": {"name": "Ada", "postal_code": "1"}}, "shipTo.postal_code", "'postalCode'"),
        ({"items": [{"sku": "S", "unit_price": 2}]}, "items[0].unit_price", "'unitPrice'"),
        ({"items": {"sku": "S"}}, "order.items", "must be a list"),
    ],
)
async def test_a_mapping_with_a_models_name_for_an_api_key_is_refused(
    client: ShipStation, recorder: RecordingServer, body: dict[str, Any], where: str, words: str
) -> None:
    # The server would ignore "order_key": an upsert would then create a second order.
    full = {
        "orderDate": "2025-01-02T03:04:05",
        "orderStatus": "awaiting_shipment",
        "orderNumber": "A-1",
        "billTo": {"name": "Ada"},
        "shipTo": {"name": "Ada"},
        **body,
    }
    with pytest.raises(InvalidRequestError, match=re.escape(where) + ".*" + re.escape(words)):
        await client.orders.create_or_update(full)
    assert recorder.requests == []
    # Keys the models do not know at all still go out as given (fields the API added later).
    recorder.default = Reply(body={})
    ok = {k: v for k, v in full.items() if k not in ("order_key", "items")}
    ok["shipTo"] = {"name": "Ada"}
    with contextlib.suppress(ShipStationError):
        await client.orders.create_or_update({**ok, "newField": 1})
    assert [r.json["newField"] for r in recorder.requests] == [1]
