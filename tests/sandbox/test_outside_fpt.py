"""FPT from the outside: the manual's own sample requests as JSON, session_id, Quota, and the table's texts.

Line numbers are those of seeds/fpt-sms-brandname-api.txt ("the manual"). Bodies are written as the manual
prints them (field names case-sensitive, line 153); only the credentials and the token are the sandbox's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
# lines 170, 236, 287, 379, 481, 569: the manual's sample session_id, 43 characters
SAMPLE_SESSION = "5c22be0c0396440829c98d7ba124092020145753419"


def _post(handle: SandboxHandle, path: str, body: Any) -> requests.Response:
    return requests.post(handle.url + path, json=body, timeout=10)


def _token(handle: SandboxHandle, session_id: str = SAMPLE_SESSION) -> str:
    # 3.1.1 sample data (lines 166-172)
    body = {
        **CLIENT,
        "scope": "send_brandname_otp send_brandname",
        "session_id": session_id,
        "grant_type": "client_credentials",
    }
    reply = _post(handle, "/oauth2/token", body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


def _failure(reply: requests.Response) -> tuple[int, str]:
    # "'Failure' cases (HTTP response status codes <> 200)": error (Int), error_description (String),
    # sample lines 213-218
    assert reply.status_code != 200, reply.text
    body = reply.json()
    assert set(body) == {"error", "error_description"}, body
    return body["error"], body["error_description"]


def _future_slot() -> str:
    # ScheduleTime "Format: yyyy-mm-dd HH:ii" (line 473), inside "08:00 - 11:30" (the QC time frames, 3.4.1)
    day = datetime.now() + timedelta(days=3)
    return day.replace(hour=9, minute=0).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------- the manual's samples


def test_the_token_sample_succeeds_with_its_43_character_session_id(fptsms_sandbox: SandboxHandle) -> None:
    body = {
        **CLIENT,
        "scope": "send_brandname_otp send_brandname",
        "session_id": SAMPLE_SESSION,
        "grant_type": "client_credentials",
    }
    reply = _post(fptsms_sandbox, "/oauth2/token", body)
    # line 241: "Response: 200 OK"; lines 184-202: access_token, expires_in 86400, token_type Bearer, scope
    assert reply.status_code == 200
    token = reply.json()
    assert set(token) == {"access_token", "expires_in", "token_type", "scope"}
    assert (token["expires_in"], token["token_type"]) == (86400, "Bearer")
    assert token["scope"] == "send_brandname_otp send_brandname"


def test_the_cskh_sample(fptsms_sandbox: SandboxHandle) -> None:
    # 3.2.1 sample data (lines 285-292)
    body = {
        "access_token": _token(fptsms_sandbox),
        "session_id": SAMPLE_SESSION,
        "BrandName": "FTI",
        "Phone": "84848486687",
        "Message": "ZGF5IGxhIG5vaSBkdW5nIHRlc3Q=",
        "RequestId": "tranID-Core01-987654321",
    }
    reply = _post(fptsms_sandbox, "/api/push-brandname-otp", body)
    # 3.2.2 (lines 301-320): MessageId, Phone, BrandName, Message, PartnerId, Telco; the sample: "Telco": "vina"
    assert reply.status_code == 200
    sent = reply.json()
    assert set(sent) == {"MessageId", "Phone", "BrandName", "Message", "PartnerId", "Telco"}
    assert (sent["Phone"], sent["BrandName"], sent["Telco"]) == ("84848486687", "FTI", "vina")
    assert sent["Message"] == "day la noi dung test"  # the sample's Base64, decoded


def test_the_international_sample(fptsms_sandbox: SandboxHandle) -> None:
    # 3.3.1 sample data (lines 373-383); 3.3.2 sample reply: "Phone": "1749123456", "Telco": "US" (lines 399-408)
    body = {
        "access_token": _token(fptsms_sandbox),
        "session_id": SAMPLE_SESSION,
        "BrandName": "FTI",
        "Phone": "1749123456",
        "Message": "ZGF5IGxhIG5vaSBkdW5nIHRlc3Q=",
        "RequestId": "tranID-Core01-987654321",
    }
    reply = _post(fptsms_sandbox, "/api/push-brandname-international", body)
    assert reply.status_code == 200 and (reply.json()["Phone"], reply.json()["Telco"]) == ("1749123456", "US")


def test_the_campaign_samples(fptsms_sandbox: SandboxHandle) -> None:
    # The manual's sample ScheduleTime (2021-06-18 09:00) is past: the sandbox's QC windows switch lets it through.
    fptsms_sandbox.admin.configure(enforce_windows=False, approval_delay=3600)
    token = _token(fptsms_sandbox)
    # 3.4.3.1 sample data (lines 479-493; the manual prints it in two pieces, with a stray comma)
    create = {
        "access_token": token,
        "session_id": SAMPLE_SESSION,
        "CampaignName": " Promotion program 06/2021",
        "BrandName": "FTI",
        "Message": " Discount 50% for all purchase order under 100 million dong ",
        "ScheduleTime": "2021-06-18 09:00",
        "Quota": 1000,
    }
    created = _post(fptsms_sandbox, "/api/create-campaign", create)
    # 3.4.3.2 (lines 503-512): {"CampaignCode": "MjIxNQ==60cb06fa1d9bb"}
    assert created.status_code == 200 and set(created.json()) == {"CampaignCode"}
    # lines 527-530: a second campaign with the same name: 1014 "Campaign name already exists."
    assert _failure(_post(fptsms_sandbox, "/api/create-campaign", create)) == (1014, "Campaign name already exists.")
    # 3.4.4.1 sample data (lines 567-572)
    push = {
        "access_token": token,
        "session_id": SAMPLE_SESSION,
        "CampaignCode": created.json()["CampaignCode"],
        "PhoneList": "0987654321,0987654123",
    }
    pushed = _post(fptsms_sandbox, "/api/push-brandname-ads", push)
    # 3.4.4.2 (lines 581-593): NumMessageSent, NumRemainQuota, BatchId; the sample sends 2 numbers: 2 sent
    assert pushed.status_code == 200 and set(pushed.json()) == {"NumMessageSent", "NumRemainQuota", "BatchId"}
    assert pushed.json()["NumMessageSent"] == 2 and pushed.json()["NumRemainQuota"] == 998


# ---------------------------------------------------------------------- session_id


def _cskh(token: str, **changes: Any) -> dict[str, Any]:
    body = {
        "access_token": token,
        "session_id": SAMPLE_SESSION,
        "BrandName": "FTI",
        "Phone": "0987654321",
        "Message": "ZGF5IGxhIG5vaSBkdW5nIHRlc3Q=",
        **changes,
    }
    return {k: v for k, v in body.items() if v is not None}


def _campaign(token: str, **changes: Any) -> dict[str, Any]:
    body = {
        "access_token": token,
        "session_id": SAMPLE_SESSION,
        "CampaignName": "session-check",
        "BrandName": "FTI",
        "Message": "Khuyen mai",
        "ScheduleTime": _future_slot(),
        "Quota": 10,
        **changes,
    }
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize("session_id", [None, ""])
def test_session_id_is_compulsory_on_every_call_that_lists_it(
    fptsms_sandbox: SandboxHandle, session_id: str | None
) -> None:
    token = _token(fptsms_sandbox)
    # "session_id | String | Compulsory": CSKH line 274, international line 364, create-campaign line 466
    for path, body in (
        ("/api/push-brandname-otp", _cskh(token, session_id=session_id)),
        ("/api/push-brandname-international", _cskh(token, session_id=session_id, Phone="1749123456")),
        ("/api/create-campaign", _campaign(token, session_id=session_id)),
    ):
        # 1014 "Input parameter error" (line 776)
        assert _failure(_post(fptsms_sandbox, path, body)) == (1014, "Input parameter error"), path
    code = _post(fptsms_sandbox, "/api/create-campaign", _campaign(token)).json()["CampaignCode"]
    push = {"access_token": token, "CampaignCode": code, "PhoneList": "0987654321", "session_id": session_id}
    # push-brandname-ads line 557: Compulsory
    assert (
        _failure(_post(fptsms_sandbox, "/api/push-brandname-ads", {k: v for k, v in push.items() if v is not None}))[0]
        == 1014
    )
    # the token request, line 160: Compulsory; its malformed requests are 1001 "Invalid Request" (line 763)
    token_body = {**CLIENT, "scope": "send_brandname", "grant_type": "client_credentials", "session_id": session_id}
    assert _failure(_post(fptsms_sandbox, "/oauth2/token", {k: v for k, v in token_body.items() if v is not None})) == (
        1001,
        "Invalid Request",
    )
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_detail_ads_takes_no_session_id(fptsms_sandbox: SandboxHandle) -> None:
    token = _token(fptsms_sandbox)
    code = _post(fptsms_sandbox, "/api/create-campaign", _campaign(token)).json()["CampaignCode"]
    # 4.2.1 data input (lines 713-715): access_token and CampaignCode only
    reply = _post(fptsms_sandbox, "/api/detail-ads", {"access_token": token, "CampaignCode": code})
    assert reply.status_code == 200 and reply.json()["CampaignCode"] == code


def test_strict_session_id_enforces_the_tables_32(fptsms_sandbox: SandboxHandle) -> None:
    # "Random string of characters (<= 32 characters)" (lines 160, 274, 364, 466, 557), as a switch: the
    # default follows the manual's own 43-character sample, shown succeeding (line 241)
    fptsms_sandbox.admin.configure(strict_session_id=True)
    body = {**CLIENT, "scope": "send_brandname_otp", "session_id": SAMPLE_SESSION, "grant_type": "client_credentials"}
    assert _failure(_post(fptsms_sandbox, "/oauth2/token", body))[0] == 1001
    token = _token(fptsms_sandbox, session_id="s" * 32)
    assert _failure(_post(fptsms_sandbox, "/api/push-brandname-otp", _cskh(token)))[0] == 1014
    assert _post(fptsms_sandbox, "/api/push-brandname-otp", _cskh(token, session_id="s" * 32)).status_code == 200


# ---------------------------------------------------------------------- Quota is an Int


@pytest.mark.parametrize("quota", ["1000", 1000.5, True, 0, None])
def test_quota_must_be_an_int(fptsms_sandbox: SandboxHandle, quota: Any) -> None:
    # "Quota | Int | Compulsory" (line 474); the sample sends 1000 (line 492)
    token = _token(fptsms_sandbox)
    body = _campaign(token, Quota=quota)  # None: no Quota at all
    assert _failure(_post(fptsms_sandbox, "/api/create-campaign", body)) == (1014, "Input parameter error")
    assert _post(fptsms_sandbox, "/api/create-campaign", _campaign(token, Quota=1000)).status_code == 200


# ---------------------------------------------------------------------- the error table's texts


def test_failures_say_what_the_manual_says(fptsms_sandbox: SandboxHandle) -> None:
    token = _token(fptsms_sandbox)
    qc_only = _post(
        fptsms_sandbox,
        "/oauth2/token",
        {**CLIENT, "scope": "send_brandname", "session_id": "qc", "grant_type": "client_credentials"},
    ).json()["access_token"]
    cases = [
        # line 216: the token request's failure sample
        (
            "/oauth2/token",
            {
                **CLIENT,
                "client_secret": "wrong",
                "scope": "send_brandname",
                "session_id": "s",
                "grant_type": "client_credentials",
            },
            1008,
            "Invalid Client Information.",
        ),
        # line 767: 1005 Invalid scopes
        (
            "/oauth2/token",
            {**CLIENT, "scope": "send_everything", "session_id": "s", "grant_type": "client_credentials"},
            1005,
            "Invalid scopes",
        ),
        # line 771: 1009 Invalid permission type (grant_type: "currently only client_credentials is allowed", line 156)
        (
            "/oauth2/token",
            {**CLIENT, "scope": "send_brandname", "session_id": "s", "grant_type": "password"},
            1009,
            "Invalid permission type",
        ),
        # line 335: the CSKH failure sample
        ("/api/push-brandname-otp", _cskh("not-a-token"), 1011, "Access token is incorrect."),
        # line 418: the international failure sample
        (
            "/api/push-brandname-international",
            _cskh("not-a-token", Phone="1749123456"),
            1011,
            "Access token is invalid.",
        ),
        # line 772: 1010; CSKH needs "Scope requirement: send_brandname_otp" (line 267)
        ("/api/push-brandname-otp", _cskh(qc_only), 1010, "Scope is insufficient permission to access"),
        # line 782: 2504 Brandname is not activated or locked
        ("/api/push-brandname-otp", _cskh(token, BrandName="NOT-MINE"), 2504, "Brandname is not activated or locked"),
        # line 796: 53 Wrong phone number
        ("/api/push-brandname-otp", _cskh(token, Phone="12345"), 53, "Wrong phone number"),
        # line 795: 8 "Cannot decrypt, message sent is not encrypted.." ("must be encrypted Base64", line 279)
        (
            "/api/push-brandname-otp",
            _cskh(token, Message="not base64!"),
            8,
            "Cannot decrypt, message sent is not encrypted.. (Direction Viettel Bank)",
        ),
        # line 776: 1014 Input parameter error (a missing compulsory BrandName)
        ("/api/push-brandname-otp", _cskh(token, BrandName=None), 1014, "Input parameter error"),
    ]
    for path, body, code, text in cases:
        assert _failure(_post(fptsms_sandbox, path, body)) == (code, text), (path, code)


def test_a_body_that_is_not_json(fptsms_sandbox: SandboxHandle) -> None:
    # "Data type: JSON" (line 269); 1001 Invalid Request (line 763)
    reply = requests.post(fptsms_sandbox.url + "/api/push-brandname-otp", data=b"Phone=0987654321", timeout=10)
    assert _failure(reply) == (1001, "Invalid Request")


def test_a_repeat_within_5_minutes(fptsms_sandbox: SandboxHandle) -> None:
    token = _token(fptsms_sandbox)
    assert _post(fptsms_sandbox, "/api/push-brandname-otp", _cskh(token)).status_code == 200
    # line 779: "2501 or 1 | Duplicate message in 5 minutes"
    assert _failure(_post(fptsms_sandbox, "/api/push-brandname-otp", _cskh(token))) == (
        2501,
        "Duplicate message in 5 minutes",
    )
