"""``ss.users``: the account's users."""

from __future__ import annotations

import builtins
from typing import Unpack

from .._sansio import Operation
from ..models import User
from ._base import CallOptions, Resource


class Users(Resource):
    """Users (GET /users)."""

    async def list(
        self, *, show_inactive: bool | None = None, **options: Unpack[CallOptions]
    ) -> builtins.list[User]:
        """Every user; the documented example shows one object, which is read as a list of one."""
        query = {"showInactive": show_inactive}
        return await self._models(Operation("GET", "/users", query=query), User, options)
