"""Fibo query builders and XML reply parsers, including the shapes ASP.NET really sends."""

from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    InvalidInputError,
    InvalidPhoneError,
    MalformedReplyError,
    QuotaError,
    RetryableError,
    UnknownGatewayError,
)

MANUAL_BALANCE = (
    "<string><SMS> <Code>200</Code> <AccountBalance>1641060</AccountBalance>  \n<Time></Time></SMS></string>"
)


def test_send_request_uses_manual_names_and_hides_password() -> None:
    request = fibo.send_masked_sms_request("CL1609110001", "s3cret", "BRAND", "0912345678", "Xin chào")
    assert request.path == "/Service.aspx/SendMaskedSMS"
    assert request.params == {
        "clientNo": "CL1609110001",
        "clientPass": "s3cret",
        "senderName": "BRAND",
        "phoneNumber": "0912345678",
        "smsMessage": "Xin chào",
        "smsGUID": "0",
        "serviceType": "0",
    }
    assert "s3cret" not in repr(request)


def test_service_path_is_selectable() -> None:
    request = fibo.balance_request("CL1", "pw", service_path="/service.asmx")
    assert request.path == "/service.asmx/GetClientBalance" and request.params["serviceType"] == "1"


def test_status_totals_request() -> None:
    request = fibo.status_totals_request("CL1", "pw")
    assert request.path == "/WebserivceFibo/PartnerMtTotal.aspx"
    assert request.params == {"Username": "CL1", "Password": "pw"}


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("clientNo", {"client_no": ""}),
        ("clientPass", {"client_pass": ""}),
        ("senderName", {"sender_name": ""}),
        ("smsMessage", {"message": " "}),
    ],
)
def test_send_request_refuses_empty_fields(field: str, kwargs: dict[str, str]) -> None:
    args = {
        "client_no": "CL1",
        "client_pass": "pw",
        "sender_name": "B",
        "phone": "0912345678",
        "message": "hi",
        **kwargs,
    }
    with pytest.raises(InvalidInputError) as caught:
        fibo.send_masked_sms_request(**args)
    assert caught.value.field == field and "pw" not in str(caught.value)


def test_redact_url() -> None:
    url = "http://h/Service.aspx/SendMaskedSMS?clientNo=CL1&clientPass=p%40ss&phoneNumber=1&Password=x"
    assert fibo.redact_url(url) == (
        "http://h/Service.aspx/SendMaskedSMS?clientNo=CL1&clientPass=***&phoneNumber=***&Password=***"
    )


def test_balance_bare_as_in_manual() -> None:
    assert fibo.parse_balance(MANUAL_BALANCE) == Decimal(1641060)


def test_balance_escaped_as_aspnet_sends_it() -> None:
    inner = "<SMS><Code>200</Code><AccountBalance>529</AccountBalance><Time></Time></SMS>"
    body = f'<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="http://tempuri.org/">{escape(inner)}</string>'
    assert fibo.parse_balance(body.encode()) == Decimal(529)


def test_balance_as_bare_number_string() -> None:
    assert fibo.parse_balance('<string xmlns="http://tempuri.org/">529</string>') == Decimal(529)


def test_send_success_and_errors() -> None:
    ok = fibo.parse_sms_reply(
        "<string><SMS> <Code>200</Code> <Message>Sending...</Message>\n<Time></Time></SMS></string>"
    )
    assert ok.code == 200 and ok.message == "Sending..."
    with pytest.raises(BrandnameError) as caught:
        fibo.parse_sms_reply(
            "<string><SMS> <Code>5</Code> <Message>Send MT Error!...</Message><Time></Time></SMS></string>"
        )
    assert caught.value.gateway_text == "Send MT Error!..."
    with pytest.raises(AuthError):
        fibo.parse_balance("<string><SMS> <Code>3</Code> <Message>Get Balance Error!...</Message></SMS></string>")
    with pytest.raises(InvalidPhoneError):
        fibo.parse_sms_reply(
            escape("<SMS><Code>10</Code></SMS>").join(['<string xmlns="http://tempuri.org/">', "</string>"])
        )
    with pytest.raises(QuotaError):
        fibo.parse_sms_reply("<SMS><Code>14</Code></SMS>")
    with pytest.raises(UnknownGatewayError):
        fibo.parse_sms_reply("<SMS><Code>999</Code><Message>new</Message></SMS>")


@pytest.mark.parametrize(
    ("body", "status", "cls"),
    [
        ("<html><body>Runtime Error</body></html>", 500, RetryableError),
        ("<html><body>Not found</body></html>", 404, MalformedReplyError),
        ("not xml at all", 200, MalformedReplyError),
        ("<string><SMS><Code>abc</Code></SMS></string>", 200, MalformedReplyError),
        ("<string>hello</string>", 200, MalformedReplyError),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "<string>&lol2;</string>",
            200,
            MalformedReplyError,
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><string>&e;</string>',
            200,
            MalformedReplyError,
        ),
    ],
)
def test_garbage_and_hostile_replies(body: str, status: int, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        fibo.parse_sms_reply(body, status)


@pytest.mark.parametrize(
    "body",
    [
        "505|6|0",
        '<string xmlns="http://tempuri.org/">505|6|0</string>',
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        '<soap:Body><GetTotalMtResponse xmlns="http://tempuri.org"><GetTotalMtResult>505|6|0</GetTotalMtResult>'
        "</GetTotalMtResponse></soap:Body></soap:Envelope>",
    ],
)
def test_status_totals_shapes(body: str) -> None:
    assert fibo.parse_status_totals(body) == fibo.MtTotals(505, 6, 0)


def test_status_totals_errors() -> None:
    with pytest.raises(AuthError):
        fibo.parse_status_totals("<string><SMS><Code>3</Code></SMS></string>")
    with pytest.raises(MalformedReplyError):
        fibo.parse_status_totals("505|6")
