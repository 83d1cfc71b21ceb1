"""Backfill lines: msgspec writes them where its bytes are the json module's, else json does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shipstation_async import _exact_json
from shipstation_async._exact_json import dumps_exact, dumps_exact_each, dumps_exact_lines
from shipstation_async._sansio import decode_json


def by_json(records: list[Any]) -> bytes:
    return "".join(dumps_exact(r) + "\n" for r in records).encode()


RECORDS: list[list[Any]] = [
    [],
    [{"orderTotal": Decimal("12.50"), "qty": 3, "x": Decimal("-0.10"), "ok": True, "n": None}],
    [{"big": Decimal("1E+2"), "tiny": Decimal("0E-7"), "huge": Decimal("1E+400")}],
    [{"nested": {"a": [1, Decimal("2.000"), {"b": "c"}]}}, {"second": "line"}],
    [{"controls": 'a\x00b\x1fc\n\t"\\/'}],
    [{"name": "Ren\u00e9e"}],  # non-ASCII: the json module escapes it
    [{"del": "a\x7fb"}],  # DEL: the json module escapes it, msgspec does not
    [{"plain": "x"}, {"accent": "caf\u00e9", "amount": Decimal("1.5")}],
]


@pytest.mark.parametrize("records", RECORDS)
@pytest.mark.parametrize("fast", [True, False])
def test_lines_are_the_json_modules_bytes(
    records: list[Any], fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not fast:
        monkeypatch.setattr(_exact_json, "_fast_lines", None)
    else:
        assert _exact_json._fast_lines is not None  # the test extra installs msgspec
    data = dumps_exact_lines(records)
    assert data == by_json(records)
    assert dumps_exact_each(records) == [dumps_exact(r) for r in records]
    assert [decode_json(line) for line in data.splitlines()] == records


def test_a_page_as_decoded_is_written_back_as_received() -> None:
    raw = (
        b'{"orderId":1,"orderTotal":12.50,"items":[{"unitPrice":3.10,"weight":{"value":1.000}}],'
        b'"note":"caf\\u00e9"}'
    )
    record = decode_json(raw)
    assert dumps_exact_lines([record, record]) == raw + b"\n" + raw + b"\n"


@pytest.mark.parametrize("fast", [True, False])
def test_numbers_json_cannot_carry_are_refused(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fast:
        monkeypatch.setattr(_exact_json, "_fast_lines", None)
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(ValueError, match="not a JSON number"):
            dumps_exact_lines([{"ok": 1}, {"amount": bad}])
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_exact_lines([{"when": object()}])
