"""The redactor's shortcuts decide exactly as the full decoding does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipstation_async._credentials import Credentials
from shipstation_async._redact import decoded, normalized

# The characters that start or end an encoding, hex digits, letters in both cases (and
# non-ASCII ones that fold to ASCII), so that encodings form and fall apart at random.
_ALPHABET = "&%\\#;xXu/ \t\n\r\f<aAbBfF0129K\u212a\u017fs+"
_TEXTS = st.text(alphabet=_ALPHABET, max_size=40)


@given(_TEXTS)
def test_normalized_takes_the_shortcut_only_where_decoding_changes_nothing(text: str) -> None:
    assert normalized(text) == decoded(text).casefold()


@given(st.lists(st.sampled_from(["&", "& ", "&;", "&&", "&amp;", "&#", "%", "%2", "%2B", "x"])))
def test_an_ampersand_or_percent_in_prose_decodes_to_itself(parts: list[str]) -> None:
    text = "".join(parts)
    assert normalized(text) == decoded(text).casefold()


def test_may_hold_sees_a_secret_behind_an_encoding_next_to_prose() -> None:
    creds = Credentials("key", "0123456789abcdef")
    token = creds.authorization.reveal().split()[1]
    first = f"&#{ord(token[0])};"
    assert creds.redactor.may_hold(f"Field #2 & #3, 5% off: {first}{token[1:]}".encode())
    assert creds.redactor.may_hold(f"Field #2 & #3, 5% off: {token.upper()}".encode())
    assert not creds.redactor.may_hold(b"Field #2 & #3, 5% off: nothing here")


_SECRET = "0123456789abcdef"
_CREDS = Credentials("key", _SECRET)
_PIECES = st.sampled_from(
    ["&", "& ", "&;", "&amp;", "&#48;", "&#x30;", "%", "%30", "%2530", "\\u0030", "\\", "x", " "]
)


@given(st.lists(st.one_of(_PIECES, st.sampled_from([_SECRET, _SECRET.upper(), _SECRET[1:]]))))
def test_may_hold_decides_as_the_full_look_on_ascii_bodies(parts: list[str]) -> None:
    """The shortcut for ASCII prose (a "%" or an "&" that begins no encoding) misses nothing."""
    text = "".join(parts)
    redactor = _CREDS.redactor
    assert redactor.may_hold(text.encode()) == redactor._hidden(text)


def test_a_secret_under_many_layers_of_percent_encoding_is_seen_and_taken_out() -> None:
    from urllib.parse import quote

    from shipstation_async._redact import MAX_LAYERS

    secret = "s3cret+x/0123456789"
    redactor = Credentials("key", secret).redactor
    for layers in (1, 5, 8, MAX_LAYERS - 1):
        hidden = secret
        for _ in range(layers):
            hidden = quote(hidden, safe="")
        body = f'{{"note": "call {hidden} back"}}'
        assert redactor.may_hold(body.encode()), layers
        assert "[redacted]" in redactor.text(body) and hidden not in redactor.text(body), layers


@pytest.mark.parametrize(
    "spelling",
    [
        lambda token, secret: token.rstrip("="),  # the header's token without its padding
        lambda token, secret: token.translate(str.maketrans("+/", "-_")),  # URL-safe base64
        lambda token, secret: token.translate(str.maketrans("+/", "-_")).rstrip("="),
        lambda token, secret: token,
    ],
)
def test_the_credential_is_taken_out_in_the_spellings_a_server_may_echo(
    spelling: Callable[[str, str], str],
) -> None:
    # A key and secret whose token has padding and both of base64's "+" and "/".
    creds = Credentials("k??", "s>?>secret-value-1")
    token = creds.authorization.reveal().removeprefix("Basic ")
    assert token.endswith("=") and "+" in token and "/" in token
    echoed = spelling(token, "s>?>secret-value-1")
    message = f'{{"Message": "bad header {echoed} sent"}}'
    assert creds.redactor.may_hold(message.encode())
    cleaned = creds.redact(message)
    assert echoed not in cleaned and "[redacted]" in cleaned
