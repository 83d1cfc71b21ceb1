from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from shipstation_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    DecodeError,
    InvalidRequestError,
    NotFoundError,
    Operation,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from shipstation_async._sansio import (
    LONGEST_WAIT,
    Credentials,
    RequestBuilder,
    build_request,
    decode_response,
    encode_query,
    error_for_status,
    parse_rate_limit,
    parse_retry_after,
    read_rate_limit,
)

CREDS = Credentials("ShipStation", "Rocks")


def test_authorization_header_matches_the_documented_example() -> None:
    assert CREDS.authorization.reveal() == "Basic U2hpcFN0YXRpb246Um9ja3M="
    assert CREDS.headers() == {"Authorization": "Basic U2hpcFN0YXRpb246Um9ja3M="}


def test_secret_is_not_in_reprs() -> None:
    request = build_request(
        Operation("POST", "/orders/createorder", body={"a": 1}),
        base_url="https://ssapi.shipstation.com",
    )
    for text in (
        repr(CREDS),
        str(CREDS),
        repr(request),
        str(request),
        repr(CREDS.authorization),
        f"{CREDS.api_secret}",
        repr(dict(request.headers)),
    ):
        assert "Rocks" not in text
        assert "U2hpcFN0YXRpb246Um9ja3M=" not in text
    assert "Authorization" not in request.headers  # the I/O layer writes it, from the secret
    with pytest.raises(TypeError):
        pickle.dumps(CREDS.api_secret)


def test_build_get_request_with_query_in_given_order() -> None:
    start = datetime(2024, 1, 2, 8, 30, 15, 999999, tzinfo=UTC)  # 00:30:15 PST
    request = build_request(
        Operation(
            "get",
            "/orders",
            query={"orderStatus": "shipped", "createDateStart": start, "storeId": None, "page": 2},
        ),
        base_url="https://ssapi.shipstation.com/",
    )
    assert request.method == "GET"
    assert request.url == (
        "https://ssapi.shipstation.com/orders?orderStatus=shipped"
        "&createDateStart=2024-01-02%2000%3A30%3A15&page=2"
    )
    assert request.body is None
    assert "Content-Type" not in request.headers
    assert request.headers["User-Agent"].startswith("shipstation-async/")


def test_query_text_outside_plain_ascii_is_percent_encoded() -> None:
    # Letters and digits of other scripts are alphanumeric too, but not URL-safe as they are.
    assert encode_query({"customerName": "Zoë", "sku": "\uff21\uff221"}) == (
        "customerName=Zo%C3%AB&sku=%EF%BC%A1%EF%BC%A21"
    )
    assert encode_query({"page": 3, "orderNumber": "A-1.2_x~y", "tag": "a b&c"}) == (
        "page=3&orderNumber=A-1.2_x~y&tag=a%20b%26c"
    )


def test_requests_without_a_body_share_one_read_only_set_of_headers() -> None:
    builder = RequestBuilder(base_url="https://ssapi.shipstation.com/")
    get = builder.build(Operation("GET", "/orders"))
    post = builder.build(Operation("POST", "/orders/createorder", body={"orderNumber": "1"}))
    assert get.headers is builder.common_headers
    assert dict(get.headers) == {k: v for k, v in post.headers.items() if k != "Content-Type"}
    assert post.headers["Content-Type"] == "application/json"
    with pytest.raises(TypeError):
        get.headers["Authorization"] = "x"  # type: ignore[index]
    assert "secret" not in repr(builder) and "Basic" not in repr(builder)


def test_query_booleans_and_dates() -> None:
    assert encode_query({"showInactive": True, "x": False}) == "showInactive=true&x=false"
    assert encode_query({"d": datetime(2024, 7, 1).date()}) == "d=2024-07-01%2000%3A00%3A00"


def test_naive_datetime_in_query_is_rejected_with_field_name() -> None:
    with pytest.raises(InvalidRequestError) as info:
        encode_query({"createDateStart": datetime(2024, 1, 1)})
    assert info.value.field == "createDateStart"
    assert "aware" in str(info.value)


