"""Pages read with each record's bytes kept as the API spelt them, for a backfill's own sinks.

A backfill writes the API's own JSON. Read into dicts and written out again, a 500-order page
costs its decoding (most of a page's time in the client), the cyclic collector's passes over
its ten thousand containers, and encoding it back. Read by :func:`page_reader`, each record
stays the bytes it came as (:class:`RawRecord`), and only the fields a walk places and tells
records apart by are decoded: the page is parsed twice in C, and no container is made for the
rest. msgspec (the ``speedups`` extra) does the reading; without it there is no page reader,
and pages are read into dicts.

Any page the reader cannot take whole (not ASCII, not an object with a list of objects where
the walk expects one, anything msgspec refuses) is read by :func:`~._sansio.decode_json`
instead, which then decides: so the answer, or the error, is the one the JSON reader gives.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ._exact_json import dumps_exact_each, dumps_exact_lines
from ._sansio import _UNREADABLE, decode_json

try:
    import msgspec
except ImportError:  # pragma: no cover - the speedups extra is installed with the tests
    msgspec = None  # type: ignore[assignment]


_ABSENT = object()


class RawRecord(Mapping[str, Any]):
    """One record of a page: :attr:`raw` holds its JSON as the API sent it (ASCII bytes).

    It reads as the mapping its JSON decodes to (money as Decimal). The fields the page reader
    decoded answer at once; any other key, a ``len`` or an iteration decodes the whole record
    once. Read-only, like the bytes it stands for. Where the API's JSON is unusual the bytes
    stay as sent: a key given twice is kept twice (the record reads by the last, as every JSON
    reader of the SDK does), and a number beyond what the json module reads (an integer of
    over 4,300 digits, an exponent beyond Decimal's) is written as sent; reading such a
    number from the record raises :class:`~shipstation_async.DecodeError`.
    """

    __slots__ = ("_fields", "_raw", "_whole")

    def __init__(self, raw: bytes, fields: Any) -> None:
        self._raw = raw
        self._fields = fields  # a msgspec struct: the decoded fields, UNSET where absent
        self._whole: dict[str, Any] | None = None

    @property
    def raw(self) -> bytes:
        """The record's JSON, as the API spelt it."""
        return self._raw

    def _decoded(self) -> dict[str, Any]:
        whole = self._whole
        if whole is None:
            whole = self._whole = decode_json(self._raw)
        return whole

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` where the record has none."""
        fields = self._fields
        if key in fields.__struct_fields__:
            value = getattr(fields, key)
            return default if value is msgspec.UNSET else value
        return self._decoded().get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"RawRecord({self._raw!r})"  # never fails, nor decodes


PageReader = Callable[[bytes], Any]
"""Reads a successful answer's body (an :class:`~._sansio.Operation`'s ``decode``)."""


@functools.cache  # one reader per walk, not a new struct for every stream
def page_reader(envelope: str, fields: tuple[str, ...]) -> PageReader | None:
    """A reader of ``{envelope: [...], "total": n, ...}`` pages into :class:`RawRecord` lists.

    ``fields``: the keys of a record decoded with the page (the walk's date and id keys).
    The page comes back as a dict of ``envelope`` (the records), ``total``, ``page`` and
    ``pages`` (those present). None without msgspec.
    """
    if msgspec is None:  # pragma: no cover - the speedups extra is installed with the tests
        return None
    names = tuple(dict.fromkeys(fields))
    extras = ("total", "page", "pages")
    if envelope in extras or not all(map(_plain_name, (envelope, *names))):
        return None  # names a struct cannot take as fields: pages are read into dicts
    decoded = msgspec.defstruct(
        "Decoded", [(name, Any, msgspec.UNSET) for name in names], forbid_unknown_fields=False
    )
    raw_page = msgspec.defstruct(
        "RawPage",
        [(envelope, list[msgspec.Raw]), *((name, Any, msgspec.UNSET) for name in extras)],
    )
    keys_page = msgspec.defstruct("KeysPage", [(envelope, list[decoded])])  # type: ignore[valid-type]
    read_raw = msgspec.json.Decoder(raw_page, float_hook=Decimal).decode
    read_keys = msgspec.json.Decoder(keys_page, float_hook=Decimal).decode
    # What msgspec refuses, and what it raises itself on a page that is too deep or holds a
    # number that float_hook cannot read: decode_json then decides, and words the error.
    refused = (msgspec.DecodeError, msgspec.ValidationError, *_UNREADABLE)

    def read(body: bytes) -> Any:
        # Not ASCII: msgspec does not check the UTF-8 of the strings it skips; the JSON
        # reader does, and writes such records as the sinks always have.
        if not body.isascii():
            return decode_json(body)
        try:
            page = read_raw(body)
            keyed = read_keys(body)
        except refused:
            return decode_json(body)
        records = [
            RawRecord(bytes(raw), found)
            for raw, found in zip(getattr(page, envelope), getattr(keyed, envelope), strict=True)
        ]
        answer: dict[str, Any] = {envelope: records}
        for name in extras:
            value = getattr(page, name)
            if value is not msgspec.UNSET:
                answer[name] = value
        return answer

    return read


def _plain_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def json_lines(records: Sequence[Any]) -> bytes:
    """Each record as a line of JSON, ending in a newline.

    A :class:`RawRecord` as the API spelt it; others as :func:`~._exact_json.dumps_exact_lines`
    writes them, and so is a record the API spelt over several lines.
    """
    if not any(type(r) is RawRecord for r in records):
        return dumps_exact_lines(records)
    return b"".join(
        r.raw + b"\n"
        if type(r) is RawRecord and b"\n" not in r.raw and b"\r" not in r.raw
        else dumps_exact_lines([dict(r)])
        for r in records
    )


def json_texts(records: Sequence[Any]) -> list[str]:
    """Each record's JSON text.

    A :class:`RawRecord` as the API spelt it; others as :func:`~._exact_json.dumps_exact_each`
    writes them.
    """
    texts = dumps_exact_each([r for r in records if type(r) is not RawRecord])
    written = iter(texts)
    return [r.raw.decode("ascii") if type(r) is RawRecord else next(written) for r in records]
