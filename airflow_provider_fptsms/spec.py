"""A QC campaign as configuration: a YAML spec becomes the lifecycle DAG with one call.

    # dags/tet_promo.py
    from airflow_provider_fptsms.spec import campaign_dag
    dag = campaign_dag("campaigns/tet_promo.yaml")

The spec is checked when the DAG file is parsed, so a typo fails in the DAG processor with the
field, the value and what to write instead — not days later in the middle of a campaign.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.gateways.errors import InvalidInputError

if TYPE_CHECKING:
    from airflow.sdk import DAG

SCHEMA = """
name: tet-2027                 # optional campaign name (<= 29 chars); default <dag_id>-<logical date>
dag_id: qc_tet_2027            # optional; default qc_<file name>
message: "..."                 # required, plain text (no accents keeps 160 chars per message)
schedule: "2027-01-20 09:00"   # required: 'YYYY-MM-DD HH:mm' Vietnam time, or next_valid
brandname: FTI                 # optional; default: the connection's brandname
audience:                      # required
  path: data/audience.csv      # txt / csv / .gz, local (relative to this file) or s3://... gs://...
  column: so_dien_thoai        # optional CSV column
quota_margin: 0                # optional extra messages of quota
chunk_size: 1000               # optional phones per push call
report:                        # optional
  path: s3://bucket/reports/tet-2027.csv
  wait_days: 7
alerts:                        # optional: SMS on failure and when the report is in
  phones: ["09xxxxxxxx"]
  via: fpt                     # fpt | fibo
