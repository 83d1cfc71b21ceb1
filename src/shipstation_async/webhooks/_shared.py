"""Holding records across processes while a handler call runs, in a store they share.

A store several processes share (:class:`~.store.SharedClaims`: the RedisStore) keeps a claim
on each record being handed to a handler: taken before the call, renewed while it runs,
dropped after it. With any other store there is one process, and nothing to hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from .store import SharedClaims, Taken, WebhookStore

logger = logging.getLogger("shipstation_async.webhooks")


@contextlib.asynccontextmanager
async def held_elsewhere(
    store: WebhookStore,
    handler: str,
    versions: Mapping[str, str],
    stored: Callable[[Awaitable[Taken]], Awaitable[Taken]],
) -> AsyncIterator[Taken]:
    """Claim the records of ``versions`` for ``handler`` while the block runs.

    Yields what the claim found: records another process holds (not claimed) and versions
    handled meanwhile. ``stored`` awaits the store's answer (and tells a store's failure
    apart). The claims are renewed in the background, and dropped when the block ends.
    """
    if not isinstance(store, SharedClaims) or not versions:
        yield Taken()
        return
    taken = await stored(store.claim(handler, versions))
    mine = [ident for ident in versions if ident not in taken.elsewhere]
    done = asyncio.Event()
    renewing = asyncio.create_task(_renew(store, handler, mine, done))
    try:
        yield taken
    finally:
        # Told to stop, not cancelled: a cancellation landing inside a store call may be
        # taken for the call's own timeout there, and the loop would go on.
        done.set()
        await renewing
        try:
            await store.release(handler, mine)
        except Exception as exc:  # the claims run out by themselves
            logger.warning(
                "webhook store could not drop claims (they run out in %.0f s): %s",
                store.claim_seconds,
                type(exc).__name__,
            )


async def _renew(store: SharedClaims, handler: str, idents: list[str], done: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), store.claim_seconds / 3)
        if done.is_set():
            return
        try:
            await store.renew(handler, idents)
        except Exception as exc:  # tried again at the next turn, well before they run out
            logger.warning("webhook store could not renew claims: %s", type(exc).__name__)
