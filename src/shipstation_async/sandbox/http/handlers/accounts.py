"""Accounts and users: tags, account registration, the user list.

registeraccount needs no credentials (the server lets it through unauthenticated and outside
the rate window); the key pair it returns works on this sandbox at once and sees the same
world as every other key.
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from ..context import context
from ..models import REGISTER_ACCOUNT
from ..responses import bad_request, json_response
from ..router import Router
from .body import read_object
from .common import add_write
from .params import QueryParams

REGISTER_PATH = "/accounts/registeraccount"
"""The one path served without credentials."""


async def list_tags(request: web.Request) -> web.StreamResponse:
    """``GET /accounts/listtags``: ``[{tagId, name, color}]``."""
    return json_response(context(request).world.list_tags())


async def register_account(request: web.Request) -> web.StreamResponse:
    """``POST /accounts/registeraccount``: ``{message, sellerId, success, apiKey, apiSecret}``."""
    ctx = context(request)
    body, problem = await read_object(request, "request", REGISTER_ACCOUNT)
    if body is None:
        return cast(web.Response, problem)
    for field in ("firstName", "lastName", "password"):
        body.text(field, required=True, max_len=100)
    email = body.text("email", required=True, max_len=100)
    if email is not None and "@" not in email:
        body.error("email", "The email field is not a valid e-mail address.")
    for field in ("companyName", "addr1", "addr2", "city", "state", "zip", "phone"):
        body.text(field, max_len=100)
    country = body.text("countryCode")
    if country is not None and len(country.strip()) != 2:
        body.error("countryCode", "The countryCode field must be an ISO 3166-1 alpha-2 code.")
    if body.errors:
        return bad_request(body.errors)
    seller_id, api_key, api_secret = ctx.world.register_account()
    ctx.add_credentials(api_key, api_secret)
    return json_response(
        {
            "message": "The account has been registered.",
            "sellerId": seller_id,
            "success": True,
            "apiKey": api_key,
            "apiSecret": api_secret,
        }
    )


async def list_users(request: web.Request) -> web.StreamResponse:
    """``GET /users?showInactive=``: ``[{userId, userName, name}]``."""
    params = QueryParams.of(request)
    show_inactive = params.boolean("showInactive")
    if params.errors:
        return bad_request(params.errors)
    return json_response(context(request).world.list_users(show_inactive=show_inactive))


def register(router: Router) -> None:
    """Add the account and user routes to ``router``."""
    router.add("GET", "/accounts/listtags", list_tags)
    add_write(router, "POST", REGISTER_PATH, register_account)
    router.add("GET", "/users", list_users)
