"""The README's API tour (examples/tour.py) runs against the embedded sandbox."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.py"


async def test_tour_runs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("tour", TOUR)
    assert spec is not None and spec.loader is not None
    tour = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tour)
    await tour.main()
    out = capsys.readouterr().out
    assert "cheapest:" in out and "label " in out and "return label" in out
    assert "East DC" in out
