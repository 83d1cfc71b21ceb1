"""The client: configuration, the aiohttp session, the resources and the one request pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import os
from collections import deque
from collections.abc import MutableMapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp
import yarl

from . import _http
from ._arguments import checked
from ._backoff import RetryPolicy
from ._budget import (
    LANES,
    Grant,
    InFlightLimit,
    Ledger,
    LoopScheduler,
    RateLimitStatus,
    budget_key,
    ledger_for,
    loop_scheduler_for,
)
from ._once import SEND_WATCH
from ._redact import Secret
from ._sansio import (
    USER_AGENT,
    Credentials,
    Lane,
    Operation,
    PreparedRequest,
    RateLimitHeaders,
    RequestBuilder,
    Safety,
    decode_response,
    error_for_status,
    parse_rate_limit,
)
from ._settle import MIN_HORIZON
from .errors import (
    AmbiguousRequestError,
    APIError,
    ClientClosedError,
    ConfigurationError,
    DecodeError,
    InvalidRequestError,
    RateLimitError,
    ShipStationError,
    TransportError,
    WriteAttempt,
)
from .events import (
    CompletedAfterCancel,
    Event,
    Hook,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
    Throttled,
)
from .limits import RateLimit, is_count, is_seconds
from .resources._base import UNSET
from .resources.accounts import Accounts
from .resources.carriers import Carriers
from .resources.customers import Customers
from .resources.fulfillments import Fulfillments
from .resources.orders import Orders
from .resources.products import Products
from .resources.shipments import Shipments
from .resources.stores import Stores
from .resources.users import Users
from .resources.warehouses import Warehouses
from .resources.webhooks import Webhooks
from .settlement import Settlement, settle

_log = logging.getLogger("shipstation_async")

DEFAULT_BASE_URL = "https://ssapi.shipstation.com"


def _secret_from(value: str | None, name: str, variable: str) -> Secret | None:
    """A credential argument, or the environment variable's value, as a Secret (None: absent)."""
    if value is None:
        value = os.environ.get(variable) or None
    if value is None:
        return None
    if not isinstance(value, str):
        kind = type(value).__name__
        del value  # not a local of this frame when the error is rendered
        raise ConfigurationError(f"{name} must be text, got a {kind}")
    return Secret(value)


def _printable(secret: Secret) -> bool:
    return secret.reveal().isprintable()


def _header_text(value: object) -> bool:
    """Whether ``value`` can go in a header: non-blank printable ASCII text."""
    return (
        isinstance(value, str) and bool(value.strip()) and value.isprintable() and value.isascii()
    )


def _checked_base_url(base_url: str) -> tuple[str, str | None]:
    """``base_url`` without a trailing slash, and what is wrong with it (None: nothing).

    Returns the problem instead of raising it: the caller raises once it no longer holds the
    URL (a traceback shows its frames' locals, and a URL may carry a password). Messages
    never echo a user or password.
    """
    try:
        url = yarl.URL(base_url) if isinstance(base_url, str) else None
    except (ValueError, TypeError):
        url = None
    if (
        url is None
        or url.scheme not in ("http", "https")
        or not url.host
        or "?" in base_url
        or "#" in base_url
        or "@" in base_url
    ):
        if isinstance(base_url, str) and "@" in base_url:
            return "", (
                "base_url must not carry a user or password; pass api_key and api_secret instead"
            )
        return "", (
            "base_url must be an http(s) URL with a host and no query or fragment, such as "
            f"{DEFAULT_BASE_URL} or http://127.0.0.1:8080 (a sandbox), got "
            f"{display_url(base_url)}"
        )
    if url.scheme == "http" and not is_loopback(url.host):
        return "", (
            f"base_url {display_url(base_url)} is plain http: the credentials would cross the "
            "network in clear text. Use https; plain http is taken only for a loopback address "
            "(a local sandbox such as http://127.0.0.1:8080)"
        )
    return base_url.rstrip("/"), None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: 127.0.0.0/8, ::1, or localhost."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def display_url(value: object) -> str:
    """A URL as it may be shown in a message: never anything that may carry a credential.

    A value with a user or password (any ``@``), or that is not shaped like a URL at all (it
    may be a secret pasted in the wrong place), is not shown; otherwise its scheme, host and
    path, without query or fragment.
    """
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    scheme, sep, rest = value.partition("://")
    if not sep or "@" in value or not scheme.isalpha():
        return "(not shown: it is not shaped like a URL, or it carries a user or password)"
    shown = scheme + "://" + rest.split("?", 1)[0].split("#", 1)[0]
    return repr(shown + ("…" if len(shown) < len(value) else ""))


