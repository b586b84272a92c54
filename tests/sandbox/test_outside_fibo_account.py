"""Fibo's account calls from the outside: About, CheckClient, GetClientBalance (both shapes), sender names, totals.

Each assertion cites FIBO_API_V2.md ("guide") or seeds/fibo-sms-api.txt ("seed", line numbers).
"""

from __future__ import annotations

import pytest
import requests

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.fibo_raw import CLIENT_NO, CLIENT_PASS, call, result, rows_having, sms


def test_about_answers_the_vendors_site(fptsms_sandbox: SandboxHandle) -> None:
    # guide: About | — | <string>www.Fibovietnam.com</string> | connectivity check
    assert call(fptsms_sandbox.url, "About") == "www.Fibovietnam.com"


def test_check_client(fptsms_sandbox: SandboxHandle) -> None:
    # guide: CheckClient success "<SMS><Code>0</Code><Message>{client's name}</Message>"
    ok = sms(call(fptsms_sandbox.url, "CheckClient"))
    assert ok["Code"] == "0" and ok["Message"]
    # guide: "wrong login: Code 100 'Please check your account!'"
    wrong = sms(call(fptsms_sandbox.url, "CheckClient", clientPass="wrong"))
    assert (wrong["Code"], wrong["Message"]) == ("100", "Please check your account!")


@pytest.mark.parametrize("service", ["/Service.aspx", "/service.aspx", "/Service.asmx", "/service.asmx"])
def test_balance_as_the_seed_prints_it(fptsms_sandbox: SandboxHandle, service: str) -> None:
    # seed line 51: GET .../Service.aspx/GetClientBalance?clientNo=string&clientPass=string&serviceType=1;
    # line 83 spells the service "service.aspx"; guide: public clients use /service.asmx
    reply = sms(call(fptsms_sandbox.url, "GetClientBalance", service=service, serviceType="1"))
    # seed line 66: <SMS> <Code>200</Code> <AccountBalance>1641060</AccountBalance> <Time></Time></SMS>
    assert reply["Code"] == "200" and int(reply["AccountBalance"]) > 0 and reply["Time"] == ""


def test_balance_wrong_login_as_the_seed_prints_it(fptsms_sandbox: SandboxHandle) -> None:
    # seed lines 70-74: "Username/pass không đúng": <Code>3</Code> <Message>Get Balance Error!...</Message>
    reply = sms(call(fptsms_sandbox.url, "GetClientBalance", clientPass="nope", serviceType="1"))
    assert (reply["Code"], reply["Message"]) == ("3", "Get Balance Error!...")


def test_balance_in_the_v2_shape(fptsms_sandbox: SandboxHandle) -> None:
    # guide: GetClientBalance "v2.0: bare <string>529</string> (>0 sendable, 0 none, <0 wrong serviceType)";
    # "both shapes exist in the field" - the sandbox's switch is fibo_balance_style
    fptsms_sandbox.admin.configure(fibo_balance_style="v2")
    assert int(call(fptsms_sandbox.url, "GetClientBalance", serviceType="1")) > 0
    assert int(call(fptsms_sandbox.url, "GetClientBalance", serviceType="not-a-type")) < 0
    fptsms_sandbox.admin.set_fibo_balance(CLIENT_NO, 0)
    assert call(fptsms_sandbox.url, "GetClientBalance", serviceType="1") == "0"


def test_bare_and_escaped_replies_carry_the_same_document(fptsms_sandbox: SandboxHandle) -> None:
    # guide: "Replies are an XML <string> (ASP.NET escapes the inner document; the guides print it bare)"
    url = fptsms_sandbox.url + "/Service.asmx/CheckClient"
    params = {"clientNo": CLIENT_NO, "clientPass": CLIENT_PASS}
    escaped = requests.get(url, params=params, timeout=10).text
    assert escaped.startswith('<?xml version="1.0" encoding="utf-8"?>') and "&lt;SMS&gt;" in escaped
    assert 'xmlns="http://tempuri.org/"' in escaped
    fptsms_sandbox.admin.configure(fibo_reply_style="bare")
    bare = requests.get(url, params=params, timeout=10).text
    assert bare.startswith("<string><SMS><Code>0</Code>")  # seed line 66's shape
    assert sms(result(bare)) == sms(result(escaped))


def test_sender_names(fptsms_sandbox: SandboxHandle) -> None:
    # guide: GetClientSenderNameList | — | <clientSenderName/><clientSenderNameStatus/> rows
    reply = call(fptsms_sandbox.url, "GetClientSenderNameList")
    names = rows_having(reply, "clientSenderName")
    assert {row["clientSenderName"] for row in names} >= {"SANDBOX"}  # the sandbox connection's sender name
    assert all("clientSenderNameStatus" in row for row in names)


def test_status_totals_page_and_get(fptsms_sandbox: SandboxHandle) -> None:
    # seed lines 116-124: PartnerMtTotal.aspx with Username/Password -> "505|6|0" (success|failed|pending)
    page = requests.get(
        fptsms_sandbox.url + "/WebserivceFibo/PartnerMtTotal.aspx",
        params={"Username": CLIENT_NO, "Password": CLIENT_PASS},
        timeout=10,
    )
    assert page.status_code == 200 and page.text == "0|0|0"
    # guide: GetTotalMt (SOAP) / PartnerMtTotal.aspx | — | success|failed|pending; over GET it is a <string> too
    assert call(fptsms_sandbox.url, "GetTotalMt") == "0|0|0"


def test_unknown_method_is_fibo_xml(fptsms_sandbox: SandboxHandle) -> None:
    reply = requests.get(fptsms_sandbox.url + "/Service.asmx/NoSuchMethod", params={"clientNo": "x"}, timeout=10)
    # seed line 163: 11 "Có tham số không hợp lệ" (invalid parameter); still Fibo's XML, not a stack trace
    assert reply.status_code == 404
    assert sms(result(reply.text)) == {"Code": "11", "Message": "Có tham số không hợp lệ", "Time": ""}


def test_list_calls_refuse_a_wrong_login_with_100(fptsms_sandbox: SandboxHandle) -> None:
    # guide: "v2.0 codes: ... 100 wrong account"
    for method, params in (
        ("GetSMSStatus", {"smsList": "<SMS><smsguid>a</smsguid></SMS>"}),
        ("GetSMSSentList", {"minutes": "5"}),
        ("GetClientSenderNameList", {}),
    ):
        assert sms(call(fptsms_sandbox.url, method, params, clientPass="wrong"))["Code"] == "100", method
