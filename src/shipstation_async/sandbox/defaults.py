"""The sandbox's default settings, importable without its server (the command line's parser).

:mod:`.http.server` and :mod:`.http.request_body` use these; the ``sandbox serve`` options'
help shows them, and building that parser must not import the server and ``aiohttp.web``.
"""

from __future__ import annotations

from typing import Final

from ..limits import RateLimit

DEFAULT_RATE_LIMIT: Final = RateLimit()
"""ShipStation's limit, 40 requests per 60 s per API key: the sandbox's default."""
DEFAULT_BODY_TIMEOUT: Final = 30.0
"""Seconds a request body may take to arrive before the answer is 408 (the API's own limit
is unpublished)."""
DEFAULT_MAX_BODY_SIZE: Final = 1024**2
"""The largest request body taken, in bytes; a larger one is answered 413."""
