"""Binding request bodies to typed models, as ASP.NET Web API and Json.NET bind them.

ShipStation's V1 API is ASP.NET Web API (its error bodies say so): a JSON body is read by
Json.NET into typed .NET models, so ``"amountPaid": "19.98"`` binds to a decimal and comes
back as the number 19.98, and a value that cannot convert becomes a ModelState entry keyed
by the action parameter and the JSON path (``apiOrder.shipTo.residential``). Every write
handler reads its body through :func:`bind` with a model of :mod:`.models`; the handlers
then see typed values only.

Json.NET's conversions (``JsonReader.ReadAsInt32``, ``ReadAsDecimal``, ``ReadAsBoolean``,
``ReadAsString``, ``ReadAsDateTime``), followed here:

- Int32: JSON integers in range; strings ``int.TryParse`` reads (sign, surrounding white
  space). A JSON number with a fraction or exponent is an error ("Input string '2.5' is not
  a valid integer."), as are booleans, objects and arrays.
- Decimal: numbers; strings ``decimal.TryParse`` reads (sign, thousands separators, a point,
  an exponent, surrounding white space). A numeric string binds to an integer when whole
  (``"20"``, ``"20.00"`` and ``20.0`` -> 20), else to a float: ShipStation writes money
  without trailing zeros.
- Boolean: true and false; the strings "true" and "false" in any case (``bool.TryParse``);
  numbers, non-zero being true (``Convert.ToBoolean``). ``"yes"`` is an error.
- String: strings; numbers and booleans become their JSON text; objects and arrays are errors.
- Guid: strings ``Guid.Parse`` reads (32 hex digits, bare, hyphenated as 8-4-4-4-12, or that
  inside braces or parentheses), then written as .NET writes a Guid (lower case, 8-4-4-4-12);
  anything else is an error ("Error converting value "nope" to type 'System.Guid'.").
- DateTime: strings ``DateTime.TryParse`` reads: here the formats of ``_time.parse_ts`` and
  US ``M/d/yyyy [h:mm[:ss] [AM|PM]]`` (rewritten as ISO text); anything else is an error.
- An object binds property by property, names matched case-insensitively (the last of two
  spellings wins); properties the model lacks are kept as sent for the sandbox's handlers
  (Json.NET ignores them). A list binds item by item.
- An empty string binds as null for every scalar type, and null stays null.

Guesses, marked [U] in the reference:

- Every property is taken as nullable (ShipStation's models are unpublished), so null never
  fails to bind; an empty array where an object belongs binds as null (PHP clients send
  ``[]`` for an empty object), where Json.NET would refuse it.
- Messages are Json.NET's words without its ``, line L, position P`` suffix.
- Any binding error answers 400 with every binding error, before the handler's own checks
  run (Web API would run the validators too; which of the two ShipStation reports is
  unconfirmed). So one order that does not bind fails a whole createorders call, as Web API
  fails a list parameter, with keys ``apiOrders[k].<path>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

import attrs

from .._time import parse_ts

ScalarKind = Literal["string", "int", "decimal", "bool", "datetime", "guid"]

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
DECIMAL_MAX: Final = Decimal("79228162514264337593543950335")
"""The largest .NET decimal."""

_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_DECIMAL_TEXT = re.compile(
    r"\s*[+-]?(?=[0-9,]*\.?[0-9])[0-9,]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?\s*"
)
_GUID_TEXT = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_US_DATE = re.compile(
    r"\s*(\d{1,2})[/-](\d{1,2})[/-](\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?\s*"
)


class Unbound(ValueError):
    """A value that does not convert to its property's type; the message is Json.NET's."""


@attrs.frozen
class Scalar:
    """A .NET scalar type: string, Int32, decimal, bool or DateTime."""

    kind: ScalarKind

    @property
    def type_name(self) -> str:
        """The .NET name, as Json.NET's messages give it."""
        return _TYPE_NAMES[self.kind]


_TYPE_NAMES: dict[str, str] = {
    "string": "System.String",
    "int": "System.Int32",
    "decimal": "System.Decimal",
    "bool": "System.Boolean",
    "datetime": "System.DateTime",
    "guid": "System.Guid",
}

STRING: Final = Scalar("string")
INT: Final = Scalar("int")
DECIMAL: Final = Scalar("decimal")
BOOL: Final = Scalar("bool")
DATETIME: Final = Scalar("datetime")
GUID: Final = Scalar("guid")


