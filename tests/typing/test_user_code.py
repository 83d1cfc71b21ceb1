"""The user code that mypy checks also runs: the models are built, the calls are coroutines."""

from __future__ import annotations

import inspect
from typing import Any

import attrs

from shipstation_async import models

from . import user_calls, user_models


def classes(value: Any) -> set[type]:
    """The attrs classes of ``value`` and of the models nested in it."""
    if isinstance(value, list):
        return set().union(*(classes(item) for item in value))
    if not attrs.has(type(value)):
        return set()
    found: set[type] = {type(value)}
    for field in attrs.fields(type(value)):
        found |= classes(getattr(value, field.name))
    return found


def test_every_model_is_built_with_keywords() -> None:
    built = classes(user_models.every_model())
    everything = {
        value
        for name in models.__all__
        if isinstance(value := getattr(models, name), type) and attrs.has(value)
    }
    assert everything <= built


def test_mistakes_are_refused_at_run_time_too() -> None:
    try:
        user_models.mistakes_mypy_catches()
    except TypeError as error:  # the first line: a misspelt field
        assert "nmae" in str(error)
    else:
        raise AssertionError("a misspelt field was accepted")


def test_the_calls_are_coroutine_functions() -> None:
    functions = [value for name, value in vars(user_calls).items() if inspect.isfunction(value)]
    assert functions and all(inspect.iscoroutinefunction(f) for f in functions)


async def test_the_webhook_user_code_builds_and_mounts() -> None:
    from shipstation_async import ShipStation

    from . import user_webhooks

    async with ShipStation("key", "secret-of-the-account", base_url="http://127.0.0.1:9") as ss:
        receiver, orders, shipments = user_webhooks.build(ss)
        assert orders == [] and shipments == []
        app = user_webhooks.aiohttp_application(receiver)
        assert len(app.router.routes()) >= 2
        status, _, _ = await receiver.handle("POST", "/?token=wrong-token-123456789", {}, b"{}")
        assert status == 401
        await receiver.close()
