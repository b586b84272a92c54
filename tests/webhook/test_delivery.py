"""FptDeliveryTrigger / FptDeliverySensor over the DLR store, and the whole CSKH delivery-report path."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from airflow_provider_fptsms._compat import AirflowException, AirflowSensorTimeout, TaskDeferred
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.sandbox.ledger import delivery_fails
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sensors.delivery import FptDeliverySensor, resolve_message_ids
from airflow_provider_fptsms.triggers.delivery import FptDeliveryTrigger
from airflow_provider_fptsms.webhook.report import DeliveryReport
from airflow_provider_fptsms.webhook.store import DlrStore
from tests.webhook.conftest import KEY, DlrReceiver, wait_until


def _dlr_counters(handle: SandboxHandle) -> dict[str, Any]:
    reply = requests.get(handle.url + "/_sandbox/dlr", timeout=5)
    reply.raise_for_status()
    return dict(reply.json())


def _write_results(path: Path, ids: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "status", "message_id", "telco"])
        for n, message_id in enumerate(ids):
            writer.writerow([f"84912***{n:03d}", "sent" if message_id else "failed", message_id, "viettel"])
    return path


def test_trigger_serializes_exactly() -> None:
    trigger = FptDeliveryTrigger(["1", "2"], "sqlite:///x.db", poll_interval=5, deadline=123.0)
    assert trigger.serialize() == (
        "airflow_provider_fptsms.triggers.delivery.FptDeliveryTrigger",
        {"message_ids": ["1", "2"], "db_url": "sqlite:///x.db", "poll_interval": 5, "deadline": 123.0, "watch": None},
    )
    assert FptDeliveryTrigger(["1"]).serialize()[1]["db_url"] is None  # resolved on the triggerer
    with pytest.raises(ValueError, match="exactly one"):
        FptDeliveryTrigger(["1"], watch="dag/run/task/-1")


async def test_trigger_waits_until_all_final(store: DlrStore, db_url: str) -> None:
    store.record(DeliveryReport("1", 1, "viettel"))
    store.record(DeliveryReport("2", 2, "vina"))
    early = await anext(FptDeliveryTrigger(["1", "2", "3"], db_url, poll_interval=0.01, deadline=0).run())
    assert early.payload["status"] == "deadline"
    assert early.payload["summary"] | {"by_telco": None} == {
        "total": 3,
        "final": 1,
        "delivered": 1,
        "failed": 0,
        "pending": 1,
        "missing": 1,
        "by_telco": None,
    }
    store.record(DeliveryReport("2", 0, "vina", "DELIVERY_FAILED"))
    store.record(DeliveryReport("3", 1, "mobi"))
    done = await anext(FptDeliveryTrigger(["1", "2", "3"], db_url, poll_interval=0.01).run())
    assert done.payload["status"] == "complete"
    assert done.payload["summary"]["by_telco"]["vina"] == {"delivered": 0, "failed": 1, "pending": 0}


async def test_trigger_reads_a_registered_watch(store: DlrStore, db_url: str) -> None:
    assert store.watch("dag/run/dlr/-1", ["1", "2", "2"]) == 2
    assert store.watch("dag/run/dlr/-1", ["1", "2", "3"]) == 3  # a retry replaces, never adds
    store.record(DeliveryReport("1", 1, "viettel"))
    early = await anext(FptDeliveryTrigger(watch="dag/run/dlr/-1", db_url=db_url, poll_interval=0.01, deadline=0).run())
    assert (early.payload["status"], early.payload["summary"]["total"], early.payload["summary"]["final"]) == (
        "deadline",
        3,
        1,
    )
    store.record(DeliveryReport("2", 1, "vina"))
    store.record(DeliveryReport("3", 0, "mobi", "DELIVERY_FAILED"))
    done = await anext(FptDeliveryTrigger(watch="dag/run/dlr/-1", db_url=db_url, poll_interval=0.01).run())
    assert done.payload["status"] == "complete" and done.payload["summary"]["failed"] == 1


async def test_trigger_reports_an_unusable_store_without_its_url(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    event = await anext(FptDeliveryTrigger(["1"], f"sqlite:///{blocker}/sub/dlr.db", poll_interval=0.01).run())
    assert event.payload["status"] == "error" and str(blocker) not in event.payload["message"]
    bad = await anext(FptDeliveryTrigger(["1"], "postgresql://u:pw-s3cret@localhost/x", poll_interval=0.01).run())
    assert bad.payload["status"] == "error" and "pw-s3cret" not in bad.payload["message"]


def test_message_ids_from_lists_rows_text_and_csv(tmp_path: Path) -> None:
    assert resolve_message_ids(["1", 2, "", None, " 3 ", "1"]) == ["1", "2", "3"]
    assert resolve_message_ids([{"status": "sent", "message_id": "9"}, {"status": "failed", "message_id": None}]) == [
        "9"
    ]
    assert resolve_message_ids("['4', '5']") == ["4", "5"]  # an XCom list rendered by Jinja
    path = _write_results(tmp_path / "results.csv", ["10", "", "11"])
    assert resolve_message_ids(str(path)) == ["10", "11"]
    assert resolve_message_ids(path) == ["10", "11"]
    from airflow.sdk import ObjectStoragePath

    assert resolve_message_ids(ObjectStoragePath(f"file://{path}")) == ["10", "11"]
    with pytest.raises(InvalidInputError, match="file not found"):
        resolve_message_ids(str(tmp_path / "missing.csv"))
    (tmp_path / "phones.csv").write_text("phone\n0912345678\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="message_id"):
        resolve_message_ids(str(tmp_path / "phones.csv"))
    with pytest.raises(InvalidInputError, match="message_ids"):
        resolve_message_ids(42)
    with pytest.raises(InvalidInputError, match="neither"):
        resolve_message_ids("[not python")


def test_sensor_defers_then_returns_the_summary(store: DlrStore, db_url: str) -> None:
    store.record(DeliveryReport("1", 1, "viettel"))
    ids = ["1", *(str(n) for n in range(100, 20_100))]  # a big send: the ids go to the store, not the trigger
    sensor = FptDeliverySensor(task_id="dlr", message_ids=ids, db_url=db_url, poll_interval=10, timeout=600)
    assert sensor.template_fields == ("message_ids",)
    started = time.time()
    ti = SimpleNamespace(dag_id="cskh", run_id="r1", task_id="dlr", map_index=-1)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({"ti": ti})  # type: ignore[typeddict-item]
    trigger = deferred.value.trigger
    assert isinstance(trigger, FptDeliveryTrigger) and trigger.message_ids is None and trigger.watch == "cskh/r1/dlr/-1"
    assert len(json.dumps(trigger.serialize())) < 500 and sorted(store.watched(trigger.watch)) == sorted(ids)
    assert trigger.db_url == db_url and trigger.poll_interval == 10
    assert trigger.deadline is not None and started + 599 <= trigger.deadline <= time.time() + 600
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is not None and deferred.value.timeout.total_seconds() > 600
    summary = {"total": 2, "final": 2, "delivered": 2, "failed": 0, "pending": 0, "missing": 0, "by_telco": {}}
    assert sensor.execute_complete({}, {"status": "complete", "summary": summary}) == summary
    late = {**summary, "final": 1, "delivered": 1, "missing": 1}
    with pytest.raises(AirflowSensorTimeout, match="1/2 final"):
        sensor.execute_complete({}, {"status": "deadline", "summary": late})
    with pytest.raises(AirflowException, match="cannot read"):
        sensor.execute_complete({}, {"status": "error", "message": "cannot read the DLR store"})


def test_sensor_poke_mode(store: DlrStore, db_url: str, tmp_path: Path) -> None:
    path = _write_results(tmp_path / "results.csv", ["1", "", "2"])
    sensor = FptDeliverySensor(task_id="dlr", message_ids=str(path), db_url=db_url, deferrable=False)
    store.record(DeliveryReport("1", 1, "viettel"))
    assert sensor.poke({}).is_done is False
    store.record(DeliveryReport("2", 0, "viettel", "DELIVERY_FAILED"))
    poked = sensor.poke({})
    assert poked.is_done is True and poked.xcom_value is not None
    assert (poked.xcom_value["failed"], poked.xcom_value["total"]) == (1, 2)


def test_sensor_reads_the_store_from_the_environment(
    store: DlrStore, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FPTSMS_DLR_DB", db_url)
    store.record(DeliveryReport("5", 1, "itel"))
    sensor = FptDeliverySensor(task_id="dlr", message_ids=["5"])
    assert sensor.execute({})["by_telco"] == {"itel": {"delivered": 1, "failed": 0, "pending": 0}}
    assert FptDeliverySensor(task_id="none", message_ids=[]).execute({})["total"] == 0


async def test_sandbox_dlrs_reach_the_receiver_and_the_sensor_end_to_end(
    fptsms_sandbox: SandboxHandle, receiver: DlrReceiver, tmp_path: Path
) -> None:
    """CSKH sends -> the sandbox posts DLRs (as FPT) -> the receiver stores them -> the trigger/sensor count them."""
    fptsms_sandbox.admin.configure(dlr_url=receiver.url, dlr_key=KEY, dlr_delay=0.05, dlr_failure_rate=0.3)
    hook = FptSmsHook()
    phones = ["0912345678", "0981234567", "0961234567", "0901234567", "0931234567", "0921234567", "0991234567"]
    phones += ["0871234567", "0351234567", "0701234567", "0831234567", "0561234567", "0341234567", "0771234567"]
    results = [hook.send_cskh(phone, "Ma OTP cua ban la 1234", request_id=f"e2e-{n}") for n, phone in enumerate(phones)]
    results.append(hook.send_cskh("6591234567", "Your OTP is 1234", request_id="e2e-intl", international=True))
    ids = [r.message_id or "" for r in results]
    assert all(ids) and len(set(ids)) == len(phones) + 1

    event = await anext(FptDeliveryTrigger(ids, receiver.db_url, poll_interval=0.05, deadline=time.time() + 15).run())
    assert event.payload["status"] == "complete", event.payload

    entries = fptsms_sandbox.admin.ledger(gateway="fpt")
    failed = {e["message_id"] for e in entries if delivery_fails(e["phone"], 0.3)}
    telcos = Counter(r.telco or "" for r in results)
    summary = event.payload["summary"]
    assert 0 < len(failed) < len(ids)  # the rate really splits this set
    assert (summary["total"], summary["final"], summary["pending"], summary["missing"]) == (len(ids), len(ids), 0, 0)
    assert (summary["delivered"], summary["failed"]) == (len(ids) - len(failed), len(failed))
    assert {telco: sum(c.values()) for telco, c in summary["by_telco"].items()} == {
        telco.lower(): n for telco, n in telcos.items()
    }
    row = receiver.store.get(next(iter(failed)))
    assert row is not None and row["error"] == "DELIVERY_FAILED" and row["mt_count"] == 1

    dlr = _dlr_counters(fptsms_sandbox)
    assert (dlr["posted"], dlr["failed"], dlr["pending"], dlr["key_set"]) == (len(ids), 0, 0, True)
    assert KEY not in str(dlr)

    path = _write_results(tmp_path / "cskh-results.csv", [*ids, ""])
    sensor = FptDeliverySensor(task_id="dlr", message_ids=str(path), db_url=receiver.db_url)
    assert sensor.execute({}) == summary  # all final: no deferral


def test_sandbox_retries_then_counts_a_refused_dlr(
    fptsms_sandbox: SandboxHandle, receiver: DlrReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fptsms_sandbox.sandbox is not None
    monkeypatch.setattr(fptsms_sandbox.sandbox.dlr, "backoff", 0.01)
    fptsms_sandbox.admin.configure(dlr_url=receiver.url, dlr_key="not-the-key", dlr_delay=0)
    message_id = FptSmsHook().send_cskh("0912345678", "OTP 1", request_id="refused").message_id or ""
    # the post task counts "failed", then closes its HTTP session before it is done: wait for both
    wait_until(lambda: (lambda dlr: (dlr["failed"], dlr["pending"]) == (1, 0))(_dlr_counters(fptsms_sandbox)))
    dlr = _dlr_counters(fptsms_sandbox)
    assert (dlr["posted"], dlr["retries"], dlr["pending"]) == (0, 3, 0)
    assert receiver.store.get(message_id) is None


def test_sandbox_reset_cancels_pending_dlrs(fptsms_sandbox: SandboxHandle, receiver: DlrReceiver) -> None:
    assert fptsms_sandbox.sandbox is not None
    hook = FptSmsHook()
    sent: list[str] = []
    # POST /_sandbox/reset (on the server's loop), then Sandbox.reset() from this thread (as the fixture does)
    for reset in (fptsms_sandbox.admin.reset, fptsms_sandbox.sandbox.reset):
        fptsms_sandbox.admin.configure(dlr_url=receiver.url, dlr_key=KEY, dlr_delay=30)
        sent.append(hook.send_cskh("0912345678", f"OTP {len(sent)}", request_id=f"cancel-{len(sent)}").message_id or "")
        assert _dlr_counters(fptsms_sandbox)["pending"] == 1
        reset()
        wait_until(lambda: _dlr_counters(fptsms_sandbox)["pending"] == 0)
        assert _dlr_counters(fptsms_sandbox)["posted"] == 0
    assert receiver.store.summary(sent)["final"] == 0  # (a reset restarts MessageIds: both may be equal)


def test_sandbox_dlr_settings_hide_the_key(fptsms_sandbox: SandboxHandle) -> None:
    shown = fptsms_sandbox.admin.configure(dlr_url="http://127.0.0.1:9/dlr", dlr_key=KEY)
    assert shown["dlr_url"] == "http://127.0.0.1:9/dlr" and shown["dlr_key"] == "***"
    text = requests.get(fptsms_sandbox.url + "/_sandbox/config", timeout=5).text
    assert KEY not in text and '"dlr_key":"***"' in text
    assert KEY not in repr(fptsms_sandbox.sandbox.config)  # type: ignore[union-attr]
    for bad in ({"dlr_url": "ftp://x"}, {"dlr_url": 5}, {"dlr_key": 5}):
        assert requests.patch(fptsms_sandbox.url + "/_sandbox/config", json=bad, timeout=5).status_code == 400
    assert fptsms_sandbox.admin.configure(dlr_url=None, dlr_key=None)["dlr_key"] is None


def test_sandbox_cli_dlr_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_fptsms.sandbox.cli import build, parser

    monkeypatch.setenv("MY_DLR_KEY", KEY)
    config, _ = build(parser().parse_args(["--dlr-url", "http://127.0.0.1:8080/dlr", "--dlr-key-env", "MY_DLR_KEY"]))
    assert (config.dlr_url, config.dlr_key) == ("http://127.0.0.1:8080/dlr", KEY)
    monkeypatch.delenv("FPTSMS_DLR_KEY", raising=False)
    with pytest.raises(ValueError, match="FPTSMS_DLR_KEY"):
        build(parser().parse_args(["--dlr-url", "http://127.0.0.1:8080/dlr"]))
    assert build(parser().parse_args([]))[0].dlr_url is None
