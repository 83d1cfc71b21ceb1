"""The shared request budget's public names (kept here so user code keeps importing them).

The budget itself lives in the private ``shipstation_async._budget`` package; its rules are
explained on the documentation site ("How the budget is spent"). :class:`BudgetBackend` is
the seam an in-process :class:`Ledger` and a budget shared in Redis both implement.
"""

from ._budget import (
    LANES,
    BudgetBackend,
    Grant,
    InFlightLimit,
    Ledger,
    Listener,
    LoopScheduler,
    RateLimitStatus,
    budget_key,
    call_on_loop,
    ledger_for,
    loop_scheduler_for,
)

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
