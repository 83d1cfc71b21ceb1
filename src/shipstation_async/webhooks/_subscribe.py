"""``ensure_subscribed``: make the account's subscriptions match what this receiver wants."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from .._redact import Secret
from ..errors import ShipStationError
from ..models.webhooks import WebhookEvent

if TYPE_CHECKING:
    from ..client import ShipStation


class WebhookSubscriptionError(ShipStationError):
    """Listing, subscribing or unsubscribing failed; ``status`` is the API's, if it answered.

    Its message is the original error's, with the webhook token taken out.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen
class SubscriptionReport:
    """What ``ensure_subscribed`` found and did: webhook ids, by what happened to them."""

    kept: tuple[int, ...]
    subscribed: tuple[int, ...]
    removed: tuple[int, ...]


def same_endpoint(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host, port and path (the token aside)."""
    pa, pb = urlsplit(a), urlsplit(b)
    path_a, path_b = pa.path.rstrip("/") or "/", pb.path.rstrip("/") or "/"
    return (pa.scheme.lower(), pa.netloc.lower(), path_a) == (
        pb.scheme.lower(),
        pb.netloc.lower(),
        path_b,
    )


async def ensure_subscribed(
    client: ShipStation,
    target: Secret,
    events: Sequence[WebhookEvent],
    *,
    store_id: int | None,
    prune: bool,
    friendly_name: str,
) -> SubscriptionReport:
    """Subscribe each of ``events`` to the URL ``target`` holds unless it already is; prune.

    A hook counts as ours when its URL equals the target (token included) and its store is
    ``store_id``. ``prune`` removes hooks on the same scheme, host and path that are not
    wanted (another token, an event not asked for, another store), and nothing else. The
    target stays a :class:`Secret` down to the request body (no frame holds it as text).
    """
    hooks = await client.webhooks.list(lane="bulk")
    present: dict[str, int] = {}
    stale: list[int] = []
    for hook in hooks:
        if hook.webhook_id is None or not hook.url:
            continue
        if (
            hook.hook_type is not None
            and hook.url == target.reveal()
            and hook.store_id == store_id
            and hook.hook_type in events
            and hook.hook_type not in present
        ):
            present[hook.hook_type] = hook.webhook_id
        elif same_endpoint(hook.url, target.reveal()):
            stale.append(hook.webhook_id)
    subscribed: list[int] = []
    for event in dict.fromkeys(events):
        if event not in present:
            result = await client.webhooks.subscribe(
                target, event, store_id=store_id, friendly_name=friendly_name, lane="bulk"
            )
            subscribed.append(result.id or 0)  # the client reads either documented shape
    removed: list[int] = []
    if prune:
        for hook_id in stale:
            await client.webhooks.unsubscribe(hook_id, lane="bulk")
            removed.append(hook_id)
    return SubscriptionReport(tuple(present.values()), tuple(subscribed), tuple(removed))


def without_frames(error: BaseException, redact: Callable[[str], str]) -> BaseException:
    """A fresh exception of ``error``'s type: its text redacted, no traceback, cause or context.

    The frames an error came through (and the errors chained to it) may hold the token; what
    is raised in its place holds none of them. The same type, so a cancellation stays one.
    """
    args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
    try:
        fresh = type(error)(*args)
    except Exception:  # a type whose constructor takes other arguments: the same object, bare
        fresh = error.with_traceback(None)
        fresh.__cause__ = fresh.__context__ = None
    return fresh
