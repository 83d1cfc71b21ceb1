from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

# The project's own examples, in the documented shapes (see tests/fixtures/examples/README.md).
EXAMPLES_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
EXAMPLES = EXAMPLES_ROOT / "Order"
FIXED_END = datetime(2025, 6, 1, 12, 0, 0)

ORDER_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$")
# Items, products and stores: the fraction's trailing zeros dropped, none on a whole second.
ITEM_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,2}[1-9])?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def auth_headers(sandbox: Any, key: str | None = None, secret: str | None = None) -> dict[str, str]:
    return {
        "Authorization": aiohttp.encode_basic_auth(
            key or sandbox.api_key, secret or sandbox.api_secret
        )
    }


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def documented_order() -> dict[str, Any]:
    """The GetOrderResponse example (the project's own, in the documented shape)."""
    path = EXAMPLES / "GetOrderResponse.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def example(name: str) -> Any:
    """An example: ``"Carrier/ListAllResponse.json"`` parsed, or a request body."""
    text = (EXAMPLES_ROOT / name).read_text()
    if name.endswith(".txt"):
        start = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
        text = text[start:]
    return json.loads(text)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any = None,
    **params: Any,
) -> tuple[int, Any]:
    """One request: (status, parsed JSON body; text when not JSON; None when empty)."""
    query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    kwargs: dict[str, Any] = {"params": query}
    if body is not None:
        kwargs["json"] = body
    async with session.request(method, path, **kwargs) as r:
        raw = await r.read()
        if r.content_type != "application/json":
            return r.status, raw.decode() or None
        return r.status, (json.loads(raw) if raw else None)


def model_state_keys(body: Any) -> set[str]:
    """The ModelState keys of a 400 body (asserting its ASP.NET shape)."""
    assert body["Message"] == "The request is invalid.", body
    assert all(isinstance(m, str) and m for ms in body["ModelState"].values() for m in ms)
    return set(body["ModelState"])