poll_minutes: 5                # optional
fpt_conn_id: fptsms_default    # optional
tags: [marketing]              # optional
"""

_KNOWN = {
    "name",
    "dag_id",
    "message",
    "schedule",
    "brandname",
    "audience",
    "quota_margin",
    "chunk_size",
    "report",
    "alerts",
    "poll_minutes",
    "fpt_conn_id",
    "tags",
}


class CampaignSpecError(InvalidInputError):
    """The campaign spec is not valid; the message names the file and the field."""


@dataclass(frozen=True)
class CampaignSpec:
    source: Path
    dag_id: str
    message: str
    schedule: str
    audience_path: str
    audience_column: str | None = None
    name: str | None = None
    brandname: str | None = None
    quota_margin: int = 0
    chunk_size: int = 1000
    report_path: str | None = None
    report_wait: timedelta = timedelta(days=7)
    alert_phones: tuple[str, ...] = ()
    alert_via: str = "fpt"
    poll_interval: float = 300.0
    fpt_conn_id: str = "fptsms_default"
    tags: tuple[str, ...] = field(default_factory=tuple)


def load_spec(path: str | os.PathLike[str]) -> CampaignSpec:
    """Read and check a campaign spec (YAML)."""
    import yaml

    source = Path(path)
    if not source.is_file():
        raise CampaignSpecError("spec_path", str(path), "file not found", "pass the path of the campaign YAML")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CampaignSpecError(
            "spec", source.name, f"is not valid YAML ({exc.__class__.__name__})", "check indentation and quotes"
        ) from None
    if not isinstance(data, dict):
        raise CampaignSpecError("spec", source.name, "must be a mapping of settings", f"see:\n{SCHEMA}")
    checker = _Checker(source, data)
    return checker.spec()


class _Checker:
    def __init__(self, source: Path, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data

    def fail(self, name: str, value: object, problem: str, hint: str) -> CampaignSpecError:
        return CampaignSpecError(f"{self.source.name}: {name}", value, problem, hint)

    def text(self, name: str, value: Any, *, required: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, value, "is required", f"add '{name}:' to the spec")
            return None
        if not isinstance(value, str):
            raise self.fail(name, value, "must be text", "quote it")
        return value.strip()

    def number(self, name: str, value: Any, default: float, minimum: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self.fail(name, value, f"must be a number >= {minimum:g}", f"e.g. {name}: {default:g}")
        return float(value)

    def spec(self) -> CampaignSpec:
        from airflow_provider_fptsms.sms.phones import normalise
        from airflow_provider_fptsms.sms.text import check_message

        data = self.data
        unknown = sorted(set(data) - _KNOWN)
        if unknown:
            raise self.fail(unknown[0], data[unknown[0]], "is not a known setting", f"known: {sorted(_KNOWN)}")
        message = self.text("message", data.get("message"), required=True)
        assert message is not None
        try:
            check_message(message, field="message")
        except InvalidInputError as error:
            raise self.fail("message", "<text>", error.description.split(": ", 1)[-1], error.next_step) from None
        schedule = self._schedule(data.get("schedule"))
        audience = data.get("audience")
        if isinstance(audience, str):
            audience = {"path": audience}
        if not isinstance(audience, dict) or not audience.get("path"):
            raise self.fail("audience.path", audience, "is required", "audience: {path: data/audience.csv}")
        audience_path = self._path("audience.path", audience["path"], must_exist=True)
        report = data.get("report") or {}
        if not isinstance(report, dict):
            raise self.fail("report", report, "must be a mapping", "report: {path: ..., wait_days: 7}")
        alerts = data.get("alerts") or {}
        if not isinstance(alerts, dict):
            raise self.fail("alerts", alerts, "must be a mapping", "alerts: {phones: [...], via: fpt}")
        phones = alerts.get("phones") or []
        if isinstance(phones, str):
            phones = phones.split(",")
        for phone in phones:
            try:
                normalise(str(phone))
            except InvalidInputError as error:
                raise self.fail(
                    "alerts.phones", error.value, error.description.split(": ", 1)[-1], error.next_step
                ) from None
        via = alerts.get("via", "fpt")
        if via not in ("fpt", "fibo"):
            raise self.fail("alerts.via", via, "must be fpt or fibo", "alerts: {via: fpt}")
        name = self.text("name", data.get("name"))
        if name is not None and len(name) > 29:
            raise self.fail("name", name, "is longer than 29 characters", "FPT allows 32; 3 are kept for retries")
        tags = data.get("tags") or []
        if not isinstance(tags, list):
            raise self.fail("tags", tags, "must be a list", "tags: [marketing]")
        return CampaignSpec(
            source=self.source,
            dag_id=self.text("dag_id", data.get("dag_id")) or f"qc_{self.source.stem.replace('-', '_')}",
            message=message,
            schedule=schedule,
            audience_path=audience_path,
            audience_column=audience.get("column"),
            name=name,
            brandname=self.text("brandname", data.get("brandname")),
            quota_margin=int(self.number("quota_margin", data.get("quota_margin"), 0, 0)),
            chunk_size=int(self.number("chunk_size", data.get("chunk_size"), 1000, 1)),
            report_path=self._path("report.path", report["path"], must_exist=False) if report.get("path") else None,
            report_wait=timedelta(days=self.number("report.wait_days", report.get("wait_days"), 7, 0)),
            alert_phones=tuple(str(p).strip() for p in phones),
            alert_via=via,
            poll_interval=60 * self.number("poll_minutes", data.get("poll_minutes"), 5, 0.001),
            fpt_conn_id=self.text("fpt_conn_id", data.get("fpt_conn_id")) or "fptsms_default",
            tags=tuple(str(t) for t in tags),
        )

    def _schedule(self, value: Any) -> str:
        from airflow_provider_fptsms.sms.schedule import SCHEDULE_FORMAT, in_send_window

        if isinstance(value, datetime):
            value = value.strftime(SCHEDULE_FORMAT)
        text = self.text("schedule", value, required=True)
        assert text is not None
        if text == "next_valid":
            return text
        try:
            moment = datetime.strptime(text, SCHEDULE_FORMAT)
        except ValueError:
            raise self.fail(
                "schedule", text, "is not 'YYYY-MM-DD HH:mm'", "e.g. '2027-01-20 09:00' or next_valid"
            ) from None
        if not in_send_window(moment):
            raise self.fail(
                "schedule",
                text,
                "is outside the send windows 08:00-11:30 / 13:30-20:00",
                "pick a time inside a window (Vietnam time)",
            )
        return text

    def _path(self, name: str, value: Any, *, must_exist: bool) -> str:
        text = self.text(name, value, required=True)
        assert text is not None
        if "://" in text:
            return text
        resolved = (self.source.parent / text).resolve()
        if must_exist and not resolved.is_file():
            raise self.fail(name, text, f"file not found (looked at {resolved})", "fix the path (relative to the spec)")
        return str(resolved)


def campaign_dag(spec_path: str | os.PathLike[str], *, poll_interval: float | None = None, **dag_kwargs: Any) -> DAG:
    """Build the QC lifecycle DAG (create -> push -> approval -> sent -> report) from a YAML spec.

    ``poll_interval`` (seconds) overrides the spec's ``poll_minutes``; other keywords go to ``DAG``.
    """
    from airflow.sdk import DAG

    from airflow_provider_fptsms.notifications.sms import (
        REPORT_READY_ALERT,
        TASK_FAILED_ALERT,
        FiboSmsNotifier,
        FptSmsNotifier,
    )
    from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
    from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
    from airflow_provider_fptsms.operators.campaign_report import FptCampaignReportOperator
    from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor

    spec = load_spec(spec_path)
    poll = poll_interval if poll_interval is not None else spec.poll_interval
    on_failure: Any = None
    on_report: Any = None
    if spec.alert_phones:
        notifier = FptSmsNotifier if spec.alert_via == "fpt" else FiboSmsNotifier
        on_failure = notifier(message=TASK_FAILED_ALERT, phones=list(spec.alert_phones))
        on_report = notifier(message=REPORT_READY_ALERT, phones=list(spec.alert_phones))
    dag_kwargs.setdefault("schedule", None)
    dag_kwargs.setdefault("start_date", datetime(2026, 1, 1))
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["fptsms", "qc", *spec.tags])
    dag_kwargs.setdefault("doc_md", f"QC campaign from `{spec.source.name}`.")
    default_args = {"on_failure_callback": on_failure} if on_failure else {}
    conn = spec.fpt_conn_id
    with DAG(spec.dag_id, default_args=default_args, **dag_kwargs) as dag:
        create = FptCreateCampaignOperator(
            task_id="create_campaign",
            message=spec.message,
            schedule_time=spec.schedule,
            campaign_name=spec.name,
            phones=spec.audience_path,
            phone_column=spec.audience_column,
            quota_margin=spec.quota_margin,
            brandname=spec.brandname,
            fpt_conn_id=conn,
        )
        create.name_hint = (
            f"change 'name:' in {spec.source.name}" if spec.name else f"add a 'name:' to {spec.source.name}"
        )
        code: Any = create.output  # the CampaignCode, resolved at run time
        push = FptPushCampaignOperator(
            task_id="push_phones",
            campaign_code=code,
            phones=spec.audience_path,
            phone_column=spec.audience_column,
            chunk_size=spec.chunk_size,
            retries=3,
            fpt_conn_id=conn,
        )
        approval = FptCampaignApprovalSensor(
            task_id="wait_for_approval", campaign_code=code, poll_interval=poll, fpt_conn_id=conn
        )
        sent = FptCampaignSentSensor(
            task_id="wait_until_sent", campaign_code=code, poll_interval=poll, fpt_conn_id=conn
        )
        report = FptCampaignReportOperator(
            task_id="delivery_report",
            campaign_code=code,
            output_path=spec.report_path,
            wait_for_complete=True,
            poll_interval=poll,
            deadline=spec.report_wait,
            on_success_callback=on_report,
            fpt_conn_id=conn,
        )
        push >> approval >> sent >> report
    return dag
