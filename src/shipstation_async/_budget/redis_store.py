"""The I/O of the shared budget: one Redis connection pool per event loop, the scripts on it.

``redis.asyncio`` binds a connection pool to the event loop it first ran on, so each loop that
spends a shared budget gets its own client (with short socket timeouts: a Redis that does not
answer must turn into the local share quickly, not hold every request). Scripts are run with
EVALSHA; when Redis answers NOSCRIPT (after a restart, a failover or ``SCRIPT FLUSH``) the same
call runs EVAL, which loads the script again, on the node that holds the budget's keys when
Redis is a cluster (redis-py's own reload would load it on every primary, and fail when any
one of them is down). Every call is bounded in time, whatever the client does meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import redis_scripts

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

    from .._redact import Secret


ScriptArg = str | bytes | int | float
BOUND_TIMEOUTS = 3
"""A script call's time bound, in socket timeouts (a connect, a send, a reply)."""


class RedisUnavailable(Exception):
    """Redis did not answer a budget script (connection, timeout, loading, failover, auth).

    ``setup``: a refusal that points at the store's settings rather than at an outage (the
    password or user refused, a database that does not exist, an option redis-py cannot
    read).
    """

    def __init__(self, reason: str, *, setup: bool = False) -> None:
        super().__init__(reason)
        self.setup = setup


class ScriptRunner:
    """The budget scripts on one event loop's Redis client, each call within ``bound`` seconds.

    ``broken``: a call failed (a cluster client is then made again: redis-py's can lose the
    nodes it knew while they did not answer, and never find them again). ``closing``: its
    client is being closed by the store (a call failing then is no sign of Redis away).
    """

    def __init__(self, client: Redis | RedisCluster, *, bound: float) -> None:
        from redis.exceptions import (
            AuthenticationError,
            MovedError,
            NoPermissionError,
            NoScriptError,
            RedisClusterException,
            RedisError,
        )

        self.client = client
        self.bound = bound
        self.broken = False
        self.closing = False
        self._no_script = NoScriptError
        self._moved = MovedError
        self._cluster_failure = RedisClusterException
        # RedisClusterException is not a RedisError: a cluster none of whose nodes answers.
        self._failures = (RedisError, RedisClusterException, OSError, TimeoutError, ValueError)
        self._setup_failures: tuple[type[BaseException], ...] = (
            AuthenticationError,
            NoPermissionError,
            ValueError,  # an option of the URL redis-py cannot read
        )
        self._scripts: dict[str, tuple[str, str]] = {}
        for name in ("GRANT", "COMPLETE", "FAIL", "RENEW", "RESTORE"):
            text: str = getattr(redis_scripts, name)
            self._scripts[name] = (text, hashlib.sha1(text.encode()).hexdigest())

    async def run(self, name: str, keys: Sequence[str], args: Sequence[ScriptArg]) -> Any:
        """Run script ``name``; RedisUnavailable when Redis cannot answer it in time."""
        text, sha = self._scripts[name]
        # As redis-py would write them: bytes as they are (text here), numbers by repr.
        words = [
            a.decode() if isinstance(a, bytes) else repr(a) if isinstance(a, float) else str(a)
            for a in args
        ]
        client = self.client
        try:
            async with asyncio.timeout(self.bound):
                # redis-py types these as returning "Awaitable[str] | str" (sync and async).
                try:
                    return await client.evalsha(sha, len(keys), *keys, *words)  # type: ignore[misc]
                except self._no_script:
                    # Loads it again, on the node of the keys (in a cluster).
                    return await client.eval(text, len(keys), *keys, *words)  # type: ignore[misc]
        except self._failures as exc:
            self.broken = True
            # The type only (or a fixed text): a message may quote the URL, with a password.
            setup = isinstance(exc, self._setup_failures) or "DB index" in str(exc)
            raise RedisUnavailable(self._reason(exc), setup=setup) from None

    def _reason(self, exc: BaseException) -> str:
        """Why a call failed, in words a log may show; a Redis of the wrong kind named so."""
        if isinstance(exc, self._moved) or str(exc).startswith("MOVED "):
            # (A plain client reads the MOVED reply as a ResponseError.)
            return "MOVED: this Redis is a Cluster (say cluster=True, or ?cluster=true)"
        if isinstance(exc, self._cluster_failure) and "not enabled" in str(exc):
            return "RedisClusterException: this Redis is not a Cluster (cluster=True is set)"
        return type(exc).__name__


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
        if runner is not None and runner.broken and self._cluster:
            del self._runners[loop]
            loop.create_task(runner.client.aclose())  # noqa: RUF006 (closing: nothing awaits it)
            runner = None
        if runner is None:
            # A pool holds its loop: drop those of loops that ended (one per asyncio.run()).
            for ended in [other for other in self._runners if other.is_closed()]:
                del self._runners[ended]
            runner = ScriptRunner(self._client(), bound=BOUND_TIMEOUTS * self._timeout)
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
            runner.closing = True
            await runner.client.aclose()
