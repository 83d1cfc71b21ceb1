"""Whether one attempt's request went out: a small state machine, the one place that knows.

An attempt starts ``NOT_SENT``. aiohttp's trace signal ``on_request_headers_sent`` (awaited
just before the headers are written) moves it to ``SENT``; from then on the server may have
the request, whatever happens next. The response headers move it to ``ANSWERED``. The read
deadline moves a request still waiting to ``TIMED_OUT``, the client's close to ``CUT_OFF``.
aiohttp re-sends an idempotent request once when a reused connection drops: the retry pass
moves ``SENT`` to ``DROPPED``, and the re-send's headers ``DROPPED`` to ``RESENT``.

From ``RESENT`` and ``ANSWERED`` the deadline and the close still apply; aiohttp re-sends
only once, so ``RESENT`` never drops into another re-send.

Every transition is a method; an event that has no transition from the current state leaves
it as it is (a signal out of the expected order must never fail a request, only not count).
"""

from __future__ import annotations

import enum
from types import MappingProxyType


class Send(enum.Enum):
    """Where one attempt's request is on its way to the server."""

    NOT_SENT = "not_sent"
    """Its headers have not been written: the server cannot have it."""
    SENT = "sent"
    """Its headers went out (or began to): the server may have it."""
    ANSWERED = "answered"
    """The response headers came back; the body may still be on its way."""
    TIMED_OUT = "timed_out"
    """No answer within the timeout from the send: its connection was cut."""
    CUT_OFF = "cut_off"
    """The client closed while the answer was awaited: its connection was cut."""
    DROPPED = "dropped"
    """It went out, its connection dropped, and aiohttp began its own re-send."""
    RESENT = "resent"
    """aiohttp's re-send went out too (given a budget slot of its own)."""


TRANSITIONS = MappingProxyType(
    {
        Send.NOT_SENT: frozenset({Send.SENT}),
        Send.SENT: frozenset({Send.ANSWERED, Send.TIMED_OUT, Send.CUT_OFF, Send.DROPPED}),
        Send.DROPPED: frozenset({Send.RESENT}),
        Send.RESENT: frozenset({Send.ANSWERED, Send.TIMED_OUT, Send.CUT_OFF}),
        Send.ANSWERED: frozenset({Send.TIMED_OUT, Send.CUT_OFF}),
        Send.TIMED_OUT: frozenset(),
        Send.CUT_OFF: frozenset(),
    }
)
"""Each state's legal next states; the methods of :class:`SendTracker` follow it."""

_AWAITING = (Send.SENT, Send.RESENT, Send.ANSWERED)  # a tuple: compared by identity, not hash


class SendTracker:
    """The send state of one attempt, moved only by its transition methods.

    ``at``: the monotonic time taken just before the latest send's headers were written;
    ``resent``: aiohttp began a re-send, so an earlier send's outcome is unknown (kept once
    the re-send is answered: the answer may be to a request that acted twice).
    """

    __slots__ = ("at", "resent", "state")

    def __init__(self) -> None:
        self.state = Send.NOT_SENT
        self.at: float | None = None
        self.resent = False

    def __repr__(self) -> str:
        return f"SendTracker({self.state.name})"

    # Each method moves only along TRANSITIONS (a test checks it), written out as
    # comparisons: an enum member's hash is a Python call, and this runs on every request.

    def mark_sent(self, at: float) -> bool:
        """The headers are about to be written (``at``: now). False: not a new send."""
        state = self.state
        if state is Send.NOT_SENT:
            self.state = Send.SENT
        elif state is Send.DROPPED:
            self.state = Send.RESENT
        else:
            return False
        self.at = at
        return True

    def mark_answered(self) -> None:
        """The response headers arrived."""
        if self.state is Send.SENT or self.state is Send.RESENT:
            self.state = Send.ANSWERED

    def mark_dropped(self) -> bool:
        """The connection dropped and aiohttp began its re-send. False: not from ``SENT``."""
        if self.state is not Send.SENT:
            return False
        self.state = Send.DROPPED
        self.resent = True
        return True

    def time_out(self) -> None:
        """The read deadline passed: its connection is being cut."""
        if self.state in _AWAITING:
            self.state = Send.TIMED_OUT

    def cut_off(self) -> None:
        """The client is closing under it: its connection is being cut."""
        if self.state in _AWAITING:
            self.state = Send.CUT_OFF

    @property
    def went_out(self) -> bool:
        """Whether some send of this attempt may have reached the server."""
        return self.state is not Send.NOT_SENT

    @property
    def latest_went_out(self) -> bool:
        """Whether the latest send went out (not so while aiohttp's re-send waits for a slot)."""
        return self.state is not Send.NOT_SENT and self.state is not Send.DROPPED

    @property
    def timed_out(self) -> bool:
        """Whether the read deadline cut it."""
        return self.state is Send.TIMED_OUT

    @property
    def was_cut_off(self) -> bool:
        """Whether the client's close cut it."""
        return self.state is Send.CUT_OFF
