"""Preview a QC campaign for a human sign-off, calling nothing at FPT.

The preview is the create operator's dry run (name, ScheduleTime, quota, message) plus what the push would
exclude (do-not-contact lists, the frequency cap, read without recording) and the cost of what is left,
rendered as Markdown: the body of the approval task that :mod:`.sign_off` builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.operators._sources import SuppressSource, numbered_phones, read_suppression
from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.sms.frequency import DEFAULT_MAX_PER_24H

if TYPE_CHECKING:
    from airflow.sdk import Context

#: phones asked of the contact history at once
CAP_BATCH = 1000


class FptCampaignPreviewOperator(FptCreateCampaignOperator):
    """Check a QC campaign and preview it as Markdown for sign-off; creates nothing, calls nothing at FPT.

    Takes the create operator's parameters (``message``, ``schedule_time``, ``phones``...) and the push's
    exclusions. Returns the dry run's figures plus ``suppressed`` (by list), ``capped``, ``to_push``,
    ``estimated_cost`` (of the phones left) and ``markdown``: pass
    ``"{{ ti.xcom_pull('preview_campaign')['markdown'] }}"`` as the approval's body.

    :param suppress: the push's do-not-contact lists (templated; see ``FptPushCampaignOperator``).
    :param max_per_24h: the push's frequency cap; the contact history is read, nothing is recorded.
        ``None``: no cap.
    :param advertiser: whose campaigns count together for the cap. Default: ``brandname``, else the
        connection's brandname, else its client id.
    :param contact_history_db: SQLAlchemy URL of the contact history (templated; the push's default).
    :param contact_history_key_conn_id: a connection whose password is the history's hashing key.
    """

    template_fields: Sequence[str] = (*FptCreateCampaignOperator.template_fields, "suppress", "contact_history_db")

    def __init__(
        self,
        *,
        suppress: SuppressSource | None = None,
        max_per_24h: int | None = DEFAULT_MAX_PER_24H,
        advertiser: str | None = None,
        contact_history_db: str | None = None,
        contact_history_key_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._dry_run = True  # a preview never creates
        self.suppress = suppress
        self.max_per_24h = max_per_24h
        self.advertiser = advertiser
        self.contact_history_db = contact_history_db
        self.contact_history_key_conn_id = contact_history_key_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        if self.phones is None:
            raise InvalidInputError("phones", None, "is needed for a preview", "pass the campaign's audience")
        plan = self.plan(context)
        figures = {**plan, **self._exclusions(plan)}
        figures["markdown"] = preview_markdown(figures, self.message, self.max_per_24h)
        self.log.info("Campaign preview (nothing created):\n%s", figures["markdown"])
        return figures

    def _exclusions(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Read the audience as the push will: suppressed, capped (read-only) and the cost of the rest."""
        from airflow_provider_fptsms.operators._contacts import contact_cap
        from airflow_provider_fptsms.operators._prices import operator_prices
        from airflow_provider_fptsms.sms.cost import CostCounter
        from airflow_provider_fptsms.sms.phones import clean_numbered

        suppression = read_suppression(self.suppress)
        cap = None
        if self.max_per_24h is not None:
            self.advertiser = self.advertiser or self.brandname
            name = f"preview:{plan['campaign_name']}"  # records nothing: only other campaigns count
            cap = contact_cap(self, name, plan["schedule_time"], self.max_per_24h)
        costs = CostCounter(operator_prices(self.prices, self.hook, dry_run=True))
        per_phone = plan["messages_per_phone"]
        capped = 0
        waiting: list[str] = []

        def decide(batch: list[str]) -> int:
            verdicts = cap.capped(batch) if cap is not None else [False] * len(batch)
            for phone, is_capped in zip(batch, verdicts, strict=True):
                if not is_capped:
                    costs.add(phone, per_phone)
            return sum(verdicts)

        with numbered_phones(self.phones, self.phone_column) as rows:
            for result in clean_numbered(rows):
                if result.phone is None or result.duplicate:
                    continue
                if suppression and suppression.source_of(result.phone) is not None:
                    continue
                waiting.append(result.phone)
                if len(waiting) == CAP_BATCH:
                    capped += decide(waiting)
                    waiting = []
        capped += decide(waiting)
        cost = costs.cost()
        return {
            "suppression": suppression.as_dict() if suppression else None,
            "suppressed": suppression.total,
            "capped": capped,
            "to_push": cost.total_messages // max(per_phone, 1),
            "estimated_cost": cost.as_dict(),
            "estimated_cost_text": cost.describe(),
        }


def preview_markdown(figures: dict[str, Any], message: str, cap: int | None) -> str:
    """The sign-off body: the campaign's figures as a table, then the message as it will be sent."""
    audience = figures["audience"] or {}
    by_reason = ", ".join(f"{reason} {n:,}" for reason, n in sorted(audience.get("by_reason", {}).items()))
    suppression = figures.get("suppression") or {}
    by_list = ", ".join(f"{name} {n:,}" for name, n in (suppression.get("by_list") or {}).items())
    rows = [
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
    quoted = "\n".join(f"> {line}" for line in message.splitlines() or [""])
    return (
        f"### QC campaign `{figures['campaign_name']}`\n\n| | |\n|---|---|\n{table}\n\n"
        f"**The message, as it will be sent:**\n\n{quoted}\n\n"
        "Approve to create and push the campaign; reject and nothing is created or spent."
    )


__all__ = ["FptCampaignPreviewOperator", "preview_markdown"]
