"""The one cattrs converter: API JSON in, models out, and back to exactly what the API accepts.

``converter.structure(api_json, Order)`` reads what ShipStation sends; ``converter.unstructure``
gives camelCase JSON-ready data. Timestamps become aware datetimes in America/Los_Angeles (see
:mod:`shipstation_async._time` for the accepted forms and the fall-back-hour rule), money
becomes Decimal, unknown enumerated strings are accepted as plain strings, and unknown keys are
kept in ``extra``. :func:`make_converter` with ``strict=True`` (for tests) rejects unknown keys
and unknown enumerated values instead.

Each model's functions are cattrs' own generated code (:func:`cattrs.gen.make_dict_structure_fn`
and :func:`~cattrs.gen.make_dict_unstructure_fn`, a field renamed to its API key by an
``override``); a thin layer around them adds what cattrs does not do: the ``extra`` and ``raw``
bookkeeping fields, error messages that name the field, and, on the way out, the server's own
spelling of unchanged values and nulls it sent.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._arguments import check_model
from ..errors import DecodeError, InvalidRequestError
from . import _scalars
from ._base import api_name

Hook = Callable[[Any, Any], Any]
T = TypeVar("T")

_BOOKKEEPING = ("extra", "raw")
# The generated structure function reads ``extra`` and ``raw`` from these keys of a copy of the
# payload (cattrs reads every field from the mapping it is given). No JSON key starts with NUL.
_EXTRA_KEY = "\x00extra"
_RAW_KEY = "\x00raw"
# Scalars whose text has several spellings: sent back as received when unchanged.
_KEEP_SPELLING = (datetime, date, Decimal)
# Scalars the JSON decoder already yields in their final type: taken as they are.
_AS_DECODED = (int, str, bool, Decimal)


def _wire_fields(cls: type[Any]) -> list[tuple[Any, str]]:
    """A model's fields with the JSON key each reads and writes (bookkeeping left out)."""
    return [
        (field, field.metadata.get("api_key") or api_name(field.name))
        for field in attrs.fields(cls)
        if field.name not in _BOOKKEEPING
    ]


def wire_keys(cls: type[Any]) -> frozenset[str]:
    """The JSON keys a model reads (its fields' camelCase names)."""
    return frozenset(key for _, key in _wire_fields(cls))


def _strip_optional(tp: Any) -> Any:
    args = get_args(tp)
    if get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
        return typing.Union[tuple(rest)]  # noqa: UP007
    return tp


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and "raw" in attrs.fields_dict(tp)


def _as_is(value: Any, _: Any) -> Any:
    return value


_READ_ERRORS = (DecodeError, cattrs.BaseValidationError, ValueError, TypeError)


def _named(where: str, value: Any, exc: Exception) -> DecodeError:
    """A field's read error as a DecodeError that names the field (``Order.orderId: ...``).

    An error from inside (a list's item, a nested object's field) keeps the name it has
    (``Order.items[1]: OrderItem.unitPrice: ...``).
    """
    if isinstance(exc, DecodeError):
        return DecodeError(f"{where}: {exc}")
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        # A list's (or a mapping's) item: its own error, with where it stands.
        inner = exc.exceptions[0]
        for note in getattr(inner, "__notes__", ()):
            if isinstance(note, IterableValidationNote):
                where = f"{where}[{note.index}]"
            elif isinstance(note, AttributeValidationNote):
                where = f"{where}.{note.name}"
        return _named(where, None, inner)
    return DecodeError(f"{where}: cannot read {_scalars.quoted(value)} ({exc})")


def _blank(value: Any) -> bool:
    """An empty (or blank) string where a number, a date, a list or an object belongs.

    Real payloads carry ``""`` for absent values (a warehouse's ``residential``, a store's
    ``statusMappings``): every field of the models is optional, so it reads as absent (and
    goes back as ``""`` while unchanged).
    """
    return type(value) is str and not value.strip()


def _not_a_list(value: Any, where: str) -> list[Any] | None:
    """What stands where a list belongs, and is not one: read here, not by cattrs.

    cattrs would read any iterable: an object's keys, a string's characters.
    """
    if _blank(value):
        return None
    if isinstance(value, Mapping) and not value:
        return []  # PHP-built payloads send an empty array as {}
    kind = "an object" if isinstance(value, Mapping) else type(value).__name__
    raise DecodeError(f"{where}: expected a JSON array, got {kind}")


