"""The acceptance run, short: webhooks dropped, delayed and duplicated while orders and labels
change; every record's last version reaches every handler, none twice, drops recovered."""

from __future__ import annotations

from pathlib import Path

from .scenario import run_scenario

POLL = 2.0


async def test_every_last_version_arrives_once_despite_a_faulty_emitter(tmp_path: Path) -> None:
    outcome = await run_scenario(20.0, poll_interval=POLL, max_delay=5.0, seed=3, tmp=tmp_path)
    assert outcome.violations == []
    assert outcome.actions.get("create", 0) >= 10 and outcome.dropped >= 3
    assert outcome.delayed >= 3 and outcome.duplicated >= 2
    assert outcome.recovery_latency, "no dropped webhook's records were found"
    # Within one polling interval plus the sync's lag (whole seconds) and a round's time.
    assert max(outcome.recovery_latency) <= 3 * POLL + 6.0, outcome.recovery_latency
