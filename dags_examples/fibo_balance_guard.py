"""Check the Fibo balance before a send: fail early instead of running out half-way."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_provider_fptsms.operators.balance import FiboBalanceOperator, FiboBalanceSensor
from airflow_provider_fptsms.operators.send import FiboSendSmsOperator

PHONES = ["0912000111", "0987000222", "0388000333"]


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "fibo", "example"])
def fibo_balance_guard() -> None:
    plan = FiboSendSmsOperator(
        task_id="plan", phones=PHONES, message="Lich hop ngay mai luc 9h tai phong 3.", dry_run=True
    )
    guard = FiboBalanceSensor(
        task_id="balance_guard", messages="{{ ti.xcom_pull(task_ids='plan')['segments'] }}", fail_when_low=True
    )
    send = FiboSendSmsOperator(task_id="send", phones=PHONES, message="Lich hop ngay mai luc 9h tai phong 3.")
    balance_after = FiboBalanceOperator(task_id="balance_after")
    plan >> guard >> send >> balance_after


fibo_balance_guard()
