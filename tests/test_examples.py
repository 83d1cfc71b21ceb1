"""The use-case examples (examples/*.py) run against the sandbox, and what they did there.

Each example is a script a user runs with credentials and SHIPSTATION_BASE_URL in the
environment; here each runs in process (its ``main()``, the environment set by monkeypatch)
against a ThreadedSandbox, and the sandbox's own state shows what it did. The last test runs
every one as a real process, as a user would.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shipstation_async import ShipStation
from shipstation_async.models import Weight
from shipstation_async.sandbox import ThreadedSandbox, World
from shipstation_async.sandbox.state.shipments import ShipmentQuery

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PACIFIC = ZoneInfo("America/Los_Angeles")
TRACKING_LINE = re.compile(r"^(\S+): (\S+) (\S+)( \(voided\))?$")


def load(name: str) -> ModuleType:
    """The example as a fresh module (its module-level state new for each test)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point_at(sandbox: ThreadedSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a user sets to run an example against this sandbox."""
    monkeypatch.setenv("SHIPSTATION_API_KEY", sandbox.api_key)
    monkeypatch.setenv("SHIPSTATION_API_SECRET", sandbox.api_secret)
    monkeypatch.setenv("SHIPSTATION_BASE_URL", sandbox.url)
    monkeypatch.delenv("SHIPSTATION_BUDGET_URL", raising=False)  # the budget in this process


@pytest.fixture
def empty_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSandbox]:
    """A sandbox with no orders (its warehouses: Texas (default), Nevada, New Jersey)."""
    with ThreadedSandbox(orders=0) as sandbox:
        point_at(sandbox, monkeypatch)
        yield sandbox


def pacific_ts(moment: datetime) -> str:
    """A time in the sandbox's order-timestamp format (Pacific wall clock)."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.%f0")


def parse_ts(text: str) -> datetime:
    """A sandbox timestamp (Pacific wall clock, up to 7 decimals) as an aware datetime."""
    head, _, fraction = text.partition(".")
    moment = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S")
    return moment.replace(microsecond=int((fraction + "000000")[:6]), tzinfo=PACIFIC)


def seed_order(sandbox: ThreadedSandbox, number: str, state: str, **fields: Any) -> dict[str, Any]:
    """An order awaiting shipment to ``state``, created an hour ago (older than any T0)."""
    address = {
        "name": f"Customer {number}",
        "street1": "1 Main St",
        "city": "Springfield",
        "state": state,
        "postalCode": fields.pop("postal_code", "10001"),
        "country": fields.pop("country", "US"),
        "phone": "555-555-0100",
        "residential": True,
    }
    hour_ago = pacific_ts(datetime.now(UTC) - timedelta(hours=1))
    record: dict[str, Any] = {
        "orderNumber": number,
        "orderKey": f"key-{number}",
        "orderDate": hour_ago,
        "createDate": hour_ago,
        "orderStatus": "awaiting_shipment",
        "billTo": address,
        "shipTo": address,
        "items": [{"sku": f"SKU-{number}", "name": "Widget", "quantity": 1, "unitPrice": 10.0}],
        "weight": {"value": 20, "units": "ounces"},
        **fields,
    }
    return sandbox.world.add_order(record)


# -- order import ------------------------------------------------------------------------------


async def test_order_import_is_idempotent_and_a_rerun_writes_nothing(
    empty_sandbox: ThreadedSandbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, example = empty_sandbox, load("order_import")
    world = sandbox.world
    keys = [f"shop-{record['id']}" for record in example.SAMPLE_FEED]

    await example.main()
    assert capsys.readouterr().out.splitlines()[-1] == "created 3"
    first = {key: world.orders.find_by_key(key) for key in keys}
    assert all(order is not None for order in first.values())
    assert len(world.orders) == 3
    assert sandbox.write_counts() == {"POST /orders/createorder": 3}

    await example.main()  # the same feed: nothing is written, nothing duplicated
    assert capsys.readouterr().out.splitlines() == ["unchanged 3"]
    assert len(world.orders) == 3
    assert sandbox.write_counts() == {"POST /orders/createorder": 3}

    # Another tool routed shop-5001 to the New Jersey warehouse meanwhile.
    east = next(w for w in world.list_warehouses() if w["originAddress"]["state"] == "NJ")
    routed = copy.deepcopy(first["shop-5001"])
    assert routed is not None
    routed["advancedOptions"]["warehouseId"] = east["warehouseId"]
    world.add_order(routed)
    # The shop changed two records: a quantity, and a payment.
    feed = copy.deepcopy(example.SAMPLE_FEED)
    feed[0]["lines"][0]["qty"] = 5
    feed[2]["paid"] = True
    (tmp_path / "feed.json").write_text(json.dumps(feed), "utf-8")
    monkeypatch.setenv("SHOP_FEED", str(tmp_path / "feed.json"))

    await example.main()
    assert capsys.readouterr().out.splitlines()[-1] == "unchanged 1, updated 2"
    assert len(world.orders) == 3
    assert sandbox.write_counts() == {"POST /orders/createorder": 5}
    updated = world.orders.find_by_key("shop-5001")
    assert updated is not None and first["shop-5001"] is not None
    assert updated["orderId"] == first["shop-5001"]["orderId"]
    assert updated["items"][0]["quantity"] == 5
    assert updated["advancedOptions"]["warehouseId"] == east["warehouseId"]  # kept
    paid = world.orders.find_by_key("shop-5003")
    assert paid is not None and paid["orderStatus"] == "awaiting_shipment"

    # Once shipped, an order is left as ShipStation has it, whatever the feed says.
    shipped = world.orders.find_by_key("shop-5002")
    assert shipped is not None
    world.add_order({**shipped, "orderStatus": "shipped"})
    feed[1]["lines"][0]["qty"] = 9
    (tmp_path / "feed.json").write_text(json.dumps(feed), "utf-8")
    await example.main()
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "kept 1, unchanged 2" and "kept SHOP-5002: shipped" in out[0]
    assert sandbox.write_counts() == {"POST /orders/createorder": 5}


# -- tracking sync -----------------------------------------------------------------------------


def printed_tracking(out: str) -> list[str]:
    return [m.group(3) for line in out.splitlines() if (m := TRACKING_LINE.match(line))]


async def test_tracking_sync_prints_each_label_once_from_its_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = datetime.now(UTC) - timedelta(hours=1)
    world = World(orders=300, span_days=5, end=end)
    shipments, _ = world.shipments.query(ShipmentQuery(page_size=10_000))
    created = [(s["trackingNumber"], parse_ts(s["createDate"])) for s in shipments]
    assert len(created) > 100
    checkpoint = tmp_path / "sync.json"
    monkeypatch.setenv("TRACKING_CHECKPOINT", str(checkpoint))
    example = load("tracking_sync")
    with ThreadedSandbox(world=world) as sandbox:
        point_at(sandbox, monkeypatch)

        started = datetime.now(UTC)
        await example.main()  # first run: the last week, which holds every generated label
        first = printed_tracking(capsys.readouterr().out)
        assert sorted(first) == sorted(t for t, _ in created)
        synced = example.load_checkpoint(checkpoint)
        # The range ends two minutes before the server's time (labels are listed late).
        lag = timedelta(minutes=2)
        assert started - lag - timedelta(seconds=2) <= synced <= datetime.now(UTC) - lag

        # As if the last run had ended a day before the world's end: exactly the later labels.
        since = end - timedelta(days=1)
        example.save_checkpoint(checkpoint, since)
        await example.main()
        later = printed_tracking(capsys.readouterr().out)
        expected = sorted(t for t, when in created if when > since)
        assert sorted(later) == expected and 0 < len(expected) < len(created)
        assert len(later) == len(set(later))

        await example.main()  # nothing new since
        assert printed_tracking(capsys.readouterr().out) == []

        # A label made now is within the two minutes: left for a later run, not lost.
        async with ShipStation() as ss:
            page = await ss.orders.list(order_status="awaiting_shipment", page_size=1)
            order = page.items[0]
            assert order.order_id is not None
            label = await ss.orders.create_label(
                order.order_id, "stamps_com", "usps_priority_mail", "package", end.date()
            )
        await example.main()
        assert label.tracking_number not in printed_tracking(capsys.readouterr().out)
        assert example.load_checkpoint(checkpoint) < datetime.now(UTC) - lag


# -- multi-warehouse routing -------------------------------------------------------------------


async def test_multi_warehouse_routes_each_order_to_the_nearest_warehouse(
    empty_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, world = empty_sandbox, empty_sandbox.world
    by_state = {w["originAddress"]["state"]: w["warehouseId"] for w in world.list_warehouses()}
    default = world.default_warehouse_id
    assert set(by_state) == {"TX", "NV", "NJ"} and by_state["TX"] == default
    expected = {"CA": "NV", "WA": "NV", "NY": "NJ", "MA": "NJ", "OK": "TX", "LA": "TX"}
    orders = {state: seed_order(sandbox, f"R-{state}", state) for state in expected}
    abroad = seed_order(sandbox, "R-GB", "London", country="GB", postal_code="SW1A 1AA")
    shipped = seed_order(sandbox, "R-CA-SHIPPED", "CA", orderStatus="shipped")
    before = {state: world.get("orders", o["orderId"]) for state, o in orders.items()}

    await load("multi_warehouse").main()
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "4 of 7 orders awaiting shipment routed to a nearer warehouse"
    for state, target in expected.items():
        now = world.get("orders", orders[state]["orderId"])
        old = before[state]
        assert now is not None and old is not None
        assert now["advancedOptions"]["warehouseId"] == by_state[target], state
        # Only the warehouse changed: the rest of the order went back as it came.
        for key in ("orderNumber", "orderKey", "orderStatus", "shipTo", "billTo", "weight"):
            assert now[key] == old[key], (state, key)
        assert [i["sku"] for i in now["items"]] == [i["sku"] for i in old["items"]]
    untouched = [world.get("orders", o["orderId"]) for o in (abroad, shipped)]
    assert all(o is not None and o["advancedOptions"]["warehouseId"] == default for o in untouched)
    assert sandbox.write_counts() == {"POST /orders/createorder": 4}

    await load("multi_warehouse").main()  # routed already: nothing is written
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 of 7 ")
    assert sandbox.write_counts() == {"POST /orders/createorder": 4}


# -- rate shopping -----------------------------------------------------------------------------


async def cheapest(ss: ShipStation, order: dict[str, Any], origin_zip: str) -> tuple[str, str]:
    """The cheapest carrier and service for an order, media mail aside (asked here anew)."""
    quotes = []
    to, weight = order["shipTo"], order["weight"]
    for carrier in ("stamps_com", "ups", "fedex"):
        rates = await ss.shipments.get_rates(
            carrier,
            origin_zip,
            to["country"],
            to["postalCode"],
            Weight(value=Decimal(str(weight["value"])), units=weight["units"]),
            to_state=to["state"],
            to_city=to["city"],
            residential=True,
        )
        quotes += [(r.total, carrier, r.service_code or "") for r in rates]
    _, carrier, service = min(q for q in quotes if q[2] != "usps_media_mail")
    return carrier, service


async def test_rate_shopping_buys_the_cheapest_label_once_even_when_an_answer_is_lost(
    empty_sandbox: ThreadedSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, world = empty_sandbox, empty_sandbox.world
    monkeypatch.setenv("EXAMPLE_REAL_LABELS", "1")  # free here; a test label leaves no shipment
    near = seed_order(sandbox, "RS-1", "TX", postal_code="73301")
    far = seed_order(
        sandbox, "RS-2", "NY", postal_code="10001", weight={"value": 70, "units": "ounces"}
    )
    # The first purchase takes effect, then its connection is closed unanswered.
    sandbox.faults.script("drop_after", path="/orders/createlabelfororder")

    await load("rate_shopping").main()
    out = capsys.readouterr().out
    assert out.count("found by settling") == 1
    labels = sandbox.labels()
    assert sorted(label.order_id for label in labels) == sorted([near["orderId"], far["orderId"]])
    assert all(not label.test_label for label in labels)
    assert sandbox.write_counts()["POST /orders/createlabelfororder"] == 2
    origin = world.warehouse(world.default_warehouse_id or 0)
    assert origin is not None
    async with ShipStation() as ss:
        for order in (near, far):
            (label,) = [label for label in labels if label.order_id == order["orderId"]]
            expected = await cheapest(ss, order, origin["originAddress"]["postalCode"])
            assert (label.carrier_code, label.service_code) == expected
            assert label.tracking_number in out
    assert out.splitlines()[-1] == "2 labels bought"

    await load("rate_shopping").main()  # both shipped now: nothing left to buy
    assert capsys.readouterr().out.splitlines()[-1] == "0 labels bought"
    assert len(sandbox.labels()) == 2


# -- returns -----------------------------------------------------------------------------------


async def test_returns_label_goes_from_the_customer_to_the_shipping_warehouse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RETURN_LABEL_DIR", str(tmp_path))
    with ThreadedSandbox(orders=200) as sandbox:
        point_at(sandbox, monkeypatch)
        world = sandbox.world
        shipments, _ = world.shipments.query(ShipmentQuery(page_size=1000))
        default = world.default_warehouse_id
        shipped = next(s for s in shipments if s["warehouseId"] != default)
        warehouse = world.warehouse(shipped["warehouseId"])
        assert warehouse is not None
        monkeypatch.setenv("RETURN_ORDER_NUMBER", shipped["orderNumber"])

        await load("returns").main()
        out = capsys.readouterr().out
        (label,) = sandbox.labels()
        sent = label.request
        assert label.endpoint == "/shipments/createlabel" and sent["isReturnLabel"] is True
        assert sent["shipFrom"]["postalCode"] == shipped["shipTo"]["postalCode"]
        assert sent["shipFrom"]["name"] == shipped["shipTo"]["name"]
        assert sent["shipTo"]["postalCode"] == warehouse["returnAddress"]["postalCode"]
        assert (label.carrier_code, label.service_code) == (
            shipped["carrierCode"],
            shipped["serviceCode"],
        )
        assert label.tracking_number in out
        pdf = tmp_path / f"return-{shipped['orderNumber']}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")

        # Without an order number: the order of the most recent label.
        monkeypatch.delenv("RETURN_ORDER_NUMBER")
        latest = max(shipments, key=lambda s: s["shipmentId"])
        await load("returns").main()
        assert f"return label for {latest['orderNumber']}:" in capsys.readouterr().out
        assert len(sandbox.labels()) == 2


# -- as scripts --------------------------------------------------------------------------------

OWN_PREFIXES = {"SHIPSTATION", "EXAMPLE", "SHOP", "TRACKING", "RETURN"}
"""Environment variables the SDK or the examples read: none is inherited by the scripts."""

SCRIPT_OUTPUT = {
    "order_import": r"^created 3$",
    "tracking_sync": r"^\d+ new labels; synced until ",
    "multi_warehouse": r"^\d+ of \d+ orders awaiting shipment routed",
    "rate_shopping": r"^3 test labels bought$",
    "returns": r"^label written to ",
}


@pytest.mark.parametrize("name", sorted(SCRIPT_OUTPUT))
def test_example_runs_as_a_script(name: str, tmp_path: Path) -> None:
    world = World(orders=200, span_days=30, end=datetime.now(UTC) - timedelta(hours=1))
    with ThreadedSandbox(world=world) as sandbox:
        env = {k: v for k, v in os.environ.items() if k.split("_")[0] not in OWN_PREFIXES}
        env |= {
            "SHIPSTATION_API_KEY": sandbox.api_key,
            "SHIPSTATION_API_SECRET": sandbox.api_secret,
            "SHIPSTATION_BASE_URL": sandbox.url,
            "PYTHONPATH": str(ROOT / "src"),
        }
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / f"{name}.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        writes = sandbox.write_counts()
        labels = sandbox.labels()
    assert result.returncode == 0, result.stderr
    assert re.search(SCRIPT_OUTPUT[name], result.stdout, re.MULTILINE), result.stdout
    effects = {
        "order_import": lambda: writes == {"POST /orders/createorder": 3},
        "tracking_sync": lambda: (tmp_path / "tracking-sync.json").is_file() and not writes,
        "multi_warehouse": lambda: writes.get("POST /orders/createorder", 0) > 0,
        "rate_shopping": lambda: len(labels) == 3 and all(label.test_label for label in labels),
        "returns": lambda: len(labels) == 1 and any(tmp_path.glob("return-*.pdf")),
    }
    assert effects[name](), (writes, labels, result.stdout)
