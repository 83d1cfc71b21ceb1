"""Every public method's arguments checked against its annotations before anything is sent.

One mechanism for the whole public surface: :func:`checked` compiles, once per method, a check
for each parameter from its type annotation (``int``, ``str``, ``bool``, ``Decimal``, dates,
``Literal``, unions, sequences, mappings, models, and the ``TypedDict`` behind
``**options: Unpack[...]``), and runs them on every call, raising
:class:`~shipstation_async.errors.InvalidRequestError` that names the argument. On top of the
types it applies the rules no annotation says:

- :data:`RANGES`: the limits the API documents (page sizes, ids, ...), in one table;
- numbers must be finite (NaN and infinities are not JSON); ``bool`` is not an ``int``;
- text must be valid Unicode (a lone surrogate cannot be encoded); a text argument (it goes
  into a path, a query, a header or a code field) must not be blank or hold control
  characters, while text inside a body (notes, addresses) may hold line breaks;
- a datetime must be aware.

Models are checked the same way when built in code (:func:`check_model`); models read from
the server are not (they carry ``raw``).

Why not a library: typeguard and beartype check annotations, but neither checks the
``**kwargs: Unpack[TypedDict]`` every method here takes (beartype's issue 428), and both would
still need the value rules above. typeguard's ``check_type`` also re-reads the annotation on
every call (tens of microseconds for a ``list()`` with twenty filters), where the checks below
are compiled once.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import math
import re
import reprlib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs

from ._time import carries_offset, parse_timestamp
from .errors import DecodeError, InvalidRequestError
from .limits import is_seconds

F = TypeVar("F", bound=Callable[..., Any])
Check = Callable[[Any, str], None]

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
"""The largest number a .NET ``long`` holds: no id ShipStation sends can be larger."""

RANGES: dict[str, tuple[int, int]] = {
    "page": (1, INT32_MAX),
    "page_size": (1, 500),  # the API's maximum page size
    "concurrency": (1, 64),  # walkers of one stream; more only queue for the same budget
    "id": (1, INT64_MAX),  # any *_id argument (and each of *_ids)
    "marketplace_id": (0, INT64_MAX),  # 0 is a manual store's marketplace
}
"""The documented ranges of whole-number arguments, by argument name (``id``: any id)."""

MAX_QUERY = 2048
"""The longest query string, encoded: IIS, which serves the API, refuses longer ones by
default (its requestFiltering maxQueryString)."""
MAX_TEXT = MAX_QUERY
"""The longest text argument: any one may go into a query string. Text inside a body (notes,
addresses) is not limited."""

MAX_ORDERS_PER_BATCH = 100
"""createorders takes at most this many orders."""
MAX_ORDER_NUMBER = 50
"""An orderNumber has at most this many characters."""
MIN_FUNDS, MAX_FUNDS = Decimal("10.00"), Decimal("10000.00")
"""addfunds takes from $10.00 to $10,000.00."""
MAX_RANGE_DAYS = 90
"""The longest date range one orders or shipments request may ask for."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _fail(field: str, message: str) -> typing.NoReturn:
    raise InvalidRequestError(f"{field} {message}", field=field)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
MAX_DEPTH = 32
"""How deep a mapping or list may nest in a body (ShipStation's objects nest four deep)."""


def _shown(value: Any) -> str:
    try:
        return _REPR.repr(value)  # bounded however large the value
    except Exception:  # a repr that raises
        return f"a {type(value).__name__}"


# -- scalar checks -------------------------------------------------------------------------------


def _range_for(field: str) -> tuple[int, int] | None:
    name = field.rsplit(".", 1)[-1].split("[", 1)[0]
    if name in RANGES:
        return RANGES[name]
    if name == "id" or name.endswith(("_id", "_ids")):
        return RANGES["id"]
    return None