def _field_reader(conv: cattrs.Converter, inner: Any, where: str) -> Hook:
    """The structure hook of one field: null stays None, errors name ``where`` (Model.key).

    A page of 500 orders is about 30,000 fields, so the common cases are tested inline: a
    value the decoder already gives in its final type, a documented enumerated value, and a
    timestamp string go straight through; anything else goes to the type's own hook.
    """
    hook = conv.get_structure_hook(inner)
    if inner in _AS_DECODED:

        def read_scalar(value: Any, _: Any) -> Any:
            if value is None or type(value) is inner:
                return value
            try:
                return hook(value, inner)
            except _READ_ERRORS as exc:
                if _blank(value):
                    return None  # (tested only here: no cost to the values that read)
                raise _named(where, value, exc) from None

        return read_scalar
    if _is_literal(inner):
        allowed = frozenset(get_args(inner))

        def read_enumerated(value: Any, _: Any) -> Any:
            if value is None or (type(value) is str and value in allowed):
                return value
            try:
                return hook(value, inner)
            except _READ_ERRORS as exc:
                raise _named(where, value, exc) from None

        return read_enumerated
    if inner is datetime:
        # The same hook's parser, with a cache: a page repeats many timestamps.
        hook = functools.partial(_scalars.structure_datetime, parse=_scalars.parse_timestamp_cached)

    blank_is_absent = inner is not Any
    is_list = get_origin(inner) is list

    def read(value: Any, _: Any) -> Any:
        if value is None:
            return None
        if is_list and not isinstance(value, list):
            return _not_a_list(value, where)
        try:
            return hook(value, inner)
        except _READ_ERRORS as exc:
            if blank_is_absent and _blank(value):
                return None  # (tested only here: no cost to the values that read)
            raise _named(where, value, exc) from None

    return read


def _structure_factory(conv: cattrs.Converter, *, strict: bool) -> Callable[[Any], Hook]:
    def structure_hook(cls: type[Any]) -> Hook:
        attrs.resolve_types(cls)
        name = cls.__name__
        fields = _wire_fields(cls)
        known = frozenset(key for _, key in fields)
        # Any: cattrs types the overrides as its keyword flags' types.
        overrides: dict[str, Any] = {
            "extra": override(rename=_EXTRA_KEY, struct_hook=_as_is),
            "raw": override(rename=_RAW_KEY, struct_hook=_as_is),
        }
        overrides |= {
            field.name: override(
                rename=key,
                struct_hook=_field_reader(conv, _strip_optional(field.type), f"{name}.{key}"),
            )
            for field, key in fields
        }
        generated = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=False,
            _cattrs_detailed_validation=False,
            **overrides,
        )

        def structure_model(data: Any, _: Any) -> Any:
            if type(data) is not dict:
                if isinstance(data, cls):
                    return data
                if isinstance(data, list) and not data:
                    # PHP-built payloads send an empty object as [] (seen in documented examples).
                    return cls(extra={}, raw={})
                if not isinstance(data, Mapping):
                    kind = type(data).__name__
                    raise DecodeError(f"expected a JSON object for {name}, got {kind}")
            if data.keys() <= known:
                extra = {}
            else:
                extra = {k: v for k, v in data.items() if k not in known}
                if strict:
                    raise DecodeError(f"{name}: unknown keys {sorted(extra)}")
            return generated({**data, _EXTRA_KEY: extra, _RAW_KEY: data})

        return structure_model

    return structure_hook


def _field_writer(conv: cattrs.Converter, cls: type[Any], attr: str) -> Callable[[Any], Any]:
    """The unstructure hook of one field: by the value's own type; errors name the field."""

    def write(value: Any) -> Any:
        if type(value) in _AS_DECODED:
            return value  # what the converter's hooks for these types return
        try:
            return conv.unstructure(value)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{cls.__name__}.{attr}: {exc}", field=attr) from None

    return write


