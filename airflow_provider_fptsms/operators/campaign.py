"""QC campaign operators: create (once), push phone chunks (resumably), fetch the delivery report.

Retry safety comes from :mod:`airflow_provider_fptsms.state`: the create operator records the
campaign it asked for before asking, the push operator records each chunk before sending it and
each acknowledgement after, so a retried task continues where its predecessor stopped and a
chunk whose reply was lost is reconciled with ``detail-ads`` Total before anything is re-sent.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_fptsms.gateways.errors import InvalidRequestError, NetworkError, SmsError, may_have_landed
from airflow_provider_fptsms.links import FptCampaignLink
from airflow_provider_fptsms.operators._sources import PhoneSource, count_rows, mask_literal_phones, phone_values
from airflow_provider_fptsms.state import Chunk, Creation, PushProgress, StateStore

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.hooks.fpt import FptSmsHook

MAX_NAME = 32
_SLUG = re.compile(r"[^a-z0-9]+")


def derive_campaign_name(dag_id: str, moment: datetime | str) -> str:
    """``<dag slug>-<yymmddHHMM>``, at most 29 characters (room for a ``-r2`` retry suffix), same input -> same name."""
    stamp = moment.strftime("%y%m%d%H%M") if isinstance(moment, datetime) else _SLUG.sub("", str(moment))[-10:]
    slug = _SLUG.sub("-", dag_id.lower()).strip("-") or "campaign"
    room = MAX_NAME - 3 - len(stamp) - 1
    if len(slug) > room:
        slug = slug[: room - 5] + "-" + hashlib.sha256(dag_id.encode()).hexdigest()[:4]
    return f"{slug}-{stamp}"


def _owner(context: Context) -> str:
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}/try{ti.try_number}"


class _FptOperator(BaseOperator):
    ui_color = "#ffe9d6"
    operator_extra_links = (FptCampaignLink(),)
    #: the campaign the extra link opens (set once known)
    link_campaign_code: str | None = None

    def __init__(self, *, fpt_conn_id: str = "fptsms_default", state_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fpt_conn_id = fpt_conn_id
        self.state_path = state_path

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        mask_literal_phones(getattr(self, "phones", None), getattr(self, "phone_column", None))

    @cached_property
    def hook(self) -> FptSmsHook:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id)

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.state_path)


class FptCreateCampaignOperator(_FptOperator):
    """Create a QC campaign exactly once per DAG run; returns the CampaignCode.

    :param message: the advertising text (templated). QC text travels as plain text.
    :param schedule_time: ``'YYYY-MM-DD HH:mm'`` Vietnam time, a datetime, or ``"next_valid"``
        (templated). Checked against FPT's rules (send windows 08:00-11:30 / 13:30-20:00, approval
        lead time counted in telco order hours Mon-Fri 08:30-16:30) before any call.
    :param campaign_name: default ``<dag_id>-<logical date>`` (<= 32 chars, single-use at FPT).
    :param phones: list, XCom or file of the audience, used to compute ``quota`` =
        unique valid phones x messages per phone (FPT counts 160 GSM / 70 Unicode characters per message).
    :param quota: explicit quota instead of ``phones``; ``quota_margin`` is added to either.
    :param dry_run: validate and preview, call nothing.
    :param state_path: where creation records live (default ``$AIRFLOW_HOME/fptsms/state``; use
        ``s3://...`` on multi-worker deployments).
    """

    template_fields: Sequence[str] = ("campaign_name", "message", "schedule_time", "phones", "brandname", "state_path")

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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

    def _quota(self, per_phone: int) -> tuple[int, dict[str, Any]]:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError
        from airflow_provider_fptsms.sms.phones import PhoneStats, clean

        if self.quota is not None:
            if isinstance(self.quota, bool) or not isinstance(self.quota, int) or self.quota <= 0:
                raise InvalidInputError("quota", self.quota, "must be a positive integer", "or pass phones= instead")
            return self.quota + self.quota_margin, {}
        if self.phones is None:
            raise InvalidInputError("quota", None, "needs phones= or quota=", "pass the audience or a quota")
        if self.quota_margin < 0:
            raise InvalidInputError("quota_margin", self.quota_margin, "must be >= 0", "pass 0 or more")
        stats = PhoneStats()
        with phone_values(self.phones, self.phone_column) as values:
            for _ in clean(values, stats=stats):
                pass
        if stats.unique == 0:
            raise InvalidInputError("phones", f"{stats.total} rows", "contain no valid phone", "check the audience")
        return stats.unique * per_phone + self.quota_margin, stats.as_dict()

    def execute(self, context: Context) -> str | dict[str, Any]:
        import pendulum

        from airflow_provider_fptsms.sms.schedule import next_valid_slot, validate_schedule
        from airflow_provider_fptsms.sms.text import check_message, qc_quota_per_phone

        name = self._name(context)
        info = check_message(self.message)
        per_phone = qc_quota_per_phone(self.message)
        now = pendulum.now("Asia/Ho_Chi_Minh")
        if self.schedule_time == "next_valid":
            when = next_valid_slot(now, self.approval_lead)
        else:
            when = validate_schedule(self.schedule_time, now, self.approval_lead)
        quota, audience = self._quota(per_phone)
        schedule = when.strftime("%Y-%m-%d %H:%M")
        self.log.info(
            "Campaign %r: ScheduleTime %s, %s, %d message(s) per phone, quota %d, audience %s",
            name,
            schedule,
            info.encoding,
            per_phone,
            quota,
            audience or "n/a",
        )
        if self._dry_run:
            return {
                "dry_run": True,
                "campaign_name": name,
                "schedule_time": schedule,
                "quota": quota,
                "messages_per_phone": per_phone,
                "encoding": info.encoding,
                "audience": audience,
            }
        return self._create_once(context, name, schedule, quota)

    def _check_unchanged(self, record: Creation, quota: int) -> None:
        """A re-run after the message or audience was fixed must not silently reuse the old campaign."""
        changed = []
        if record.message_sha256 and record.message_sha256 != hashlib.sha256(self.message.encode()).hexdigest():
            changed.append("message")
        if record.quota and record.quota != quota:
            changed.append(f"quota ({record.quota} then, {quota} now)")
        if changed:
            raise AirflowFailException(
                f"Campaign {record.name!r} was already created as {record.campaign_code} with a different "
                f"{' and '.join(changed)}; FPT campaigns cannot be edited, and reusing it would send the old "
                "content. Next step: pass a new campaign_name to create a new campaign, or restore the original "
                f"text/audience (record: {self.store.path_of('creations', record.name)})."
            )

    def _create_once(self, context: Context, name: str, schedule: str, quota: int) -> str:
        owner = _owner(context)
        record = self.store.creation(name) or Creation(name=name)
        if record.campaign_code:
            self._check_unchanged(record, quota)
            self.log.info("Campaign %r was already created: %s (not creating it again)", name, record.campaign_code)
            self.link_campaign_code = record.campaign_code
            return record.campaign_code
        requested = record.requested_name or name
        interrupted = record.in_flight  # an earlier try called create-campaign and never heard back
        record.requested_name = requested
        record.schedule_time, record.quota = schedule, quota
        record.message_sha256 = hashlib.sha256(self.message.encode()).hexdigest()
        record.in_flight = True
        self.store.save_creation(record, owner)  # before the call: a lost reply is then recognisable
        try:
            code = self.hook.create_campaign(requested, self.message, schedule, quota, brandname=self.brandname)
        except InvalidRequestError as error:
            if "exists" not in (error.gateway_text or "").lower() or not interrupted:
                record.in_flight = False  # refused: a genuine name clash stays one on every retry
                self.store.save_creation(record, owner)
                raise
            # An earlier try created `requested` but its reply was lost; FPT cannot look a campaign up by
            # name, so leave that (empty) campaign behind and create the run's campaign under a new name.
            record.abandoned_names.append(requested)
            requested = f"{name}-r{len(record.abandoned_names) + 1}"
            self.log.warning("Campaign name %r exists from a lost reply; creating %r instead", name, requested)
            record.requested_name = requested
            self.store.save_creation(record, owner)
            code = self.hook.create_campaign(requested, self.message, schedule, quota, brandname=self.brandname)
        except SmsError as error:
            if not may_have_landed(error):  # refused or never sent: nothing was created
                record.in_flight = False
                self.store.save_creation(record, owner)
            raise
        record.campaign_code, record.in_flight = code, False
        self.store.save_creation(record, owner)
        self.link_campaign_code = code
        return code


class FptPushCampaignOperator(_FptOperator):
    """Push a phone list to a campaign in chunks, resumably; returns a summary.

    Every acknowledged chunk (BatchId, count) is recorded before the next one is sent, so a re-run
    skips what was acknowledged; a chunk whose reply was lost is checked against ``detail-ads``
    Total and re-sent only if it did not land. It stops before exceeding the quota (NumRemainQuota).

    :param campaign_code: CampaignCode (templated; usually the create task's XCom).
    :param phones: list, XCom, or a file (txt / CSV column / .gz; local or ObjectStoragePath), streamed
        with flat memory; numbers are normalised to 84xxxxxxxxx and de-duplicated.
    :param chunk_size: phones per ``push-brandname-ads`` call.
    :param row_range: ``(first, last)`` 1-based unique valid phones to push, for fan-out with dynamic
        task mapping (see :func:`chunk_ranges`); each range keeps its own progress record.
    :param invalid_output: file (local or ObjectStoragePath) to write invalid rows to (row, reason;
        never the number).
    :param chunk_attempts: tries per chunk within one task try. After a lost reply or a 5xx (the
        chunk may have landed) ``detail-ads`` decides first, so a flaky gateway costs seconds, not a
        task retry; other retryable errors are simply tried again.
    """

    template_fields: Sequence[str] = ("campaign_code", "phones", "invalid_output", "state_path")

    def __init__(
        self,
        *,
        campaign_code: str,
        phones: PhoneSource,
        phone_column: str | int | None = None,
        chunk_size: int = 1000,
        row_range: tuple[int, int] | None = None,
        invalid_output: str | None = None,
        progress_every: float = 10.0,
        chunk_attempts: int = 3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.chunk_attempts = chunk_attempts
        self.campaign_code = campaign_code
        self.phones = phones
        self.phone_column = phone_column
        self.chunk_size = chunk_size
        self.row_range = tuple(row_range) if row_range else None
        self.invalid_output = invalid_output
        self.progress_every = progress_every

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise InvalidInputError("chunk_size", self.chunk_size, "must be a positive integer", "e.g. 1000")
        owner = _owner(context)
        key = self.campaign_code + (f"@{self.row_range[0]}-{self.row_range[1]}" if self.row_range else "")
        record = self.store.push(key) or PushProgress(key=key, campaign_code=self.campaign_code)
        if record.baseline_total is None:
            record.baseline_total = self.hook.campaign_status(self.campaign_code).total
            self.store.save_push(record, owner)
        if record.in_flight is not None:
            self._reconcile(record, owner)
        return self._push(context, record, owner)

    #: how often to re-read Total while other ranges of the campaign keep writing, one second apart
    RECONCILE_READS = 30

    def _reconcile(self, record: PushProgress, owner: str) -> bool:
        """A chunk's reply was lost (or the previous try died mid-call): did it land? True if it did.

        detail-ads Total counts the whole campaign, so it is read together with every range's record
        (see :func:`chunk_landed`), at a moment when no other range wrote in between.
        """
        chunk = record.in_flight
        assert chunk is not None
        landed: bool | None = None
        for _ in range(self.RECONCILE_READS):
            others = [r for r in self.store.pushes_for(self.campaign_code) if r.key != record.key]
            total = self.hook.campaign_status(self.campaign_code).total
            after = [r for r in self.store.pushes_for(self.campaign_code) if r.key != record.key]
            if [(r.key, r.version) for r in after] == [(r.key, r.version) for r in others]:
                landed = chunk_landed(total, record, others)
                if landed is not None or not any(r.in_flight for r in others):
                    break  # decided, or undecidable for good
            # another range pushed while Total was read, or its chunk in flight makes the answer
            # ambiguous until it is acknowledged: read both again
            time.sleep(1.0)
        else:
            raise AirflowException(
                f"Cannot reconcile chunk {chunk.index} of {self.campaign_code} yet: other ranges of the campaign "
                f"kept pushing for {self.RECONCILE_READS}s. Nothing was re-sent; a retry reconciles it later."
            )
        if landed is None:
            raise AirflowFailException(
                f"Cannot tell whether chunk {chunk.index} of {self.campaign_code} ({chunk.rows} phones) landed: "
                f"detail-ads Total is {total}, which fits both answers (or neither) given the campaign's push "
                "records. Nothing was re-sent. Next step: check the campaign on the FPT portal, then clear "
                f"the in_flight entry in {self.store.path_of('pushes', record.key)}."
            )
        if landed:
            self.log.info(
                "Chunk %d (%d phones) had landed before the reply was lost: recorded, not re-sent",
                chunk.index,
                chunk.rows,
            )
            chunk.batch_id = chunk.batch_id or "reconciled-from-detail-ads"
            record.chunks.append(chunk)
        else:
            self.log.info("Chunk %d did not land: it will be pushed again", chunk.index)
        record.in_flight = None
        self.store.save_push(record, owner)
        return landed

    def _push(self, context: Context, record: PushProgress, owner: str) -> dict[str, Any]:
        from airflow_provider_fptsms.sms.phones import PhoneStats, clean

        stats = PhoneStats()
        first, last = self.row_range or (1, None)
        already = record.pushed_rows
        expected_rows = count_rows(self.phones)
        started, last_log, sent_now = time.monotonic(), time.monotonic(), 0
        segments = (record.chunks[0].messages // record.chunks[0].rows) if record.chunks else None
        chunk: list[str] = []
        chunk_first = 0
        unique_index = 0
        with phone_values(self.phones, self.phone_column) as values, self._invalid_writer() as invalid:
            for result in clean(values, stats=stats):
                if result.phone is None:
                    invalid(result.row, result.reason or "")
                    continue
                if result.duplicate:
                    continue
                unique_index += 1
                if unique_index < first or (last is not None and unique_index > last):
                    continue
                position = unique_index - first + 1  # 1-based within this range
                if position <= already:
                    continue  # acknowledged by an earlier try
                if not chunk:
                    chunk_first = position
                chunk.append(result.phone)
                if len(chunk) == self.chunk_size:
                    segments = self._push_chunk(record, owner, chunk, chunk_first, segments)
                    sent_now += len(chunk)
                    chunk = []
                    if time.monotonic() - last_log >= self.progress_every:
                        last_log = time.monotonic()
                        self._progress(record, sent_now, started, expected_rows)
            if chunk:
                self._push_chunk(record, owner, chunk, chunk_first, segments)
                sent_now += len(chunk)
        self._progress(record, sent_now, started, expected_rows)
        summary = {
            "campaign_code": self.campaign_code,
            "pushed": record.pushed_rows,
            "pushed_this_try": sent_now,
            "chunks": len(record.chunks),
            "remain_quota": record.remain_quota,
            "phones": stats.as_dict(),
            "invalid_output": self.invalid_output if stats.invalid else None,
        }
        self.log.info("Push done: %s", summary)
        return summary

    def _push_chunk(
        self, record: PushProgress, owner: str, phones: list[str], first_row: int, segments: int | None
    ) -> int | None:
        remain = record.remain_quota
        if remain is not None and segments is not None and len(phones) * segments > remain:
            raise AirflowFailException(
                f"Campaign {self.campaign_code} has {remain} messages of quota left; the next {len(phones)} phones "
                f"need {len(phones) * segments}. {record.pushed_rows} phones were pushed and recorded; nothing "
                "more was sent. Next step: create the campaign with a larger quota (or quota_margin)."
            )
        index = len(record.chunks)
        attempts = max(1, self.chunk_attempts)
        for attempt in range(1, attempts + 1):
            record.in_flight = Chunk(
                index=index, first_row=first_row, rows=len(phones), batch_id="", messages=0, remain_quota=None
            )
            self.store.save_push(record, owner)  # before the call: a lost reply can be reconciled
            try:
                receipt = self.hook.push_campaign(self.campaign_code, phones)
            except SmsError as error:
                unknown = may_have_landed(error)
                if not unknown:
                    record.in_flight = None  # refused or never sent: nothing landed
                    self.store.save_push(record, owner)
                if error.code == 1016:
                    raise AirflowFailException(f"{error}. {record.pushed_rows} phones were pushed before.") from None
                if not error.retryable or attempt == attempts:
                    raise
                self.log.warning("Chunk %d, attempt %d of %d: %s", index, attempt, attempts, error)
                # after a timeout FPT may still be storing the chunk: give it as long again before asking
                timed_out = isinstance(error, NetworkError) and "timeout" in str(error).lower()
                time.sleep(self.hook.settings.timeout if timed_out else self.hook.settings.backoff * attempt)
                if unknown and self._reconcile(record, owner):
                    return segments
                continue
            chunk = record.in_flight
            chunk.batch_id, chunk.messages = receipt["BatchId"], int(receipt["NumMessageSent"])
            chunk.remain_quota = int(receipt["NumRemainQuota"])
            record.chunks.append(chunk)
            record.in_flight = None
            self.store.save_push(record, owner)
            return segments or max(1, chunk.messages // max(1, chunk.rows))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _progress(self, record: PushProgress, sent_now: int, started: float, expected: int | None) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = sent_now / elapsed
        eta = ""
        if expected and rate > 0:
            left = max(expected - record.pushed_rows, 0)
            eta = f", ETA {left / rate:.0f}s" if left else ""
        self.log.info(
            "Pushed %d chunks / %d phones (%d this try, %.0f phones/s%s)",
            len(record.chunks),
            record.pushed_rows,
            sent_now,
            rate,
            eta,
        )

    def _invalid_writer(self) -> Any:
        return _InvalidRows(self.invalid_output)


class _InvalidRows:
    """Context manager writing ``row,reason`` lines for invalid phones (the value is masked)."""

    def __init__(self, target: str | None) -> None:
        self.target = target
        self.handle: Any = None

    def __enter__(self) -> Any:
        def write(row: int, reason: str) -> None:
            if self.target is None:
                return
            if self.handle is None:
                from airflow.sdk import ObjectStoragePath

                path = ObjectStoragePath(self.target)
                path.parent.mkdir(parents=True, exist_ok=True)
                self.handle = path.open("w")
                self.handle.write("row,reason\n")
            self.handle.write(f"{row},{reason}\n")

        return write

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def chunk_landed(total: int, mine: PushProgress, others: Sequence[PushProgress]) -> bool | None:
    """Did ``mine.in_flight`` land, judging by detail-ads ``total`` and every push record of the campaign?

    Total = what the campaign held before any of these pushes (the earliest baseline: each range
    measures before it pushes) + every acknowledged chunk + whichever in-flight chunks landed. The
    chunk landed if every way of explaining the surplus includes it, did not if none does; None
    when both fit (two equal chunks in flight) or neither does (someone else pushed).
    """
    assert mine.in_flight is not None
    records = [mine, *others]
    baseline = min(r.baseline_total for r in records if r.baseline_total is not None)
    surplus = total - baseline - sum(r.pushed_rows for r in records)
    pending = [r.in_flight.rows for r in others if r.in_flight is not None]
    if len(pending) > 16:
        return None
    sums = {0}
    for rows in pending:
        sums |= {s + rows for s in sums}
    with_mine, without = surplus - mine.in_flight.rows in sums, surplus in sums
    return None if with_mine == without else with_mine


def chunk_ranges(total: int, per_task: int) -> list[tuple[int, int]]:
    """``row_range`` values for ``FptPushCampaignOperator.partial(...).expand(row_range=...)``."""
    if per_task < 1:
        raise ValueError("per_task must be >= 1")
    return [(start, min(start + per_task - 1, total)) for start in range(1, total + 1, per_task)]


class FptCampaignReportOperator(_FptOperator):
    """Fetch the ``dlr-ads`` CSV of a campaign to ``output_path`` and return a summary.

    :param output_path: file (local or ObjectStoragePath, templated); default
        ``$AIRFLOW_HOME/fptsms/reports/<campaign>.csv``.
    :param wait_for_complete: defer until every pushed phone has a final status (FPT reports arrive
        3-5 working days after sending) or ``deadline`` passes, then fetch.
    :param poll_interval: seconds between report checks while waiting (default 1 h).
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_code = campaign_code
        self.output_path = output_path
        self.wait_for_complete = wait_for_complete
        self.expected_rows = expected_rows
        self.poll_interval = poll_interval
        self.deadline = deadline

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.wait_for_complete:
            return self._fetch()
        expected = self.expected_rows or self.hook.campaign_status(self.campaign_code).total
        records = self.hook.delivery_report(self.campaign_code)
        if sum(1 for r in records if r.status in ("delivered", "failed")) >= expected:
            return self._fetch()
        from airflow_provider_fptsms.triggers.campaign import FptCampaignReportTrigger

        self.defer(
            trigger=FptCampaignReportTrigger(
                campaign_code=self.campaign_code,
                expected_rows=expected,
                fpt_conn_id=self.fpt_conn_id,
                poll_interval=self.poll_interval,
                deadline=time.time() + self.deadline.total_seconds(),
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
        return self._fetch()

    def _fetch(self) -> dict[str, Any]:
        import os
        import shutil
        import tempfile

        from airflow.sdk import ObjectStoragePath

        from airflow_provider_fptsms.gateways.fpt import iter_delivery_report
        from airflow_provider_fptsms.state import safe_key

        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        target = ObjectStoragePath(self.output_path or f"{home}/fptsms/reports/{safe_key(self.campaign_code)}.csv")
        with tempfile.TemporaryDirectory(prefix="fptsms-dlr-") as folder:
            local = Path(folder) / "dlr.csv"
            rows = self.hook.download_delivery_report(self.campaign_code, local)
            statuses: Counter[str] = Counter()
            telcos: Counter[str] = Counter()
            errors: Counter[str] = Counter()
            with local.open(encoding="utf-8-sig", newline="") as handle:
                for record in iter_delivery_report(handle):
                    statuses[record.status] += 1
                    telcos[record.telco or "unknown"] += 1
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
            "by_error": dict(errors),
            "path": str(target),
        }
        self.log.info("Delivery report for %s: %s", self.campaign_code, summary)
        return summary


__all__ = [
    "FptCampaignReportOperator",
    "FptCreateCampaignOperator",
    "FptPushCampaignOperator",
    "chunk_ranges",
    "derive_campaign_name",
]
