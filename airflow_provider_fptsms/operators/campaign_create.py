"""Create a QC campaign exactly once per DAG run.

Retry safety comes from :mod:`airflow_provider_fptsms.state`: the operator records the campaign it
asks for before asking, so a retried task whose predecessor lost the reply recognises it (and
creates ``<name>-r2`` instead of failing on "name exists").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.delivery import Outcome, State, classify
from airflow_provider_fptsms.gateways.errors import CampaignNameTakenError, SmsError
from airflow_provider_fptsms.idempotency import operation_key_for
from airflow_provider_fptsms.operators._fpt import _FptOperator, _owner
from airflow_provider_fptsms.operators._sources import PhoneSource, SuppressSource, numbered_phones, read_suppression
from airflow_provider_fptsms.sms.compliance import QC_LABELS, qc_message
from airflow_provider_fptsms.state import Creation

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.lineage import OperatorLineage
    from airflow_provider_fptsms.operators._contacts import ContactCap

MAX_NAME = 32
#: phones asked of the contact history at once (a preview's read-only cap)
CAP_BATCH = 1000
_SLUG = re.compile(r"[^a-z0-9]+")


def derive_campaign_name(dag_id: str, moment: datetime | str) -> str:
    """``<dag slug>-<yymmddHHMM>``, at most 29 characters (room for a ``-r2`` retry suffix), same input -> same name.

    A run without a logical date passes its run id: ``r`` + 9 hex of its hash, one name per run (the
    run id's trailing digits, used before, could look like a phone number: ``0591580000``).
    """
    if isinstance(moment, datetime):
        stamp = moment.strftime("%y%m%d%H%M")
    else:
        stamp = "r" + hashlib.sha256(str(moment).encode()).hexdigest()[:9]
    slug = _SLUG.sub("-", dag_id.lower()).strip("-") or "campaign"
    room = MAX_NAME - 3 - len(stamp) - 1
    if len(slug) > room:
        slug = slug[: room - 5] + "-" + hashlib.sha256(dag_id.encode()).hexdigest()[:4]
    return f"{slug}-{stamp}"


class FptCreateCampaignOperator(_FptOperator):
    """Create a QC campaign exactly once per DAG run; returns the CampaignCode.

    :param message: the advertising text (templated). QC text travels as plain text. It must start with
        an advertising label (``[QC]`` or ``[AD]``, Decree 91/2020/ND-CP) unless ``auto_label`` adds it.
    :param auto_label: add the label when the message lacks one: ``True`` for ``[QC]``, or the label to
        add (one of ``qc_labels``). The label counts in the message's length, parts and quota.
    :param qc_labels: the labels accepted at the first position of the message.
    :param suppress: do-not-contact lists (templated; as on ``FptPushCampaignOperator``): their phones are
        left out of the quota and the cost.
    :param prices: VND per message part by telco (``{"viettel": 850, "default": 900}``), for the cost estimate
        logged and returned by a dry run. Default: the connection's ``prices`` extra.
    :param schedule_time: ``'YYYY-MM-DD HH:mm'`` Vietnam time, a datetime, or ``"next_valid"``
        (templated). Checked against FPT's rules (send windows 08:00-11:30 / 13:30-20:00, approval
        lead time counted in telco order hours Mon-Fri 08:30-16:30) before any call.
    :param campaign_name: default ``<dag_id>-<logical date>`` (<= 32 chars, single-use at FPT).
    :param phones: list, XCom or file of the audience, used to compute ``quota`` =
        unique valid phones x messages per phone (FPT counts 160 GSM / 70 Unicode characters per message).
    :param quota: explicit quota instead of ``phones``; ``quota_margin`` is added to either.
    :param quota_margin: extra messages of quota on top of phones x messages per phone.
    :param dry_run: validate and preview, call nothing.
    :param idempotency_key: the business operation that owns the campaign (templated). Default: dag,
        task, map index and logical date (the run id for runs without one). A re-run of the same
        operation reuses its campaign; another operation that finds the name taken fails.
    :param reuse_existing: let another operation push to a campaign it finds under this name (on purpose).
    :param approval_lead: time telcos need to approve, counted in their order hours.
    :param phone_column: the phone's CSV column when ``phones`` is a file.
    :param brandname: overrides the connection's brandname.
    :param fpt_conn_id: a ``fptsms`` connection.
    :param state_path: where creation records live (default ``$AIRFLOW_HOME/fptsms/state``; use
        ``s3://...`` on multi-worker deployments).
    """

    template_fields: Sequence[str] = (
        "campaign_name",
        "message",
        "schedule_time",
        "phones",
        "brandname",
        "state_path",
        "idempotency_key",
        "suppress",
    )
    #: how an error tells the user to pick another name (a spec DAG says ``name:``)
    name_hint = "pass a new campaign_name"

    def __init__(
        self,
        *,
        message: str,
        schedule_time: str | datetime = "next_valid",
        campaign_name: str | None = None,
        phones: PhoneSource | None = None,
        phone_column: str | int | None = None,
        quota: int | None = None,
        quota_margin: int = 0,
        brandname: str | None = None,
        approval_lead: timedelta = timedelta(hours=3),
        dry_run: bool = False,
        idempotency_key: str | None = None,
        reuse_existing: bool = False,
        fpt_conn_id: str = "fptsms_default",
        state_path: str | None = None,
        auto_label: bool | str = False,
        qc_labels: Sequence[str] = QC_LABELS,
        prices: dict[str, float] | None = None,
        suppress: SuppressSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fpt_conn_id=fpt_conn_id, state_path=state_path, **kwargs)
        self.auto_label = auto_label
        self.qc_labels = tuple(qc_labels)
        self.prices = prices
        self.suppress = suppress
        self.idempotency_key = idempotency_key
        self.reuse_existing = reuse_existing
        self.message = message
        self.schedule_time = schedule_time
        self.campaign_name = campaign_name
        self.phones = phones
        self.phone_column = phone_column
        self.quota = quota
        self.quota_margin = quota_margin
        self.brandname = brandname
        self.approval_lead = approval_lead
        self._dry_run = dry_run  # BaseOperator.dry_run() is a method

    def _name(self, context: Context) -> str:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        if self.campaign_name:
            if len(self.campaign_name) > MAX_NAME - 3:
                raise InvalidInputError(
                    "campaign_name",
                    self.campaign_name,
                    f"is longer than {MAX_NAME - 3} characters",
                    "FPT allows 32; 3 are kept for a retry suffix",
                )
            return self.campaign_name
        moment = context.get("logical_date") or context["ti"].run_id
        return derive_campaign_name(context["ti"].dag_id, moment)

    def _audience(self, per_phone: int, cap: ContactCap | None) -> dict[str, Any]:
        """One pass over the audience: its figures, the quota (unique valid phones not on a do-not-contact
        list, x messages per phone, + margin) and the cost of the phones that would be pushed (those ``cap``
        would not stop either, when given: read-only, batches of :data:`CAP_BATCH`)."""
        from airflow_provider_fptsms.gateways.errors import InvalidInputError
        from airflow_provider_fptsms.operators._prices import operator_prices
        from airflow_provider_fptsms.sms.cost import CostCounter
        from airflow_provider_fptsms.sms.phones import PhoneStats, clean_numbered

        if not isinstance(self.quota_margin, int) or self.quota_margin < 0:
            raise InvalidInputError("quota_margin", self.quota_margin, "must be >= 0", "pass 0 or more")
        if self.quota is not None:
            if isinstance(self.quota, bool) or not isinstance(self.quota, int) or self.quota <= 0:
                raise InvalidInputError("quota", self.quota, "must be a positive integer", "or pass phones= instead")
            return {"quota": self.quota + self.quota_margin, "audience": {}, "cost": None}
        if self.phones is None:
            raise InvalidInputError("quota", None, "needs phones= or quota=", "pass the audience or a quota")
        stats = PhoneStats()
        suppression = read_suppression(self.suppress)
        costs = CostCounter(operator_prices(self.prices, self.hook, dry_run=self._dry_run))
        wanted, capped, waiting = 0, 0, []

        def decide(batch: list[str]) -> int:
            verdicts = cap.capped(batch) if cap is not None else [False] * len(batch)
            for phone, is_capped in zip(batch, verdicts, strict=True):
                if not is_capped:
                    costs.add(phone, per_phone)
            return sum(verdicts)

        with numbered_phones(self.phones, self.phone_column) as rows:
            for result in clean_numbered(rows, stats=stats):
                if result.phone is None or result.duplicate:
                    continue
                if suppression and suppression.source_of(result.phone) is not None:
                    continue
                wanted += 1
                waiting.append(result.phone)
                if len(waiting) == CAP_BATCH:
                    capped, waiting = capped + decide(waiting), []
        capped += decide(waiting)
        if wanted == 0:
            raise InvalidInputError(
                "phones",
                f"{stats.total} rows",
                "contain no valid phone" + (" off the do-not-contact lists" if suppression else ""),
                "check the audience",
            )
        figures: dict[str, Any] = {
            "quota": wanted * per_phone + self.quota_margin,
            "audience": stats.as_dict(),
            "cost": costs.cost(),
            "suppressed": suppression.total,
            "suppression": suppression.as_dict() if suppression else None,
        }
        if cap is not None:
            figures["capped"] = capped
        return figures

    def _cap(self, name: str, schedule: str) -> ContactCap | None:
        """The frequency cap a preview reads (read-only); the create itself counts none: capped phones keep
        their quota, since the cap is decided at push time."""
        return None

    def plan(self, context: Context) -> dict[str, Any]:
        """Everything checked before any call, as the dry run returns it: the name, the ScheduleTime, the
        quota, the audience's figures and the estimated cost. The message is labelled (``auto_label``) first:
        that text is the one sent, counted and recorded."""
        import pendulum

        from airflow_provider_fptsms.sms.schedule import next_valid_slot, validate_schedule
        from airflow_provider_fptsms.sms.text import check_message, qc_quota_per_phone

        self.message = qc_message(self.message, self.auto_label, self.qc_labels)
        name = self._name(context)
        info = check_message(self.message)
        per_phone = qc_quota_per_phone(self.message)
        now = pendulum.now("Asia/Ho_Chi_Minh")
        if self.schedule_time == "next_valid":
            when = next_valid_slot(now, self.approval_lead)
        else:
            when = validate_schedule(self.schedule_time, now, self.approval_lead)
        schedule = when.strftime("%Y-%m-%d %H:%M")
        figures = self._audience(per_phone, self._cap(name, schedule))
        cost = figures.pop("cost")
        self.log.info(
            "Campaign %r: ScheduleTime %s, %s, %d message(s) per phone, quota %d, audience %s, cost %s",
            name,
            schedule,
            info.encoding,
            per_phone,
            figures["quota"],
            figures["audience"] or "n/a",
            cost.describe() if cost else "n/a (quota given, no audience)",
        )
        return {
            "campaign_name": name,
            "schedule_time": schedule,
            "messages_per_phone": per_phone,
            "encoding": info.encoding,
            **figures,
            "estimated_cost": cost.as_dict() if cost else None,
            "estimated_cost_text": cost.describe() if cost else None,
        }

    def execute(self, context: Context) -> str | dict[str, Any]:
        plan = self.plan(context)
        if self._dry_run:
            return {"dry_run": True, **plan}
        code = self._create_once(context, plan["campaign_name"], plan["schedule_time"], plan["quota"])
        facts = ("campaign_name", "schedule_time", "quota", "messages_per_phone", "audience", "estimated_cost")
        self._note(context, code, "created", {key: plan.get(key) for key in facts})
        return code

    def _check_unchanged(self, record: Creation, quota: int, schedule: str) -> None:
        """A re-run after the message, audience or schedule was fixed must not silently reuse the old campaign."""
        changed = []
        if record.message_sha256 and record.message_sha256 != hashlib.sha256(self.message.encode()).hexdigest():
            changed.append("message")
        if record.quota and record.quota != quota:
            changed.append(f"quota ({record.quota} then, {quota} now)")
        if self.schedule_time != "next_valid" and record.schedule_time and record.schedule_time != schedule:
            changed.append(f"ScheduleTime ({record.schedule_time} then, {schedule} now)")
        if changed:
            raise AirflowFailException(
                f"Campaign {record.name!r} was already created as {record.campaign_code} with a different "
                f"{' and '.join(changed)}; FPT campaigns cannot be edited, and reusing it would send the old "
                f"content. Next step: {self.name_hint} to create a new campaign, or restore the original "
                f"text/audience/schedule (record: {self.store.path_of('creations', record.name)})."
            )

    def _check_owner(self, record: Creation, operation: str) -> None:
        """A campaign belongs to the operation that created it; another operation reuses it only when told to."""
        if not record.operation or record.operation == operation:
            return
        if self.reuse_existing:
            self.log.warning(
                "Campaign %r (%s) was created by operation %r; reusing it for %r (reuse_existing=True)",
                record.name,
                record.campaign_code,
                record.operation,
                operation,
            )
            return
        derived = "" if self.campaign_name else " (derived from the dag id and the minute of the logical date)"
        raise AirflowFailException(
            f"Campaign name {record.name!r}{derived} is already taken by campaign "
            f"{record.campaign_code or '(being created)'}, created by another operation ({record.operation!r}; "
            f"this run is {operation!r}). Reusing it would push nothing new and report the other run's figures. "
            f"Next step: {self.name_hint} for this run, or pass reuse_existing=True to push to that campaign "
            "on purpose."
        )

    def _create_once(self, context: Context, name: str, schedule: str, quota: int) -> str:
        owner = _owner(context)
        operation = operation_key_for(context, self.idempotency_key)
        record = self.store.creation(name) or Creation(name=name, operation=operation)
        self._check_owner(record, operation)
        if record.campaign_code:
            self._check_unchanged(record, quota, schedule)
            self.log.info("Campaign %r was already created: %s (not creating it again)", name, record.campaign_code)
            self.link_campaign_code = record.campaign_code
            return record.campaign_code
        requested = record.requested_name or name
        # an earlier try called create-campaign and never heard back: the name may be taken by our own campaign
        interrupted = record.state in (State.INTENDED.value, State.IN_DOUBT.value)
        record.requested_name = requested
        record.schedule_time, record.quota = schedule, quota
        record.message_sha256 = hashlib.sha256(self.message.encode()).hexdigest()
        record.operation = record.operation or operation
        record.state = State.INTENDED.value
        self.store.save_creation(record, owner)  # before the call: a lost reply is then recognisable
        try:
            code = self._create(requested, schedule, quota)
        except CampaignNameTakenError:
            if not interrupted:
                record.state = State.REFUSED.value  # a genuine name clash stays one on every retry
                self.store.save_creation(record, owner)
                raise AirflowFailException(
                    f"FPT says campaign name {requested!r} already exists, and no try of this operation created it. "
                    f"Next step: {self.name_hint} (campaign names are single-use at FPT)."
                ) from None
            # An earlier try created `requested` but its reply was lost; FPT cannot look a campaign up by
            # name, so leave that (empty) campaign behind and create the run's campaign under a new name.
            record.abandoned_names.append(requested)
            requested = f"{name}-r{len(record.abandoned_names) + 1}"
            self.log.warning("Campaign name %r exists from a lost reply; creating %r instead", name, requested)
            record.requested_name = requested
            self.store.save_creation(record, owner)
            code = self._create(requested, schedule, quota)
        except SmsError as error:
            outcome = classify(error).outcome
            if outcome is not Outcome.UNKNOWN:  # refused or never sent: nothing was created
                record.state = State.REFUSED.value
            else:
                record.state = State.IN_DOUBT.value
            self.store.save_creation(record, owner)
            raise
        record.campaign_code, record.state = code, State.ACCEPTED.value
        self.store.save_creation(record, owner)
        self.link_campaign_code = code
        return code

    def _create(self, name: str, schedule: str, quota: int) -> str:
        return self.hook.create_campaign(name, self.message, schedule, quota, brandname=self.brandname)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage: inputs the audience and suppress files, output the campaign created
        (:mod:`airflow_provider_fptsms.lineage`)."""
        from airflow_provider_fptsms.lineage import create_lineage

        return create_lineage(self, task_instance)


__all__ = ["MAX_NAME", "FptCreateCampaignOperator", "derive_campaign_name"]
