"""Response bodies in ShipStation's styles (ASP.NET Web API errors, gateway pages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ..encoding import encode_json

JSON_CONTENT_TYPE = "application/json"


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """A JSON response as ShipStation sends it (``application/json; charset=utf-8``)."""
    return encoded_response(encode_json(data), status=status)


def encoded_response(body: bytes, *, status: int = 200) -> web.Response:
    """A JSON response whose body is already encoded (by :mod:`..encoding`)."""
    return web.Response(body=body, status=status, content_type=JSON_CONTENT_TYPE, charset="utf-8")


def bad_request(model_state: Mapping[str, Sequence[str]]) -> web.Response:
    """400 with an ASP.NET ModelState body: ``{"Message": ..., "ModelState": {param: [why]}}``."""
    return json_response(
        {
            "Message": "The request is invalid.",
            "ModelState": {k: list(v) for k, v in model_state.items()},
        },
        status=400,
    )


def no_resource(url: str) -> web.Response:
    """404 for a path no route matches, worded as ASP.NET Web API words it."""
    return json_response(
        {"Message": f"No HTTP resource was found that matches the request URI '{url}'."},
        status=404,
    )


def not_found(message: str) -> web.Response:
    """404 for a resource that does not exist (ShipStation's exact body is unconfirmed)."""
    return json_response({"Message": message}, status=404)


def method_not_allowed(method: str) -> web.Response:
    """405 worded as ASP.NET Web API words it."""
    return json_response(
        {"Message": f"The requested resource does not support http method '{method}'."},
        status=405,
    )


def too_many_requests() -> web.Response:
    """429 with ShipStation's documented body ``{"message": "Too Many Requests"}``."""
    return json_response({"message": "Too Many Requests"}, status=429)


def unauthorized() -> web.Response:
    """401: plain text ``401 Unauthorized``, no rate-limit headers.

    A guess ([U], reference §5): the body of ShipStation's 401 is undocumented; one client
    (a Singer tap) notes it arrives as plain text rather than JSON, and whether it carries
    rate-limit headers is unknown. A client should accept any body with a 401.
    """
    return web.Response(status=401, text="401 Unauthorized", content_type="text/plain")


_GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    408: "Request Time-out",
    413: "Request Entity Too Large",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def gateway_error(status: int) -> web.Response:
    """A front proxy's HTML error page (408, 413, 502, 503, 504); the wording is a guess."""
    reason = _REASONS[status]
    return web.Response(
        status=status,
        text=_GATEWAY_PAGE.format(status=status, reason=reason),
        content_type="text/html",
    )


def server_error(status: int = 500, exception_message: str | None = None) -> web.Response:
    """An error response for ``status`` in the style its source would send it.

    500 is the application's ASP.NET error JSON; 502, 503 and 504 are a gateway's HTML page;
    other 4xx/5xx statuses get an ASP.NET ``{"Message": ...}`` body.
    """
    if status == 500:
        return json_response(
            {
                "Message": "An error has occurred.",
                "ExceptionMessage": exception_message
                or "Object reference not set to an instance of an object.",
                "ExceptionType": "System.Exception",
                "StackTrace": None,
            },
            status=500,
        )
    if status in (502, 503, 504):
        return gateway_error(status)
    if status == 400:
        return bad_request({"request": ["The request is invalid."]})
    return json_response({"Message": "An error has occurred."}, status=status)
