from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

# shared/ sits beside the repository (locally and in CI).
_REPO = Path(__file__).resolve().parents[2]
EXAMPLES = next(
    (
        p
        for p in (
            _REPO.parent / "shared" / "reference" / "examples" / "Order",
            Path("/work/shared/reference/examples/Order"),
        )
        if p.exists()
    ),
    _REPO.parent / "shared" / "reference" / "examples" / "Order",
)
FIXED_END = datetime(2025, 6, 1, 12, 0, 0)

ORDER_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$")
ITEM_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")
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
    """The docs' GetOrderResponse example."""
    path = EXAMPLES / "GetOrderResponse.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data
