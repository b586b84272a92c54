"""Fibo's send methods from the outside, over GET and POST forms, as public clients and the seed send them.

"guide" = FIBO_API_V2.md, "seed" = seeds/fibo-sms-api.txt (line numbers). Where a rule is the sandbox's own
choice (the guide is silent), the comment says so and names the docstring that documents it.
"""

from __future__ import annotations

import pytest
import requests

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.fibo_raw import CLIENT_NO, CREDENTIALS, call, result, sms, wrong_guids


def _balance(handle: SandboxHandle) -> int:
    return int(sms(call(handle.url, "GetClientBalance", serviceType="1"))["AccountBalance"])


def test_the_seeds_send_url(fptsms_sandbox: SandboxHandle) -> None:
    # seed line 83: service.aspx/SendMaskedSMS?clientNo=…&senderName=…&phoneNumber=…&smsMessage=…&smsGUID=0&serviceType=0
    reply = call(
        fptsms_sandbox.url,
        "SendMaskedSMS",
        service="/service.aspx",
        senderName="SANDBOX",
        phoneNumber="0912345678",
        smsMessage="Xin chào",
        smsGUID="0",
        serviceType="0",
    )
    # seed lines 96-99: <SMS> <Code>200</Code> <Message>Sending...</Message> <Time></Time></SMS>
    assert sms(reply) == {"Code": "200", "Message": "Sending...", "Time": ""}


def test_an_undeclared_sender_name_is_the_seeds_5(fptsms_sandbox: SandboxHandle) -> None:
    reply = call(fptsms_sandbox.url, "SendMaskedSMS", senderName="NOT-MINE", phoneNumber="0912345678", smsMessage="hi")
    # seed lines 101-106: "Chưa khai báo dịch vụ": <Code>5</Code> <Message>Send MT Error!...</Message>
    assert sms(reply) == {"Code": "5", "Message": "Send MT Error!...", "Time": ""}


@pytest.mark.parametrize("phone", ["+84912345678", "84912345678", "0912345678"])
@pytest.mark.parametrize("method", ["SendSMS", "SendMaskedSMS"])
def test_all_three_phone_formats_are_taken(fptsms_sandbox: SandboxHandle, method: str, phone: str) -> None:
    # guide: "Phone numbers: the vendor's own examples send +84… numbers as well as 0… and 84…"
    extra = {"senderName": "SANDBOX"} if method == "SendMaskedSMS" else {}
    reply = call(fptsms_sandbox.url, method, extra, phoneNumber=phone, smsMessage="hi", smsGUID="g", serviceType="0")
    assert sms(reply)["Code"] == "200"
    assert [e["phone"] for e in fptsms_sandbox.admin.ledger(gateway="fibo")] == ["84912345678"]


def test_send_sms_refusals_carry_the_v2_codes(fptsms_sandbox: SandboxHandle) -> None:
    url = fptsms_sandbox.url
    # guide: "100 wrong account, 101 wrong phone, 103 wrong serviceType"
    assert sms(call(url, "SendSMS", clientPass="x", phoneNumber="0912345678", smsMessage="hi"))["Code"] == "100"
    assert sms(call(url, "SendSMS", phoneNumber="12345", smsMessage="hi"))["Code"] == "101"
    assert sms(call(url, "SendSMS", phoneNumber="0912345678", smsMessage="hi", serviceType="x"))["Code"] == "103"
    # "102 balance zero, 104 more messages than the balance"
    fptsms_sandbox.admin.set_fibo_balance(CLIENT_NO, 1)
    two_segments = "á" * 100  # UCS-2: 70 per single message, 67 per part
    assert sms(call(url, "SendSMS", phoneNumber="0912345678", smsMessage=two_segments))["Code"] == "104"
    fptsms_sandbox.admin.set_fibo_balance(CLIENT_NO, 0)
    assert sms(call(url, "SendSMS", phoneNumber="0912345678", smsMessage="hi"))["Code"] == "102"
    assert fptsms_sandbox.admin.summary()["total"] == 0  # nothing refused reached a phone


def test_repeated_content_is_the_seeds_6(fptsms_sandbox: SandboxHandle) -> None:
    params = {"phoneNumber": "0912345678", "smsMessage": "same text", "serviceType": "0"}
    assert sms(call(fptsms_sandbox.url, "SendSMS", params, smsGUID="a"))["Code"] == "200"
    # seed line 158: 6 "Lập nội dung" (repeated content), whatever the smsGUID
    assert sms(call(fptsms_sandbox.url, "SendSMS", params, smsGUID="b")) == {
        "Code": "6",
        "Message": "Lập nội dung",
        "Time": "",
    }


def test_test_mode_stores_without_delivering(fptsms_sandbox: SandboxHandle) -> None:
    before = _balance(fptsms_sandbox)
    reply = call(
        fptsms_sandbox.url, "SendSMS", phoneNumber="0912345678", smsMessage="t", smsGUID="test-1", serviceType="3"
    )
    # guide: "serviceType 3 = test mode (stored, not delivered)"
    assert sms(reply)["Code"] == "200"
    assert fptsms_sandbox.admin.summary()["total"] == 0 and _balance(fptsms_sandbox) == before
    status = call(fptsms_sandbox.url, "GetSMSStatus", smsList="<SMS><smsguid>test-1</smsguid></SMS>")
    assert "test-1" in status  # stored: its GUID is known


