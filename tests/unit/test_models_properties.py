"""Property tests: every model survives unstructure -> structure, datetimes compared as instants."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipstation_async import models
from shipstation_async._time import PACIFIC, parse_timestamp
from shipstation_async.errors import DecodeError
from shipstation_async.models import converter

MODELS = [
    getattr(models, name)
    for name in models.__all__
    if isinstance(getattr(models, name), type)
    and attrs.has(getattr(models, name))
    and name != "Page"
]

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def unambiguous(value: datetime) -> bool:
    """False for a second pass through the autumn fall-back hour (documented as unrepresentable)."""
    return value.astimezone(PACIFIC).fold == 0


def strategy(tp: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (typing.Union, __import__("types").UnionType):
        return st.one_of(*(strategy(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if tp is str:
        return st.text(max_size=12)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**40), 2**40)
    if tp is Decimal:
        return st.decimals(
            min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False
        )
    if tp is datetime:
        return st.datetimes(
            min_value=datetime(2001, 1, 1), max_value=datetime(2039, 1, 1), timezones=st.just(UTC)
        ).filter(unambiguous)
    if tp is date:
        return st.dates(min_value=date(2001, 1, 1), max_value=date(2039, 1, 1))
    if tp is Any:
        return JSONISH
    if attrs.has(tp):
        return model_strategy(tp)
    raise NotImplementedError(tp)


def model_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    attrs.resolve_types(cls)
    fields = {f.name: strategy(f.type) for f in attrs.fields(cls) if f.name not in ("extra", "raw")}
    known = {f.metadata.get("api_key") for f in attrs.fields(cls)}
    extra = st.dictionaries(
        st.text(min_size=1, max_size=6).map(lambda k: "zz" + k).filter(lambda k: k not in known),
        JSONISH,
        max_size=2,
    )
    return st.builds(cls, extra=extra, **fields)


def normal(value: Any) -> Any:
    """A comparable form: datetimes as instants, models as dicts of their fields."""
    if isinstance(value, datetime):
        return ("instant", value.timestamp())
    if attrs.has(type(value)):
        return {
            f.name: normal(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if f.name != "raw"
        }
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    return value


@pytest.mark.cpu_bound
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(cls: type[Any], data: st.DataObject) -> None:
    original = data.draw(model_strategy(cls))
    wire = converter.unstructure(original)
    assert all(isinstance(k, str) for k in wire)
    back = converter.structure(wire, cls)
    assert normal(back) == normal(original)
    # And a second trip through the server's shape changes nothing more.
    assert converter.unstructure(back) == wire


@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2039, 1, 1)),
    st.integers(0, 7),
)
def test_every_timestamp_form_parses(moment: datetime, digits: int) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}0"[:digits]
    if digits:
        text += "." + fraction
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is PACIFIC
    assert parsed.replace(tzinfo=None) - moment.replace(microsecond=0) == timedelta(
        microseconds=int(fraction[:6].ljust(6, "0")) if digits else 0
    )


def field_by_field(data: dict[str, Any], cls: type[Any]) -> Any:
    """A model read one field at a time through the converter's type hooks (no generated code)."""
    from shipstation_async.models._base import api_name

    kwargs: dict[str, Any] = {}
    attrs.resolve_types(cls)
    known = set()
    for field in attrs.fields(cls):
        if field.name in ("extra", "raw"):
            continue
        key = field.metadata.get("api_key") or api_name(field.name)
        known.add(key)
        if data.get(key) is not None:
            kwargs[field.name] = converter.structure(data[key], field.type)
    extra = {k: v for k, v in data.items() if k not in known}
    return cls(**kwargs, extra=extra, raw=data)


def test_the_generated_structure_functions_agree_with_a_field_by_field_reading() -> None:
    """Each model's structure function is cattrs' generated code behind a thin layer for
    ``extra`` and ``raw``; on the API's ordinary payloads it reads what a field-by-field reading
    through the converter's own type hooks reads."""
    import json

    from shipstation_async.models import Order, Shipment
    from shipstation_async.sandbox.world import World

    world = World(orders=60, seed=11)
    payloads = [json.loads(json.dumps(world.orders.at(i))) for i in range(60)]
    generated = [converter.structure(p, Order) for p in payloads]
    assert all(o.raw is p for o, p in zip(generated, payloads, strict=True))
    assert [normal(o) for o in generated] == [normal(field_by_field(p, Order)) for p in payloads]
    # An odd value raises a DecodeError that names the field.
    odd = dict(payloads[0], orderId="not a number")
    with pytest.raises(DecodeError) as info:
        converter.structure(odd, Order)
    assert "orderId" in str(info.value)
    # A numeric string where an int belongs is converted, not rejected.
    assert converter.structure(dict(payloads[0], orderId="42"), Order).order_id == 42
    assert converter.structure({"shipmentId": 7}, Shipment).shipment_id == 7
