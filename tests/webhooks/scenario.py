"""A live run: a sandbox that drops, delays and duplicates webhooks while orders and labels
change, and a receiver with its polling backup; checked against the sandbox's own records.

Shared by the suite (a short run) and the benchmarks (``webhook_end_to_end``, 2 minutes).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from shipstation_async import RateLimit, ShipStation
from shipstation_async.models import Weight
from shipstation_async.models._scalars import structure_datetime
from shipstation_async.sandbox import Sandbox, WebhookDelivery, World
from shipstation_async.webhooks import Notification, SQLiteStore, WebhookReceiver

from .conftest import order_body

TOKEN = "scenario-token-0123456789"


@attrs.define
class Received:
    record: int
    version: Any
    at: float
    source: str


@attrs.define
class Outcome:
    """What the run did and what it found wrong (``violations`` empty: every rule held)."""

    actions: dict[str, int]
    emissions: int
    dropped: int
    delayed: int
    duplicated: int
    violations: list[str]
    webhook_latency: list[float]
    recovery_latency: list[float]

    def figures(self) -> dict[str, float]:
        """The run's figures for a benchmark table."""

        def pct(values: list[float], q: float) -> float:
            return sorted(values)[int(q * (len(values) - 1))] if values else 0.0

        return {
            "changes": float(sum(self.actions.values())),
            "emissions": float(self.emissions),
            "dropped": float(self.dropped),
            "violations": float(len(self.violations)),
            "webhook_p50_s": statistics.median(self.webhook_latency or [0.0]),
            "recovered_p50_s": statistics.median(self.recovery_latency or [0.0]),
            "recovered_max_s": pct(self.recovery_latency, 1.0),
        }


class Workload:
    """Creates, labels, voids, ships, edits and holds orders at random (seeded)."""

    def __init__(self, ss: ShipStation, seed: int) -> None:
        self.ss = ss
        self.rng = random.Random(seed)
        self.open: list[int] = []
        self.orders: set[int] = set()
        self.labels: list[int] = []
        self.voided: set[int] = set()
        self.actions: dict[str, int] = {}
        self._serial = 0

    async def step(self) -> None:
        choices = ["create", "create", "label", "label", "edit", "hold", "ship", "void"]
        action = self.rng.choice(choices if self.open else ["create"])
        if action == "void" and not set(self.labels) - self.voided:
            action = "create"
        await getattr(self, "_" + action)()
        self.actions[action] = self.actions.get(action, 0) + 1

    async def _create(self) -> None:
        batch = []
        for _ in range(self.rng.randint(1, 3)):
            self._serial += 1
            batch.append(order_body(f"E2E-{self._serial}"))
        result = await self.ss.orders.create_or_update_many(batch)
        ids = [r.order_id for r in result.results if r.order_id is not None]
        self.open.extend(ids)
        self.orders.update(ids)

    async def _label(self) -> None:
        order_id = self.open.pop(self.rng.randrange(len(self.open)))
        weight = Weight(value=Decimal(2), units="pounds")
        label = await self.ss.orders.create_label(
            order_id, "ups", "ups_ground", "package", date.today(), weight=weight
        )
        if label.shipment_id is not None:
            self.labels.append(label.shipment_id)

    async def _void(self) -> None:
        shipment_id = self.rng.choice(sorted(set(self.labels) - self.voided))
        await self.ss.shipments.void_label(shipment_id)
        self.voided.add(shipment_id)

    async def _ship(self) -> None:
        order_id = self.open.pop(self.rng.randrange(len(self.open)))
        await self.ss.orders.mark_as_shipped(order_id, "ups", tracking_number="1Z999")

    async def _edit(self) -> None:
        order = await self.ss.orders.get(self.rng.choice(self.open))
        note = f"note {self.rng.randrange(10**6)}"
        await self.ss.orders.create_or_update(attrs.evolve(order, customer_notes=note))

    async def _hold(self) -> None:
        order_id = self.rng.choice(self.open)
        await self.ss.orders.hold_until(order_id, date.today() + timedelta(days=3))
        self.open.remove(order_id)


