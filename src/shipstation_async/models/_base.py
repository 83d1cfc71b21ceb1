"""What every model shares: API key names, unknown keys kept, and which keys the server sent.

Models are frozen, slotted attrs classes whose attribute names are the snake_case of the API's
camelCase keys. Two bookkeeping fields make them safe for ShipStation's full-replacement
updates (PUT /products, /stores, /warehouses):

- ``extra``: keys the SDK does not know yet, kept exactly as received and sent back;
- ``raw``: the JSON object as the server sent it, so that every key it sent goes back (a null
  as null), and a value the caller did not change goes back exactly as it came (a timestamp's
  seven fractional digits, a number's digits), while a field the caller left unset on a model
  built in code is left out.

So ``get -> attrs.evolve(model, field=...) -> update`` changes only that field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")


def api_name(attribute: str) -> str:
    """The API's camelCase key for a snake_case attribute name (``ship_to`` -> ``shipTo``)."""
    return _CAMEL_BOUNDARY.sub(lambda m: m.group(1).upper(), attribute)


def api_key(name: str) -> dict[str, Any]:
    """Field metadata naming an API key that the camelCase rule would get wrong."""
    return {"api_key": name}


class Model:
    """Base of the models: a model built in code is checked against its annotations.

    Each model is a frozen, slotted, keyword-only attrs class (``@attrs.frozen(kw_only=True)``
    on the class itself, so that type checkers see its ``__init__`` and ``attrs.evolve``
    works on it for them too). Wrong types, NaN, text that is not valid Unicode raise
    InvalidRequestError when the model is built; one read from the server, which carries
    ``raw``, is taken as the server sent it.
    """

    __slots__ = ()

    extra: Mapping[str, Any]
    raw: Mapping[str, Any] | None

    def __attrs_post_init__(self) -> None:
        # Read from the server (it carries raw): taken as sent, at no cost on a page of 500.
        if self.raw is None:
            from .._arguments import check_model  # imported late: it reads the annotations

            check_model(self)


def extra_field() -> Any:
    """The ``extra`` field: unknown keys as received (an empty dict when none)."""
    return attrs.field(factory=dict, repr=False, hash=False)


def raw_field() -> Any:
    """The ``raw`` field: the JSON object as received (None for a model built in code)."""
    return attrs.field(default=None, eq=False, repr=False, hash=False)


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a list endpoint: ``items`` with the envelope's ``total``, ``page``, ``pages``."""

    items: list[T]
    total: int
    page: int
    pages: int

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@attrs.frozen(kw_only=True)
class SuccessResult:
    """The ``{success, message}`` answer of many write endpoints.

    ``success`` is a bool even when the server sends the string "true" (stores/deactivate).
    """

    success: bool | None = None
    message: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
