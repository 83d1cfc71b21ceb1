"""What a second hostile read of the receiver found: each case, so that it stays fixed.

Most run against a fake API (``RecordingServer``) whose lists answer what a test put in them,
records the models cannot read included.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.errors import ConfigurationError
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import MemoryStore, Notification, WebhookReceiver
from shipstation_async.webhooks.events import is_newer, record_version
from shipstation_async.webhooks.store import Job, Progress

from ..conftest import until
from ..recording import RecordingServer
from .conftest import STAMP, TOKEN, Lists, Seen, delivery, order, order_body, poll, post


def receiver_on(client: ShipStation, store: MemoryStore | None = None, **options: Any) -> Any:
    settings: dict[str, Any] = {"first_retry": 0.05, "max_retry": 0.05, "poll_interval": None}
    settings.update(options)
    return WebhookReceiver(
        client, token=TOKEN, store=store or MemoryStore(), sync_lag=timedelta(0), **settings
    )


def batch(recorder: RecordingServer, name: str) -> bytes:
    return delivery(f"{recorder.url}/orders?importBatch={name}")


# -- one unreadable record -----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [{"modifyDate": "2026-02-30T10:00:00"}, {"orderDate": "not a date"}], ids=str
)
async def test_an_unreadable_record_goes_to_the_dead_letters_alone(
    client: ShipStation, recorder: RecordingServer, lists: Lists, bad: dict[str, str]
) -> None:
    lists.records["orders"] = [order(1, STAMP), order(2, STAMP, **bad), order(3, STAMP)]
    store = MemoryStore()
    receiver = receiver_on(client, store, attempts=3)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    assert (await post(receiver, batch(recorder, "b1")))[0] == 200
    await asyncio.wait_for(receiver.drain(), 5)
    assert [i for i, _ in seen.order_versions()] == [1, 3]
    [letter] = await receiver.dead_letters()
    assert letter.handler == "seen" and letter.attempts == 0
    assert letter.error.startswith("unreadable record: DecodeError")
    assert [dict(r) for r in letter.records["orders"]] == [order(2, STAMP, **bad)]
    assert await store.jobs() == []
    await receiver.close()


class _FailsToBuryOnce(MemoryStore):
    """A store whose first dead letter fails (a brief outage)."""

    failed = False

    async def add_dead_letter(self, letter: Any) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the store is away for a moment")
        await super().add_dead_letter(letter)


async def test_a_store_failure_while_burying_an_unreadable_record_is_taken_up_again(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    bad = order(2, STAMP, orderDate="not a date")
    lists.records["orders"] = [order(1, STAMP), bad, order(3, STAMP)]
    store = _FailsToBuryOnce()
    receiver = receiver_on(client, store, attempts=3, first_retry=0.05)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    assert (await post(receiver, batch(recorder, "b1")))[0] == 200
    await asyncio.wait_for(receiver.drain(), 5)
    assert store.failed
    assert [i for i, _ in seen.order_versions()] == [1, 3]  # not buried with the bad one
    [letter] = await receiver.dead_letters()
    assert [dict(r) for r in letter.records["orders"]] == [bad]
    await receiver.close()


def test_a_stamp_stored_before_the_repeated_hour_was_marked_is_the_same_version() -> None:
    # A store filled by the release before holds the fall-back hour's stamps unmarked.
    marked = record_version("orders", order(7, "2026-11-01T01:50:00.0000000"))
    assert marked is not None and marked[1].endswith("~")
    unmarked = marked[1].removesuffix("~")
    assert not is_newer(marked[1], unmarked)
    assert not is_newer(unmarked, marked[1])


async def test_records_a_model_refuses_later_use_up_the_attempts(
    client: ShipStation, lists: Lists
) -> None:
    # A job stored with its handlers chosen (before an upgrade, say): its records were read
    # then. Now one is refused: the handler's attempts run out, nothing loops.
    store = MemoryStore()
    stored = Job(
        id="j1",
        key="k1",
        resource_type="ORDER_NOTIFY",
        source="webhook",
        received_at=time.time(),
        records={"orders": [order(1, STAMP), order(2, STAMP, orderDate="not a date")]},
        handlers={"seen": Progress()},
    )
    await store.add_job(stored, remember_until=time.time() + 60)
    receiver = receiver_on(client, store, attempts=2)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    await receiver.start()
    await asyncio.wait_for(receiver.drain(), 5)
    [letter] = await receiver.dead_letters()
    assert seen.calls == [] and letter.attempts == 2
    assert letter.error.startswith("unreadable records: DecodeError")
    assert await store.jobs() == []
    await receiver.close()


async def test_a_handler_error_that_cannot_be_printed_counts_as_an_attempt(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    lists.records["orders"] = [order(1, STAMP)]
    receiver = receiver_on(client, attempts=2)
    calls: list[int] = []

    @receiver.on("ORDER_NOTIFY", name="odd")
    async def odd(notification: Notification) -> None:
        calls.append(notification.attempt)
        raise Unprintable

    await post(receiver, batch(recorder, "b1"))
    await asyncio.wait_for(receiver.drain(), 5)
    [letter] = await receiver.dead_letters()
    assert calls == [1, 2] and letter.attempts == 2
    assert letter.error.startswith("Unprintable")
    await receiver.close()


async def test_an_unreadable_record_does_not_stop_the_poll(
    client: ShipStation, lists: Lists
) -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    wall = (datetime.now(pacific) - timedelta(minutes=1)).replace(tzinfo=None).isoformat()
    lists.records["orders"] = [order(1, wall), order(2, wall, orderDate="nope"), order(3, wall)]
    store = MemoryStore()
    receiver = receiver_on(client, store)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    assert await receiver.poll_once() == 3
    await asyncio.wait_for(receiver.drain(), 5)
    assert [i for i, _ in seen.order_versions()] == [1, 3]
    [letter] = await receiver.dead_letters()
    assert [r["orderId"] for r in letter.records["orders"]] == [2]
    assert await store.mark("poll:orders") is not None  # the round committed its mark
    await receiver.close()


async def test_an_unreadable_record_listed_again_keeps_one_dead_letter_per_handler(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    # Each poll's overlap lists it again, and so may a delivery: a letter for each listing
    # would grow the store for as long as the record stays unreadable.
    pacific = ZoneInfo("America/Los_Angeles")
    wall = (datetime.now(pacific) - timedelta(minutes=1)).replace(tzinfo=None).isoformat()
    lists.records["orders"] = [order(1, wall), order(2, wall, orderDate="nope")]
    receiver = receiver_on(client)
    first, second = Seen(), Seen()
    receiver.on("ORDER_NOTIFY", name="first")(first)
    receiver.on("ORDER_NOTIFY", name="second")(second)
    for _ in range(3):
        assert await receiver.poll_once() == 2
        await asyncio.wait_for(receiver.drain(), 5)
    await post(receiver, batch(recorder, "b1"))
    await asyncio.wait_for(receiver.drain(), 5)
    letters = await receiver.dead_letters()
    assert sorted(letter.handler for letter in letters) == ["first", "second"]
    assert all([r["orderId"] for r in x.records["orders"]] == [2] for x in letters)
    # Once the record changes, it is another letter (what the first said stays).
    lists.records["orders"] = [order(2, wall, orderDate="still not")]
    await post(receiver, batch(recorder, "b2"))
    await asyncio.wait_for(receiver.drain(), 5)
    assert len(await receiver.dead_letters()) == 4
    await receiver.close()


# -- the autumn fall-back hour ---------------------------------------------------------------

# 01:50 PDT (08:50 UTC), then 01:10 PST (09:10 UTC): the later edit's wall time is earlier.
FIRST = "2026-11-01T01:50:00.0000000"
LATER = "2026-11-01T01:10:00.0000000"


async def test_an_edit_in_the_repeated_hour_is_handed_over(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    receiver = receiver_on(client)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    for name, stamp, status in (
        ("b1", FIRST, "awaiting_shipment"),
        ("b2", LATER, "cancelled"),
        ("b3", LATER, "cancelled"),  # the same version again: not handed over again
    ):
        lists.records["orders"] = [order(7, stamp, orderStatus=status)]
        await post(receiver, batch(recorder, name))
        await asyncio.wait_for(receiver.drain(), 5)
    assert [o.order_status for n in seen.calls for o in n.orders] == [
        "awaiting_shipment",
        "cancelled",
    ]
    await receiver.close()


async def test_an_edit_in_the_repeated_hour_is_handed_over_by_the_poll(
    client: ShipStation, lists: Lists
) -> None:
    receiver = receiver_on(client, lookback=timedelta(days=60))
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    for server_time, stamp, status in (
        ("Sun, 01 Nov 2026 08:55:00 GMT", FIRST, "awaiting_shipment"),  # 01:55 PDT
        ("Sun, 01 Nov 2026 09:20:00 GMT", LATER, "cancelled"),  # 01:20 PST
        ("Sun, 01 Nov 2026 09:25:00 GMT", LATER, "cancelled"),  # listed again: the overlap
    ):
        lists.date = server_time
        lists.records["orders"] = [order(7, stamp, orderStatus=status)]
        assert await receiver.poll_once() == 1
        await asyncio.wait_for(receiver.drain(), 5)
    assert [o.order_status for n in seen.calls for o in n.orders] == [
        "awaiting_shipment",
        "cancelled",
    ]
    await receiver.close()


# -- closing -----------------------------------------------------------------------------------


class SlowAdds(MemoryStore):
    async def add_job(self, job: Job, *, remember_until: float, mark: Any = None) -> bool:
        await asyncio.sleep(0.2)
        return await super().add_job(job, remember_until=remember_until, mark=mark)


class SlowJobs(MemoryStore):
    async def jobs(self) -> list[Job]:
        await asyncio.sleep(0.1)
        return await super().jobs()


def _job_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("webhook-job-")]


async def test_a_delivery_stored_while_closing_waits_for_the_next_start(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    lists.records["orders"] = [order(1, STAMP)]
    store = SlowAdds()
    receiver = receiver_on(client, store)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    await receiver.start()
    posting = asyncio.create_task(post(receiver, batch(recorder, "b1")))
    await asyncio.sleep(0.05)  # the delivery is being stored...
    await receiver.close()  # ...as the receiver closes
    assert (await posting)[0] == 200
    await asyncio.sleep(0.3)
    assert _job_tasks() == [] and seen.calls == []
    assert len(await store.jobs()) == 1  # kept for the next start


async def test_close_during_start_leaves_nothing_running(client: ShipStation) -> None:
    receiver = receiver_on(client, SlowJobs(), poll_interval=0.05)
    receiver.on("ORDER_NOTIFY", name="seen")(Seen())
    starting = asyncio.create_task(receiver.start())
    await asyncio.sleep(0.02)  # start() reads the store's unfinished jobs...
    await receiver.close()  # ...when the receiver closes
    with pytest.raises(ConfigurationError):
        await starting
    await asyncio.sleep(0.2)
    names = {t.get_coro().__qualname__ for t in asyncio.all_tasks()}  # type: ignore[union-attr]
    assert not names & {"WebhookReceiver.poll", "WebhookReceiver._prune_every"}


# -- what waits for a busy record --------------------------------------------------------------


class CountedSaves(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    async def save_job(self, job: Job) -> None:
        self.saves += 1
        await super().save_job(job)


async def test_a_job_waiting_for_a_busy_record_neither_polls_nor_writes(
    client: ShipStation, recorder: RecordingServer, lists: Lists
) -> None:
    store = CountedSaves()
    receiver = receiver_on(client, store)
    release = asyncio.Event()
    handed: list[int] = []

    @receiver.on("ORDER_NOTIFY", name="slow")
    async def slow(notification: Notification) -> None:
        handed.extend(o.order_id or 0 for o in notification.orders)
        if notification.resource_url and notification.resource_url.endswith("b1"):
            await release.wait()  # a slow call holds order 1

    lists.records["orders"] = [order(1, STAMP)]
    await post(receiver, batch(recorder, "b1"))
    await until(lambda: handed == [1])
    lists.records["orders"] = [order(i, STAMP) for i in range(1, 101)]
    await post(receiver, batch(recorder, "b2"))
    await until(lambda: len(handed) == 100)  # all but the busy order 1
    before = store.saves
    await asyncio.sleep(1.0)
    waiting_saves = store.saves - before
    release.set()
    await asyncio.wait_for(receiver.drain(), 5)
    assert waiting_saves == 0
    assert sorted(handed) == list(range(1, 101))  # order 1 once: its version was handled
    await receiver.close()


# -- events a poll stands for ------------------------------------------------------------------


async def test_the_poll_hands_fulfillments_to_shipped_handlers_only(
    receiver: WebhookReceiver, ss: ShipStation
) -> None:
    rejected, shipped = Seen(), Seen()
    receiver.on("FULFILLMENT_REJECTED", name="rejected")(rejected)
    receiver.on("FULFILLMENT_SHIPPED", name="shipped")(shipped)
    result = await ss.orders.create_or_update_many([order_body("FUL-1")])
    order_id = result.results[0].order_id
    assert order_id is not None
    await ss.orders.mark_as_shipped(order_id, "ups", tracking_number="1Z999")
    assert await poll(receiver) >= 1
    await asyncio.wait_for(receiver.drain(), 10)
    assert rejected.calls == []
    assert [(n.resource_type, f.order_id) for n in shipped.calls for f in n.fulfillments] == [
        ("FULFILLMENT_SHIPPED", order_id)
    ]


async def test_a_receiver_for_rejections_only_does_not_poll_fulfillments(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    receiver.on("FULFILLMENT_REJECTED", name="rejected")(Seen())
    result = await ss.orders.create_or_update_many([order_body("FUL-2")])
    order_id = result.results[0].order_id
    assert order_id is not None
    await ss.orders.mark_as_shipped(order_id, "ups", tracking_number="1Z999")
    before = sandbox.stats().requests
    assert await poll(receiver) == 0
    assert sandbox.stats().requests == before


# -- the token and the frames an error came through ---------------------------------------------


async def test_a_timeout_in_ensure_subscribed_keeps_the_token_out_of_frame_locals() -> None:
    answer = asyncio.Event()

    async def hooks(request: web.Request) -> web.Response:
        if request.path.endswith("/subscribe"):
            await answer.wait()  # a slow API: the caller gives up first
        return web.json_response({"webhooks": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hooks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with ShipStation(
            "key-0123456789",
            "secret-0123456789",
            base_url=url,
            rate_limit=RateLimit(1000, 1.0),
            retry=RetryPolicy(max_attempts=1),
        ) as ss:
            receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
            receiver.on("ORDER_NOTIFY", name="seen")(Seen())
            with pytest.raises(TimeoutError) as caught:
                async with asyncio.timeout(0.5):
                    await receiver.ensure_subscribed("https://app.example.com/hooks")
            answer.set()
            leaks = []
            error: BaseException | None = caught.value
            while error is not None:  # the error and its chain, as error trackers show them
                tb = error.__traceback__
                while tb is not None:
                    frame = tb.tb_frame
                    leaks += [
                        f"{frame.f_code.co_name}:{name}"
                        for name, value in frame.f_locals.items()
                        if TOKEN in repr(value)
                    ]
                    tb = tb.tb_next
                error = error.__cause__ or error.__context__
            assert leaks == []
            await receiver.close()
    finally:
        answer.set()
        await runner.cleanup()


# -- a first round whose range is empty ---------------------------------------------------------


async def test_a_first_round_whose_range_is_empty_still_sets_every_mark(
    client: ShipStation, lists: Lists
) -> None:
    """This host's clock is 9 minutes ahead of the server's: the first round (from 10 minutes
    back by this host's clock) starts after its end (the server's clock less the 2-minute
    lag). It lists nothing and sets each list's mark; it once asked for voids ending before
    they started, failed every round, and never set the shipments' and fulfillments' marks:
    those lists were never polled."""
    server_now = datetime.now(ZoneInfo("UTC")) - timedelta(minutes=9)
    lists.date = server_now.strftime("%a, %d %b %Y %H:%M:%S GMT")
    store = MemoryStore()
    receiver = WebhookReceiver(
        client,
        token=TOKEN,
        store=store,
        poll_interval=None,
        lookback=timedelta(minutes=10),
        sync_lag=timedelta(minutes=2),
    )
    for event in ("ORDER_NOTIFY", "SHIP_NOTIFY", "FULFILLMENT_SHIPPED"):
        receiver.on(event, name=event)(Seen())
    lists.records["orders"] = [order(1, STAMP)]
    lists.records["shipments"] = [{"shipmentId": 2, "orderId": 1, "createDate": STAMP}]
    lists.records["fulfillments"] = [{"fulfillmentId": 3, "orderId": 1, "createDate": STAMP}]
    await receiver.poll_once()
    for name in ("orders", "shipments", "fulfillments"):
        assert await store.mark(f"poll:{name}") is not None, name
    await receiver.close()