async def run_scenario(
    seconds: float, *, poll_interval: float, max_delay: float, seed: int, tmp: Path
) -> Outcome:
    """Run the workload for ``seconds`` against a faulty emitter; check every rule."""
    faults = WebhookDelivery(
        delay_rate=0.3, max_delay=max_delay, drop_rate=0.3, duplicate_rate=0.2, seed=seed
    )
    world = World(orders=20, seed=seed, end=datetime(2026, 1, 1, tzinfo=UTC))
    limit = RateLimit(40, 2.0)
    async with (
        Sandbox(world=world, rate_limit=limit, webhooks=faults) as sb,
        ShipStation(sb.api_key, sb.api_secret, base_url=sb.url, rate_limit=limit) as ss,
    ):
        receiver = WebhookReceiver(
            ss,
            token=TOKEN,
            store=SQLiteStore(tmp / "hooks.sqlite"),
            poll_interval=poll_interval,
            overlap=timedelta(seconds=60),
            sync_lag=timedelta(0),
            first_retry=0.2,
            max_retry=1.0,
        )
        seen = _Handlers(receiver, seed)
        app = web.Application()
        app.add_subapp("/hooks", receiver.aiohttp_app())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            port = runner.addresses[0][1]
            await receiver.ensure_subscribed(f"http://127.0.0.1:{port}/hooks/events")
            work = Workload(ss, seed)
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:
                await work.step()
                await asyncio.sleep(0.1)
            async with asyncio.timeout(max_delay + 30):
                await sb.settle_webhooks()
            deadline = time.monotonic() + 3 * poll_interval + 15
            while time.monotonic() < deadline and _missing(sb, work, seen):  # noqa: ASYNC110
                await asyncio.sleep(0.25)
            async with asyncio.timeout(30):
                await receiver.drain()
            return _judge(sb, work, seen)
        finally:
            await runner.cleanup()


class _Handlers:
    """Three handlers: orders, shipments, and one that fails a third of its calls."""

    def __init__(self, receiver: WebhookReceiver, seed: int) -> None:
        self.orders: list[Received] = []
        self.shipments: list[Received] = []
        self.flaky: list[Received] = []
        rng = random.Random(seed + 1)

        @receiver.on("ORDER_NOTIFY", name="orders")
        async def orders(event: Notification) -> None:
            now = time.time()
            self.orders.extend(
                Received(o.order_id or 0, o.modify_date, now, event.source) for o in event.orders
            )

        @receiver.on("SHIP_NOTIFY", name="shipments")
        async def shipments(event: Notification) -> None:
            now = time.time()
            self.shipments.extend(
                Received(s.shipment_id or 0, bool(s.voided), now, event.source)
                for s in event.shipments
            )

        @receiver.on("ORDER_NOTIFY", name="flaky")
        async def flaky(event: Notification) -> None:
            if rng.random() < 0.3:
                raise RuntimeError("the warehouse system is down")
            now = time.time()
            self.flaky.extend(
                Received(o.order_id or 0, o.modify_date, now, event.source) for o in event.orders
            )


def _final(sb: Sandbox, work: Workload) -> tuple[dict[int, Any], dict[int, bool]]:
    orders: dict[int, Any] = {}
    for order_id in work.orders:
        record = sb.world.get("orders", order_id)
        assert record is not None
        orders[order_id] = structure_datetime(record["modifyDate"], datetime)
    shipments: dict[int, bool] = {}
    for shipment_id in work.labels:
        record = sb.world.get("shipments", shipment_id)
        assert record is not None
        shipments[shipment_id] = bool(record.get("voided"))
    return orders, shipments


def _last(received: list[Received]) -> dict[int, Any]:
    return {r.record: r.version for r in received}


def _missing(sb: Sandbox, work: Workload, seen: _Handlers) -> bool:
    orders, shipments = _final(sb, work)
    return (
        _last(seen.orders) != {k: v for k, v in orders.items()}
        or _last(seen.flaky) != orders
        or _last(seen.shipments) != shipments
    )


def _judge(sb: Sandbox, work: Workload, seen: _Handlers) -> Outcome:
    orders, shipments = _final(sb, work)
    violations: list[str] = []
    for name, received, truth in (
        ("orders", seen.orders, orders),
        ("flaky", seen.flaky, orders),
        ("shipments", seen.shipments, shipments),
    ):
        last = {k: v for k, v in _last(received).items() if k in truth}
        for record, version in truth.items():
            if last.get(record) != version:
                violations.append(f"{name}: {record} last got {last.get(record)!r}, is {version!r}")
        pairs = [(r.record, r.version) for r in received]
        for pair in {p for p in pairs if pairs.count(p) > 1}:
            violations.append(f"{name}: {pair} handed over {pairs.count(pair)} times")
    log = sb.webhook_log()
    first: dict[tuple[str, int], float] = {}
    for resource, received in (("orders", seen.orders), ("shipments", seen.shipments)):
        for r in received:
            first.setdefault((resource, r.record), r.at)
    webhook, recovered = [], []
    for emission in log:
        for record in emission.record_ids:
            at = first.get((emission.resource, record))
            if at is None:
                continue
            (recovered if emission.dropped else webhook).append(max(0.0, at - emission.emitted_at))
    return Outcome(
        actions=dict(work.actions),
        emissions=len(log),
        dropped=sum(e.dropped for e in log),
        delayed=sum(e.delayed for e in log),
        duplicated=sum(e.duplicated for e in log),
        violations=violations,
        webhook_latency=webhook,
        recovery_latency=recovered,
    )
