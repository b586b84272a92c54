"""FiboSmsHook's v2.0 methods and FiboDeliverySensor against the sandbox.

Ground truth: the sandbox ledger (what reached a phone) and its clock (statuses become final
``dlr_delay`` seconds after the send); the hook's own results are checked against those.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AirflowSensorTimeout, TaskDeferred
from airflow_provider_fptsms.gateways.errors import AuthError
from airflow_provider_fptsms.gateways.fibo import FiboStatus
from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sensors.delivery import FiboDeliverySensor
from airflow_provider_fptsms.triggers.fibo_delivery import FiboDeliveryTrigger

pytestmark = pytest.mark.usefixtures("fibo_conn")


@pytest.fixture
def deterministic(fptsms_sandbox: SandboxHandle) -> SandboxHandle:
    fptsms_sandbox.admin.configure(dlr_failure_rate=0.0, dlr_delay=30)
    return fptsms_sandbox


def test_check_client_and_sender_names_send_nothing(fptsms_sandbox: SandboxHandle, fibo_conn: Any) -> None:
    hook = FiboSmsHook()
    assert hook.check_client()
    assert {"FIBO", "SANDBOX"} <= {name.name for name in hook.sender_names()}
    ok, text = hook.test_connection()
    assert ok, text
    fibo_conn(password="wrong-pass")
    with pytest.raises(AuthError):
        FiboSmsHook().check_client()
    assert fptsms_sandbox.admin.summary()["total"] == 0


def test_a_long_code_send_takes_plus_84(fptsms_sandbox: SandboxHandle) -> None:
    result = FiboSmsHook().send_sms("+84912345678", "Ma xac nhan 1234", sms_guid="otp-1")
    assert (result.status, result.phone, result.request_id) == ("sent", "84912***678", "otp-1")
    (entry,) = fptsms_sandbox.admin.ledger(gateway="fibo")
    assert entry["phone"] == "84912345678"


def test_a_list_send_reports_what_fibo_refused_and_sends_the_rest_once(deterministic: SandboxHandle) -> None:
    hook = FiboSmsHook()
    first = hook.send_to_list(["0912345601", "84912345602"], "Bao tri he thong 22h", ["m-1", "m-2"])
    assert [r.status for r in first] == ["sent", "sent"]
    again = hook.send_to_list(["+84912345601", "0912345603"], "Bao tri he thong 22h", ["m-3", "m-4"])
    assert [(r.status, r.request_id) for r in again] == [("failed", "m-3"), ("sent", "m-4")]
    assert again[0].error_code == 101
    assert again[0].error == (
        "Fibo error 101: Fibo could not take this number in the list send (ListWrongPhoneNumber). Next step: "
        "check the number (84xxxxxxxxx or 0xxxxxxxxx); if it has just received the same text, it was not sent again"
    )
    ledger = deterministic.admin.summary(gateway="fibo")
    assert (ledger["total"], ledger["duplicates"]) == (3, 0)  # the phone that had the text got it once


def test_statuses_move_from_pending_to_final_on_the_sandbox_clock(deterministic: SandboxHandle) -> None:
    hook = FiboSmsHook()
    hook.send_to_list(["0912345611", "0912345612"], "Don hang da giao", ["s-1", "s-2"])
    assert hook.sms_status(["s-1", "s-2", "unknown-guid"]) == {"s-1": FiboStatus.PENDING, "s-2": FiboStatus.PENDING}
    deterministic.admin.advance_clock(31)
    assert hook.sms_status(["s-1", "s-2"], per_call=1) == {
        "s-1": FiboStatus.SENT_SUCCESS,
        "s-2": FiboStatus.SENT_SUCCESS,
    }
    assert {"s-1", "s-2"} <= {row.sms_guid for row in hook.sent_list(60)}


def test_the_delivery_sensor_pokes_defers_and_its_trigger_ends_when_all_are_final(
    deterministic: SandboxHandle, tmp_path: Any
) -> None:
    FiboSmsHook().send_to_list(["0912345621", "0912345622"], "Lich hen 9h", ["d-1", "d-2"])
    db_url = f"sqlite:///{tmp_path / 'dlr.db'}"
    poke = FiboDeliverySensor(task_id="wait", sms_guids=["d-1", "d-2"], deferrable=False, db_url=db_url)
    assert poke.poke({}).is_done is False
    sensor = FiboDeliverySensor(task_id="wait", sms_guids=["d-1", "d-2"], db_url=db_url, poll_interval=0.05)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, FiboDeliveryTrigger) and "d-1" not in str(trigger.serialize())
    deterministic.admin.advance_clock(31)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    event = asyncio.run(first_event())
    assert event["status"] == "complete"
    summary = sensor.execute_complete({}, event)
    assert (summary["total"], summary["delivered"], summary["failed"], summary["pending"]) == (2, 2, 0, 0)


def test_the_sensor_reads_the_guids_of_a_send_report_and_times_out_with_the_counts(
    deterministic: SandboxHandle, tmp_path: Any
) -> None:
    FiboSmsHook().send_to_list(["0912345631"], "Nhac lich", ["r-1"])
    report = tmp_path / "send.csv"
    report.write_text(
        "row,phone,status,message_id,telco,error_code,error,request_id,segments\n"
        "1,84912***631,sent,,,,,r-1,1\n"
        "2,84912***632,failed,,,101,Bad phone number,r-2,1\n"  # refused: no status will ever come
        "3,***,invalid,,,,too short,,0\n"
    )
    sensor = FiboDeliverySensor(task_id="wait", sms_guids=str(report), db_url=f"sqlite:///{tmp_path / 'd.db'}")
    with pytest.raises(AirflowSensorTimeout) as caught:
        sensor.execute_complete({}, {"status": "deadline", "summary": sensor._read(sensor._guids())})
    assert "0/1 final (1 pending, 0 not known to Fibo)" in str(caught.value)


@pytest.mark.parametrize("style", ["seed", "v2"])
def test_the_balance_reads_both_reply_shapes(fptsms_sandbox: SandboxHandle, style: str) -> None:
    """The seed's ``<SMS><Code>200</Code><AccountBalance>`` and the v2.0 guide's bare ``<string>529</string>``."""
    fptsms_sandbox.admin.configure(fibo_balance_style=style)
    fptsms_sandbox.admin.set_fibo_balance("CL0000000001", 529)
    assert FiboSmsHook().get_balance() == 529