def test_summer_time_converts_to_pdt() -> None:
    value = datetime(2024, 7, 1, 19, 0, tzinfo=UTC)
    assert encode_query({"d": value}) == "d=2024-07-01%2012%3A00%3A00"
    tokyo = datetime(2024, 7, 2, 4, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert encode_query({"d": tokyo}) == "d=2024-07-01%2012%3A00%3A00"


def test_body_is_compact_json_with_exact_money() -> None:
    request = build_request(
        Operation(
            "POST", "/carriers/addfunds", body={"carrierCode": "ups", "amount": Decimal("10.25")}
        ),
        base_url="https://ssapi.shipstation.com",
    )
    assert request.body == b'{"carrierCode":"ups","amount":10.25}'
    assert request.headers["Content-Type"] == "application/json"


def test_path_must_be_absolute() -> None:
    with pytest.raises(InvalidRequestError):
        build_request(Operation("GET", "orders"), base_url="http://x")


@pytest.fixture(params=["msgspec", "json"])
def json_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each decoding test runs with msgspec (the speedups extra) and with the json module."""
    from shipstation_async import _sansio

    if request.param == "json":
        monkeypatch.setattr(_sansio, "_fast_decode", None)
    else:
        # The test extra installs msgspec: without it this reader would silently not be tested.
        assert _sansio._fast_decode is not None
    return str(request.param)


def test_speedups_reader_is_msgspec_with_decimal_floats() -> None:
    import msgspec

    from shipstation_async import _sansio

    assert _sansio._fast_decode is not None
    assert _sansio._fast_decode(b'{"a": 1.10}') == {"a": Decimal("1.10")}
    assert isinstance(getattr(_sansio._fast_decode, "__self__", None), msgspec.json.Decoder)


def test_decode_reads_money_as_decimal_and_empty_as_none(json_reader: str) -> None:
    data = decode_response(200, b'{"orderTotal": 194.43, "n": 3}', method="GET", path="/x")
    assert data == {"orderTotal": Decimal("194.43"), "n": 3}
    assert isinstance(data["orderTotal"], Decimal)
    assert decode_response(200, b"", method="DELETE", path="/webhooks/1") is None
    assert decode_response(204, b"  ", method="DELETE", path="/webhooks/1") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Every number keeps the digits it came with; integers stay int, however large.
        (
            b'{"a": 12.50, "b": -0.0, "c": 1.5E3, "d": 1e-7}',
            {
                "a": Decimal("12.50"),
                "b": Decimal("-0.0"),
                "c": Decimal("1.5E+3"),
                "d": Decimal("1E-7"),
            },
        ),
        (
            b'{"id": 123456789012345678901234567890, "n": -0}',
            {
                "id": 123456789012345678901234567890,
                "n": 0,
            },
        ),
        # A later duplicate key wins, as in the json module.
        (b'{"a": 1, "a": 2}', {"a": 2}),
        (
            b' \r\n\t["\\u00e9", "\\ud83d\\ude00", "caf\xc3\xa9"] \n',
            ["\u00e9", "\U0001f600", "caf\u00e9"],
        ),
        # A lone surrogate escape (a name cut mid-emoji): msgspec refuses it, the json
        # module reads it, so the body is not lost.
        (b'{"name": "Ann \\ud83d"}', {"name": "Ann \ud83d"}),
    ],
)
def test_both_readers_decode_alike(json_reader: str, body: bytes, expected: Any) -> None:
    from shipstation_async._sansio import decode_json

    decoded = decode_json(body)
    assert decoded == expected
    assert json.dumps(decoded, default=str) == json.dumps(expected, default=str)  # same types


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"nul",
        b'{"a": 1} x',
        b"[1,]",
        b'"a\tb"',
        b"\xff",
        b"\xef\xbb\xbf{}",
        b"[" * 100_000 + b"]" * 100_000,
        # Beyond Decimal's exponent range: the hook raises InvalidOperation.
        b'{"orderTotal": 1e1000000000000000000}',
    ],
)
def test_malformed_json_is_a_decode_error(json_reader: str, body: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode_response(200, body, method="GET", path="/orders")


def test_nan_and_infinity_are_read_as_decimal(json_reader: str) -> None:
    # Not JSON, but the json module reads them; as every other non-integer, as Decimal.
    from shipstation_async._sansio import decode_json

    decoded = decode_json(b'{"a": NaN, "b": [Infinity, -Infinity]}')
    assert [type(x) for x in (decoded["a"], *decoded["b"])] == [Decimal] * 3
    assert decoded["a"].is_nan() and decoded["b"] == [Decimal("Infinity"), Decimal("-Infinity")]


def _big_page(orders: int) -> bytes:
    order = {"orderId": 1, "items": [{"sku": "A", "unitPrice": 12.50, "options": []}]}
    return json.dumps({"orders": [order] * orders, "total": orders}).encode()


def test_a_big_body_is_decoded_with_the_collector_paused(json_reader: str) -> None:
    import gc

    from shipstation_async._sansio import PAUSE_GC_BYTES, decode_json

    body = _big_page(5_000)  # some 15,000 containers: a collection every 700 without a pause
    assert len(body) >= PAUSE_GC_BYTES
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        decoded = decode_json(body)
        during = list(collections)
    finally:
        gc.callbacks.remove(count)
    assert len(during) <= 1  # the one the page meets once the pause is over
    assert gc.isenabled()
    assert decoded == json.loads(body, parse_float=Decimal)
    assert decoded["orders"][0]["items"][0]["unitPrice"] == Decimal("12.5")


def test_the_collector_is_left_as_it_was(json_reader: str) -> None:
    import gc

    from shipstation_async._sansio import decode_json

    body = _big_page(5_000)
    with pytest.raises(DecodeError):
        decode_json(body[:-1])  # cut short: unreadable
    assert gc.isenabled()
    gc.disable()
    try:
        decode_json(body)
        with pytest.raises(DecodeError):
            decode_json(body[:-1])
        assert not gc.isenabled()  # paused by its owner: not switched on behind its back
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b'{"Message": 1e99999999999999999999}']
)
def test_an_unreadable_error_body_still_gives_the_typed_error(body: bytes) -> None:
    error = error_for_status(500, body, method="GET", path="/orders")
    assert isinstance(error, ServerError) and error.status == 500 and error.details == {}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, APIError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_status_maps_to_error_class(status: int, cls: type[APIError]) -> None:
    error = error_for_status(status, b"", method="GET", path="/orders")
    assert type(error) is cls
    assert error.status == status
    assert error.method == "GET" and error.path == "/orders"


def test_aspnet_500_body() -> None:
    body = json.dumps(
        {
            "Message": "An error has occurred.",
            "ExceptionMessage": "Object reference not set to an instance of an object.",
            "ExceptionType": "System.NullReferenceException",
        }
    ).encode()
    error = error_for_status(500, body, method="POST", path="/orders/createorder")
    assert isinstance(error, ServerError)
    assert error.message == (
        "An error has occurred. - Object reference not set to an instance of an object."
    )


def test_model_state_becomes_details() -> None:
    body = json.dumps(
        {
            "Message": "The request is invalid.",
            "ModelState": {"apiOrders.orderNumber": ["The orderNumber field is required."]},
        }
    ).encode()
    error = error_for_status(400, body, method="POST", path="/orders/createorders")
    assert isinstance(error, BadRequestError)
    assert error.details == {"apiOrders.orderNumber": ["The orderNumber field is required."]}
    assert "orderNumber field is required" in str(error)


def test_plain_text_401() -> None:
    error = error_for_status(401, b"401 Unauthorized", method="GET", path="/orders")
    assert isinstance(error, AuthenticationError)
    assert error.message == "401 Unauthorized"


def test_429_body() -> None:
    error = error_for_status(
        429, b'{"message": "Too Many Requests"}', method="GET", path="/orders", retry_after=3.0
    )
    assert isinstance(error, RateLimitError)
    assert error.message == "Too Many Requests"
    assert error.retry_after == 3.0


def test_rate_limit_headers_integer_reset_is_floored() -> None:
    headers = CIMultiDict(
        {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "28", "X-Rate-Limit-Reset": "20"}
    )
    info = parse_rate_limit(headers)
    assert info is not None
    assert (info.limit, info.remaining, info.reset, info.reset_floored) == (40, 28, 20.0, True)
    assert info.retry_after is None


def test_rate_limit_headers_fractional_and_lowercase() -> None:
    headers = CIMultiDict(
        {"x-rate-limit-limit": "40", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1.250"}
    )
    info = parse_rate_limit(headers)
    assert info is not None
    assert info.reset == 1.25 and not info.reset_floored and info.remaining == 0


def test_rate_limit_headers_absent_or_garbage() -> None:
    assert parse_rate_limit(CIMultiDict()) is None
    info = parse_rate_limit(
        CIMultiDict({"X-Rate-Limit-Remaining": "lots", "X-Rate-Limit-Reset": "-3"})
    )
    assert info is not None and info.remaining is None and info.reset is None


_HEADER_TEXT = st.one_of(
    st.none(),
    st.integers(0, 10**10).map(str),
    st.sampled_from(
        ["", " 5", "5 ", "0040", "1.5", "2.0", "1e3", "-3", "+4", "\u0663", "\u00b2", "nan"]
    ),
    st.text(alphabet="0123456789.\u0663 ", max_size=9),
)


@given(limit=_HEADER_TEXT, remaining=_HEADER_TEXT, reset=_HEADER_TEXT)
def test_rate_limit_fast_path_reads_like_the_general_one(
    limit: str | None, remaining: str | None, reset: str | None
) -> None:
    # parse_rate_limit takes a shortcut for plain whole numbers: it must change nothing.
    names = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")
    headers = CIMultiDict(
        {n: v for n, v in zip(names, (limit, remaining, reset), strict=True) if v is not None}
    )
    assert parse_rate_limit(headers) == read_rate_limit(limit, remaining, reset, None)


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert (
        parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:00 GMT") == 30.0
    )
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", None) is None
    assert parse_retry_after("soon") is None
    headers = CIMultiDict({"Retry-After": "12"})
    info = parse_rate_limit(headers)
    assert info is not None and info.retry_after == 12.0


def test_a_wait_longer_than_fifteen_minutes_is_read_as_fifteen_minutes() -> None:
    # A broken or hostile server must not hold every request on the key for a year.
    for reset in ("999999", "86400.5", "1e9"):
        headers = CIMultiDict(
            {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": reset}
        )
        info = parse_rate_limit(headers)
        assert info is not None and info.reset == LONGEST_WAIT == 900.0
    info = parse_rate_limit(CIMultiDict({"Retry-After": "999999999"}))
    assert info is not None and info.retry_after == LONGEST_WAIT
    info = parse_rate_limit(CIMultiDict({"Retry-After": "899", "X-Rate-Limit-Reset": "60"}))
    assert info is not None and (info.retry_after, info.reset) == (899.0, 60.0)


def test_json_written_back_keeps_the_numbers_as_received() -> None:
    from decimal import Decimal

    from shipstation_async._sansio import decode_json, dumps_exact

    raw = b'{"orderTotal":12.50,"weight":{"value":1.000,"units":"ounces"},"qty":3,"x":-0.10}'
    assert dumps_exact(decode_json(raw)) == raw.decode()
    assert dumps_exact({"big": Decimal("1E+2")}) == '{"big":1E+2}'
    # Strings that look like marks, NULs, backslashes: data, kept as they are; digits exact.
    tricky = {"amount": Decimal("12.50"), "note": "\x00#7\x00", "path": "C:\\u0000x"}
    text = dumps_exact(tricky)
    assert decode_json(text.encode()) == tricky and '"amount":12.50' in text
    assert '"big":1E+400' in dumps_exact({"big": Decimal("1E+400"), "n": "a\x00"})


def test_bodies_json_cannot_carry_are_refused_before_sending() -> None:
    from decimal import Decimal

    from shipstation_async._sansio import encode_json

    for bad in ({"amount": Decimal("NaN")}, {"amount": float("inf")}, {"when": object()}):
        with pytest.raises(InvalidRequestError):
            encode_json(bad)


async def test_the_jsonl_sink_writes_what_the_api_sent(tmp_path: Any) -> None:
    from shipstation_async._sansio import decode_json
    from shipstation_async.backfill import JsonlSink

    lines = [b'{"orderId":1,"orderTotal":12.50,"tax":0.00}', b'{"orderId":2,"orderTotal":7}']
    sink = JsonlSink(tmp_path / "out.jsonl")
    sink.open(0)
    await sink.write([decode_json(line) for line in lines])
    sink.close()
    assert (tmp_path / "out.jsonl").read_bytes() == b"\n".join(lines) + b"\n"


def test_redact_takes_out_the_token_and_a_long_secret_only() -> None:
    creds = Credentials("key", "0123456789abcdef")
    token = creds.authorization.reveal().split()[1]
    text = f"echo: Authorization: Basic {token}; raw 0123456789abcdef; key stays"
    assert creds.redact(text) == "echo: Authorization: Basic [redacted]; raw [redacted]; key stays"
    # A secret this short cannot be told from ordinary words: only the token goes.
    assert CREDS.redact(f"Rocks {CREDS.authorization.reveal()}") == "Rocks Basic [redacted]"
    partner = Credentials("key", "0123456789abcdef", "partner-0123456789")
    assert partner.redact("x-partner: partner-0123456789") == "x-partner: [redacted]"
    assert "partner-0123456789" not in repr(partner)
    assert partner.headers()["x-partner"] == "partner-0123456789"


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t,
        lambda t: json.dumps(t)[1:-1].replace("/", "\\/"),  # JSON's optional \/
        lambda t: "".join(f"\\u{ord(c):04X}" for c in t),  # every character escaped
        lambda t: quote(t, safe=""),
        lambda t: quote(quote(t, safe=""), safe=""),  # percent-encoded twice
        lambda t: "".join(f"%{ord(c):02x}" for c in t),
        lambda t: "".join(f"&#{ord(c)};" for c in t),
        lambda t: "".join(f"&#{ord(c)}" for c in t),  # references without ';'
        lambda t: t.replace("+", "&plus;").replace("/", "&sol;"),  # named references
        lambda t: t.upper(),
        lambda t: t.replace("+", "\\x2b"),  # a JavaScript escape
        lambda t: quote(quote(quote(t, safe=""), safe=""), safe=""),  # percent-encoded thrice
        lambda t: t.replace("+", " "),  # as a form decoder leaves it
        lambda t: quote(t, safe="").replace("%", "\\u0025"),  # percent, JSON-escaped
    ],
)
def test_every_encoding_of_the_token_is_redacted(encode: Any) -> None:
    creds = Credentials("ShipStationKey", "0123456789abcdef+/=0123456789abcd")
    token = creds.authorization.reveal().split()[1]
    for secret in (token, "0123456789abcdef+/=0123456789abcd"):
        text = f"before {encode(secret)} after"
        assert "[redacted]" in creds.redact(text), encode(secret)
        assert secret.casefold() not in creds.redact(text).casefold()
        assert creds.redactor.may_hold(text.encode())


def test_a_decoded_body_is_redacted_only_when_it_may_hold_the_secret() -> None:
    creds = Credentials("key", "0123456789abcdef")
    token = creds.authorization.reveal().split()[1]
    escaped = json.dumps({"note": token}).replace("/", "\\/").replace("+", "\\u002B")
    data = decode_response(200, escaped.encode(), method="GET", path="/x", redactor=creds.redactor)
    assert data == {"note": "[redacted]"}
    assert not creds.redactor.may_hold(b'{"orderId": 5, "note": "fine"}')
    plain = decode_response(
        200, b'{"orderId": 5}', method="GET", path="/x", redactor=creds.redactor
    )
    assert plain == {"orderId": 5}
    first = f"{ord(token[0]):02X}"
    body = '{"Message": "saw \\u0025' + first + token[1:] + '"}'
    error = error_for_status(500, body.encode(), method="GET", path="/x", redactor=creds.redactor)
    # JSON-escaped percent-encoding: found once the body is decoded.
    assert token[1:] not in str(error) and token[1:] not in (error.body or "")


def test_a_partner_key_goes_with_the_credential_headers_only() -> None:
    creds = Credentials("key", "secret", "partner-0123456789")
    assert creds.headers()["x-partner"] == "partner-0123456789"
    assert "x-partner" not in CREDS.headers()
    builder = RequestBuilder(base_url="https://ssapi.shipstation.com")
    assert "x-partner" not in builder.build(Operation("GET", "/orders")).headers
