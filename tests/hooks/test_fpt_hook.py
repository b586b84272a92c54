"""FptSmsHook against the sandbox: happy paths, fault plans, failover, exactly-once."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    DuplicateMessageError,
    InvalidInputError,
    NetworkError,
)
from airflow_provider_fptsms.hooks.fpt import TOKENS, FptSmsHook
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

pytestmark = [pytest.mark.usefixtures("fpt_conn"), pytest.mark.exactly_once]


def _slot(days: int = 2) -> str:
    return (datetime.now(fpt.VN_TZ) + timedelta(days=days)).replace(hour=9, minute=0).strftime(fpt.SCHEDULE_FORMAT)


def test_send_cskh_and_a_second_identical_call(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    first = hook.send_cskh("0912345678", "Mã OTP 1234", request_id="run1-task-0")
    assert first.status == "sent" and first.message_id and first.telco == "vina"
    assert first.phone == "84912***678"
    # A second call is not a replay inside the call: FPT's 2501 (same text, same phone, 5 minutes)
    # says the phone holds the text, not that this call sent it. The hook keeps no record; the
    # operators' journal does. Same answer with or without the same RequestId.
    for request_id in ("run1-task-0", None):
        with pytest.raises(DuplicateMessageError):
            hook.send_cskh("0912345678", "Mã OTP 1234", request_id=request_id)
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_international_send(fptsms_sandbox: SandboxHandle) -> None:
    assert FptSmsHook().send_cskh("6591234567", "code 1", international=True).telco == "SG"


def test_lost_reply_is_replayed_and_recognised(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(script=["lost_reply", "drop", "error_5xx"], paths=["/api/"])
    result = FptSmsHook().send_cskh("0912345678", "hello", request_id="rid-lost")
    assert result.status == "already_sent"
    summary = fptsms_sandbox.admin.summary()
    assert summary["total"] == 1 and summary["duplicates"] == 0


def test_5xx_burst_then_success(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(script=["error_5xx"] * 4, paths=["/api/"])
    assert FptSmsHook().send_cskh("0912345678", "burst", request_id="rid-burst").status == "sent"
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_token_replaced_mid_run_is_refreshed_once(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    hook.send_cskh("0912345678", "one", request_id="t-1")
    fptsms_sandbox.admin.set_faults(script=["token_invalidated"])
    assert hook.send_cskh("0912345678", "two", request_id="t-2").status == "sent"
    fptsms_sandbox.admin.expire_tokens()
    assert hook.send_cskh("0912345678", "three", request_id="t-3").status == "sent"
    assert fptsms_sandbox.admin.requests()["/oauth2/token"] == 3
    assert fptsms_sandbox.admin.summary()["total"] == 3


def test_threads_share_one_token(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            hook.send_cskh(f"09123456{n:02d}", "hi", request_id=f"thr-{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert fptsms_sandbox.admin.requests()["/oauth2/token"] == 1
    assert fptsms_sandbox.admin.summary()["total"] == 16


def test_failover_to_fallback_host_on_connection_error(
    fptsms_sandbox: SandboxHandle, fpt_conn: Any, dead_url: str
) -> None:
    fpt_conn(host=dead_url, extra={"fallback_hosts": fptsms_sandbox.url})
    assert FptSmsHook().send_cskh("0912345678", "failover", request_id="fo-1").status == "sent"


def test_failover_on_5xx_from_one_host(fptsms_sandbox: SandboxHandle, fpt_conn: Any) -> None:
    first, second = fptsms_sandbox.urls
    fpt_conn(host=first, extra={"fallback_hosts": second})
    fptsms_sandbox.admin.set_faults(error_5xx_rate=1.0, ports=[int(first.rsplit(":", 1)[1])])
    hook = FptSmsHook()
    assert hook.send_cskh("0912345678", "failover", request_id="fo-2").status == "sent"
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_permanent_errors_are_not_retried(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    with pytest.raises(BrandnameError):
        hook.send_cskh("0912345678", "x", brandname="UNKNOWN", request_id="p-1")
    assert fptsms_sandbox.admin.requests()["/api/push-brandname-otp"] == 1


def test_create_campaign_is_not_replayed_after_it_may_have_landed(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.set_faults(script=["lost_reply"], paths=["/api/create-campaign"])
    with pytest.raises(NetworkError) as caught:
        FptSmsHook().create_campaign("once-only", "Khuyen mai", _slot(), 10)
    assert caught.value.request_sent
    assert len(fptsms_sandbox.admin.campaigns()) == 1  # created once; the caller must reconcile


def test_unreachable_host_is_retried_then_reported(fpt_conn: Any, dead_url: str) -> None:
    fpt_conn(host=dead_url)
    with pytest.raises(NetworkError) as caught:
        FptSmsHook().create_campaign("never", "m", _slot(), 1)
    assert not caught.value.request_sent and dead_url in str(caught.value)


def test_campaign_lifecycle_through_the_hook(fptsms_sandbox: SandboxHandle, tmp_path: Any) -> None:
    hook = FptSmsHook()
    code = hook.create_campaign("hook-life", "Khuyen mai 50%", _slot(), 10)
    pushed = hook.push_campaign(code, ["0912345678", "0987654321"])
    assert pushed.num_message_sent == 2 and pushed.num_remain_quota == 8 and pushed.batch_id
    assert hook.campaign_status(code).state == "pending_approval"
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0, dlr_failure_rate=0)
    status = hook.campaign_status(code)
    assert status.approved and status.is_sent and status.total == 2
    records = hook.delivery_report(code)
    assert sorted(r.phone for r in records) == ["84912345678", "84987654321"]
    assert {r.status for r in records} == {"delivered"}
    rows = hook.download_delivery_report(code, tmp_path / "dlr.csv")
    assert rows == 2 and (tmp_path / "dlr.csv").read_text().startswith("Phone,Telco,Status")
    simulator = fptsms_sandbox.sandbox.fpt  # type: ignore[union-attr]
    full = simulator.delivery_report
    simulator.delivery_report = lambda body: (lambda r: (r[0], r[1].rstrip("\r\n")))(full(body))  # type: ignore[method-assign]
    assert hook.download_delivery_report(code, tmp_path / "bare.csv") == 2  # no newline after the last row


def test_test_connection(fpt_conn: Any) -> None:
    assert FptSmsHook().test_connection()[0]
    fpt_conn(password="wrong-secret-value")
    ok, message = FptSmsHook().test_connection()
    assert not ok and "1008" in message and "wrong-secret-value" not in message


def test_scope_error_names_the_requested_scopes(fpt_conn: Any) -> None:
    fpt_conn(extra={"scopes": "send_brandname_otp send_everything"})
    with pytest.raises(AuthError) as caught:
        FptSmsHook().get_token()
    assert caught.value.code == 1005 and "send_everything" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"conn_type": "http"}, "fpt_conn_id"),
        ({"login": None}, "login"),
        ({"password": None}, "password"),
        ({"host": None}, "host"),
    ],
)
def test_bad_connections(fpt_conn: Any, overrides: dict[str, Any], field: str) -> None:
    fpt_conn(**overrides)
    with pytest.raises(InvalidInputError) as caught:
        FptSmsHook().send_cskh("0912345678", "x")
    assert caught.value.field == field


def test_missing_brandname(fpt_conn: Any) -> None:
    conn = fpt_conn()
    conn["extra"].pop("brandname")
    fpt_conn(**{k: v for k, v in conn.items() if k != "extra"}, extra={"brandname": None})
    with pytest.raises(InvalidInputError, match="brandname"):
        FptSmsHook().send_cskh("0912345678", "x")


def test_provider_extras_never_become_headers(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    assert "brandname" not in {k.lower() for k in hook.get_conn().headers}
    assert "scopes" not in {k.lower() for k in hook.get_conn().headers}


def test_no_secret_or_raw_phone_in_logs_errors_or_repr(
    fptsms_sandbox: SandboxHandle, fpt_conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = FptSmsHook()
    outputs = [repr(hook), repr(hook.settings)]
    outputs.append(json.dumps(hook.send_cskh("0912345678", "otp", request_id="sec-1").as_dict()))
    token = hook.get_token()
    for fault in (["lost_reply"], ["error_5xx"] * 10):
        fptsms_sandbox.admin.set_faults(script=fault, paths=["/api/"])
        try:
            hook.send_cskh("0987654321", "otp2", request_id=f"sec-{len(fault)}")
        except Exception as exc:
            outputs.append(str(exc))
    fpt_conn(password="another-secret")
    outputs.append(FptSmsHook().test_connection()[1])
    text = "\n".join(outputs + [record.getMessage() for record in caplog.records])
    for secret in ("sandbox-secret", "another-secret", token, "0912345678", "84912345678", "0987654321"):
        assert secret not in text
    TOKENS.clear()


@pytest.mark.parametrize("phone", ["12345", "02438251234", "0912abc678", ""])
def test_bad_phones_fail_before_any_call(fptsms_sandbox: SandboxHandle, phone: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        FptSmsHook().send_cskh(phone, "otp", request_id="bad-phone")
    assert caught.value.field == "phone"
    assert fptsms_sandbox.admin.requests() == {}


def test_push_normalises_and_refuses_bad_rows(fptsms_sandbox: SandboxHandle) -> None:
    hook = FptSmsHook()
    code = hook.create_campaign("norm", "Khuyen mai", _slot(), 10)
    assert hook.push_campaign(code, ["+84 912 345 678", "0987.654.321"]).num_message_sent == 2
    assert sorted(e["phone"] for e in fptsms_sandbox.admin.ledger()) == ["84912345678", "84987654321"]
    with pytest.raises(InvalidInputError):
        hook.push_campaign(code, ["0912345679", "bad"])
    assert fptsms_sandbox.admin.summary()["total"] == 2


@pytest.mark.parametrize(
    ("host", "extra", "urls"),
    [
        ("https://app.sms.fpt.net", {}, ("https://app.sms.fpt.net", "https://service.sms.fpt.net")),
        ("service.sms.fpt.net", {}, ("https://service.sms.fpt.net", "https://app.sms.fpt.net")),
        ("https://app.sms.fpt.net", {"fallback_hosts": ""}, ("https://app.sms.fpt.net",)),
        ("http://sandbox.sms.fpt.net", {}, ("http://sandbox.sms.fpt.net",)),
        (
            "https://app.sms.fpt.net",
            {"fallback_hosts": "https://api01.sms.fpt.net"},
            ("https://app.sms.fpt.net", "https://api01.sms.fpt.net"),
        ),
    ],
)
def test_production_hosts_fail_over_to_each_other(
    fpt_conn: Any, host: str, extra: dict[str, str], urls: tuple[str, ...]
) -> None:
    fpt_conn(host=host, extra=extra)
    assert FptSmsHook().settings.urls == urls
