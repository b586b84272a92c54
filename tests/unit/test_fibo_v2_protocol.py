"""The Fibo v2.0 guide's other methods, sans-IO: request names and shapes, and replies as the guide prints
them (bare) and as ASP.NET sends them (escaped inside ``<string>``). Written from ../shared/FIBO_API_V2.md."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest
from defusedxml.ElementTree import fromstring

from airflow_provider_fptsms.gateways import fibo
from airflow_provider_fptsms.gateways.errors import AuthError, InvalidInputError, QuotaError

ASPNET = '<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="http://tempuri.org/">{}</string>'


def both_shapes(document: str) -> list[str]:
    """The guide prints ``<string><SMS>..``; the service escapes the inner document."""
    return [f"<string>{document}</string>", ASPNET.format(escape(document))]


def query(request: fibo.FiboRequest) -> dict[str, str]:
    url = fibo.build_url("http://center.fibosms.com", request)
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_every_method_takes_the_credentials_and_its_own_parameters() -> None:
    sms = fibo.send_sms_request("CL1", "pw", "84912345678", "Xin chao", sms_guid="g-1", service_type="3")
    assert sms.path == "/Service.aspx/SendSMS"
    assert query(sms) == {
        "clientNo": "CL1",
        "clientPass": "pw",
        "phoneNumber": "84912345678",
        "smsMessage": "Xin chao",
        "smsGUID": "g-1",
        "serviceType": "3",
    }
    status = fibo.sms_status_request("CL1", "pw", ["g-1", "g-2"], service_path="/Service.asmx")
    assert status.path == "/Service.asmx/GetSMSStatus"
    assert query(status)["smsList"] == "<SMS><smsguid>g-1</smsguid><smsguid>g-2</smsguid></SMS>"
    assert query(fibo.sent_list_request("CL1", "pw", 60)) == {"clientNo": "CL1", "clientPass": "pw", "minutes": "60"}
    check = fibo.method_request("CheckClient", "CL1", "pw")
    assert (check.path, query(check)) == ("/Service.aspx/CheckClient", {"clientNo": "CL1", "clientPass": "pw"})
    assert "pw" not in repr(sms) and "pw" not in repr(check)


def test_list_send_gives_each_phone_its_guid_and_escapes_the_text() -> None:
    request = fibo.send_to_list_request(
        "CL1", "pw", "FIBO", "Giảm 10% <hôm nay> & mai", [("84912345678", "g-1"), ("84987654321", "g-2")]
    )
    params = query(request)
    assert request.path == "/Service.aspx/SendSMSToListMobilePhone"
    assert (params["senderName"], params["smsContent"], params["serviceType"]) == (
        "FIBO",
        "Giảm 10% <hôm nay> & mai",
        "0",
    )
    document = fromstring(params["listPhoneNumber"])
    assert document.tag == "Document"
    assert [(row.findtext("PhoneNumber"), row.findtext("SMSGUID")) for row in document.iter("ListMobilePhone")] == [
        ("84912345678", "g-1"),
        ("84987654321", "g-2"),
    ]
    assert query(fibo.send_to_list_request("CL1", "pw", None, "x", [("84912345678", "g")]))["senderName"] == "n/a"


def test_bulk_send_is_one_text_per_phone() -> None:
    params = query(fibo.send_bulk_request("CL1", "pw", [("84912345678", "Chao An"), ("84987654321", "Chao <Binh>")]))
    document = fromstring(params["smsList"])
    assert document.tag == "DocumentElement"
    assert [(row.findtext("PhoneNumber"), row.findtext("Message")) for row in document.iter("SMSLIST")] == [
        ("84912345678", "Chao An"),
        ("84987654321", "Chao <Binh>"),
    ]


@pytest.mark.parametrize(
    "build",
    [
        lambda: fibo.send_bulk_request("CL1", "pw", []),
        lambda: fibo.send_to_list_request("CL1", "pw", "FIBO", "x", []),
        lambda: fibo.sms_status_request("CL1", "pw", []),
        lambda: fibo.sent_list_request("CL1", "pw", 0),
        lambda: fibo.send_sms_request("CL1", "pw", "", "x"),
        lambda: fibo.send_to_list_request("CL1", "pw", "FIBO", " ", [("84912345678", "g")]),
    ],
)
def test_empty_or_wrong_inputs_fail_before_any_call(build: object) -> None:
    with pytest.raises(InvalidInputError):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("reply", both_shapes("<SMS><Code>0</Code><Message>Cong ty ABC</Message></SMS>"))
def test_check_client_answers_code_0_with_the_clients_name(reply: str) -> None:
    assert fibo.parse_check_client(reply) == "Cong ty ABC"


def test_check_client_with_a_wrong_account_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as caught:
        fibo.parse_check_client(
            "<string><SMS><Code>100</Code><Message>Please check your account!</Message></SMS></string>"
        )
    assert "Please check your account!" in str(caught.value)


@pytest.mark.parametrize(
    "reply",
    both_shapes(
        "<SMS><Code>200</Code><Message>Sending...</Message>"
        "<ListWrongPhoneNumber><SMSGUID>g-2</SMSGUID><SMSGUID>g-5</SMSGUID></ListWrongPhoneNumber></SMS>"
    ),
)
def test_a_list_send_names_the_messages_fibo_could_not_take(reply: str) -> None:
    assert fibo.parse_list_send(reply) == ["g-2", "g-5"]


def test_a_list_send_without_refusals_and_a_refused_one() -> None:
    assert fibo.parse_list_send("<string><SMS><Code>200</Code><Message>Sending...</Message></SMS></string>") == []
    with pytest.raises(QuotaError):
        fibo.parse_list_send("<string><SMS><Code>104</Code><Message>Not enough</Message></SMS></string>")


@pytest.mark.parametrize(
    "reply",
    both_shapes(
        "<DocumentElement>"
        "<SMSLIST><smsguid>g-1</smsguid><smsStatus>2</smsStatus><sendername>FIBO</sendername></SMSLIST>"
        "<SMSLIST><smsguid>g-2</smsguid><smsStatus>0</smsStatus><sendername>FIBO</sendername></SMSLIST>"
        "<SMSLIST><smsguid>g-3</smsguid><smsStatus>10</smsStatus><sendername>FIBO</sendername></SMSLIST>"
        "</DocumentElement>"
    ),
)
def test_sms_status_by_our_guid(reply: str) -> None:
    statuses = fibo.parse_sms_statuses(reply)
    assert statuses == {
        "g-1": fibo.FiboStatus.SENT_SUCCESS,
        "g-2": fibo.FiboStatus.PENDING,
        "g-3": fibo.FiboStatus.SPAM_SMS,
    }
    assert [s.final for s in statuses.values()] == [True, False, True]  # type: ignore[union-attr]


@pytest.mark.parametrize("reply", [*both_shapes("<DocumentElement />"), "<string />"])
def test_no_status_known_yet_is_an_empty_mapping(reply: str) -> None:
    assert fibo.parse_sms_statuses(reply) == {}


def test_the_status_enum_is_the_guides() -> None:
    assert [s.value for s in fibo.FiboStatus] == list(range(12))
    assert [s for s in fibo.FiboStatus if not s.final] == [fibo.FiboStatus.PENDING, fibo.FiboStatus.SENDING]
    assert [s for s in fibo.FiboStatus if s.delivered] == [fibo.FiboStatus.SENT_SUCCESS]


def test_sent_list_rows_and_dates_as_the_guide_writes_them() -> None:
    reply = (
        "<string><DocumentElement><SMSLIST><SMSID>123</SMSID><SMSGUID>g-1</SMSGUID>"
        "<PhoneNumber>84912345678</PhoneNumber><Message>Xin chao</Message>"
        "<CreatedDate>2008-05-16T09:23:00+07:00</CreatedDate><SentDate>22/04/2009(16:37:00)</SentDate>"
        "<SMSStatus>2</SMSStatus></SMSLIST></DocumentElement></string>"
    )
    (row,) = fibo.parse_sent_list(reply)
    assert (row.sms_id, row.sms_guid, row.created, row.sent, row.status) == (
        "123",
        "g-1",
        "2008-05-16T09:23:00+07:00",
        "22/04/2009(16:37:00)",
        fibo.FiboStatus.SENT_SUCCESS,
    )
    assert "84912345678" not in repr(row)


def test_sender_names() -> None:
    reply = ASPNET.format(
        escape(
            "<DocumentElement>"
            "<SenderName><clientSenderName>FIBO</clientSenderName><clientSenderNameStatus>1</clientSenderNameStatus>"
            "</SenderName><SenderName><clientSenderName>SHOP</clientSenderName>"
            "<clientSenderNameStatus>0</clientSenderNameStatus></SenderName></DocumentElement>"
        )
    )
    assert fibo.parse_sender_names(reply) == [fibo.SenderName("FIBO", "1"), fibo.SenderName("SHOP", "0")]