@attrs.frozen
class ListOf:
    """A ``List<T>`` property."""

    item: FieldType

    @property
    def type_name(self) -> str:
        """The .NET name, as Json.NET's messages give it."""
        return f"System.Collections.Generic.List`1[{self.item.type_name}]"


@attrs.frozen
class Model:
    """A .NET class: its name and its properties' types (``None``: anything, kept as sent)."""

    name: str
    fields: Mapping[str, FieldType | None]
    by_lower: Mapping[str, str] = attrs.field(
        init=False,
        default=attrs.Factory(lambda self: {k.lower(): k for k in self.fields}, takes_self=True),
    )

    @property
    def type_name(self) -> str:
        """The .NET name, as Json.NET's messages give it."""
        return self.name


FieldType = Scalar | ListOf | Model


def join_path(path: str, name: str | int) -> str:
    """Json.NET's path of a property (``shipTo.residential``) or an item (``items[0]``)."""
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def model_state_key(parameter: str, path: str) -> str:
    """The ModelState key Web API gives an error at ``path`` of ``parameter``."""
    if not path:
        return parameter
    return parameter + path if path.startswith("[") else f"{parameter}.{path}"


def _token(value: Any) -> str:
    """Json.NET's name of the token ``value`` was read as."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, list):
        return "StartArray"
    if isinstance(value, Mapping):
        return "StartObject"
    return "String"


def _json_text(value: Any) -> str:
    """A scalar as JSON text (lower-case booleans, as Json.NET reads them into strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def to_int(value: Any) -> int | None:
    """A value bound to an Int32 property (None for null); raises :class:`Unbound`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unbound(f"Error reading integer. Unexpected token: {_token(value)}.")
    if isinstance(value, float):
        raise Unbound(f"Input string '{_json_text(value)}' is not a valid integer.")
    if isinstance(value, str):
        if not _INT_TEXT.fullmatch(value):
            raise Unbound(f"Could not convert string to integer: {value}.")
        number = int(value)
        if not INT32_MIN <= number <= INT32_MAX:
            raise Unbound(f"Could not convert string to integer: {value}.")
        return number
    if not INT32_MIN <= value <= INT32_MAX:
        raise Unbound(f"JSON integer {value} is too large or small for an Int32.")
    return value


def to_decimal(value: Any) -> int | float | None:
    """A value bound to a decimal property (None for null); raises :class:`Unbound`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unbound(f"Error reading decimal. Unexpected token: {_token(value)}.")
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            raise Unbound(f"Could not convert string to decimal: {value}.")
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise Unbound(f"Could not convert string to decimal: {value}.") from None
        if abs(number) > DECIMAL_MAX:
            raise Unbound(f"Could not convert string to decimal: {value}.")
        return int(number) if number == number.to_integral_value() else float(number)
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > DECIMAL_MAX:
        raise Unbound("Value was either too large or too small for a Decimal.")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 10.0 is written 10, as "10.00" is
    return value


def to_bool(value: Any) -> bool | None:
    """A value bound to a boolean property (None for null); raises :class:`Unbound`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
        raise Unbound(f"Could not convert string to boolean: {value}.")
    raise Unbound(f"Error reading boolean. Unexpected token: {_token(value)}.")


def to_text(value: Any) -> str | None:
    """A value bound to a string property (None for null); raises :class:`Unbound`."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return _json_text(value)
    raise Unbound(f"Error reading string. Unexpected token: {_token(value)}.")


def to_datetime(value: Any) -> str | None:
    """A value bound to a DateTime property, as text ``_time.parse_ts`` reads.

    None for null; raises :class:`Unbound`. Text ``parse_ts`` reads is kept as sent (its
    fractional digits too); a US ``M/d/yyyy`` date becomes ISO text.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unbound(f"Error reading date. Unexpected token: {_token(value)}.")
    try:
        parse_ts(value)
        return value
    except (ValueError, OverflowError):
        pass
    us = _US_DATE.fullmatch(value)
    if us is not None:
        month, day, year, hour, minute, second, half = us.groups()
        h = int(hour or 0)
        if half is not None and 1 <= h <= 12:
            h = h % 12 + (12 if half.lower() == "pm" else 0)
        try:
            moment = datetime(int(year), int(month), int(day), h, int(minute or 0))
            moment = moment.replace(second=int(second or 0))
        except ValueError:
            pass
        else:
            return moment.isoformat()
    raise Unbound(f"Could not convert string to DateTime: {value}.")


def to_guid(value: Any) -> str | None:
    """A value bound to a Guid property, in .NET's own spelling (None for null).

    Raises :class:`Unbound`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text[:1] + text[-1:] in ("{}", "()") and "-" in text:
            text = text[1:-1]  # Guid.Parse's "B" and "P" formats (hyphenated inside)
        if _GUID_TEXT.fullmatch(text):
            h = text.replace("-", "").lower()
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    raise Unbound(f"Error converting value {_shown(value)} to type 'System.Guid'.")


_CONVERTERS = {
    "guid": to_guid,
    "string": to_text,
    "int": to_int,
    "decimal": to_decimal,
    "bool": to_bool,
    "datetime": to_datetime,
}


def _shown(value: Any) -> str:
    """A value as Json.NET's "Error converting value ..." shows it."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "True" if value else "False"
    return _json_text(value)


class Binder:
    """Binds JSON values to models, collecting ModelState errors keyed under ``parameter``."""

    def __init__(self, parameter: str) -> None:
        self.parameter = parameter
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        """Record a binding error at ``path``."""
        text = f"{message} Path '{path}'."
        self.errors.setdefault(model_state_key(self.parameter, path), []).append(text)

    def bind(self, value: Any, kind: FieldType | None, path: str = "") -> Any:
        """``value`` bound to ``kind`` (None: kept as sent); errors go to :attr:`errors`.

        A value that does not bind is recorded and bound as None.
        """
        if kind is None or value is None:
            return value
        if isinstance(kind, Scalar):
            try:
                return _CONVERTERS[kind.kind](value)
            except Unbound as exc:
                self.error(path, str(exc))
                return None
        if isinstance(kind, ListOf):
            return self._list(value, kind, path)
        return self._object(value, kind, path)

    def _list(self, value: Any, kind: ListOf, path: str) -> list[Any] | None:
        if isinstance(value, list):
            return [self.bind(v, kind.item, join_path(path, k)) for k, v in enumerate(value)]
        if isinstance(value, Mapping):
            # Json.NET has read the first property name when it finds the type wrong.
            first = next(iter(value), None)
            self.error(
                join_path(path, first) if first else path,
                'Cannot deserialize the current JSON object (e.g. {"name":"value"}) into '
                f"type '{kind.type_name}' because the type requires a JSON array (e.g. "
                "[1,2,3]) to deserialize correctly.",
            )
            return None
        self.error(path, f"Error converting value {_shown(value)} to type '{kind.type_name}'.")
        return None

    def _object(self, value: Any, kind: Model, path: str) -> dict[str, Any] | None:
        if isinstance(value, list):
            if not value:
                return None
            self.error(
                path,
                "Cannot deserialize the current JSON array (e.g. [1,2,3]) into type "
                f"'{kind.name}' because the type requires a JSON object (e.g. "
                '{"name":"value"}) to deserialize correctly.',
            )
            return None
        if not isinstance(value, Mapping):
            self.error(path, f"Error converting value {_shown(value)} to type '{kind.name}'.")
            return None
        out: dict[str, Any] = {}
        for name, item in value.items():
            canonical = kind.by_lower.get(str(name).lower())
            if canonical is None:
                out[name] = item
                continue
            out.pop(canonical, None)  # a second spelling replaces the first, as Json.NET sets
            field = kind.fields[canonical]
            if isinstance(field, Scalar) and item is not None:
                # The common case inline: the path is only spelt out for an error.
                try:
                    out[canonical] = _CONVERTERS[field.kind](item)
                except Unbound as exc:
                    self.error(join_path(path, name), str(exc))
                    out[canonical] = None
            else:
                out[canonical] = self.bind(item, field, join_path(path, name))
        return out


def bind(value: Any, kind: FieldType, parameter: str) -> tuple[Any, dict[str, list[str]]]:
    """``value`` bound to ``kind`` and the ModelState errors (keyed under ``parameter``)."""
    binder = Binder(parameter)
    bound = binder.bind(value, kind)
    return bound, binder.errors
