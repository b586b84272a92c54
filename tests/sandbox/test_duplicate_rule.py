"""FPT's duplicate rule (2501) as the manual states it, the RequestId-keyed switch, and the ledger's count.

Written from the manuals, not from the code:

- seeds/fpt-sms-brandname-api.txt line 779: "2501 or 1 | Duplicate message in 5 minutes".
- seeds/fpt-sms-brandname-api.txt line 280 (CSKH) and 369 (international): "RequestId | String | Option |
  Value Option (<=100). Client can choose definition of Value distinguish the sending source, export the
  report ..." -- a free label, not a de-duplication key.
- seeds/fibo-sms-api.txt line 158: "6 | Lập nội dung" (repeated content); line 91: "smsGUID : 0 (mặc định)";
  FIBO_API_V2.md line 20: smsGUID "is the client's own id, used later to read the status".

Every test pins the mode it is about, so the file passes whatever ``FPTSMS_SANDBOX_DEDUPE`` says.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import requests

from airflow_provider_fptsms.gateways import fibo, fpt
from airflow_provider_fptsms.gateways.errors import DuplicateMessageError
from airflow_provider_fptsms.sandbox.config import SandboxConfig
from airflow_provider_fptsms.sandbox.ledger import Ledger
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.sandbox.conftest import FptClient

PHONE = "0912345678"
FIVE_MINUTES = 300  # manual line 779: "Duplicate message in 5 minutes"


def _code(reply: requests.Response) -> int | None:
    return reply.json().get("error") if reply.status_code != 200 else None


def _raw_send(client: FptClient, token: str, request_id: object, text: str = "hello") -> requests.Response:
    """A CSKH body built by hand (fpt.cskh_request refuses a bad RequestId before it is sent)."""
    body = {
        "access_token": token,
        "session_id": client.session_id,
        "BrandName": "SANDBOX",
        "Phone": PHONE,
        "Message": base64.b64encode(text.encode()).decode(),
        "RequestId": request_id,
    }
    return client.post(fpt.CSKH_PATH, body)


# ---------------------------------------------------------------------- content mode (the manual)


def test_content_same_phone_and_text_within_five_minutes_is_2501(
    client: FptClient, fptsms_sandbox: SandboxHandle
) -> None:
    fptsms_sandbox.admin.configure(dedupe="content")
    token = client.token()
    assert client.send(token, PHONE, "Ma OTP 123456", "rid-a").status_code == 200
    # line 779: the same message to the same subscriber within 5 minutes -- the RequestId plays no part,
    # and 0xxx / 84xx are one subscriber (line 278: "Format: 84xx or 0xxx")
    again = client.send(token, "84912345678", "Ma OTP 123456", "rid-b")
    assert again.status_code == 400 and _code(again) == 2501
    with pytest.raises(DuplicateMessageError):
        fpt.parse_cskh(again.status_code, again.content)
    assert _code(client.send(token, PHONE, "Ma OTP 123456")) == 2501  # nor does leaving RequestId out
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["duplicates"], summary["request_id_reuse"]) == (1, 0, 0)


def test_content_same_request_id_with_another_text_is_accepted(
    client: FptClient, fptsms_sandbox: SandboxHandle
) -> None:
    fptsms_sandbox.admin.configure(dedupe="content")
    token = client.token()
    # line 280: RequestId only labels "the sending source"; two different messages may share it
    assert client.send(token, PHONE, "first text", "server-A").status_code == 200
    assert client.send(token, PHONE, "second text", "server-A").status_code == 200
    entries = fptsms_sandbox.admin.ledger()
    assert [(e["request_id"], e["message"]) for e in entries] == [
        ("server-A", "first text"),
        ("server-A", "second text"),
    ]
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (2, 2, 0)
    assert summary["request_id_reuse"] == 1


@pytest.mark.parametrize("how", ["advance_clock", "short_window"])
def test_content_same_text_after_the_window_is_accepted_and_counted(
    client: FptClient, fptsms_sandbox: SandboxHandle, how: str
) -> None:
    fptsms_sandbox.admin.configure(dedupe="content")
    token = client.token()
    assert client.send(token, PHONE, "Your bill is ready", "rid-1").status_code == 200
    if how == "advance_clock":
        fptsms_sandbox.admin.advance_clock(FIVE_MINUTES - 5)
        assert _code(client.send(token, PHONE, "Your bill is ready", "rid-2")) == 2501  # still inside 5 minutes
        fptsms_sandbox.admin.advance_clock(10)
    else:
        fptsms_sandbox.admin.configure(duplicate_window=0.2)
        time.sleep(0.3)
    # after the window FPT takes it (line 779 limits the rule to 5 minutes): the subscriber gets it twice
    assert client.send(token, PHONE, "Your bill is ready", "rid-2").status_code == 200
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (2, 1, 1)
    assert summary["request_id_reuse"] == 0


@pytest.mark.parametrize("request_id", ["x" * 101, 12345, ["a"]])
@pytest.mark.parametrize("mode", ["content", "request-id"])
def test_request_id_is_still_validated(
    client: FptClient, fptsms_sandbox: SandboxHandle, request_id: object, mode: str
) -> None:
    fptsms_sandbox.admin.configure(dedupe=mode)
    # lines 280/369: "RequestId | String | Option | Value Option (<=100)"
    reply = _raw_send(client, client.token(), request_id)
    assert reply.status_code == 400 and _code(reply) == 1014
    assert _raw_send(client, client.token(), "x" * 100).status_code == 200
    assert [e["request_id"] for e in fptsms_sandbox.admin.ledger()] == ["x" * 100]


# ---------------------------------------------------------------------- request-id mode (the switch)


def test_request_id_mode_refuses_a_reused_request_id(client: FptClient, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dedupe="request-id")
    token = client.token()
    assert client.send(token, PHONE, "first text", "server-A").status_code == 200
    reply = client.send(token, "0987654321", "second text", "server-A")
    assert reply.status_code == 400 and _code(reply) == 2501
    assert _code(client.send(token, PHONE, "first text", "server-B")) == 2501  # content still counts too
    assert client.send(token, PHONE, "second text", "server-B").status_code == 200
    fptsms_sandbox.admin.advance_clock(FIVE_MINUTES + 1)
    assert client.send(token, "0987654321", "third text", "server-A").status_code == 200
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["duplicates"], summary["request_id_reuse"]) == (3, 0, 1)


def test_switching_to_request_id_mode_covers_sends_already_made(
    client: FptClient, fptsms_sandbox: SandboxHandle
) -> None:
    fptsms_sandbox.admin.configure(dedupe="content")
    token = client.token()
    assert client.send(token, PHONE, "one", "rid").status_code == 200
    assert fptsms_sandbox.admin.configure(dedupe="request-id")["dedupe"] == "request-id"
    assert _code(client.send(token, PHONE, "two", "rid")) == 2501


def test_config_shows_and_validates_dedupe(fptsms_sandbox: SandboxHandle) -> None:
    shown = requests.get(fptsms_sandbox.url + "/_sandbox/config", timeout=5).json()
    assert shown["dedupe"] in ("content", "request-id")
    reply = requests.patch(fptsms_sandbox.url + "/_sandbox/config", json={"dedupe": "phone"}, timeout=5)
    assert reply.status_code == 400 and "dedupe" in reply.json()["detail"]
    assert "content" in reply.json()["detail"] and "request-id" in reply.json()["detail"]
    assert requests.get(fptsms_sandbox.url + "/_sandbox/config", timeout=5).json()["dedupe"] == shown["dedupe"]


def test_default_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FPTSMS_SANDBOX_DEDUPE", raising=False)
    assert SandboxConfig().dedupe == "content"
    monkeypatch.setenv("FPTSMS_SANDBOX_DEDUPE", "request-id")
    assert SandboxConfig().dedupe == "request-id"
    monkeypatch.setenv("FPTSMS_SANDBOX_DEDUPE", "by-phone")
    with pytest.raises(ValueError, match="dedupe"):
        SandboxConfig()


# ---------------------------------------------------------------------- Fibo: content only


@pytest.mark.parametrize("mode", ["content", "request-id"])
def test_fibo_is_content_only_in_both_modes(fptsms_sandbox: SandboxHandle, mode: str) -> None:
    fptsms_sandbox.admin.configure(dedupe=mode)

    def send(text: str, guid: str) -> requests.Response:
        params = {
            "clientNo": "CL0000000001",
            "clientPass": "sandbox-pass",
            "senderName": "SANDBOX",
            "phoneNumber": PHONE,
            "smsMessage": text,
            "smsGUID": guid,
            "serviceType": "0",
        }
        return requests.get(fptsms_sandbox.url + "/Service.asmx/SendMaskedSMS", params=params, timeout=10)

    assert fibo.parse_sms_reply(send("first", "guid-1").content).code == 200
    # smsGUID is the client's id for reading the status (FIBO_API_V2.md line 20): no refusal for reuse
    assert fibo.parse_sms_reply(send("second", "guid-1").content).code == 200
    with pytest.raises(DuplicateMessageError):  # seed line 158: 6 "Lập nội dung" -- repeated content
        fibo.parse_sms_reply(send("first", "guid-2").content)
    summary = fptsms_sandbox.admin.summary(gateway="fibo")
    assert (summary["total"], summary["duplicates"], summary["request_id_reuse"]) == (2, 0, 1)


# ---------------------------------------------------------------------- the ledger: what a subscriber sees


def _slot(days: int = 2) -> str:
    return (datetime.now(fpt.VN_TZ) + timedelta(days=days)).replace(hour=9, minute=0).strftime(fpt.SCHEDULE_FORMAT)


def _campaign(client: FptClient, token: str, name: str, text: str, phones: str) -> str:
    created = client.create(token, name, text, _slot(), 10)
    code = fpt.parse_campaign_created(created.status_code, created.content)
    body = {"access_token": token, "session_id": "s", "CampaignCode": code, "PhoneList": phones}
    pushed = client.post(fpt.PUSH_CAMPAIGN_PATH, body)
    assert pushed.status_code == 200, pushed.text
    return code


def test_qc_entries_carry_the_text_and_repeats_across_campaigns_count(
    client: FptClient, fptsms_sandbox: SandboxHandle
) -> None:
    token = client.token()
    first = _campaign(client, token, "spring-1", "Giam 50% hom nay", "0912345678,0987654321")
    second = _campaign(client, token, "spring-2", "Giam 50% hom nay", "0912345678")  # same text, same phone
    _campaign(client, token, "summer-1", "Mua he giam 30%", "0912345678")  # same phone, another text
    assert {e["message"] for e in fptsms_sandbox.admin.ledger(kind="qc")} == {"Giam 50% hom nay", "Mua he giam 30%"}
    for code in (first, second):
        assert fptsms_sandbox.admin.summary(campaign_code=code)["duplicates"] == 0  # each campaign alone is clean
    summary = fptsms_sandbox.admin.summary()
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (4, 3, 1)
    assert summary["by_kind"] == {"qc": 4} and summary["request_id_reuse"] == 0
    (key,) = summary["duplicate_keys"]
    assert key[:3] == ["fpt", "sandbox-client", "84912***678"] and key[3].startswith("sha256:")
    text = json.dumps(summary, ensure_ascii=False)
    assert "84912345678" not in text and "Giam 50%" not in text


def test_cskh_and_qc_with_the_same_text_to_one_phone_is_a_duplicate(
    client: FptClient, fptsms_sandbox: SandboxHandle
) -> None:
    token = client.token()
    assert client.send(token, PHONE, "Giam 50% hom nay").status_code == 200
    _campaign(client, token, "promo", "Giam 50% hom nay", PHONE)
    summary = fptsms_sandbox.admin.summary()
    assert summary["by_kind"] == {"cskh": 1, "qc": 1} and summary["duplicates"] == 1


def test_ledger_summary_keys_and_masking() -> None:
    ledger = Ledger()
    common = {"gateway": "fpt", "kind": "cskh", "account": "acc", "brandname": "B", "accepted_at": 0.0}
    ledger.add(phone="84912345678", message_id="1", request_id="r1", message="hi", **common)
    ledger.add(phone="84912345678", message_id="2", request_id="r1", message="hi", **common)  # dup + reuse
    ledger.add(phone="84912345678", message_id="3", request_id="r1", message="bye", **common)  # reuse only
    ledger.add(phone="84912345678", message_id="4", message="bye", **common)  # dup, no RequestId
    ledger.add(phone="84987654321", message_id="5", message="bye", **common)
    ledger.add(**{**common, "gateway": "fibo", "kind": "fibo"}, phone="84912345678", message_id="6", request_id="r1")
    summary = ledger.summary()
    assert set(summary) == {"total", "by_kind", "unique", "duplicates", "duplicate_keys", "request_id_reuse"}
    assert (summary["total"], summary["unique"], summary["duplicates"]) == (6, 4, 2)
    assert summary["request_id_reuse"] == 2  # fibo's "r1" belongs to another gateway's account
    assert [key[:3] for key in summary["duplicate_keys"]] == [["fpt", "acc", "84912***678"]] * 2
    assert "84912345678" not in repr(summary) and "'hi'" not in repr(summary) and "'bye'" not in repr(summary)


# ---------------------------------------------------------------------- CLI and environment


def _config(url: str) -> dict[str, object]:
    return requests.get(url + "/_sandbox/config", timeout=10).json()


def _reuse_is_refused(url: str) -> bool:
    request = fpt.token_request("sandbox-client", "sandbox-secret", fpt.DEFAULT_SCOPES, "s")
    token = requests.post(url + request.path, json=request.body, timeout=10).json()["access_token"]
    codes = []
    for text in ("one", "two"):
        send = fpt.cskh_request(token, "s", "SANDBOX", PHONE, text, "same-rid")
        codes.append(requests.post(url + send.path, json=send.body, timeout=10).status_code)
    assert codes[0] == 200
    return codes[1] == 400


def test_cli_flag_and_environment_choose_the_rule() -> None:
    with SandboxProcess("--dedupe", "request-id", env={"FPTSMS_SANDBOX_DEDUPE": "content"}) as flagged:
        assert _config(flagged.url)["dedupe"] == "request-id" and _reuse_is_refused(flagged.url)  # flag wins
    with SandboxProcess(env={"FPTSMS_SANDBOX_DEDUPE": "request-id"}) as from_env:
        assert _config(from_env.url)["dedupe"] == "request-id" and _reuse_is_refused(from_env.url)
    with SandboxProcess(env={"FPTSMS_SANDBOX_DEDUPE": "content"}) as default:
        assert _config(default.url)["dedupe"] == "content" and not _reuse_is_refused(default.url)


def test_cli_refuses_an_unknown_rule() -> None:
    module = "airflow_provider_fptsms.sandbox.cli"
    flag = subprocess.run(
        [sys.executable, "-m", module, "--dedupe", "phone"], capture_output=True, text=True, timeout=30
    )
    assert flag.returncode == 2 and "--dedupe" in flag.stderr
    env = subprocess.run(
        [sys.executable, "-m", module, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FPTSMS_SANDBOX_DEDUPE": "phone"},
    )
    assert env.returncode == 2 and "dedupe" in env.stderr
