"""``ss.carriers``: carrier accounts, their services and packages, and funding."""

from __future__ import annotations

import builtins
from decimal import Decimal, InvalidOperation
from typing import Unpack

from .._arguments import MAX_FUNDS, MIN_FUNDS
from .._intents import INTENTS, one_at_a_time
from .._sansio import Operation, Safety
from ..errors import AmbiguousRequestError, InvalidRequestError
from ..models import Carrier, Package, Service
from ..settlement import funds_key, read_funds_baseline
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
        and says whether the funds were added. Fundings of one carrier run one at a time in
        this process, and after an ambiguous one (or one whose caller was cancelled with it on
        the wire) the next is refused until it is settled (one from another process in
        between leaves the outcome still ambiguous).
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
        # One funding of a carrier at a time in this process: a second in flight would move
        # the balance the settling of the first compares.
        key = funds_key(self._client._account, carrier_code)
        async with one_at_a_time(key):
            earlier = INTENTS.unresolved(key)
            if earlier is not None:
                # Its settling compares the balance: another funding now would confuse it.
                raise AmbiguousRequestError(
                    f"an earlier funding of {carrier_code} may or may not have taken effect; "
                    "settle it (ss.settle(exc) on this error) before funding it again",
                    method="POST",
                    path="/carriers/addfunds",
                    cause=earlier[1].cause,
                    attempt=earlier[1].attempt,
                )
            baseline = await read_funds_baseline(self._client, carrier_code, options)
            operation = Operation(
                "POST",
                "/carriers/addfunds",
                body=body,
                safety=Safety.NON_IDEMPOTENT,
                baseline=baseline,
            )
            try:
                return await self._model(operation, Carrier, options)
            except AmbiguousRequestError as exc:
                INTENTS.leave_unresolved(key, "", exc)  # until ss.settle(exc) is called
                raise
