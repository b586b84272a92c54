"""The simulated FPT gateway answers as the manual says: shapes, codes, rules and lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    ContentError,
    DuplicateMessageError,
    InvalidPhoneError,
    InvalidRequestError,
    QuotaError,
    TokenError,
)
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.conftest import FptClient


def _error(reply: requests.Response) -> tuple[int, object]:
    body = reply.json()
    assert set(body) == {"error", "error_description"}, body
    return body["error"], body["error_description"]


def test_token_reply_has_the_manual_shape(client: FptClient) -> None:
    request = fpt.token_request("sandbox-client", "sandbox-secret", fpt.DEFAULT_SCOPES, "abc")
    reply = client.post(request.path, request.body)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 86400 and body["token_type"] == "Bearer"
    assert body["scope"] == "send_brandname_otp send_brandname"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {
                "client_id": "sandbox-client",
                "client_secret": "wrong",
                "scope": "send_brandname",
                "session_id": "s",
                "grant_type": "client_credentials",
            },
            1008,
        ),
        (
            {
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
                "scope": "send_everything",
                "session_id": "s",
                "grant_type": "client_credentials",
            },
            1005,
        ),
        (
            {
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
                "scope": "send_brandname",
                "session_id": "s",
                "grant_type": "password",
            },
            1009,
        ),
        ({"client_id": "sandbox-client"}, 1001),
    ],
)
def test_token_errors(client: FptClient, body: dict[str, str], code: int) -> None:
    reply = client.post("/oauth2/token", body)
    assert reply.status_code != 200 and _error(reply)[0] == code


def test_new_token_for_same_session_replaces_the_old_one(client: FptClient) -> None:
    old = client.token("same")
    new = client.token("same")
    other = client.token("other-session")
    assert _error(client.send(old, "0912345678", "a"))[0] == 1012
    assert client.send(new, "0912345678", "b").status_code == 200
    assert client.send(other, "0912345678", "c").status_code == 200


def test_unknown_and_expired_tokens(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    assert _error(client.send("nope", "0912345678", "a"))[0] == 1011
    token = client.token()
    fptsms_sandbox.admin.advance_clock(86_401)
    with pytest.raises(TokenError) as caught:
        fpt.parse_cskh(*_status_body(client.send(token, "0912345678", "a")))
    assert caught.value.code == 1013
    fresh = client.token()
    assert fptsms_sandbox.admin.expire_tokens() == 1
    assert _error(client.send(fresh, "0912345678", "a"))[0] == 1013


def test_scope_is_required(client: FptClient) -> None:
    qc_only = client.token(scopes=("send_brandname",))
    assert _error(client.send(qc_only, "0912345678", "a"))[0] == 1010


def _status_body(reply: requests.Response) -> tuple[int, bytes]:
    return reply.status_code, reply.content


def test_cskh_send_and_ledger(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    token = client.token()
    reply = client.send(token, "0912345678", "Mã OTP 123456", "req-1")
    receipt = fpt.parse_cskh(reply.status_code, reply.content)
    assert receipt.phone == "84912345678" and receipt.telco == "vina" and receipt.message == "Mã OTP 123456"
    entries = fptsms_sandbox.admin.ledger()
    assert [(e["phone"], e["request_id"], e["kind"], e["message"]) for e in entries] == [
        ("84912345678", "req-1", "cskh", "Mã OTP 123456")
    ]


def test_duplicates_within_window(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    """The RequestId-keyed mode (the sandbox's earlier rule); content mode: test_duplicate_rule.py."""
    fptsms_sandbox.admin.configure(dedupe="request-id")
    token = client.token()
    assert client.send(token, "0912345678", "first", "rid").status_code == 200
    assert _error(client.send(token, "0912345678", "other text", "rid"))[0] == 2501  # same RequestId
    assert _error(client.send(token, "84912345678", "first"))[0] == 2501  # same phone + message
    with pytest.raises(DuplicateMessageError):
        fpt.parse_cskh(*_status_body(client.send(token, "0912345678", "first", "rid")))
    fptsms_sandbox.admin.advance_clock(301)
    assert client.send(token, "0912345678", "first", "rid").status_code == 200
    assert fptsms_sandbox.admin.summary()["total"] == 2


@pytest.mark.parametrize(
    ("phone", "message", "brandname", "cls", "code"),
    [
        ("0912", "hi", "SANDBOX", InvalidPhoneError, 53),
        ("0112345678", "hi", "SANDBOX", InvalidPhoneError, 53),
        ("0912345678", "hi", "NOT-MINE", BrandnameError, 2504),
        ("0912345678", "Choi casino ngay", "SANDBOX", ContentError, 6),
        ("0912345678", "x" * 700, "SANDBOX", ContentError, 4),
    ],
)
def test_cskh_rejections(
    client: FptClient,
    fptsms_sandbox: SandboxHandle,
    phone: str,
    message: str,
    brandname: str,
    cls: type[Exception],
    code: int,
) -> None:
    reply = client.send(client.token(), phone, message, brandname=brandname)
    with pytest.raises(cls) as caught:
        fpt.parse_cskh(reply.status_code, reply.content)
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_message_must_be_base64(client: FptClient) -> None:
    token = client.token()
    body = {
        "access_token": token,
        "session_id": "s",
        "BrandName": "SANDBOX",
        "Phone": "0912345678",
        "Message": "not base64!",
    }
    assert _error(client.post("/api/push-brandname-otp", body))[0] == 8


def test_international(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    reply = client.send(client.token(), "1749123456", "Your code 1234", international=True)
    assert reply.json()["Telco"] == "US"
    assert fptsms_sandbox.admin.ledger(kind="cskh_international")[0]["phone"] == "1749123456"


@pytest.mark.parametrize(
    "raw",
    [b"garbage", b"[1,2]", b"", b'{"access_token": 5}', b'{"access_token": "x", "Phone": ["a"]}'],
)
def test_bad_requests_get_the_manual_shape(client: FptClient, raw: bytes) -> None:
    for path in ("/api/push-brandname-otp", "/api/create-campaign", "/oauth2/token", "/api/dlr-ads"):
        reply = client.http.post(client.url + path, data=raw, headers={"Content-Type": "application/json"})
        code, _ = _error(reply)
        assert reply.status_code >= 400 and isinstance(code, int) and "Traceback" not in reply.text


def test_unknown_paths_and_methods_get_the_manual_shape(client: FptClient) -> None:
    assert _error(client.http.get(client.url + "/api/push-brandname-otp"))[0] == 1001
    assert _error(client.http.post(client.url + "/api/nope", json={}))[0] == 1001
    assert _error(client.http.get(client.url + "/"))[0] == 1001


def test_oversized_body_is_refused(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.sandbox.config.max_body_bytes = 1000  # type: ignore[union-attr]
    reply = client.post("/api/push-brandname-ads", {"PhoneList": "0912345678," * 200})
    assert reply.status_code == 413 and _error(reply)[0] == 1014


# ---------------------------------------------------------------------- QC campaigns


def _slot(days: int = 2, hour: int = 9) -> str:
    moment = datetime.now(fpt.VN_TZ) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0).strftime(fpt.SCHEDULE_FORMAT)


def _raise(reply: requests.Response) -> None:
    fpt.parse_json_reply(reply.status_code, reply.content)


def test_campaign_rules(client: FptClient) -> None:
    token = client.token()
    assert client.create(token, "promo-1", "Giam 50%", _slot(), 10).status_code == 200
    reply = client.create(token, "promo-1", "Giam 50%", _slot(), 10)
    assert _error(reply) == (1014, "Campaign name already exists.")
    long_name = {
        "access_token": token,
        "session_id": "s",
        "CampaignName": "x" * 33,
        "BrandName": "SANDBOX",
        "Message": "m",
        "ScheduleTime": _slot(),
        "Quota": 1,
    }
    assert _error(client.post("/api/create-campaign", long_name))[0] == 1014
    for schedule in ("2030/01/01 09:00", _slot(hour=12), _slot(hour=21), _slot(days=-1)):
        body = {**long_name, "CampaignName": f"n-{schedule}"[:32], "ScheduleTime": schedule}
        # the manual's table text for 1014 (line 776); it names no field
        assert _error(client.post("/api/create-campaign", body)) == (1014, "Input parameter error")
    with pytest.raises(InvalidRequestError):
        _raise(client.post("/api/create-campaign", {**long_name, "CampaignName": "q", "Quota": 0}))


def test_campaign_lifecycle(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(approval_delay=60, dlr_delay=3600, dlr_failure_rate=0.5)
    token = client.token()
    schedule = _slot()
    code = fpt.parse_campaign_created(*_status_body(client.create(token, "life", "Khuyen mai", schedule, 5)))

    def push(phones: str) -> requests.Response:  # a fresh token each time: the clock jumps days ahead
        return client.post(
            "/api/push-brandname-ads",
            {"access_token": client.token(), "session_id": "s", "CampaignCode": code, "PhoneList": phones},
        )

    def detail() -> fpt.CampaignStatus:
        reply = client.post("/api/detail-ads", {"access_token": client.token(), "CampaignCode": code})
        return fpt.parse_campaign_detail(reply.status_code, reply.content)

    def report() -> list[fpt.DeliveryRecord]:
        reply = client.post("/api/dlr-ads", {"access_token": client.token(), "campaign_code": code})
        assert reply.headers["content-type"].startswith("text/csv")
        return fpt.parse_delivery_report(reply.status_code, reply.content)

    receipt = fpt.parse_push(*_status_body(push("0987654321,0912345678,bad")))
    assert (receipt.num_message_sent, receipt.num_remain_quota) == (2, 3) and receipt.batch_id.startswith("qc.")
    with pytest.raises(QuotaError):
        _raise(push("0911111111,0911111112,0911111113,0911111114"))
    assert detail().state == "pending_approval" and detail().total == 2 and detail().quota == 5
    assert report() == []
    fptsms_sandbox.admin.advance_clock(61)
    assert detail().state == "approved"
    send_moment = datetime.strptime(schedule, fpt.SCHEDULE_FORMAT).replace(tzinfo=fpt.VN_TZ) + timedelta(minutes=1)
    fptsms_sandbox.admin.set_clock(send_moment.isoformat())
    status = detail()
    assert status.is_sent and status.state == "sent" and status.sending_time
    assert {r.status for r in report()} == {"pending"}
    assert _error(push("0911111111")) == (1014, "Campaign is already sent.")
    fptsms_sandbox.admin.advance_clock(3601)
    rows = report()
    assert sorted(r.phone for r in rows) == ["84912345678", "84987654321"]
    assert {r.status for r in rows} <= {"delivered", "failed"} and all(r.message_id == receipt.batch_id for r in rows)
    assert fptsms_sandbox.admin.summary(campaign_code=code)["total"] == 2


def test_campaign_rejected_for_blocked_word(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(approval_delay=0, blocked_words=["xo so"])
    token = client.token()
    code = client.create(token, "bad", "Mua xo so ngay", _slot(), 5).json()["CampaignCode"]
    reply = client.post("/api/detail-ads", {"access_token": token, "CampaignCode": code})
    status = fpt.parse_campaign_detail(reply.status_code, reply.content)
    assert status.rejected and "xo so" in (status.reason or "")
    push = client.post(
        "/api/push-brandname-ads",
        {"access_token": token, "session_id": "s", "CampaignCode": code, "PhoneList": "0912345678"},
    )
    assert _error(push) == (1014, "Input parameter error")


def test_send_delay_replaces_schedule_time_for_demos(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0)
    token = client.token()
    code = client.create(token, "fast", "Khuyen mai", _slot(days=30), 5).json()["CampaignCode"]
    client.post(
        "/api/push-brandname-ads",
        {"access_token": token, "session_id": "s", "CampaignCode": code, "PhoneList": "0912345678"},
    )
    reply = client.post("/api/detail-ads", {"access_token": token, "CampaignCode": code})
    assert fpt.parse_campaign_detail(reply.status_code, reply.content).is_sent


def test_campaign_of_another_client_is_not_visible(client: FptClient) -> None:
    reply = client.post("/api/detail-ads", {"access_token": client.token(), "CampaignCode": "nope"})
    assert _error(reply) == (1014, "Input parameter error")


def test_wrong_credentials_never_leak_a_stack_trace(client: FptClient) -> None:
    with pytest.raises(AuthError):
        _raise(
            client.post(
                "/oauth2/token",
                {
                    "client_id": "x",
                    "client_secret": "y",
                    "scope": "send_brandname",
                    "session_id": "s",
                    "grant_type": "client_credentials",
                },
            )
        )