def test_send_bulk_sms_over_a_post_form(fptsms_sandbox: SandboxHandle) -> None:
    # guide: SendBulkSMS smsList = <DocumentElement><SMSLIST><PhoneNumber>…</PhoneNumber><Message>…</Message>
    # </SMSLIST>…</DocumentElement> (one message per row); "also POST form"
    sms_list = (
        "<DocumentElement>"
        "<SMSLIST><PhoneNumber>0912345678</PhoneNumber><Message>Message 1</Message></SMSLIST>"
        "<SMSLIST><PhoneNumber>+84912345679</PhoneNumber><Message>Message 2</Message></SMSLIST>"
        "</DocumentElement>"
    )
    reply = call(fptsms_sandbox.url, "SendBulkSMS", post=True, smsList=sms_list, serviceType="0")
    assert sms(reply)["Code"] == "200"  # guide: success reply "Code 200"
    sent = {(e["phone"], e["message"]) for e in fptsms_sandbox.admin.ledger(gateway="fibo")}
    assert sent == {("84912345678", "Message 1"), ("84912345679", "Message 2")}


def test_send_bulk_sms_takes_all_rows_or_none(fptsms_sandbox: SandboxHandle) -> None:
    sms_list = (
        "<DocumentElement><SMSLIST><PhoneNumber>0912345678</PhoneNumber><Message>ok</Message></SMSLIST>"
        "<SMSLIST><PhoneNumber>12</PhoneNumber><Message>bad number</Message></SMSLIST></DocumentElement>"
    )
    # The guide documents no per-row refusal for SendBulkSMS (its rows have no smsGUID to name): the sandbox's
    # documented choice (fibo_sim.send_bulk_sms) is all or nothing, with the guide's 101 "wrong phone".
    assert sms(call(fptsms_sandbox.url, "SendBulkSMS", post=True, smsList=sms_list))["Code"] == "101"
    assert fptsms_sandbox.admin.summary()["total"] == 0
    assert sms(call(fptsms_sandbox.url, "SendBulkSMS", post=True, smsList="not xml"))["Code"] == "11"


def _list(*rows: tuple[str, str]) -> str:
    # guide: listPhoneNumber = <Document><ListMobilePhone><PhoneNumber>…</PhoneNumber><SMSGUID>…</SMSGUID>
    # </ListMobilePhone>…</Document>
    cells = "".join(
        f"<ListMobilePhone><PhoneNumber>{p}</PhoneNumber><SMSGUID>{g}</SMSGUID></ListMobilePhone>" for p, g in rows
    )
    return f"<Document>{cells}</Document>"


def test_send_to_list_names_the_rows_it_refuses(fptsms_sandbox: SandboxHandle) -> None:
    phones = _list(("0912345678", "g-1"), ("not-a-phone", "g-2"), ("+84912345679", "g-3"))
    reply = call(
        fptsms_sandbox.url,
        "SendSMSToListMobilePhone",
        post=True,
        senderName="SANDBOX",
        smsContent="Một nội dung cho nhiều số",
        listPhoneNumber=phones,
        serviceType="0",
    )
    # guide: "Code 200; rows Fibo could not take come back as <ListWrongPhoneNumber><SMSGUID>…</SMSGUID>…"
    assert sms(reply)["Code"] == "200" and wrong_guids(reply) == ["g-2"]
    ledger = fptsms_sandbox.admin.ledger(gateway="fibo")
    assert sorted((e["phone"], e["request_id"], e["brandname"]) for e in ledger) == [
        ("84912345678", "g-1", "SANDBOX"),
        ("84912345679", "g-3", "SANDBOX"),
    ]


def test_send_to_list_long_code_with_n_a(fptsms_sandbox: SandboxHandle) -> None:
    # guide: senderName "(or n/a)"
    reply = call(
        fptsms_sandbox.url,
        "SendSMSToListMobilePhone",
        senderName="n/a",
        smsContent="hello",
        listPhoneNumber=_list(("0912345678", "x-1")),
        serviceType="0",
    )
    assert sms(reply)["Code"] == "200"
    assert [e["brandname"] for e in fptsms_sandbox.admin.ledger(gateway="fibo")] == [""]


def test_query_strings_that_public_clients_do_not_encode(fptsms_sandbox: SandboxHandle) -> None:
    # A public PHP client appends listPhoneNumber to the URL without urlencode: '<' and '>' arrive raw.
    raw = _list(("0912345678", "raw-1"))
    query = "&".join(f"{k}={v}" for k, v in CREDENTIALS.items())
    address = f"{fptsms_sandbox.url}/Service.asmx/SendSMSToListMobilePhone?{query}&senderName=n/a&smsContent=hi"
    reply = requests.get(f"{address}&listPhoneNumber={raw}&serviceType=1", timeout=10)
    assert reply.status_code == 200 and sms(result(reply.text))["Code"] == "200"
