"""The simulated Fibo service: paths, XML shapes, codes and balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import (
    AuthError,
    BrandnameError,
    DuplicateMessageError,
    InvalidPhoneError,
    InvalidRequestError,
    QuotaError,
)
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

CLIENT = {"clientNo": "CL0000000001", "clientPass": "sandbox-pass"}


def _get(handle: SandboxHandle, path: str, **params: str) -> requests.Response:
    return requests.get(handle.url + path, params={**CLIENT, **params}, timeout=10)


@pytest.mark.parametrize(
    "service", ["/Service.aspx", "/service.aspx", "/Service.asmx", "/service.asmx", "/SERVICE.ASMX"]
)
def test_balance_on_every_path_spelling(fptsms_sandbox: SandboxHandle, service: str) -> None:
    reply = _get(fptsms_sandbox, f"{service}/GetClientBalance", serviceType="1")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    assert reply.text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="http://tempuri.org/">&lt;SMS')
    assert fibo.parse_balance(reply.content) == Decimal(1_000_000)


def test_bare_reply_style_matches_the_manual(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(fibo_reply_style="bare")
    reply = _get(fptsms_sandbox, "/Service.aspx/GetClientBalance", serviceType="1")
    assert (
        reply.text
        == "<string><SMS><Code>200</Code><AccountBalance>1000000</AccountBalance><Time></Time></SMS></string>"
    )


def test_send_decreases_balance_and_is_in_the_ledger(fptsms_sandbox: SandboxHandle) -> None:
    reply = _get(
        fptsms_sandbox,
        "/service.aspx/SendMaskedSMS",
        senderName="SANDBOX",
        phoneNumber="0912345678",
        smsMessage="Xin chào",
        smsGUID="0",
        serviceType="0",
    )
    assert fibo.parse_sms_reply(reply.content).message == "Sending..."
    long = _get(
        fptsms_sandbox,
        "/service.aspx/SendMaskedSMS",
        senderName="SANDBOX",
        phoneNumber="0912345679",
        smsMessage="á" * 100,
        smsGUID="g-2",
    )  # UCS-2, 2 segments
    fibo.parse_sms_reply(long.content)
    balance = fibo.parse_balance(_get(fptsms_sandbox, "/Service.aspx/GetClientBalance").content)
    assert balance == Decimal(1_000_000 - 3)
    entries = fptsms_sandbox.admin.ledger(gateway="fibo")
    assert [(e["phone"], e["request_id"]) for e in entries] == [("84912345678", ""), ("84912345679", "g-2")]


@pytest.mark.parametrize(
    ("params", "cls", "code"),
    [
        ({"clientPass": "wrong"}, AuthError, 3),
        ({"senderName": "NOPE"}, BrandnameError, 5),
        ({"phoneNumber": "12345"}, InvalidPhoneError, 10),
        ({"smsMessage": " "}, InvalidRequestError, 11),
    ],
)
def test_send_errors(fptsms_sandbox: SandboxHandle, params: dict[str, str], cls: type[Exception], code: int) -> None:
    base = {"senderName": "SANDBOX", "phoneNumber": "0912345678", "smsMessage": "hi"}
    reply = _get(fptsms_sandbox, "/Service.aspx/SendMaskedSMS", **{**base, **params})
    with pytest.raises(cls) as caught:
        fibo.parse_sms_reply(reply.content)
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_duplicate_and_no_money(fptsms_sandbox: SandboxHandle) -> None:
    params = {"senderName": "SANDBOX", "phoneNumber": "0912345678", "smsMessage": "hi"}
    fibo.parse_sms_reply(_get(fptsms_sandbox, "/Service.aspx/SendMaskedSMS", **params).content)
    with pytest.raises(DuplicateMessageError):
        fibo.parse_sms_reply(_get(fptsms_sandbox, "/Service.aspx/SendMaskedSMS", **params).content)
    fptsms_sandbox.admin.set_fibo_balance("CL0000000001", 0)
    with pytest.raises(QuotaError) as caught:
        fibo.parse_sms_reply(
            _get(fptsms_sandbox, "/Service.aspx/SendMaskedSMS", **{**params, "smsMessage": "b"}).content
        )
    assert caught.value.code == 14
    assert fptsms_sandbox.admin.summary()["total"] == 1


def test_status_totals_pipe_and_soap(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dlr_delay=100, dlr_failure_rate=0.0)
    for n in range(3):
        _get(
            fptsms_sandbox,
            "/Service.aspx/SendMaskedSMS",
            senderName="SANDBOX",
            phoneNumber=f"091234567{n}",
            smsMessage="hi",
        )
    pipe = requests.get(
        fptsms_sandbox.url + fibo.STATUS_TOTALS_PATH,
        params={"Username": "CL0000000001", "Password": "sandbox-pass"},
        timeout=10,
    )
    assert pipe.text == "0|0|3"
    fptsms_sandbox.admin.advance_clock(101)
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soap:Body><GetTotalMt xmlns="http://tempuri.org/"><clientNo>CL0000000001</clientNo>'
        "<clientPass>sandbox-pass</clientPass></GetTotalMt></soap:Body></soap:Envelope>"
    )
    soap = requests.post(
        fptsms_sandbox.url + "/Service.asmx",
        data=envelope,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "http://tempuri.org/GetTotalMt"},
        timeout=10,
    )
    assert "<GetTotalMtResult>3|0|0</GetTotalMtResult>" in soap.text
    assert fibo.parse_status_totals(soap.content) == fibo.MtTotals(3, 0, 0)


def test_bad_requests_get_fibo_xml_never_a_trace(fptsms_sandbox: SandboxHandle) -> None:
    unknown = _get(fptsms_sandbox, "/Service.aspx/NoSuchMethod")
    assert unknown.status_code == 404
    with pytest.raises(InvalidRequestError):
        fibo.parse_sms_reply(unknown.content)  # the body is still Fibo's XML, Code 11
    soap = requests.post(fptsms_sandbox.url + "/service.asmx", data=b"<not-soap", timeout=10)
    assert soap.status_code == 400 and "Traceback" not in soap.text
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<soap:Envelope><soap:Body>&b;</soap:Body></soap:Envelope>"
    )
    assert requests.post(fptsms_sandbox.url + "/service.asmx", data=bomb, timeout=10).status_code == 400