def _check_whole(value: Any, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(field, f"must be a whole number, got {_shown(value)}")


def _check_int(value: Any, field: str) -> None:
    if type(value) is not int:
        # Not even a subclass: its own __format__ would decide what goes into a path.
        _fail(field, f"must be a whole number (an int), got {_shown(value)}")
    bounds = _range_for(field)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        _fail(field, f"must be from {bounds[0]} to {bounds[1]}, got {_shown(value)}")


def _check_float(value: Any, field: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        _fail(field, f"must be a number of seconds, got {_shown(value)}")
    if not is_seconds(value) or value < 0:
        _fail(field, f"must be a finite number of seconds >= 0, got {_shown(value)}")


def _check_decimal(value: Any, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        _fail(field, f"must be a number (Decimal), got {_shown(value)}")
    if isinstance(value, Decimal | float) and not (
        value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    ):
        _fail(field, f"must be a finite number, got {_shown(value)}")


def _check_bool(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        _fail(field, f"must be True or False, got {_shown(value)}")


def _check_text(value: Any, field: str) -> None:
    """An argument's text: non-blank, printable, valid Unicode (it may go into a URL)."""
    if not isinstance(value, str):
        _fail(field, f"must be text, got {_shown(value)}")
    if _SURROGATE.search(value):
        _fail(field, "holds a lone surrogate, which is not valid Unicode text")
    if not value.strip():
        _fail(field, "must not be empty or blank")
    if len(value) > MAX_TEXT:
        _fail(field, f"must be at most {MAX_TEXT} characters, got {len(value)}")
    if _CONTROL.search(value):
        _fail(field, "must not hold control characters (line breaks, tabs, NUL...)")


def _check_body_text(value: Any, field: str) -> None:
    """Text inside a body (notes, addresses): any valid Unicode, line breaks included."""
    if not isinstance(value, str):
        _fail(field, f"must be text, got {_shown(value)}")
    if _SURROGATE.search(value):
        _fail(field, "holds a lone surrogate, which is not valid Unicode text")


_US_DATE_TEXT = re.compile(
    r"\s*\d{1,2}/\d{1,2}/\d{4}(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?\s*"
)
"""``12/1/2026 10:00 PM``: read by the API (.NET's DateTime parsing, US culture), not by us."""


def _check_time_text(value: str, field: str) -> None:
    """A date or time already written as text in a body: one the API reads, offset-free.

    The API reads a body's times as Pacific wall-clock time: a text with a UTC offset could
    be taken for that wall time, hours off (an aware datetime is converted instead).
    """
    _check_body_text(value, field)
    try:
        parse_timestamp(value)
    except DecodeError:
        if not _US_DATE_TEXT.fullmatch(value):
            _fail(field, f"is not a date or time the API reads: {_shown(value)}")
    if carries_offset(value):
        _fail(
            field,
            f"carries a UTC offset ({_shown(value)}); the API reads body times as Pacific "
            "wall-clock time: pass an aware datetime (converted for you) or Pacific text",
        )


def _check_date(value: Any, field: str) -> None:
    if not isinstance(value, date):
        _fail(field, f"must be a date, got {_shown(value)}")
    if isinstance(value, datetime):
        _check_datetime(value, field)


def _check_datetime(value: Any, field: str) -> None:
    if not isinstance(value, datetime):
        _fail(field, f"must be a datetime, got {_shown(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        _fail(
            field,
            "is a naive datetime; pass an aware one (for example with "
            "tzinfo=ZoneInfo('America/Los_Angeles'), or datetime.now(timezone.utc))",
        )


def _check_anything(value: Any, field: str, depth: int = 0) -> None:
    """A value of a body built by hand: JSON-shaped, finite numbers, valid text."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_body_text(value, field)
    elif isinstance(value, float | Decimal):
        _check_decimal(value, field)
    elif isinstance(value, date):
        _check_date(value, field)
    elif isinstance(value, Mapping | list | tuple):
        if depth >= MAX_DEPTH:  # a cycle, or nothing the API takes
            _fail(field, f"nests deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, item in items:
            if isinstance(value, Mapping) and not isinstance(key, str):
                _fail(field, f"has a key that is not text: {_shown(key)}")
            where = f"{field}.{key}" if isinstance(value, Mapping) else f"{field}[{key}]"
            _check_anything(item, where, depth + 1)
    elif not attrs.has(type(value)):
        _fail(field, f"cannot be sent as JSON: {type(value).__name__} {_shown(value)}")


_SCALARS: dict[Any, Check] = {
    int: _check_int,
    float: _check_float,
    Decimal: _check_decimal,
    bool: _check_bool,
    date: _check_date,
    datetime: _check_datetime,
    Any: _check_anything,
}


# -- compiling an annotation -------------------------------------------------------------------


def compile_check(hint: Any, *, body: bool = False, relaxed: bool = False) -> Check:
    """The check of one annotation.

    ``body``: text is body text and whole numbers have no range (a model's fields, see the
    module docstring); ``relaxed``: enumerations take any value (a record read from the server).
    """
    if hint is str:
        return _check_body_text if body else _check_text
    if hint is int and body:
        return _check_whole  # the ranges are the arguments'; a model's fields are its own
    if hint in _SCALARS:
        return _SCALARS[hint]
    if hint is None or hint is type(None):
        return _check_none
    origin = get_origin(hint)
    if origin is Literal:
        return _relaxed_literal(get_args(hint)) if relaxed else _literal(get_args(hint))
    nested = functools.partial(compile_check, body=body, relaxed=relaxed)
    if origin in (typing.Union, types.UnionType):
        return _union([nested(a) for a in get_args(hint)], get_args(hint))
    if origin in (list, collections.abc.Sequence):
        return _sequence(nested(get_args(hint)[0]))
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return _mapping(origin)
    if typing.is_typeddict(hint):
        return typed_dict_check(hint)
    if isinstance(hint, type):
        return _instance(hint)
    raise TypeError(f"no check for the annotation {hint!r}")  # pragma: no cover


def _check_none(value: Any, field: str) -> None:
    if value is not None:
        _fail(field, f"must be None, got {_shown(value)}")


def _literal(allowed: tuple[Any, ...]) -> Check:
    choices = frozenset(allowed)

    def check(value: Any, field: str) -> None:
        try:
            # The plain value of a subclass (a str Enum's member): what is sent.
            plain = str.__str__(value) if isinstance(value, str) else value
            known = type(plain) in (str, int) and plain in choices
        except Exception:  # a hash or an __eq__ that raises
            known = False
        if not known:
            _fail(field, f"must be one of {sorted(choices, key=str)}, got {_shown(value)}")

    return check


def _relaxed_literal(allowed: tuple[Any, ...]) -> Check:
    # A record read from the server may carry a value newer than the SDK's list.
    kinds = {type(a) for a in allowed}
    return _check_body_text if kinds == {str} else _check_anything


def _union(checks: list[Check], hints: tuple[Any, ...]) -> Check:
    optional = type(None) in hints
    rest = [c for c, h in zip(checks, hints, strict=True) if h is not type(None)]

    def check(value: Any, field: str) -> None:
        if value is None and optional:
            return
        failures: list[InvalidRequestError] = []
        for one in rest:
            try:
                one(value, field)
                return
            except InvalidRequestError as exc:
                failures.append(exc)
        # A kind the value has, failing on a part of it, says the most (a mapping body's key).
        deeper = [e for e in failures if e.field != field]
        if deeper:
            raise deeper[0]
        if len(failures) == 1:
            raise failures[0]
        problems = [str(e).removeprefix(f"{field} ") for e in failures]
        _fail(field, "is none of the accepted kinds: " + "; or ".join(problems))

    return check


def _sequence(item: Check) -> Check:
    def check(value: Any, field: str) -> None:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            _fail(field, f"must be a list, got {_shown(value)}")
        for index, element in enumerate(value):
            item(element, f"{field}[{index}]")

    return check


def _mapping(origin: Any) -> Check:
    kind = collections.abc.MutableMapping if origin is collections.abc.MutableMapping else Mapping

    def check(value: Any, field: str) -> None:
        if not isinstance(value, kind):
            _fail(field, f"must be a mapping, got {_shown(value)}")
        if kind is Mapping:
            _check_anything(value, field)

    return check


def _instance(cls: type) -> Check:
    def check(value: Any, field: str) -> None:
        if not isinstance(value, cls):
            _fail(field, f"must be a {cls.__name__}, got {_shown(value)}")

    return check


def typed_dict_check(td: Any) -> Check:
    """The check of a ``TypedDict`` (the keyword options of every method): keys and values."""
    hints = typing.get_type_hints(td)
    checks = {name: compile_check(hint) for name, hint in hints.items()}

    def check(value: Any, field: str) -> None:
        if not isinstance(value, Mapping):
            _fail(field, f"must be a mapping, got {_shown(value)}")
        for key, item in value.items():
            one = checks.get(key)
            if one is None:
                _fail(str(key), f"is not an option here; the options are {sorted(checks)}")
            one(item, key)

    return check


# -- methods ---------------------------------------------------------------------------------


@attrs.frozen
class _Parameter:
    name: str
    kind: inspect._ParameterKind
    default: Any
    check: Check


class _Plan:
    """A method's compiled checks, in parameter order."""

    def __init__(self, function: Callable[..., Any]) -> None:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(function)
        self.positional: list[_Parameter] = []
        self.keywords: dict[str, _Parameter] = {}
        self.var_keyword: Check | None = None
        for name, param in list(signature.parameters.items())[1:]:  # self
            hint = hints.get(name, Any)
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                self.var_keyword = _unpacked(function, name)
                continue
            entry = _Parameter(name, param.kind, param.default, compile_check(hint))
            if param.kind is not inspect.Parameter.KEYWORD_ONLY:
                self.positional.append(entry)
            self.keywords[name] = entry
        self.name = function.__qualname__

    def check(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if len(args) > len(self.positional):
            raise InvalidRequestError(
                f"{self.name} takes at most {len(self.positional)} positional arguments, "
                f"got {len(args)}"
            )
        for param, value in zip(self.positional, args, strict=False):
            if value is not param.default:
                param.check(value, param.name)
        extra: dict[str, Any] = {}
        for name, value in kwargs.items():
            known = self.keywords.get(name)
            if known is None:
                extra[name] = value
            elif value is not known.default:
                known.check(value, name)
        if extra:
            if self.var_keyword is None:
                name = next(iter(extra))
                _fail(name, f"is not an argument of {self.name}")
            self.var_keyword(extra, "options")


def _unpacked(function: Callable[..., Any], name: str) -> Check:
    hint = typing.get_type_hints(function, include_extras=True)[name]
    args = get_args(hint)
    if get_origin(hint) is typing.Unpack and args and typing.is_typeddict(args[0]):
        return typed_dict_check(args[0])
    return _check_anything  # **kwargs: Any


def checked(function: F) -> F:
    """Wrap a public method so that its arguments are checked before its body runs.

    The checks are compiled on the first call (every annotation is resolvable by then).
    """
    plan: list[_Plan] = []

    def run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not plan:
            plan.append(_Plan(function))
        plan[0].check(args, kwargs)

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            run(args, kwargs)
            return await function(self, *args, **kwargs)

        return typing.cast(F, async_wrapper)

    @functools.wraps(function)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        run(args, kwargs)
        return function(self, *args, **kwargs)

    return typing.cast(F, wrapper)


# -- models ----------------------------------------------------------------------------------------


@functools.cache
def _model_checks(cls: type[Any], relaxed: bool) -> tuple[tuple[str, str, Any, Check], ...]:
    """(attribute, API key, annotation, check) of each field of a model."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            field.name,
            field.metadata.get("api_key") or _api_name(field.name),
            hints[field.name],
            compile_check(hints[field.name], body=True, relaxed=relaxed),
        )
        for field in attrs.fields(cls)
        if field.name not in ("extra", "raw")
    )


def _api_name(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def check_model(instance: Any, *, sending: bool = False) -> None:
    """Check a model against its annotations.

    When built: a model built in code is checked; one read from the server (it carries
    ``raw``) is taken as sent. When ``sending``, every model is checked, one read from the
    server (or changed with ``attrs.evolve``) with its enumerations taken as they come.
    """
    read = getattr(instance, "raw", None) is not None
    if read and not sending:
        return
    cls: Any = type(instance)
    for name, _, _, check in _model_checks(cls, read):
        value = getattr(instance, name)
        if value is not None:
            check(value, f"{cls.__name__}.{name}")


def check_mapping_as(cls: type[Any], value: Mapping[str, Any], field: str, depth: int = 0) -> None:
    """Check a body given as a mapping with the API's keys against the model ``cls``.

    The keys the model knows are checked as its fields are (a mapping standing for a nested
    model, recursively); the others only as JSON. Enumerations take any value (the mapping
    may come from a record read from the server).
    """
    if depth >= MAX_DEPTH:
        _fail(field, f"nests deeper than {MAX_DEPTH} levels")
    model_class: Any = cls
    checks = _model_checks(model_class, True)
    known = {key: (hint, check) for _, key, hint, check in checks}
    for key, item in value.items():
        if not isinstance(key, str):
            _fail(field, f"has a key that is not text: {_shown(key)}")
        where = f"{field}.{key}"
        entry = known.get(key)
        if entry is None:
            # A model's own name for a field the API spells otherwise ("order_key"): the
            # server would ignore it, and a write could then create instead of update.
            api_key = next((k for name, k, _, _ in checks if name == key and k != key), None)
            if api_key is not None:
                _fail(where, f"is the model's name for the API's key {api_key!r}: use that")
        if entry is None or item is None:
            _check_anything(item, where, depth + 1)
            continue
        hint, check = entry
        if isinstance(item, str) and not item.strip() and str not in (hint, *get_args(hint)):
            # A blank for an absent value, as records carry them (``"shipDate": ""``,
            # ``"statusMappings": ""``): sent back as received, as a model read does.
            _check_body_text(item, where)
            continue
        model = _model_in(hint)
        if model is not None and isinstance(item, Mapping):
            if _is_list_of(hint):
                _fail(where, "must be a list of objects, not one object")
            check_mapping_as(model, item, where, depth + 1)
        elif model is not None and isinstance(item, list) and not item:
            continue  # PHP writes an empty object as [] (the documented examples do)
        elif model is not None and isinstance(item, list) and _is_list_of(hint):
            for index, element in enumerate(item):
                if isinstance(element, Mapping):
                    check_mapping_as(model, element, f"{where}[{index}]", depth + 1)
                else:
                    check([element], where)
        elif isinstance(item, str) and hint_takes_datetime(hint):
            _check_time_text(item, where)
        else:
            check(item, where)


def _model_in(hint: Any) -> type[Any] | None:
    for arg in (hint, *get_args(hint), *(x for a in get_args(hint) for x in get_args(a))):
        if isinstance(arg, type) and attrs.has(arg):
            return arg
    return None


def _is_list_of(hint: Any) -> bool:
    return any(get_origin(a) in (list, collections.abc.Sequence) for a in (hint, *get_args(hint)))


def hint_takes_datetime(hint: Any) -> bool:
    """Whether an annotation takes a datetime or a date (sent as text)."""
    return any(a in (datetime, date) for a in (hint, *get_args(hint)))
