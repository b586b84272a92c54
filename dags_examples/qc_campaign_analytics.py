"""Runs after each delivery report of ``qc_campaign_lifecycle``: scheduled on its report asset.

The asset event carries the report's figures (delivered / failed / pending, by telco) and the report file's
path, so this DAG knows which campaign landed without asking FPT: here it computes the delivery rate and
re-counts the file (a stand-in for loading it into the warehouse).
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any

from airflow.sdk import ObjectStoragePath, dag, task

from airflow_provider_fptsms.assets import campaign_report_asset

REPORT = campaign_report_asset("qc_campaign_lifecycle")


@dag(
    dag_id="qc_campaign_analytics",
    schedule=[REPORT],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["fptsms", "qc", "analytics", "example"],
)
def qc_campaign_analytics() -> None:
    @task
    def delivery_rate(triggering_asset_events: Any = None) -> dict[str, Any]:
        events = list(triggering_asset_events.get(REPORT, [])) if triggering_asset_events else []
        if not events:
            return {"reports": 0}  # triggered by hand: no report to read
        figures = dict(events[-1].extra)  # the latest report this run was scheduled for
        with ObjectStoragePath(figures["path"]).open("r", encoding="utf-8-sig", newline="") as report:
            rows = sum(1 for _ in csv.DictReader(iter(report.readline, "")))  # 3.0's file wrapper is not iterable
        final = figures["delivered"] + figures["failed"]
        return {
            "reports": len(events),
            "campaign_code": figures["campaign_code"],
            "rows_in_file": rows,
            "rows_in_event": figures["rows"],
            "delivered": figures["delivered"],
            "failed": figures["failed"],
            "pending": figures["pending"],
            "delivery_rate": round(figures["delivered"] / final, 4) if final else None,
            "status_by_telco": figures["status_by_telco"],
        }

    delivery_rate()


qc_campaign_analytics()
