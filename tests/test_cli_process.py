"""The command line as a user runs it: the real entry point in a process of its own.

A first run that fails leaves nothing behind, usage errors exit 2 with a message in the
command's terms, failures exit 1, Ctrl-C exits 130 with a checkpoint the resume continues (its
progress figures right from the first line), and the API secret never shows.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipstation_async import RateLimit
from shipstation_async._version import __version__
from shipstation_async.sandbox import ThreadedSandbox

SRC = Path(__file__).resolve().parents[1] / "src"
SECRET = "Zq8-distinctive-SECRET-4711-never-shown"
LIMIT = RateLimit(40, 1.0)
Factory = Callable[..., ThreadedSandbox]


def environment(**variables: str) -> dict[str, str]:
    """This environment without any SHIPSTATION_ variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPSTATION_")}
    return {**env, "PYTHONPATH": str(SRC), **variables}


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "shipstation_async", *argv]


def run(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        command(*argv),
        env=env or environment(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_error_line(result: Any) -> str:
    """The error the command printed: one line, no traceback, no secret anywhere."""
    assert "Traceback" not in result.stderr, result.stderr
    assert SECRET not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("shipstation-async: error: "), result.stderr
    return str(lines[0])


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sandbox(shipstation_sandbox_factory: Factory) -> ThreadedSandbox:
    # Its world ended yesterday: every order is older than the end a backfill walks to.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    return shipstation_sandbox_factory(
        orders=300, seed=4, rate_limit=LIMIT, api_secret=SECRET, world_end=end
    )


def credentials(sandbox: ThreadedSandbox, secret: str = SECRET) -> dict[str, str]:
    return environment(SHIPSTATION_API_KEY=sandbox.api_key, SHIPSTATION_API_SECRET=secret)


def ids(path: Path) -> list[int]:
    return [json.loads(line)["orderId"] for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("mistake", "bounds"),
    [
        ("wrong secret", []),
        ("wrong secret", ["--start", "2020-01-01"]),
        ("unreachable address", []),
    ],
)
def test_a_failed_first_run_leaves_nothing_and_the_fixed_command_runs(
    sandbox: ThreadedSandbox, tmp_path: Path, mistake: str, bounds: list[str]
) -> None:
    # With --start the plan is saved before the first request fails; without, after one.
    argv = ["backfill", "orders", "--rate-limit", "40/1", "--out", "orders.jsonl", *bounds]
    if mistake == "wrong secret":
        failed = run(
            *argv,
            "--base-url",
            sandbox.url,
            env=credentials(sandbox, "wrong-" + SECRET),
            cwd=tmp_path,
        )
        assert "check the API key and secret" in one_error_line(failed)
        assert "wrong-" + SECRET not in failed.stdout + failed.stderr
    else:
        unreachable = f"http://127.0.0.1:{free_port()}"
        failed = run(*argv, "--base-url", unreachable, env=credentials(sandbox), cwd=tmp_path)
        assert "--base-url" in one_error_line(failed)
    assert failed.returncode == 1
    assert os.listdir(tmp_path) == []  # no empty output, no checkpoint
    fixed = run(*argv, "--base-url", sandbox.url, env=credentials(sandbox), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert len(set(ids(tmp_path / "orders.jsonl"))) == 300


def test_resume_refuses_another_backfills_checkpoint(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "orders.jsonl"
    env = credentials(sandbox)
    base = ["--base-url", sandbox.url, "--rate-limit", "40/1", "--out", str(out)]
    assert run("backfill", "orders", *base, "--start", "2020-01-01", env=env).returncode == 0
    before = out.read_bytes()
    for other in (
        ["orders", "--start", "2021-01-01"],
        ["orders", "--start", "2020-01-01", "--end", "2030-01-01"],
        ["shipments", "--start", "2020-01-01"],
    ):
        refused = run("backfill", *other, *base, "--resume", env=env)
        assert refused.returncode == 2
        error = one_error_line(refused)
        assert "belongs to another backfill: orders from 2020-01-01 00:00:00-08:00" in error
        assert "{" not in error  # words, not a Python dict
    assert out.read_bytes() == before
    again = run("backfill", "orders", *base, "--start", "2020-01-01", "--resume", env=env)
    assert again.returncode == 0 and "already complete" in again.stdout


def test_a_second_run_on_the_same_output_exits_2_and_a_killed_run_holds_nothing(
    shipstation_sandbox_factory: Factory, tmp_path: Path
) -> None:
    # The same command started twice (or an hourly --since-last job overlapping the last):
    # the second is refused at once, not run beside the first into the same files.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    sandbox = shipstation_sandbox_factory(
        orders=5000, seed=4, rate_limit=RateLimit(1000, 1.0), api_secret=SECRET, world_end=end
    )
    env = credentials(sandbox)
    argv = ["backfill", "orders", "--base-url", sandbox.url, "--out", "orders.jsonl"]
    slow = subprocess.Popen(  # one request a second: still running when the second starts
        command(*argv, "--rate-limit", "1/1", "--concurrency", "1"),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert slow.stdout is not None
        first = slow.stdout.readline()  # its first batch is written
        assert first.startswith("orders: "), first
        second = run(*argv, "--rate-limit", "40/1", "--resume", env=env, cwd=tmp_path)
        assert slow.poll() is None  # the first was running all along
        assert second.returncode == 2
        assert "another backfill is running" in one_error_line(second)
        slow.kill()  # SIGKILL: the lock goes with the process
        slow.communicate(timeout=30)
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.communicate()
    resumed = run(*argv, "--rate-limit", "40/1", "--resume", env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    written = ids(tmp_path / "orders.jsonl")
    assert sorted(written) == sorted(set(written)) and len(written) == 5000
    assert sorted(os.listdir(tmp_path)) == ["orders.jsonl", "orders.jsonl.checkpoint.sqlite"]


def test_out_and_sqlite_together_are_a_usage_error(tmp_path: Path) -> None:
    argv = ["backfill", "orders", "--sandbox", "--out", "a.jsonl", "--sqlite", "a.db"]
    refused = run(*argv, cwd=tmp_path)
    assert refused.returncode == 2
    assert "--out and --sqlite exclude each other" in one_error_line(refused)
    assert os.listdir(tmp_path) == []


def test_missing_credentials_are_explained_with_the_commands_options(tmp_path: Path) -> None:
    for argv, env in (
        (["backfill", "orders"], environment()),
        (["backfill", "orders"], environment(SHIPSTATION_API_KEY="key")),
        (["webhooks", "listen"], environment(SHIPSTATION_WEBHOOK_TOKEN="t" * 20)),
    ):
        refused = run(*argv, env=env, cwd=tmp_path)
        assert refused.returncode == 2
        error = one_error_line(refused)
        assert "SHIPSTATION_API_SECRET" in error and "--sandbox" in error
        assert "--base-url" in error and "ShipStation(" not in error
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["backfill", "orders", "--sandbox", "--out", "missing/orders.jsonl"],
        ["backfill", "orders", "--sandbox", "--sqlite", "missing/orders.db"],
        ["webhooks", "listen", "--sandbox", "--out", "missing/events.jsonl"],
        ["webhooks", "listen", "--sandbox", "--store", "missing/store.sqlite"],
    ],
)
def test_a_missing_output_directory_is_named(tmp_path: Path, argv: list[str]) -> None:
    env = environment(SHIPSTATION_WEBHOOK_TOKEN="t" * 20)
    refused = run(*argv, env=env, cwd=tmp_path)
    assert refused.returncode == 2
    error = one_error_line(refused)
    assert "the directory missing does not exist" in error
    assert "unable to open database file" not in error
    assert os.listdir(tmp_path) == []


def test_version_help_and_the_base_url_variable(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    version = run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"shipstation-async {__version__}")
    top = run("--help").stdout
    assert "exit status: 0 done; 1 failed" in top and "2 usage error" in top
    assert "130 interrupted" in top and "SHIPSTATION_BASE_URL" in top
    assert "SHIPSTATION_BASE_URL" in run("backfill", "--help").stdout
    assert "SHIPSTATION_BASE_URL" in run("webhooks", "listen", "--help").stdout
    # The variable gives the address; --base-url overrides it.
    argv = ["backfill", "orders", "--rate-limit", "40/1"]
    env = {**credentials(sandbox), "SHIPSTATION_BASE_URL": sandbox.url}
    assert run(*argv, "--out", "a.jsonl", env=env, cwd=tmp_path).returncode == 0
    env["SHIPSTATION_BASE_URL"] = f"http://127.0.0.1:{free_port()}"
    overridden = run(*argv, "--out", "b.jsonl", "--base-url", sandbox.url, env=env, cwd=tmp_path)
    assert overridden.returncode == 0, overridden.stderr
    assert len(ids(tmp_path / "a.jsonl")) == len(ids(tmp_path / "b.jsonl")) == 300


def test_ctrl_c_exits_130_and_the_resume_starts_at_the_right_figures(tmp_path: Path) -> None:
    # A slow budget (4 requests a second) so that the run is still going when interrupted.
    argv = ["backfill", "orders", "--sandbox", "--sandbox-orders", "4000", "--rate-limit", "4/1"]
    argv += ["--out", "orders.jsonl"]
    process = subprocess.Popen(
        command(*argv),
        env=environment(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the first progress line: some records written
        assert first.startswith("orders: "), first
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, errors
    assert "checkpoint is saved" in rest and "Traceback" not in errors
    written = len(ids(tmp_path / "orders.jsonl"))
    assert 0 < written < 4000
    resumed = run(*argv, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    # The resumed run's first line: the records of both runs, of the whole backfill's total.
    shown = re.match(r"orders: (\d+)% · ([\d,]+) of ~([\d,]+) · ", resumed.stdout)
    assert shown is not None, resumed.stdout
    percent, records, total = (int(group.replace(",", "")) for group in shown.groups())
    assert records >= written and abs(total - 4000) <= 200, resumed.stdout
    assert percent == 100 * records // total
    assert sorted(ids(tmp_path / "orders.jsonl")) == sorted(set(ids(tmp_path / "orders.jsonl")))
    assert len(ids(tmp_path / "orders.jsonl")) == 4000


def test_webhooks_listen_stops_at_a_401_and_names_the_credentials(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    env = credentials(sandbox, "wrong-" + SECRET)
    env["SHIPSTATION_WEBHOOK_TOKEN"] = "token-" + "x" * 20
    argv = ["webhooks", "listen", "--base-url", sandbox.url, "--port", str(free_port())]
    failed = run(*argv, "--store", "store.sqlite", env=env, cwd=tmp_path)
    assert failed.returncode == 1
    assert "check the API key and secret" in one_error_line(failed)
    assert "wrong-" + SECRET not in failed.stdout + failed.stderr
    no_token = run(*argv, env=credentials(sandbox), cwd=tmp_path)
    assert no_token.returncode == 2
    assert "SHIPSTATION_WEBHOOK_TOKEN is not set" in one_error_line(no_token)


def test_sandbox_serve_exits_130_when_interrupted() -> None:
    process = subprocess.Popen(
        command("sandbox", "serve", "--port", "0", "--orders", "10"),
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("ShipStation sandbox on http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "Traceback" not in errors
