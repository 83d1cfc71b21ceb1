"""The server side of the rate limit: one API key's request window, as pure logic.

Nothing here reads a clock: every call takes ``now`` (seconds, any monotonic origin), so the
window can be driven by a fake clock in tests and by the sandbox's clock in the server.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Literal

import attrs

from ..errors import ConfigurationError
from ..limits import RateLimit

WindowMode = Literal["fixed", "aligned", "rolling"]
ResetFormat = Literal["floor", "ceil", "float", "int"]
WINDOW_MODES: tuple[WindowMode, ...] = ("fixed", "aligned", "rolling")
RESET_FORMATS: tuple[ResetFormat, ...] = ("floor", "ceil", "float", "int")
"""How X-Rate-Limit-Reset is written: whole seconds rounded down (``"floor"``, also ``"int"``)
or up (``"ceil"``), or with three decimals (``"float"``). ShipStation's rounding of its whole
seconds is not documented, so the client must cope with either."""


def reset_rounding(reset_format: ResetFormat) -> Literal["floor", "ceil", "float"]:
    """The rounding a Reset format names (``"int"`` is the older name of ``"floor"``)."""
    if reset_format == "int":
        return "floor"
    if reset_format not in RESET_FORMATS:
        raise ConfigurationError(
            f"reset_format must be one of {RESET_FORMATS}, got {reset_format!r}"
        )
    return reset_format


@attrs.frozen
class Decision:
    """The window's answer for one request.

    ``admitted`` says whether it may be processed (False means 429). ``limit`` is L,
    ``remaining`` the requests left in the current window after this one (never negative),
    ``reset`` the seconds until the current window ends (rolling: until the oldest counted
    arrival leaves the window).
    """

    admitted: bool
    limit: int
    remaining: int
    reset: float

    def headers(self, reset_format: ResetFormat = "floor") -> dict[str, str]:
        """The ``X-Rate-Limit-*`` headers for this decision.

        ``"floor"`` (or ``"int"``) rounds Reset down to whole seconds, ``"ceil"`` up, and
        ``"float"`` gives three decimals.
        """
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": format_reset(self.reset, reset_format),
        }


def format_reset(reset: float, reset_format: ResetFormat) -> str:
    """Format a Reset value in seconds: rounded down or up to whole seconds, or 3 decimals."""
    reset = max(0.0, reset)
    rounding = reset_rounding(reset_format)
    if rounding == "floor":
        return str(math.floor(reset))
    if rounding == "ceil":
        return str(math.ceil(reset))
    return f"{reset:.3f}"


class RateWindow:
    """One API key's request window.

    ``mode`` is ``"fixed"`` (a window of ``period`` seconds opens at the first request after
    the previous one closed), ``"aligned"`` (windows ``[k*W, (k+1)*W)`` on the clock ``now``
    comes from) or ``"rolling"`` (a request is admitted while fewer than L counted requests
    arrived in ``(now - W, now]``). With ``count_rejected`` a refused request also counts
    against the window (in rolling mode it joins the sliding log and so delays recovery);
    without it only admitted requests count. (In fixed and aligned mode the difference does
    not show in admissions or headers: a full window refuses and says Remaining 0 either way.)
    """

    def __init__(
        self,
        rate_limit: RateLimit,
        *,
        mode: WindowMode = "fixed",
        count_rejected: bool = True,
    ) -> None:
        if mode not in WINDOW_MODES:
            raise ConfigurationError(f"window must be one of {WINDOW_MODES}, got {mode!r}")
        self.limit = rate_limit.requests
        self.period = float(rate_limit.period)
        self.mode: WindowMode = mode
        self.count_rejected = count_rejected
        # fixed and aligned: the current window's start and its count.
        self._start: float | None = None
        self._count = 0
        # rolling: the counted arrival times in the last period, oldest first.
        self._log: deque[float] = deque()

    def decide(self, now: float) -> Decision:
        """Count one request arriving at ``now`` and say whether it is admitted."""
        if self.mode == "rolling":
            return self._decide_rolling(now)
        if self.mode == "aligned":
            start = math.floor(now / self.period) * self.period
            if self._start != start:
                self._start, self._count = start, 0
        elif self._start is None or now >= self._start + self.period:
            self._start, self._count = now, 0
        assert self._start is not None
        admitted = self._count < self.limit
        if admitted or self.count_rejected:
            self._count += 1
        return Decision(
            admitted=admitted,
            limit=self.limit,
            remaining=max(0, self.limit - self._count),
            reset=self._clamp(self.period - (now - self._start)),
        )

    def peek(self, now: float) -> Decision:
        """The window's state at ``now`` without counting a request (``admitted``: room left)."""
        if self.mode == "rolling":
            self._evict(now)
            count = len(self._log)
            reset = self._log[0] + self.period - now if self._log else self.period
        else:
            if self.mode == "aligned":
                start = math.floor(now / self.period) * self.period
                count = self._count if self._start == start else 0
            else:
                open_ = self._start is not None and now < self._start + self.period
                start = self._start if open_ and self._start is not None else now
                count = self._count if open_ else 0
            reset = start + self.period - now
        return Decision(
            admitted=count < self.limit,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset=self._clamp(reset),
        )

    def _clamp(self, reset: float) -> float:
        return min(self.period, max(0.0, reset))

    def _evict(self, now: float) -> None:
        log, horizon = self._log, now - self.period
        while log and log[0] <= horizon:
            log.popleft()

    def _decide_rolling(self, now: float) -> Decision:
        self._evict(now)
        log = self._log
        admitted = len(log) < self.limit
        if admitted or self.count_rejected:
            log.append(now)
        reset = self.period - (now - log[0]) if log else self.period
        return Decision(
            admitted=admitted,
            limit=self.limit,
            remaining=max(0, self.limit - len(log)),
            reset=self._clamp(reset),
        )


class WindowMeter:
    """Measures the most admitted requests seen inside any interval ``[t, t + period)``.

    Feed it admitted arrival times in non-decreasing order; ``max_in_window`` is the largest
    number of them that ever fell within one half-open interval of length ``period``,
    whatever the window mode that admitted them. It is the number that proves (or refutes)
    that a client never squeezed more than L requests into any period.
    """

    def __init__(self, period: float) -> None:
        self.period = float(period)
        self.max_in_window = 0
        self._recent: deque[float] = deque()

    def observe(self, t: float) -> int:
        """Record an admitted arrival at ``t``; return how many fall in ``(t - period, t]``."""
        recent, horizon = self._recent, t - self.period
        while recent and recent[0] <= horizon:
            recent.popleft()
        recent.append(t)
        n = len(recent)
        if n > self.max_in_window:
            self.max_in_window = n
        return n

    def reset(self) -> None:
        """Forget everything observed."""
        self.max_in_window = 0
        self._recent.clear()
