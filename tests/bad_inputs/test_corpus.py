"""The bad-input corpus: every case must end in a clear typed error (or a 4xx for the webhook),
put zero messages in the sandbox ledger, and never echo a secret or a raw phone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.gateways import fibo, fpt
from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    ContentError,
    InvalidInputError,
    InvalidRequestError,
    MalformedReplyError,
    QuotaError,
    SmsError,
)
from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.operators.balance import FiboBalanceSensor
from airflow_provider_fptsms.operators.campaign import FptCreateCampaignOperator, FptPushCampaignOperator
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sms.schedule import ScheduleError, next_valid_slot
from airflow_provider_fptsms.spec import CampaignSpecError, load_spec
from airflow_provider_fptsms.webhook.app import create_dlr_app
from airflow_provider_fptsms.webhook.store import DlrStore

PHONE = "0912345678"
SLOT = next_valid_slot().strftime("%Y-%m-%d %H:%M")
Case = Callable[[SandboxHandle, Path], Any]


def ctx() -> Any:
    return {"ti": SimpleNamespace(dag_id="bad", run_id="r1", task_id="t", map_index=-1, try_number=1)}


def conn(handle: SandboxHandle, **override: Any) -> None:
    import os

    os.environ["AIRFLOW_CONN_FPTSMS_DEFAULT"] = json.dumps({**handle.fpt_connection(backoff=0.001), **override})


def send(**kwargs: Any) -> Case:
    kwargs.setdefault("phones", [PHONE])
    kwargs.setdefault("message", "Ma OTP 1234")
    return lambda h, p: FptSendSmsOperator(task_id="t", **kwargs).execute(ctx())


def create(**kwargs: Any) -> Case:
    kwargs.setdefault("message", "[QC] Khuyen mai")
    return lambda h, p: FptCreateCampaignOperator(task_id="t", state_path=str(p / "s"), **kwargs).execute(ctx())


def spec(text: str) -> Case:
    def run(handle: SandboxHandle, tmp: Path) -> Any:
        (tmp / "phones.txt").write_text(PHONE + "\n")
        (tmp / "spec.yaml").write_text(text)
        return load_spec(tmp / "spec.yaml")

    return run


def with_conn(override: dict[str, Any], call: Callable[[], Any]) -> Case:
    def run(handle: SandboxHandle, tmp: Path) -> Any:
        conn(handle, **override)
        return call()

    return run


GOOD_SPEC = 'message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\n'

CASES: list[tuple[str, Case, type[BaseException]]] = [
    # --- FPT hook: refused before any call
    ("hook empty phone", lambda h, p: FptSmsHook().send_cskh("", "x"), InvalidInputError),
    ("hook short phone", lambda h, p: FptSmsHook().send_cskh("12345", "x"), InvalidInputError),
    ("hook landline", lambda h, p: FptSmsHook().send_cskh("02438251234", "x"), InvalidInputError),
    ("hook letters in phone", lambda h, p: FptSmsHook().send_cskh("0912abc678", "x"), InvalidInputError),
    ("hook empty message", lambda h, p: FptSmsHook().send_cskh(PHONE, ""), InvalidInputError),
    (
        "hook request id too long",
        lambda h, p: FptSmsHook().send_cskh(PHONE, "x", request_id="r" * 101),
        InvalidInputError,
    ),
    (
        "hook campaign name 33 chars",
        lambda h, p: FptSmsHook().create_campaign("n" * 33, "m", SLOT, 1),
        InvalidInputError,
    ),
    (
        "hook schedule format",
        lambda h, p: FptSmsHook().create_campaign("n", "m", "18/06/2026 09:00", 1),
        InvalidInputError,
    ),
    ("hook quota zero", lambda h, p: FptSmsHook().create_campaign("n", "m", SLOT, 0), InvalidInputError),
    ("hook quota negative", lambda h, p: FptSmsHook().create_campaign("n", "m", SLOT, -5), InvalidInputError),
    ("hook push empty list", lambda h, p: FptSmsHook().push_campaign("C1", []), InvalidInputError),
    ("hook push invalid phone", lambda h, p: FptSmsHook().push_campaign("C1", ["bad"]), InvalidInputError),
    (
        "hook wrong connection type",
        with_conn({"conn_type": "http"}, lambda: FptSmsHook().get_token()),
        InvalidInputError,
    ),
    ("hook missing password", with_conn({"password": None}, lambda: FptSmsHook().get_token()), InvalidInputError),
    ("hook missing login", with_conn({"login": None}, lambda: FptSmsHook().get_token()), InvalidInputError),
    ("hook missing host", with_conn({"host": None}, lambda: FptSmsHook().get_token()), InvalidInputError),
    # --- FPT hook: refused by the gateway
    ("hook wrong secret", with_conn({"password": "not-the-secret"}, lambda: FptSmsHook().get_token()), AuthError),
    (
        "hook scope not granted",
        with_conn({"extra": {"scopes": "send_all"}}, lambda: FptSmsHook().get_token()),
        AuthError,
    ),
    ("hook unknown brandname", lambda h, p: FptSmsHook().send_cskh(PHONE, "x", brandname="NOPE"), BrandnameError),
    ("hook blocked word", lambda h, p: FptSmsHook().send_cskh(PHONE, "casino tonight"), ContentError),
    ("hook message too long for telco", lambda h, p: FptSmsHook().send_cskh(PHONE, "x" * 700), ContentError),
    ("hook unknown campaign", lambda h, p: FptSmsHook().campaign_status("nope"), InvalidRequestError),
    # --- Fibo hook
    ("fibo bad phone", lambda h, p: FiboSmsHook().send_masked_sms("123", "x"), InvalidInputError),
    ("fibo unknown sender", lambda h, p: FiboSmsHook().send_masked_sms(PHONE, "x", sender_name="NOPE"), BrandnameError),
    ("fibo empty message", lambda h, p: FiboSmsHook().send_masked_sms(PHONE, " "), InvalidInputError),
    (
        "fibo no money",
        lambda h, p: (h.admin.set_fibo_balance("CL0000000001", 0), FiboSmsHook().send_masked_sms(PHONE, "x")),
        QuotaError,
    ),
    # --- hostile or broken gateway replies
    ("reply html page", lambda h, p: fpt.parse_cskh(200, b"<html>login</html>"), MalformedReplyError),
    ("reply truncated json", lambda h, p: fpt.parse_cskh(200, b'{"MessageId": "1'), MalformedReplyError),
    ("reply json list", lambda h, p: fpt.parse_push(200, b"[1]"), MalformedReplyError),
    ("reply csv without phone", lambda h, p: fpt.parse_delivery_report(200, b"Status\r\n1\r\n"), MalformedReplyError),
    (
        "reply xml bomb",
        lambda h, p: fibo.parse_sms_reply(
            '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><string>&b;</string>'
        ),
        MalformedReplyError,
    ),
    (
        "reply external entity",
        lambda h, p: fibo.parse_sms_reply('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><string>&e;</string>'),
        MalformedReplyError,
    ),
    ("reply xml garbage", lambda h, p: fibo.parse_balance("not xml"), MalformedReplyError),
    ("reply unknown fibo code", lambda h, p: fibo.parse_sms_reply("<SMS><Code>999</Code></SMS>"), SmsError),
    # --- send operator
    ("send empty message", send(message="   "), InvalidInputError),
    ("send unknown column", send(message="Chao {ten}"), InvalidInputError),
    ("send unbalanced brace", send(message="Chao {ten"), InvalidInputError),
    ("send missing file", send(phones="/no/such/customers.csv"), InvalidInputError),
    ("send empty list", send(phones=[]), InvalidInputError),
    ("send invalid phones", send(phones=[PHONE, "123"]), InvalidInputError),
    ("send all invalid", send(phones=["123", "456"], fail_on="all"), InvalidInputError),
    ("send too long", send(message="y" * 1000), InvalidInputError),
    ("send control character", send(message="OTP\x00 1234"), InvalidInputError),
    (
        "send wrong connection",
        with_conn(
            {"conn_type": "fibosms"},
            lambda: FptSendSmsOperator(task_id="t", phones=[PHONE], message="x").execute(ctx()),
        ),
        InvalidInputError,
    ),
    # --- campaign operators
    ("create outside windows", create(schedule_time=SLOT[:11] + "12:15", quota=1), ScheduleError),
    ("create in the past", create(schedule_time="2020-01-01 09:00", quota=1), ScheduleError),
    ("create unreadable schedule", create(schedule_time="tomorrow morning", quota=1), ScheduleError),
    ("create no phones no quota", create(), InvalidInputError),
    ("create without the QC label", create(message="Khuyen mai", quota=1), InvalidInputError),
    ("create label not first", create(message=" [QC] Khuyen mai", quota=1), InvalidInputError),
    (
        "push bad cap",
        lambda h, p: FptPushCampaignOperator(task_id="t", campaign_code="C1", phones=[PHONE], max_per_24h=0),
        InvalidInputError,
    ),
    ("send bad suppression list", send(suppress="/nonexistent/dnc.csv"), InvalidInputError),
    ("create all phones invalid", create(phones=["123"]), InvalidInputError),
    ("create name too long", create(campaign_name="n" * 30, quota=1), InvalidInputError),
    (
        "push chunk size zero",
        lambda h, p: FptPushCampaignOperator(task_id="t", campaign_code="C1", phones=[PHONE], chunk_size=0).execute(
            ctx()
        ),
        InvalidInputError,
    ),
    (
        "push missing file",
        lambda h, p: FptPushCampaignOperator(
            task_id="t", campaign_code="C1", phones="/no/file.txt", state_path=str(p)
        ).execute(ctx()),
        SmsError,
    ),
    # --- campaign specs
    ("spec unknown key", spec(GOOD_SPEC + "qouta: 1\n"), CampaignSpecError),
    ("spec missing message", spec("send_at: next_valid\naudience: phones.txt\n"), CampaignSpecError),
    (
        "spec schedule format",
        spec('message: "[QC] x"\nsend_at: "9h sang mai"\naudience: phones.txt\n'),
        CampaignSpecError,
    ),
    ("spec missing audience", spec('message: "[QC] x"\nsend_at: next_valid\naudience: nope.csv\n'), CampaignSpecError),
    ("spec bad alert phone", spec(GOOD_SPEC + "alerts: {phones: ['0912']}\n"), CampaignSpecError),
    ("spec yaml syntax", spec("message: [unclosed\n"), CampaignSpecError),
    # --- sensors
    ("balance guard without amount", lambda h, p: FiboBalanceSensor(task_id="g").poke(ctx()), InvalidInputError),
    (
        "balance guard too low",
        lambda h, p: (
            h.admin.set_fibo_balance("CL0000000001", 1),
            FiboBalanceSensor(task_id="g", messages=5, fail_when_low=True).poke(ctx()),
        ),
        AirflowFailException,
    ),
]


@pytest.mark.parametrize(("case", "run", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    fptsms_sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    run: Case,
    expected: type[BaseException],
) -> None:
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    conn(fptsms_sandbox)
    with pytest.raises(expected) as caught:
        run(fptsms_sandbox, tmp_path)
    text = str(caught.value)
    assert text.strip(), case
    for secret in ("sandbox-secret", "sandbox-pass", PHONE, "84912345678"):
        assert secret not in text, (case, text)
    assert fptsms_sandbox.admin.summary()["total"] == 0, case


WEBHOOK_CASES = [
    ("wrong key", {"Authorization": "Basic wrong"}, b'{"smsid": "1", "status": 1}', 401),
    ("no authorization", {}, b'{"smsid": "1", "status": 1}', 401),
    ("bearer scheme", {"Authorization": "Bearer the-key-123"}, b'{"smsid": "1", "status": 1}', 401),
    ("garbage body", {"Authorization": "Basic the-key-123"}, b"<html>", 400),
    ("missing smsid", {"Authorization": "Basic the-key-123"}, b'{"status": 1}', 400),
    ("bad status", {"Authorization": "Basic the-key-123"}, b'{"smsid": "1", "status": 7}', 400),
    ("oversized body", {"Authorization": "Basic the-key-123"}, b'{"smsid": "1", "pad": "' + b"x" * 70_000 + b'"}', 413),
]


@pytest.mark.parametrize(("case", "headers", "body", "status"), WEBHOOK_CASES, ids=[c[0] for c in WEBHOOK_CASES])
async def test_bad_webhook_calls(tmp_path: Path, case: str, headers: dict[str, str], body: bytes, status: int) -> None:
    store = DlrStore(f"sqlite:///{tmp_path / 'dlr.db'}")
    app = create_dlr_app(store, "the-key-123")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fpt") as client:
        reply = await client.post("/dlr", content=body, headers={"Content-Type": "application/json", **headers})
    assert reply.status_code == status, case
    assert reply.json()["status"] == 0 and "Traceback" not in reply.text and "the-key-123" not in reply.text
    assert store.summary(["1"])["total"] in (0, 1) and store.get("1") is None
