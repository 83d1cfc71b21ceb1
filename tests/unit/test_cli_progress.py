"""The command line's wait estimate for the budget, at sizes a wrong estimate can reach."""

from __future__ import annotations

import time

import pytest

from shipstation_async._cli_progress import budget_wait


def test_the_budget_wait_of_a_huge_estimate_is_computed_without_listing_every_request() -> None:
    # 40 requests a window, 400 sent in ten windows: the last of ten million more requests goes
    # (10**7 - 1) // 40 windows after the first of its chain, which takes the slot of request
    # 361 (answered at 90 s) once its window has passed.
    history = [(float(t), 40 * (t // 10 + 1)) for t in range(0, 100, 10)]
    needed = 10**7
    started = time.perf_counter()
    wait = budget_wait(history, needed, 40, 60.0)
    assert time.perf_counter() - started < 0.05  # one float per request listed took seconds
    assert wait == pytest.approx(90 + 60 + (needed - 1) // 40 * 60.0 - 90)
