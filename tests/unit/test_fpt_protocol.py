"""FPT request builders and reply parsers against the manual's samples."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import (
    DuplicateMessageError,
    InvalidInputError,
    MalformedReplyError,
    QuotaError,
    RetryableError,
    TokenError,
)


def test_token_request_matches_manual_sample() -> None:
    request = fpt.token_request("cid", "csecret", fpt.DEFAULT_SCOPES, "sess")
    assert request.path == "/oauth2/token"
    assert request.body == {
        "client_id": "cid",
        "client_secret": "csecret",
        "scope": "send_brandname_otp send_brandname",
        "session_id": "sess",
        "grant_type": "client_credentials",
    }
    assert "csecret" not in repr(request) and request.redacted()["client_secret"] == "***"


def test_cskh_request_base64s_utf8_and_uses_exact_field_names() -> None:
    request = fpt.cskh_request("T0KEN-xyz", "sess", "FTI", "84848486687", "Mã OTP: 123456 – đồng", "tranID-1")
    assert request.path == "/api/push-brandname-otp"
    assert set(request.body) == {"access_token", "session_id", "BrandName", "Phone", "Message", "RequestId"}
    assert base64.b64decode(request.body["Message"]).decode("utf-8") == "Mã OTP: 123456 – đồng"
    assert "T0KEN-xyz" not in repr(request)


def test_manual_base64_sample_decodes() -> None:
    assert fpt.encode_message("day la noi dung test") == "ZGF5IGxhIG5vaSBkdW5nIHRlc3Q="


def test_international_path_and_optional_request_id() -> None:
    request = fpt.cskh_request("tok", "sess", "FTI", "1749123456", "hi", international=True)
    assert request.path == "/api/push-brandname-international" and "RequestId" not in request.body


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"brandname": ""}, "brandname"),
        ({"phone": " "}, "phone"),
        ({"message": ""}, "message"),
        ({"request_id": "x" * 101}, "request_id"),
    ],
)
def test_cskh_request_refuses_bad_input(kwargs: dict[str, str], field: str) -> None:
    args: dict[str, Any] = {"brandname": "FTI", "phone": "84912345678", "message": "hi", "request_id": None, **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        fpt.cskh_request("tok", "sess", **args)
    assert caught.value.field == field


def test_create_campaign_plain_message_and_schedule_format() -> None:
    request = fpt.create_campaign_request("tok", "s", "Promo 06/2021", "FTI", "Giảm 50%", "2021-06-18 09:00", 1000)
    assert request.path == "/api/create-campaign"
    assert request.body["Message"] == "Giảm 50%"  # QC is not Base64
    assert request.body["ScheduleTime"] == "2021-06-18 09:00" and request.body["Quota"] == 1000
    assert set(request.body) == {
        "access_token",
        "session_id",
        "CampaignName",
        "BrandName",
        "Message",
        "ScheduleTime",
        "Quota",
    }


def test_schedule_time_from_aware_datetime_is_vietnam_time() -> None:
    moment = datetime(2026, 6, 18, 2, 0, tzinfo=timezone.utc)
    assert fpt.format_schedule_time(moment) == "2026-06-18 09:00"


@pytest.mark.parametrize(
    ("name", "schedule", "quota", "field"),
    [
        ("x" * 33, "2026-06-18 09:00", 10, "campaign_name"),
        ("ok", "18/06/2026 09:00", 10, "schedule_time"),
        ("ok", "2026-06-18 09:00", 0, "quota"),
        ("ok", "2026-06-18 09:00", -5, "quota"),
        ("ok", "2026-06-18 09:00", True, "quota"),
    ],
)
def test_create_campaign_refuses_bad_input(name: str, schedule: str, quota: int, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        fpt.create_campaign_request("tok", "s", name, "FTI", "msg", schedule, quota)
    assert caught.value.field == field


def test_push_and_report_requests() -> None:
    push = fpt.push_campaign_request("tok", "s", "MjIxNQ==60cb098a09ee6", ["0987654321", "0987654123"])
    assert push.body["PhoneList"] == "0987654321,0987654123" and push.body["CampaignCode"] == "MjIxNQ==60cb098a09ee6"
    assert fpt.campaign_detail_request("tok", "C1").body == {"access_token": "tok", "CampaignCode": "C1"}
    report = fpt.delivery_report_request("tok", "C1")
    assert report.path == "/api/dlr-ads" and report.body == {"access_token": "tok", "campaign_code": "C1"}
    with pytest.raises(InvalidInputError):
        fpt.push_campaign_request("tok", "s", "C1", [])


def test_parse_token_sample() -> None:
    body = json.dumps({"access_token": "abc", "expires_in": 86400, "token_type": "Bearer", "scope": "send_brandname"})
    token = fpt.parse_token(200, body.encode())
    assert token.access_token == "abc" and token.expires_in == 86400 and "abc" not in repr(token)


@pytest.mark.parametrize(
    "body",
    [
        {"error": 1011, "error_description": "Access token is incorrect."},
        {"Error": 1011, "Error_description": "Access token is incorrect."},
        {"error": "1011", "error_description": "Access token is incorrect."},
    ],
)
def test_both_error_shapes_and_string_codes(body: dict[str, object]) -> None:
    with pytest.raises(TokenError) as caught:
        fpt.parse_cskh(401, json.dumps(body))
    assert caught.value.code == 1011 and caught.value.gateway_text == "Access token is incorrect."


def test_error_in_a_200_reply_is_still_an_error() -> None:
    with pytest.raises(DuplicateMessageError):
        fpt.parse_cskh(200, b'{"error": 2501, "error_description": "dup"}')


def test_parse_cskh_sample() -> None:
    sample = {
        "MessageId": "491785",
        "Phone": "84848486687",
        "BrandName": "FTI",
        "Message": "x",
        "PartnerId": "2215",
        "Telco": "vina",
    }
    receipt = fpt.parse_cskh(200, json.dumps(sample))
    assert receipt.message_id == "491785" and receipt.telco == "vina" and "84848486687" not in repr(receipt)


def test_parse_push_and_numbers_as_strings() -> None:
    receipt = fpt.parse_push(200, b'{"NumMessageSent": "2", "NumRemainQuota": 8, "BatchId": "qc.2215.1.2"}')
    assert (receipt.num_message_sent, receipt.num_remain_quota, receipt.batch_id) == (2, 8, "qc.2215.1.2")
    with pytest.raises(QuotaError):
        fpt.parse_push(400, b'{"error": 1016, "error_description": "quota"}')


def test_parse_campaign_detail_states() -> None:
    approved = fpt.parse_campaign_detail(
        200,
        json.dumps(
            {
                "CampaignCode": "C1",
                "Total": "2",
                "Quota": "10",
                "IsSent": "0",
                "SendingTime": "2021-06-18 09:00",
                "StatusDetail": {"Status": "1", "Reason": ""},
            }
        ),
    )
    assert (approved.total, approved.quota, approved.approved, approved.rejected) == (2, 10, True, False)
    assert approved.state == "approved"
    rejected = fpt.parse_campaign_detail(
        200,
        json.dumps(
            {
                "CampaignCode": "C1",
                "Total": "0",
                "Quota": "10",
                "IsSent": "0",
                "StatusDetail": {"Status": "0", "Reason": "Nội dung chứa từ khóa bị chặn"},
            }
        ),
    )
    assert rejected.rejected and rejected.reason == "Nội dung chứa từ khóa bị chặn" and rejected.state == "rejected"
    pending = fpt.parse_campaign_detail(
        200, b'{"Total": 0, "Quota": 5, "IsSent": 0, "StatusDetail": {"Status": 0}}', "C9"
    )
    assert pending.state == "pending_approval" and pending.campaign_code == "C9"
    sent = fpt.parse_campaign_detail(200, b'{"Total": 3, "Quota": 5, "IsSent": "1", "StatusDetail": [{"Status": "1"}]}')
    assert sent.is_sent and sent.state == "sent"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (502, b"<html><body>Bad gateway</body></html>", RetryableError),
        (200, b"<html>login page</html>", MalformedReplyError),
        (200, b"", MalformedReplyError),
        (200, b"[1, 2]", MalformedReplyError),
        (404, b'{"message": "not found"}', MalformedReplyError),
        (200, b'{"NumMessageSent": "two", "NumRemainQuota": 1, "BatchId": "b"}', MalformedReplyError),
    ],
)
def test_garbage_replies_are_typed(status: int, body: bytes, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        fpt.parse_push(status, body)


def test_delivery_report_read_by_header() -> None:
    csv_text = (
        "\ufeffDone Time,Status,PHONE,Telco,Error Code,Note\r\n"
        "2026-01-02 09:01:00,1,84912345678,vina,,a\r\n"
        "2026-01-02 09:01:00,0,84987654321,viettel,DELIVERY_FAILED,b\r\n"
        ",-11,84911111111,vina,,c\r\n"
        "\r\n"
    )
    rows = fpt.parse_delivery_report(200, csv_text.encode())
    assert [r.status for r in rows] == ["delivered", "failed", "pending"]
    assert rows[1].error == "DELIVERY_FAILED" and rows[1].telco == "viettel" and rows[0].extra == {"Note": "a"}
    assert "84912345678" not in repr(rows[0])


def test_delivery_report_errors() -> None:
    with pytest.raises(MalformedReplyError):
        fpt.parse_delivery_report(200, b"Status,Telco\r\n1,vina\r\n")
    with pytest.raises(TokenError):
        fpt.parse_delivery_report(401, b'{"error": 1013, "error_description": "expired"}')
    assert fpt.parse_delivery_report(200, b"") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", "delivered"),
        ("DELIVRD", "delivered"),
        ("0", "failed"),
        ("2", "pending"),
        ("-11", "pending"),
        ("weird", "unknown"),
    ],
)
def test_dlr_status_words(value: str, expected: str) -> None:
    assert fpt.normalise_dlr_status(value) == expected


def test_new_session_id_is_within_manual_limit() -> None:
    assert len(fpt.new_session_id()) == fpt.MAX_SESSION_ID
