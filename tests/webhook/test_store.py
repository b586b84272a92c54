"""The DLR body parser and the store: idempotent, waiting -> final only, concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.webhook.report import DeliveryReport, parse_report
from airflow_provider_fptsms.webhook.store import DlrStore, default_db_url, resolve_db_url, safe_url


def test_parse_accepts_the_manual_sample_and_its_table_spelling() -> None:
    sample = parse_report({"smsid": "270148016", "status": 1, "telco": "viettel", "error": None, "mt_count": 1})
    assert sample == DeliveryReport("270148016", 1, "viettel", None, 1)
    table = parse_report({"smsid": 451838640, "Status": "0", "Telco": "Vina", "Error": "DELIVERY_FAILED"})
    assert table == DeliveryReport("451838640", 0, "vina", "DELIVERY_FAILED", None)
    assert parse_report({"smsid": "7", "status": "-11"}).status == -11
    assert parse_report({"smsid": "7", "status": 2, "Status": 1}).status == 2  # the exact key wins
    assert parse_report({"smsid": "7", "status": 0, "error": 53}).error == "53"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2], "body"),
        ({"status": 1}, "smsid"),
        ({"smsid": True, "status": 1}, "smsid"),
        ({"smsid": "12 34\n", "status": 1}, "smsid"),
        ({"smsid": "1" * 65, "status": 1}, "smsid"),
        ({"smsid": "1"}, "status"),
        ({"smsid": "1", "status": 3}, "status"),
        ({"smsid": "1", "status": "ok"}, "status"),
        ({"smsid": "1", "status": True}, "status"),
        ({"smsid": "1", "status": 1, "telco": 5}, "telco"),
        ({"smsid": "1", "status": 1, "mt_count": "many"}, "mt_count"),
        ({"smsid": "1", "status": 1, "mt_count": 1000}, "mt_count"),
    ],
)
def test_parse_names_the_bad_field(body: object, field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        parse_report(body)
    assert error.value.field == field
    assert len(str(error.value)) < 200  # never echoes a whole body


def test_same_report_twice_changes_nothing(store: DlrStore) -> None:
    report = DeliveryReport("100", 1, "viettel", None, 1)
    assert store.record(report) is True
    first = store.get("100")
    assert store.record(report) is False
    assert store.get(100) == first
    assert first is not None and first["status_name"] == "delivered" and first["first_received_at"] is not None


def test_waiting_then_final_but_never_back(store: DlrStore) -> None:
    assert store.record(DeliveryReport("200", 2, "mobi")) is True
    assert store.record(DeliveryReport("200", -11, "mobi")) is False  # waiting -> waiting: no change
    assert store.record(DeliveryReport("200", 0, None, "DELIVERY_FAILED", 1)) is True
    row = store.get("200")
    assert row is not None
    assert (row["status"], row["telco"], row["error"], row["mt_count"]) == (0, "mobi", "DELIVERY_FAILED", 1)
    assert row["updated_at"] >= row["first_received_at"]
    assert store.record(DeliveryReport("200", 2, "mobi")) is False  # final -> waiting: refused
    assert store.record(DeliveryReport("200", 1, "mobi")) is False  # first final status wins
    assert store.get("200")["status"] == 0  # type: ignore[index]
    assert store.get("nope") is None


@pytest.mark.parametrize("upsert", [True, False], ids=["on-conflict", "savepoints"])
def test_a_batch_applies_each_report_in_order_as_record_would(
    store: DlrStore, upsert: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not upsert:  # a database without INSERT ... ON CONFLICT takes the three-step path
        monkeypatch.setattr("airflow_provider_fptsms.webhook.store._upsert", lambda dialect: None)
    store.record(DeliveryReport("300", 1, "viettel"))  # already final before the batch
    batch = [
        DeliveryReport("301", 2, "mobi"),  # new, waiting
        DeliveryReport("301", 1, "mobi"),  # then final in the same commit
        DeliveryReport("301", 1, "mobi"),  # a repeat: nothing changes
        DeliveryReport("300", 0, "viettel", "DELIVERY_FAILED"),  # an existing final row: kept, batch not aborted
        DeliveryReport("302", 0, "vina", "DELIVERY_FAILED", 1),
    ]
    assert store.record_many(batch) == [True, True, False, False, True]
    assert [store.get(i)["status"] for i in ("300", "301", "302")] == [1, 1, 0]  # type: ignore[index]
    assert store.record_many([]) == []


def test_summary_counts_by_status_and_telco(store: DlrStore) -> None:
    for report in (
        DeliveryReport("1", 1, "viettel"),
        DeliveryReport("2", 0, "viettel", "DELIVERY_FAILED"),
        DeliveryReport("3", 2, "vina"),
        DeliveryReport("4", 1, None),
        DeliveryReport("99", 1, "mobi"),  # not asked for
    ):
        store.record(report)
    summary = store.summary(["1", "2", "3", "4", "5", "", None, "1", 2])
    assert summary == {
        "total": 5,
        "final": 3,
        "delivered": 2,
        "failed": 1,
        "pending": 1,
        "missing": 1,
        "by_telco": {
            "unknown": {"delivered": 1, "failed": 0, "pending": 0},
            "viettel": {"delivered": 1, "failed": 1, "pending": 0},
            "vina": {"delivered": 0, "failed": 0, "pending": 1},
        },
    }
    assert store.summary([])["total"] == 0


def test_summary_handles_more_ids_than_sqlite_parameters(store: DlrStore) -> None:
    ids = [str(n) for n in range(2_500)]
    store.record(DeliveryReport("2499", 1, "viettel"))
    summary = store.summary(ids)
    assert (summary["total"], summary["delivered"], summary["missing"]) == (2_500, 1, 2_499)


def test_concurrent_writers_on_one_sqlite_file(db_url: str) -> None:
    """Several stores (like several API-server workers) hammer the same rows: one row each, final wins."""
    stores = [DlrStore(db_url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(store: DlrStore, offset: int) -> None:
        try:
            for n in range(60):
                smsid = str(n % 20)
                store.record(DeliveryReport(smsid, 2 if (n + offset) % 3 else 1, "viettel"))
                store.record(DeliveryReport(smsid, 1, "viettel"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    summary = stores[0].summary([str(n) for n in range(20)])
    assert (summary["total"], summary["delivered"], summary["pending"]) == (20, 20, 0)
    for store in stores:
        store.dispose()


def test_default_url_lives_under_airflow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("FPTSMS_DLR_DB", raising=False)
    assert default_db_url() == f"sqlite:///{tmp_path}/fptsms/dlr.db"
    assert resolve_db_url() == default_db_url()
    monkeypatch.setenv("FPTSMS_DLR_DB", "sqlite:///elsewhere.db")
    assert resolve_db_url() == "sqlite:///elsewhere.db" and resolve_db_url("sqlite://") == "sqlite://"
    store = DlrStore()
    store.dispose()
    memory = DlrStore("sqlite://")
    assert memory.record(DeliveryReport("1", 1)) and memory.summary(["1"])["final"] == 1


def test_urls_are_shown_without_their_password() -> None:
    shown = safe_url("postgresql://user:s3cret-pw@db.example/dlr")
    assert "s3cret-pw" not in shown and "db.example" in shown
