"""A canned-response server for the overhead benchmark, run in its own process.

Answers every request with the same one-order page (the project's own fixture of
``GET /orders/{id}``), so the client's own cost per request is what gets measured. Its
rate-limit headers behave like the real API's with a very high limit: per API key (the
Authorization header), a fixed 60 s window from the first request, Remaining counting down,
Reset (whole seconds) counting down to the window's end.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aiohttp import web

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/shipstation/Order/GetOrderResponse.json"
)
LIMIT, PERIOD = 1_000_000, 60.0


def body() -> bytes:
    try:
        order = json.loads(EXAMPLE.read_text())
    except OSError:
        order = {"orderId": 1, "orderNumber": "A-1", "orderTotal": 10.5}
    return json.dumps({"orders": [order], "total": 1, "page": 1, "pages": 1}).encode()


def main(port: int) -> None:
    payload = body()
    windows: dict[str, dict[str, float]] = {}

    async def handle(request: web.Request) -> web.Response:
        now = time.monotonic()
        key = request.headers.get("Authorization", "")
        window = windows.setdefault(key, {"start": -PERIOD, "count": 0})
        if now >= window["start"] + PERIOD:
            window["start"], window["count"] = now, 0
        window["count"] += 1
        headers = {
            "Content-Type": "application/json",
            "X-Rate-Limit-Limit": str(LIMIT),
            "X-Rate-Limit-Remaining": str(max(0, LIMIT - int(window["count"]))),
            "X-Rate-Limit-Reset": str(int(window["start"] + PERIOD - now)),
        }
        return web.Response(body=payload, headers=headers)

    app = web.Application()
    app.router.add_get("/orders", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
