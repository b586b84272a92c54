"""Fetch the delivery report (``dlr-ads`` CSV) of a QC campaign, optionally deferring until it is complete."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.assets import attach_figures
from airflow_provider_fptsms.operators._fpt import _FptOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.lineage import OperatorLineage


class FptCampaignReportOperator(_FptOperator):
    """Fetch the ``dlr-ads`` CSV of a campaign to ``output_path`` and return a summary.

    :param campaign_code: CampaignCode (templated; usually the create task's XCom).
    :param output_path: file (local or ObjectStoragePath, templated); default
        ``$AIRFLOW_HOME/fptsms/reports/<campaign>.csv``.
    :param wait_for_complete: defer until every pushed phone has a final status (FPT reports arrive
        3-5 working days after sending) or ``deadline`` passes, then fetch.
    :param expected_rows: phones the report must cover to be complete; default: the campaign's
        ``detail-ads`` Total.
    :param poll_interval: seconds between report checks while waiting (default 1 h).
    :param deadline: how long ``wait_for_complete`` waits before fetching what there is (default 7 days).
    :param fpt_conn_id: a ``fptsms`` connection.

    Every :class:`~airflow.sdk.Asset` in ``outlets`` gets the report's figures as its event's extra
    (:mod:`airflow_provider_fptsms.assets`): ``campaign_dag()`` declares
    :func:`~airflow_provider_fptsms.assets.campaign_report_asset`.
    """

    template_fields: Sequence[str] = ("campaign_code", "output_path")

    def __init__(
        self,
        *,
        campaign_code: str,
        output_path: str | None = None,
        wait_for_complete: bool = False,
        expected_rows: int | None = None,
        poll_interval: float = 3600.0,
        deadline: timedelta = timedelta(days=7),
        fpt_conn_id: str = "fptsms_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(fpt_conn_id=fpt_conn_id, **kwargs)
        self.campaign_code = campaign_code
        self.output_path = output_path
        self.wait_for_complete = wait_for_complete
        self.expected_rows = expected_rows
        self.poll_interval = poll_interval
        self.deadline = deadline

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.wait_for_complete:
            return self._fetch(context)
        expected = self.expected_rows or self.hook.campaign_status(self.campaign_code).total
        from airflow_provider_fptsms.gateways.fpt import ReportCounts
        from airflow_provider_fptsms.triggers.campaign import FptCampaignReportTrigger, report_message

        # the trigger's rule (ReportCounts.complete) and words, so both paths agree on "complete"
        counts = ReportCounts.of(r.status for r in self.hook.delivery_report(self.campaign_code))
        if counts.complete(expected):
            self.log.info("%s", report_message(self.campaign_code, counts, expected))
            return self._fetch(context)
        deadline = time.time() + self.deadline.total_seconds()
        self.log.info(
            "%s",
            report_message(self.campaign_code, counts, expected, next_check=self.poll_interval, deadline=deadline),
        )
        self.defer(
            trigger=FptCampaignReportTrigger(
                campaign_code=self.campaign_code,
                expected_rows=expected,
                fpt_conn_id=self.fpt_conn_id,
                poll_interval=self.poll_interval,
                deadline=deadline,
            ),
            method_name="execute_complete",
            # the trigger's own deadline event (with the counts) comes first; this is only the backstop
            timeout=self.deadline + timedelta(seconds=max(60.0, 2 * self.poll_interval)),
        )
        raise AssertionError("unreachable: defer() raises")  # pragma: no cover

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") == "error":
            raise AirflowException(event.get("message", "delivery report check failed"))
        if event.get("status") == "deadline":
            self.log.warning("Report deadline reached with %s of the phones final", event.get("final"))
        return self._fetch(context)

    def _fetch(self, context: Context) -> dict[str, Any]:
        import os
        import shutil
        import tempfile

        from airflow.sdk import ObjectStoragePath

        from airflow_provider_fptsms.gateways.fpt import iter_delivery_report
        from airflow_provider_fptsms.state import safe_key

        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        target = ObjectStoragePath(self.output_path or f"{home}/fptsms/reports/{safe_key(self.campaign_code)}.csv")
        self._written_path = str(target)  # for get_openlineage_facets_on_complete
        with tempfile.TemporaryDirectory(prefix="fptsms-dlr-") as folder:
            local = Path(folder) / "dlr.csv"
            rows = self.hook.download_delivery_report(self.campaign_code, local)
            statuses: Counter[str] = Counter()
            telcos: Counter[str] = Counter()
            by_telco: dict[str, Counter[str]] = {}
            errors: Counter[str] = Counter()
            with local.open(encoding="utf-8-sig", newline="") as handle:
                for record in iter_delivery_report(handle):
                    statuses[record.status] += 1
                    telcos[record.telco or "unknown"] += 1
                    status = record.status if record.status in ("delivered", "failed") else "pending"
                    by_telco.setdefault(record.telco or "unknown", Counter())[status] += 1
                    if record.status == "failed":
                        errors[record.error or "unknown"] += 1
            target.parent.mkdir(parents=True, exist_ok=True)
            with local.open("rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        summary = {
            "campaign_code": self.campaign_code,
            "rows": rows,
            "delivered": statuses["delivered"],
            "failed": statuses["failed"],
            "pending": statuses["pending"] + statuses["unknown"],
            "by_telco": dict(telcos),
            "status_by_telco": {
                telco: {name: counts[name] for name in ("delivered", "failed", "pending")}
                for telco, counts in sorted(by_telco.items())
            },
            "by_error": dict(errors),
            "path": str(target),
        }
        self.log.info("Delivery report for %s: %s", self.campaign_code, summary)
        figures = {key: summary[key] for key in ("campaign_code", "rows", "delivered", "failed", "pending", "path")}
        attach_figures(context, self.outlets, {**figures, "status_by_telco": summary["status_by_telco"]})
        self._note(context, self.campaign_code, "report", {**figures, "status_by_telco": summary["status_by_telco"]})
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage: input the campaign, output the report file (:mod:`airflow_provider_fptsms.lineage`)."""
        from airflow_provider_fptsms.lineage import report_lineage

        return report_lineage(self, task_instance)


__all__ = ["FptCampaignReportOperator"]
