"""The delivery model's promises, judged by what a subscriber sees (the sandbox ledger counts the same
text reaching the same phone twice, whatever ids were used), in both sandbox dedupe modes.

- an operation (idempotency key) is sent once, across tries, runs and DAG versions;
- FPT's 2501 for a text this operation never sent is not "already sent";
- an unreachable gateway stops a bulk send in seconds with one clear error;
- a refusal that says the gateway processed nothing (1007) is retried inside the hook.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.gateways.errors import GatewayUnreachableError
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

pytestmark = pytest.mark.exactly_once

PHONES = [f"0912{i:06d}" for i in range(18)]


def run_context(run_id: str, logical: datetime | None, task_id: str = "send") -> Any:
    ti = SimpleNamespace(dag_id="cskh_dag", run_id=run_id, task_id=task_id, map_index=-1, try_number=1)
    return {"ti": ti, "logical_date": logical, "dag_run": SimpleNamespace(dag_id="cskh_dag", run_id=run_id)}


def send(**kwargs: Any) -> FptSendSmsOperator:
    return FptSendSmsOperator(task_id="send", phones=PHONES, message="Don hang cua ban da giao", **kwargs)


JUNE_1 = datetime(2026, 6, 1, tzinfo=timezone.utc)
JUNE_2 = datetime(2026, 6, 2, tzinfo=timezone.utc)


def test_the_same_logical_date_rerun_after_the_window_sends_nothing_again(fptsms_sandbox: SandboxHandle) -> None:
    """``dags test DAG DATE`` twice, or a re-trigger: a new run id, the same business operation."""
    first = send().execute(run_context("manual__first", JUNE_1))
    assert first["sent"] == 18
    fptsms_sandbox.admin.advance_clock(600)  # FPT has long forgotten the texts
    again = send().execute(run_context("manual__second", JUNE_1))
    assert (again["sent"], again["already_sent"]) == (0, 18)
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (18, 0)


def test_a_user_key_holds_across_runs_and_dates(fptsms_sandbox: SandboxHandle) -> None:
    key = "2026-06-01-spring-promo"
    send(idempotency_key=key).execute(run_context("scheduled__a", JUNE_1))
    fptsms_sandbox.admin.advance_clock(600)
    again = send(idempotency_key=key).execute(run_context("scheduled__b", JUNE_2))
    assert (again["sent"], again["already_sent"], again["idempotency_key"]) == (0, 18, key)
    assert fptsms_sandbox.admin.summary()["duplicates"] == 0


def test_a_different_logical_date_is_a_new_operation(fptsms_sandbox: SandboxHandle) -> None:
    send().execute(run_context("scheduled__a", JUNE_1))
    fptsms_sandbox.admin.advance_clock(600)  # a day later in real life: FPT's 5 minutes are long gone
    assert send().execute(run_context("scheduled__b", JUNE_2))["sent"] == 18
    ledger = fptsms_sandbox.admin.summary()
    assert ledger["total"] == 36  # the daily message, once a day: the same text twice, on purpose
    assert ledger["duplicates"] == 18


def test_runs_without_a_logical_date_fall_back_to_the_run_id(fptsms_sandbox: SandboxHandle) -> None:
    send().execute(run_context("api__1", None))
    fptsms_sandbox.admin.advance_clock(600)
    assert send().execute(run_context("api__1", None))["already_sent"] == 18
    assert send().execute(run_context("api__2", None))["sent"] == 18


def test_a_2501_for_a_text_this_operation_never_sent_is_not_already_sent(fptsms_sandbox: SandboxHandle) -> None:
    """The report-ready SMS of run 2 has run 1's text: FPT refuses it (same phone, same text, 5 minutes).
    That is not "already sent" by run 2, and it is not sent again later either (the phone has the text)."""
    FptSmsHook().send_cskh(PHONES[0], "Don hang cua ban da giao")  # another operation, a minute ago
    summary = send().execute(run_context("manual__2", JUNE_2))
    assert (summary["sent"], summary["already_sent"], summary["duplicate_content"]) == (17, 0, 1)
    fptsms_sandbox.admin.advance_clock(600)
    retried = send().execute(run_context("manual__2", JUNE_2))  # a retry after the window
    assert (retried["sent"], retried["already_sent"], retried["duplicate_content"]) == (0, 17, 1)
    assert fptsms_sandbox.admin.summary()["duplicates"] == 0


def test_nothing_but_duplicates_is_not_green(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    for phone in PHONES[:2]:
        hook.send_cskh(phone, "Nhac lich hen")
    operator = FptSendSmsOperator(task_id="send", phones=PHONES[:2], message="Nhac lich hen")
    with pytest.raises(AirflowException, match=r"Nothing was sent.*same text in the last 5 minutes"):
        operator.execute(run_context("manual__1", JUNE_1))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("host", ["http://127.0.0.1:{port}", "127.0.0.1:{port}"])
def test_an_unreachable_gateway_stops_a_bulk_send_in_seconds(
    fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, host: str
) -> None:
    """2,000 rows to a closed port (or a host written without its scheme): one error, a few warnings."""
    url = host.format(port=_closed_port())
    conn = fptsms_sandbox.fpt_connection(max_attempts=5, backoff=0.5, timeout=5)
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps({**conn, "host": url}))
    rows = [f"0912{i:06d}" for i in range(2000)]
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(GatewayUnreachableError) as caught:
        FptSendSmsOperator(task_id="send", phones=rows, message="Ma OTP 1", max_concurrency=32).execute(
            run_context("manual__1", JUNE_1)
        )
    elapsed = time.monotonic() - started
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    print(f"{host}: failed in {elapsed:.2f} s with {len(warnings)} warning lines")
    assert elapsed <= 30, elapsed
    assert len(warnings) <= 20, [r.getMessage() for r in warnings]
    text = str(caught.value)
    assert "127.0.0.1" in text and "http://" in text and "scheme" in text
    if "://" not in host:  # defaulted visibly: the log says which scheme was assumed
        assert any("has no scheme" in r.getMessage() for r in warnings)
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_a_1007_refusal_is_retried_and_the_message_arrives_once(fptsms_sandbox: SandboxHandle) -> None:
    """FPT's 1007 ("temporarily unable to process") says nothing was processed: safe to send again,
    with or without a RequestId."""
    fptsms_sandbox.admin.set_faults(script=["busy"], paths=["/api/push-brandname-otp"])
    result = FptSmsHook().send_cskh("0912345678", "Ma OTP 777")
    assert result.status == "sent" and result.request_id
    assert fptsms_sandbox.admin.faults()["injected"]["busy"] == 1
    ledger = fptsms_sandbox.admin.summary()
    assert (ledger["total"], ledger["duplicates"]) == (1, 0)


def test_resend_in_doubt_marks_only_doubtful_messages_as_replays(fptsms_sandbox: SandboxHandle) -> None:
    """With resend_in_doubt=True a message this operation never sent is still not 'already sent' on a 2501."""
    FptSmsHook().send_cskh(PHONES[0], "Don hang cua ban da giao")  # another operation, a minute ago
    summary = send(resend_in_doubt=True).execute(run_context("manual__3", JUNE_2))
    assert (summary["sent"], summary["already_sent"], summary["duplicate_content"]) == (17, 0, 1)


def test_the_breaker_opens_even_without_retries(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """max_attempts=1: every failure still counts toward the breaker."""
    conn = fptsms_sandbox.fpt_connection(max_attempts=1, timeout=5)
    monkeypatch.setenv(
        "AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps({**conn, "host": f"http://127.0.0.1:{_closed_port()}"})
    )
    rows = [f"0912{i:06d}" for i in range(2000)]
    with pytest.raises(GatewayUnreachableError):
        FptSendSmsOperator(task_id="send", phones=rows, message="Ma OTP 2", max_concurrency=8).execute(
            run_context("manual__1", JUNE_1)
        )
