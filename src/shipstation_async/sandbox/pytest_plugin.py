"""The pytest plugin (entry point ``shipstation_sandbox``): sandbox fixtures and marker.

``shipstation_sandbox``: a started :class:`ThreadedSandbox` for one test, with 200 orders
and ShipStation's real rate limit (40 per 60 s) unless the test's
``@pytest.mark.shipstation_sandbox(**kwargs)`` gives other :class:`Sandbox` arguments (the
closest marker wins per argument). ``shipstation_sandbox_factory``: a callable that starts a
ThreadedSandbox with the given arguments; every one it started is stopped at teardown.
Both are synchronous, so they work with any event loop the test runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .threaded import ThreadedSandbox

MARKER = "shipstation_sandbox"
FIXTURE_DEFAULTS: dict[str, Any] = {"orders": 200}
"""The fixture's Sandbox arguments before the marker's are applied."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``shipstation_sandbox`` marker."""
    config.addinivalue_line(
        "markers",
        "shipstation_sandbox(**kwargs): Sandbox keyword arguments for the "
        "shipstation_sandbox fixture (e.g. rate_limit=RateLimit(40, 2.0), window='rolling')",
    )


def _marker_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    kwargs = dict(FIXTURE_DEFAULTS)
    markers = list(request.node.iter_markers(MARKER))
    for marker in reversed(markers):  # iter_markers yields the closest first
        if marker.args:
            raise pytest.UsageError(
                "@pytest.mark.shipstation_sandbox takes keyword arguments only, "
                f"got positional {marker.args!r}"
            )
        kwargs.update(marker.kwargs)
    return kwargs


@pytest.fixture
def shipstation_sandbox(request: pytest.FixtureRequest) -> Iterator[ThreadedSandbox]:
    """A started ThreadedSandbox configured by the test's ``shipstation_sandbox`` marker."""
    from .threaded import ThreadedSandbox

    with ThreadedSandbox(**_marker_kwargs(request)) as sandbox:
        yield sandbox


@pytest.fixture
def shipstation_sandbox_factory() -> Iterator[Callable[..., ThreadedSandbox]]:
    """A callable ``factory(**sandbox_kwargs) -> ThreadedSandbox``; all stopped at teardown."""
    from .threaded import ThreadedSandbox

    started: list[ThreadedSandbox] = []

    def factory(**kwargs: Any) -> ThreadedSandbox:
        sandbox = ThreadedSandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    try:
        yield factory
    finally:
        for sandbox in reversed(started):
            sandbox.close()
