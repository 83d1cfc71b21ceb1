"""The webhook token: where it comes from, and keeping it out of logs (servers' access logs too).

Deliveries carry the token in their URL, so every access log line of the receiving server
would hold it. A filter on the access loggers of aiohttp and uvicorn (and the SDK's own)
replaces it with ``[redacted]`` before any handler formats the line.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Sequence

from .._redact import Redactor, Secret
from ..errors import ConfigurationError

TOKEN_ENV = "SHIPSTATION_WEBHOOK_TOKEN"
MIN_TOKEN_LENGTH = 16
ACCESS_LOGGERS = ("aiohttp.access", "aiohttp.server", "uvicorn.access", "uvicorn.error")


def tokens_from(token: str | Sequence[str] | None) -> tuple[Secret, ...]:
    """The accepted tokens (current first), from the argument or ``SHIPSTATION_WEBHOOK_TOKEN``."""
    if token is None:
        token = [t.strip() for t in os.environ.get(TOKEN_ENV, "").split(",") if t.strip()]
        if not token:
            raise ConfigurationError(f"give token= or set {TOKEN_ENV}")
    tokens = [token] if isinstance(token, str) else list(token)
    if not 1 <= len(tokens) <= 2:
        raise ConfigurationError("give one token, or two while rotating")
    for value in tokens:
        if not isinstance(value, str) or len(value) < MIN_TOKEN_LENGTH or not value.isascii():
            raise ConfigurationError(
                f"a webhook token must be ASCII text of {MIN_TOKEN_LENGTH}+ characters"
            )
        if not all(c.isalnum() or c in "-_.~" for c in value):
            raise ConfigurationError("a webhook token may hold letters, digits and - _ . ~ only")
    return tuple(Secret(value) for value in tokens)


class LogGuard:
    """One receiver's tokens, taken out of the access logs for as long as this lives."""

    def __init__(self, redactor: Redactor, tokens: Sequence[str]) -> None:
        self.redactor = redactor
        self._folded = tuple(t.casefold() for t in tokens)

    def clean(self, text: str) -> str:
        """``text`` without the tokens; a cheap look first (most log lines hold none)."""
        if "%" in text or "\\" in text or "&" in text:
            return self.redactor.text(text)  # an encoded token may hide behind these
        folded = text.casefold()
        if any(token in folded for token in self._folded):
            return self.redactor.text(text)
        return text


class TokenLogFilter(logging.Filter):
    """Takes every live receiver's tokens out of a log record.

    The message, its arguments, the extras, and the traceback's text (formatted here, before
    any handler formats it).
    """

    def __init__(self) -> None:
        super().__init__()
        self._guards: weakref.WeakSet[LogGuard] = weakref.WeakSet()

    def add(self, guard: LogGuard) -> None:
        """Redact what ``guard`` knows for as long as it lives."""
        self._guards.add(guard)

    def _clean(self, value: object, guards: list[LogGuard]) -> object:
        if isinstance(value, str):
            for guard in guards:
                value = guard.clean(value)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        guards = list(self._guards)
        if not guards:
            return True
        record.msg = self._clean(
            record.msg if isinstance(record.msg, str) else str(record.msg), guards
        )
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a, guards) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean(v, guards) for k, v in record.args.items()}
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "levelname", "pathname"):
                setattr(record, key, self._clean(value, guards))
        if record.exc_info and not record.exc_text:
            record.exc_text = str(self._clean(_TRACEBACKS.formatException(record.exc_info), guards))
        return True


_TRACEBACKS = logging.Formatter()
_FILTER = TokenLogFilter()


def guard_logs(redactor: Redactor, tokens: Sequence[str]) -> LogGuard:
    """Keep ``redactor``'s tokens out of the access logs while the guard returned lives."""
    guard = LogGuard(redactor, tokens)
    _FILTER.add(guard)
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return guard
