"""The backfill engine: every record exactly once in the output, across failures and kills."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipstation_async import ConfigurationError, RateLimit, ShipStation
from shipstation_async.backfill import Backfill, CallbackSink, SqliteSink
from shipstation_async.backfill.checkpoint import CheckpointStore
from shipstation_async.sandbox import ThreadedSandbox

from ..conftest import until
from ..recording import RecordingServer, Reply

LIMIT = RateLimit(10_000, 60.0)
Factory = Callable[..., ThreadedSandbox]
END = datetime(2026, 6, 1, tzinfo=UTC)
RATE_HEADERS = {
    "X-Rate-Limit-Limit": "10000",
    "X-Rate-Limit-Remaining": "9999",
    "X-Rate-Limit-Reset": "59",
}


@pytest.fixture
def sandbox(shipstation_sandbox_factory: Factory) -> ThreadedSandbox:
    return shipstation_sandbox_factory(
        orders=1500,
        seed=9,
        rate_limit=LIMIT,
        api_key=f"key-{uuid.uuid4().hex[:10]}",
        world_end=END,
    )


def client(sandbox: ThreadedSandbox) -> ShipStation:
    return ShipStation(sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=LIMIT)


def lines(path: Path) -> list[int]:
    return [json.loads(line)["orderId"] for line in path.read_text().splitlines()]


def whole_lines(path: Path) -> int:
    """Lines on disk that a writer finished; a SIGKILL may leave a torn tail the resume cuts."""
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def total_orders(sandbox: ThreadedSandbox) -> int:
    async with client(sandbox) as ss:
        return (await ss.orders.list(page_size=1)).total


async def stop_partway(ss: ShipStation, out: Path | SqliteSink, after: int) -> None:
    """Run an orders backfill (50 a page) into ``out`` and fail it once over ``after`` records."""

    class Stop(Exception):
        pass

    def stop(progress: Any) -> None:
        if progress.records_this_run > after:
            raise Stop

    with pytest.raises(Stop):
        await Backfill(ss, "orders", sink=out, page_size=50, on_progress=stop).run()


class _Gate:
    """Holds the first output fsync or checkpoint commit (a slow disk) until the loop opens it.

    ``outcome``: whether it was opened (False: it timed out, the loop was blocked);
    ``finished``: the held call has returned.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, slow: str) -> None:
        self.holding = threading.Event()
        self.opened = threading.Event()
        self.outcome: bool | None = None
        self.finished = False
        if slow == "output fsync":
            monkeypatch.setattr(os, "fsync", self._wrap(os.fsync))
        else:
            monkeypatch.setattr(CheckpointStore, "commit", self._wrap(CheckpointStore.commit))

    def _wrap(self, blocking: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any) -> Any:
            if self.holding.is_set():
                return blocking(*args)
            self.holding.set()
            # Opened only by a coroutine: if this blocks the event loop, nothing opens it.
            self.outcome = self.opened.wait(5)
            result = blocking(*args)
            self.finished = True
            return result

        return held

    async def open_from_the_loop(self) -> None:
        await until(self.holding.is_set, within=30)
        self.opened.set()


@pytest.mark.parametrize("slow", ["output fsync", "checkpoint commit"])
async def test_a_slow_disk_does_not_stall_the_event_loop(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: str
) -> None:
    # The output's fsync and the checkpoint's commit run in a worker thread: while one waits on
    # the disk, the other coroutines on the loop (a web app's calls, say) go on.
    gate = _Gate(monkeypatch, slow)
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        summary, _ = await asyncio.gather(
            Backfill(ss, "orders", sink=out, page_size=100).run(), gate.open_from_the_loop()
        )
        total = await total_orders(sandbox)
    assert gate.outcome is True
    assert len(set(lines(out))) == summary.records == total