def _unstructure_factory(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def unstructure_hook(cls: type[Any]) -> Callable[[Any], Any]:
        attrs.resolve_types(cls)
        fields = _wire_fields(cls)
        overrides: dict[str, Any] = {"extra": override(omit=True), "raw": override(omit=True)}
        overrides |= {
            field.name: override(rename=key, unstruct_hook=_field_writer(conv, cls, field.name))
            for field, key in fields
        }
        # Every field's default is None: the generated code leaves out the unset ones.
        generated = make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **overrides)
        spelled = []
        for field, key in fields:
            inner = _strip_optional(field.type)
            if inner in _KEEP_SPELLING:
                spelled.append((field.name, key, conv.get_structure_hook(inner)))
        keys = [key for _, key in fields]

        def unstructure_model(obj: Any) -> dict[str, Any]:
            # On its way to a body: checked, whether built in code or read and then evolved.
            check_model(obj, sending=True)
            out: dict[str, Any] = generated(obj)
            raw: Mapping[str, Any] | None = obj.raw
            if raw is not None:
                # A null goes out where the server sent the key (a full replacement keeps it),
                # in the fields' order.
                out = {key: out.get(key) for key in keys if key in out or key in raw}
                _keep_spelling(obj, raw, out, spelled)
                for key, value in out.items():
                    if value is None and _blank(raw.get(key)):
                        out[key] = raw[key]  # read as absent, unchanged: as received
            for key, value in obj.extra.items():
                out.setdefault(key, value)
            return out

        return unstructure_model

    return unstructure_hook


def _keep_spelling(
    obj: Any, raw: Mapping[str, Any], out: dict[str, Any], spelled: list[tuple[str, str, Hook]]
) -> None:
    """Put back the server's text of values the caller did not change (7 fractional digits...)."""
    for attr, key, read in spelled:
        original = raw.get(key)
        value = getattr(obj, attr)
        if original is None or value is None:
            continue
        try:
            unchanged = read(original, None) == value
        except (DecodeError, ValueError, TypeError):
            continue
        if unchanged:
            out[key] = original


def structure_records(records: Iterable[Any], cls: type[T]) -> list[T]:
    """Each of ``records`` (a page's, a listing's) as ``cls``.

    A record that cannot be read is named in the error: its place and, where it has one, its
    id (``Order #3 (orderId 101): Order.shipDate: ...``), so that it can be looked up.
    """
    read = converter.get_structure_hook(cls)
    items: list[T] = []
    for index, record in enumerate(records):
        try:
            items.append(read(record, cls))
        except DecodeError as exc:
            key = cls.__name__[:1].lower() + cls.__name__[1:] + "Id"  # orderId, shipmentId
            ident = record.get(key) if isinstance(record, Mapping) else None
            short = type(ident) is int or (type(ident) is str and len(ident) <= _scalars.QUOTED)
            named = f" ({key} {ident})" if short else ""
            raise DecodeError(f"{cls.__name__} #{index}{named}: {exc}") from None
    return items


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter; ``strict=True`` turns unknown keys and enum values into DecodeError."""
    conv = cattrs.Converter()
    conv.register_structure_hook_func(
        lambda t: t in (datetime | date, datetime | date | None), _scalars.structure_moment
    )
    conv.register_structure_hook(datetime, _scalars.structure_datetime)
    conv.register_structure_hook(date, _scalars.structure_date)
    conv.register_structure_hook(Decimal, _scalars.structure_decimal)
    conv.register_structure_hook(bool, _scalars.structure_bool)
    conv.register_structure_hook(int, _scalars.structure_int)
    conv.register_structure_hook(str, _scalars.structure_str)
    conv.register_structure_hook(Any, _scalars.structure_any)
    conv.register_structure_hook_factory(
        _is_literal, lambda tp: _scalars.literal_hook(tp, strict=strict)
    )
    conv.register_unstructure_hook(datetime, _scalars.unstructure_datetime)
    conv.register_unstructure_hook(date, _scalars.unstructure_date)
    conv.register_unstructure_hook(Decimal, _scalars.unstructure_decimal)
    conv.register_structure_hook_factory(_is_model, _structure_factory(conv, strict=strict))
    conv.register_unstructure_hook_factory(_is_model, _unstructure_factory(conv))
    return conv


converter: cattrs.Converter = make_converter()
"""The converter every part of the SDK uses; public for users who structure payloads themselves."""

strict_converter: cattrs.Converter = make_converter(strict=True)
"""Like :data:`converter`, but unknown keys and enumerated values raise DecodeError (for tests)."""
