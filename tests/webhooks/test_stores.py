"""Every webhook store keeps the protocol alike: MemoryStore, SQLiteStore and RedisStore.

The RedisStore runs on the session's real redis-server, under a prefix of its own per test.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shipstation_async.webhooks import MemoryStore, RedisStore, SQLiteStore, WebhookStore
from shipstation_async.webhooks.events import record_version
from shipstation_async.webhooks.store import DeadLetterRecord, Job, Progress

from ..redis_server import RedisServer


def redis_store(server: RedisServer, **options: Any) -> RedisStore:
    return RedisStore(server.url, prefix=f"test-{uuid.uuid4().hex[:12]}", **options)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WebhookStore]:
    made: WebhookStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "hooks.sqlite")
    else:
        made = redis_store(request.getfixturevalue("redis_server"))
    yield made
    await made.close()


def job(key: str, received_at: float, **changes: Any) -> Job:
    fields: dict[str, Any] = {"resource_type": "ORDER_NOTIFY", "source": "webhook", **changes}
    return Job(id=uuid.uuid4().hex, key=key, received_at=received_at, **fields)


RECORDS: dict[str, list[dict[str, Any]]] = {
    "orders": [
        {
            "orderId": 17,
            "orderTotal": Decimal("1234567.89"),
            "weight": {"value": Decimal("0.1"), "units": "ounces"},
            "shipTo": {"name": "Zoë Ørsted ✓"},
            "items": [{"unitPrice": Decimal("19.99"), "quantity": 3}],
        }
    ]
}


async def test_add_job_dedupes_a_key_until_its_window_ran_out(store: WebhookStore) -> None:
    now = time.time()
    first = job("batch-1", now)
    assert await store.add_job(first, remember_until=now + 100)
    assert not await store.add_job(job("batch-1", now + 1), remember_until=now + 101)
    assert not await store.add_job(job("batch-1", now + 99.9), remember_until=now + 200)
    # Received as the window ends: a new delivery, whose window starts afresh.
    later = job("batch-1", now + 100)
    assert await store.add_job(later, remember_until=now + 300)
    assert not await store.add_job(job("batch-1", now + 250), remember_until=now + 400)
    other = job("batch-2", now + 1)
    assert await store.add_job(other, remember_until=now + 100)
    assert {j.id for j in await store.jobs()} == {first.id, later.id, other.id}


async def test_a_mark_is_committed_with_its_job_and_only_with_it(store: WebhookStore) -> None:
    now = time.time()
    assert await store.mark("poll:orders") is None
    polled = job("poll:a", now, source="poll", records=RECORDS)
    assert await store.add_job(polled, remember_until=now + 60, mark=("poll:orders", "m1"))
    assert await store.mark("poll:orders") == "m1"
    # A duplicate is not stored, and its mark is not committed either.
    twin = job("poll:a", now + 1, source="poll")
    assert not await store.add_job(twin, remember_until=now + 60, mark=("poll:orders", "m2"))
    assert await store.mark("poll:orders") == "m1"
    assert await store.add_job(
        job("poll:b", now), remember_until=now + 60, mark=("poll:orders", "m3")
    )
    assert await store.mark("poll:orders") == "m3"
    assert await store.mark("poll:shipments") is None
    assert len(await store.jobs()) == 2


async def test_save_job_keeps_progress_and_never_revives_a_dropped_job(
    store: WebhookStore,
) -> None:
    now = time.time()
    kept = job("k", now, query={"kind": "orders", "filters": {"importBatch": "b"}})
    assert await store.add_job(kept, remember_until=now + 60)
    kept.records = RECORDS
    kept.fetch = Progress(attempts=2, next_at=now + 5.5, error="TransportError: reset")
    kept.handlers = {"h": Progress(attempts=1, next_at=now + 1.25, error="E"), "g": Progress()}
    await store.save_job(kept)
    (loaded,) = await store.jobs()
    assert loaded == kept
    await store.drop_job(kept.id)
    await store.save_job(kept)  # a late save of a finished job writes nothing
    await store.drop_job(kept.id)
    await store.drop_job("never-stored")
    assert await store.jobs() == []
    # Its key stays remembered after the job is gone.
    assert not await store.add_job(job("k", now + 1), remember_until=now + 60)


async def test_records_come_back_with_their_decimals(store: WebhookStore) -> None:
    now = time.time()
    stored = job("d", now, records=RECORDS)
    await store.add_job(stored, remember_until=now + 60)
    letter = DeadLetterRecord(id="L", handler="h", job=stored, failed_at=now)
    await store.add_dead_letter(letter)
    for found in ((await store.jobs())[0], (await store.dead_letters())[0].job):
        assert found.records is not None
        order = found.records["orders"][0]
        assert order == RECORDS["orders"][0]
        for value in (
            order["orderTotal"],
            order["weight"]["value"],
            order["items"][0]["unitPrice"],
        ):
            assert type(value) is Decimal
        assert str(order["orderTotal"]) == "1234567.89"


async def test_handled_keeps_the_newer_version_compared_as_text(store: WebhookStore) -> None:
    until = time.time() + 60
    await store.mark_handled("h", {"orders:1": "1a", "orders:2": "1b", "orders:3": "10"}, until)
    await store.mark_handled("h", {"orders:1": "0z", "orders:2": "1c", "orders:3": "9"}, until)
    await store.mark_handled("h", {"orders:4": "z", "orders:5": "1a"}, until)
    await store.mark_handled("h", {"orders:4": "é", "orders:5": "1a0"}, until)
    await store.mark_handled("h", {"orders:4": "y"}, until)
    got = await store.handled("h", ["orders:1", "orders:2", "orders:3", "orders:4", "orders:5"])
    # "9" > "10" and "é" > "z" as text (code points); a longer text after its prefix.
    assert got == {
        "orders:1": "1a",
        "orders:2": "1c",
        "orders:3": "9",
        "orders:4": "é",
        "orders:5": "1a0",
    }


async def test_a_fall_back_hour_version_is_kept_when_handed_over_last(store: WebhookStore) -> None:
    # An edit at 01:10 PST after one at 01:50 PDT: the wall time reads earlier, it is later.
    first = record_version("orders", {"orderId": 7, "modifyDate": "2026-11-01T01:50:00"})
    later = record_version("orders", {"orderId": 7, "modifyDate": "2026-11-01T01:10:00"})
    after = record_version("orders", {"orderId": 7, "modifyDate": "2026-11-01T02:30:00"})
    assert first is not None and later is not None and after is not None
    until = time.time() + 60
    await store.mark_handled("h", dict([first]), until)
    await store.mark_handled("h", dict([later]), until)
    assert await store.handled("h", ["orders:7"]) == dict([later])
    await store.mark_handled("h", dict([after]), until)
    await store.mark_handled("h", dict([first]), until)  # the last handed over is kept
    assert await store.handled("h", ["orders:7"]) == dict([first])


async def test_handled_is_per_handler_and_reads_many_at_once(store: WebhookStore) -> None:
    until = time.time() + 60
    versions = {f"orders:{i}": f"1v{i}" for i in range(2500)}
    await store.mark_handled("h", versions, until)
    await store.mark_handled("a:1", {"x": "1"}, until)
    await store.mark_handled("a", {"1:x": "2"}, until)
    asked = [*versions, *(f"orders:{i}" for i in range(2500, 2510)), "orders:7"]
    assert await store.handled("h", asked) == versions
    assert await store.handled("g", asked) == {}
    assert await store.handled("a:1", ["x", "1:x"]) == {"x": "1"}
    assert await store.handled("a", ["x", "1:x"]) == {"1:x": "2"}
    assert await store.handled("h", []) == {}
    assert await store.handled("h", iter(["orders:3"])) == {"orders:3": "1v3"}


async def test_prune_forgets_keys_and_versions_whose_time_ran_out(store: WebhookStore) -> None:
    now = time.time()
    await store.add_job(job("short", now), remember_until=now + 10)
    await store.add_job(job("long", now), remember_until=now + 100)
    await store.mark_handled("h", {"orders:1": "1"}, now + 10)
    await store.mark_handled("h", {"orders:2": "1"}, now + 100)
    # The same version again extends how long it is remembered.
    await store.mark_handled("h", {"orders:3": "1"}, now + 10)
    await store.mark_handled("h", {"orders:3": "1"}, now + 100)
    await store.prune(now + 9)
    assert await store.handled("h", ["orders:1", "orders:2", "orders:3"]) == {
        "orders:1": "1",
        "orders:2": "1",
        "orders:3": "1",
    }
    await store.prune(now + 10)  # its time ran out at that instant
    assert await store.handled("h", ["orders:1", "orders:2", "orders:3"]) == {
        "orders:2": "1",
        "orders:3": "1",
    }
    assert await store.add_job(job("short", now + 1), remember_until=now + 50)
    assert not await store.add_job(job("long", now + 1), remember_until=now + 50)
    assert len(await store.jobs()) == 3  # prune never touches jobs
    await store.prune(now + 1000)
    assert await store.handled("h", ["orders:1", "orders:2", "orders:3"]) == {}
    assert await store.add_job(job("long", now + 1), remember_until=now + 50)


async def test_dead_letters_come_oldest_first_and_drop_once(store: WebhookStore) -> None:
    now = time.time()
    source = job("x", now, records=RECORDS, only=["h"])
    for ident, failed_at in (("c", now + 3), ("a", now + 1), ("b", now + 2)):
        await store.add_dead_letter(
            DeadLetterRecord(id=ident, handler="h", job=source, failed_at=failed_at)
        )
    assert [letter.id for letter in await store.dead_letters()] == ["a", "b", "c"]
    await store.add_dead_letter(
        DeadLetterRecord(id="a", handler="g", job=source, failed_at=now + 4)
    )
    letters = await store.dead_letters()
    assert [(letter.id, letter.handler) for letter in letters] == [
        ("b", "h"),
        ("c", "h"),
        ("a", "g"),
    ]
    assert letters[0].job == source
    assert await store.drop_dead_letter("b")
    assert not await store.drop_dead_letter("b")
    assert not await store.drop_dead_letter("nope")
    assert [letter.id for letter in await store.dead_letters()] == ["c", "a"]


async def test_concurrent_adds_of_one_key_store_one_job(store: WebhookStore) -> None:
    now = time.time()
    results = await asyncio.gather(
        *(store.add_job(job("same", now + i / 1000), remember_until=now + 60) for i in range(20))
    )
    assert sorted(results) == [False] * 19 + [True]
    assert len(await store.jobs()) == 1


async def test_concurrent_marks_leave_the_newest_version(store: WebhookStore) -> None:
    until = time.time() + 60
    versions = [f"1{n:02d}" for n in range(30)]
    random.Random(5).shuffle(versions)
    await asyncio.gather(*(store.mark_handled("h", {"orders:1": v}, until) for v in versions))
    assert await store.handled("h", ["orders:1"]) == {"orders:1": "129"}


async def test_a_poll_whose_overlap_ends_in_the_repeated_hour_starts_at_its_beginning() -> None:
    """Orders changed after the mark but in the second 01:xx carry earlier walls: the poll
    must list from 01:00, or the wall-clock filter skips them."""
    from datetime import UTC, datetime, timedelta
    from typing import Any, cast

    from shipstation_async._time import PACIFIC
    from shipstation_async.webhooks._polling import Poller

    store = MemoryStore()
    mark = datetime(2026, 11, 1, 1, 56, tzinfo=PACIFIC, fold=0).astimezone(UTC)  # PDT
    store._marks["poll:orders"] = mark.isoformat()
    poller = Poller(
        cast(Any, None),
        store,
        cast(Any, None),
        overlap=timedelta(minutes=10),
        lookback=timedelta(minutes=10),
        sync_lag=timedelta(minutes=2),
        remember=60.0,
    )
    start = await poller._start("poll:orders")
    assert start == datetime(2026, 11, 1, 1, 0, tzinfo=PACIFIC, fold=0)
    store._marks["poll:orders"] = datetime(2026, 11, 1, 9, 0, tzinfo=PACIFIC).isoformat()
    assert await poller._start("poll:orders") == datetime(2026, 11, 1, 8, 50, tzinfo=PACIFIC)