@pytest.mark.parametrize("slow", ["output fsync", "checkpoint commit"])
async def test_a_cancelled_backfill_waits_for_its_disk_work_then_resumes_whole(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: str
) -> None:
    # Ctrl-C under asyncio.run cancels the task while a thread writes: closing the file or
    # the database under that thread would lose the batch or crash SQLite, so the
    # cancellation is held until the thread is done.
    gate = _Gate(monkeypatch, slow)
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        task = asyncio.ensure_future(Backfill(ss, "orders", sink=out, page_size=100).run())
        await until(gate.holding.is_set, within=30)
        task.cancel()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()  # held: the thread has not finished
        gate.opened.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.finished  # the held write finished before the cancellation came through
        monkeypatch.undo()
        summary = await Backfill(ss, "orders", sink=out, page_size=100).run()
        total = await total_orders(sandbox)
    # Stopped in its first batch's fsync, the run committed nothing and left nothing to resume.
    assert summary.resumed == (slow == "checkpoint commit")
    assert len(lines(out)) == len(set(lines(out))) == total


async def test_a_backfill_writes_every_order_once(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    out = tmp_path / "orders.jsonl"
    seen: list[Any] = []
    async with client(sandbox) as ss:
        job = Backfill(ss, "orders", sink=out, page_size=100, on_progress=seen.append)
        summary = await job.run()
        total = await total_orders(sandbox)
    ids = lines(out)
    assert len(ids) == len(set(ids)) == summary.records == total
    records = [p.records for p in seen]
    assert records == sorted(records) and records[-1] == summary.records
    # What is left is estimated from each part's last answer (parts not started yet share
    # what the first request counted, less what is known): written + left stays within a few
    # records of the total (the answers overlap by a second), and ends at zero.
    estimates = [p for p in seen if p.records_left is not None]
    assert estimates and estimates[-1].records_left == 0 and estimates[-1].requests_left == 0
    for p in estimates:
        assert abs(p.records + p.records_left - total) <= 0.03 * total
        # A page holds at most 100: the requests made and left must cover every record. (Not
        # requests_left alone: records fetched but not yet written need no request.)
        assert (p.requests + p.requests_left) * 100 >= p.records + p.records_left
    assert summary.rate_limited == 0 and not summary.resumed
    first = json.loads(out.read_text().splitlines()[0])
    assert "orderId" in first and "createDate" in first  # the API's own JSON


async def fetch_raw(sandbox: ThreadedSandbox, path: str) -> bytes:
    """An answer's body as the sandbox sent it, read without the SDK."""
    import base64

    import aiohttp

    token = base64.b64encode(f"{sandbox.api_key}:{sandbox.api_secret}".encode()).decode()
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as http,
        http.get(sandbox.url + path) as response,
    ):
        assert response.status == 200
        return await response.read()


@pytest.mark.parametrize("sink", ["jsonl", "sqlite"])
async def test_the_output_holds_each_order_byte_for_byte_as_the_api_sent_it(
    sandbox: ThreadedSandbox, tmp_path: Path, sink: str
) -> None:
    # The backfill keeps each record's bytes for its own sinks: no decoding and encoding again
    # between the answer and the output.
    import sqlite3

    out = tmp_path / ("orders.jsonl" if sink == "jsonl" else "orders.db")
    target: Path | SqliteSink = out
    if sink == "sqlite":
        target = SqliteSink(out, table="orders", id_key="orderId")
    async with client(sandbox) as ss:
        await Backfill(ss, "orders", sink=target, page_size=100).run()
        total = await total_orders(sandbox)
    if sink == "jsonl":
        written = out.read_bytes().split(b"\n")[:-1]
    else:
        with sqlite3.connect(out) as db:
            written = [text.encode() for (text,) in db.execute("SELECT json FROM orders")]
    assert len(written) == total
    by_id = {json.loads(line)["orderId"]: line for line in written}
    for order_id in random.Random(1).sample(sorted(by_id), 25):
        assert by_id[order_id] == await fetch_raw(sandbox, f"/orders/{order_id}")


SPELT = [  # orders as a server may spell them: spaces, an exponent, trailing zeros
    b'{"orderId": 7, "createDate": "2026-01-05T10:00:00.0000000", "orderTotal": 1E+2}',
    b'{"orderId":8,"createDate":"2026-01-06T11:30:00.5000000","orderTotal":12.50}',
    b'{ "orderId" : 9 , "createDate" : "2026-01-07T12:00:00" , "amountPaid" : 0.0 }',
]


