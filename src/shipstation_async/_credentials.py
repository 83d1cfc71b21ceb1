"""The API credentials, held so that they never show, and checked before they are used."""

from __future__ import annotations

import base64
import os

import attrs

from ._redact import Redactor, Secret
from .errors import ConfigurationError


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


@attrs.frozen(eq=False)
class Credentials:
    """An API key and secret, and a partner key if any, held so that they never show.

    ``api_secret``, ``partner_key`` and ``authorization`` (the ``Authorization`` header's
    value: HTTP Basic, the key as user, the secret as password) are :class:`Secret` values:
    their repr and str are ``[redacted]`` and they are revealed only where the headers are
    written. ``partner_key`` goes out as the ``x-partner`` header (ShipStation integration
    partners). ``redactor`` takes all three out of text a server or the network sent back,
    the header's token also without its padding and in URL-safe base64 (spellings a server
    or proxy may echo).
    """

    api_key: str
    api_secret: Secret = attrs.field(converter=_secret, repr=False)
    partner_key: Secret | None = attrs.field(
        default=None, converter=attrs.converters.optional(_secret), repr=False
    )
    authorization: Secret = attrs.field(init=False, repr=False)
    redactor: Redactor = attrs.field(init=False, repr=False)

    @authorization.default
    def _basic(self) -> Secret:
        raw = f"{self.api_key}:{self.api_secret.reveal()}".encode()
        return Secret("Basic " + base64.b64encode(raw).decode("ascii"))

    @redactor.default
    def _redactor(self) -> Redactor:
        token = self.authorization.reveal().removeprefix("Basic ")
        secrets = [*_spellings(token), self.api_secret.reveal()]
        if self.partner_key is not None:
            secrets.append(self.partner_key.reveal())
        return Redactor(secrets)

    def redact(self, text: str) -> str:
        """``text`` without this credential: the header's token, the secret, the partner key.

        In any encoding (plain, JSON-escaped, percent-encoded, HTML references). A secret or
        partner key shorter than 8 characters cannot be told apart from ordinary words and is
        left (ShipStation's secrets are 32).
        """
        return self.redactor.text(text)

    def headers(self) -> dict[str, str]:
        """The credential headers, revealed: for the one place that writes them."""
        headers = {"Authorization": self.authorization.reveal()}
        if self.partner_key is not None:
            headers["x-partner"] = self.partner_key.reveal()
        return headers


def secret_from(value: str | None, name: str, variable: str) -> Secret | None:
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


def is_header_text(value: object) -> bool:
    """Whether ``value`` can go in a header: non-blank printable ASCII text."""
    return (
        isinstance(value, str) and bool(value.strip()) and value.isprintable() and value.isascii()
    )


def _spellings(encoded: str) -> tuple[str, ...]:
    """Base64 text as a server may write it back: standard or URL-safe, padded or not."""
    url_safe = encoded.translate(str.maketrans("+/", "-_"))
    return encoded, encoded.rstrip("="), url_safe, url_safe.rstrip("=")
