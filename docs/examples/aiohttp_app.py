"""An aiohttp app whose request handlers await single ShipStation calls.

One client for the app's whole life: opened when the app starts, closed when it stops.
Credentials and the API's address come from the environment (``SHIPSTATION_API_KEY``,
``SHIPSTATION_API_SECRET``, and ``SHIPSTATION_BASE_URL`` for a sandbox). Run it with
``python aiohttp_app.py`` and open http://127.0.0.1:8000/orders/ORDER_ID.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

from aiohttp import web

from shipstation_async import InvalidRequestError, NotFoundError, RateLimitError, ShipStation

SHIPSTATION = web.AppKey("shipstation", ShipStation)


async def shipstation_client(app: web.Application) -> AsyncIterator[None]:
    """Open the app's client at start-up and close it at clean-up."""
    # A user waits on these calls: give up after 5 s without a budget slot (the default
    # is 120 s) and say so, rather than hold the page.
    app[SHIPSTATION] = ShipStation(max_wait=5.0)
    yield
    # Lets requests already on the wire finish (a label purchase reports its outcome).
    await app[SHIPSTATION].aclose()


async def order_page(request: web.Request) -> web.Response:
    """GET /orders/{order_id}: the order's number and status, as JSON."""
    ss = request.app[SHIPSTATION]
    try:
        order = await ss.orders.get(int(request.match_info["order_id"]))
    except InvalidRequestError:  # an id out of the API's range: nothing was sent
        raise web.HTTPBadRequest(text="not an order id") from None
    except NotFoundError:
        raise web.HTTPNotFound(text="no such order") from None
    except RateLimitError as exc:
        # No slot within max_wait; nothing was sent (exc.sent is False). Tell the caller
        # when to come back instead of making it wait.
        retry_after = str(math.ceil(exc.retry_after or 1.0))
        return web.json_response(
            {"error": "busy, try again later"}, status=503, headers={"Retry-After": retry_after}
        )
    return web.json_response({"number": order.order_number, "status": order.order_status})


def make_app() -> web.Application:
    """The application: one route, and the client's life tied to the app's."""
    app = web.Application()
    app.cleanup_ctx.append(shipstation_client)
    app.router.add_get(r"/orders/{order_id:\d+}", order_page)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8000)
