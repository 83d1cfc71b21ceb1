r"""Keeping credentials out of everything a log, an error tracker or a traceback can read.

Two tools:

- :class:`Secret` holds a credential (the API secret, the Authorization header's value, the
  partner key). Its repr and str are ``[redacted]``, so a local variable, an attribute or a
  container that holds one shows nothing when an error tracker renders it; the value comes
  out only through :meth:`Secret.reveal`, where a header is written.
- :class:`Redactor` takes a credential out of text and decoded JSON that came from elsewhere
  (a server or proxy that echoes the request's headers, a transport error quoting what it
  read), in every encoding it may take there: plain, JSON-escaped (``\/``, ``\u002B``),
  percent-encoded (``%2B``, also twice: ``%252B``) and as HTML character references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
MIN_SECRET = 8
"""Characters a secret needs before it is redacted from text (shorter ones look like words)."""


class Secret:
    """A credential whose repr and str never show it; :meth:`reveal` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The credential itself: only where a header is written (or a redactor is built)."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:
        # A pickle (a task queue's payload, a crash dump) would carry the credential in clear.
        raise TypeError("a Secret cannot be pickled")


def _encodings(char: str) -> str:
    """A regex alternation matching ``char`` as written plainly or in any supported encoding."""
    code = ord(char)
    forms = [
        re.escape(char),
        f"%(?:25)?{code:02x}",  # percent-encoded, or percent-encoded twice
        f"\\\\u{code:04x}",  # a JSON escape
        f"&#0*{code};",
        f"&#x0*{code:x};",
    ]
    if char == "/":
        forms.append(r"\\/")  # JSON's optional escape of the solidus
    return "(?:" + "|".join(forms) + ")"


class Redactor:
    """Takes given secrets out of text and decoded JSON, whatever their encoding there."""

    __slots__ = ("_any", "_pattern", "_plain")

    def __init__(self, secrets: Iterable[str]) -> None:
        plain = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self._plain = tuple(plain)
        self._pattern = (
            re.compile("|".join("".join(_encodings(c) for c in s) for s in plain), re.IGNORECASE)
            if plain
            else None
        )
        # Bytes that can hide a secret from a plain search: an escape, a percent-encoding or
        # a character reference. A body without them, and without a secret in plain, needs no
        # closer look (most answers; reading one costs a few byte searches).
        self._any = re.compile(rb"\\u|\\/|%[0-9A-Fa-f]{2}|&#")

    def __repr__(self) -> str:
        return f"Redactor({len(self._plain)} secrets)"

    def text(self, text: str) -> str:
        """``text`` with every secret, in any supported encoding, replaced by ``[redacted]``."""
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def may_hold(self, body: bytes) -> bool:
        """Whether ``body`` may hold a secret (False: it surely does not)."""
        if self._pattern is None:
            return False
        return any(s.encode() in body for s in self._plain) or self._any.search(body) is not None

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every secret taken out of its strings (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
