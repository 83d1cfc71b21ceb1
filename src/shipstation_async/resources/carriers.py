"""``ss.carriers``: carrier accounts, their services and packages, and funding."""

from __future__ import annotations

import builtins
from decimal import Decimal, InvalidOperation
from typing import Unpack

from .._arguments import MAX_FUNDS, MIN_FUNDS
from .._sansio import Operation, Safety
from ..errors import InvalidRequestError
from ..models import Carrier, Package, Service
from ..settlement import read_funds_baseline
from ._base import CallOptions, Resource, check_text

CENT = Decimal("0.01")


class Carriers(Resource):
    """Carriers connected to the account."""

    async def list(self, **options: Unpack[CallOptions]) -> builtins.list[Carrier]:
        """Every carrier account (GET /carriers)."""
        return await self._models(Operation("GET", "/carriers"), Carrier, options)

    async def get(self, carrier_code: str, **options: Unpack[CallOptions]) -> Carrier:
        """One carrier by code (GET /carriers/getcarrier)."""
        query = {"carrierCode": check_text(carrier_code, "carrier_code")}
        return await self._model(
            Operation("GET", "/carriers/getcarrier", query=query), Carrier, options
        )

    async def list_services(
        self, carrier_code: str, **options: Unpack[CallOptions]
    ) -> builtins.list[Service]:
        """A carrier's shipping services (GET /carriers/listservices)."""
        query = {"carrierCode": check_text(carrier_code, "carrier_code")}
        return await self._models(
            Operation("GET", "/carriers/listservices", query=query), Service, options
        )

    async def list_packages(
        self, carrier_code: str, **options: Unpack[CallOptions]
    ) -> builtins.list[Package]:
        """A carrier's package types (GET /carriers/listpackages)."""
        query = {"carrierCode": check_text(carrier_code, "carrier_code")}
        return await self._models(
            Operation("GET", "/carriers/listpackages", query=query), Package, options
        )

    async def add_funds(
        self, carrier_code: str, amount: Decimal | int | str, **options: Unpack[CallOptions]
    ) -> Carrier:
        """Add funds to a funded carrier account (POST /carriers/addfunds). Charges money.

        ``amount`` must be from $10.00 to $10,000.00. The carrier's balance is read first (one
        more request) so that an ambiguous outcome can be settled: never retried on one;
        ``await ss.settle(exc)`` compares the balance with what labels were charged meanwhile
        and says whether the funds were added.
        """
        try:
            value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
        except InvalidOperation:
            raise InvalidRequestError(
                f"amount is not a number: {amount!r}", field="amount"
            ) from None
        if (
            isinstance(amount, float)
            or not value.is_finite()  # NaN would fail the range test with an untyped error
            or not MIN_FUNDS <= value <= MAX_FUNDS
            or value != value.quantize(CENT)
        ):
            raise InvalidRequestError(
                f"amount must be a Decimal from {MIN_FUNDS} to {MAX_FUNDS} in whole cents, "
                f"got {amount!r}",
                field="amount",
            )
        body = {"carrierCode": check_text(carrier_code, "carrier_code"), "amount": value}
        baseline = await read_funds_baseline(self._client, carrier_code, options)
        operation = Operation(
            "POST",
            "/carriers/addfunds",
            body=body,
            safety=Safety.NON_IDEMPOTENT,
            baseline=baseline,
        )
        return await self._model(operation, Carrier, options)
