"""Pages read with each record's bytes kept: what the records read as, and what is written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from shipstation_async import DecodeError
from shipstation_async._raw_records import RawRecord, json_lines, json_texts, page_reader
from shipstation_async._sansio import decode_json

ORDER_A = b'{"orderId":1,"createDate":"2026-01-05T10:00:00.1230000","orderTotal":12.50,"x":[1]}'
ORDER_B = b'{"orderId":2, "createDate":"2026-01-05T10:00:01.0000000", "orderTotal":1E+2}'
PAGE = b'{"orders":[' + ORDER_A + b"," + ORDER_B + b'],"total":2,"page":1,"pages":1}'


def read(body: bytes) -> Any:
    reader = page_reader("orders", ("createDate", "orderId", "modifyDate"))
    assert reader is not None  # msgspec comes with the tests
    return reader(body)


def test_each_record_keeps_its_bytes_and_reads_as_its_json() -> None:
    page = read(PAGE)
    assert page.keys() == {"orders", "total", "page", "pages"}
    assert (page["total"], page["page"], page["pages"]) == (2, 1, 1)
    first, second = page["orders"]
    assert type(first) is RawRecord and type(second) is RawRecord
    assert (first.raw, second.raw) == (ORDER_A, ORDER_B)  # as spelt: spaces, 12.50, 1E+2
    for record, raw in ((first, ORDER_A), (second, ORDER_B)):
        whole = decode_json(raw)
        assert dict(record) == whole and record == whole
        assert len(record) == len(whole) and list(record) == list(whole)
    assert first["orderTotal"] == Decimal("12.50") and str(first["orderTotal"]) == "12.50"
    assert first.get("createDate") == "2026-01-05T10:00:00.1230000"
    assert first["x"] == [1]


def test_a_key_the_record_lacks_is_missing_whether_decoded_or_not() -> None:
    (record,) = read(b'{"orders":[{"createDate":"2026-01-05T10:00:00"}]}')["orders"]
    assert record.get("modifyDate") is None and record.get("modifyDate", 7) == 7
    assert record.get("orderTotal", 7) == 7
    with pytest.raises(KeyError):
        record["modifyDate"]  # a decoded key, absent
    with pytest.raises(KeyError):
        record["orderTotal"]  # another key, absent
    assert "modifyDate" not in record and "createDate" in record


@pytest.mark.parametrize(
    "body",
    [
        '{"orders":[{"orderId":1,"name":"Zoë"}],"total":1}'.encode(),  # not ASCII
        b'{"orders":[1,{"orderId":2}],"total":2}',  # an entry not an object
        b'{"orders":{"orderId":1},"total":1}',  # not a list
        b'{"items":[{"orderId":1}],"total":1}',  # no envelope
        b'{"orders":[{"orderId":NaN}],"total":1}',  # msgspec refuses, the json module reads
        b'{"orders":[{"s":"\\ud800"}],"total":1}',  # a lone surrogate, likewise
        b"[1, 2]",
    ],
)
def test_a_page_the_reader_cannot_take_whole_is_read_by_the_json_reader(body: bytes) -> None:
    page = read(body)
    assert repr(page) == repr(decode_json(body))  # repr: a NaN is not equal to itself
    records = page.get("orders") if isinstance(page, dict) else None
    assert not isinstance(records, list) or all(type(r) is not RawRecord for r in records)


DEEP = b'{"orders":[{"orderId":1,"n":' + b"[" * 5000 + b"]" * 5000 + b"}]}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"orders":[{"a":"\\q"}]}',
        b'{"orders":[{"a":1,}]}',
        b"{",
        DEEP,  # msgspec's own RecursionError
        b'{"orders":[{"orderId":1e9999999999999999999999999}]}',  # a decoded key
        b'{"orders":[],"total":1e-9999999999999999999999999}',  # the page's count
    ],
)
def test_malformed_json_fails_as_the_json_reader_fails(body: bytes) -> None:
    with pytest.raises(Exception) as expected:
        decode_json(body)
    with pytest.raises(type(expected.value)):
        read(body)


def test_lines_hold_the_bytes_as_received_one_record_a_line() -> None:
    pretty = json.dumps({"orderId": 3, "createDate": "2026-01-05T10:00:02"}, indent=2).encode()
    body = b'{"orders":[' + ORDER_A + b"," + pretty + b"," + ORDER_B + b"]}"
    records = [*read(body)["orders"], {"orderId": 4, "orderTotal": Decimal("1.10")}]
    assert all(type(r) is RawRecord for r in records[:3])
    lines = json_lines(records).split(b"\n")
    assert lines[-1] == b""  # each line ends in a newline
    assert lines[0] == ORDER_A and lines[2] == ORDER_B
    assert lines[1] == b'{"orderId":3,"createDate":"2026-01-05T10:00:02"}'  # one line
    assert lines[3] == b'{"orderId":4,"orderTotal":1.10}'
    texts = json_texts(records)
    assert texts[0] == ORDER_A.decode() and texts[2] == ORDER_B.decode()
    assert [json.loads(t) for t in texts] == [json.loads(line) for line in lines[:4]]
    assert texts[3] == '{"orderId":4,"orderTotal":1.10}'


def test_records_without_kept_bytes_are_written_as_before() -> None:
    records = [{"orderId": 1, "orderTotal": Decimal("12.50")}, {"orderId": 2}]
    assert json_lines(records) == b'{"orderId":1,"orderTotal":12.50}\n{"orderId":2}\n'
    assert json_texts(records) == ['{"orderId":1,"orderTotal":12.50}', '{"orderId":2}']


@pytest.mark.parametrize(
    ("envelope", "key"),
    [("total", "createDate"), ("page", "createDate"), ("orders", "class"), ("orders", "_x")],
)
def test_names_a_struct_cannot_hold_leave_pages_to_the_json_reader(envelope: str, key: str) -> None:
    assert page_reader(envelope, (key, "orderId")) is None


def test_a_record_shows_and_keeps_its_bytes_without_decoding_them() -> None:
    body = b'{"orders":[{"orderId":1,"createDate":"c","big":1e9999999999999999999999999}]}'
    (record,) = read(body)["orders"]
    assert repr(record) == "RawRecord(" + repr(body[11:-2]) + ")"
    assert record["orderId"] == 1  # the decoded keys read; the rest cannot be
    with pytest.raises(DecodeError):
        record["big"]
    with pytest.raises(AttributeError):
        record.raw = b"{}"  # type: ignore[misc]
