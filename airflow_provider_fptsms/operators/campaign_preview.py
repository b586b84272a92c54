"""Preview a QC campaign for a human sign-off, calling nothing at FPT.

The preview is the create operator's dry run (name, ScheduleTime, quota, message) plus what the push would
exclude (do-not-contact lists, the frequency cap, read without recording) and the cost of what is left,
rendered as Markdown: the body of the approval task that :mod:`.sign_off` builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.sms.frequency import DEFAULT_MAX_PER_24H, validate_cap

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.operators._contacts import ContactCap


class FptCampaignPreviewOperator(FptCreateCampaignOperator):
    """Check a QC campaign and preview it as Markdown for sign-off; creates nothing, calls nothing at FPT.

    Takes the create operator's parameters (``message``, ``schedule_time``, ``phones``, ``suppress``...) and
    the push's cap. Returns the dry run's figures (ScheduleTime, quota, audience, ``suppressed`` by list) plus
    ``capped`` (the contact history read, nothing recorded), ``to_push``, ``estimated_cost`` of the phones left
    and ``markdown``: the approval's body (:func:`.sign_off.preview_body`). Create the campaign with this
    preview's ``schedule_time`` (as ``campaign_dag`` does), so what was approved is what is created.

    :param max_per_24h: the push's frequency cap; the contact history is read, nothing is recorded.
        ``None``: no cap.
    :param advertiser: whose campaigns count together for the cap. Default: ``brandname``, else the
        connection's brandname, else its client id.
    :param contact_history_db: SQLAlchemy URL of the contact history (templated; the push's default).
    :param contact_history_key_conn_id: a connection whose password is the history's hashing key.
    """

    template_fields: Sequence[str] = (*FptCreateCampaignOperator.template_fields, "contact_history_db")

    def __init__(
        self,
        *,
        max_per_24h: int | None = DEFAULT_MAX_PER_24H,
        advertiser: str | None = None,
        contact_history_db: str | None = None,
        contact_history_key_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._dry_run = True  # a preview never creates
        self.max_per_24h = None if max_per_24h is None else validate_cap(max_per_24h)
        self.advertiser = advertiser
        self.contact_history_db = contact_history_db
        self.contact_history_key_conn_id = contact_history_key_conn_id

    def _cap(self, name: str, schedule: str) -> ContactCap | None:
        if self.max_per_24h is None:
            return None
        from airflow_provider_fptsms.operators._contacts import contact_cap

        self.advertiser = self.advertiser or self.brandname
        return contact_cap(self, f"preview:{name}", schedule, self.max_per_24h)  # only other campaigns count

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        if self.phones is None:
            raise InvalidInputError("phones", None, "is needed for a preview", "pass the campaign's audience")
        figures = self.plan(context)
        figures.setdefault("capped", 0)
        figures["to_push"] = figures["estimated_cost"]["messages"] // max(figures["messages_per_phone"], 1)
        figures["markdown"] = preview_markdown(figures, self.message, self.max_per_24h, self.approval_lead)
        self.log.info("Campaign preview (nothing created):\n%s", figures["markdown"])
        return figures


def preview_markdown(figures: dict[str, Any], message: str, cap: int | None, lead: timedelta) -> str:
    """The sign-off body: the campaign's figures as a table, then the message verbatim (a code block: what
    is sent is plain text, never rendered)."""
    audience = figures["audience"] or {}
    by_reason = ", ".join(f"{reason} {n:,}" for reason, n in sorted(audience.get("by_reason", {}).items()))
    suppression = figures.get("suppression") or {}
    by_list = ", ".join(f"{name} {n:,}" for name, n in (suppression.get("by_list") or {}).items())
    rows = [
        ("Campaign", figures["campaign_name"].replace("|", "/")),
        ("ScheduleTime", f"{figures['schedule_time']} (Vietnam time)"),
        ("Audience rows", f"{audience.get('total', 0):,}"),
        ("Valid phones", f"{audience.get('unique', 0):,} unique"),
        ("Invalid", f"{audience.get('invalid', 0):,}" + (f" ({by_reason})" if by_reason else "")),
        ("Duplicates", f"{audience.get('duplicates', 0):,} (sent once)"),
        ("Suppressed", f"{figures['suppressed']:,}" + (f" ({by_list})" if by_list else "")),
        ("Capped", f"{figures['capped']:,}" + (f" (more than {cap} in 24 h)" if cap else " (no cap)")),
        ("To push", f"{figures['to_push']:,} phones"),
        ("Messages per phone", f"{figures['messages_per_phone']} ({figures['encoding']})"),
        ("Quota asked", f"{figures['quota']:,}"),
        ("Estimated cost", figures["estimated_cost_text"]),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    fence = "~~~~" if "```" in message else "```"
    hours = int(lead.total_seconds() // 3600)
    return (
        f"### QC campaign sign-off\n\n| | |\n|---|---|\n{table}\n\n"
        f"**The message, as it will be sent:**\n\n{fence}text\n{message}\n{fence}\n\n"
        "Approve to create and push the campaign; reject and nothing is created or spent. The campaign is "
        f"created for this ScheduleTime, which needs the telcos' {hours} h approval lead (counted in their "
        "order hours): a late approval fails the create task, naming the next valid slot."
    )


__all__ = ["FptCampaignPreviewOperator", "preview_markdown"]
