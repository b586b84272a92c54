"""Fibo prepaid balance: push it to XCom, or guard a big send with it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, BaseSensorOperator, PokeReturnValue

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.gateways.errors import InvalidInputError

if TYPE_CHECKING:
    from airflow.sdk import Context


class FiboBalanceOperator(BaseOperator):
    """Return the Fibo balance (messages, or VND for money packages) as a string (exact decimal).

    :param fibo_conn_id: a ``fibosms`` connection.
    """

    def __init__(self, *, fibo_conn_id: str = "fibosms_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fibo_conn_id = fibo_conn_id

    def execute(self, context: Context) -> str:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        balance = FiboSmsHook(self.fibo_conn_id).get_balance()
        self.log.info("Fibo balance: %s", balance)
        return str(balance)


class FiboBalanceSensor(BaseSensorOperator):
    """Wait until the balance covers a planned send — or fail at once (``fail_when_low=True``).

    Waits in ``reschedule`` mode (no worker held between checks), every 10 minutes by default.

    :param required: balance needed (templated; e.g. ``"{{ ti.xcom_pull('plan')['segments'] }}"``).
        With a money package pass ``messages`` and ``price_per_message`` instead.
    :param messages: SMS parts the send needs (templated); needed balance = messages x price_per_message.
    :param price_per_message: the package's price of one SMS part (1 for a message package).
    :param fail_when_low: fail at once, without waiting, when the balance does not cover the send.
    :param fibo_conn_id: a ``fibosms`` connection.
    """

    template_fields: Sequence[str] = ("required", "messages")

    def __init__(
        self,
        *,
        required: float | str | None = None,
        messages: int | str | None = None,
        price_per_message: float = 1.0,
        fail_when_low: bool = False,
        fibo_conn_id: str = "fibosms_default",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 600)
        super().__init__(**kwargs)
        self.required = required
        self.messages = messages
        self.price_per_message = price_per_message
        self.fail_when_low = fail_when_low
        self.fibo_conn_id = fibo_conn_id

    def _needed(self) -> Decimal:
        try:
            if self.required is not None:
                needed = Decimal(str(self.required))
            elif self.messages is not None:
                needed = Decimal(str(self.messages)) * Decimal(str(self.price_per_message))
            else:
                raise InvalidInputError("required", None, "is not set", "pass required= or messages=")
        except ArithmeticError:
            raise InvalidInputError("required", self.required or self.messages, "is not a number", "") from None
        if needed < 0:
            raise InvalidInputError("required", needed, "must be >= 0", "")
        return needed

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        needed = self._needed()
        balance = FiboSmsHook(self.fibo_conn_id).get_balance()
        enough = balance >= needed
        self.log.info("Fibo balance %s, needed %s: %s", balance, needed, "enough" if enough else "too low")
        if not enough and self.fail_when_low:
            raise AirflowFailException(
                f"Fibo balance {balance} is below the {needed} this send needs. Next step: top up the account."
            )
        return PokeReturnValue(is_done=enough, xcom_value={"balance": str(balance), "needed": str(needed)})
