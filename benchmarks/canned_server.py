"""A canned-response server for the overhead benchmark, run in its own process.

Answers every request with the same small order page and generous rate-limit headers, so the
client's own cost per request is what gets measured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aiohttp import web

SHARED = Path(__file__).resolve().parents[2] / "shared"
EXAMPLE = SHARED / "reference/examples/Order/GetOrderResponse.json"


def body() -> bytes:
    try:
        order = json.loads(EXAMPLE.read_text())
    except OSError:
        order = {"orderId": 1, "orderNumber": "A-1", "orderTotal": 10.5}
    return json.dumps({"orders": [order], "total": 1, "page": 1, "pages": 1}).encode()


def main(port: int) -> None:
    payload = body()
    headers = {
        "Content-Type": "application/json",
        "X-Rate-Limit-Limit": "1000000",
        "X-Rate-Limit-Remaining": "999999",
        "X-Rate-Limit-Reset": "59",
    }

    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=payload, headers=headers)

    app = web.Application()
    app.router.add_get("/orders", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
