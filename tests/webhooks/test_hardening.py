"""What a hostile read of the receiver found: each case, so that it stays fixed."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

from shipstation_async import ShipStation
from shipstation_async.errors import ConfigurationError, InvalidRequestError
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import (
    MemoryStore,
    Notification,
    SQLiteStore,
    WebhookReceiver,
    WebhookStore,
)

from .conftest import TOKEN, Seen, delivery, new_orders, poll, post


class SlowReads(MemoryStore):
    """A store whose reads answer what was there when they began, late (a busy disk)."""

    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        found = await super().handled(handler, list(idents))
        await asyncio.sleep(0.05)
        return found


class SlowSQLite(SQLiteStore):
    async def handled(self, handler: str, idents: Iterable[str]) -> dict[str, str]:
        found = await super().handled(handler, list(idents))
        await asyncio.sleep(0.05)
        return found


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_version_handled_meanwhile_is_not_handed_over_again(
    ss: ShipStation, sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    store: WebhookStore = SlowReads() if kind == "memory" else SlowSQLite(tmp_path / "s.sqlite")
    receiver = WebhookReceiver(ss, token=TOKEN, store=store, poll_interval=None, sync_lag=_zero())
    calls: collections.Counter[tuple[Any, Any]] = collections.Counter()

    @receiver.on("ORDER_NOTIFY", name="counter")
    async def count(notification: Notification) -> None:
        for order in notification.orders:
            calls[(order.order_id, order.modify_date)] += 1

    ids, url = await new_orders(ss, sandbox, 3, "R")
    await asyncio.sleep(1.05)
    await asyncio.gather(post(receiver, delivery(url)), receiver.poll_once(), receiver.poll_once())
    await asyncio.wait_for(receiver.drain(), 20)
    assert sorted(i for i, _ in calls) == sorted(ids)
    assert set(calls.values()) == {1}
    await receiver.close()


def _zero() -> Any:
    from datetime import timedelta

    return timedelta(0)


async def test_one_record_is_never_in_two_calls_of_a_handler_at_once(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    active: set[int] = set()
    overlaps: list[int] = []
    seen: list[tuple[int, Any]] = []

    @receiver.on("ORDER_NOTIFY", name="slow")
    async def slow(notification: Notification) -> None:
        for order in notification.orders:
            assert order.order_id is not None
            if order.order_id in active:
                overlaps.append(order.order_id)
            active.add(order.order_id)
        await asyncio.sleep(0.3)
        for order in notification.orders:
            assert order.order_id is not None
            active.discard(order.order_id)
            seen.append((order.order_id, order.modify_date))

    ids, url = await new_orders(ss, sandbox, 1, "O")
    await post(receiver, delivery(url))
    await asyncio.sleep(0.1)  # its first version is being handled...
    order = await ss.orders.get(ids[0])
    await ss.orders.create_or_update(attrs.evolve(order, customer_notes="changed"))
    await poll(receiver)  # ...when the poll brings the second
    await asyncio.wait_for(receiver.drain(), 20)
    assert overlaps == []
    assert len(seen) == 2 and seen[0][1] < seen[1][1]  # in order, each once


async def test_a_handler_that_cancels_itself_is_retried(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    attempts: list[int] = []

    @receiver.on("ORDER_NOTIFY", name="cancelling")
    async def cancelling(notification: Notification) -> None:
        attempts.append(notification.attempt)
        if len(attempts) == 1:
            raise asyncio.CancelledError

    _, url = await new_orders(ss, sandbox, 1, "C")
    await post(receiver, delivery(url))
    await asyncio.wait_for(receiver.drain(), 10)
    assert attempts == [1, 2]


async def test_work_for_an_unregistered_handler_is_kept(
    ss: ShipStation, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "hooks.sqlite"
    first = WebhookReceiver(
        ss, token=TOKEN, store=path, poll_interval=None, attempts=1, first_retry=0.01
    )

    @first.on("ORDER_NOTIFY", name="old-name")
    async def broken(notification: Notification) -> None:
        raise RuntimeError("down")

    _, url = await new_orders(ss, sandbox, 2, "N")
    await post(first, delivery(url))
    await asyncio.wait_for(first.drain(), 10)
    await first.close()
    second = WebhookReceiver(ss, token=TOKEN, store=path, poll_interval=None)
    second.on("ORDER_NOTIFY", name="new-name")(Seen())
    letters = await second.dead_letters()
    assert [letter.handler for letter in letters] == ["old-name"]
    with pytest.raises(ConfigurationError):
        await second.replay()
    with pytest.raises(InvalidRequestError):
        await second.replay("no-such-letter")
    assert len(await second.dead_letters()) == 1  # still there
    await second.close()


async def test_the_sqlite_store_serves_one_process(tmp_path: Path) -> None:
    one, two = SQLiteStore(tmp_path / "x.sqlite"), SQLiteStore(tmp_path / "x.sqlite")
    assert await one.jobs() == []
    with pytest.raises(ConfigurationError):
        await two.jobs()
    await one.close()
    assert await two.jobs() == []  # free once the first closed
    await two.close()


async def test_a_closed_receiver_answers_503_and_stays_closed(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    receiver.on("ORDER_NOTIFY", name="seen")(Seen())
    _, url = await new_orders(ss, sandbox, 1, "Z")
    await receiver.start()
    await receiver.close()
    before = sandbox.stats().requests
    assert (await post(receiver, delivery(url)))[0] == 503
    await asyncio.sleep(0.1)
    assert sandbox.stats().requests == before


async def test_aiohttp_reads_a_body_sent_in_parts_and_logs_no_token(
    receiver: WebhookReceiver,
    ss: ShipStation,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url = await new_orders(ss, sandbox, 1, "T")
    runner = web.AppRunner(receiver.aiohttp_app())  # aiohttp's default access log
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    caplog.set_level(logging.INFO)
    body = delivery(url)
    answers = []
    try:
        for chunked in (False, True):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
            head = f"POST /x?token={TOKEN} HTTP/1.1\r\nHost: x\r\n{framing}\r\n"
            head += "Connection: close\r\n\r\n"
            parts = [body[:20], body[20:]]
            if chunked:
                parts = [b"%x\r\n%s\r\n" % (len(p), p) for p in parts]
                parts[-1] += b"0\r\n\r\n"
            writer.write(head.encode() + parts[0])
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.write(parts[1])
            await writer.drain()
            answers.append((await reader.read()).split(b"\r\n", 1)[0])
            writer.close()
        await asyncio.wait_for(receiver.drain(), 10)
    finally:
        await runner.cleanup()
    assert answers == [b"HTTP/1.1 200 OK"] * 2
    assert [i for i, _ in seen.order_versions()] == ids
    assert "POST /x" in caplog.text and TOKEN not in caplog.text


async def test_a_poll_hands_records_over_in_chunks(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    sizes: list[int] = []

    @receiver.on("ORDER_NOTIFY", name="sizes")
    async def size(notification: Notification) -> None:
        sizes.append(len(notification.orders))

    started = time.monotonic()
    for batch in range(3):
        await new_orders(ss, sandbox, 90, f"K{batch}")
    assert await poll(receiver) == 270
    await asyncio.wait_for(receiver.drain(), 20)
    assert sorted(sizes) == [70, 100, 100] and time.monotonic() - started < 20


class SlowMarks(MemoryStore):
    async def mark_handled(self, handler: str, versions: Any, until: float) -> None:
        await asyncio.sleep(0.3)
        await super().mark_handled(handler, versions, until)


async def test_close_waits_for_the_record_of_a_handled_version(
    ss: ShipStation, sandbox: Sandbox
) -> None:
    store = SlowMarks()
    receiver = WebhookReceiver(ss, token=TOKEN, store=store, poll_interval=None)
    returned = asyncio.Event()

    @receiver.on("ORDER_NOTIFY", name="quick")
    async def quick(notification: Notification) -> None:
        returned.set()

    ids, url = await new_orders(ss, sandbox, 2, "W")
    await post(receiver, delivery(url))
    await asyncio.wait_for(returned.wait(), 10)
    await receiver.close(grace=5)  # the handler returned; its record is being written
    assert set(await store.handled("quick", [f"orders:{i}" for i in ids])) == {
        f"orders:{i}" for i in ids
    }


class SlowAdds(MemoryStore):
    async def add_job(self, job: Any, *, remember_until: float, mark: Any = None) -> bool:
        await asyncio.sleep(0.2)
        return await super().add_job(job, remember_until=remember_until, mark=mark)


async def test_a_delivery_whose_request_is_cancelled_is_still_run(
    ss: ShipStation, sandbox: Sandbox
) -> None:
    receiver = WebhookReceiver(ss, token=TOKEN, store=SlowAdds(), poll_interval=None)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url = await new_orders(ss, sandbox, 1, "V")
    request = asyncio.ensure_future(post(receiver, delivery(url)))
    await asyncio.sleep(0.05)
    request.cancel()  # the sender hung up while the delivery was being stored
    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.sleep(0.3)
    await asyncio.wait_for(receiver.drain(), 10)
    assert [i for i, _ in seen.order_versions()] == ids
    await receiver.close()


async def test_another_event_loop_gets_503(receiver: WebhookReceiver, sandbox: Sandbox) -> None:
    receiver.on("ORDER_NOTIFY", name="seen")(Seen())
    await receiver.start()
    body = delivery(f"{sandbox.url}/orders?importBatch=abc")
    status, _ = await asyncio.to_thread(lambda: asyncio.run(post(receiver, body)))
    assert status == 503


async def test_tracebacks_in_server_logs_lose_the_token(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    try:
        raise ValueError(f"bad request line b'POST /x?token={TOKEN} HTTP/1.1'")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    assert "Error handling request" in caplog.text and "ValueError" in caplog.text
    # uvicorn's access line keeps its five arguments (its formatter unpacks them).
    # uvicorn's own logging setup (another test may have run a server) stops propagation:
    # listen on its logger itself, behind the filters the receiver put there.
    caplog.set_level(logging.INFO)
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(caplog.handler)
    try:
        line = '%s - "%s %s HTTP/%s" %d'
        target = f"/x?token={TOKEN}"
        access.info(line, "127.0.0.1:5", "POST", target, "1.1", 200)
    finally:
        access.removeHandler(caplog.handler)
        access.setLevel(level)
    record = caplog.records[-1]
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert '"POST /x?token=' in caplog.text and TOKEN not in caplog.text


async def test_a_subscription_error_keeps_the_token_out_of_its_chain() -> None:
    from shipstation_async import RetryPolicy
    from shipstation_async.webhooks import WebhookSubscriptionError

    async def echo(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({"webhooks": []})
        body = await request.text()
        return web.json_response({"Message": f"The request is invalid: {body}"}, status=400)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with ShipStation(
            "key", "secret-0123456789", base_url=url, retry=RetryPolicy(max_attempts=1)
        ) as ss:
            receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
            receiver.on("ORDER_NOTIFY", name="seen")(Seen())
            with pytest.raises(WebhookSubscriptionError) as caught:
                await receiver.ensure_subscribed("https://app.example.com/hooks/events")
            error = caught.value
            assert error.status == 400 and "invalid" in str(error)
            assert error.__context__ is None and error.__cause__ is None
            assert TOKEN not in str(error) and TOKEN not in repr(error)
            frames = [tb.tb_frame for tb in _walk(error.__traceback__)]
            assert all(TOKEN not in repr(frame.f_locals) for frame in frames)
            await receiver.close()
    finally:
        await runner.cleanup()


def _walk(tb: Any) -> list[Any]:
    found = []
    while tb is not None:
        found.append(tb)
        tb = tb.tb_next
    return found
