"""Capped exponential backoff with full jitter, for retries of failed attempts."""

from __future__ import annotations

import random

import attrs

from .errors import ConfigurationError
from .limits import is_count, is_seconds


@attrs.frozen
class RetryPolicy:
    """How failed attempts are retried.

    ``max_attempts`` counts every attempt, the first included, of a call that meets 5xx
    answers, timeouts or connection errors. A 429 is not counted as a failure: it proves the
    request was not processed, so it is retried (after the window resets) for as long as the
    call's ``max_wait`` allows; without one, for as long as the server refuses (every pause is
    logged as a warning). Waits are drawn uniformly from
    ``[0, min(cap, base * 2**(n - 1))]`` (full jitter) for the n-th retry (n = 1 for the
    first, which waits up to ``base``); a server-given delay
    (Retry-After) wins when present. ``base=0`` removes the waits, which tests use.
    """

    max_attempts: int = 5
    base: float = 0.5
    cap: float = 30.0

    def __attrs_post_init__(self) -> None:
        if not is_count(self.max_attempts) or self.max_attempts < 1:
            raise ConfigurationError(
                f"RetryPolicy.max_attempts must be a whole number >= 1, got {self.max_attempts!r}"
            )
        for name in ("base", "cap"):
            value = getattr(self, name)
            if not is_seconds(value) or value < 0:
                raise ConfigurationError(f"RetryPolicy.{name} must be >= 0 seconds, got {value!r}")

    def delay(self, retry_number: int, *, server_delay: float | None = None) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
        if server_delay is not None:
            return max(0.0, server_delay)
        ceiling = min(self.cap, self.base * (2 ** max(0, retry_number - 1)))
        return random.uniform(0.0, ceiling) if ceiling > 0 else 0.0
