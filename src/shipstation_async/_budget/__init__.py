"""The shared request budget: one window ledger per API key, one waiting room per event loop.

Where each part lives:

- :mod:`.backend`: the seam. :class:`BudgetBackend` is what the waiting rooms and the request
  loop need from a budget store; :class:`Grant` and :class:`RateLimitStatus` travel across it.
- :mod:`.ledger`: :class:`Ledger`, the in-process backend: pure bookkeeping behind a thread
  lock with an injectable clock (grants, sends, answers, the margin of rule 6). It never
  sleeps and never touches asyncio, so its rules are unit-tested on a fake clock.
- :mod:`.slots`: rule 1's sorted lists (which sends hold a slot, until when).
- :mod:`.server_view`: what the answers said: header rooms (rule 3), Reset's rounding
  (rule 4), the 429 pause (rule 5), and when a probe goes alone (rule 2).
- :mod:`.waiting`: :class:`LoopScheduler`, the asyncio side, one per (budget, event loop):
  two lanes of waiters, a timer for when the window will next have room, ``max_wait`` and
  cancellation; :class:`InFlightLimit`, a client's cap on concurrent requests.
- :mod:`.registry`: one budget per (API, key) per process, one waiting room per loop. The
  budget is shared process-wide, so clients on other threads and other event loops, and
  clients made one per request or one per ``asyncio.run()``, all spend one budget.

The rules, and why (L requests per W seconds):

1. **When a slot frees.** A server counts a request somewhere between its send and its answer,
   and a loaded one may queue it for seconds first, so the send time says little about when
   the slot it took frees again. The answer does: a request cannot have been counted later
   than its answer arrived, and whatever the window (fixed, aligned to the server's clock or
   rolling), a request counted at c has left it by c + W. So a slot is held from its grant
   until its answer arrived + W; a request still unanswered holds it; one the client gave up
   on (a timeout, a cancellation, a connection lost after sending: it may still be counted)
   holds it until the give-up time + W + the longest answer time seen (no counting delay seen
   was longer). At most L slots are held at once, so any L + 1 requests the server counts
   span more than W, whatever its counting delay: the last of them was sent W after the
   first's answer. Safe on every window type, it costs an answer's time per window (a few
   milliseconds against a prompt server), where a margin fixed in advance costs a share of W
   and still fails a server slower than it.
2. **The whole budget at once.** Waiting requests go out together, up to what rule 1 allows;
   at cold start, after two idle windows, after a 429 and (against a server that refused
   a send or counted longer than rule 1 assumes) after an answer that said the window was
   full, one request (the probe) goes alone and the rest wait for its headers (another
   process may have spent the window; a server's window may outlast W).
3. **The headers, when someone else spends the budget.** An answer says the server's window
   held n = Limit - Remaining requests when it counted the request. When our own sends that
   may be in that window (it, those in flight, those still holding their slot when it was
   sent) account for n, rule 1 already covers everything the server counts, and the headers
   change nothing: neither Reset nor its rounding costs a prompt server anything. When they
   do not, another client (or a server counting longer than it says) uses the key, and a
   room follows the headers: Remaining less our sends the server may not have counted yet
   (those in flight or granted, and those answered after it was sent) caps our sends until
   the Reset; then one slot frees (a rolling window frees one at a time, and the next
   answer's Reset says when the next one frees), and W after that answer everything the
   server had counted then has left and the room is gone. The answer to a request sent after
   a room's answer arrived was counted later: it replaces the room.
4. **Reset's rounding is learned.** A whole-second Reset may be rounded down or up (the API
   does not say): until known, R means the reset comes within (R - 1, R + 1]. The first
   answer of a window this client opened (Remaining = Limit - 1, Reset = W) pins that
   window's end within that request's flight; the later answers of the same window then show
   which way R was rounded: down gives [R, R + 1), up (R - 1, R]. A fractional Reset is taken
   to its last digit.
5. **A 429 pauses everyone** until the server's Reset (Retry-After when given) has passed, then
   one probe goes. The refused request holds its slot by rule 1 (some servers count refused
   requests). When the probe is refused too, the window is still full past the reset it
   announced (a sliding window that counted our refused request, or another client): the next
   probe waits until W after the previous refusal, when everything the server had counted
   then has left. So at most one extra probe per window on every window type, and no pause
   longer than the server's Reset plus what rule 1 needs.
6. **The margin is measured.** It is ``RateLimit.margin`` (0 by default) until an answer shows
   the server still counting sends of ours that rule 1 had freed (more in its window than we
   could have put there, explained by sends freed just before): then every slot is held
   that much longer (at most W/2 more), with a warning.
7. ``bulk`` leaves a reserve of slots to ``interactive`` calls.
"""

from .backend import BudgetBackend, Grant, Listener, RateLimitStatus
from .ledger import Ledger
from .registry import budget_key, ledger_for, loop_scheduler_for
from .waiting import LANES, InFlightLimit, LoopScheduler, call_on_loop

__all__ = [
    "LANES",
    "BudgetBackend",
    "Grant",
    "InFlightLimit",
    "Ledger",
    "Listener",
    "LoopScheduler",
    "RateLimitStatus",
    "budget_key",
    "call_on_loop",
    "ledger_for",
    "loop_scheduler_for",
]
