"""Which tests may run beside which under pytest-xdist (the suite runs on three workers).

Most of the suite waits on real time windows, so three workers share two cores well; but the
``timing`` tests must not all run at once, nor beside many CPU-bound tests. So the ``timing``
tests are dealt round-robin into TIMING_GROUPS groups and the ``cpu_bound`` ones form one
group: each group runs in order on one worker (``--dist loadgroup``, ``xdist_group``), so at
most TIMING_GROUPS timing tests and one CPU-bound test run at any moment. With three workers,
the timing tests have one busy neighbour at most while both groups run (as when the suite ran
in one process beside a CPU hog); the rest spread over the workers as they come free.

pytest 9.2 no longer lets pytest-xdist (3.8) tag a test's id with its group, so
``--dist loadgroup`` alone would silently spread every test (pytest-dev/pytest-xdist#1386).
Until it does again, each worker writes the groups it read from the marks to a file that the
controller's scheduler reads: the same groups, whichever versions are installed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

TIMING_GROUPS = 2
"""Workers that run the ``timing`` tests: at most this many run at once."""

_GROUPS_FILE = "shipstation_async_groups"  # the key in a worker's input: where to write
_GROUPS_DIR = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give the ``timing`` and ``cpu_bound`` tests their ``xdist_group`` (see the module)."""
    if not _xdist(config):
        return
    groups: dict[str, str] = {}
    timing = 0
    for item in items:
        if item.get_closest_marker("timing") is not None:
            group = f"timing-{timing % TIMING_GROUPS}"
            timing += 1
        elif item.get_closest_marker("cpu_bound") is not None:
            group = "cpu-bound"
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
    target = getattr(config, "workerinput", {}).get(_GROUPS_FILE)
    if target is not None:
        worker = config.workerinput["workerid"]
        path = Path(target) / f"{worker}.json"
        path.write_text(json.dumps(groups), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    """In the controller of a grouped run: a directory for the workers' groups."""
    if _controls_groups(config):
        config.stash[_GROUPS_DIR] = Path(tempfile.mkdtemp(prefix="ss-groups-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the controller's directory of groups."""
    directory = config.stash.get(_GROUPS_DIR, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where to write the groups."""
    directory = node.config.stash.get(_GROUPS_DIR, None)
    if directory is not None:
        node.workerinput[_GROUPS_FILE] = str(directory)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` that also takes the groups the workers wrote."""
    directory = config.stash.get(_GROUPS_DIR, None)
    if directory is None:
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Scheduling(LoadGroupScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # Every worker collected the same tests (xdist checks it before scheduling).
                written = sorted(directory.glob("*.json"))
                if not written:  # never spread the groups silently
                    raise RuntimeError(f"no worker wrote its test groups into {directory}")
                self.groups = json.loads(written[0].read_text("utf-8"))
            group = self.groups.get(nodeid)
            return group if group is not None else str(super()._split_scope(nodeid))

    return Scheduling(config, log)


def _xdist(config: pytest.Config) -> bool:
    return config.getoption("dist", None) is not None  # an option of pytest-xdist's


def _controls_groups(config: pytest.Config) -> bool:
    return (
        _xdist(config)
        and not hasattr(config, "workerinput")
        and config.getoption("dist", "no") == "loadgroup"
        and bool(config.getoption("numprocesses", None))
    )
