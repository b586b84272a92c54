"""Fibo's per-message statuses, sent list, history pages and inbound lists, from the outside.

"guide" = FIBO_API_V2.md. The sandbox moves a message from Pending to a final status ``dlr_delay`` seconds
after it took it, on its own clock (``POST /_sandbox/clock``), as FPT's delivery reports do.
"""

from __future__ import annotations

from datetime import datetime

from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from tests.sandbox.fibo_raw import call, rows, sms

# guide: "Outbound status enum (SMSStatus, smsStatus): 0 Pending, 1 Sending, 2 SentSuccess, 3 SentFailed, …
# 11 RestoreToAccountClient. Final: 2..11; waiting: 0, 1."
PENDING, SENT_SUCCESS = 0, 2
FINAL = range(2, 12)


def _send(handle: SandboxHandle, phone: str, guid: str, text: str = "status check") -> None:
    reply = call(handle.url, "SendSMS", phoneNumber=phone, smsMessage=text, smsGUID=guid, serviceType="0")
    assert sms(reply)["Code"] == "200"


def _statuses(handle: SandboxHandle, *guids: str) -> dict[str, int]:
    # guide: GetSMSStatus smsList = <SMS><smsguid>…</smsguid>…</SMS> ->
    # <DocumentElement><SMSLIST><smsguid/><smsStatus/><sendername/></SMSLIST>…
    items = "".join(f"<smsguid>{guid}</smsguid>" for guid in guids)
    reply = call(handle.url, "GetSMSStatus", post=True, smsList=f"<SMS>{items}</SMS>")
    found = rows(reply, "SMSLIST")
    assert all(set(row) == {"smsguid", "smsStatus", "sendername"} for row in found), found
    return {row["smsguid"]: int(row["smsStatus"]) for row in found}


def test_status_moves_from_pending_to_sent_after_the_dlr_delay(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dlr_delay=60, dlr_failure_rate=0.0)
    _send(fptsms_sandbox, "0912345678", "guid-1")
    assert _statuses(fptsms_sandbox, "guid-1") == {"guid-1": PENDING}
    fptsms_sandbox.admin.advance_clock(61)
    assert _statuses(fptsms_sandbox, "guid-1") == {"guid-1": SENT_SUCCESS}


def test_a_failed_delivery_ends_in_a_final_failure(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dlr_delay=0, dlr_failure_rate=1.0)
    _send(fptsms_sandbox, "0912345678", "guid-f")
    status = _statuses(fptsms_sandbox, "guid-f")["guid-f"]
    assert status in FINAL and status != SENT_SUCCESS


def test_unknown_guids_answer_an_empty_document(fptsms_sandbox: SandboxHandle) -> None:
    # guide: GetSMSStatus "none: <DocumentElement />"
    reply = call(fptsms_sandbox.url, "GetSMSStatus", smsList="<SMS><smsguid>never-sent</smsguid></SMS>")
    assert reply == "<DocumentElement />"


def test_status_totals_agree_with_the_statuses(fptsms_sandbox: SandboxHandle) -> None:
    # seed line 124: "505|6|0 (Tổng tin nhắn thành công|Tổng tin nhắn thất bại|Tổng tin nhắn đang chờ)"
    fptsms_sandbox.admin.configure(dlr_delay=30, dlr_failure_rate=0.0)
    for n in range(3):
        _send(fptsms_sandbox, f"091234567{n}", f"t-{n}")
    assert call(fptsms_sandbox.url, "GetTotalMt") == "0|0|3"
    fptsms_sandbox.admin.advance_clock(31)
    assert call(fptsms_sandbox.url, "GetTotalMt") == "3|0|0"


def test_sent_list_rows(fptsms_sandbox: SandboxHandle) -> None:
    fptsms_sandbox.admin.configure(dlr_delay=0, dlr_failure_rate=0.0)
    _send(fptsms_sandbox, "+84912345678", "sent-1", "first")
    # guide: GetSMSSentList minutes -> <DocumentElement><SMSLIST><SMSID/><SMSGUID/><PhoneNumber/><Message/>
    # <CreatedDate/><SentDate/><SMSStatus/>…
    found = rows(call(fptsms_sandbox.url, "GetSMSSentList", minutes="10"), "SMSLIST")
    assert [set(row) for row in found] == [
        {"SMSID", "SMSGUID", "PhoneNumber", "Message", "CreatedDate", "SentDate", "SMSStatus"}
    ]
    row = found[0]
    assert (row["SMSGUID"], row["Message"], int(row["SMSStatus"])) == ("sent-1", "first", SENT_SUCCESS)
    assert row["PhoneNumber"].endswith("912345678")
    # guide: "Dates in replies: ISO with +07:00 offset (2008-05-16T09:23:00+07:00)"
    assert row["CreatedDate"].endswith("+07:00") and datetime.fromisoformat(row["CreatedDate"])
    fptsms_sandbox.admin.advance_clock(11 * 60)
    assert call(fptsms_sandbox.url, "GetSMSSentList", minutes="10") == "<DocumentElement />"


def test_history_pages_of_twenty(fptsms_sandbox: SandboxHandle) -> None:
    for n in range(21):
        _send(fptsms_sandbox, f"09123456{n:02d}", f"h-{n}", "history")
    _send(fptsms_sandbox, "0987654321", "h-other", "other number")
    # guide: GetClientSMSListOfPage / GetTotalPageOfClientSMS: pageNO, key (filter), dates MM-DD-YYYY, smsStatus,
    # serviceTypeID; "pages of 20"
    assert call(fptsms_sandbox.url, "GetTotalPageOfClientSMS", key="") == "2"
    first = rows(call(fptsms_sandbox.url, "GetClientSMSListOfPage", pageNO="1", key=""), "SMSLIST")
    second = rows(call(fptsms_sandbox.url, "GetClientSMSListOfPage", pageNO="2", key=""), "SMSLIST")
    assert (len(first), len(second)) == (20, 2)
    # the public clients' note on key: "lấy SMS gởi tới số SPhone thì key=”0905”" (a number's messages)
    only = rows(call(fptsms_sandbox.url, "GetClientSMSListOfPage", pageNO="1", key="0987654321"), "SMSLIST")
    assert [row["SMSGUID"] for row in only] == ["h-other"]
    # dates MM-DD-YYYY, both ends of the range
    dated = call(fptsms_sandbox.url, "GetTotalPageOfClientSMS", key="", fromDate="01-01-2000", toDate="01-01-2001")
    assert dated == "0"
    wide = call(fptsms_sandbox.url, "GetTotalPageOfClientSMS", key="", fromDate="01-01-2000", toDate="12-31-2099")
    assert wide == "2"
    # a date not in MM-DD-YYYY: seed line 163, 11 "Có tham số không hợp lệ"
    assert sms(call(fptsms_sandbox.url, "GetClientSMSListOfPage", pageNO="1", fromDate="2000-01-01"))["Code"] == "11"


def test_inbound_lists_are_empty_in_the_right_shape(fptsms_sandbox: SandboxHandle) -> None:
    # guide: GetCommingSMSList (minutes) / GetClientCommingSMSNotDividePage (dates, key): inbound (MO) messages;
    # the sandbox receives none: an empty <DocumentElement />
    assert call(fptsms_sandbox.url, "GetCommingSMSList", minutes="60") == "<DocumentElement />"
    reply = call(fptsms_sandbox.url, "GetClientCommingSMSNotDividePage", fromDate="01-01-2024", toDate="12-31-2099")
    assert reply == "<DocumentElement />"
