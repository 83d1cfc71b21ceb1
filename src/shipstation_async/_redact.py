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

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
MAX_LAYERS = 16
"""Layers of encoding taken off text before it is searched for a secret (each shortens it)."""
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


_JS_ESCAPE = re.compile(r"\\(\\)|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\(/)")


def _escaped(match: re.Match[str]) -> str:
    literal = match.group(1) or match.group(4)
    return literal or chr(int(match.group(2) or match.group(3), 16))


_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")


def _byte(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _unescape(text: str) -> str:
    # An escaped backslash first, as a JSON decoder reads it: "\\x2b" is the text "\x2b".
    return _JS_ESCAPE.sub(_escaped, text) if "\\" in text else text


# After an "&", the characters that begin no HTML reference (html.unescape's own rule), so
# an "&" followed by one of them, or by nothing, is left as it is.
_NOT_A_REFERENCE = "\t\n\f <&;"


def _decodes_to_itself(text: str) -> bool:
    """Whether :func:`normalized` has nothing to take off ``text``: cheaper than trying.

    True when it holds no backslash, no "&" that may begin an HTML reference and no "%"
    followed by two hex digits: then no layer of decoding changes it.
    """
    if "\\" in text:
        return False
    at = text.find("&")
    while at >= 0:
        if text[at + 1 : at + 2] not in _NOT_A_REFERENCE:  # "" (the end) is in it
            return False
        at = text.find("&", at + 1)
    at = text.find("%")
    while at >= 0:
        if _PERCENT.match(text, at):
            return False
        at = text.find("%", at + 1)
    return True


_NOT_A_REFERENCE_BYTES = _NOT_A_REFERENCE.encode()
_PERCENT_BYTES = re.compile(rb"%[0-9a-fA-F]{2}")


def _ascii_decodes_to_itself(body: bytes) -> bool:
    """:func:`_decodes_to_itself` of an ASCII body, without decoding it to text first."""
    if b"\\" in body:
        return False
    at = body.find(b"&")
    while at >= 0:
        if body[at + 1 : at + 2] not in _NOT_A_REFERENCE_BYTES:  # b"" (the end) is in it
            return False
        at = body.find(b"&", at + 1)
    at = body.find(b"%")
    while at >= 0:
        if _PERCENT_BYTES.match(body, at):
            return False
        at = body.find(b"%", at + 1)
    return True


def normalized(text: str) -> str:
    """``text`` with every layer of encoding a secret may hide under taken off, casefolded.

    JSON and JavaScript escapes, HTML references (named ones too), percent-encoding (a few
    times over): what is left is compared with the secrets (and their ``+`` written as a
    space, as a form decoder leaves it).
    """
    if text.isascii() and _decodes_to_itself(text):
        # Most answers: an "&" or "%" in prose, nothing to decode (and ASCII folds as lower).
        return text.lower()
    return decoded(text).casefold()


def decoded(text: str) -> str:
    """``text`` with the layers of encoding taken off, up to MAX_LAYERS deep (see normalized).

    Most text has none or one; each layer taken off shortens it, so a deeper one costs only
    the text that holds it.
    """
    for _ in range(MAX_LAYERS):
        before = text
        text = _unescape(text)
        if "&" in text:
            text = html.unescape(text)
        if "%" in text:
            text = _PERCENT.sub(_byte, text)
        if text == before:
            break
    return text


class Redactor:
    """Takes given secrets out of text and decoded JSON, whatever their encoding there."""

    __slots__ = ("_folded", "_folded_bytes", "_pattern", "_plain")

    def __init__(self, secrets: Iterable[str]) -> None:
        plain = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self._plain = tuple(plain)
        variants = {v for s in plain for v in (s, s.replace("+", " "))}
        folded = {v.casefold() for v in variants}
        # A secret that holds another (a padded token, its unpadded spelling) is found by
        # finding that one: every scan costs every answer its length.
        self._folded = tuple(f for f in folded if not any(o != f and o in f for o in folded))
        self._folded_bytes = tuple(v.encode() for v in self._folded)
        self._pattern = (
            re.compile(
                "|".join(
                    "".join(_encodings(c) for c in s) for s in sorted(variants, key=len)[::-1]
                ),
                re.IGNORECASE,
            )
            if plain
            else None
        )

    def __repr__(self) -> str:
        return f"Redactor({len(self._plain)} secrets)"

    def text(self, text: str) -> str:
        """``text`` with every secret, in any encoding, replaced by ``[redacted]``.

        The known encodings are replaced where they stand; a secret still found once the
        text is decoded (an encoding nested in another) costs the text its original form:
        it is returned decoded, with the secret replaced.
        """
        if self._pattern is None:
            return text
        text = self._pattern.sub(REDACTED, text)
        if self._hidden(text):
            return self._pattern.sub(REDACTED, normalized(text))
        return text

    def may_hold(self, body: bytes) -> bool:
        """Whether ``body`` may hold a secret (False: it surely does not)."""
        if self._pattern is None:
            return False
        # Bytes without which a secret can only be there in plain: escapes, percent-encoding,
        # HTML references. With one of them, look closer, unless (most answers: a "%" or an
        # "&" in prose) the body is ASCII that no decoding changes, where normalized() would
        # only lowercase it: as the bytes' own lower() does.
        if (b"\\" in body or b"%" in body or b"&" in body) and not (
            body.isascii() and _ascii_decodes_to_itself(body)
        ):
            return self._hidden(body.decode("utf-8", "replace"))
        # Otherwise only a secret in plain, in any case, can be there.
        lowered = body.lower()
        return any(secret in lowered for secret in self._folded_bytes)

    def _hidden(self, text: str) -> bool:
        flat = normalized(text)
        return any(secret in flat for secret in self._folded)

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every secret taken out of its strings (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
