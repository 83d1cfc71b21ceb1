"""The client: configuration, the resources, and the entry to the request pipeline."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
from collections.abc import MutableMapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp
import attrs
import yarl

from ._arguments import checked
from ._backoff import RetryPolicy
from ._budget import (
    LANES,
    BudgetBackend,
    InFlightLimit,
    RateLimitStatus,
    budget_key,
    ledger_for,
    loop_scheduler_for,
)
from ._budget.shared import SharedLedger
from ._credentials import Credentials, is_header_text, secret_from
from ._pipeline import Pipeline, Settings
from ._redact import Secret
from ._sansio import USER_AGENT, Lane, Operation, RequestBuilder
from ._settle import MIN_HORIZON
from .budget import RedisBudget, budget_from_environment
from .errors import AmbiguousRequestError, ConfigurationError, InvalidRequestError
from .events import Hook
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

DEFAULT_BASE_URL = "https://ssapi.shipstation.com"


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
        or not base_url.isprintable()
        or " " in base_url  # it would be written into the request line as it stands
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


BASE_URL_VARIABLE = "SHIPSTATION_BASE_URL"


def _base_url_or_default(base_url: str | None) -> str:
    """``base_url``, else ``SHIPSTATION_BASE_URL`` when set, else ShipStation's own API."""
    if base_url is not None:
        return base_url
    return os.environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL


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


def _user_agent(value: str | None) -> str | None:
    return value or None  # empty: the default


