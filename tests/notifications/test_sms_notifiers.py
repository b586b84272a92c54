"""SMS notifiers: templated, accent-stripped alerts, sent once even when the callback runs twice."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError, SmsError
from airflow_provider_fptsms.notifications.sms import FiboSmsNotifier, FptSmsNotifier
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

pytestmark = pytest.mark.exactly_once


def context(task_id: str = "load") -> Any:
    ti = SimpleNamespace(dag_id="etl_daily", run_id="scheduled__2026-06-18", task_id=task_id)
    return {"ti": ti, "dag_run": SimpleNamespace(dag_id="etl_daily", run_id="scheduled__2026-06-18")}


def test_fpt_alert_is_rendered_stripped_and_sent_once(fptsms_sandbox: SandboxHandle) -> None:
    notifier = FptSmsNotifier(
        message="Lỗi: {{ ti.task_id }} của {{ ti.dag_id }} thất bại", phones="0912345678, 0987654321"
    )
    notifier(context())
    notifier(context())  # the callback ran twice: nobody is paged twice
    entries = fptsms_sandbox.admin.ledger()
    assert [e["message"] for e in entries] == ["Loi: load cua etl_daily that bai"] * 2
    assert sorted(e["phone"] for e in entries) == ["84912345678", "84987654321"]
    FptSmsNotifier(message="Lỗi: {{ ti.task_id }}", phones=["0912345678"])(context("other"))
    assert fptsms_sandbox.admin.summary()["total"] == 3


def test_fibo_alert(fptsms_sandbox: SandboxHandle) -> None:
    notifier = FiboSmsNotifier(message="DAG {{ ti.dag_id }} failed", phones=["0912345678"])
    notifier(context())
    notifier(context())
    entries = fptsms_sandbox.admin.ledger(gateway="fibo")
    assert [(e["phone"], e["message"]) for e in entries] == [("84912345678", "DAG etl_daily failed")]


def test_async_notify_runs_off_the_event_loop(fptsms_sandbox: SandboxHandle) -> None:
    notifier = FptSmsNotifier(message="deadline missed", phones=["0912345678"], strip_accents=False)
    asyncio.run(notifier.async_notify(context()))
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_failures_are_reported_masked(fptsms_sandbox: SandboxHandle) -> None:
    notifier = FptSmsNotifier(message="alert", phones=["0912345678", "12345"], brandname="NOT-OURS")
    with pytest.raises(SmsError) as caught:
        notifier(context())
    assert "2 of 2 SMS alerts failed" in str(caught.value) and "0912345678" not in str(caught.value)
    with pytest.raises(InvalidInputError, match="phones"):
        FptSmsNotifier(message="alert", phones=[])(context())
    with pytest.raises(InvalidInputError, match="message"):
        FptSmsNotifier(message="   ", phones=["0912345678"])(context())
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_an_alert_whose_reply_was_lost_is_settled_not_repeated(
    fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Every attempt's reply lost: the callback fails (in doubt). Run again inside FPT's window, the
    replay's 2501 says it landed: recorded as sent, nobody paged twice."""
    import json

    conn = fptsms_sandbox.fpt_connection(max_attempts=2, backoff=0.001)
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path))
    fptsms_sandbox.admin.set_faults(script=["lost_reply", "lost_reply"], paths=["/api/push-brandname-otp"])
    notifier = FptSmsNotifier(message="ETL failed", phones=["0912345678"])
    with pytest.raises(SmsError, match="1 of 1 SMS alerts failed"):
        notifier(context())
    notifier(context())  # the callback runs again
    notifier(context())  # and again: now from the record
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (1, 0)
