"""Records written back as the API sent them: compact JSON, each Decimal with its own digits."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any


def dumps_exact(value: Any) -> str:
    """Compact JSON in which each Decimal keeps its own digits ("12.50" stays ``12.50``).

    The API's numbers are decoded as Decimal, so a record written back this way reads as it
    was received. Each Decimal is first written as a string between two random marks, which
    are then taken off; the marks are fresh for every call, so no data can imitate them.
    A Decimal that is not a finite number raises ValueError (JSON has no NaN or Infinity).
    """
    return _ExactDumper().dumps(value)


class _ExactDumper:
    """:func:`dumps_exact` with one pair of marks (and one compiled pattern) for many values."""

    def __init__(self) -> None:
        self._token = token = secrets.token_hex(8)
        self._marks = re.compile(f'"{token}([-+0-9.eE]+){token}"')
        self._marked = 0

    def _mark(self, item: object) -> str:
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} is not a JSON number")
            self._marked += 1
            return f"{self._token}{item}{self._token}"
        raise TypeError(f"{type(item).__name__} {item!r} is not JSON serializable")

    def dumps(self, value: Any) -> str:
        self._marked = 0
        text = json.dumps(value, default=self._mark, separators=(",", ":"), allow_nan=False)
        if not self._marked:
            return text
        exact, count = self._marks.subn(r"\1", text)
        if count != self._marked:  # pragma: no cover - 64 random bits would have to appear
            raise ValueError("could not write the numbers exactly")
        return exact


def dumps_exact_each(records: Sequence[Any]) -> list[str]:
    """:func:`dumps_exact` of each record, with one pair of marks for the whole batch."""
    dumper = _ExactDumper()
    return [dumper.dumps(r) for r in records]


def _fast_line_encoder() -> Callable[[Sequence[Any]], bytes] | None:
    # msgspec (the ``speedups`` extra) writes Decimals with their own digits, like dumps_exact,
    # about eight times as fast; it writes non-ASCII as UTF-8 where the json module escapes it.
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec.json.Encoder(decimal_format="number").encode_lines


_fast_lines = _fast_line_encoder()


def dumps_exact_lines(records: Sequence[Any]) -> bytes:
    """Each record as :func:`dumps_exact` writes it, one a line (each ending in a newline).

    For records as :func:`decode_json` reads them (no floats: numbers are int or Decimal).
    msgspec writes them when installed and the result is plain ASCII (below DEL), which is
    where its bytes and the json module's agree; otherwise the json module does.
    """
    if _fast_lines is not None:
        try:
            data = _fast_lines(records)
        except (TypeError, ValueError):
            pass  # the json module decides, and words the error
        else:
            if data.isascii() and b"\x7f" not in data:
                return data
    return "".join(text + "\n" for text in dumps_exact_each(records)).encode()