async def test_a_spelling_of_the_api_survives_the_backfill_unchanged(
    recorder: RecordingServer, tmp_path: Path
) -> None:
    def listing(request: Any) -> Reply:
        low = request.query["createDateStart"].replace(" ", "T")
        high = request.query["createDateEnd"].replace(" ", "T")
        found = [r for r in SPELT if low <= json.loads(r)["createDate"][:19] <= high]
        body = b'{"orders": [' + b", ".join(found) + b'], "total": %d, "page": 1, "pages": 1}'
        return Reply(raw=body % len(found), headers=dict(RATE_HEADERS))

    recorder.default = listing
    out = tmp_path / "orders.jsonl"
    async with ShipStation("key", "secret", base_url=recorder.url, rate_limit=LIMIT) as ss:
        end = datetime(2026, 2, 1, tzinfo=UTC)
        await Backfill(
            ss, "orders", sink=out, start=datetime(2026, 1, 1, tzinfo=UTC), end=end
        ).run()
    assert sorted(out.read_bytes().split(b"\n")[:-1]) == sorted(SPELT)


async def test_a_sink_of_the_users_own_gets_dicts(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    # Only the backfill's own sinks take records that keep their bytes; a subclass of one may
    # change what it does with a record, so it gets what it always got.
    from shipstation_async.backfill import JsonlSink

    kinds: set[type] = set()

    class Counting(JsonlSink):
        async def write(self, records: Sequence[dict[str, Any]]) -> int:
            kinds.update(type(r) for r in records)
            return await super().write(records)

    async with client(sandbox) as ss:
        sink = Counting(tmp_path / "o.jsonl")
        summary = await Backfill(ss, "orders", sink=sink, checkpoint=tmp_path / "o.db").run()
    assert summary.records == len(lines(tmp_path / "o.jsonl")) > 0 and kinds == {dict}


async def test_an_order_that_holds_the_credential_is_written_without_it(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # A page that may hold the credential is read into dicts and the credential taken out
    # before anything is written, as for every other answer; its bytes are not kept.
    import attrs

    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        listed = await ss.orders.list(order_status="awaiting_shipment", page_size=1)
        order = listed.items[0]
        notes = f"call back: {sandbox.api_secret} / {sandbox.api_secret.upper()}"
        await ss.orders.create_or_update(attrs.evolve(order, internal_notes=notes))
        await Backfill(ss, "orders", sink=out, page_size=100).run()
        total = await total_orders(sandbox)
    text = out.read_text()
    assert len(text.splitlines()) == total
    assert sandbox.api_secret.lower() not in text.lower()
    (echo,) = [json.loads(line) for line in text.splitlines() if "call back" in line]
    assert echo["orderId"] == order.order_id and "[redacted]" in echo["internalNotes"]


async def test_resume_after_a_failure_mid_run(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        await stop_partway(ss, out, after=500)
        partial = len(lines(out))
        assert 0 < partial < await total_orders(sandbox)
        summary = await Backfill(ss, "orders", sink=out, page_size=50).run()
    ids = lines(out)
    assert summary.resumed and summary.records == len(ids)
    assert len(ids) == len(set(ids)) == await total_orders(sandbox)


@pytest.mark.parametrize("damage", ["deleted", "cut short"])
async def test_a_resume_refuses_an_output_that_lost_committed_records(
    damage: str, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "orders.jsonl"
    async with client(sandbox) as ss:
        await stop_partway(ss, out, after=300)
        if damage == "deleted":
            out.unlink()
        else:
            out.write_bytes(out.read_bytes()[:100])
        with pytest.raises(ConfigurationError, match="its checkpoint committed"):
            await Backfill(ss, "orders", sink=out, page_size=50).run()
    assert not out.exists() or b"\0" not in out.read_bytes()  # never padded out


async def test_parts_cut_by_idle_walkers_are_checkpointed_and_resumed(
    shipstation_sandbox_factory: Factory, tmp_path: Path
) -> None:
    """Orders only in the last 20 days of an 80-day range, so idle walkers cut up the busy
    part; a failure after some cuts, then a resume: every order once, none twice."""
    import sqlite3
    from datetime import timedelta

    from shipstation_async.sandbox.world import World

    sandbox = shipstation_sandbox_factory(
        world=World(orders=1200, seed=12, span_days=20, end=END), rate_limit=LIMIT, api_key="cut"
    )
    out = tmp_path / "orders.jsonl"
    checkpoint = tmp_path / "orders.sqlite"

    class Boom(Exception):
        pass

    def explode(progress: Any) -> None:
        if progress.parts > 4 and progress.records_this_run > 400:
            raise Boom

    def job(ss: ShipStation, **extra: Any) -> Backfill:
        return Backfill(
            ss,
            "orders",
            start=END - timedelta(days=80),
            end=END,
            sink=out,
            checkpoint=checkpoint,
            concurrency=4,
            page_size=25,
            **extra,
        )

    async with client(sandbox) as ss:
        with pytest.raises(Boom):
            await job(ss, on_progress=explode).run()
        with sqlite3.connect(checkpoint) as db:
            saved_parts = db.execute("SELECT COUNT(*) FROM part").fetchone()[0]
        assert saved_parts > 4  # the cuts were saved with the records written before them
        summary = await job(ss).run()
        total = await total_orders(sandbox)
    ids = lines(out)
    assert summary.resumed and summary.records == len(ids)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert len(ids) == total


async def test_a_callback_sink_and_a_foreign_checkpoint(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    got: list[int] = []

    async def collect(records: Sequence[dict[str, Any]]) -> None:
        got.extend(int(r["customerId"]) for r in records)

    checkpoint = tmp_path / "customers.sqlite"
    async with client(sandbox) as ss:
        summary = await Backfill(
            ss, "customers", sink=CallbackSink(collect), checkpoint=checkpoint
        ).run()
        assert len(got) == len(set(got)) == summary.records == (await ss.customers.list()).total
        with pytest.raises(ConfigurationError):
            await Backfill(ss, "orders", sink=tmp_path / "o.jsonl", checkpoint=checkpoint).run()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("overlap", timedelta(minutes=-1)),
        ("overlap", 600),
        ("page_size", 0),
        ("page_size", 501),
        ("concurrency", 0),
        ("concurrency", 2.5),
        # Recorded as complete (an incremental sync's mark set there) before its records exist.
        ("end", datetime.now(UTC) + timedelta(hours=1)),
        ("end", (datetime.now(UTC) + timedelta(days=2)).date()),
    ],
)
def test_settings_that_cannot_work_are_refused_before_anything_is_opened(
    tmp_path: Path, option: str, value: Any
) -> None:
    ss = ShipStation("key", "secret", base_url="http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match=option):
        Backfill(ss, "orders", sink=tmp_path / "orders.jsonl", since_last=True, **{option: value})
    assert list(tmp_path.iterdir()) == []


def test_resume_after_sigkill_at_random_points(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    import asyncio

    total = asyncio.run(total_orders(sandbox))
    out = tmp_path / "orders.jsonl"
    root = Path(__file__).resolve().parents[2]
    command = [
        sys.executable,
        "-m",
        "tests.behaviour._backfill_worker",
        sandbox.url,
        sandbox.api_key,
        sandbox.api_secret,
        str(out),
    ]
    rng = random.Random(4)
    killed_mid_run = 0
    for _ in range(4):
        before = whole_lines(out)
        process = subprocess.Popen([*command, "0.03"], cwd=root, stdout=subprocess.PIPE)
        # A random moment once this run writes: how long the interpreter takes to start (long
        # on a busy machine) is no part of it.
        while process.poll() is None and whole_lines(out) <= before:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(30)
        written = whole_lines(out)
        killed_mid_run += 0 < written < total and process.returncode == -signal.SIGKILL
    finished = subprocess.run(
        [*command, "0"], cwd=root, capture_output=True, timeout=120, check=True
    )
    summary = json.loads(finished.stdout)
    ids = lines(out)
    assert killed_mid_run >= 1  # at least one kill landed between two batches' worth of output
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert summary["records"] == len(ids)
    assert len(set(ids)) == total


async def test_sqlite_sink_commits_rows_and_checkpoint_together(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    import sqlite3

    database = tmp_path / "orders.db"
    async with client(sandbox) as ss:
        await stop_partway(ss, SqliteSink(database, table="orders", id_key="orderId"), after=400)
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
            (committed,) = db.execute("SELECT records FROM run").fetchone()
        assert rows == committed  # the table and the checkpoint agree after the failure
        summary = await Backfill(
            ss, "orders", sink=SqliteSink(database, table="orders", id_key="orderId")
        ).run()
        total = await total_orders(sandbox)
    with sqlite3.connect(database) as db:
        ids = [int(i) for (i,) in db.execute("SELECT id FROM orders")]
        sample = json.loads(db.execute("SELECT json FROM orders LIMIT 1").fetchone()[0])
    assert summary.resumed and len(ids) == len(set(ids)) == total == summary.records
    assert "orderNumber" in sample


async def test_since_last_delivers_new_versions_once(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    from datetime import timedelta

    import attrs

    out = tmp_path / "orders.jsonl"

    async def run(ss: ShipStation, **kwargs: Any) -> int:
        summary = await Backfill(
            ss, "orders", sink=out, since_last=True, page_size=200, **kwargs
        ).run()
        return summary.records_this_run

    def soon() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=5)

    async with client(sandbox) as ss:
        total = (await ss.orders.list(page_size=1)).total
        assert await run(ss) == total  # the first run copies everything
        awaiting = (await ss.orders.list(order_status="awaiting_shipment", page_size=3)).items
        for order in awaiting:
            await ss.orders.create_or_update(attrs.evolve(order, internal_notes="changed"))
        assert await run(ss, end=soon()) == 3  # only the new versions
        assert await run(ss, end=soon()) == 0  # the overlap band drops exact repeats
        await ss.orders.create_or_update(attrs.evolve(awaiting[0], internal_notes="again"))
        assert await run(ss, end=soon()) == 1
    versions = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(versions) == total + 4  # a log of versions
    assert [v["internalNotes"] for v in versions[-4:]] == ["changed"] * 3 + ["again"]


async def test_an_incremental_run_resumed_after_a_kill_keeps_its_whole_overlap_band(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    from datetime import timedelta

    import attrs

    out = tmp_path / "changes.jsonl"

    class Killed(Exception):
        pass

    async with client(sandbox) as ss:
        total = (await ss.orders.list(page_size=1)).total
        recent = (await ss.orders.list(order_status="awaiting_shipment", page_size=30)).items
        for order in recent:  # modified now: inside the overlap band of the next run
            await ss.orders.create_or_update(attrs.evolve(order, internal_notes="new"))

        def die_among_the_recent(progress: Any) -> None:
            if progress.records_this_run >= total - 15:
                raise Killed

        def job(**kwargs: Any) -> Backfill:
            # Ending just after now (T0), so that the orders modified now are in this run.
            end = datetime.now(UTC) + timedelta(seconds=5)
            return Backfill(
                ss,
                "orders",
                sink=out,
                since_last=True,
                end=end,
                page_size=10,
                concurrency=1,
                **kwargs,
            )

        with pytest.raises(Killed):
            await job(on_progress=die_among_the_recent).run()
        resumed = await job().run()
        assert resumed.resumed and resumed.records == total
        # Nothing changed since: the band (part of it built before the kill) drops every
        # version the first run wrote.
        assert (await job().run()).records_this_run == 0
    assert len(out.read_text().splitlines()) == total


async def test_an_incremental_run_stopped_before_its_mark_is_saved_is_not_repeated(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipstation_async.backfill.checkpoint import CheckpointStore

    out = tmp_path / "changes.jsonl"
    save_sync = CheckpointStore.save_sync

    class Killed(Exception):
        pass

    def killed_first(self: CheckpointStore, *args: Any) -> None:
        monkeypatch.setattr(CheckpointStore, "save_sync", save_sync)
        raise Killed  # as a SIGKILL between the last batch's commit and the mark's

    monkeypatch.setattr(CheckpointStore, "save_sync", killed_first)
    async with client(sandbox) as ss:
        total = (await ss.orders.list(page_size=1)).total
        with pytest.raises(Killed):
            await Backfill(ss, "orders", sink=out, since_last=True, page_size=200).run()
        again = await Backfill(ss, "orders", sink=out, since_last=True, page_size=200).run()
        assert again.records_this_run == 0
    assert len(out.read_text().splitlines()) == total


async def test_a_customers_backfill_with_progress_survives_a_stop_without_repeats(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "customers.jsonl"
    seen: list[Any] = []

    class Stop(Exception):
        pass

    def stop_at_the_first_batch(progress: Any) -> None:
        seen.append(progress)
        raise Stop

    async with client(sandbox) as ss:
        total = (await ss.customers.list(page_size=1)).total
        assert total > 10  # more than two pages of 5
        with pytest.raises(Stop):  # progress is reported: no crash estimating what is left
            await Backfill(
                ss, "customers", sink=out, page_size=5, on_progress=stop_at_the_first_batch
            ).run()
        summary = await Backfill(ss, "customers", sink=out, page_size=5).run()
    ids = [json.loads(line)["customerId"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == total == summary.records  # the offset walk resumed whole
    assert seen[0].records_left in (0, None)


async def test_an_incremental_run_killed_after_saving_its_plan_keeps_the_earlier_runs(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new incremental run's plan carries the earlier runs' committed offset: resumed after a
    # kill before its first batch, the log is appended to, not cut back to nothing.
    out = tmp_path / "changes.jsonl"
    start = CheckpointStore.start

    class Killed(Exception):
        pass

    def killed_after(self: CheckpointStore, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        raise Killed  # as a SIGKILL once the plan is committed

    async with client(sandbox) as ss:
        total = await total_orders(sandbox)
        await Backfill(ss, "orders", sink=out, since_last=True, page_size=200).run()
        monkeypatch.setattr(CheckpointStore, "start", killed_after)
        with pytest.raises(Killed):
            await Backfill(ss, "orders", sink=out, since_last=True, page_size=200).run()
        monkeypatch.undo()
        resumed = await Backfill(ss, "orders", sink=out, since_last=True, page_size=200).run()
    assert resumed.resumed and resumed.records_this_run == 0
    assert sorted(lines(out)) == sorted(set(lines(out))) and len(lines(out)) == total


async def test_a_resumed_run_estimates_what_is_left_from_the_first_runs_count(
    shipstation_sandbox_factory: Factory, tmp_path: Path
) -> None:
    # Orders over 400 days that ended 80 days ago; the walk runs to now. Resumed by one walker,
    # the parts it has not reached yet were guessed from the density of the part it walks: the
    # empty days counted as full of orders.
    from datetime import timedelta

    from shipstation_async.sandbox.world import World

    world = World(orders=1200, seed=3, span_days=400, end=datetime.now(UTC) - timedelta(days=80))
    sandbox = shipstation_sandbox_factory(world=world, rate_limit=LIMIT, api_key="estimate")
    out = tmp_path / "orders.jsonl"
    seen: list[Any] = []
    async with client(sandbox) as ss:
        await stop_partway(ss, out, after=400)
        carried = len(lines(out))
        job = Backfill(ss, "orders", sink=out, page_size=50, concurrency=1, on_progress=seen.append)
        await job.run()
    first = seen[0]
    assert 0 < carried < first.records and first.records_left is not None
    assert abs(first.records + first.records_left - 1200) <= 60, first


@pytest.mark.parametrize("range_given", [False, True])
async def test_a_first_run_that_fails_leaves_nothing_behind(
    sandbox: ThreadedSandbox, tmp_path: Path, range_given: bool
) -> None:
    # With a range the plan is saved before the first request fails; without, after the probe.
    from shipstation_async import AuthenticationError

    out = tmp_path / "orders.jsonl"
    bounds: dict[str, Any] = {}
    if range_given:
        bounds = {"start": END - timedelta(days=400), "end": END}
    wrong = ShipStation(sandbox.api_key, "not-the-secret", base_url=sandbox.url, rate_limit=LIMIT)
    async with wrong:
        with pytest.raises(AuthenticationError):
            await Backfill(wrong, "orders", sink=out, **bounds).run()
    assert os.listdir(tmp_path) == []
    async with client(sandbox) as ss:  # another range, resume=True: nothing holds it back
        summary = await Backfill(ss, "orders", sink=out, end=END - timedelta(days=1)).run()
    assert not summary.resumed and summary.records == len(lines(out)) > 0


def test_an_empty_checkpoint_holds_no_output(tmp_path: Path) -> None:
    # What a first run of an older version left when it failed: the tables, no run.
    from shipstation_async.backfill.checkpoint import holds_output, read_run

    path = tmp_path / "orders.jsonl.checkpoint.sqlite"
    CheckpointStore(path).close()
    assert not holds_output(path) and read_run(path) is None
    store = CheckpointStore(path)
    store.start("orders", {"start": "x"}, None, [], sink_offset=7, records=3, expected=10)
    store.close()
    assert holds_output(path)
    saved = read_run(path)
    assert saved is not None and (saved.sink_offset, saved.records, saved.expected) == (7, 3, 10)
