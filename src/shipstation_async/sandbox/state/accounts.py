"""The account itself: its tags, its users and the API key pairs it registers."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .. import normalize
from ..data.hashing import guid, mix
from .base import Shared

JSON = dict[str, Any]


class AccountBackend:
    """Tags by tagId, users by GUID (inactive ones kept aside), and new accounts.

    ``seller_id`` is the account's; ``key`` seeds new GUIDs and API keys.
    """

    def __init__(
        self,
        shared: Shared,
        *,
        key: int,
        seller_id: int,
        tags: dict[int, JSON],
        users: dict[str, JSON],
        inactive_users: set[str],
    ) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._key = key
        self.seller_id = seller_id
        self._tags = tags
        self._users = users
        self._inactive_users = inactive_users
        self._accounts = 0

    # -- tags -----------------------------------------------------------------------------

    def tag_ids(self) -> list[int]:
        """The ids of the account's tags."""
        with self._lock:
            return list(self._tags)

    def list_tags(self) -> list[JSON]:
        """The account's tags ``[{tagId, name, color}]``."""
        with self._lock:
            return [copy.deepcopy(t) for t in self._tags.values()]

    def tag(self, tag_id: int) -> JSON | None:
        """One tag, or None."""
        with self._lock:
            t = self._tags.get(tag_id)
            return None if t is None else copy.deepcopy(t)

    def add_tag(self, data: Mapping[str, Any]) -> JSON:
        """Add a tag ``{tagId?, name, color?}``; returns it."""
        with self._lock:
            out = normalize.pick(data, ("tagId", "name", "color"))
            if not out["name"]:
                raise ValueError("a tag needs a name")
            if out["tagId"] is None:
                out["tagId"] = max(self._tags, default=8000) + 1
            tid = int(out["tagId"])
            if tid in self._tags:
                raise ValueError(f"tagId {tid} already exists")
            out["color"] = out["color"] or "#808080"
            self._tags[tid] = out
            self._shared.changes.emit("tags", tid, "create")
            return copy.deepcopy(out)

    # -- users ----------------------------------------------------------------------------

    def user_ids(self) -> list[str]:
        """The ids (GUIDs) of the account's users (inactive ones too)."""
        with self._lock:
            return list(self._users)

    def has_user(self, user_id: Any) -> bool:
        """Whether ``user_id`` is exactly the GUID of a user (inactive ones too)."""
        with self._lock:
            return user_id in self._users

    def user_by_id(self, user_id: str) -> JSON | None:
        """One user by its exact GUID, inactive ones included, or None."""
        with self._lock:
            user = self._users.get(user_id)
            return None if user is None else copy.deepcopy(user)

    def list_users(self, *, show_inactive: bool = False) -> list[JSON]:
        """The account's users (active only unless told)."""
        with self._lock:
            return [
                copy.deepcopy(u)
                for uid, u in self._users.items()
                if show_inactive or uid not in self._inactive_users
            ]

    def user(self, user_id: str, *, include_inactive: bool = False) -> JSON | None:
        """One user by GUID (case-insensitive), or None (inactive ones unless told)."""
        with self._lock:
            for uid, u in self._users.items():
                if uid.lower() == user_id.strip().lower():
                    if uid in self._inactive_users and not include_inactive:
                        return None
                    return copy.deepcopy(u)
            return None

    def add_user(self, data: Mapping[str, Any]) -> JSON:
        """Add a user (see :meth:`..world.World.add_user`)."""
        with self._lock:
            out = normalize.pick(data, ("userId", "userName", "name"))
            if not out["userName"]:
                raise ValueError("a user needs a userName")
            if out["userId"] is None:
                n = len(self._users)
                out["userId"] = guid(mix(self._key + 5_000 + n) << 64 | mix(self._key + n))
            uid = str(out["userId"])
            if uid in self._users:
                raise ValueError(f"userId {uid} already exists")
            out["name"] = out["name"] or out["userName"]
            self._users[uid] = out
            if normalize.ci(data, "active", True) is False:
                self._inactive_users.add(uid)
            self._shared.changes.emit("users", uid, "create")
            return copy.deepcopy(out)

    # -- accounts -------------------------------------------------------------------------

    def register_account(self) -> tuple[int, str, str]:
        """Mint a new account's (sellerId, apiKey, apiSecret); the server accepts them."""
        with self._lock:
            self._accounts += 1
            n = self._accounts
            seller = self.seller_id + n
            api_key = f"{mix(self._key + 7_000 + n):016x}{mix(self._key + 7_500 + n):016x}"
            api_secret = f"{mix(self._key + 8_000 + n):016x}{mix(self._key + 8_500 + n):016x}"
            self._shared.changes.emit("accounts", seller, "create")
            return seller, api_key, api_secret
