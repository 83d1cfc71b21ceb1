"""Injected faults: scripted and seeded-random errors, drops, 429s and latency."""

from __future__ import annotations

import fnmatch
import random
import threading
from typing import Any, Literal

import attrs

from ..errors import ConfigurationError
from ..limits import is_seconds

FaultKind = Literal["error", "drop_before", "drop_after", "rate_limit", "late"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "drop_before", "drop_after", "rate_limit", "late")


@attrs.frozen
class FaultDecision:
    """What the sandbox does to one admitted request (``kind`` None: nothing).

    ``status`` is the status to answer for ``"error"`` (and 429 for ``"rate_limit"``),
    ``retry_after`` the ``Retry-After`` seconds for a scripted ``"rate_limit"`` (None: no
    header), ``latency`` the extra delay in seconds from :attr:`Faults.latency`, ``delay``
    the seconds a ``"late"`` request waits, read but not yet processed.
    """

    kind: FaultKind | None = None
    status: int = 0
    retry_after: float | None = None
    latency: float = 0.0
    delay: float = 0.0


@attrs.define
class _Script:
    kind: FaultKind
    status: int
    remaining: int
    method: str | None
    path: str | None
    retry_after: float | None
    delay: float

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path.lower(), self.path)


def _share(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    # Checked when set too (attrs validates on assignment): a test may change them mid-run.
    if not is_seconds(value) or not 0 <= value <= 1:
        raise ConfigurationError(f"{attribute.name} must be a share from 0 to 1, got {value!r}")


def _seconds(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value < 0:
        raise ConfigurationError(f"{attribute.name} must be >= 0 seconds, got {value!r}")


def _delay_range(value: float | tuple[float, float]) -> tuple[float, float]:
    # One number is a fixed delay; a pair (low, high) a uniform draw between them.
    low, high = value if isinstance(value, tuple) else (value, value)
    if not (is_seconds(low) and is_seconds(high) and 0 <= low <= high):
        raise ConfigurationError(
            f"late_delay must be seconds >= 0, or a pair (low, high) of them, got {value!r}"
        )
    return (float(low), float(high))


@attrs.define(eq=False)
class Faults:
    """The faults a sandbox injects into admitted requests; mutable while it serves.

    Random shares are drawn from ``random.Random(seed)`` in arrival order, a fixed number of
    draws per admitted request, so the same seed and the same request sequence give the same
    faults. Scripted faults (:meth:`script`) are applied first and do not disturb that
    sequence. Requests refused by the rate window (429) and refused credentials (401) never
    reach the faults. The object is thread-safe: a test may change it while a
    :class:`ThreadedSandbox` serves.

    ``latency``: extra seconds added to every admitted request. ``error_rate``: share of
    admitted requests answered with a status drawn from ``error_statuses``.
    ``drop_before_rate``: share whose connection is closed before the handler runs (not
    processed). ``drop_after_rate``: share processed by the handler (side effects applied)
    whose connection is then closed with no response. ``late_rate``: share read whole and
    then processed only after ``late_delay`` seconds (a number, or a ``(low, high)`` pair
    drawn uniformly), as a loaded server processes a request long after it arrived: set the
    delay beyond a client's timeout and the client gives up while the request is still on
    its way to taking effect (a label bought after the client reported an ambiguous failure).
    Latency, by contrast, is added after processing: the effect is visible before the answer.
    """

    latency: float = attrs.field(default=0.0, validator=_seconds)
    error_rate: float = attrs.field(default=0.0, validator=_share)
    error_statuses: tuple[int, ...] = (500, 502, 503)
    drop_before_rate: float = attrs.field(default=0.0, validator=_share)
    drop_after_rate: float = attrs.field(default=0.0, validator=_share)
    late_rate: float = attrs.field(default=0.0, validator=_share)
    late_delay: tuple[float, float] = attrs.field(
        default=(0.0, 0.0), converter=_delay_range, on_setattr=attrs.setters.convert
    )
    seed: int = 0
    _rng: random.Random = attrs.field(init=False, repr=False)
    # Its own sequence, so that late faults leave the other shares' draws as they were.
    _late_rng: random.Random = attrs.field(init=False, repr=False)
    _scripts: list[_Script] = attrs.field(init=False, factory=list, repr=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._late_rng = random.Random(self.seed ^ 0x1A7E)

    def script(
        self,
        kind: FaultKind,
        *,
        status: int = 500,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue a deterministic fault for the next ``times`` matching admitted requests.

        ``kind``: ``"error"`` answers ``status`` with a ShipStation-style body;
        ``"rate_limit"`` answers 429 with the window's headers (plus ``Retry-After`` when
        ``retry_after`` is given); ``"drop_before"`` closes the connection before the handler
        runs; ``"drop_after"`` runs the handler, then closes the connection unanswered;
        ``"late"`` reads the request, waits ``delay`` seconds, then processes and answers it
        (whether or not the client is still there).
        ``method`` (e.g. ``"GET"``) and ``path`` (an exact path or an fnmatch pattern such as
        ``"/orders/*"``, case-insensitive, without the query string) narrow the match. Scripts
        apply in the order queued, before any random share.
        """
        if kind not in FAULT_KINDS:
            raise ConfigurationError(f"fault kind must be one of {FAULT_KINDS}, got {kind!r}")
        if times < 1:
            raise ConfigurationError(f"times must be at least 1, got {times!r}")
        if kind == "error" and not 400 <= status <= 599:
            raise ConfigurationError(f"an error fault needs a 4xx or 5xx status, got {status!r}")
        if not is_seconds(delay) or delay < 0:
            raise ConfigurationError(f"delay must be >= 0 seconds, got {delay!r}")
        entry = _Script(
            kind=kind,
            status=429 if kind == "rate_limit" else status,
            remaining=times,
            method=method.upper() if method else None,
            path=path.lower() if path else None,
            retry_after=retry_after,
            delay=float(delay),
        )
        with self._lock:
            self._scripts.append(entry)

    def clear(self) -> None:
        """Remove every fault: scripts, shares and latency; restart the random sequence."""
        with self._lock:
            self._scripts.clear()
            self.latency = 0.0
            self.error_rate = 0.0
            self.drop_before_rate = 0.0
            self.drop_after_rate = 0.0
            self.late_rate = 0.0
            self.late_delay = (0.0, 0.0)
            self._rng = random.Random(self.seed)
            self._late_rng = random.Random(self.seed ^ 0x1A7E)

    @property
    def pending(self) -> int:
        """How many scripted faults are still queued (counting ``times``)."""
        with self._lock:
            return sum(s.remaining for s in self._scripts)

    def decide(self, method: str, path: str) -> FaultDecision:
        """Choose the fault for one admitted request (the sandbox calls this once per request)."""
        with self._lock:
            rng = self._rng
            # Always the same number of draws, so the sequence depends only on the seed and
            # the number of admitted requests, not on rates or scripts.
            r_before, r_error, r_status, r_after = (
                rng.random(),
                rng.random(),
                rng.random(),
                rng.random(),
            )
            r_late, r_delay = self._late_rng.random(), self._late_rng.random()
            latency = self.latency
            for entry in self._scripts:
                if entry.matches(method, path):
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._scripts.remove(entry)
                    return FaultDecision(
                        kind=entry.kind,
                        status=entry.status,
                        retry_after=entry.retry_after,
                        latency=latency,
                        delay=entry.delay,
                    )
            if r_before < self.drop_before_rate:
                return FaultDecision(kind="drop_before", latency=latency)
            if r_error < self.error_rate and self.error_statuses:
                statuses = self.error_statuses
                status = statuses[min(int(r_status * len(statuses)), len(statuses) - 1)]
                return FaultDecision(kind="error", status=status, latency=latency)
            if r_after < self.drop_after_rate:
                return FaultDecision(kind="drop_after", latency=latency)
            if r_late < self.late_rate:
                low, high = self.late_delay
                return FaultDecision(
                    kind="late", latency=latency, delay=low + (high - low) * r_delay
                )
            return FaultDecision(latency=latency)