class ShipStation:
    """An asyncio client for the ShipStation V1 API.

    Use it as ``async with ShipStation(key, secret) as ss:``, or open it once at start-up and
    ``await ss.aclose()`` at shutdown. Credentials default to the ``SHIPSTATION_API_KEY`` and
    ``SHIPSTATION_API_SECRET`` environment variables.

    Every request of every client on the same API key in this process, on any thread or event
    loop, is paced by one shared budget (``rate_limit``, 40 per 60 s by default) so that the
    server never needs to answer 429; when it does anyway (another process on the same key),
    every request is held until the window resets. Calls default to the ``interactive`` lane,
    which goes ahead of ``bulk`` work.

    ``timeout`` bounds the wait for the server's answer, counted from the moment the request
    goes out (time held back by the rate limit does not count): seconds for the request body
    to be sent and the response headers to arrive, and again for the response body (on a
    ``session`` passed in: per read); ``max_wait``
    bounds how long an interactive call may wait for a budget slot before
    :class:`RateLimitError` (None waits indefinitely; bulk calls wait indefinitely unless
    given their own ``max_wait``); ``max_in_flight``
    caps concurrent requests (default: the limit's request count). A ``session`` passed in is
    used but not closed; its own auth is ignored. ``hooks`` receive the events of
    :mod:`shipstation_async.events`. ``partner_key`` (default: the ``SHIPSTATION_PARTNER_KEY``
    environment variable) is sent as the ``x-partner`` header on every request, for
    ShipStation integration partners; like the secret, it never appears in reprs or errors.
    ``settle_min_horizon``: the shortest wait, in seconds after the send, before settling an
    ambiguous write may conclude it did not happen (default 120 s, past the 110 s after which
    ASP.NET stops a request; see :meth:`settle`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: RateLimit | None = None,
        timeout: float = 30.0,
        max_in_flight: int | None = None,
        max_wait: float | None = 120.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        hooks: Sequence[Hook] = (),
        user_agent: str | None = None,
        partner_key: str | None = None,
        settle_min_horizon: float = MIN_HORIZON,
    ) -> None:
        # Held as Secret from the first line on: a traceback of any error below shows this
        # frame's locals, and they must show no credential.
        partner_source = "partner_key" if partner_key is not None else "SHIPSTATION_PARTNER_KEY"
        try:
            secret = _secret_from(api_secret, "api_secret", "SHIPSTATION_API_SECRET")
            partner = _secret_from(partner_key, "partner_key", "SHIPSTATION_PARTNER_KEY")
        finally:
            api_secret = partner_key = None
        self._base_url, problem = _checked_base_url(base_url)
        base_url = ""  # it may carry a password: not a local of this frame from here on
        if problem is not None:
            raise ConfigurationError(problem)
        api_key = api_key if api_key is not None else os.environ.get("SHIPSTATION_API_KEY")
        if not api_key or secret is None or not secret.reveal():
            missing = " and ".join(
                name
                for name, absent in (("api_key", not api_key), ("api_secret", secret is None))
                if absent
            )
            raise ConfigurationError(
                f"missing {missing or 'api_secret'}: pass ShipStation(api_key=..., "
                "api_secret=...) or set the SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET "
                "environment variables"
            )
        if not isinstance(api_key, str) or not api_key.isprintable() or not _printable(secret):
            raise ConfigurationError(
                "api_key and api_secret must be text without line breaks or control characters"
            )
        if partner is not None and not _header_text(partner.reveal()):
            # A header value with a line break would end the header early (or be refused
            # by aiohttp at send time, as an untyped error); say which setting it was.
            raise ConfigurationError(
                f"{partner_source} must be non-empty text without line breaks or control characters"
            )
        user_agent = user_agent or None  # empty: the default
        if user_agent is not None and not _header_text(user_agent):
            raise ConfigurationError(
                "user_agent must be non-empty text without line breaks or control characters"
            )
        settings: tuple[tuple[str, object, type], ...] = (
            ("rate_limit", rate_limit, RateLimit),
            ("retry", retry, RetryPolicy),
        )
        for option, setting, kind in settings:
            if setting is not None and not isinstance(setting, kind):
                raise ConfigurationError(
                    f"{option} must be a {kind.__name__} (or None), got {setting!r}"
                )
        if not is_seconds(timeout) or timeout <= 0:
            raise ConfigurationError(f"timeout must be positive seconds, got {timeout!r}")
        if not is_seconds(settle_min_horizon) or settle_min_horizon < 0:
            raise ConfigurationError(
                f"settle_min_horizon must be >= 0 seconds, got {settle_min_horizon!r}"
            )
        self._settle_min_horizon = float(settle_min_horizon)
        self._timeout = timeout
        if max_wait is not None and (not is_seconds(max_wait) or max_wait < 0):
            raise ConfigurationError(f"max_wait must be >= 0 seconds or None, got {max_wait!r}")
        self._credentials = Credentials(api_key, secret, partner)
        self._builder = RequestBuilder(base_url=self._base_url, user_agent=user_agent or USER_AGENT)
        self._rate_limit = rate_limit or RateLimit()
        # Never a total, so that time spent holding a granted request during a 429 pause
        # (inside aiohttp's call) is not taken for a slow server. On our own session,
        # ReadDeadlines times the answer (cheaper); on a user's, aiohttp's per-read timeout.
        self._deadlines = _http.ReadDeadlines(timeout) if session is None else None
        self._aiohttp_timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=min(10.0, timeout),
            sock_read=None if self._deadlines is not None else timeout,
        )
        self._max_wait = max_wait
        self._retry = retry or RetryPolicy()
        if isinstance(hooks, str | bytes) or not isinstance(hooks, Sequence | tuple | list):
            raise ConfigurationError(f"hooks must be a list of callables, got {type(hooks)!r}")
        if not all(callable(hook) for hook in hooks):
            raise ConfigurationError("every hook must be callable (it receives each event)")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError(
                f"session must be an aiohttp.ClientSession or None, got {type(session)!r}"
            )
        self._hooks = tuple(hooks)
        if max_in_flight is None:
            max_in_flight = self._rate_limit.requests
        if not is_count(max_in_flight) or max_in_flight < 1:
            raise ConfigurationError(
                f"max_in_flight must be a whole number >= 1, got {max_in_flight!r}"
            )
        self._in_flight = InFlightLimit(max_in_flight)
        key = budget_key(self._base_url, api_key)
        self._ledger: Ledger = ledger_for(key, self._rate_limit)
        # Names the API and key in a write attempt without carrying the key itself.
        self._account = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
        # The latest answer times: how slow the server can be, for settling ambiguous writes.
        self._answer_times: deque[float] = deque(maxlen=64)
        self._session = session
        self._owns_session = session is None
        self._trace_config: aiohttp.TraceConfig | None = None
        # On a user's session, a middleware writes the credential headers on each request.
        self._middlewares = (
            None if session is None else (_http.credentials_middleware(self._credentials),)
        )
        self._closed = False
        self._loop_scheduler: LoopScheduler | None = None
        if session is not None:
            # A user's session has no hooks of ours: add them so sends are stamped exactly
            # (removed again on close). Without them, sends would be stamped at response time.
            self._trace_config = _http.make_trace_config()
            session.trace_configs.append(self._trace_config)

        self.orders = Orders(self)
        """Orders: list, get, create/update, hold, tag, assign, mark shipped, buy labels."""
        self.shipments = Shipments(self)
        """Shipments: list, rates, labels, voids, and ``find_labels`` to reconcile purchases."""
        self.products = Products(self)
        """Products: list, get, replace."""
        self.warehouses = Warehouses(self)
        """Warehouses: list, get, create, replace, delete."""
        self.carriers = Carriers(self)
        """Carriers: accounts, services, packages, funding."""
        self.customers = Customers(self)
        """Customers: list, get."""
        self.fulfillments = Fulfillments(self)
        """Fulfillments: list."""
        self.stores = Stores(self)
        """Stores: list, get, replace, refresh, marketplaces, (de)activate."""
        self.users = Users(self)
        """Users: list."""
        self.accounts = Accounts(self)
        """Account: tags, partner account registration."""
        self.webhooks = Webhooks(self)
        """Webhooks: list, subscribe, unsubscribe."""

    def __repr__(self) -> str:
        credentials = getattr(self, "_credentials", None)  # None while __init__ fails
        key = credentials.api_key if credentials is not None else ""
        shown = key[:4] + "…" if len(key) > 4 else "…"
        return f"ShipStation(api_key={shown!r}, base_url={getattr(self, '_base_url', None)!r})"

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> ShipStation:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Create the HTTP session now (otherwise the first request does it)."""
        self._ensure_session()

    @checked
    async def aclose(self, *, grace: float | None = None) -> None:
        """Stop taking requests, let those already on their way finish, close the session.

        Calls made from now on, calls still waiting for a budget slot, and retries raise
        :class:`ClientClosedError` at once, unsent. Requests already granted a slot or on
        the wire get up to ``grace`` seconds (default: ``timeout``) to complete, so that a
        label purchase in flight at shutdown finishes and reports its outcome instead of being
        cut off into an ambiguous one. Then the session this client created is closed, and
        requests still on it are cut off (a session passed in is left open, with whatever
        still runs on it). Calling it again does nothing more; if it is cancelled while
        waiting, it still closes the session.
        """
        if self._closed and self._session is None:
            return
        self._closed = True
        try:
            scheduler = self._loop_scheduler
            # Its requests live on the loop they were made on (as its session does).
            if scheduler is not None and scheduler.serves(asyncio.get_running_loop()):
                scheduler.fail_group(self._in_flight, ClientClosedError)
                grace = self._timeout if grace is None else grace
                if self._in_flight.count and grace > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._in_flight.wait_idle(), grace)
        finally:
            # Fail the reads still pending (after their transports' connection_lost has run):
            # closing the session alone would leave a stalled read waiting for ever.
            if self._deadlines is not None and self._deadlines.close():
                await asyncio.sleep(0)
            session, self._session = self._session, None
            if self._owns_session and session is not None:
                await session.close()
            elif session is not None and self._trace_config is not None:
                with contextlib.suppress(ValueError):
                    session.trace_configs.remove(self._trace_config)

    @checked
    async def settle(
        self,
        error: AmbiguousRequestError,
        *,
        max_wait: float | None = None,
        horizon: float | None = None,
    ) -> Settlement:
        """Find out whether the write behind an :class:`AmbiguousRequestError` took effect.

        For label purchases (either endpoint), mark-as-shipped, add funds and create
        warehouse. It looks for what the write would have made (through the budget, in the
        interactive lane) until it finds it, or until the server has surely finished
        processing the request: ``horizon`` seconds after it was sent (default: the longest
        of ``settle_min_horizon``, twice this client's timeout and four times the slowest
        answer seen, plus a second). Only a look
        after that which finds nothing answers ``"not_bought"``; a wait cut short by
        ``max_wait`` (seconds from now), or looks that keep failing, answer
        ``"still_ambiguous"`` (see :class:`~shipstation_async.settlement.Settlement`).

        ShipStation has no idempotency key: two identical purchases cannot be told apart
        afterwards. A label this process's purchases were answered with is never taken for
        another's; identical purchases in flight together (from this process without
        ``create_label_once``, or from another process) may be. ``create_label_once`` keeps
        them apart in this process. A test label may leave no shipment to find: its
        settlement answers ``"bought"`` or ``"still_ambiguous"``, never ``"not_bought"``.
        """
        return await settle(self, error, max_wait=max_wait, horizon=horizon)

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._base_url

    @property
    def rate_limit(self) -> RateLimit:
        """The configured plan."""
        return self._rate_limit

    def rate_limit_status(self) -> RateLimitStatus:
        """The shared budget as seen now: remaining slots, in flight, queues, 429s, pauses."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._ledger.snapshot({"interactive": 0, "bulk": 0})
        return loop_scheduler_for(self._ledger, loop).status()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError()
        if self._session is None:
            self._session = aiohttp.ClientSession(
                request_class=_http.ScheduledRequest,
                connector=_http.ScheduledConnector(limit=max(100, self._in_flight.maximum)),
                # Sent by default, so that a request without a body passes no headers at all;
                # the credentials are revealed here, into the session, and nowhere else.
                headers={**self._builder.common_headers, **self._credentials.headers()},
            )
        return self._session

    def _scheduler(self) -> LoopScheduler:
        loop = asyncio.get_running_loop()
        scheduler = self._loop_scheduler
        if scheduler is None or not scheduler.serves(loop):
            scheduler = self._loop_scheduler = loop_scheduler_for(self._ledger, loop)
        return scheduler

    # -- the pipeline ------------------------------------------------------------------------

    async def request(
        self,
        operation: Operation,
        *,
        max_wait: float | None = UNSET,
        lane: Lane | None = None,
        headers_out: MutableMapping[str, str] | None = None,
    ) -> Any:
        """Send ``operation`` through the shared budget and return its decoded JSON.

        ``headers_out``, when given, receives the successful response's headers (the streams
        read the server's ``Date`` from it).

        Retries follow the operation's safety: idempotent operations retry on 5xx, timeouts and
        connection errors with capped full-jitter backoff; non-idempotent ones only when the
        request provably did not take effect (429, or no connection), and otherwise raise
        :class:`AmbiguousRequestError`. A 429 holds every request on the key until the window
        resets, then this one goes first. Raises the typed :class:`APIError` for error answers.
        """
        if lane is None:  # only None means the default: a falsy lane is a mistake, refused below
            lane = operation.lane if operation.lane is not None else "interactive"
        if lane not in LANES:
            raise InvalidRequestError(
                f"lane must be 'interactive' or 'bulk', got {lane!r}", field="lane"
            )
        if max_wait is UNSET:
            # The client's default bounds interactive calls; bulk work waits its turn.
            wait_budget = self._max_wait if lane == "interactive" else None
        else:
            if max_wait is not None and (not is_seconds(max_wait) or max_wait < 0):
                raise InvalidRequestError(
                    f"max_wait must be >= 0 seconds or None, got {max_wait!r}", field="max_wait"
                )
            wait_budget = max_wait
        prepared = self._builder.build(operation)
        session = self._ensure_session()
        scheduler = self._scheduler()
        deadline = None if wait_budget is None else self._ledger.clock() + wait_budget
        method, path = prepared.method, prepared.path
        idempotent = operation.safety is Safety.IDEMPOTENT
        ambiguous = False  # an earlier attempt may have taken effect
        attempt_: _Attempt | None = None
        front = False
        attempt = 0
        rate_limited = 0  # attempts answered 429
        while True:
            attempt += 1
            try:
                if self._closed:  # a retry after aclose() began
                    raise ClientClosedError()
                # A free slot without a coroutine; only a request that must wait queues.
                grant = scheduler.grant_now(lane, self._in_flight)
                if grant is None:
                    try:
                        grant = await scheduler.acquire(
                            lane,
                            owner=self._in_flight,
                            deadline=deadline,
                            front=front,
                            method=method,
                            path=path,
                        )
                    except RateLimitError as exc:
                        if rate_limited:
                            exc.add_note(
                                f"gave up after {attempt - 1} attempts, {rate_limited} of them "
                                "answered 429 Too Many Requests: the next would pass max_wait"
                            )
                        raise
                front = True  # any retry goes ahead of its lane
                attempt_ = _Attempt(
                    self, session, scheduler, prepared, grant, lane, deadline, attempt, idempotent
                )
                if idempotent:
                    raw, headers = await attempt_.send()
                else:
                    raw, headers = await attempt_.run_shielded()
                ambiguous = ambiguous or attempt_.resent
            except ClientClosedError as exc:  # before a retry, while queued, or before sending
                sent = ambiguous or exc.sent
                raise ClientClosedError(exc.reason, method=method, path=path, sent=sent) from None
            except TransportError as exc:
                if exc.sent and not idempotent:
                    raise AmbiguousRequestError(
                        "the request was sent but no answer came back (" + str(exc) + "); it may "
                        "have taken effect, so it was not retried. Settle it (ss.settle(exc)) "
                        "before sending it again.",
                        method=method,
                        path=path,
                        cause=exc,
                        attempt=self._write_attempt(operation, method, path, attempt_),
                    ) from None
                ambiguous = ambiguous or exc.sent
                await self._backoff(attempt, rate_limited, deadline, exc, None, f"transport: {exc}")
                continue

            status = raw.status
            if status == 429:
                # Not a failure of the request (a 429 proves it was not processed) but of the
                # budget: retried for as long as max_wait allows, whatever max_attempts says.
                # Another process on the key can win the race for the next windows a few
                # times in a row; the call still completes once it gets a slot.
                rate_limited += 1
                pause = self._ledger.paused_until() - self._ledger.clock()
                self._emit(Throttled(method, path, max(0.0, pause)))
                self._emit(RetryScheduled(method, path, attempt + 1, 0.0, "429 Too Many Requests"))
                continue  # the ledger holds everyone until the window resets
            if status >= 500:
                error = error_for_status(
                    status, raw.body, method=method, path=path, redactor=self._credentials.redactor
                )
                if not idempotent:
                    raise AmbiguousRequestError(
                        f"ShipStation answered {status}; the request may have taken effect, so it "
                        "was not retried. Settle it (ss.settle(exc)) before sending it again.",
                        method=method,
                        path=path,
                        cause=error,
                        attempt=self._write_attempt(operation, method, path, attempt_),
                    ) from None
                ambiguous = True
                server_delay = headers.retry_after if headers is not None else None
                await self._backoff(
                    attempt, rate_limited, deadline, error, server_delay, f"HTTP {status}"
                )
                continue
            if headers_out is not None:
                # Only the server's clock: other headers may echo anything (the credential).
                headers_out["Date"] = self._credentials.redact(raw.headers.get("Date", ""))
            try:
                answer = decode_response(
                    status, raw.body, method=method, path=path, redactor=self._credentials.redactor
                )
                if operation.structure is not None and status < 300:
                    answer = operation.structure(answer)
            except DecodeError as error:
                if idempotent or status >= 300:
                    raise
                # A write answered as done whose answer cannot be read: it took effect, but
                # what it made is unknown to the caller. Settling finds it.
                raise AmbiguousRequestError(
                    f"ShipStation answered {status}, but the answer could not be read ({error}); "
                    "it most likely took effect. Settle it (ss.settle(exc)) before sending it "
                    "again.",
                    method=method,
                    path=path,
                    cause=error,
                    attempt=self._write_attempt(operation, method, path, attempt_),
                ) from None
            except APIError as error:
                if ambiguous and operation.recover is not None:
                    recovered = operation.recover(error)
                    if recovered is not None:
                        _log.info(
                            "%s %s: %d after an ambiguous attempt counts as success",
                            method,
                            path,
                            error.status,
                        )
                        return recovered
                raise
            if ambiguous and operation.recover_answer is not None:
                return operation.recover_answer(answer)
            return answer

    def _write_attempt(
        self, operation: Operation, method: str, path: str, attempt: _Attempt | None
    ) -> WriteAttempt:
        """What an ambiguous write sent and when, for settling it later."""
        now = self._ledger.clock()
        sent_at = attempt.sent_at if attempt is not None and attempt.sent_at is not None else now
        return WriteAttempt(
            method=method,
            path=path,
            body=operation.body,
            sent_at=sent_at,
            ended_at=now,
            timeout=self._timeout,
            account=self._account,
            slowest_answer=max(self._answer_times, default=None),
            baseline=operation.baseline,
            min_horizon=self._settle_min_horizon,
        )

    async def _backoff(
        self,
        attempt: int,
        rate_limited: int,
        deadline: float | None,
        error: ShipStationError,
        server_delay: float | None,
        reason: str,
    ) -> None:
        """Wait before the next attempt, or raise ``error``.

        ``attempt``: attempts made so far; ``rate_limited``: those answered 429. The others
        failed, and only they count towards the retry policy's cap and backoff.
        """
        failed = attempt - rate_limited
        method = getattr(error, "method", "")
        path = getattr(error, "path", "")
        if failed >= self._retry.max_attempts:
            error.add_note(
                f"gave up after {attempt} attempts, {failed} of them failed "
                "(the retry policy's max_attempts)"
                if failed != attempt
                else f"gave up after {attempt} attempts (the retry policy's max_attempts)"
            )
            raise error
        delay = self._retry.delay(failed, server_delay=server_delay)
        if deadline is not None and self._ledger.clock() + delay > deadline:
            error.add_note(f"gave up after {attempt} attempts: the next would pass max_wait")
            raise error
        self._emit(RetryScheduled(method, path, attempt + 1, delay, reason))
        _log.info("%s %s: retrying in %.2f s after %s", method, path, delay, reason)
        if delay > 0:
            await asyncio.sleep(delay)

    def _emit(self, event: Event) -> None:
        for hook in self._hooks:
            try:
                hook(event)
            except Exception:
                _log.exception("a shipstation_async hook raised; ignoring it")


class _ResendRefused(aiohttp.ClientError):
    """Stops aiohttp's own re-send of a request that must not be sent twice."""


