"""The command line's wait estimate for the budget, at sizes a wrong estimate can reach."""

from __future__ import annotations

import time

import pytest

from shipstation_async._cli_progress import budget_wait, recent_pace


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


def test_a_wait_for_the_window_is_not_taken_for_the_pace_of_the_answers() -> None:
    # The README's main job just after its first window: of the two steps with requests lately, one
    # waited a second for the next window. Their median (0.5 s a request) made the ETA 43 s
    # with 3 s left; it takes a third step to tell the wait from the pace.
    samples = [(1.0, 40), (2.02, 41), (2.05, 43)]
    assert recent_pace(samples) is None
    assert recent_pace([*samples, (2.08, 45)]) == pytest.approx(0.015)
