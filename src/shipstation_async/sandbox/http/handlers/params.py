"""Query-string parsing shared by the list endpoints, with ASP.NET-style validation errors.

ASP.NET binds query parameters case-insensitively and treats an empty value as absent; so do
these helpers. Problems are collected per parameter so that one 400 reports all of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from ..._time import MS_PER_DAY, parse_ts
from ..binding import Unbound, to_int


class QueryParams:
    """A request's query parameters by lower-cased name (first value wins), plus errors.

    ``errors`` maps a parameter's documented name to its problems, ready to become a 400
    ModelState.
    """

    def __init__(self, query: Mapping[str, str]) -> None:
        self._values: dict[str, str] = {}
        for k, v in query.items():
            self._values.setdefault(k.lower(), v)
        self.errors: dict[str, list[str]] = {}

    @classmethod
    def of(cls, request: web.Request) -> QueryParams:
        """The parameters of ``request``."""
        return cls(request.query)

    def error(self, name: str, message: str) -> None:
        """Record a problem with parameter ``name``."""
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str) -> str | None:
        """The raw value of ``name`` (None when absent or empty)."""
        value = self._values.get(name.lower())
        if value is None or value.strip() == "":
            return None
        return value

    def integer(
        self, name: str, *, default: int | None = None, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        """An integer parameter, range-checked (inclusive bounds)."""
        raw = self.text(name)
        if raw is None:
            return default
        # As .NET reads an Int32: ASCII digits and a sign (Python's int() would also take
        # "1_0" and other scripts' digits), within its range.
        try:
            value = to_int(raw)
        except Unbound:
            value = None
        if value is None:
            self.error(name, f"The value '{raw}' is not valid for {name}.")
            return default
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            if hi is None:
                self.error(name, f"The field {name} must be at least {lo}.")
            else:
                self.error(name, f"The field {name} must be between {lo} and {hi}.")
            return default
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        """A parameter restricted to ``choices`` (matched case-insensitively); canonical case."""
        raw = self.text(name)
        if raw is None:
            return None
        for c in choices:
            if c.lower() == raw.strip().lower():
                return c
        self.error(name, f"The value '{raw}' is not valid for {name}.")
        return None

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """A ``true``/``false`` parameter (case-insensitive)."""
        raw = self.text(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value not in ("true", "false"):
            self.error(name, f"The value '{raw}' is not valid for {name}.")
            return default
        return value == "true"

    def page(self, *, default_size: int = 100, max_size: int = 500) -> tuple[int, int]:
        """``page`` (default 1) and ``pageSize`` (default ``default_size``, max ``max_size``)."""
        page = self.integer("page", default=1, lo=1) or 1
        size = self.integer("pageSize", default=default_size, lo=1, hi=max_size)
        return page, size or default_size

    def timestamp(self, name: str) -> int | None:
        """A date parameter as Pacific wall-clock milliseconds (see ``_time.parse_ts``)."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return parse_ts(raw)
        except ValueError:
            self.error(name, f"The value '{raw}' is not valid for {name}.")
            return None

    def date_range(self, prefix: str, max_days: int | None) -> tuple[int | None, int | None]:
        """``{prefix}Start`` and ``{prefix}End``, enforcing the ``max_days`` range limit.

        A range open at either end is not limited: how the API counts one is not documented
        (a guess; a client that sends both bounds, as the SDK's streams do, is unaffected).
        """
        start = self.timestamp(f"{prefix}Start")
        end = self.timestamp(f"{prefix}End")
        if (
            max_days is not None
            and start is not None
            and end is not None
            and end - start > max_days * MS_PER_DAY
        ):
            self.error(
                f"{prefix}End",
                f"The date range between {prefix}Start and {prefix}End cannot exceed "
                f"{max_days} days.",
            )
        return start, end
