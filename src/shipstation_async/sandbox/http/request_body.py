"""Reading request bodies: their size, their time, their media type, JSON and forms.

What is known of ShipStation here, and what the sandbox guesses ([U]):

- Bodies are read by ASP.NET Web API formatters (reference §5: its error shapes). A body in a
  media type no formatter reads gets 415 ``{"Message": "The request entity's media type
  'text/plain' is not supported for this resource.", "ExceptionMessage": "No
  MediaTypeFormatter is available to read an object of type 'ApiOrder' from content with
  media type 'text/plain'.", ...}`` (Web API's words). The sandbox reads
  ``application/json`` and ``text/json`` (Web API's JSON formatter) and
  ``application/x-www-form-urlencoded`` (Web API's form formatter, which binds
  ``billTo[name]=...`` or ``billTo.name=...`` fields to the same model). Everything else is
  415: XML too ([U]: Web API reads XML by default; whether ShipStation kept that formatter is
  unknown, and the sandbox reads none). A non-empty body **without** a Content-Type is 415
  for 'application/octet-stream', as Web API treats it ([U]); an empty body is never 415.
- Malformed JSON is a 400 ModelState entry in Json.NET's words ("Unexpected character
  encountered while parsing value: }. Path 'orderNumber', line 1, position 16."), keyed by
  the parameter and the path where reading stopped; never Python's parser text. Json.NET's
  exact message varies with the mistake: the sandbox has two ([U] wording).
- Nesting deeper than 256 is a 400: Web API's JSON formatter sets Json.NET's ``MaxDepth`` to
  256 ("The reader's MaxDepth of 256 has been exceeded."). ``NaN`` and ``Infinity`` are
  refused (the sandbox's choice: they would not survive the trip back as JSON).
- Bytes that are not UTF-8 are read as U+FFFD, as .NET's decoder reads them; a UTF-8 byte
  order mark is skipped.
- Size: a body over the limit (default 1 MiB, ``Sandbox(max_body_size=...)``; ShipStation's
  is unknown, [U]) gets 413, on every route including the control API, as the HTML page a
  front proxy sends ([U]: the page's wording).
- Time: a body not received in whole within ``body_timeout`` seconds (default 30) of the
  server starting to read it gets 408 and the connection is closed (a front proxy's
  ``client_body_timeout``; ShipStation's value and answer are unknown, [U]). Slow headers are
  not timed out (aiohttp offers no such limit).
- A body the server cannot decode (a broken chunked encoding, a bad ``Content-Encoding``) is
  a 400.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import web

from .binding import FieldType, model_state_key
from .responses import bad_request, gateway_error, json_response

JSON_MEDIA_TYPES: Final = frozenset(("application/json", "text/json"))
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
NO_MEDIA_TYPE: Final = "application/octet-stream"
"""The media type Web API assumes for a body sent without a Content-Type."""
MAX_DEPTH: Final = 256
"""Web API's JSON formatter's MaxDepth."""


class BodyProblem(Exception):
    """A body that cannot be read; ``response`` is what to answer."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def read_body(request: web.Request, seconds: float) -> web.Response | None:
    """Read the whole body within ``seconds`` (aiohttp keeps it for later reads).

    Returns the response to answer instead: 408 (and the connection closed) when it is not
    received in time, 413 when it is over the application's ``client_max_size``, 400 when it
    cannot be decoded.
    """
    try:
        async with asyncio.timeout(seconds):
            await request.read()
    except TimeoutError:
        response = gateway_error(408)
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        response = gateway_error(413)
        response.force_close()  # the rest of the body is not worth reading
        return response
    except Exception:  # a broken chunk, a bad Content-Encoding, a connection lost
        response = bad_request({"request": ["The request body could not be read."]})
        response.force_close()
        return response
    return None


def media_type(request: web.Request) -> str:
    """The body's media type, lower case; Web API's ``application/octet-stream`` when none."""
    if "Content-Type" not in request.headers:
        return NO_MEDIA_TYPE
    return request.content_type.lower()


def _type_name(kind: FieldType) -> str:
    return kind.type_name


def unsupported_media_type(media: str, kind: FieldType) -> web.Response:
    """415 as ASP.NET Web API answers a body no formatter reads."""
    return json_response(
        {
            "Message": f"The request entity's media type '{media}' is not supported for this "
            "resource.",
            "ExceptionMessage": "No MediaTypeFormatter is available to read an object of type "
            f"'{_type_name(kind)}' from content with media type '{media}'.",
            "ExceptionType": "System.Net.Http.UnsupportedMediaTypeException",
            "StackTrace": None,
        },
        status=415,
    )


