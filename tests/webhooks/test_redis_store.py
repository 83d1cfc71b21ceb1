"""What only the RedisStore has: key layout and expiry, a password never shown, jobs shared by
processes (claimed once, taken over from a process that died or froze), and a receiver on it.

Everything runs on the session's real redis-server, under a prefix of its own per test.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio
from redis.crc import key_slot

from shipstation_async import ShipStation
from shipstation_async.errors import ConfigurationError
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import (
    Notification,
    RedisStore,
    WebhookReceiver,
    WebhookStoreUnavailable,
)
from shipstation_async.webhooks.redis_store import KEEP_MARGIN
from shipstation_async.webhooks.store import DeadLetterRecord

from ..conftest import until
from ..recording import RecordingServer
from ..redis_server import RedisServer, require
from .conftest import STAMP, TOKEN, Lists, Seen, delivery, new_orders, order, poll, post
from .test_receiver import attrs_evolve
from .test_stores import RECORDS, job, redis_store

WORKER = Path(__file__).with_name("_redis_worker.py")
PASSWORD = "hunter2-pw-0123"


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def test_keys_share_one_hash_tag_and_remembered_ones_expire(
    redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    store = redis_store(redis_server)
    now = time.time()
    kept = job("k", now, records=RECORDS)
    await store.add_job(kept, remember_until=now + 600, mark=("poll:orders", "m"))
    await store.mark_handled("h", {"orders:1": "1"}, now + 300)
    await store.add_dead_letter(DeadLetterRecord(id="L", handler="h", job=kept, failed_at=now))
    found = {key async for key in raw.scan_iter(match=f"{{{store.prefix}}}*")}
    assert found and found <= set(store.key_names())
    assert len({key_slot(name.encode()) for name in store.key_names()}) == 1
    assert all(name.startswith(f"{{{store.prefix}}}:") for name in store.key_names())
    ttl = {name.rpartition(":")[2]: await raw.pttl(name) for name in found}
    # Remembered keys and versions go a margin after the latest of them; the owners' beats
    # a few leases after the last.
    assert (600 + KEEP_MARGIN - 30) * 1000 < ttl["keys"] <= (600 + KEEP_MARGIN) * 1000
    assert 0 < ttl["handled"] <= (300 + KEEP_MARGIN) * 1000
    assert ttl["handled"] == pytest.approx(ttl["handled-until"], abs=1000)
    assert 0 < ttl["beats"] <= store.lease * 4 * 1000
    # Accepted work, dead letters and marks are the user's: they never expire.
    assert ttl["jobs"] == ttl["owners"] == ttl["letters"] == ttl["marks"] == -1
    await store.drop_job(kept.id)
    await store.prune(now + 10_000)
    await store.close()
    left = {key async for key in raw.scan_iter(match=f"{{{store.prefix}}}*")}
    assert {name.rpartition(":")[2] for name in left} == {"letters", "marks"}


def closed_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shown(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


async def test_the_password_is_in_no_repr_error_or_log(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = closed_port()
    for url in (
        f"redis://:{PASSWORD}@127.0.0.1:{port}/0",
        f"valkey://user:{PASSWORD}@127.0.0.1:{port}/0",
        # A server that takes no password refuses one: an error of its own.
        f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0",
    ):
        store = RedisStore(url, prefix=f"pw-{uuid.uuid4().hex[:8]}", timeout=0.5, attempts=2)
        assert PASSWORD not in repr(store) and "127.0.0.1" in repr(store)
        for call in (
            store.add_job(job("k", time.time()), remember_until=time.time() + 60),
            store.jobs(),
            store.handled("h", ["orders:1"]),
        ):
            with pytest.raises(WebhookStoreUnavailable) as caught:
                await call
            error = caught.value
            assert PASSWORD not in shown(error)
            assert error.__cause__ is None
            assert error.__context__ is None or error.__suppress_context__
        await store.close()
    for wrong in (
        f"http://:{PASSWORD}@127.0.0.1:{port}/0",
        f"redis://:{PASSWORD}@127.0.0.1:{port}/0?socket_timeout={PASSWORD}",
    ):
        with pytest.raises(ConfigurationError) as refused:
            RedisStore(wrong)
        assert PASSWORD not in shown(refused.value)
    assert PASSWORD not in caplog.text


async def test_a_receiver_whose_redis_went_away_answers_503_and_shows_no_password(
    ss: ShipStation, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = require()  # one of its own, with a password, to kill
    server.start()
    try:
        assert server.command("CONFIG", "SET", "requirepass", PASSWORD).startswith(b"+OK")
        url = f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0"
        store = RedisStore(url, prefix="pw", timeout=0.5, attempts=2)
        receiver = WebhookReceiver(ss, token=TOKEN, store=store, poll_interval=None)
        receiver.on("ORDER_NOTIFY", name="seen")(Seen())
        assert PASSWORD not in repr(receiver)
        body = delivery(f"{sandbox.url}/orders?importBatch=nothing-matches")
        assert await post(receiver, body) == (200, {"status": 200, "message": "accepted"})
        server.kill()
        status, answer = await post(receiver, body)
        assert status == 503 and PASSWORD not in str(answer)
        await receiver.close()
    finally:
        server.stop()
    assert "webhook delivery not stored: WebhookStoreUnavailable" in caplog.text
    assert "could not hand its jobs back: ConnectionError" in caplog.text
    assert PASSWORD not in caplog.text


async def test_a_live_owners_jobs_stay_with_it(redis_server: RedisServer) -> None:
    lease = 1.2
    owner = redis_store(redis_server, lease=lease)
    other = RedisStore(redis_server.url, prefix=owner.prefix, lease=lease)
    held = job("k", time.time())
    await owner.add_job(held, remember_until=time.time() + 60)
    started = time.monotonic()
    assert await other.jobs() == []
    # It waited for the owner's next beat (a third of the lease) to tell it alive.
    assert time.monotonic() - started < lease
    await asyncio.sleep(lease * 1.5)  # beyond a lease: the owner's heartbeat keeps the job
    assert await other.jobs() == []
    await owner.save_job(held)
    assert [j.id for j in await owner.jobs()] == [held.id]
    await owner.close()
    # A clean close hands the job back at once.
    started = time.monotonic()
    assert [j.id for j in await other.jobs()] == [held.id]
    assert time.monotonic() - started < lease / 2
    await other.close()


async def test_stores_starting_together_take_each_stored_job_once(
    redis_server: RedisServer,
) -> None:
    first = redis_store(redis_server, lease=0.6)
    for i in range(20):
        await first.add_job(job(f"k{i}", time.time()), remember_until=time.time() + 60)
    await first.close()  # the jobs wait for the next start
    starting = [RedisStore(redis_server.url, prefix=first.prefix, lease=0.6) for _ in range(4)]
    taken = await asyncio.gather(*(s.jobs() for s in starting))
    ids = [j.id for jobs in taken for j in jobs]
    assert len(ids) == 20 and len(set(ids)) == 20
    for s in starting:
        await s.close()


async def _worker(
    url: str, prefix: str, lease: float, count: int
) -> tuple[asyncio.subprocess.Process, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        prefix,
        str(lease),
        str(count),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    return process, line.decode().split()


async def silent_for(raw: redis.asyncio.Redis, store: RedisStore) -> float:
    """How long ago, on Redis's clock, the other owner of the store's jobs last beat."""
    beats = await raw.zrange(store.key_names()[2], 0, -1, withscores=True)
    (seen,) = [score for owner, score in beats if owner != store.owner]
    seconds, micros = await raw.time()
    return float(seconds + micros / 1e6 - seen)


async def test_a_killed_processs_jobs_are_taken_once_its_lease_ran_out(
    redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    prefix, lease = f"kill-{uuid.uuid4().hex[:8]}", 1.0
    process, ids = await _worker(redis_server.url, prefix, lease, 3)
    assert len(ids) == 3
    process.send_signal(signal.SIGKILL)
    await process.wait()
    killed_at = time.monotonic()
    restarted = RedisStore(redis_server.url, prefix=prefix, lease=lease)
    assert sorted(j.id for j in await restarted.jobs()) == sorted(ids)
    # Taken once the dead owner's lease ran out (not before), and soon after.
    assert await silent_for(raw, restarted) >= lease
    assert time.monotonic() - killed_at < lease + 1.0
    await restarted.close()


async def test_a_frozen_process_finds_its_job_taken_over(
    redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    prefix, lease = f"stop-{uuid.uuid4().hex[:8]}", 1.0
    process, ids = await _worker(redis_server.url, prefix, lease, 1)
    assert process.stdin is not None and process.stdout is not None
    process.send_signal(signal.SIGSTOP)
    try:
        other = RedisStore(redis_server.url, prefix=prefix, lease=lease)
        assert [j.id for j in await other.jobs()] == ids
        assert await silent_for(raw, other) >= lease
    finally:
        process.send_signal(signal.SIGCONT)
    process.stdin.write(b"go\n")
    await process.stdin.drain()
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"taken over\n"
    assert await asyncio.wait_for(process.wait(), 30) == 0
    (mine,) = await other.jobs()
    await other.save_job(mine)  # the new owner's saves go on
    await other.close()


async def test_a_receiver_on_redis_hands_each_version_over_once(
    redis_server: RedisServer, ss: ShipStation, sandbox: Sandbox
) -> None:
    store = redis_store(redis_server)
    receiver = WebhookReceiver(
        ss,
        token=TOKEN,
        store=store,
        first_retry=0.05,
        max_retry=0.2,
        poll_interval=None,
        sync_lag=timedelta(0),
    )
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url = await new_orders(ss, sandbox, 2, "R")
    for _ in range(3):  # redelivered, and concurrently
        await asyncio.gather(post(receiver, delivery(url)), post(receiver, delivery(url)))
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)
    order = await ss.orders.get(ids[0])
    await asyncio.sleep(0.01)
    await ss.orders.create_or_update(attrs_evolve(order, customer_notes="ring twice"))
    await post(receiver, delivery(url))  # the old batch again: nothing new
    await poll(receiver)  # an edit sends no webhook: the poll brings it
    await asyncio.wait_for(receiver.drain(), 10)
    versions = seen.order_versions()
    assert len(versions) == 3 and len(set(versions)) == 3
    assert [i for i, _ in versions].count(ids[0]) == 2
    assert await store.jobs() == []
    await receiver.close()


async def test_a_job_left_by_a_closed_receiver_is_resumed_by_the_next(
    redis_server: RedisServer, ss: ShipStation, sandbox: Sandbox
) -> None:
    prefix = f"resume-{uuid.uuid4().hex[:8]}"
    first = WebhookReceiver(
        ss, token=TOKEN, store=RedisStore(redis_server.url, prefix=prefix), poll_interval=None
    )
    entered = asyncio.Event()

    @first.on("ORDER_NOTIFY", name="sink")
    async def stuck(notification: Notification) -> None:
        entered.set()
        await asyncio.sleep(3600)

    ids, url_s = await new_orders(ss, sandbox, 2, "S")
    assert (await post(first, delivery(url_s)))[0] == 200
    await asyncio.wait_for(entered.wait(), 10)
    await first.close()
    second = WebhookReceiver(
        ss, token=TOKEN, store=RedisStore(redis_server.url, prefix=prefix), poll_interval=None
    )
    handled: list[int | None] = []

    @second.on("ORDER_NOTIFY", name="sink")
    async def sink(notification: Notification) -> None:
        handled.extend(o.order_id for o in notification.orders)

    await second.start()
    await asyncio.wait_for(second.drain(), 10)
    assert sorted(handled) == sorted(ids)  # type: ignore[type-var]
    await second.close()


async def test_one_store_on_a_redis_leads_the_polling(redis_server: RedisServer) -> None:
    prefix = f"lead-{uuid.uuid4().hex[:8]}"
    one = RedisStore(redis_server.url, prefix=prefix)
    two = RedisStore(redis_server.url, prefix=prefix)
    try:
        assert await one.lead("poller", 0.5)
        assert not await two.lead("poller", 0.5)
        assert await one.lead("poller", 0.5)  # renewed by its holder
        await asyncio.sleep(0.7)  # the holder stopped renewing
        assert await two.lead("poller", 0.5)
        assert not await one.lead("poller", 0.5)
    finally:
        await one.close()
        await two.close()


async def test_two_processes_hand_one_version_over_once_however_long_the_call(
    redis_server: RedisServer, client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    # Two receivers on one prefix (as two processes), each given a delivery naming the same
    # order, the second while the first one's (slow) call runs.
    lists.records["orders"] = [order(1, STAMP)]
    prefix = f"dup-{uuid.uuid4().hex[:8]}"
    calls: list[list[int | None]] = []

    def receiver() -> WebhookReceiver:
        made = WebhookReceiver(
            client,
            token=TOKEN,
            store=RedisStore(redis_server.url, prefix=prefix, lease=3.0),
            poll_interval=None,
            first_retry=0.05,
        )

        @made.on("ORDER_NOTIFY", name="slow")
        async def slow(notification: Notification) -> None:
            calls.append([o.order_id for o in notification.orders])
            await asyncio.sleep(0.5)

        return made

    first, second = receiver(), receiver()
    async with first, second:
        await post(first, delivery(f"{recorder.url}/orders?importBatch=b1"))
        await until(lambda: calls != [])
        await post(second, delivery(f"{recorder.url}/orders?importBatch=b2"))
        await asyncio.wait_for(asyncio.gather(first.drain(), second.drain()), 10)
        # A newer version is handed over by either: the claim was dropped after the call.
        lists.records["orders"] = [order(1, "2026-01-02T10:00:00.0000000")]
        await post(second, delivery(f"{recorder.url}/orders?importBatch=b3"))
        await asyncio.wait_for(second.drain(), 10)
    assert calls == [[1], [1]]
