"""The I/O of the shared budget: one Redis connection pool per event loop, the scripts on it.

``redis.asyncio`` binds a connection pool to the event loop it first ran on, so each loop that
spends a shared budget gets its own client (with short socket timeouts: a Redis that does not
answer must turn into the local share quickly, not hold every request). Scripts are run with
EVALSHA through redis-py's ``register_script``, which loads a script again once when Redis
answers NOSCRIPT (after a restart, a failover or ``SCRIPT FLUSH``); a second NOSCRIPT in a row
surfaces as :class:`RedisUnavailable` and the next call loads it again.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from . import redis_scripts

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster
    from redis.commands.core import AsyncScript

    from .._redact import Secret


ScriptArg = str | bytes | int | float


class RedisUnavailable(Exception):
    """Redis did not answer a budget script (connection, timeout, loading, failover, auth)."""


class ScriptRunner:
    """The budget scripts, registered on one event loop's Redis client."""

    def __init__(self, client: Redis | RedisCluster) -> None:
        from redis.exceptions import RedisError

        self.client = client
        self._failures = (RedisError, OSError, TimeoutError)
        # redis-py types register_script for its single-server client only; its cluster
        # client has the same method (EVALSHA to the node of the keys' slot, SCRIPT LOAD on
        # NOSCRIPT).
        registrar = cast("Redis", client)
        self._scripts: dict[str, AsyncScript] = {
            name: registrar.register_script(getattr(redis_scripts, name))
            for name in ("GRANT", "COMPLETE", "FAIL", "RENEW", "RESTORE")
        }

    async def run(self, name: str, keys: Sequence[str], args: Sequence[ScriptArg]) -> Any:
        """Run script ``name``; RedisUnavailable when Redis cannot answer it."""
        try:
            return await self._scripts[name](keys=list(keys), args=list(args))
        except self._failures as exc:
            # The type only: a message may quote the URL, and with it a password.
            raise RedisUnavailable(type(exc).__name__) from None


class Connections:
    """One :class:`ScriptRunner` per event loop for a Redis URL (held as a secret).

    ``cluster``: the URL names a node of a Redis Cluster (redis-py's cluster client, which
    finds the node serving the budget's one hash slot and follows it when the slot moves).
    """

    def __init__(self, url: Secret, *, timeout: float, cluster: bool = False) -> None:
        self._url = url
        self._timeout = timeout
        self._cluster = cluster
        self._runners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ScriptRunner] = (
            weakref.WeakKeyDictionary()
        )

    def runner(self) -> ScriptRunner:
        """The running loop's script runner, created on first use."""
        loop = asyncio.get_running_loop()
        runner = self._runners.get(loop)
        if runner is None:
            # A pool holds its loop: drop those of loops that ended (one per asyncio.run()).
            for ended in [other for other in self._runners if other.is_closed()]:
                del self._runners[ended]
            runner = ScriptRunner(self._client())
            self._runners[loop] = runner
        return runner

    def _client(self) -> Redis | RedisCluster:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # One attempt per call: a failed call means the local share, and the budget asks
        # again soon (a retry loop here would hold every waiting request).
        if self._cluster:
            # A MOVED or ASK reply (the slot moved) is followed within the call; a node that
            # does not answer is asked once more after the client has read the cluster's map
            # again (a failover), then the call fails.
            cluster: RedisCluster = redis.asyncio.RedisCluster.from_url(
                self._url.reveal(),
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(NoBackoff(), 0),
                connection_error_retry_attempts=0,
                cluster_error_retry_attempts=1,
            )
            return cluster
        client: Redis = redis.asyncio.Redis.from_url(
            self._url.reveal(),
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
        )
        return client

    async def aclose(self) -> None:
        """Close the running loop's connection pool (others close with their loops)."""
        loop = asyncio.get_running_loop()
        runner = self._runners.pop(loop, None)
        if runner is not None:
            await runner.client.aclose()