def decode(raw: bytes, charset: str | None) -> str:
    """The body as text: its charset (UTF-8 by default, a BOM skipped), bad bytes as U+FFFD."""
    encoding = "utf-8-sig"
    if charset:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = "utf-8"
        encoding = "utf-8-sig" if name == "utf-8" else name
    return raw.decode(encoding, errors="replace")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Unexpected character encountered while parsing value: {name[0]}.")


def parse_json(text: str, parameter: str) -> Any:
    """Parse a JSON body; raises :class:`BodyProblem` with Json.NET-style 400s."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BodyProblem(_syntax_error(text, exc, parameter)) from None
    except RecursionError:
        raise BodyProblem(_too_deep(text, parameter)) from None
    except ValueError as exc:  # NaN, or an integer of thousands of digits
        message = str(exc) if str(exc).startswith("Unexpected") else "Could not read a number."
        raise BodyProblem(bad_request({parameter: [f"{message} Path ''."]})) from None
    if text.count("{") + text.count("[") > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise BodyProblem(_too_deep(text, parameter))
    return value


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar: 0), without recursion.

    Stops looking once past ``limit`` (the result is then ``limit + 1``).
    """
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > limit:
                return deepest
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return deepest


def _too_deep(text: str, parameter: str) -> web.Response:
    opened = position = 0
    while position < len(text):  # where the 257th level opens
        opened += text[position] in "{["
        if opened > MAX_DEPTH:
            break
        position += 1
    path = json_path(text, position)
    return bad_request(
        {
            model_state_key(parameter, path): [
                f"The reader's MaxDepth of {MAX_DEPTH} has been exceeded. Path '{path}', "
                f"line 1, position {position + 1}."
            ]
        }
    )


def _syntax_error(text: str, exc: json.JSONDecodeError, parameter: str) -> web.Response:
    path = json_path(text, exc.pos)
    where = f"Path '{path}', line {exc.lineno}, position {exc.colno}."
    rest = text[exc.pos :].lstrip()
    if not rest:
        message = f"Unexpected end when reading JSON. {where}"
    else:
        message = f"Unexpected character encountered while parsing value: {rest[0]}. {where}"
    return bad_request({model_state_key(parameter, path): [message]})


def json_path(text: str, end: int) -> str:
    """Json.NET's reader path at offset ``end`` of ``text`` (read as far as it is JSON)."""
    frames: list[list[Any]] = []  # ["{", key or None] or ["[", index]
    i = 0
    while i < end:
        char = text[i]
        if char == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if frames and frames[-1][0] == "{" and _after_key_start(text, i):
                try:
                    frames[-1][1] = json.loads(text[i : j + 1])
                except ValueError:
                    frames[-1][1] = text[i + 1 : j]
            i = j + 1
            continue
        if char in "{[":
            frames.append([char, None if char == "{" else 0])
        elif char in "}]" and frames:
            frames.pop()
        elif char == "," and frames and frames[-1][0] == "[":
            frames[-1][1] += 1
        i += 1
    path = ""
    for kind, key in frames:
        if kind == "[":
            path += f"[{key}]"
        elif key is not None:
            path = f"{path}.{key}" if path else str(key)
    return path


def _after_key_start(text: str, quote: int) -> bool:
    """Whether the string opening at ``quote`` is a property name (after ``{`` or ``,``)."""
    k = quote - 1
    while k >= 0 and text[k] in " \t\r\n":
        k -= 1
    return k >= 0 and text[k] in "{,"


def parse_form(text: str) -> Any:
    """A form body as the nested object Web API's form formatter binds.

    ``a[b][0][c]=v`` (jQuery's style) and ``a.b[0].c=v`` (MVC's) both give
    ``{"a": {"b": [{"c": "v"}]}}``; values stay strings, for the binder to convert.
    """
    root: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        parts = [p for p in name.replace("]", "").replace("[", ".").split(".") if p != ""]
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if name.endswith("[]"):  # jQuery's tagIds[]=1&tagIds[]=2
            values = node.get(parts[-1])
            node[parts[-1]] = [*values, value] if isinstance(values, list) else [value]
        else:
            node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Objects whose keys are all indexes become lists (in index order)."""
    if not isinstance(node, dict):
        return node
    items = {k: _lists(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def read_parsed(request: web.Request, raw: bytes, parameter: str, kind: FieldType) -> Any:
    """The body parsed by its media type (None when empty); raises :class:`BodyProblem`."""
    if not raw.strip():
        return None
    media = media_type(request)
    text = decode(raw, request.charset)
    if media in JSON_MEDIA_TYPES:
        return parse_json(text, parameter)
    if media == FORM_MEDIA_TYPE:
        return parse_form(text)
    raise BodyProblem(unsupported_media_type(media, kind))
