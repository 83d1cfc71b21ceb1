"""The sandbox's control API under ``/__sandbox`` (a prefix ShipStation does not use).

It needs no credentials and bypasses the rate window, faults, latency and the request
counters, so tests can seed and inspect without disturbing what they measure.

- ``GET  /__sandbox``: this index.
- ``POST /__sandbox/seed/{resource}``: add one record (a JSON object) or several (an array);
  resource is stores, warehouses, products, customers, orders, tags or users. Answers
  ``{"created": [records as stored]}``; 400 ``{"Message": ...}`` for a conflicting id.
- ``GET  /__sandbox/records/{resource}/{id}``: any record, inactive and deleted ones included
  (also shipments, fulfillments, carriers (by code), webhooks); 404 when unknown.
- ``GET  /__sandbox/labels``: ``{"labels": [...]}``, the label ledger, oldest first.
- ``GET  /__sandbox/writes``: ``{"writes": {"POST /orders/createorder": 2, ...}}``.
- ``GET  /__sandbox/stats``: the request counters (``Sandbox.stats()``).
- ``POST /__sandbox/reset-stats``: zero them.
- ``GET  /__sandbox/mutations``: the mutation workload: ``{"attached": bool, "requests": n,
  "counts": {kind: n}, "log": [Mutation.to_json(), ...]}``.
- ``GET  /__sandbox/webhooks``: the webhook delivery settings (``WebhookDelivery.to_json()``:
  delay_rate, max_delay, drop_rate, duplicate_rate, seed, timeout, retries, retry_backoff,
  allow_remote) and ``pending`` (copies waiting or being sent).
- ``POST /__sandbox/webhooks``: a JSON object of settings to change; the others keep their
  values and the random stream restarts from ``seed``. Answers the settings as GET does;
  400 ``{"Message": ...}`` for an unknown setting or a bad value (nothing changed), and for
  ``allow_remote``, which only Python may set (this API takes no credentials).
- ``GET  /__sandbox/settings``: ``{"max_date_range_days": 90, "body_timeout": 30.0}``.
- ``POST /__sandbox/settings``: a JSON object of those settings to change (the others keep
  their values); answers them as GET does; 400 ``{"Message": ...}`` for an unknown setting or
  a bad value (nothing changed). ``max_date_range_days``: the longest date range the orders
  and shipments lists accept, a whole number of days >= 1 or null for no limit;
  ``body_timeout``: seconds a request body may take to arrive (> 0).
- ``GET  /__sandbox/webhooks/log``: ``{"emissions": [WebhookEmission.to_json(), ...],
  "notifications": [WebhookNotification.to_json(), ...]}``: every payload sent (or dropped,
  refused) to a subscription, and every announcement the world made, subscribed to or not.
"""

from __future__ import annotations

from typing import Any, cast

from aiohttp import web

from ....errors import ConfigurationError
from ...world import RESOURCES, SEEDABLE, Resource
from ..context import context
from ..responses import json_response, not_found
from ..router import PARAMS_KEY, Router
from .body import read_control_json

PREFIX = "/__sandbox"
"""The path prefix of the control API."""


