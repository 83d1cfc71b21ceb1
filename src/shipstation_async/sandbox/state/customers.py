"""Customers: the generated orders' buyers, derived on demand, plus customers added since.

Customer ``c`` (``0 <= c < orders.customer_pool``) is the buyer the generated orders draw
(:meth:`OrderStore.customer`): the same name, address, email and customerId. Its createDate
lies before the first order (one a minute, ascending with ``c``), so createDate order is
customerId order. Added customers come after them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._time import MS_PER_MINUTE, format_order_ts, now_ms, parse_ts

if TYPE_CHECKING:
    from .orders import OrderStore

JSON = dict[str, Any]

CustomerSortBy = Literal["Name", "ModifyDate", "CreateDate"]

CUSTOMER_KEYS: tuple[str, ...] = (
    "customerId",
    "createDate",
    "modifyDate",
    "name",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "postalCode",
    "countryCode",
    "phone",
    "email",
    "addressVerified",
    "marketplaceUsernames",
    "tags",
)
"""The keys of a Customer (reference §3), in the order they are written."""

_ADDED_ID_BASE = 90_000_000
_USER_ID_BASE = 70_000_000


@attrs.frozen
class CustomerQuery:
    """The parsed parameters of ``GET /customers``.

    ``state_code`` and ``country_code`` are case-insensitive exact matches; ``marketplace_id``
    matches any of the customer's marketplace usernames. ``sort_by`` None is customerId order.
    """

    state_code: str | None = None
    country_code: str | None = None
    marketplace_id: int | None = None
    tag_id: int | None = None
    sort_by: CustomerSortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100


class CustomerStore:
    """The world's customers (see the module docstring). Thread-safe (the world's lock).

    ``marketplaces``: (marketplaceId, name) entries a customer's home marketplace is drawn
    from (repeat an entry to weight it); ``tags``: (tagId, name) of the tags customers may
    carry.
    """

    def __init__(
        self,
        orders: OrderStore,
        *,
        lock: threading.RLock,
        marketplaces: Sequence[tuple[int, str]],
        tags: Mapping[str, tuple[int, str]],
    ) -> None:
        self._orders = orders
        self._lock = lock
        self._marketplaces = list(marketplaces)
        self._tags = dict(tags)
        self._added: dict[int, JSON] = {}
        self._next_id = _ADDED_ID_BASE + 1

    def __len__(self) -> int:
        """How many customers exist."""
        return self._orders.customer_pool + len(self._added)

    def _create_ms(self, c: int) -> int:
        return self._orders.start_ms - (self._orders.customer_pool - c) * MS_PER_MINUTE

    def _modify_ms(self, c: int) -> int:
        create = self._create_ms(c)
        h = self._orders.customer_hash(c, 1)
        if h % 4:
            return create
        return create + (h >> 8) % max(1, self._orders.end_ms - create)

    def _home(self, c: int) -> tuple[int, str]:
        h = self._orders.customer_hash(c, 2)
        return self._marketplaces[h % len(self._marketplaces)] if self._marketplaces else (0, "")

    def _tag_list(self, c: int) -> list[JSON] | None:
        h = self._orders.customer_hash(c, 2) >> 16
        out: list[JSON] = []
        repeat = self._tags.get("Repeat Buyer")
        if repeat is not None and h % 5 == 0:
            out.append({"tagId": repeat[0], "name": repeat[1]})
        vip = self._tags.get("VIP")
        if vip is not None and (h >> 8) % 20 == 0:
            out.append({"tagId": vip[0], "name": vip[1]})
        return out or None

    def _build(self, c: int) -> JSON:
        p = self._orders.customer(c)
        create = format_order_ts(self._create_ms(c))
        modify = format_order_ts(self._modify_ms(c))
        marketplace_id, marketplace = self._home(c)
        return {
            "customerId": p.customer_id,
            "createDate": create,
            "modifyDate": modify,
            "name": p.name,
            "company": p.company,
            "street1": p.street1,
            "street2": p.street2 or "",
            "city": p.city,
            "state": p.state,
            "postalCode": p.postal_code,
            "countryCode": p.country,
            "phone": p.phone,
            "email": p.email,
            "addressVerified": (
                "Verified" if p.verified == "Address validated successfully" else "Unverified"
            ),
            "marketplaceUsernames": [
                {
                    "customerUserId": _USER_ID_BASE + c,
                    "customerId": p.customer_id,
                    "createDate": create,
                    "modifyDate": create,
                    "marketplaceId": marketplace_id,
                    "marketplace": marketplace,
                    "username": p.email,
                }
            ],
            "tags": self._tag_list(c),
        }

    def get(self, customer_id: int) -> JSON | None:
        """The customer with this id (a fresh dict), or None."""
        with self._lock:
            added = self._added.get(customer_id)
            if added is not None:
                return copy.deepcopy(added)
        c = self._orders.customer_index(customer_id)
        return None if c is None else self._build(c)

    def find_by_email(self, email: str) -> JSON | None:
        """An added customer with this email (case-insensitive), or None.

        Generated customers are not searched (their emails are not indexed).
        """
        needle = email.strip().lower()
        with self._lock:
            for record in self._added.values():
                if str(record.get("email") or "").lower() == needle:
                    return copy.deepcopy(record)
        return None

    def add(self, record: Mapping[str, Any]) -> JSON:
        """Add a customer; returns it as stored.

        Missing keys are null; customerId and dates are assigned when missing;
        marketplaceUsernames default to one ShipStation username (the email).
        """
        with self._lock:
            stored: JSON = {k: copy.deepcopy(record.get(k)) for k in CUSTOMER_KEYS}
            if stored["customerId"] is None:
                stored["customerId"] = self._next_id
                self._next_id += 1
            customer_id = int(stored["customerId"])
            if customer_id in self._added or self._orders.customer_index(customer_id) is not None:
                raise ValueError(f"customerId {customer_id} already exists")
            now = format_order_ts(max(now_ms(), self._orders.end_ms + 1))
            stored["createDate"] = stored["createDate"] or now
            stored["modifyDate"] = stored["modifyDate"] or stored["createDate"]
            stored["countryCode"] = stored["countryCode"] or "US"
            stored["addressVerified"] = stored["addressVerified"] or "Unverified"
            if stored["marketplaceUsernames"] is None:
                stored["marketplaceUsernames"] = [
                    {
                        "customerUserId": _USER_ID_BASE + customer_id % 10_000_000,
                        "customerId": customer_id,
                        "createDate": stored["createDate"],
                        "modifyDate": stored["createDate"],
                        "marketplaceId": 0,
                        "marketplace": "ShipStation",
                        "username": stored["email"],
                    }
                ]
            self._added[customer_id] = stored
            self._orders.changes.emit("customers", customer_id, "create")
            return copy.deepcopy(stored)

    def _matches(self, q: CustomerQuery) -> Callable[[JSON], bool]:
        def pred(r: JSON) -> bool:
            if q.state_code is not None and str(r["state"] or "").lower() != q.state_code.lower():
                return False
            if (
                q.country_code is not None
                and str(r["countryCode"] or "").lower() != q.country_code.lower()
            ):
                return False
            if q.marketplace_id is not None and not any(
                m.get("marketplaceId") == q.marketplace_id for m in r["marketplaceUsernames"] or ()
            ):
                return False
            return q.tag_id is None or any(t.get("tagId") == q.tag_id for t in r["tags"] or ())

        return pred

    def query(self, q: CustomerQuery) -> tuple[list[JSON], int]:
        """The page of customers matching ``q`` and the total that match."""
        pool = self._orders.customer_pool
        with self._lock:
            added = sorted(self._added.values(), key=lambda r: int(r["customerId"]))
        first = (q.page - 1) * q.page_size
        filtered = any(
            v is not None for v in (q.state_code, q.country_code, q.marketplace_id, q.tag_id)
        )
        if not filtered and q.sort_by in (None, "CreateDate"):
            total = pool + len(added)
            window = range(first, min(first + q.page_size, total))
            if q.sort_desc:
                window = range(total - 1 - first, max(total - 1 - first - q.page_size, -1), -1)
            page = [self._build(p) if p < pool else copy.deepcopy(added[p - pool]) for p in window]
            return page, total
        pred = self._matches(q)
        rows: list[JSON] = [r for r in (self._build(c) for c in range(pool)) if pred(r)]
        rows += [copy.deepcopy(r) for r in added if pred(r)]
        if q.sort_by == "Name":
            rows.sort(key=lambda r: (str(r["name"] or "").lower(), int(r["customerId"])))
        elif q.sort_by == "ModifyDate":
            rows.sort(key=lambda r: (parse_ts(str(r["modifyDate"])), int(r["customerId"])))
        if q.sort_desc:
            rows.reverse()
        return rows[first : first + q.page_size], len(rows)
