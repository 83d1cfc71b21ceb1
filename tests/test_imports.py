"""What importing the SDK, and a test run with it installed, costs in modules.

The pytest plugin is loaded by entry point into the test run of every project that installs
the SDK: neither it nor ``import shipstation_async`` may pull in the sandbox's server (and
with it ``aiohttp.web``). Both checks run in a fresh interpreter, since this test process has
long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# The only sandbox modules a run may import: the package (lazy) and the pytest plugin.
ALLOWED_SANDBOX = {"shipstation_async.sandbox", "shipstation_async.sandbox.pytest_plugin"}

REPORT = textwrap.dedent(
    """
    import json, sys
    def loaded_report():
        names = sorted(sys.modules)
        return {
            "aiohttp_web": [m for m in names if m == "aiohttp.web" or m.startswith("aiohttp.web_")],
            "sandbox": [m for m in names if m.startswith("shipstation_async.sandbox")],
        }
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    return env


def _check(report: dict[str, list[str]]) -> None:
    assert report["aiohttp_web"] == []
    assert set(report["sandbox"]) <= ALLOWED_SANDBOX, report["sandbox"]


def test_import_package_loads_no_sandbox_nor_aiohttp_web() -> None:
    code = REPORT + "import shipstation_async\nprint(json.dumps(loaded_report()))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, check=True
    )
    report = json.loads(out.stdout)
    assert report["sandbox"] == []
    _check(report)


def test_pytest_run_with_plugin_loads_no_sandbox_nor_aiohttp_web(tmp_path: Path) -> None:
    record = tmp_path / "modules.json"
    (tmp_path / "conftest.py").write_text(
        REPORT
        + textwrap.dedent(
            f"""
            import pytest

            def pytest_sessionfinish(session):
                with open({str(record)!r}, "w") as f:
                    json.dump(loaded_report(), f)
            """
        )
    )
    (tmp_path / "test_trivial.py").write_text(
        REPORT
        + textwrap.dedent(
            """
            def test_trivial(pytestconfig):
                # The plugin is loaded by its entry point.
                assert pytestconfig.pluginmanager.has_plugin("shipstation_sandbox")
                report = loaded_report()
                assert report["aiohttp_web"] == []
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(record.read_text())
    assert "shipstation_async.sandbox.pytest_plugin" in report["sandbox"]
    _check(report)


def test_webhooks_import_redis_only_when_redis_store_is_used() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import shipstation_async.webhooks as webhooks
        before = sorted(m for m in sys.modules if m == "redis" or m.startswith("redis."))
        listed = "RedisStore" in webhooks.__all__ and "RedisStore" in dir(webhooks)
        store = webhooks.RedisStore("redis://127.0.0.1:1/0")
        after = "redis.asyncio" in sys.modules
        print(json.dumps([before, listed, after, type(store).__module__]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, check=True
    )
    before, listed, after, module = json.loads(out.stdout)
    assert before == [] and listed and after
    assert module == "shipstation_async.webhooks.redis_store"


def test_command_line_parser_loads_no_sandbox_server_nor_aiohttp_web() -> None:
    # Every command builds the parser, `sandbox serve`'s options included; only serving a
    # sandbox (here or in its own process) needs the server.
    code = REPORT + (
        "from shipstation_async.cli import build_parser\n"
        "build_parser().parse_args(['backfill', 'orders', '--sandbox'])\n"
        "print(json.dumps(loaded_report()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, check=True
    )
    report = json.loads(out.stdout)
    assert report["aiohttp_web"] == []
    assert "shipstation_async.sandbox.http.server" not in report["sandbox"]
