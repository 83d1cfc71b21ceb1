"""Draw the site's generated picture, one budget window, from a real run against the sandbox.

Run it by hand after a change to the budget's rules (``tests/docs/test_pictures.py`` runs it
too, into a temporary directory, and checks what the picture shows)::

    PYTHONPATH=src python docs/pictures.py            # writes docs/_static/budget-window.svg
    PYTHONPATH=src python docs/pictures.py OUT_DIR    # anywhere else

It starts the embedded sandbox with a scaled-down window (40 requests per 2 s, a fixed window,
every answer 0.2 s late, Reset sent with its fraction), makes 60 ``orders.list`` calls at once
and records the client's events through ``hooks=``: when each request went out
(:class:`~shipstation_async.events.RequestSent`) and when its answer came back
(:class:`~shipstation_async.events.ResponseReceived`, whose ``elapsed`` gives the send it
answers). The sandbox runs in this process, on this process's monotonic clock, so the moment it
counted the first request and the Reset it answered place the server's window end on the same
time axis. The SVG is written by hand (no plotting library) on a white background, so it reads
the same in the site's light and dark themes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import attrs

from shipstation_async import RateLimit, ShipStation
from shipstation_async.events import Event, RequestSent, ResponseReceived, Throttled
from shipstation_async.sandbox import ThreadedSandbox

STATIC = Path(__file__).resolve().parent / "_static"
WINDOW_FILE = "budget-window.svg"

CALLS = 60
LIMIT = RateLimit(40, 2.0)
LATENCY = 0.2

# Colours chosen to read on white; the picture carries its own white background.
INK = "#1f2328"
GRID = "#d0d7de"
SEND = "#0969da"
PROBE = "#bc4c00"
FLIGHT = "#0969da"
HOLD = "#b6d4fb"
RESET = "#cf222e"
COUNT = "#1a7f37"


@attrs.frozen
class Request:
    """One request of the run: seconds from the first send to its send and to its answer."""

    send: float
    answer: float | None
    probe: bool
    status: int | None


@attrs.frozen
class WindowRun:
    """What the run recorded: its requests, the server's first window end, and what went wrong.

    ``reset`` is when the server's first window ended (the moment it counted the first request
    plus the Reset it answered), in seconds from the first send; ``throttled`` counts 429
    pauses (there should be none).
    """

    limit: RateLimit
    latency: float
    requests: tuple[Request, ...]
    reset: float | None
    throttled: int

    @property
    def sends(self) -> list[float]:
        """Every send time, in order."""
        return sorted(r.send for r in self.requests)


def most_in_window(times: Sequence[float], period: float) -> int:
    """The most of ``times`` that fall within any ``period`` seconds (a half-open window)."""
    ordered = sorted(times)
    most = 0
    first = 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - period:
            first += 1
        most = max(most, last - first + 1)
    return most


def pair(
    sent: Sequence[tuple[float, RequestSent]], answered: Sequence[tuple[float, ResponseReceived]]
) -> list[Request]:
    """Match each answer to the send it answers (the one nearest its arrival less ``elapsed``).

    The events carry no request id; ``elapsed`` runs from the send, so an answer's send is the
    unmatched send nearest to ``arrival - elapsed``. Sends never answered keep ``answer=None``.
    """
    open_sends = dict(enumerate(sent))
    requests: list[Request] = []
    for arrival, event in sorted(answered, key=lambda item: item[0] - item[1].elapsed):
        if not open_sends:
            break
        estimate = arrival - event.elapsed
        index = min(open_sends, key=lambda i: abs(open_sends[i][0] - estimate))
        moment, send = open_sends.pop(index)
        requests.append(Request(moment, arrival, send.probe, event.status))
    requests += [Request(moment, None, send.probe, None) for moment, send in open_sends.values()]
    return sorted(requests, key=lambda r: r.send)


def record_window(
    calls: int = CALLS, limit: RateLimit = LIMIT, latency: float = LATENCY
) -> WindowRun:
    """Make ``calls`` list calls at once against a fresh sandbox and record what happened."""
    events: list[tuple[float, Event]] = []

    def hook(event: Event) -> None:
        events.append((time.monotonic(), event))

    with ThreadedSandbox(
        rate_limit=limit, orders=200, latency=latency, window="fixed", reset_format="float"
    ) as sandbox:

        async def job() -> None:
            async with ShipStation(
                sandbox.api_key,
                sandbox.api_secret,
                base_url=sandbox.url,
                rate_limit=limit,
                hooks=[hook],
            ) as ss:
                pages = (ss.orders.list(page=n, page_size=1) for n in range(1, calls + 1))
                await asyncio.gather(*pages)

        asyncio.run(job())
        arrivals = sandbox.arrivals()
    sent = [(t, e) for t, e in events if isinstance(e, RequestSent)]
    answered = [(t, e) for t, e in events if isinstance(e, ResponseReceived)]
    throttled = sum(isinstance(e, Throttled) for _, e in events)
    if not sent:
        raise RuntimeError("the run sent nothing")
    origin = min(t for t, _ in sent)
    requests = [
        attrs.evolve(
            r, send=r.send - origin, answer=None if r.answer is None else r.answer - origin
        )
        for r in pair(sent, answered)
    ]
    reset = None
    first_answer = min(answered, key=lambda item: item[0], default=None)
    if arrivals and first_answer is not None:
        headers = first_answer[1].rate_limit
        if headers is not None and headers.reset is not None:
            reset = arrivals[0][0] + headers.reset - origin
    return WindowRun(limit, latency, tuple(requests), reset, throttled)


@attrs.frozen
class _Frame:
    """Where things go: time to x, and the two panels' positions."""

    left: float
    width: float
    end: float
    rows_top: float
    row: float
    count_top: float
    count_height: float

    def x(self, seconds: float) -> float:
        return self.left + self.width * min(max(seconds, 0.0), self.end) / self.end