async def index(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox``: the control routes."""
    return json_response(
        {
            "routes": [
                f"POST {PREFIX}/seed/{{resource}}",
                f"GET {PREFIX}/records/{{resource}}/{{id}}",
                f"GET {PREFIX}/labels",
                f"GET {PREFIX}/writes",
                f"GET {PREFIX}/stats",
                f"POST {PREFIX}/reset-stats",
                f"GET {PREFIX}/mutations",
                f"GET {PREFIX}/webhooks",
                f"POST {PREFIX}/webhooks",
                f"GET {PREFIX}/webhooks/log",
                f"GET {PREFIX}/settings",
                f"POST {PREFIX}/settings",
            ],
            "seedable": list(SEEDABLE),
            "resources": list(RESOURCES),
        }
    )


async def seed(request: web.Request) -> web.StreamResponse:
    """``POST /__sandbox/seed/{resource}``: add records; ``{"created": [...]}``."""
    world = context(request).world
    resource = str(request[PARAMS_KEY]["resource"]).lower()
    if resource not in SEEDABLE:
        return json_response(
            {"Message": f"Cannot seed '{resource}': one of {list(SEEDABLE)}."}, status=400
        )
    data, problem = await read_control_json(request, resource)
    if problem is not None:
        return problem
    records: list[Any] = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in records):
        return json_response({"Message": "Send a JSON object or an array of them."}, status=400)
    created = []
    try:
        with world.lock, world.changes.action():  # one import: one batch, one webhook per store
            for record in records:
                created.append(world.add(cast(Resource, resource), record))
    except (ValueError, TypeError) as exc:
        return json_response({"Message": str(exc), "created": created}, status=400)
    return json_response({"created": created})


async def record(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/records/{resource}/{id}``: one record of any kind, or 404."""
    resource = str(request[PARAMS_KEY]["resource"]).lower()
    if resource not in RESOURCES:
        return not_found(f"Unknown resource '{resource}': one of {list(RESOURCES)}.")
    found = context(request).world.get(
        cast(Resource, resource), str(request[PARAMS_KEY]["recordId"])
    )
    if found is None:
        return not_found(f"No {resource} record {request[PARAMS_KEY]['recordId']}")
    return json_response(found)


async def labels(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/labels``: the label ledger."""
    return json_response({"labels": [p.to_json() for p in context(request).world.labels()]})


async def writes(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/writes``: executions of each write endpoint that took effect."""
    return json_response({"writes": context(request).world.write_counts()})


async def stats(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/stats``: the server's request counters."""
    return json_response(context(request).stats())


async def reset_stats(request: web.Request) -> web.StreamResponse:
    """``POST /__sandbox/reset-stats``: zero the request counters."""
    context(request).reset_stats()
    return json_response({"success": True})


async def mutations(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/mutations``: the attached workload's request count and log."""
    ctx = context(request)
    workload = ctx.mutations
    if workload is None:
        return json_response({"attached": False, "requests": 0, "counts": {}, "log": []})
    with ctx.world.lock:
        log = [m.to_json() for m in workload.log]
        requests = workload.requests
    return json_response(
        {"attached": True, "requests": requests, "counts": workload.counts(), "log": log}
    )


async def webhook_settings(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/webhooks``: the delivery settings and the copies pending."""
    emitter = context(request).emitter
    if emitter is None:
        return not_found("This sandbox emits no webhooks")
    return json_response({**emitter.options.to_json(), "pending": emitter.pending()})


async def set_webhook_settings(request: web.Request) -> web.StreamResponse:
    """``POST /__sandbox/webhooks``: change some delivery settings (see the module)."""
    emitter = context(request).emitter
    if emitter is None:
        return not_found("This sandbox emits no webhooks")
    data, problem = await read_control_json(request, "settings")
    if problem is not None:
        return problem
    if not isinstance(data, dict):
        return json_response({"Message": "Send a JSON object of settings."}, status=400)
    if "allow_remote" in data:  # an unauthenticated API must not open the sandbox to the net
        return json_response(
            {"Message": "allow_remote can be set from Python only (Sandbox.webhooks)."},
            status=400,
        )
    try:
        emitter.options = emitter.options.updated(data)
    except (ConfigurationError, TypeError) as exc:
        return json_response({"Message": str(exc)}, status=400)
    return json_response({**emitter.options.to_json(), "pending": emitter.pending()})


async def webhook_log(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/webhooks/log``: every emission, oldest first."""
    ctx = context(request)
    emissions = [] if ctx.emitter is None else [e.to_json() for e in ctx.emitter.log()]
    made = [n.to_json() for n in ctx.world.webhook_triggers.notifications()]
    return json_response({"emissions": emissions, "notifications": made})


def _settings_json(request: web.Request) -> dict[str, Any]:
    ctx = context(request)
    return {"max_date_range_days": ctx.max_date_range_days, "body_timeout": ctx.body_timeout}


async def settings(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/settings``: the sandbox's behaviour settings."""
    return json_response(_settings_json(request))


def _setting_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be setting ``name``, or None when it can."""
    if name == "max_date_range_days":
        if value is None or (type(value) is int and value >= 1):
            return None
        return "max_date_range_days must be null or a whole number of days >= 1"
    if name == "body_timeout":
        if type(value) in (int, float) and 0 < value < float("inf"):
            return None
        return "body_timeout must be a number of seconds > 0"
    return f"unknown setting {name!r}: one of ['body_timeout', 'max_date_range_days']"


async def set_settings(request: web.Request) -> web.StreamResponse:
    """``POST /__sandbox/settings``: change some settings (see the module)."""
    data, problem = await read_control_json(request, "settings")
    if problem is not None:
        return problem
    if not isinstance(data, dict):
        return json_response({"Message": "Send a JSON object of settings."}, status=400)
    for name, value in data.items():
        why = _setting_problem(name, value)
        if why is not None:
            return json_response({"Message": why}, status=400)
    ctx = context(request)
    if "max_date_range_days" in data:
        ctx.max_date_range_days = data["max_date_range_days"]
    if "body_timeout" in data:
        ctx.body_timeout = float(data["body_timeout"])
    return json_response(_settings_json(request))


def build_control_router() -> Router:
    """The router of the control API."""
    router = Router()
    router.add("GET", PREFIX, index)
    router.add("POST", PREFIX + "/seed/{resource}", seed)
    router.add("GET", PREFIX + "/records/{resource}/{recordId}", record)
    router.add("GET", PREFIX + "/labels", labels)
    router.add("GET", PREFIX + "/writes", writes)
    router.add("GET", PREFIX + "/stats", stats)
    router.add("POST", PREFIX + "/reset-stats", reset_stats)
    router.add("GET", PREFIX + "/mutations", mutations)
    router.add("GET", PREFIX + "/webhooks", webhook_settings)
    router.add("POST", PREFIX + "/webhooks", set_webhook_settings)
    router.add("GET", PREFIX + "/webhooks/log", webhook_log)
    router.add("GET", PREFIX + "/settings", settings)
    router.add("POST", PREFIX + "/settings", set_settings)
    return router
