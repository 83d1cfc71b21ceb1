"""Request bodies bound to typed models, with ASP.NET-style validation errors.

Every write handler reads its body with :func:`read_object` (or :func:`read_bound`) and a
model of :mod:`..models`: the body is read by its media type (:mod:`..request_body`) and
bound to the model as Json.NET binds it (:mod:`..binding`: numeric strings become numbers,
"true"/"false" booleans, anything that does not convert a 400 ModelState entry keyed
``<parameter>.<path>``). :class:`Body` then checks the typed values and collects every
problem so that one 400 reports all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ..._time import parse_ts
from ...normalize import ci
from ...rates import DIMENSION_UNITS, WEIGHT_UNITS, to_ounces
from ..binding import FieldType, Model, Unbound, bind, to_bool, to_decimal, to_int, to_text
from ..request_body import BodyProblem, decode, parse_json, read_parsed
from ..responses import bad_request

ADDRESS_REQUIRED: tuple[str, ...] = ("name", "street1", "city", "postalCode", "country")
"""The address fields a label or warehouse needs."""


class Body:
    """A JSON object body bound to ``model`` (the ModelState key prefix), with errors.

    ``unbound``: the binder's errors; they start :attr:`errors`, and the properties they name
    get no further messages.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        model: str,
        unbound: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.data = data
        self.model = model
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (unbound or {}).items()}
        # A property that did not bind is reported once, by the binder: its value is None,
        # and checks of it would only add "required" to the conversion error.
        self._unbound = frozenset(self.errors)

    def key(self, name: str) -> str:
        """The ModelState key of a property: ``<model>.<name>``."""
        return f"{self.model}.{name}" if self.model else name

    def error(self, name: str, message: str) -> None:
        """Record a problem with property ``name`` (unless it failed to bind)."""
        key = self.key(name)
        if key not in self._unbound:
            self.errors.setdefault(key, []).append(message)

    def raw(self, name: str) -> Any:
        """The property's bound value (case-insensitive name; None when absent)."""
        return ci(self.data, name)

    def _missing(self, name: str, required: bool) -> bool:
        value = self.raw(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if required:
                self.error(name, f"The {name} field is required.")
            return True
        return False

    def _invalid(self, name: str, problem: Unbound) -> None:
        self.error(name, f"{problem} Path '{name}'.")

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        """A string property (numbers convert, as Json.NET converts them)."""
        if self._missing(name, required):
            return None
        try:
            text = to_text(self.raw(name))
        except Unbound as problem:
            self._invalid(name, problem)
            return None
        if text is not None and max_len is not None and len(text) > max_len:
            self.error(
                name, f"The field {name} must be a string with a maximum length of {max_len}."
            )
        return text

    def integer(
        self, name: str, *, required: bool = False, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        """An Int32 property (numeric strings convert)."""
        if self._missing(name, required):
            return None
        try:
            result = to_int(self.raw(name))
        except Unbound as problem:
            self._invalid(name, problem)
            return None
        if result is None:
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
        try:
            value = to_decimal(self.raw(name))
        except Unbound as problem:
            self._invalid(name, problem)
            return None
        if value is None:
            return None
        result = float(value)
        if (lo is not None and result < lo) or (hi is not None and result > hi):
            self.error(name, f"The field {name} must be between {lo} and {hi}.")
            return None
        return result

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        """A boolean property ("true"/"false" strings convert)."""
        try:
            value = to_bool(self.raw(name))
        except Unbound as problem:
            self._invalid(name, problem)
            return default
        return default if value is None else value

    def date(self, name: str, *, required: bool = False) -> int | None:
        """A date or timestamp property as Pacific wall-clock milliseconds."""
        if self._missing(name, required):
            return None
        value = self.raw(name)
        try:
            return parse_ts(str(value))
        except (ValueError, OverflowError):
            self._invalid(name, Unbound(f"Could not convert string to DateTime: {value}."))
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
            self._invalid(name, Unbound(f"Error converting value {value!r} to type 'Object'."))
            return None
        return value

    def int_list(self, name: str, *, required: bool = False) -> list[int] | None:
        """An array of Int32 (required: at least one)."""
        value = self.raw(name)
        if value is None or value == []:
            if required:
                self.error(name, f"The {name} field is required.")
            return None
        if not isinstance(value, list):
            self._invalid(name, Unbound("Error converting value to type 'List<Int32>'."))
            return None
        out: list[int] = []
        for k, item in enumerate(value):
            try:
                number = to_int(item)
            except Unbound as problem:
                self._invalid(f"{name}[{k}]", problem)
                continue
            if number is not None:
                out.append(number)
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


async def _bind_body(
    request: web.Request, parameter: str, kind: FieldType
) -> tuple[Any, dict[str, list[str]], web.Response | None]:
    """(the body bound to ``kind`` or None when empty, binding errors, the 400/415 instead)."""
    raw = await request.read()
    try:
        data = read_parsed(request, raw, parameter, kind)
    except BodyProblem as problem:
        return None, {}, problem.response
    if data is None:
        return None, {}, None
    bound, errors = bind(data, kind, parameter)
    return bound, errors, None


async def read_bound(
    request: web.Request, parameter: str, kind: FieldType
) -> tuple[Any, web.Response | None]:
    """The body bound to ``kind`` (None when empty), or the 400/415 to answer instead.

    ``parameter`` is the action parameter's name, the ModelState keys' prefix. Any binding
    error is a 400 at once.
    """
    bound, errors, problem = await _bind_body(request, parameter, kind)
    if problem is None and errors:
        problem = bad_request(errors)
    return (None, problem) if problem is not None else (bound, None)


async def read_object(
    request: web.Request, parameter: str, model: Model
) -> tuple[Body | None, web.Response | None]:
    """The body bound to ``model`` as a :class:`Body`, or the 400/415 to answer instead.

    The binding errors come with the Body (:attr:`Body.errors`): the handler adds its own
    checks' problems, and answers them all in one 400, as Web API's ModelState holds both.
    """
    bound, errors, problem = await _bind_body(request, parameter, model)
    if problem is not None:
        return None, problem
    if not isinstance(bound, dict):  # empty, or the root did not bind: nothing to check
        return None, bad_request(errors or {parameter: ["A non-empty request body is required."]})
    return Body(bound, parameter, errors), None


async def read_control_json(request: web.Request, what: str) -> tuple[Any, web.Response | None]:
    """A control API body: JSON whatever its Content-Type, or the 400 to answer instead."""
    raw = await request.read()
    if not raw.strip():
        return None, bad_request({what: ["A non-empty request body is required."]})
    try:
        return parse_json(decode(raw, request.charset), what), None
    except BodyProblem as problem:
        return None, problem.response