def _check_user_agent(_: object, __: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not is_header_text(value):
        raise ConfigurationError(
            "user_agent must be non-empty text without line breaks or control characters"
        )


def _instance_or_none(kind: type) -> Any:
    def check(_: object, field: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise ConfigurationError(
                f"{field.name} must be a {kind.__name__} (or None), got {value!r}"
            )

    return check


def _check_timeout(_: object, __: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value <= 0:
        raise ConfigurationError(f"timeout must be positive seconds, got {value!r}")


def _check_horizon(_: object, __: attrs.Attribute[Any], value: float) -> None:
    if not is_seconds(value) or value < 0:
        raise ConfigurationError(f"settle_min_horizon must be >= 0 seconds, got {value!r}")


def _check_max_wait(_: object, __: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and (not is_seconds(value) or value < 0):
        raise ConfigurationError(f"max_wait must be >= 0 seconds or None, got {value!r}")


def _check_hooks(_: object, __: attrs.Attribute[Any], value: Sequence[Hook]) -> None:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | tuple | list):
        raise ConfigurationError(f"hooks must be a list of callables, got {type(value)!r}")
    if not all(callable(hook) for hook in value):
        raise ConfigurationError("every hook must be callable (it receives each event)")


def _check_session(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, aiohttp.ClientSession):
        raise ConfigurationError(
            f"session must be an aiohttp.ClientSession or None, got {type(value)!r}"
        )


def _check_in_flight(_: object, __: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (not is_count(value) or value < 1):
        raise ConfigurationError(f"max_in_flight must be a whole number >= 1, got {value!r}")


@attrs.frozen
class ClientOptions:
    """The client's settings other than its credentials and URL, checked when made.

    Each field is the :class:`ShipStation` keyword of the same name; a value that cannot work
    raises :class:`ConfigurationError` naming it (fields are checked in this order).
    """

    user_agent: str | None = attrs.field(
        default=None, converter=_user_agent, validator=_check_user_agent
    )
    rate_limit: RateLimit | None = attrs.field(default=None, validator=_instance_or_none(RateLimit))
    retry: RetryPolicy | None = attrs.field(default=None, validator=_instance_or_none(RetryPolicy))
    timeout: float = attrs.field(default=30.0, validator=_check_timeout)
    settle_min_horizon: float = attrs.field(default=MIN_HORIZON, validator=_check_horizon)
    max_wait: float | None = attrs.field(default=120.0, validator=_check_max_wait)
    hooks: Sequence[Hook] = attrs.field(default=(), validator=_check_hooks)
    session: aiohttp.ClientSession | None = attrs.field(
        default=None, validator=_check_session, eq=False
    )
    max_in_flight: int | None = attrs.field(default=None, validator=_check_in_flight)

    @property
    def limit(self) -> RateLimit:
        """The plan: ``rate_limit``, or the default 40 requests per 60 s."""
        return self.rate_limit or RateLimit()

    @property
    def retry_policy(self) -> RetryPolicy:
        """``retry``, or the default policy."""
        return self.retry or RetryPolicy()

    @property
    def in_flight_cap(self) -> int:
        """``max_in_flight``, or the plan's request count."""
        return self.max_in_flight if self.max_in_flight is not None else self.limit.requests


def _credentials(
    api_key: str | None, secret: Secret | None, partner: Secret | None, partner_source: str
) -> Credentials:
    """The credentials, the key from the environment when not given, checked."""
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
    if not api_key.strip() or not secret.reveal().strip():
        # Blank: a copy-paste or template gone wrong; every request would answer 401.
        raise ConfigurationError("api_key and api_secret must not be blank (only spaces)")
    if partner is not None and not is_header_text(partner.reveal()):
        # A header value with a line break would end the header early (or be refused
        # by aiohttp at send time, as an untyped error); say which setting it was.
        raise ConfigurationError(
            f"{partner_source} must be non-empty text without line breaks or control characters"
        )
    return Credentials(api_key, secret, partner)


def _budget_of(
    key: tuple[str, str], rate_limit: RateLimit, store: RedisBudget | None
) -> BudgetBackend:
    """The key's budget: in ``store``, else in the environment's store, else in-process."""
    if store is not None and not isinstance(store, RedisBudget):
        raise ConfigurationError(f"budget must be a RedisBudget, got {type(store).__name__}")
    store = store if store is not None else budget_from_environment()
    return ledger_for(key, rate_limit) if store is None else store._ledger_for(key, rate_limit)


def _printable(secret: Secret) -> bool:
    return secret.reveal().isprintable()


class ShipStation:
    """An asyncio client for the ShipStation V1 API.

    Use it as ``async with ShipStation(key, secret) as ss:``, or open it once at start-up and
    ``await ss.aclose()`` at shutdown. Credentials default to the ``SHIPSTATION_API_KEY`` and
    ``SHIPSTATION_API_SECRET`` environment variables, and ``base_url`` to the
    ``SHIPSTATION_BASE_URL`` one (a sandbox, say) or else ShipStation's own API.

    Every request of every client on the same API key in this process, on any thread or event
    loop, is paced by one shared budget (``rate_limit``, 40 per 60 s by default) so that the
    server never needs to answer 429; when it does anyway (another process on the same key),
    every request is held until the window resets. Calls default to the ``interactive`` lane,
    which goes ahead of ``bulk`` work. ``budget`` (a :class:`~shipstation_async.budget.RedisBudget`,
    or by default the one the ``SHIPSTATION_BUDGET_URL`` environment variable names) shares
    the budget with every process and host that uses the same Redis.

    ``timeout`` (30 s) bounds the wait for the server's answer, counted from the moment the
    request goes out; time held back by the rate limit does not count. It applies twice: to
    sending the request body and receiving the response headers, then to reading the
    response body (on a ``session`` passed in: to each read).

    ``max_wait`` (120 s) bounds how long an interactive call may wait for a budget slot; past
    it the call raises :class:`RateLimitError` and sends nothing. None waits indefinitely.
    Bulk calls wait indefinitely unless given a ``max_wait`` of their own, and every call
    takes a ``max_wait=`` keyword that overrides the client's.

    ``max_in_flight`` caps concurrent requests (default: the limit's request count).
    ``retry`` (a :class:`~shipstation_async.RetryPolicy`) says how failed attempts are
    retried. A ``session`` passed in is used but not closed; its own auth is ignored.
    ``hooks`` receive the events of
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
        base_url: str | None = None,
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
        budget: RedisBudget | None = None,
    ) -> None:
        # Held as Secret from the first line on: a traceback of any error below shows this
        # frame's locals, and they must show no credential.
        partner_source = "partner_key" if partner_key is not None else "SHIPSTATION_PARTNER_KEY"
        try:
            secret = secret_from(api_secret, "api_secret", "SHIPSTATION_API_SECRET")
            partner = secret_from(partner_key, "partner_key", "SHIPSTATION_PARTNER_KEY")
        finally:
            api_secret = partner_key = None
        self._base_url, problem = _checked_base_url(_base_url_or_default(base_url))
        base_url = ""  # it may carry a password: not a local of this frame from here on
        if problem is not None:
            raise ConfigurationError(problem)
        self._credentials = _credentials(api_key, secret, partner, partner_source)
        self._options = options = ClientOptions(
            user_agent=user_agent,
            rate_limit=rate_limit,
            retry=retry,
            timeout=timeout,
            settle_min_horizon=settle_min_horizon,
            max_wait=max_wait,
            hooks=hooks,
            session=session,
            max_in_flight=max_in_flight,
        )
        self._builder = RequestBuilder(
            base_url=self._base_url, user_agent=options.user_agent or USER_AGENT
        )
        self._rate_limit = options.limit
        self._retry = options.retry_policy
        key = budget_key(self._base_url, self._credentials.api_key)
        self._ledger: BudgetBackend = _budget_of(key, self._rate_limit, budget)
        # Names the API and key in a write attempt without carrying the key itself.
        self._account = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
        self._in_flight = InFlightLimit(options.in_flight_cap)
        self._pipeline = self._start_pipeline(options)

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

    def _start_pipeline(self, options: ClientOptions) -> Pipeline:
        return Pipeline(
            settings=Settings(
                timeout=options.timeout,
                retry=self._retry,
                settle_min_horizon=float(options.settle_min_horizon),
                account=self._account,
            ),
            credentials=self._credentials,
            builder=self._builder,
            ledger=self._ledger,
            in_flight=self._in_flight,
            hooks=tuple(options.hooks),
            session=options.session,
        )

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
        self._pipeline.ensure_session()

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
        waiting, it still closes the session. With a shared budget, what this loop still has
        to tell Redis (answers, failures) is written before it returns.
        """
        try:
            await self._pipeline.close(grace)
        finally:
            if isinstance(self._ledger, SharedLedger):
                await self._ledger.flush()

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

    # -- what the pipeline keeps, under the names the rest of the package reads -------------

    @property
    def _hooks(self) -> tuple[Hook, ...]:
        return self._pipeline.hooks

    @_hooks.setter
    def _hooks(self, hooks: tuple[Hook, ...]) -> None:
        self._pipeline.hooks = hooks

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        return self._pipeline.session

    @property
    def _closed(self) -> bool:
        return self._pipeline.closed

    @property
    def _timeout(self) -> float:
        return self._options.timeout

    # -- the entry to the pipeline -----------------------------------------------------------

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
            wait_budget = self._options.max_wait if lane == "interactive" else None
        else:
            if max_wait is not None and (not is_seconds(max_wait) or max_wait < 0):
                raise InvalidRequestError(
                    f"max_wait must be >= 0 seconds or None, got {max_wait!r}", field="max_wait"
                )
            wait_budget = max_wait
        return await self._pipeline.request(
            operation, lane=lane, wait_budget=wait_budget, headers_out=headers_out
        )
