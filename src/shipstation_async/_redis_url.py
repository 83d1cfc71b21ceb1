"""A Redis URL as the SDK takes it: held as a secret, shown only as where it points.

Shared by :class:`~shipstation_async.budget.RedisBudget` and the webhook receiver's
``RedisStore``. ``valkey://`` and ``valkeys://`` are accepted (redis-py knows them as
``redis``); the parsed URL, whose repr shows the password, never leaves :func:`checked_url`.
"""

from __future__ import annotations

import yarl

from ._redact import Secret
from .errors import ConfigurationError

SCHEMES = ("redis", "rediss", "unix", "valkey", "valkeys")


def checked_url(url: Secret, what: str) -> tuple[Secret, str]:
    """The URL for redis-py (``valkey`` schemes spelled ``redis``) and what may be shown of it.

    ``what``: the class the URL is for, named in the error a wrong URL raises.
    """
    try:
        parsed = yarl.URL(url.reveal())
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in SCHEMES:
        raise ConfigurationError(
            f"{what} url must be redis://host:port/db, rediss://..., valkey://... or unix://path"
        )
    if parsed.scheme.startswith("valkey"):  # the same protocol; redis-py knows redis only
        parsed = parsed.with_scheme(parsed.scheme.replace("valkey", "redis", 1))
        url = Secret(str(parsed))
    return url, where(parsed)


def cluster_option(url: Secret) -> tuple[Secret, bool]:
    """The URL without its ``cluster`` query parameter (unknown to redis-py), and its value.

    ``cluster=true`` (or ``1``, ``yes``) names a Redis Cluster; ``false``, ``0``, ``no`` or no
    parameter a single server. Anything else is a ConfigurationError.
    """
    parsed = yarl.URL(url.reveal())
    value = parsed.query.get("cluster")
    if value is None:
        return url, False
    flag = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if value.lower() not in flag:
        raise ConfigurationError(f"the URL's cluster parameter must be true or false: {value!r}")
    return Secret(str(parsed.without_query_params("cluster"))), flag[value.lower()]


def cluster_url_fits(url: Secret) -> bool:
    """Whether a URL can name a Redis Cluster node: TCP (``redis``, ``rediss``), database 0."""
    parsed = yarl.URL(url.reveal())
    return parsed.scheme in ("redis", "rediss") and parsed.path in ("", "/", "/0")


def where(url: yarl.URL) -> str:
    """The URL without its user and password: what reprs and logs may show."""
    if url.scheme == "unix":
        return f"unix://{url.path}"
    port = "" if url.port is None else f":{url.port}"
    return f"{url.scheme}://{url.host or ''}{port}{url.path if url.path != '/' else ''}"
