"""FiboSmsHook against the sandbox: both path styles, errors, retries, and the password never shown."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    DuplicateMessageError,
    InvalidInputError,
    NetworkError,
    QuotaError,
)
from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

pytestmark = pytest.mark.usefixtures("fibo_conn")


@pytest.mark.parametrize("service_path", [None, "/service.asmx", "/Service.aspx"])
def test_send_and_balance(fptsms_sandbox: SandboxHandle, fibo_conn: Any, service_path: str | None) -> None:
    fibo_conn(extra={"service_path": service_path})
    hook = FiboSmsHook()
    assert hook.get_balance() == Decimal(1_000_000)
    result = hook.send_masked_sms("0912345678", "Cảnh báo: DAG lỗi")
    assert (result.status, result.phone, result.request_id) == ("sent", "84912***678", None)
    assert hook.get_balance() == Decimal(999_999)  # one UCS-2 segment at price 1
    requested = fptsms_sandbox.admin.requests()
    expected_path = (service_path or "/Service.aspx") + "/SendMaskedSMS"
    assert requested[expected_path] == 1


def test_status_totals(fptsms_sandbox: SandboxHandle) -> None:
    hook = FiboSmsHook()
    hook.send_masked_sms("0912345678", "a")
    totals = hook.status_totals()
    assert (totals.success, totals.failed, totals.pending) == (0, 0, 1)


def test_errors_are_typed(fptsms_sandbox: SandboxHandle, fibo_conn: Any) -> None:
    hook = FiboSmsHook()
    hook.send_masked_sms("0912345678", "same")
    with pytest.raises(DuplicateMessageError):
        hook.send_masked_sms("0912345678", "same")
    fptsms_sandbox.admin.set_fibo_balance("CL0000000001", 0)
    with pytest.raises(QuotaError):
        hook.send_masked_sms("0912345678", "other")
    fibo_conn(password="wrong-fibo-pass")
    with pytest.raises(AuthError) as caught:
        FiboSmsHook().get_balance()
    assert "wrong-fibo-pass" not in str(caught.value)


@pytest.mark.parametrize("guid", ["dag-run-1", None])
def test_a_lost_reply_is_never_replayed(fptsms_sandbox: SandboxHandle, guid: str | None) -> None:
    """Fibo documents no duplicate detection for smsGUID: a repeat could reach the phone twice."""
    fptsms_sandbox.admin.set_faults(script=["lost_reply"], paths=["/Service.aspx/SendMaskedSMS"])
    with pytest.raises(NetworkError) as caught:
        FiboSmsHook().send_masked_sms("0912345678", "alert", sms_guid=guid)
    assert caught.value.request_sent and fptsms_sandbox.admin.summary()["total"] == 1


def test_duplicate_content_is_a_refusal_even_with_the_same_guid(fptsms_sandbox: SandboxHandle) -> None:
    """Fibo's 6 says the phone holds this text; the smsGUID is a label, so it proves nothing about who sent it."""
    hook = FiboSmsHook()
    assert hook.send_masked_sms("0912345678", "alert", sms_guid="dag-run-1").status == "sent"
    with pytest.raises(DuplicateMessageError):
        hook.send_masked_sms("0912345678", "alert", sms_guid="dag-run-1")
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_reads_retry_through_5xx(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(script=["error_5xx", "drop", "error_5xx"])
    assert FiboSmsHook().get_balance() == Decimal(1_000_000)


def test_test_connection(fptsms_sandbox: SandboxHandle, fibo_conn: Any) -> None:
    ok, message = FiboSmsHook().test_connection()
    assert ok and message.endswith("; sender name 'SANDBOX'") and "Connected to http://127.0.0.1:" in message
    fibo_conn(extra={"sender_name": "NOT-MINE"})
    ok, message = FiboSmsHook().test_connection()
    assert not ok and "sender name 'NOT-MINE' is not registered for this account" in message
    fibo_conn(password="nope-nope")
    ok, message = FiboSmsHook().test_connection()
    assert not ok and "nope-nope" not in message
    assert fptsms_sandbox.admin.summary()["total"] == 0  # the test sends nothing


def test_wrong_connection_type_and_missing_sender(fibo_conn: Any) -> None:
    fibo_conn(conn_type="fptsms")
    with pytest.raises(InvalidInputError, match="fibo_conn_id"):
        FiboSmsHook().get_balance()
    fibo_conn(extra={"sender_name": None})
    with pytest.raises(InvalidInputError, match="sender_name"):
        FiboSmsHook().send_masked_sms("0912345678", "x")


def test_password_never_logged(
    fptsms_sandbox: SandboxHandle, dead_url: str, fibo_conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fibo_conn(host=dead_url)
    with pytest.raises(NetworkError) as caught:
        FiboSmsHook().get_balance()
    text = str(caught.value) + repr(FiboSmsHook().settings) + "\n".join(r.getMessage() for r in caplog.records)
    assert "sandbox-pass" not in text and "clientPass" not in text
