"""The suite's own scheduling under pytest-xdist (tests/groups.py) does group the tests.

A run of a few marked tests on three workers: the timing tests fall into two groups, each run
on one worker, the CPU-bound ones on one worker, whatever versions of pytest and pytest-xdist
are installed (pytest 9.2 broke xdist's own ``--dist loadgroup``: it spread them silently).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
from tests.groups import (
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_configure_node,
    pytest_unconfigure,
    pytest_xdist_make_scheduler,
)
"""

TESTS = """
import os
import time

import pytest


def record(name):
    with open(os.environ["GROUPS_RECORD"], "a") as f:
        f.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")
    time.sleep(0.05)  # long enough for the free workers to ask for more


@pytest.mark.timing
@pytest.mark.parametrize("n", range(6))
def test_timing(n):
    record(f"timing-{n}")


@pytest.mark.cpu_bound
@pytest.mark.parametrize("n", range(3))
def test_cpu(n):
    record(f"cpu-{n}")


@pytest.mark.parametrize("n", range(12))
def test_free(n):
    record(f"free-{n}")
"""

INI = """
[pytest]
addopts = -p xdist.plugin -n 3 --dist loadgroup -p no:cacheprovider
markers =
    timing: real time windows
    cpu_bound: takes a core
"""


def test_timing_and_cpu_bound_tests_run_in_turn_on_their_groups_workers(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_marked.py").write_text(textwrap.dedent(TESTS))
    (tmp_path / "pytest.ini").write_text(INI)
    record = tmp_path / "record.txt"
    # Only pytest-xdist: three workers start faster without the other plugins.
    env = dict(os.environ, GROUPS_RECORD=str(record), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    workers: dict[str, set[str]] = defaultdict(set)
    for line in record.read_text().splitlines():
        name, worker = line.split()
        kind, n = name.split("-")
        group = f"timing-{int(n) % 2}" if kind == "timing" else kind
        workers[group].add(worker)
    assert sum(1 for _ in record.read_text().splitlines()) == 6 + 3 + 12
    # Dealt round-robin: timing tests 0, 2, 4 on one worker, 1, 3, 5 on one worker.
    for group in ("timing-0", "timing-1", "cpu"):
        assert len(workers[group]) == 1, (group, dict(workers))
    assert len(workers["timing-0"] | workers["timing-1"] | workers["cpu"]) == 3
