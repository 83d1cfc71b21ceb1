"""JSON request bodies with ASP.NET-style validation errors.

ASP.NET Web API binds a JSON body to a model: property names match case-insensitively,
numbers given as strings convert, and every problem becomes a ModelState entry keyed
``<model>.<property>`` (``apiOrder.orderNumber``). :class:`Body` does the same and collects
every problem so that one 400 reports all of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ..._time import parse_ts
from ...normalize import ci
from ...rates import DIMENSION_UNITS, WEIGHT_UNITS, to_ounces
from ..responses import bad_request

ADDRESS_REQUIRED: tuple[str, ...] = ("name", "street1", "city", "postalCode", "country")
"""The address fields a label or warehouse needs."""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Body:
    """A JSON object body bound to ``model`` (the ModelState key prefix), with errors."""

    def __init__(self, data: Mapping[str, Any], model: str) -> None:
        self.data = data
        self.model = model
        self.errors: dict[str, list[str]] = {}

    def key(self, name: str) -> str:
        """The ModelState key of a property: ``<model>.<name>``."""
        return f"{self.model}.{name}" if self.model else name

    def error(self, name: str, message: str) -> None:
        """Record a problem with property ``name``."""
        self.errors.setdefault(self.key(name), []).append(message)

    def raw(self, name: str) -> Any:
        """The property's value as sent (case-insensitive name; None when absent)."""
        return ci(self.data, name)

    def _missing(self, name: str, required: bool) -> bool:
        value = self.raw(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if required:
                self.error(name, f"The {name} field is required.")
            return True
        return False

    def _invalid(self, name: str, value: Any, target: str) -> None:
        self.error(
            name,
            f"Could not convert {_json_type(value)} to {target}: {value!r}. Path '{name}'.",
        )

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        """A string property (numbers convert, as JSON.NET converts them)."""
        if self._missing(name, required):
            return None
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self._invalid(name, value, "String")
            return None
        text = str(value)
        if max_len is not None and len(text) > max_len:
            self.error(
                name, f"The field {name} must be a string with a maximum length of {max_len}."
            )
        return text

    def integer(
        self, name: str, *, required: bool = False, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        """An integer property (integral numbers and numeric strings convert)."""
        if self._missing(name, required):
            return None
        value = self.raw(name)
        result: int | None = None
        if isinstance(value, bool):
            result = None
        elif isinstance(value, int):
            result = value
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        elif isinstance(value, str):
            try:
                result = int(value.strip())
            except ValueError:
                result = None
        if result is None:
            self._invalid(name, value, "Int32")
            return None
        if (lo is not None and result < lo) or (hi is not None and result > hi):
            self.error(name, f"The field {name} must be between {lo} and {hi}.")
            return None
        return result

    def number(
        self,
        name: str,
        *,
        required: bool = False,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float | None:
        """A decimal property (numeric strings convert)."""
        if self._missing(name, required):
            return None
        value = self.raw(name)
        result: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                result = None
        if result is None or not math.isfinite(result):
            self._invalid(name, value, "Decimal")
            return None
        if (lo is not None and result < lo) or (hi is not None and result > hi):
            self.error(name, f"The field {name} must be between {lo} and {hi}.")
            return None
        return result

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        """A boolean property ("true"/"false" strings convert)."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self._invalid(name, value, "Boolean")
        return default

    def date(self, name: str, *, required: bool = False) -> int | None:
        """A date or timestamp property as Pacific wall-clock milliseconds."""
        if self._missing(name, required):
            return None
        value = self.raw(name)
        if not isinstance(value, str):
            self._invalid(name, value, "DateTime")
            return None
        try:
            return parse_ts(value)
        except ValueError:
            self._invalid(name, value, "DateTime")
            return None

    def choice(self, name: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        """A property restricted to ``choices`` (case-insensitive); the canonical spelling."""
        text = self.text(name, required=required)
        if text is None:
            return None
        for c in choices:
            if c.lower() == text.strip().lower():
                return c
        self.error(name, f"The value '{text}' is not valid for {name}.")
        return None

    def mapping(self, name: str, *, required: bool = False) -> Mapping[str, Any] | None:
        """An object property (an empty array counts as absent, as JSON.NET treats it)."""
        value = self.raw(name)
        if value is None or value == []:
            if required:
                self.error(name, f"The {name} field is required.")
            return None
        if not isinstance(value, Mapping):
            self._invalid(name, value, "Object")
            return None
        return value

    def int_list(self, name: str, *, required: bool = False) -> list[int] | None:
        """An array of integers (required: at least one)."""
        value = self.raw(name)
        if value is None or value == []:
            if required:
                self.error(name, f"The {name} field is required.")
            return None
        if not isinstance(value, list):
            self._invalid(name, value, "Int32[]")
            return None
        out: list[int] = []
        for k, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int | str):
                self._invalid(f"{name}[{k}]", item, "Int32")
                continue
            try:
                out.append(int(item))
            except ValueError:
                self._invalid(f"{name}[{k}]", item, "Int32")
        return out

    def address(
        self,
        name: str,
        *,
        required: bool = False,
        fields: tuple[str, ...] = ADDRESS_REQUIRED,
    ) -> Mapping[str, Any] | None:
        """An Address object whose ``fields`` must be present and non-empty."""
        value = self.mapping(name, required=required)
        if value is None:
            return None
        for field in fields:
            v = ci(value, field)
            if v is None or (isinstance(v, str) and not v.strip()):
                self.error(f"{name}.{field}", f"The {field} field is required.")
        return value

    def ounces(self, name: str, *, required: bool = False) -> float | None:
        """A Weight object ``{value, units}`` as ounces (value must be positive)."""
        value = self.mapping(name, required=required)
        if value is None:
            return None
        raw, units = ci(value, "value"), str(ci(value, "units") or "ounces")
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            self.error(f"{name}.value", "The weight must be a number greater than 0.")
            return None
        if units.lower() not in WEIGHT_UNITS:
            self.error(
                f"{name}.units", f"The value '{units}' is not valid: one of {list(WEIGHT_UNITS)}."
            )
            return None
        return to_ounces(float(raw), units)

    def dimensions(self, name: str) -> tuple[float, float, float] | None:
        """A Dimensions object as (length, width, height) in inches, or None."""
        value = self.mapping(name)
        if value is None:
            return None
        units = str(ci(value, "units") or "inches").lower()
        if units not in DIMENSION_UNITS:
            self.error(f"{name}.units", f"The value '{units}' is not valid for units.")
            return None
        out: list[float] = []
        for field in ("length", "width", "height"):
            v = ci(value, field)
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                self.error(f"{name}.{field}", f"The {field} must be a number greater than 0.")
                return None
            out.append(float(v) * DIMENSION_UNITS[units])
        return out[0], out[1], out[2]


async def read_json(request: web.Request, model: str) -> tuple[Any, web.Response | None]:
    """The request's JSON body, or a 400 for an empty or malformed one."""
    raw = await request.read()
    if not raw.strip():
        return None, bad_request({model: ["A non-empty request body is required."]})
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as exc:
        char = raw.strip()[:1].decode("latin-1")
        return None, bad_request(
            {
                model: [
                    f"Unexpected character encountered while parsing value: {char}. "
                    f"Path '', line 1, position 1. ({exc})"
                ]
            }
        )


async def read_object(request: web.Request, model: str) -> tuple[Body | None, web.Response | None]:
    """The request's JSON object body bound to ``model``, or the 400 to answer instead."""
    data, problem = await read_json(request, model)
    if problem is not None:
        return None, problem
    if not isinstance(data, dict):
        return None, bad_request(
            {
                model: [
                    f"Cannot deserialize the current JSON {_json_type(data)} into type "
                    f"'{model}' because the type requires a JSON object (e.g. "
                    '{"name":"value"}) to deserialize correctly.'
                ]
            }
        )
    return Body(data, model), None
