"""The one cattrs converter: API JSON in, models out, and back to exactly what the API accepts.

``converter.structure(api_json, Order)`` reads what ShipStation sends; ``converter.unstructure``
gives camelCase JSON-ready data. Timestamps become aware datetimes in America/Los_Angeles (see
:mod:`shipstation_async._time` for the accepted forms and the fall-back-hour rule), money
becomes Decimal, unknown enumerated strings are accepted as plain strings, and unknown keys are
kept in ``extra``. :func:`make_converter` with ``strict=True`` (for tests) rejects unknown keys
and unknown enumerated values instead.
"""

from __future__ import annotations

import functools
import logging
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs

from .._arguments import check_model
from .._time import format_body_datetime, parse_date, parse_timestamp
from ..errors import DecodeError, InvalidRequestError
from ._base import api_name

T = TypeVar("T")
_log = logging.getLogger("shipstation_async.models")

_BOOKKEEPING = ("extra", "raw")


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
    if get_origin(tp) in (typing.Union, __import__("types").UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
        return typing.Union[tuple(rest)]  # noqa: UP007
    return tp


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and "raw" in attrs.fields_dict(tp)


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter; ``strict=True`` turns unknown keys and enum values into DecodeError."""
    conv = cattrs.Converter()

    def structure_datetime(value: Any, _: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise DecodeError(f"expected a timestamp string, got {value!r}")
        return parse_timestamp(value)

    def structure_date(value: Any, _: Any) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise DecodeError(f"expected a date string, got {value!r}")
        return parse_date(value)

    def structure_decimal(value: Any, _: Any) -> Decimal:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, bool):
            raise DecodeError(f"expected a number, got {value!r}")
        try:
            return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise DecodeError(f"expected a number, got {value!r}") from None

    def structure_bool(value: Any, _: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # stores/deactivate sends "true"
        if value == "":
            # Real warehouse payloads carry residential: "" (unknown); every bool field of
            # the models is optional, so it reads as absent.
            return None
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise DecodeError(f"expected a boolean, got {value!r}")

    def structure_int(value: Any, _: Any) -> int:
        if isinstance(value, bool):
            raise DecodeError(f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise DecodeError(f"expected an integer, got {value!r}")

    def structure_str(value: Any, _: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return str(value)  # e.g. an id the server sends as a number
        raise DecodeError(f"expected a string, got {value!r}")

    def structure_any(value: Any, _: Any) -> Any:
        return value

    def structure_moment(value: Any, _: Any) -> datetime | date | None:
        # A field seen both as a plain date and as a timestamp (a fulfillment's shipDate):
        # a timestamp keeps its time of day, a plain date stays a date.
        if value is None or isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise DecodeError(f"expected a date or timestamp string, got {value!r}")
        text = value.strip()
        return parse_timestamp(text) if "T" in text or " " in text else parse_date(text)

    conv.register_structure_hook_func(
        lambda t: t in (datetime | date, datetime | date | None), structure_moment
    )
    conv.register_structure_hook(datetime, structure_datetime)
    conv.register_structure_hook(date, structure_date)
    conv.register_structure_hook(Decimal, structure_decimal)
    conv.register_structure_hook(bool, structure_bool)
    conv.register_structure_hook(int, structure_int)
    conv.register_structure_hook(str, structure_str)
    conv.register_structure_hook(Any, structure_any)

    def literal_hook(tp: Any) -> Callable[[Any, Any], Any]:
        allowed = frozenset(get_args(tp))

        def structure_literal(value: Any, _: Any) -> Any:
            if value in allowed:
                return value
            if strict:
                raise DecodeError(f"unexpected value {value!r}; expected one of {sorted(allowed)}")
            if not isinstance(value, str | int):
                raise DecodeError(f"unexpected value {value!r}")
            _log.debug("accepting an unknown enumerated value %r", value)
            return value

        return structure_literal

    conv.register_structure_hook_factory(_is_literal, literal_hook)

    def unstructure_datetime(value: datetime) -> str:
        return format_body_datetime(value, "datetime")

    conv.register_unstructure_hook(datetime, unstructure_datetime)
    conv.register_unstructure_hook(date, lambda value: value.isoformat())
    conv.register_unstructure_hook(Decimal, lambda value: value)

    def model_structure_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
        attrs.resolve_types(cls)
        specs: list[tuple[str, str, Callable[[Any, Any], Any], Any]] = []
        for field, key in _wire_fields(cls):
            inner = _strip_optional(field.type)
            specs.append((field.name, key, conv.get_structure_hook(inner), inner))
        known = frozenset(key for _, key, _, _ in specs)
        name = cls.__name__

        def structure_model(data: Any, _: Any) -> Any:
            if isinstance(data, cls):
                return data
            if isinstance(data, list) and not data:
                # PHP-built payloads send an empty object as [] (seen in documented examples).
                return cls(extra={}, raw={})
            if not isinstance(data, Mapping):
                raise DecodeError(f"expected a JSON object for {name}, got {type(data).__name__}")
            kwargs: dict[str, Any] = {}
            for attr, key, hook, inner in specs:
                value = data.get(key)
                if value is not None:
                    try:
                        kwargs[attr] = hook(value, inner)
                    except DecodeError as exc:
                        raise DecodeError(f"{name}.{key}: {exc}") from None
                    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
                        raise DecodeError(f"{name}.{key}: cannot read {value!r} ({exc})") from None
            extra = {k: v for k, v in data.items() if k not in known}
            if extra and strict:
                raise DecodeError(f"{name}: unknown keys {sorted(extra)}")
            return cls(**kwargs, extra=extra, raw=data)

        return _fast_structure(conv, cls, specs, known, structure_model, strict=strict)

    def model_unstructure_hook(cls: type[Any]) -> Callable[[Any], Any]:
        attrs.resolve_types(cls)
        specs = []
        for field, key in _wire_fields(cls):
            inner = _strip_optional(field.type)
            # Scalars whose text has several spellings go back as received when unchanged.
            keep_spelling = inner in (datetime, date, Decimal)
            hook = conv.get_structure_hook(inner) if keep_spelling else None
            specs.append((field.name, key, hook))

        def unstructure_model(obj: Any) -> dict[str, Any]:
            # On its way to a body: checked, whether built in code or read and then evolved.
            check_model(obj, sending=True)
            raw: Mapping[str, Any] | None = obj.raw
            out: dict[str, Any] = {}
            for attr, key, hook in specs:
                value = getattr(obj, attr)
                if value is None:
                    if raw is not None and key in raw:
                        out[key] = None  # the server sent null: a full replacement keeps it
                    continue
                if hook is not None and raw is not None and raw.get(key) is not None:
                    original = raw[key]
                    try:
                        if hook(original, None) == value:
                            out[key] = original
                            continue
                    except (DecodeError, ValueError, TypeError):
                        pass
                try:
                    out[key] = conv.unstructure(value)
                except InvalidRequestError as exc:
                    raise InvalidRequestError(f"{cls.__name__}.{attr}: {exc}", field=attr) from None
            for key, value in obj.extra.items():
                out.setdefault(key, value)
            return out

        return unstructure_model

    conv.register_structure_hook_factory(_is_model, model_structure_hook)
    conv.register_unstructure_hook_factory(_is_model, model_unstructure_hook)
    return conv


# Datetimes are immutable and a page repeats many timestamps (an order's and its items').
_parse_timestamp_cached = functools.lru_cache(maxsize=4096)(parse_timestamp)

# Scalars the JSON decoder already yields in their final type: taken as they are.
_AS_DECODED = (int, str, bool, Decimal)


def _fast_structure(
    conv: cattrs.Converter,
    cls: type[Any],
    specs: list[tuple[str, str, Callable[[Any, Any], Any], Any]],
    known: frozenset[str],
    careful: Callable[[Any, Any], Any],
    *,
    strict: bool,
) -> Callable[[Any, Any], Any]:
    """A structure function generated for ``cls``: the same result as ``careful``, faster.

    A page of 500 orders is about 30,000 fields, so the per-field cost matters. The generated
    code reads each key once, keeps values already of the right type, and calls a nested hook
    directly. Anything unusual (not a dict, a value of another type, an unknown key in strict
    mode, any error) is handed to ``careful``, which converts it or raises a DecodeError that
    names the field.
    """
    names: dict[str, Any] = {"cls": cls, "careful": careful, "known": known}
    lines = [
        "def structure(data, _):",
        "    if type(data) is not dict:",
        "        return careful(data, _)",
        "    try:",
        "        get = data.get",
        "        kw = {}",
    ]
    for number, (attr, key, hook, inner) in enumerate(specs):
        names[f"h{number}"], names[f"t{number}"] = hook, inner
        convert = f"h{number}(v, t{number})"
        if inner is datetime:
            names[f"p{number}"] = _parse_timestamp_cached
            convert = f"p{number}(v) if type(v) is str else {convert}"
        elif inner in _AS_DECODED:
            names[f"k{number}"] = inner
            convert = f"v if type(v) is k{number} else {convert}"
        elif _is_literal(inner):
            names[f"a{number}"] = frozenset(get_args(inner))
            convert = f"v if v in a{number} else {convert}"
        elif get_origin(inner) is list and len(get_args(inner)) == 1:
            element = get_args(inner)[0]
            if _is_model(element):
                names[f"e{number}"] = conv.get_structure_hook(element)
                convert = f"[e{number}(x, None) for x in v] if type(v) is list else {convert}"
        lines += [
            f"        v = get({key!r})",
            "        if v is not None:",
            f"            kw[{attr!r}] = {convert}",
        ]
    lines += [
        "        if data.keys() <= known:",
        "            extra = {}",
    ]
    if strict:
        lines += ["        else:", "            return careful(data, _)"]
    else:
        lines += [
            "        else:",
            "            extra = {k: v for k, v in data.items() if k not in known}",
        ]
    lines += [
        "        return cls(**kw, extra=extra, raw=data)",
        "    except Exception:",
        "        return careful(data, _)",
    ]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<structure {cls.__qualname__}>", "exec"), names, namespace)
    function: Callable[[Any, Any], Any] = namespace["structure"]
    return function


converter: cattrs.Converter = make_converter()
"""The converter every part of the SDK uses; public for users who structure payloads themselves."""

strict_converter: cattrs.Converter = make_converter(strict=True)
"""Like :data:`converter`, but unknown keys and enumerated values raise DecodeError (for tests)."""


def structure(data: Any, cls: type[T]) -> T:
    """Structure ``data`` into ``cls`` with the default converter."""
    return converter.structure(data, cls)
