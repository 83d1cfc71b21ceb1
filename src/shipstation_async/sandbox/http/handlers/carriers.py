"""Carriers: list, get, services, packages, and adding funds to a funded account.

addfunds answers the carrier with exactly the documented example's keys (name, code,
accountNumber, requiresFundedAccount, balance): without the nickname, shippingProviderId and
primary that GET /carriers adds.
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from ...data.catalog import PACKAGES, SERVICES
from ..context import context
from ..models import ADD_FUNDS
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import read_object
from .common import add_write
from .params import QueryParams

MIN_FUNDS = 10.0
MAX_FUNDS = 10_000.0
ADD_FUNDS_KEYS = ("name", "code", "accountNumber", "requiresFundedAccount", "balance")
"""The keys of addfunds' documented response."""


def _carrier_code(request: web.Request) -> tuple[str | None, web.Response | None]:
    params = QueryParams.of(request)
    code = params.text("carrierCode")
    if code is None:
        return None, bad_request({"carrierCode": ["The carrierCode field is required."]})
    if context(request).world.carrier(code.strip()) is None:
        return None, not_found(f"Carrier '{code}' not found")
    return code.strip(), None


async def list_carriers(request: web.Request) -> web.StreamResponse:
    """``GET /carriers``: a bare array of the connected carriers."""
    return json_response(context(request).world.list_carriers())


async def get_carrier(request: web.Request) -> web.StreamResponse:
    """``GET /carriers/getcarrier?carrierCode=``: one carrier."""
    code, problem = _carrier_code(request)
    if code is None:
        return cast(web.Response, problem)
    return json_response(context(request).world.carrier(code))


async def list_services(request: web.Request) -> web.StreamResponse:
    """``GET /carriers/listservices?carrierCode=``: the carrier's services.

    A bare array ``[{carrierCode, code, name, domestic, international}]``.
    """
    code, problem = _carrier_code(request)
    if code is None:
        return cast(web.Response, problem)
    return json_response(
        [
            {
                "carrierCode": s.carrier_code,
                "code": s.code,
                "name": s.name,
                "domestic": s.domestic,
                "international": s.international,
            }
            for s in SERVICES
            if s.carrier_code == code
        ]
    )


async def list_packages(request: web.Request) -> web.StreamResponse:
    """``GET /carriers/listpackages?carrierCode=``: the same shape as listservices."""
    code, problem = _carrier_code(request)
    if code is None:
        return cast(web.Response, problem)
    return json_response(
        [
            {
                "carrierCode": p.carrier_code,
                "code": p.code,
                "name": p.name,
                "domestic": p.domestic,
                "international": p.international,
            }
            for p in PACKAGES
            if p.carrier_code == code
        ]
    )


async def add_funds(request: web.Request) -> web.StreamResponse:
    """``POST /carriers/addfunds``: ``{carrierCode, amount}`` ($10 to $10,000); the carrier."""
    world = context(request).world
    body, problem = await read_object(request, "request", ADD_FUNDS)
    if body is None:
        return cast(web.Response, problem)
    code = body.text("carrierCode", required=True)
    amount = body.number("amount", required=True)
    if amount is not None and not MIN_FUNDS <= amount <= MAX_FUNDS:
        body.error("amount", "The amount must be between $10.00 and $10,000.00.")
    if body.errors or code is None or amount is None:
        return bad_request(body.errors)
    carrier = world.add_funds(code, round(amount * 100))
    if carrier is None:
        return not_found(f"Carrier '{code}' not found")
    return json_response({k: carrier[k] for k in ADD_FUNDS_KEYS})


def register(router: Router) -> None:
    """Add the carrier routes to ``router``."""
    router.add("GET", "/carriers", list_carriers)
    router.add("GET", "/carriers/getcarrier", get_carrier)
    router.add("GET", "/carriers/listservices", list_services)
    router.add("GET", "/carriers/listpackages", list_packages)
    add_write(router, "POST", "/carriers/addfunds", add_funds)
