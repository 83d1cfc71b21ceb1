"""The rate-limit plan a client schedules against (and the sandbox enforces)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import attrs

from .errors import ConfigurationError


def _count(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not is_count(value) or value <= 0:
        raise ConfigurationError(
            f"RateLimit.{attribute.name} must be a positive whole number, got {value!r}"
        )


def _seconds(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value <= 0:
        raise ConfigurationError(
            f"RateLimit.{attribute.name} must be a positive number of seconds, got {value!r}"
        )


def is_count(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_seconds(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a finite real number (an int or float, not a bool)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value) and abs(value) < 1e15  # beyond: no duration, and sums overflow
    except OverflowError:  # an int too large for a float
        return False


@attrs.frozen
class RateLimit:
    """A request budget: at most ``requests`` sends in any ``period`` seconds per API key.

    ShipStation V1 allows 40 requests per 60 s, the default. ``margin`` (seconds) is added to
    the time every slot is held after its answer: the scheduler needs none against a server
    that counts a request before answering it (a slot frees W after the answer, whatever the
    server's counting delay), and learns one from the answers when a server shows it counts
    longer; give one only for a server known to need it. ``reserve`` is the number of slots
    per window the ``bulk`` lane leaves free for ``interactive`` calls; it defaults to
    ``max(1, requests // 10)`` and may be 0 for a process that only runs bulk work.
    """

    requests: int = attrs.field(default=40, validator=_count)
    period: float = attrs.field(default=60.0, validator=_seconds)
    margin: float | None = None
    reserve: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.margin is not None and (not is_seconds(self.margin) or self.margin < 0):
            raise ConfigurationError(f"RateLimit.margin must be >= 0 seconds, got {self.margin!r}")
        if self.reserve is not None and (
            not is_count(self.reserve) or not 0 <= self.reserve < self.requests
        ):
            raise ConfigurationError(
                f"RateLimit.reserve must be in 0..{self.requests - 1}, got {self.reserve!r}"
            )

    @property
    def effective_margin(self) -> float:
        """The fixed margin in seconds (0 when none was given: the scheduler learns one)."""
        return self.margin if self.margin is not None else 0.0

    @property
    def effective_reserve(self) -> int:
        """The interactive reserve actually used (the default when none was given)."""
        if self.reserve is not None:
            return self.reserve
        return min(max(1, self.requests // 10), self.requests - 1)

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse ``"40/60"`` (requests per seconds) as used on the command line."""
        try:
            requests, period = text.split("/", 1)
            return cls(requests=int(requests), period=float(period))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"rate limit must look like REQUESTS/SECONDS (for example 40/60), got {text!r}"
            ) from exc
