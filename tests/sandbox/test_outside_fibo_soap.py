"""Fibo over SOAP 1.1, as SOAP clients call it: the WSDL, envelopes written by hand, and a real client (zeep).

FIBO_API_V2.md "Transport" ("guide"): "SOAP 1.1 on the same ASMX endpoint: POST /Service.asmx with
SOAPAction: "http://tempuri.org/<Method>", and GET /Service.asmx?wsdl returns the WSDL — PHP SoapClient and
node-soap clients start there". The seed prints the SOAP reply of GetTotalMt (seeds/fibo-sms-api.txt lines
133-144). Faults follow SOAP 1.1 itself (W3C note, section 6.2: HTTP 500 with a soap:Fault).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
import requests
import zeep
from defusedxml.ElementTree import fromstring

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.fibo_raw import CLIENT_NO, CLIENT_PASS, CREDENTIALS, TEMPURI, document, rows, sms

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"

# Every method of the guide's table with the parameters it names (beyond clientNo, clientPass); the history
# rows name "dates MM-DD-YYYY" without names, so only the named ones are listed for them.
GUIDE_METHODS = {
    "About": (),
    "CheckClient": (),
    "GetClientBalance": ("serviceType",),
    "SendSMS": ("phoneNumber", "smsMessage", "smsGUID", "serviceType"),
    "SendMaskedSMS": ("senderName", "phoneNumber", "smsMessage", "smsGUID", "serviceType"),
    "SendBulkSMS": ("smsList", "serviceType"),
    "SendSMSToListMobilePhone": ("senderName", "smsContent", "listPhoneNumber", "serviceType"),
    "GetSMSStatus": ("smsList",),
    "GetSMSSentList": ("minutes",),
    "GetClientSMSListOfPage": ("pageNO", "key", "smsStatus", "serviceTypeID"),
    "GetTotalPageOfClientSMS": ("key",),
    "GetCommingSMSList": ("minutes",),
    "GetClientCommingSMSNotDividePage": ("key",),
    "GetClientSenderNameList": (),
    "GetTotalMt": (),
}


def _envelope(method: str, **params: str) -> str:
    cells = "".join(f"<{k}>{v}</{k}>" for k, v in {**CREDENTIALS, **params}.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><{method} xmlns="{TEMPURI}">{cells}</{method}>'
        "</soap:Body></soap:Envelope>"
    )


def _post(url: str, body: str, action: str | None) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    return requests.post(url + "/Service.asmx", data=body.encode(), headers=headers, timeout=10)


def _result(reply: requests.Response, method: str) -> str:
    root = fromstring(reply.content)
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{TEMPURI}}}{method}Response/{{{TEMPURI}}}{method}Result")
    assert found is not None, reply.text
    return found.text or ""


# ---------------------------------------------------------------------- the WSDL


def test_the_wsdl_describes_every_method_as_asmx_does(fptsms_sandbox: SandboxHandle) -> None:
    reply = requests.get(fptsms_sandbox.url + "/Service.asmx?wsdl", timeout=10)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    root = fromstring(reply.content)
    assert root.tag == f"{{{WSDL}}}definitions" and root.get("targetNamespace") == TEMPURI
    schema = root.find(f"{{{WSDL}}}types/{{{XSD}}}schema")
    assert schema is not None and schema.get("elementFormDefault") == "qualified"
    elements = {e.get("name"): e for e in schema.findall(f"{{{XSD}}}element")}
    binding = {
        op.get("name"): op.find(f"{{{WSDL_SOAP}}}operation")
        for op in root.iter(f"{{{WSDL}}}operation")
        if op.find(f"{{{WSDL_SOAP}}}operation") is not None
    }
    for method, named in GUIDE_METHODS.items():
        fields = {f.get("name"): f.get("type") for f in elements[method].iter(f"{{{XSD}}}element") if f.get("type")}
        assert {"clientNo", "clientPass", *named} <= set(fields), method  # guide: every method takes both
        assert set(fields.values()) == {"s:string"}, method  # each parameter a string
        result = [f.get("name") for f in elements[f"{method}Response"].iter(f"{{{XSD}}}element") if f.get("type")]
        assert result == [f"{method}Result"], method  # the ASMX <Method>Result string
        operation = binding[method]
        assert operation is not None
        assert (operation.get("soapAction"), operation.get("style")) == (f"{TEMPURI}{method}", "document")
    assert {b.get("use") for b in root.iter(f"{{{WSDL_SOAP}}}body")} == {"literal"}
    address = root.find(f".//{{{WSDL_SOAP}}}address")
    assert address is not None and address.get("location") == fptsms_sandbox.url + "/Service.asmx"


def test_the_wsdl_on_each_spelling(fptsms_sandbox: SandboxHandle) -> None:
    for query in ("wsdl", "WSDL"):
        reply = requests.get(f"{fptsms_sandbox.url}/service.asmx?{query}", timeout=10)
        assert reply.status_code == 200 and b"definitions" in reply.content


# ---------------------------------------------------------------------- envelopes by hand


def test_the_seeds_get_total_mt_envelope(fptsms_sandbox: SandboxHandle) -> None:
    reply = _post(fptsms_sandbox.url, _envelope("GetTotalMt"), '"http://tempuri.org/GetTotalMt"')
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    # seed lines 139-141: <GetTotalMtResponse xmlns="http://tempuri.org"><GetTotalMtResult>56|12|0</GetTotalMtResult>
    assert _result(reply, "GetTotalMt") == "0|0|0"


def test_a_send_and_its_status_by_hand(fptsms_sandbox: SandboxHandle) -> None:
    send = _post(
        fptsms_sandbox.url,
        _envelope(
            "SendMaskedSMS",
            senderName="SANDBOX",
            phoneNumber="+84912345678",
            smsMessage="Xin chào",
            smsGUID="soap-1",
            serviceType="0",
        ),
        '"http://tempuri.org/SendMaskedSMS"',
    )
    # the result is the same document as over GET (seed line 97), as an escaped string
    assert sms(_result(send, "SendMaskedSMS")) == {"Code": "200", "Message": "Sending...", "Time": ""}
    status = _post(
        fptsms_sandbox.url,
        _envelope("GetSMSStatus", smsList="&lt;SMS&gt;&lt;smsguid&gt;soap-1&lt;/smsguid&gt;&lt;/SMS&gt;"),
        "http://tempuri.org/GetSMSStatus",  # unquoted: hand-rolled clients send it so
    )
    assert [row["smsguid"] for row in rows(_result(status, "GetSMSStatus"), "SMSLIST")] == ["soap-1"]


def test_a_refusal_is_a_result_not_a_fault(fptsms_sandbox: SandboxHandle) -> None:
    reply = _post(
        fptsms_sandbox.url,
        _envelope("GetClientBalance", clientPass="wrong", serviceType="1"),
        '"http://tempuri.org/GetClientBalance"',
    )
    # seed lines 70-74: a wrong password is an answer of the method: Code 3 "Get Balance Error!..."
    assert reply.status_code == 200 and sms(_result(reply, "GetClientBalance"))["Code"] == "3"


@pytest.mark.parametrize(
    ("action", "body"),
    [
        (None, _envelope("GetTotalMt")),  # SOAP 1.1 HTTP binding: the SOAPAction header is required
        ('"http://tempuri.org/NoSuchMethod"', _envelope("NoSuchMethod")),
        ('"http://tempuri.org/SendSMS"', _envelope("GetTotalMt")),  # the action and the body disagree
    ],
)
def test_soap_faults(fptsms_sandbox: SandboxHandle, action: str | None, body: str) -> None:
    reply = _post(fptsms_sandbox.url, body, action)
    # SOAP 1.1 section 6.2: "the SOAP HTTP server MUST issue an HTTP 500 ... including a SOAP Fault"
    assert reply.status_code == 500
    fault = document(reply.text).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None and fault.findtext("faultcode") == "soap:Client" and fault.findtext("faultstring")


def test_a_soap_12_envelope_is_a_version_mismatch(fptsms_sandbox: SandboxHandle) -> None:
    body = _envelope("GetTotalMt").replace(SOAP_ENV, "http://www.w3.org/2003/05/soap-envelope")
    reply = _post(fptsms_sandbox.url, body, '"http://tempuri.org/GetTotalMt"')
    assert reply.status_code == 500 and "VersionMismatch" in reply.text  # SOAP 1.1 section 4.4.1


def test_what_is_not_xml_never_gets_a_stack_trace(fptsms_sandbox: SandboxHandle) -> None:
    reply = _post(fptsms_sandbox.url, "<not-soap", '"http://tempuri.org/GetTotalMt"')
    assert reply.status_code == 400 and "Fault" in reply.text and "Traceback" not in reply.text


# ---------------------------------------------------------------------- a real SOAP client


@pytest.fixture
def soap_client(fptsms_sandbox: SandboxHandle) -> Iterator[zeep.Client]:
    client = zeep.Client(fptsms_sandbox.url + "/Service.asmx?WSDL")
    yield client
    client.transport.session.close()


def test_zeep_reads_the_wsdl_and_calls_every_method(soap_client: zeep.Client) -> None:
    operations = set(soap_client.service._binding._operations)
    assert operations == set(GUIDE_METHODS)
    for method in GUIDE_METHODS:
        answer = getattr(soap_client.service, method)(clientNo=CLIENT_NO, clientPass=CLIENT_PASS)
        assert isinstance(answer, str), method  # every <Method>Result is a string


def test_zeep_sends_and_follows_a_message(soap_client: zeep.Client, fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dlr_delay=10, dlr_failure_rate=0.0)
    service = soap_client.service
    # guide: About -> www.Fibovietnam.com; CheckClient -> Code 0
    assert service.About(**CREDENTIALS) == "www.Fibovietnam.com"
    assert sms(service.CheckClient(**CREDENTIALS))["Code"] == "0"
    reply = service.SendSMSToListMobilePhone(
        senderName="n/a",
        smsContent="Nhắn qua SOAP",
        listPhoneNumber="<Document><ListMobilePhone><PhoneNumber>0912345678</PhoneNumber><SMSGUID>z-1</SMSGUID>"
        "</ListMobilePhone></Document>",
        serviceType="0",
        **CREDENTIALS,
    )
    assert sms(reply)["Code"] == "200"
    status = service.GetSMSStatus(smsList="<SMS><smsguid>z-1</smsguid></SMS>", **CREDENTIALS)
    assert rows(status, "SMSLIST")[0]["smsStatus"] == "0"  # Pending
    fptsms_sandbox.admin.advance_clock(11)
    status = service.GetSMSStatus(smsList="<SMS><smsguid>z-1</smsguid></SMS>", **CREDENTIALS)
    assert rows(status, "SMSLIST")[0]["smsStatus"] == "2"  # SentSuccess
    assert service.GetTotalMt(**CREDENTIALS) == "1|0|0"  # seed line 124: success|failed|pending


# ---------------------------------------------------------------------- PHP's SoapClient, where installed

PHP_CLIENT = r"""
$client = new SoapClient($argv[1] . "/Service.asmx?wsdl", ["cache_wsdl" => WSDL_CACHE_NONE]);
$cred = ["clientNo" => $argv[2], "clientPass" => $argv[3]];
echo $client->About($cred)->AboutResult, "\n";
echo $client->SendSMS($cred + ["phoneNumber" => "+84912345678", "smsMessage" => "PHP", "smsGUID" => "php-1",
    "serviceType" => "0"])->SendSMSResult, "\n";
echo $client->GetTotalMt($cred)->GetTotalMtResult, "\n";
"""


PHP = shutil.which("php")


def _php_has_soap() -> bool:
    if PHP is None:
        return False
    modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, timeout=30).stdout
    return "soap" in modules.split()


@pytest.mark.skipif(not _php_has_soap(), reason="php with the soap extension is not installed")
def test_php_soap_client(fptsms_sandbox: SandboxHandle) -> None:
    assert PHP is not None
    run = subprocess.run(
        [PHP, "-r", PHP_CLIENT, "--", fptsms_sandbox.url, CLIENT_NO, CLIENT_PASS],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    about, send, totals = run.stdout.splitlines()
    assert about == "www.Fibovietnam.com" and sms(send)["Code"] == "200" and totals == "0|0|1"
