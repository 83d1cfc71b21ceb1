"""The backfill run as a whole: one at a time per output, a fresh start that really starts over,
an incremental sync across the autumn's repeated hour, and read-only looks that leave no trace.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipstation_async import AuthenticationError, ConfigurationError, RateLimit, ShipStation
from shipstation_async._time import PACIFIC
from shipstation_async.backfill import (
    Backfill,
    BackfillRunning,
    CheckpointStore,
    JsonlSink,
    SqliteSink,
)
from shipstation_async.backfill.checkpoint import (
    checkpoint_beside,
    holds_output,
    read_run,
    run_lock,
)
from shipstation_async.sandbox import ThreadedSandbox

from ..conftest import until

LIMIT = RateLimit(10_000, 60.0)
Factory = Callable[..., ThreadedSandbox]


def client(sandbox: ThreadedSandbox) -> ShipStation:
    return ShipStation(sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=LIMIT)


def order_ids(path: Path) -> list[int]:
    return [json.loads(line)["orderId"] for line in path.read_bytes().splitlines()]


@pytest.fixture
def sandbox(shipstation_sandbox_factory: Factory) -> ThreadedSandbox:
    return shipstation_sandbox_factory(
        orders=400,
        seed=3,
        rate_limit=LIMIT,
        api_key=f"key-{uuid.uuid4().hex[:10]}",
        world_end=datetime(2026, 6, 1, tzinfo=UTC),
    )


class _HeldSink(JsonlSink):
    """A JSONL sink whose first write waits until the test lets it go: a run caught mid-way."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writing = asyncio.Event()
        self.release = asyncio.Event()

    async def write(self, records: Sequence[dict[str, Any]]) -> int:
        self.writing.set()
        await self.release.wait()
        return await super().write(records)


