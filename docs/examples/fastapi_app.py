"""A FastAPI app whose endpoints await single ShipStation calls.

The client lives as long as the app: the lifespan opens it and closes it. Credentials and
the API's address come from the environment (``SHIPSTATION_API_KEY``,
``SHIPSTATION_API_SECRET``, and ``SHIPSTATION_BASE_URL`` for a sandbox). Run it with
``uvicorn fastapi_app:app``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse

from shipstation_async import NotFoundError, RateLimitError, ShipStation


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open one client for the app's life; leaving the block closes it."""
    # A user waits on these calls: give up after 5 s without a budget slot.
    async with ShipStation(max_wait=5.0) as ss:
        app.state.shipstation = ss
        yield


app = FastAPI(lifespan=lifespan)


def shipstation(request: Request) -> ShipStation:
    """The app's client, for endpoints that declare it as a dependency."""
    client: ShipStation = request.app.state.shipstation
    return client


Client = Annotated[ShipStation, Depends(shipstation)]


@app.exception_handler(RateLimitError)
async def busy(request: Request, exc: RateLimitError) -> JSONResponse:
    """No budget slot within max_wait: nothing was sent; say when to come back."""
    retry_after = str(math.ceil(exc.retry_after or 1.0))
    return JSONResponse(
        {"error": "busy, try again later"}, status_code=503, headers={"Retry-After": retry_after}
    )


@app.get("/orders/{order_id}")
async def order_page(
    order_id: Annotated[int, Path(ge=1, le=2**63 - 1)], ss: Client
) -> dict[str, str | None]:
    """The order's number and status."""
    try:
        order = await ss.orders.get(order_id)
    except NotFoundError:
        raise HTTPException(status_code=404, detail="no such order") from None
    return {"number": order.order_number, "status": order.order_status}
