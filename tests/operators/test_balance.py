"""Fibo balance operator and guard sensor."""

from __future__ import annotations

import pytest

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.operators.balance import FiboBalanceOperator, FiboBalanceSensor
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.operators.conftest import make_context


def test_balance_to_xcom(fptsms_sandbox: SandboxHandle) -> None:
    assert FiboBalanceOperator(task_id="b").execute(make_context()) == "1000000"


def test_guard_waits_or_fails(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_fibo_balance("CL0000000001", 500)
    waiting = FiboBalanceSensor(task_id="g", messages=600)
    assert waiting.poke(make_context()).is_done is False
    assert FiboBalanceSensor(task_id="g", required="400").poke(make_context()).is_done is True
    with pytest.raises(AirflowFailException, match="below"):
        FiboBalanceSensor(task_id="g", messages=100, price_per_message=10, fail_when_low=True).poke(make_context())
    with pytest.raises(InvalidInputError):
        FiboBalanceSensor(task_id="g").poke(make_context())
    with pytest.raises(InvalidInputError):
        FiboBalanceSensor(task_id="g", required="lots").poke(make_context())