class _Attempt(_http.AttemptContext):
    """One attempt: the send, its accounting in the ledger, and its in-flight slot."""

    __slots__ = (
        "client",
        "deadline",
        "grant",
        "idempotent",
        "lane",
        "number",
        "prepared",
        "resent",
        "scheduler",
        "sent_at",
        "session",
    )

    def __init__(
        self,
        client: ShipStation,
        session: aiohttp.ClientSession,
        scheduler: LoopScheduler,
        prepared: PreparedRequest,
        grant: Grant,
        lane: Lane,
        deadline: float | None,
        number: int,
        idempotent: bool,
    ) -> None:
        super().__init__(client._deadlines)
        self.client = client
        self.idempotent = idempotent
        self.session = session
        self.scheduler = scheduler
        self.prepared = prepared
        self.grant = grant
        self.lane = lane
        self.deadline = deadline
        self.number = number
        self.sent_at: float | None = None
        self.resent = False

    def must_hold(self) -> bool:
        """A re-send by aiohttp, or a 429 pause since the grant: see :meth:`before_send`."""
        grant = self.grant
        return self.sent or (
            grant.state == "reserved" and grant.epoch != self.scheduler.ledger.epoch
        )

    def on_sent(self, at: float) -> None:
        """Stamp the send in the ledger (and tell the hooks, and a purchase's watch)."""
        self.sent_at = at
        watch = SEND_WATCH.get()
        if watch is not None:
            watch.sent = True
        self.scheduler.ledger.mark_sent(self.grant, at)
        if self.client._hooks:
            self.client._emit(
                RequestSent(
                    self.prepared.method,
                    self.prepared.path,
                    self.lane,
                    self.number,
                    self.grant.probe,
                )
            )

    async def before_send(self) -> None:
        """Get a re-send by aiohttp a slot of its own, or re-queue a grant a 429 paused."""
        ledger = self.scheduler.ledger
        if self.sent:
            # aiohttp re-sends GET/PUT/DELETE once on a new connection when the server dropped
            # the first: that first send stays counted, and the re-send waits for a slot too.
            self.resent = True
            ledger.fail(self.grant, sent=True)
            if not self.idempotent:
                raise _ResendRefused("the connection dropped after sending; not re-sent")
            self.sent = False
        else:
            # A 429 arrived between this attempt's grant and its send: give the slot back and
            # queue again at the front, so nothing reaches the server during the pause.
            ledger.release(self.grant)
        if self.client._closed:  # aclose() began: no new slot, nothing more goes out
            raise ClientClosedError(sent=self.resent)
        self.grant = await self.scheduler.acquire(
            self.lane,
            owner=None,
            deadline=self.deadline,
            front=True,
            method=self.prepared.method,
            path=self.prepared.path,
            group=self.client._in_flight,
        )

    async def run_shielded(self) -> tuple[_http.RawResponse, RateLimitHeaders | None]:
        """Send a non-idempotent request that, once on the wire, outlives its caller.

        If the caller is cancelled after the request went out, it runs to completion and its
        outcome is logged and passed to the hooks; before that, it is simply dropped.
        """
        task = asyncio.ensure_future(self.send())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                if self.sent:
                    task.add_done_callback(self._report_after_cancel)
                else:
                    task.cancel()  # not on the wire yet: safe to drop
            raise

    async def send(self) -> tuple[_http.RawResponse, RateLimitHeaders | None]:
        """Send once; account for the attempt in the ledger whatever happens."""
        ledger = self.scheduler.ledger
        try:
            client = self.client
            raw = await _http.send(
                self.session,
                self.prepared,
                self,
                client._aiohttp_timeout,
                session_headers=client._builder.common_headers if client._owns_session else None,
                middlewares=client._middlewares,
                redactor=client._credentials.redactor,
            )
        except TransportError as exc:
            ledger.fail(self.grant, sent=exc.sent)
            raise
        except BaseException:
            ledger.fail(self.grant, sent=self.sent)
            raise
        finally:
            self.scheduler.owner_released(self.client._in_flight)
        headers = parse_rate_limit(raw.headers)
        # The headers' moment, not the body's: a long body would widen the window's reset bounds.
        ledger.complete(self.grant, raw.status, headers, at=raw.headers_at)
        elapsed = raw.received_at - (self.sent_at if self.sent_at is not None else raw.received_at)
        self.client._answer_times.append(elapsed)
        if self.client._hooks:
            self.client._emit(
                ResponseReceived(
                    self.prepared.method,
                    self.prepared.path,
                    self.lane,
                    self.number,
                    raw.status,
                    elapsed,
                    headers,
                    self.grant.probe,
                )
            )
        _log.debug(
            "%s %s -> %d in %.3f s (attempt %d)",
            self.prepared.method,
            self.prepared.path,
            raw.status,
            elapsed,
            self.number,
        )
        return raw, headers

    def _report_after_cancel(
        self, task: asyncio.Future[tuple[_http.RawResponse, RateLimitHeaders | None]]
    ) -> None:
        method, path = self.prepared.method, self.prepared.path
        if task.cancelled():
            status, error = None, "cancelled"
        elif task.exception() is not None:
            status, error = None, str(task.exception())
        else:
            status, error = task.result()[0].status, None
        _log.warning(
            "%s %s ran to completion after its caller was cancelled: %s",
            method,
            path,
            f"HTTP {status}" if status is not None else error,
        )
        self.client._emit(CompletedAfterCancel(method, path, status, error))
