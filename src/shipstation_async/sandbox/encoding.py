r"""The sandbox's one JSON encoding, and paged bodies joined from pre-encoded records.

Every body is written as ``json.dumps(value, separators=(",", ":"))`` writes it (ASCII, with
``\uXXXX`` escapes); records kept already encoded (the orders: see
:mod:`.state.order_cache`) are joined into the same bytes the whole page would encode to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# Bodies are trees built per request, never cyclic: skipping the check saves ~10%.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def encode_json(value: Any) -> bytes:
    """``value`` as the sandbox writes JSON: compact, ASCII."""
    return _ENCODER.encode(value).encode()


def join_paged(key: str, records: Iterable[bytes], **fields: Any) -> bytes:
    """``{key: [records...], **fields}`` from records already encoded by :func:`encode_json`.

    The same bytes as ``encode_json({key: [decoded records], **fields})``.
    """
    parts = [b"{" + encode_json(key) + b":["]
    for record in records:
        parts += (record, b",")
    if len(parts) > 1:
        parts.pop()  # the last comma
    parts.append(b"]")
    parts += (b"," + encode_json(k) + b":" + encode_json(v) for k, v in fields.items())
    parts.append(b"}")
    return b"".join(parts)  # one copy of the page
