"""The programs the how-to guides show from ``docs/examples``, run for real against sandboxes.

Code that serves until stopped, spreads over processes or is itself a test file cannot run as
a page's block (``test_snippets.py``); each such file is exercised here as its guide says it
is used: the web apps served and asked, the webhook receiver sent real deliveries, the shared
budget spent by several processes on one Redis, the test file run by pytest, and the
standalone sandbox's page run against ``shipstation-async sandbox serve``.
"""

from __future__ import annotations

import asyncio
import csv
import importlib.util
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer, unused_port

from shipstation_async import ClientClosedError, RateLimit, ShipStation
from shipstation_async.sandbox import ThreadedSandbox, WebhookDelivery
from shipstation_async.webhooks import MemoryStore

from ..redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
PARCEL = {
    "shipTo": {
        "name": "Ada Lovelace",
        "street1": "1600 Pennsylvania Ave NW",
        "city": "Washington",
        "state": "DC",
        "postalCode": "20500",
        "country": "US",
    },
    "weight": {"value": 12, "units": "ounces"},
    "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "unitPrice": 9.5}],
}
"""What a label needs on a seeded order (API JSON)."""


def example(name: str) -> ModuleType:
    """A fresh import of ``docs/examples/<name>.py``."""
    spec = importlib.util.spec_from_file_location(
        f"{name}_{uuid.uuid4().hex}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point_at(monkeypatch: pytest.MonkeyPatch, sandbox: ThreadedSandbox) -> None:
    """Set the environment a user sets, so that ``ShipStation()`` reaches the sandbox."""
    for name in list(os.environ):
        if name.startswith("SHIPSTATION_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SHIPSTATION_API_KEY", sandbox.api_key)
    monkeypatch.setenv("SHIPSTATION_API_SECRET", sandbox.api_secret)
    monkeypatch.setenv("SHIPSTATION_BASE_URL", sandbox.url)


def sandbox_env(sandbox: ThreadedSandbox, **extra: str) -> dict[str, str]:
    """A subprocess's environment pointing at ``sandbox``, this checkout's code first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPSTATION_")}
    path = [str(ROOT / "src"), str(EXAMPLES), env.get("PYTHONPATH", "")]
    env.update(
        SHIPSTATION_API_KEY=sandbox.api_key,
        SHIPSTATION_API_SECRET=sandbox.api_secret,
        SHIPSTATION_BASE_URL=sandbox.url,
        PYTHONPATH=os.pathsep.join(p for p in path if p),
        **extra,
    )
    return env


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    """Wait for a state the test brings about (not a duration it measures)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


# -- web-app.md ----------------------------------------------------------------------------------


async def test_the_aiohttp_app_answers_and_turns_callers_away_when_the_budget_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ThreadedSandbox(orders=0) as sandbox:  # ShipStation's real 40 per 60 s
        order = sandbox.world.add_order(orderNumber="WEB-1", orderStatus="awaiting_shipment")
        point_at(monkeypatch, sandbox)
        module = example("aiohttp_app")
        app = module.make_app()
        async with TestClient(TestServer(app)) as http:
            found = await http.get(f"/orders/{order['orderId']}")
            assert found.status == 200
            assert await found.json() == {"number": "WEB-1", "status": "awaiting_shipment"}
            assert (await http.get("/orders/987654321")).status == 404
            assert (await http.get("/orders/0")).status == 400  # refused before sending
            # 38 more calls fill the key's 40 requests; the next finds no slot within 5 s.
            pages = await asyncio.gather(
                *(http.get(f"/orders/{order['orderId']}") for _ in range(38))
            )
            assert [p.status for p in pages] == [200] * 38
            started = time.monotonic()
            busy = await http.get(f"/orders/{order['orderId']}")
            assert busy.status == 503
            assert time.monotonic() - started < 6.0
            assert int(busy.headers["Retry-After"]) > 5
            ss = app[module.SHIPSTATION]
        stats = sandbox.stats()
    assert (stats.requests, stats.rate_limited) == (40, 0)  # the refused call was never sent
    with pytest.raises(ClientClosedError):  # the app's clean-up closed the client
        await ss.orders.get(order["orderId"])


async def test_the_fastapi_app_answers_and_turns_callers_away_when_the_budget_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    with ThreadedSandbox(orders=0) as sandbox:
        order = sandbox.world.add_order(orderNumber="API-1", orderStatus="on_hold")
        point_at(monkeypatch, sandbox)
        module = example("fastapi_app")
        port = unused_port()
        server = uvicorn.Server(
            uvicorn.Config(module.app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())  # runs the lifespan, as in production
        await until(lambda: server.started or serving.done())
        base = f"http://127.0.0.1:{port}/orders"
        async with aiohttp.ClientSession() as http:

            async def get(order_id: int) -> tuple[int, Any, str | None]:
                async with http.get(f"{base}/{order_id}") as answer:
                    return answer.status, await answer.json(), answer.headers.get("Retry-After")

            assert await get(order["orderId"]) == (
                200,
                {"number": "API-1", "status": "on_hold"},
                None,
            )
            assert (await get(987654321))[0] == 404
            assert (await get(0))[0] == 422  # refused before sending
            pages = await asyncio.gather(*(get(order["orderId"]) for _ in range(38)))
            assert [status for status, _, _ in pages] == [200] * 38
            status, _, retry_after = await get(order["orderId"])
            assert status == 503 and retry_after is not None and int(retry_after) > 5
            ss = module.app.state.shipstation
        server.should_exit = True
        await serving
        stats = sandbox.stats()
    assert (stats.requests, stats.rate_limited) == (40, 0)
    with pytest.raises(ClientClosedError):  # leaving the lifespan closed the client
        await ss.orders.get(order["orderId"])


# -- webhooks.md ---------------------------------------------------------------------------------


def awaiting(number: str) -> dict[str, Any]:
    """A new order awaiting shipment, to the parcel's address."""
    return {
        "orderNumber": number,
        "orderKey": number.lower(),
        "orderDate": "2026-01-05T10:00:00",
        "orderStatus": "awaiting_shipment",
        "billTo": PARCEL["shipTo"],
        **PARCEL,
    }


def logged(caplog: pytest.LogCaptureFixture, pattern: str) -> bool:
    return any(re.search(pattern, r.getMessage()) for r in caplog.records)


async def test_the_webhooks_app_subscribes_and_hands_over_orders_and_labels(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhooks_app")
    monkeypatch.chdir(tmp_path)  # the default SQLite store goes here
    with ThreadedSandbox(orders=0) as sandbox:
        point_at(monkeypatch, sandbox)
        monkeypatch.setenv("SHIPSTATION_WEBHOOK_TOKEN", "t" * 32)
        port = unused_port()
        public_url = f"http://127.0.0.1:{port}/shipstation/events"
        app = example("webhooks_app").make_app(public_url, poll_interval=None)
        async with TestServer(app, host="127.0.0.1", port=port), ShipStation() as ss:
            hooks = await ss.webhooks.list()
            assert sorted(h.hook_type for h in hooks) == ["ORDER_NOTIFY", "SHIP_NOTIFY"]
            assert all(h.url.startswith(public_url) for h in hooks)
            saved = await ss.orders.create_or_update(awaiting("WH-1"))
            await until(lambda: logged(caplog, r"order WH-1 is awaiting_shipment \(webhook\)"))
            label = await ss.orders.create_label(
                saved.order_id, "ups", "ups_ground", "package", date.today()
            )
            expected = rf"label {label.tracking_number} for order WH-1, 2 items \(webhook\)"
            await until(lambda: logged(caplog, expected))
        assert (tmp_path / "shipstation-webhooks.sqlite").exists()


async def test_the_webhooks_app_polls_for_what_no_webhook_brought(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhooks_app")
    dropped = WebhookDelivery(drop_rate=1.0)
    with ThreadedSandbox(orders=0, webhooks=dropped) as sandbox:
        point_at(monkeypatch, sandbox)
        monkeypatch.setenv("SHIPSTATION_WEBHOOK_TOKEN", "t" * 32)
        port = unused_port()
        app = example("webhooks_app").make_app(
            f"http://127.0.0.1:{port}/shipstation/events",
            store=MemoryStore(),
            poll_interval=0.5,
            sync_lag=timedelta(0),
        )
        async with TestServer(app, host="127.0.0.1", port=port), ShipStation() as ss:
            await ss.orders.create_or_update(awaiting("PL-1"))
            await until(lambda: logged(caplog, r"order PL-1 is awaiting_shipment \(poll\)"))
        assert [e.outcome for e in sandbox.webhook_log()] == ["dropped"]


async def test_the_fastapi_webhooks_app_hands_over_an_imported_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import uvicorn

    caplog.set_level(logging.INFO, logger="webhooks_fastapi")
    monkeypatch.chdir(tmp_path)  # the default SQLite store goes here
    with ThreadedSandbox(orders=0) as sandbox:
        point_at(monkeypatch, sandbox)
        port = unused_port()
        monkeypatch.setenv("SHIPSTATION_WEBHOOK_TOKEN", "t" * 32)
        monkeypatch.setenv("PUBLIC_URL", f"http://127.0.0.1:{port}/shipstation/events")
        module = example("webhooks_fastapi")
        server = uvicorn.Server(
            uvicorn.Config(module.app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        await until(lambda: server.started or serving.done())
        async with ShipStation() as ss:
            assert len(await ss.webhooks.list()) == 1  # ORDER_NOTIFY, the one handler's
            await ss.orders.create_or_update(awaiting("WH-2"))
            await until(lambda: logged(caplog, r"order WH-2 is awaiting_shipment \(webhook\)"))
        server.should_exit = True
        await serving
    assert (tmp_path / "shipstation-webhooks.sqlite").exists()
    with pytest.raises(ClientClosedError):  # the lifespan closed the client
        await module.ss.orders.get(1)


# -- workers.md ----------------------------------------------------------------------------------


@pytest.mark.timing
def test_processes_on_one_key_share_the_budget_in_redis(redis_server: RedisServer) -> None:
    limit = RateLimit(10, 1.0)
    with ThreadedSandbox(orders=0, rate_limit=limit, window="rolling") as sandbox:
        for n in range(30):
            sandbox.world.add_order(orderNumber=f"P-{n}", orderStatus="awaiting_shipment")
        program = (
            "import sys, shared_budget\n"
            "from shipstation_async import RateLimit\n"
            "sys.exit(shared_budget.main(3, 10, RateLimit(10, 1.0)))\n"
        )
        env = sandbox_env(
            sandbox, SHIPSTATION_BUDGET_URL=f"redis://127.0.0.1:{redis_server.port}/7"
        )
        ran = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120
        )
        stats = sandbox.stats()
    assert ran.returncode == 0, ran.stderr
    shares = ran.stdout.splitlines()
    assert shares == [f"share {n}: 10 orders, statuses ['awaiting_shipment']" for n in (1, 2, 3)], (
        ran.stdout
    )
    # 31 requests from four processes, three of them at once: never more than 10 in a window.
    assert stats.requests == 31
    assert stats.rate_limited == 0
    assert stats.max_in_window <= limit.requests


def test_the_shared_budget_example_refuses_to_run_without_a_store() -> None:
    with ThreadedSandbox(orders=0) as sandbox:
        ran = subprocess.run(
            [sys.executable, str(EXAMPLES / "shared_budget.py")],
            env=sandbox_env(sandbox),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sandbox.stats().requests == 0
    assert ran.returncode == 2 and "SHIPSTATION_BUDGET_URL" in ran.stderr


def test_many_keys_share_one_session_each_on_its_own_budget(tmp_path: Path) -> None:
    with ThreadedSandbox(orders=0) as sandbox:  # 40 per 60 s per key
        for n in range(3):
            sandbox.world.add_order(orderNumber=f"M-{n}", orderStatus="awaiting_shipment")
        accounts = [(f"merchant-{n}", f"key-{n}", f"secret-{n}") for n in range(120)]
        for _, key, secret in accounts:
            sandbox.add_credentials(key, secret)
        accounts.append(("revoked", "key-0", "wrong-secret"))
        path = tmp_path / "accounts.csv"
        with path.open("w", newline="") as file:
            csv.writer(file).writerows(accounts)
        ran = subprocess.run(
            [sys.executable, str(EXAMPLES / "many_keys.py"), str(path)],
            env=sandbox_env(sandbox),
            capture_output=True,
            text=True,
            timeout=120,
        )
        stats = sandbox.stats()
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[:120] == [f"merchant-{n}: 3" for n in range(120)]
    assert lines[120:] == ["revoked: failed: AuthenticationError"]
    # 121 requests at once is three times one key's limit: each key has a budget of its own.
    assert stats.requests == 121 and stats.rate_limited == 0


# -- testing.md ----------------------------------------------------------------------------------

PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
"""


def test_the_example_test_file_passes_under_pytest(tmp_path: Path) -> None:
    # As a user's project runs it: its own folder and settings, the plugin found by its
    # entry point.
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    (tmp_path / "test_with_sandbox.py").write_text((EXAMPLES / "test_with_sandbox.py").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPSTATION_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"^5 passed", ran.stdout, re.M), ran.stdout


# -- standalone-sandbox.md -----------------------------------------------------------------------

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)


@pytest.fixture
def standalone() -> Iterator[str]:
    """``shipstation-async sandbox serve`` on a free port, as the page starts it; its URL."""
    command = [str(Path(sys.executable).parent / "shipstation-async"), "sandbox", "serve"]
    process = subprocess.Popen(
        [*command, "--port", "0", "--orders", "500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watchdog = threading.Timer(60, process.kill)  # a server that never says where it is
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"ShipStation sandbox on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        else:
            raise AssertionError("the sandbox did not start")
        watchdog.cancel()
        yield found[1]
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(10)


def test_the_standalone_sandbox_page_runs_against_sandbox_serve(
    standalone: str, tmp_path: Path
) -> None:
    page = (ROOT / "docs" / "howto" / "standalone-sandbox.md").read_text()
    blocks = [m["body"] for m in FENCE.finditer(page) if m["info"].strip() == "bash"]
    assert len(blocks) >= 4
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPSTATION_")}
    env.update(
        SHIPSTATION_API_KEY="sandbox-key",
        SHIPSTATION_API_SECRET="sandbox-secret",
        SHIPSTATION_BASE_URL=standalone,
    )
    for block in blocks:
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, f"{block}\n{ran.stdout}\n{ran.stderr}"
