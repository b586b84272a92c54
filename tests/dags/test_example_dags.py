"""The example DAGs run end to end with ``airflow dags test`` on SQLite against the sandbox.

This is where deferral is shown for real: the approval, sent and report tasks enter the
deferred state and their triggers complete them.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path
from typing import Any

from airflow_provider_fptsms._compat import airflow_at_least
from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess

DAGS = Path(__file__).resolve().parents[2] / "dags_examples"


def test_qc_campaign_lifecycle(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("qc_campaign_lifecycle", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    assert result.deferred_tasks == ["wait_for_approval", "wait_until_sent", "delivery_report"]
    line = next(x for x in result.output.splitlines() if "QC campaign summary:" in x)
    summary = ast.literal_eval(line.split("QC campaign summary:", 1)[1].strip().rsplit("}", 1)[0] + "}")
    assert summary["approval"] == "approved" and summary["invalid_rows"] == 2
    assert summary["delivered"] + summary["failed"] == summary["phones_pushed"] and summary["pending"] == 0
    assert Path(summary["report_path"]).read_text().startswith("Phone,Telco,Status")
    admin = SandboxClient(sandbox.url)
    ledger = admin.summary()
    assert ledger["by_kind"] == {"qc": summary["phones_pushed"], "cskh": 1} and ledger["duplicates"] == 0
    alert = admin.ledger(kind="cskh")[0]  # the notifier's SMS when the report arrived
    assert alert["message"] == f"QC qc_campaign_lifecycle: {summary['delivered']} delivered, {summary['failed']} failed"
    if not airflow_at_least("3.1"):
        return  # no report asset on 3.0: its `dags test` refuses an outlet no dag-processor registered
    [event] = asset_events(airflow_home, "fptsms://fpt/campaigns/qc_campaign_lifecycle/delivery_report")
    assert (event["delivered"], event["failed"], event["pending"]) == (summary["delivered"], summary["failed"], 0)
    assert event["rows"] == summary["phones_pushed"] and event["path"] == summary["report_path"]
    assert sum(sum(by_status.values()) for by_status in event["status_by_telco"].values()) == event["rows"]


def asset_events(home: AirflowHome, uri: str) -> list[dict[str, Any]]:
    """The extras of the asset events Airflow recorded for ``uri``, oldest first (read from its database)."""
    with sqlite3.connect(home.home / "airflow.db") as db:
        rows = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ? ORDER BY e.id", (uri,)
        ).fetchall()
    return [json.loads(extra) if isinstance(extra, str) else extra for (extra,) in rows]


def test_sms_hooks_tour(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("sms_hooks_tour", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    ledger = SandboxClient(sandbox.url).summary()
    assert ledger["by_kind"] == {"cskh": 1, "qc": 3, "fibo": 1} and ledger["duplicates"] == 0


def test_qc_campaign_from_spec(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("qc_weekend_promo", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    assert result.deferred_tasks == ["wait_for_approval", "wait_until_sent", "delivery_report"]
    admin = SandboxClient(sandbox.url)
    [campaign] = admin.campaigns()
    assert campaign["CampaignName"] == "weekend-promo" and campaign["Total"] == 200 and campaign["State"] == "sent"
    assert admin.summary()["duplicates"] == 0
    assert admin.ledger(kind="cskh")[0]["message"].startswith("QC qc_weekend_promo: ")

    # A second run (another logical date) of a spec with a fixed name finds the first run's campaign:
    # it fails, in the spec's own words, instead of pushing nothing and reporting the first run's figures.
    before = admin.summary(kind="qc")["total"]
    again = airflow_home.dag_test("qc_weekend_promo", sandbox.url)
    assert again.state == "failed", again.output[-3000:]
    assert "change 'name:' in weekend_promo.yaml" in again.output
    assert admin.summary(kind="qc")["total"] == before and len(admin.campaigns()) == 1


class _TriggeringEvents:
    """Airflow's triggering_asset_events as the task reads it (``.get(asset, default)``), keyed by URI: an
    Asset is not hashable on every Airflow line, so a plain dict cannot stand in for Airflow's accessor."""

    def __init__(self, asset: Any, events: list[Any]) -> None:
        self.asset, self.events = asset, events

    def get(self, key: Any, default: Any = None) -> Any:
        return self.events if key.uri == self.asset.uri else default


def test_the_analytics_example_reads_the_report_its_asset_event_names(tmp_path: Path) -> None:
    """What qc_campaign_analytics does with a report asset event (the scheduler runs it in `make e2e`)."""
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("qc_campaign_analytics", DAGS / "qc_campaign_analytics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = tmp_path / "report.csv"
    report.write_text("Phone,Telco,Status\n849***001,viettel,1\n849***002,viettel,0\n849***003,vina,1\n")
    extra = {"campaign_code": "C1", "rows": 3, "delivered": 2, "failed": 1, "pending": 0, "path": str(report)}
    extra["status_by_telco"] = {"viettel": {"delivered": 1, "failed": 1, "pending": 0}}
    rate = module.qc_campaign_analytics().get_task("delivery_rate").python_callable
    result = rate(triggering_asset_events=_TriggeringEvents(module.REPORT, [SimpleNamespace(extra=extra)]))
    assert (result["rows_in_file"], result["rows_in_event"], result["delivery_rate"]) == (3, 3, 0.6667)
    assert rate(triggering_asset_events=_TriggeringEvents(module.REPORT, [])) == {"reports": 0}
    assert rate(triggering_asset_events=None) == {"reports": 0}  # triggered by hand
