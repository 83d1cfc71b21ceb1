"""The shared request budget's public names (kept here so user code keeps importing them).

The budget itself lives in :mod:`shipstation_async._budget`; its rules are described there
and in the README ("How the scheduler spends the budget").
"""

from ._budget import (
    LANES,
    Grant,
    InFlightLimit,
    Ledger,
    LoopScheduler,
    RateLimitStatus,
    budget_key,
    call_on_loop,
    ledger_for,
    loop_scheduler_for,
)

__all__ = [
    "LANES",
    "Grant",
    "InFlightLimit",
    "Ledger",
    "LoopScheduler",
    "RateLimitStatus",
    "budget_key",
    "call_on_loop",
    "ledger_for",
    "loop_scheduler_for",
]