def _ticks(end: float, step: float) -> list[float]:
    count = int(end / step + 1e-9)
    return [round(i * step, 6) for i in range(count + 1)]


def _count_path(frame: _Frame, sends: Sequence[float], period: float, limit: int) -> str:
    """The staircase of sends in the last ``period`` seconds, as an SVG path."""
    steps = sorted([(t, 1) for t in sends] + [(t + period, -1) for t in sends])
    level = 0
    scale = frame.count_height / limit
    base = frame.count_top + frame.count_height
    points = [f"M{frame.x(0):.1f},{base:.1f}"]
    for moment, change in steps:
        if moment > frame.end:
            break
        y = base - level * scale
        points.append(f"L{frame.x(moment):.1f},{y:.1f}")
        level += change
        points.append(f"L{frame.x(moment):.1f},{base - level * scale:.1f}")
    points.append(f"L{frame.x(frame.end):.1f},{base - level * scale:.1f}")
    return " ".join(points)


def draw_window(run: WindowRun) -> str:
    """The run as an SVG picture: one row per request, and the count in the trailing window."""
    limit, period = run.limit.requests, run.limit.period
    answers = [r.answer for r in run.requests if r.answer is not None]
    last = max(answers + [r.send for r in run.requests])
    end = max(0.5, -(-(last + 0.25 * period) // 0.5) * 0.5)
    rows = len(run.requests)
    frame = _Frame(
        left=70.0,
        width=860.0,
        end=end,
        rows_top=96.0,
        row=4.0,
        count_top=96.0 + rows * 4.0 + 60.0,
        count_height=110.0,
    )
    height = frame.count_top + frame.count_height + 70.0
    most = most_in_window(run.sends, period)
    probes = sum(r.probe for r in run.requests)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="960" height="{height:.0f}" '
        f'viewBox="0 0 960 {height:.0f}" font-family="sans-serif" font-size="13" '
        f'data-limit="{limit}" data-period="{period:g}">',
        f"<title>One budget window: {rows} calls against a limit of {limit} per "
        f"{period:g} s</title>",
        '<rect class="background" x="0" y="0" width="960" height="100%" fill="#ffffff"/>',
        f'<text x="20" y="26" font-size="16" font-weight="bold" fill="{INK}">'
        f"{rows} calls at once, RateLimit({limit}, {period:g}): a real run against the sandbox"
        "</text>",
        f'<text x="20" y="46" fill="{INK}">fixed window, every answer {run.latency:g} s late;'
        f" {probes} probes, {run.throttled} 429s, at most {most} sends in any {period:g} s"
        "</text>",
    ]
    out += _legend(frame)
    # Grid and time axis, shared by both panels.
    axis_y = frame.count_top + frame.count_height
    for tick in _ticks(end, 0.5):
        x = frame.x(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{frame.rows_top - 6:.1f}" x2="{x:.1f}" y2="{axis_y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{axis_y + 18:.1f}" text-anchor="middle" fill="{INK}">'
            f"{tick:g}</text>"
        )
    out.append(
        f'<text x="{frame.left + frame.width / 2:.1f}" y="{axis_y + 40:.1f}" '
        f'text-anchor="middle" fill="{INK}">seconds since the first send</text>'
    )
    out.append(
        f'<text x="{frame.left - 8:.1f}" y="{frame.rows_top + 4:.1f}" text-anchor="end" '
        f'fill="{INK}">calls</text>'
    )
    out += _rows(frame, run)
    out += _groups(frame, run)
    out += _reset_line(frame, run.reset, axis_y)
    out += _count_panel(frame, run, most)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(frame: _Frame) -> list[str]:
    y = 70.0
    return [
        f'<circle cx="{frame.left + 4:.1f}" cy="{y - 4:.1f}" r="3" fill="{SEND}"/>',
        f'<text x="{frame.left + 12:.1f}" y="{y:.1f}" fill="{INK}">send</text>',
        f'<circle cx="{frame.left + 64:.1f}" cy="{y - 4:.1f}" r="3" fill="{PROBE}"/>',
        f'<text x="{frame.left + 72:.1f}" y="{y:.1f}" fill="{INK}">probe (goes alone)</text>',
        f'<line x1="{frame.left + 200:.1f}" y1="{y - 4:.1f}" x2="{frame.left + 224:.1f}" '
        f'y2="{y - 4:.1f}" stroke="{FLIGHT}" stroke-width="2"/>',
        f'<text x="{frame.left + 230:.1f}" y="{y:.1f}" fill="{INK}">send to answer</text>',
        f'<rect x="{frame.left + 346:.1f}" y="{y - 8:.1f}" width="24" height="8" fill="{HOLD}"/>',
        f'<text x="{frame.left + 376:.1f}" y="{y:.1f}" fill="{INK}">'
        "slot still held: answer to answer + W</text>",
        f'<line x1="{frame.left + 640:.1f}" y1="{y - 10:.1f}" x2="{frame.left + 640:.1f}" '
        f'y2="{y + 2:.1f}" stroke="{RESET}" stroke-width="2" stroke-dasharray="4 3"/>',
        f'<text x="{frame.left + 648:.1f}" y="{y:.1f}" fill="{INK}">'
        "server's window ends (Reset)</text>",
    ]


def _rows(frame: _Frame, run: WindowRun) -> list[str]:
    out: list[str] = []
    period = run.limit.period
    for index, request in enumerate(run.requests):
        y = frame.rows_top + index * frame.row + frame.row / 2
        colour = PROBE if request.probe else SEND
        kind = "send probe" if request.probe else "send"
        out.append('<g class="request">')
        if request.answer is not None:
            hold_start = frame.x(request.answer)
            hold_end = frame.x(request.answer + period)
            out.append(
                f'<rect class="hold" x="{hold_start:.1f}" y="{y - 1.5:.1f}" '
                f'width="{hold_end - hold_start:.1f}" height="3" fill="{HOLD}" '
                f'data-until="{request.answer + period:.4f}"/>'
            )
            out.append(
                f'<line class="flight" x1="{frame.x(request.send):.1f}" y1="{y:.1f}" '
                f'x2="{hold_start:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2" '
                f'data-answer="{request.answer:.4f}"/>'
            )
        out.append(
            f'<circle class="{kind}" cx="{frame.x(request.send):.1f}" cy="{y:.1f}" r="2" '
            f'fill="{colour}" data-t="{request.send:.4f}"/>'
        )
        out.append("</g>")
    return out


def _groups(frame: _Frame, run: WindowRun) -> list[str]:
    """Say, beside each probe's answer, how many requests went together after it."""
    out: list[str] = []
    requests = run.requests
    for index, request in enumerate(requests):
        if not request.probe or request.answer is None:
            continue
        together = 0
        for later in requests[index + 1 :]:
            if later.probe:
                break
            together += 1
        if not together:
            continue
        y = frame.rows_top + (index + 1 + together / 2) * frame.row + 4
        x = frame.x(request.answer + run.latency) + 12
        if x + 320 > frame.left + frame.width:  # no room on the right: the empty left side
            x = frame.left + 60
        out.append(
            f'<text class="group" x="{x:.1f}" y="{y:.1f}" fill="{INK}" '
            f'data-count="{together}">'
            f"probe answered at {request.answer:.2f} s: {together} more go at once</text>"
        )
    return out


def _reset_line(frame: _Frame, reset: float | None, bottom: float) -> list[str]:
    if reset is None:
        return []
    x = frame.x(reset)
    return [
        f'<line class="reset" x1="{x:.1f}" y1="{frame.rows_top - 8:.1f}" x2="{x:.1f}" '
        f'y2="{bottom:.1f}" stroke="{RESET}" stroke-width="2" stroke-dasharray="4 3" '
        f'data-t="{reset:.4f}"/>',
        f'<text x="{x + 6:.1f}" y="{frame.rows_top - 10:.1f}" fill="{RESET}">'
        f"the server's first window ends at {reset:.2f} s</text>",
    ]


def _count_panel(frame: _Frame, run: WindowRun, most: int) -> list[str]:
    limit, period = run.limit.requests, run.limit.period
    top, bottom = frame.count_top, frame.count_top + frame.count_height
    right = frame.left + frame.width
    return [
        f'<text x="{frame.left:.1f}" y="{top - 12:.1f}" fill="{INK}">'
        f"sends in the last W = {period:g} s (most: {most}; the limit: {limit})</text>",
        f'<line class="limit" x1="{frame.left:.1f}" y1="{top:.1f}" x2="{right:.1f}" '
        f'y2="{top:.1f}" stroke="{RESET}" stroke-width="1"/>',
        f'<text x="{frame.left - 8:.1f}" y="{top + 4:.1f}" text-anchor="end" fill="{INK}">'
        f"{limit}</text>",
        f'<text x="{frame.left - 8:.1f}" y="{bottom + 4:.1f}" text-anchor="end" '
        f'fill="{INK}">0</text>',
        f'<line x1="{frame.left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
        f'stroke="{INK}" stroke-width="1"/>',
        f'<path class="count" d="{_count_path(frame, run.sends, period, limit)}" fill="none" '
        f'stroke="{COUNT}" stroke-width="2"/>',
    ]


def write_window(out_dir: Path) -> tuple[Path, WindowRun]:
    """Record a run and write its picture into ``out_dir``; the file and the run."""
    run = record_window()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / WINDOW_FILE
    path.write_text(draw_window(run), encoding="utf-8")
    return path, run


def main(argv: Sequence[str] = ()) -> None:
    """Write the picture into the directory given, or ``docs/_static``."""
    path, run = write_window(Path(argv[0]) if argv else STATIC)
    most = most_in_window(run.sends, run.limit.period)
    print(f"{path}: {len(run.requests)} requests, at most {most} in any window")


if __name__ == "__main__":
    main(sys.argv[1:])
