"""The backfill command's progress display: the figures it shows, and how it shows them.

:func:`figures` computes what the line shows from a :class:`~.backfill.Progress` and the
budget's status (pure, so tested as such); :class:`Display` draws it, a rich bar on a terminal
(with the ``cli`` extra) and a plain line every few seconds otherwise (a log, a pipe).
"""

from __future__ import annotations

import bisect
import itertools
import statistics
import sys
from collections.abc import Sequence
from typing import Any

import attrs

PLAIN_EVERY = 2.0
"""Seconds between plain progress lines (the first is printed at once)."""

PACE_SAMPLES = 8
"""Progress reports the recent pace is measured over."""


@attrs.frozen
class Figures:
    """What the progress line shows.

    ``records`` written in all (those of the run resumed included), ``total`` that plus the
    records estimated left, ``percent`` of it written (100 only once nothing is left), and
    ``eta`` the seconds still needed; None where not known yet.
    """

    records: int
    total: int | None
    percent: int | None
    eta: float | None


def figures(progress: Any, status: Any, history: Sequence[tuple[float, int]] = ()) -> Figures:
    """The figures of one progress report; ``history``: see :func:`eta`."""
    total = percent = None
    if progress.records_left is not None:
        total = progress.records + progress.records_left
        # Rounded down: 100 % is for when nothing is left.
        percent = 100 if progress.records_left <= 0 else min(99, 100 * progress.records // total)
    left = progress.requests_left
    return Figures(
        records=progress.records,
        total=total,
        percent=percent,
        eta=None if left is None else eta(left, status, history),
    )


def eta(requests_left: int, status: Any, history: Sequence[tuple[float, int]]) -> float:
    """Seconds ``requests_left`` more requests need: the budget's wait or the pace, the longer.

    ``history``: (seconds into the run, requests sent in all) at each progress report so far,
    this one last. The budget's wait is :func:`budget_wait` for the requests not in flight
    (those hold their slots already); the pace, :func:`recent_pace` over the last reports, is
    what the answers themselves take once the budget has room, as at the end of a run.
    """
    if requests_left <= 0 or not history:
        return 0.0
    window = status.period + status.margin
    wait = budget_wait(history, requests_left - status.in_flight, status.limit, window)
    pace = recent_pace(history[-PACE_SAMPLES:])
    return max(wait, requests_left * pace if pace is not None else 0.0)


def budget_wait(
    history: Sequence[tuple[float, int]], needed: int, limit: int, window: float
) -> float:
    """Seconds until the last of ``needed`` more requests has a slot of the budget.

    The budget is a sliding window: a request holds its slot ``window`` seconds from its answer
    (about when the report that counted it came), so the n-th request goes once the
    (n - ``limit``)-th has been answered that long; ``history`` as for :func:`eta`.
    """
    if needed <= 0 or not history:
        return 0.0
    now, sent = history[-1]
    # The last request to come waits ``windows`` whole windows after the first of its chain
    # (every ``limit``-th request), which takes the slot of a request already sent, if any.
    windows = (needed - 1) // limit
    earlier = sent + needed - windows * limit - limit
    if earlier <= 0:
        at = now  # a slot no request of this run has held
    else:
        counts = [count for _, count in history]
        at = history[bisect.bisect_left(counts, earlier)][0] + window
    return max(now, at) + windows * window - now


def recent_pace(samples: Sequence[tuple[float, int]]) -> float | None:
    """Seconds per request lately, from ``samples`` of (seconds elapsed, requests sent).

    The median of the steps between samples: a step that waited for the budget (the window
    full) is an outlier, not the pace of the answers. None until three steps with requests
    (the median of two is half a wait when one waited).
    """
    steps = [
        (after - before) / (sent - earlier)
        for (before, earlier), (after, sent) in itertools.pairwise(samples)
        if sent > earlier
    ]
    return statistics.median(steps) if len(steps) >= 3 else None


def duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``2h07m``."""
    whole = round(seconds)
    if whole < 100:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 100:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def describe(progress: Any, status: Any, shown: Figures) -> str:
    """The progress line's text after the percentage."""
    count = (
        f"{shown.records:,}" if shown.total is None else f"{shown.records:,} of ~{shown.total:,}"
    )
    text = (
        f"{count} · {progress.pages} pages · {progress.requests} req · "
        f"budget {status.sent_in_window}/{status.limit} per {status.period:g}s"
    )
    if shown.eta is not None:
        text += f" · ETA {duration(shown.eta)}"
    return text


class Display:
    """Shows a backfill's progress: a rich bar on a terminal, plain lines otherwise.

    ``bar``: force the bar on or off (default: on when stdout is a terminal and rich, the
    ``cli`` extra, is installed).
    """

    def __init__(self, ss: Any, resource: str, *, bar: bool | None = None) -> None:
        self._ss = ss
        self._resource = resource
        self._want_bar = sys.stdout.isatty() if bar is None else bar
        self._bar: Any = None
        self._task: Any = None
        self._last_plain: float | None = None
        self._history: list[tuple[float, int]] = []  # (seconds, requests sent) per report

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def _start_bar(self) -> bool:
        # On the first report: a run with nothing left to fetch shows no bar at all.
        if not self._want_bar:
            return False
        if self._bar is None:
            try:
                from rich.progress import BarColumn, Progress, TextColumn
            except ImportError:
                self._want_bar = False
                return False
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=12),
                TextColumn("{task.fields[percent]}"),
                TextColumn("{task.fields[detail]}"),
                refresh_per_second=4,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self._resource, total=None, percent="", detail="")
        return True

    def update(self, progress: Any) -> None:
        """Show one progress report (the backfill's ``on_progress``)."""
        status = self._ss.rate_limit_status()
        self._history.append((progress.elapsed, status.total_sent))
        shown = figures(progress, status, self._history)
        detail = describe(progress, status, shown)
        percent = "" if shown.percent is None else f"{shown.percent:>3d}%"
        if self._start_bar():
            self._bar.update(
                self._task,
                completed=shown.records,
                total=shown.total,
                percent=percent,
                detail=detail,
            )
        elif self._last_plain is None or progress.elapsed - self._last_plain >= PLAIN_EVERY:
            self._last_plain = progress.elapsed
            lead = f"{percent.strip()} · " if percent else ""
            print(f"{self._resource}: {lead}{detail}", flush=True)
