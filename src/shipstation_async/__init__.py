"""shipstation-async: an asyncio SDK for the ShipStation V1 API.

``ShipStation`` is the client; ``RateLimit`` describes the budget it paces requests by; every
error is a ``ShipStationError``.
"""

from ._backoff import RetryPolicy
from ._budget import RateLimitStatus
from ._redact import Secret
from ._sansio import Lane, Operation, Safety
from ._version import __version__
from .budget import RedisBudget
from .client import ShipStation
from .errors import (
    AmbiguousRequestError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    DecodeError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ShipStationError,
    TransportError,
    WriteAttempt,
)
from .limits import RateLimit
from .models import Order, Page
from .settlement import Settlement

__all__ = [
    "APIError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "DecodeError",
    "InvalidRequestError",
    "Lane",
    "NotFoundError",
    "Operation",
    "Order",
    "Page",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RateLimitStatus",
    "RedisBudget",
    "RetryPolicy",
    "Safety",
    "Secret",
    "ServerError",
    "Settlement",
    "ShipStation",
    "ShipStationError",
    "TransportError",
    "WriteAttempt",
    "__version__",
]
