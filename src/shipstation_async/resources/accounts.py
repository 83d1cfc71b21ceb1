"""``ss.accounts``: the account's tags, and registering new accounts (partners)."""

from __future__ import annotations

import builtins
from typing import Unpack

from .._sansio import Operation, Safety
from ..models import RegisterAccountResult, Tag
from ._base import CallOptions, Resource, check_text


class Accounts(Resource):
    """Account-level endpoints."""

    async def list_tags(self, **options: Unpack[CallOptions]) -> builtins.list[Tag]:
        """Every order tag (GET /accounts/listtags)."""
        return await self._models(Operation("GET", "/accounts/listtags"), Tag, options)

    async def register_account(
        self,
        *,
        first_name: str,
        last_name: str,
        email: str,
        password: str,
        company_name: str | None = None,
        addr1: str | None = None,
        addr2: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        country_code: str | None = None,
        phone: str | None = None,
        **options: Unpack[CallOptions],
    ) -> RegisterAccountResult:
        """Register a new ShipStation account (partners only; POST /accounts/registeraccount).

        Returns the new account's API key and secret. Not idempotent.
        """
        body = {
            "firstName": check_text(first_name, "first_name"),
            "lastName": check_text(last_name, "last_name"),
            "email": check_text(email, "email"),
            "password": check_text(password, "password"),
            "companyName": company_name,
            "addr1": addr1,
            "addr2": addr2,
            "city": city,
            "state": state,
            "zip": zip,
            "countryCode": country_code,
            "phone": phone,
        }
        body = {k: v for k, v in body.items() if v is not None}
        operation = Operation(
            "POST", "/accounts/registeraccount", body=body, safety=Safety.NON_IDEMPOTENT
        )
        return await self._model(operation, RegisterAccountResult, options)
