"""The one streaming base: what every ``iter()`` does, and :func:`open_stream` for the backfill.

A listing resource declares how its list is walked (an entry of the walk registry,
:data:`~shipstation_async.streams.WALKS`) and the ``TypedDict`` of its filters, which its
``list()`` and ``iter()`` both take through ``**Unpack``: the type checker checks a call to
either against the same filters, and so does the run-time check compiled from the annotations.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from .._arguments import Check, typed_dict_check
from ..streams import ItemStream, Walk
from ._base import Resource, check_range, paged_query


class StreamingResource(Resource):
    """A resource whose list can be streamed: ``iter()`` walks it, ``list()`` pages it."""

    walk: ClassVar[Walk]
    """How the list is walked (its entry in the walk registry)."""
    filters_type: ClassVar[Any]
    """The ``TypedDict`` of the list's filters, taken by ``list()`` and ``iter()`` alike."""

    def _stream(self, filters: Mapping[str, Any], **options: Any) -> ItemStream[Any]:
        """The body of every ``iter()``: the walked range comes out of the filters."""
        rest = dict(filters)
        start = end = None
        if self.walk.range_names is not None:
            start_name, end_name = self.walk.range_names
            start, end = rest.pop(start_name, None), rest.pop(end_name, None)
        return open_stream(self, rest, start=start, end=end, **options)


def open_stream(
    resource: StreamingResource,
    filters: Mapping[str, Any],
    *,
    walk: Walk | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    **options: Any,
) -> ItemStream[Any]:
    """A stream over ``resource``'s list, its range and filters checked as ``iter()`` checks them.

    ``walk``: another walk of the same list (:data:`~shipstation_async.streams.MODIFIED_ORDERS`
    for an incremental sync); ``options`` go to :class:`ItemStream` (``resume``, ``on_plan``,
    ``typed`` included). Nothing is sent before the stream is read.
    """
    walk = walk or resource.walk
    check_range(start, end, *(walk.range_names or ("start", "end")))
    query = stream_query(resource.filters_type, filters, resource.max_range_days)
    return ItemStream(resource._client, walk, query, start=start, end=end, **options)


@functools.cache
def _filters_check(filters_type: Any) -> Check:
    return typed_dict_check(filters_type)


def stream_query(
    filters_type: Any, filters: Mapping[str, Any], max_range_days: int | None
) -> dict[str, Any]:
    """Check a stream's filters against the list's ``TypedDict``; camelCase them.

    Paging and sorting belong to the stream, so the ``TypedDict`` has none of them. A range
    passed as a filter goes into every request unsplit, so it must fit ``max_range_days``.
    """
    _filters_check(filters_type)(filters, "filters")
    query = paged_query(1, 1, max_range_days=max_range_days, **filters)
    del query["page"], query["pageSize"]
    return {k: v for k, v in query.items() if v is not None}
