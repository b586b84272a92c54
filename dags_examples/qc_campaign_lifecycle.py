# TaskFlow and .output pass XComArg where the value is resolved at run time:
# mypy: disable-error-code="arg-type"
"""A QC (advertising) campaign as a DAG: create -> push -> approval -> sent -> delivery report.

The approval, sent and report waits are deferred (no worker slot held for hours or days);
every step is retry-safe: the campaign is created once per run and each phone is pushed once,
even when a task dies mid-push and is retried. ``make demo`` runs it against the sandbox.

The push runs in the Airflow pool ``fptsms_gateway``, shared with the CSKH sends: its slots bound
how many tasks call the gateway's send endpoints at once across all workers and DAGs (the waits
are deferred and hold no slot). Create the pool before the first run — the scheduler does not run
tasks of a pool it does not know (``airflow dags test`` ignores pools)::

    airflow pools set fptsms_gateway 4 "FPT SMS gateway: send/push tasks at once"
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_fptsms.assets import report_outlets
from airflow_provider_fptsms.notifications.sms import REPORT_READY_ALERT, TASK_FAILED_ALERT, FptSmsNotifier
from airflow_provider_fptsms.operators.campaign import (
    FptCampaignReportOperator,
    FptCreateCampaignOperator,
    FptPushCampaignOperator,
)
from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor

AUDIENCE = str(Path(__file__).parent / "data" / "audience.csv")
POOL = "fptsms_gateway"
# Production polls every few minutes; the demo's sandbox answers within seconds.
POLL = float(os.environ.get("FPTSMS_EXAMPLE_POLL_SECONDS", "300"))
ALERT_PHONES = os.environ.get("FPTSMS_EXAMPLE_ALERT_PHONES", "0912000111").split(",")
MESSAGE = "[QC] FPT Shop: Giam 20% phu kien cuoi tuan nay. Chi tiet tai fptshop.com.vn. Tu choi QC soan TC gui 9xxx"


ON_FAILURE = FptSmsNotifier(message=TASK_FAILED_ALERT, phones=ALERT_PHONES)
ON_REPORT = FptSmsNotifier(message=REPORT_READY_ALERT, phones=ALERT_PHONES)


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["fptsms", "qc", "example"],
    default_args={"on_failure_callback": ON_FAILURE},
)
def qc_campaign_lifecycle() -> None:
    create = FptCreateCampaignOperator(
        task_id="create_campaign",
        message=MESSAGE,
        schedule_time="next_valid",  # first slot FPT accepts given send windows and approval lead time
        phones=AUDIENCE,
        phone_column="so_dien_thoai",
        quota_margin=5,
    )
    push = FptPushCampaignOperator(
        task_id="push_phones",
        campaign_code=create.output,
        phones=AUDIENCE,
        phone_column="so_dien_thoai",
        chunk_size=50,
        pool=POOL,  # the gateway's pool: tasks pushing or sending at once, across all workers
        retries=3,
        retry_delay=timedelta(seconds=5),
    )
    approval = FptCampaignApprovalSensor(task_id="wait_for_approval", campaign_code=create.output, poll_interval=POLL)
    sent = FptCampaignSentSensor(task_id="wait_until_sent", campaign_code=create.output, poll_interval=POLL)
    report = FptCampaignReportOperator(
        task_id="delivery_report",
        campaign_code=create.output,
        wait_for_complete=True,
        poll_interval=POLL,
        on_success_callback=ON_REPORT,  # the notifier: an SMS to the team when the report is in
        outlets=report_outlets(
            "qc_campaign_lifecycle"
        ),  # qc_campaign_analytics runs on each report, its figures in the event
    )

    @task
    def summarise(
        pushed: dict[str, Any], approved: dict[str, Any], sending: dict[str, Any], delivery: dict[str, Any]
    ) -> dict[str, Any]:
        summary = {
            "campaign_code": delivery["campaign_code"],
            "phones_pushed": pushed["pushed"],
            "approval": approved["state"],
            "sent_at": sending["sending_time"],
            "invalid_rows": pushed["phones"]["invalid"],
            "duplicates": pushed["phones"]["duplicates"],
            "delivered": delivery["delivered"],
            "failed": delivery["failed"],
            "pending": delivery["pending"],
            "report_path": delivery["path"],
        }
        print(f"QC campaign summary: {summary}")
        return summary

    push >> approval >> sent >> report
    summarise(push.output, approval.output, sent.output, report.output)


qc_campaign_lifecycle()