async def test_a_second_run_on_the_same_output_is_refused_while_the_first_runs(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # Two runs appending to one file and committing into one checkpoint corrupt both: the
    # second is refused at once, before it touches either.
    out = tmp_path / "orders.jsonl"
    held = _HeldSink(out)
    async with client(sandbox) as ss:
        total = (await ss.orders.list(page_size=1)).total
        checkpoint = checkpoint_beside(out)
        job = Backfill(ss, "orders", sink=held, checkpoint=checkpoint, page_size=50)
        first = asyncio.create_task(job.run())
        await until(held.writing.is_set, within=30)
        sent = ss.rate_limit_status().total_sent
        for resume in (True, False):
            with pytest.raises(BackfillRunning, match="another backfill is running") as caught:
                await Backfill(ss, "orders", sink=out, page_size=50, resume=resume).run()
            assert isinstance(caught.value, ConfigurationError)
        assert ss.rate_limit_status().total_sent == sent  # refused before sending anything
        held.release.set()
        summary = await first
        assert summary.records == total
        # Released when the run ends: the same backfill resumes (to nothing more).
        again = await Backfill(ss, "orders", sink=out, page_size=50).run()
    assert again.resumed and again.records_this_run == 0
    assert sorted(order_ids(out)) == sorted(set(order_ids(out))) and len(order_ids(out)) == total
    assert sorted(os.listdir(tmp_path)) == [out.name, checkpoint.name]


async def test_a_sqlite_backfill_started_over_keeps_none_of_the_earlier_rows(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    database = tmp_path / "orders.db"
    async with client(sandbox) as ss:
        newest = (await ss.orders.list(page_size=1, sort_by="CreateDate", sort_dir="DESC")).items
        middle = newest[0].create_date - timedelta(days=100)

        def job(**kwargs: Any) -> Backfill:
            sink = SqliteSink(database, table="orders", id_key="orderId")
            return Backfill(ss, "orders", sink=sink, page_size=100, **kwargs)

        before = await job(end=middle).run()
        after = await job(start=middle, end=newest[0].create_date, resume=False).run()
    assert before.records > 0 and after.records > 0 and not after.resumed
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert rows == after.records  # the earlier run's rows went with it


async def test_a_jsonl_run_started_over_that_fails_before_planning_keeps_the_earlier_output(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # resume=False replaces the earlier run only once its own plan is saved: a start-over that
    # fails before that (here its first request is refused) leaves the earlier file and its
    # checkpoint as they were, so that run still resumes. Before, the file was cut to nothing
    # under the old checkpoint, and the next resume was refused for lost records.
    out = tmp_path / "orders.jsonl"
    checkpoint = checkpoint_beside(out)
    async with client(sandbox) as ss:
        first = await Backfill(ss, "orders", sink=out, page_size=100).run()
        written, saved = out.read_bytes(), checkpoint.read_bytes()
        sandbox.faults.script("error", status=401, method="GET", path="/orders")
        with pytest.raises(AuthenticationError):  # never retried
            await Backfill(ss, "orders", sink=out, page_size=100, resume=False).run()
        assert out.read_bytes() == written
        assert checkpoint.read_bytes() == saved
        again = await Backfill(ss, "orders", sink=out, page_size=100).run()
    assert again.resumed and again.records_this_run == 0
    assert sorted(order_ids(out)) == sorted(set(order_ids(out)))
    assert len(order_ids(out)) == first.records > 0


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
async def test_a_run_started_over_that_finds_nothing_replaces_the_earlier_run(
    sandbox: ThreadedSandbox, tmp_path: Path, kind: str
) -> None:
    # Its result is no records: the earlier run's output and checkpoint go, so the same
    # backfill runs again (before, the earlier checkpoint stayed and refused it as another's).
    out = tmp_path / ("orders.jsonl" if kind == "jsonl" else "orders.db")

    def sink() -> Any:
        return out if kind == "jsonl" else SqliteSink(out, table="orders", id_key="orderId")

    # No dates given: the walk's first look finds no matching order, so nothing is planned.
    empty = {"filters": {"order_number": "no-such-order"}}
    async with client(sandbox) as ss:
        assert (await Backfill(ss, "orders", sink=sink(), page_size=100).run()).records > 0
        over = await Backfill(ss, "orders", sink=sink(), resume=False, **empty).run()
        again = await Backfill(ss, "orders", sink=sink(), **empty).run()
    assert over.records == again.records == 0 and not over.resumed
    if kind == "jsonl":
        assert out.read_bytes() == b""
        assert read_run(checkpoint_beside(out)) is None  # as a new run that finds nothing
    else:
        with sqlite3.connect(out) as db:
            assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
async def test_an_incremental_sync_started_over_copies_everything_again(
    sandbox: ThreadedSandbox, tmp_path: Path, kind: str
) -> None:
    # Before, the earlier runs' output went while their mark stayed: the run listed only
    # what changed since, and the output was left empty.
    out = tmp_path / ("orders.jsonl" if kind == "jsonl" else "orders.db")

    def sink() -> Any:
        return out if kind == "jsonl" else SqliteSink(out, table="orders", id_key="orderId")

    async with client(sandbox) as ss:
        total = (await ss.orders.list(page_size=1)).total
        first = await Backfill(ss, "orders", sink=sink(), since_last=True).run()
        over = await Backfill(ss, "orders", sink=sink(), since_last=True, resume=False).run()
        after = await Backfill(ss, "orders", sink=sink(), since_last=True).run()
    assert first.records_this_run == over.records_this_run == total > 0
    assert after.records_this_run == 0  # the new mark and band hold
    if kind == "jsonl":
        assert (
            sorted(order_ids(out)) == sorted(set(order_ids(out))) and len(order_ids(out)) == total
        )
    else:
        with sqlite3.connect(out) as db:
            assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == total


async def test_a_sqlite_id_key_the_records_lack_is_refused_not_one_row_for_all(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # Before, every record was keyed "None": 400 orders copied, one row kept.
    database = tmp_path / "orders.db"
    async with client(sandbox) as ss:
        sink = SqliteSink(database, table="orders", id_key="orderID")  # misspelt
        with pytest.raises(ConfigurationError, match=r"no 'orderID'.*orderId"):
            await Backfill(ss, "orders", sink=sink, page_size=100).run()
    # Nothing committed: the run removed the file it created (nothing there to resume).
    assert not database.exists()


async def test_a_custom_sink_is_closed_only_once_opened(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # A run that fails before its plan is saved never opens the sink: its close() is not
    # called either, so that a sink written to open-then-close does not hide the failure.
    calls: list[str] = []

    class Recorded:
        def open(self, offset: int) -> None:
            calls.append("open")

        async def write(self, records: Sequence[dict[str, Any]]) -> int:
            return len(records)

        def close(self) -> None:
            calls.append("close")

    async with client(sandbox) as ss:
        sandbox.faults.script("error", status=401, method="GET", path="/orders")
        job = Backfill(ss, "orders", sink=Recorded(), checkpoint=tmp_path / "c.sqlite")
        with pytest.raises(AuthenticationError):
            await job.run()
        assert calls == []
        await Backfill(ss, "orders", sink=Recorded(), checkpoint=tmp_path / "c.sqlite").run()
    assert calls == ["open", "close"]


async def test_an_incremental_run_checks_its_file_before_any_request(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # It appends after what the runs before committed: a file cut short since is refused at
    # once (before, after a first request, and after the finished run's record was replaced).
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        await Backfill(ss, "orders", sink=out, since_last=True).run()
        saved = read_run(checkpoint_beside(out))
        out.write_bytes(out.read_bytes()[:100])
        sent = ss.rate_limit_status().total_sent
        with pytest.raises(ConfigurationError, match="records written before were lost"):
            await Backfill(ss, "orders", sink=out, since_last=True).run()
        assert ss.rate_limit_status().total_sent == sent
    assert read_run(checkpoint_beside(out)) == saved


async def test_since_last_across_the_fall_back_hour_appends_no_repeats(
    shipstation_sandbox_factory: Factory, tmp_path: Path
) -> None:
    # The next run starts at its mark less the overlap, moved back to 01:00 when that falls in
    # the repeated hour: the band of versions already written must reach back as far.
    sandbox = shipstation_sandbox_factory(
        orders=5,
        seed=1,
        rate_limit=LIMIT,
        api_key=f"key-{uuid.uuid4().hex[:10]}",
        world_end=datetime(2024, 1, 1, tzinfo=UTC),
    )
    wall = datetime(2025, 11, 2, 0, 50)
    while wall <= datetime(2025, 11, 2, 1, 40):
        sandbox.world.add_order(
            orderNumber=f"m-{wall:%H%M}",
            orderStatus="awaiting_shipment",
            createDate="2025-10-01T10:00:00.0000000",
            modifyDate=wall.isoformat(timespec="microseconds") + "0",
        )
        wall += timedelta(minutes=5)
    out = tmp_path / "changes.jsonl"

    async def run(ss: ShipStation, end: datetime) -> int:
        summary = await Backfill(ss, "orders", sink=out, since_last=True, end=end).run()
        return summary.records_this_run

    async with client(sandbox) as ss:
        # 02:05 PST, after the hour: the next run starts at 01:55 less, in the repeated hour.
        assert datetime(2025, 11, 2, 10, 5, tzinfo=UTC).astimezone(PACIFIC).hour == 2
        assert await run(ss, datetime(2025, 11, 2, 10, 5, tzinfo=UTC)) == 5 + 11
        assert await run(ss, datetime(2025, 11, 2, 10, 8, tzinfo=UTC)) == 0  # nothing changed
    versions = [json.loads(line) for line in out.read_bytes().splitlines()]
    repeats = Counter((v["orderId"], v["modifyDate"]) for v in versions)
    assert [version for version, n in repeats.items() if n > 1] == []


async def test_looking_at_a_finished_checkpoint_leaves_no_files_beside_it(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        await Backfill(ss, "orders", sink=out, page_size=200).run()
    checkpoint = checkpoint_beside(out)
    assert holds_output(checkpoint) and read_run(checkpoint) is not None
    assert sorted(os.listdir(tmp_path)) == [out.name, checkpoint.name]


def test_a_checkpoint_whose_last_commits_are_in_its_wal_file_is_read_whole(
    tmp_path: Path,
) -> None:
    # A run killed mid-way (or still running) leaves its last commits in the -wal file.
    killed = tmp_path / "killed.sqlite"
    store = CheckpointStore(killed)
    try:
        store.start("orders", {"start": "x"}, None, [], sink_offset=7, records=3)
        assert Path(f"{killed}-wal").exists()
        saved = read_run(killed)
        assert holds_output(killed) and saved is not None and saved.records == 3
    finally:
        store.close()


def test_a_checkpoint_reached_through_a_link_takes_the_same_lock(tmp_path: Path) -> None:
    real = tmp_path / "real" / "orders.jsonl.checkpoint.sqlite"
    real.parent.mkdir()
    link = tmp_path / "orders.jsonl.checkpoint.sqlite"
    link.symlink_to(real)
    with run_lock(real), pytest.raises(BackfillRunning), run_lock(link):
        pass


def test_a_killed_runs_commits_are_read_through_a_linked_checkpoint(tmp_path: Path) -> None:
    # A run that committed its plan and was killed: the commit is in the -wal file beside the
    # file the link points to, which a read of the link must not miss.
    real = tmp_path / "real" / "orders.sqlite"
    real.parent.mkdir()
    link = tmp_path / "orders.sqlite"
    link.symlink_to(real)
    code = (
        "import os, sys\n"
        "from datetime import UTC, datetime\n"
        "from shipstation_async.backfill.checkpoint import CheckpointStore\n"
        f"store = CheckpointStore({str(link)!r})\n"
        "store._db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "store.start('orders', {'filters': {}}, datetime.now(UTC), [], 0, 0)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert Path(f"{real}-wal").exists()
    saved = read_run(link)
    assert saved is not None and saved.resource == "orders"
    assert holds_output(link)


def test_a_checkpoint_whose_lock_cannot_be_made_is_a_configuration_error(tmp_path: Path) -> None:
    # Where the lock cannot be made (a folder that is not one, here), the run says so.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with (
        pytest.raises(ConfigurationError, match="cannot make the run lock"),
        run_lock(blocker / "orders.jsonl.checkpoint.sqlite"),
    ):
        pass
