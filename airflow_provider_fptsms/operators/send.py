"""Send customer-care (CSKH) / OTP / alert SMS from a DAG: one message or a personalised one per row.

Safety, in the order it happens (the rules themselves live in :mod:`airflow_provider_fptsms.delivery`):
1. everything is checked before the first send — phones normalised (invalid rows reported),
   ``{column}`` placeholders resolved for every row, lengths checked — and ``dry_run`` stops here
   with a preview and a cost estimate;
2. the send belongs to a business operation, its ``idempotency_key`` (default: dag, task, map
   index and logical date), and each message to (key, phone); the journal of that key says what
   earlier tries *and runs* already sent, and those are never sent again;
3. each message's intent is written just before it goes out, its answer as it arrives;
4. a message that may have been accepted without us learning it (reply lost, or the try died
   with it in flight) is *in doubt*: replayed only while the gateway would recognise the repeat
   (FPT: same text, same phone, 5 minutes), otherwise held back and reported
   (``resend_in_doubt=True`` overrides);
5. per-recipient results (phone masked) go to ``output_path``; XCom gets a small summary.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from airflow_provider_fptsms.delivery import (
    FPT_DUPLICATE_WINDOW,
    NO_RECONCILER,
    Reconciler,
    State,
    Step,
    needs_clock,
    recipient_key,
)
from airflow_provider_fptsms.gateways.errors import InvalidInputError, mask_phone
from airflow_provider_fptsms.idempotency import operation_key_for
from airflow_provider_fptsms.operators._sources import (
    PhoneSource,
    check_on_empty,
    mask_literal_phones,
    recipient_rows,
    when_empty,
)
from airflow_provider_fptsms.state import SendJournal, StateStore

if TYPE_CHECKING:
    from airflow_provider_fptsms.hooks.results import SendResult

if TYPE_CHECKING:
    from airflow.sdk import Context

FailOn = str | float
#: invalid rows listed by row number in the dry run and its XCom (the counts cover them all)
MAX_LISTED_INVALID = 20


@dataclass(frozen=True)
class Recipient:
    row: int
    phone: str = field(repr=False)
    text: str = field(repr=False)
    request_id: str
    segments: int


def placeholders(message: str) -> set[str]:
    """``{name}`` fields of a message (after Airflow's Jinja rendering)."""
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(message) if name}
    except ValueError as exc:
        raise InvalidInputError(
            "message", "<text>", f"has an unbalanced brace ({exc})", "write {column} for a variable, {{ for a brace"
        ) from None


class TryDelivery:
    """One try of a bulk send, between the journal and a hook: the intent before each message, its
    answer after. A message replayed from doubt is re-checked as it goes (on the store's clock):
    past its window it is held back after all, and reported in doubt."""

    def __init__(
        self, journal: SendJournal, rows: dict[str, int], replaying: set[str], replay_until: dict[str, float]
    ) -> None:
        from airflow_provider_fptsms.state import GroupCommit

        self.journal = journal
        self.rows = rows
        #: keys that repeat an attempt whose outcome is unknown (a duplicate answer then means it landed)
        self.replaying = replaying
        #: for those replayed inside the gateway's window: until when (store clock) the replay is safe
        self.replay_until = replay_until
        self.held: set[str] = set()
        # a local journal appends each intent in microseconds; an object store batches concurrent ones
        self._commit = None if journal.appends else GroupCommit(journal)

    def _still_replayable(self, key: str, written_at: float | None) -> bool:
        until = self.replay_until.get(key)
        if until is None or written_at is None or written_at < until:
            return True
        self.held.add(key)
        return False

    async def before_send_async(self, item: Any) -> bool:
        key = item.request_id
        stamp = key in self.replay_until
        if self._commit is None:
            return self._still_replayable(key, self.journal.intend([key], stamp=stamp))
        return self._still_replayable(key, await self._commit.announce(key, stamp=stamp))

    def before_send(self, item: Any) -> bool:
        key = item.sms_guid
        return self._still_replayable(key, self.journal.intend([key], stamp=key in self.replay_until))

    def on_result(self, _index: int, result: SendResult) -> None:
        assert result.request_id is not None
        entry = result.as_dict()
        entry["row"] = self.rows.get(result.request_id)
        self.journal.record(result.request_id, entry)


class _BulkSmsOperator(BaseOperator):
    """Shared shape of the send operators; subclasses only send."""

    template_fields: Sequence[str] = ("phones", "message", "output_path", "state_path", "idempotency_key")
    template_fields_renderers: ClassVar[dict[str, str]] = {"message": "jinja"}
    ui_color = "#ffe9d6"
    gateway = ""
    international = False
    _worst_failure = ""  # the most common failure of this try, for the fail policy's message

    def __init__(
        self,
        *,
        phones: PhoneSource | Sequence[dict[str, Any]],
        message: str,
        phone_column: str | int | None = None,
        dry_run: bool = False,
        max_concurrency: int = 16,
        output_path: str | None = None,
        fail_on: FailOn = "any",
        strip_accents: bool = False,
        max_segments: int | None = 5,
        price_per_message: float | None = None,
        state_path: str | None = None,
        row_range: tuple[int, int] | None = None,
        mask_message: bool = False,
        resend_in_doubt: bool = False,
        idempotency_key: str | None = None,
        on_empty: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idempotency_key = idempotency_key
        self.on_empty = on_empty
        check_on_empty(on_empty)
        self.mask_message = mask_message
        self._invalid_rows: list[tuple[int, str, str]] = []  # (row, reason, masked value): the first invalid rows
        self.resend_in_doubt = resend_in_doubt
        self.row_range = tuple(row_range) if row_range else None
        self.phones = phones
        self.message = message
        self.phone_column = phone_column
        self._dry_run = dry_run  # BaseOperator.dry_run() is a method
        self.max_concurrency = max_concurrency
        self.output_path = output_path
        self.fail_on = fail_on
        self.strip_accents = strip_accents
        self.max_segments = max_segments
        self.price_per_message = price_per_message
        self.state_path = state_path
        _check_fail_on(fail_on)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        from airflow_provider_fptsms.hooks._http import mask

        if self.mask_message and isinstance(self.message, str):
            mask(self.message)  # an OTP: the Rendered tab and the logs show *** instead
        variables = placeholders(str(self.message)) if self.mask_message else ()  # a code per person
        mask_literal_phones(self.phones, self.phone_column, variables)

    # ------------------------------------------------------------------ preparation (no I/O to the gateway)

    def prepare(self, context: Context) -> tuple[list[Recipient], dict[str, Any]]:
        from airflow_provider_fptsms.sms.phones import PhoneSet, normalise
        from airflow_provider_fptsms.sms.text import check_message, strip_accents

        if not isinstance(self.message, str) or not self.message.strip():
            raise InvalidInputError("message", self.message, "is empty", "write the message text")
        fields = placeholders(self.message)
        operation = operation_key_for(context, self.idempotency_key)
        self._invalid_rows = []
        recipients: list[Recipient] = []
        invalid: Counter[str] = Counter()
        duplicates = 0
        seen = PhoneSet()
        with recipient_rows(self.phones, self.phone_column) as rows:
            first, last = self.row_range or (1, None)
            for row, raw, variables in rows:
                if row < first or (last is not None and row > last):
                    continue
                missing = fields - variables.keys()
                if missing:
                    raise InvalidInputError(
                        "message",
                        f"{{{sorted(missing)[0]}}}",
                        f"uses a variable that row {row} does not have (columns: {sorted(variables) or 'none'})",
                        "fix the placeholder or add the column",
                    )
                try:
                    phone = normalise(str(raw), international=self.international)
                except InvalidInputError as error:
                    reason = error.description.split(": ", 1)[-1]
                    invalid[reason] += 1
                    if len(self._invalid_rows) < MAX_LISTED_INVALID:
                        self._invalid_rows.append((row, reason, mask_phone(str(raw).strip())))
                    continue
                if not seen.add(int(phone)):
                    duplicates += 1
                    continue
                text = self.message.format_map(variables) if fields else self.message
                if self.strip_accents:
                    text = strip_accents(text)
                info = check_message(text, field=f"message (row {row})", max_segments=self.max_segments)
                recipients.append(Recipient(row, phone, text, recipient_key(operation, phone), info.segments))
        stats = {
            "rows": len(recipients) + sum(invalid.values()) + duplicates,
            "valid": len(recipients),
            "invalid": sum(invalid.values()),
            "invalid_by_reason": dict(invalid),
            "duplicates": duplicates,
            "segments": sum(r.segments for r in recipients),
        }
        if not recipients and stats["rows"]:
            raise InvalidInputError(
                "phones",
                f"{stats['rows']} rows",
                "contain no valid recipient",
                f"check the list (invalid: {dict(invalid)})",
            )
        if invalid and self.fail_on == "any":
            raise InvalidInputError(
                "phones",
                f"{stats['invalid']} of {stats['rows']} rows",
                f"are invalid ({dict(invalid)})",
                "fix or remove them, or pass fail_on='all' / a ratio to send to the valid ones",
            )
        bad_rows = sum(invalid.values())
        if isinstance(self.fail_on, float) and bad_rows / (len(recipients) + bad_rows + duplicates) > self.fail_on:
            raise InvalidInputError(  # before sending: a task failing after it sent could never succeed
                "phones",
                f"{bad_rows} of {stats['rows']} rows",
                f"are invalid ({dict(invalid)}), above fail_on={self.fail_on:.1%}",
                "fix or remove them, or raise fail_on",
            )
        return recipients, stats

    def preview(self, recipients: list[Recipient], stats: dict[str, Any]) -> dict[str, Any]:
        """The dry run's report: recipients, the invalid rows and why, one rendered message, the cost."""
        from airflow_provider_fptsms.sms.text import encoding

        lines = [f"{'row':>6}  {'phone':<14} {'segments':>8}  {'encoding':<8} chars"]
        for r in recipients[:10]:
            lines.append(f"{r.row:>6}  {mask_phone(r.phone):<14} {r.segments:>8}  {encoding(r.text):<8} {len(r.text)}")
        if len(recipients) > 10:
            lines.append(f"... and {len(recipients) - 10} more")
        if self._invalid_rows:
            lines.append(f"Invalid rows ({stats['invalid']}; not sent):")
            lines += [f"{row:>6}  {shown:<14} {reason}" for row, reason, shown in self._invalid_rows]
            if stats["invalid"] > len(self._invalid_rows):
                lines.append(f"... and {stats['invalid'] - len(self._invalid_rows)} more")
        sample = recipients[0]
        shown_text = "*** (mask_message=True)" if self.mask_message else sample.text
        lines.append(f"Sample message (row {sample.row}, {sample.segments} SMS part(s)): {shown_text}")
        cost = None if self.price_per_message is None else stats["segments"] * self.price_per_message
        lines.append(
            f"Estimated cost: {cost:,.0f} ({stats['segments']} SMS parts x {self.price_per_message:g})"
            if cost is not None
            else f"Estimated cost: set price_per_message= to see it ({stats['segments']} SMS parts)"
        )
        self.log.info(
            "DRY RUN — nothing sent. %d recipients, %d messages\n%s",
            len(recipients),
            stats["segments"],
            "\n".join(lines),
        )
        listed = [{"row": row, "reason": reason, "phone": shown} for row, reason, shown in self._invalid_rows]
        return {"dry_run": True, **stats, "estimated_cost": cost, "invalid_rows": listed}

    # ------------------------------------------------------------------ sending

    #: how the gateway lets a doubtful send be settled (see :mod:`airflow_provider_fptsms.delivery`)
    reconciler: Reconciler = NO_RECONCILER

    def send_all(self, todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        """Send ``todo`` through the hook, calling ``delivery``'s write-ahead before and record after each."""
        raise NotImplementedError

    def check_connection(self) -> None:
        """Read the connection (type, credentials present) without calling the gateway."""
        raise NotImplementedError

    def execute(self, context: Context) -> dict[str, Any]:
        recipients, stats = self.prepare(context)
        self.check_connection()
        if not recipients:  # no data row at all (an invalid-only source failed in prepare)
            when_empty(self.on_empty, self.phones)
            self.log.warning("phones is empty: nothing to send (on_empty='succeed')")
            return {"gateway": self.gateway, "recipients": 0, "sent": 0, "empty": True, **stats}
        if self._dry_run:
            return self.preview(recipients, stats)
        operation = operation_key_for(context, self.idempotency_key)
        journal = SendJournal(StateStore(self.state_path), operation)
        records = journal.recall()
        now = journal.clock() if needs_clock(records) else 0.0
        steps = {
            r.request_id: self.reconciler.step(records.get(r.request_id), now, resend_in_doubt=self.resend_in_doubt)
            for r in recipients
        }
        counts = Counter(step.value for step in steps.values())
        if records:
            self.log.info(
                "Operation %r was worked on before: %d done (not sent again), %d in doubt replayed while %s "
                "recognises a repeat, %d in doubt held back, %d to send",
                operation,
                counts[Step.SKIP.value],
                counts[Step.REPLAY.value],
                self.gateway,
                counts[Step.HOLD.value],
                counts[Step.SEND.value],
            )
        replaying = [r for r in recipients if steps[r.request_id] is Step.REPLAY]  # first: their window runs
        todo = replaying + [r for r in recipients if steps[r.request_id] is Step.SEND]
        replay_until: dict[str, float] = {}
        if not self.resend_in_doubt:
            for r in replaying:
                until = self.reconciler.replay_until(records[r.request_id].doubt_since or 0.0)
                replay_until[r.request_id] = until if until is not None else 0.0
        rows = {r.request_id: r.row for r in recipients}
        delivery = TryDelivery(journal, rows, {r.request_id for r in replaying}, replay_until)
        try:
            fresh = self.send_all(todo, delivery) if todo else []
        finally:
            journal.close()
        by_key: dict[str, dict[str, Any]] = {}
        for r in recipients:
            record = records.get(r.request_id)
            if steps[r.request_id] is Step.SKIP and record is not None:
                status = "already_sent" if record.state is State.ACCEPTED else record.result.get("status", "failed")
                by_key[r.request_id] = {**record.result, "status": status}
            elif steps[r.request_id] is Step.HOLD or r.request_id in delivery.held:
                by_key[r.request_id] = {"status": "in_doubt", "error_code": "in_doubt"}
        by_key.update((result.request_id or "", result.as_dict()) for result in fresh)
        results = [self._row(r, by_key.get(r.request_id)) for r in recipients]
        summary = self._summary(results, stats, self._write(context, results))
        summary["idempotency_key"] = operation
        self._apply_fail_policy(summary)
        return summary

    @staticmethod
    def _row(recipient: Recipient, result: dict[str, Any] | None) -> dict[str, Any]:
        result = result or {"status": "failed", "error_code": "not_sent"}
        return {
            "row": recipient.row,
            "phone": mask_phone(recipient.phone),
            "status": result["status"],
            "message_id": result.get("message_id") or "",
            "telco": result.get("telco") or "",
            "error_code": "" if result.get("error_code") is None else result["error_code"],
            "error": result.get("error") or "",  # our text: the gateway's words and the next step, no phone
            "request_id": recipient.request_id,
            "segments": recipient.segments,
        }

    def _write(self, context: Context, results: list[dict[str, Any]]) -> str:
        from airflow.sdk import ObjectStoragePath

        ti = context["ti"]
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        suffix = "" if ti.map_index in (-1, None) else f"_{ti.map_index}"
        target = ObjectStoragePath(
            self.output_path or f"{home}/fptsms/sends/{ti.dag_id}/{_safe(ti.run_id)}/{ti.task_id}{suffix}.csv"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
        target.write_text(out.getvalue())
        return str(target)

    def _summary(self, results: list[dict[str, Any]], stats: dict[str, Any], path: str) -> dict[str, Any]:
        statuses = Counter(r["status"] for r in results)
        failed = Counter(str(r["error_code"]) for r in results if r["status"] == "failed")
        if failed:
            code, count = failed.most_common(1)[0]
            example = next(r["error"] for r in results if r["status"] == "failed" and str(r["error_code"]) == code)
            self._worst_failure = f"most often {code} ({count}x): {example}" if example else f"most often {code}"
        summary = {
            "gateway": self.gateway,
            "recipients": len(results),
            "sent": statuses["sent"],
            "already_sent": statuses["already_sent"],
            "failed": statuses["failed"],
            "in_doubt": statuses["in_doubt"],
            "duplicate_content": statuses["duplicate_content"],
            "failed_by_code": dict(failed),
            **stats,
            "output_path": path,
        }
        self.log.info("Send summary: %s", summary)
        return summary

    def _apply_fail_policy(self, summary: dict[str, Any]) -> None:
        if summary["in_doubt"]:
            raise AirflowException(
                f"{summary['in_doubt']} message(s) may have been accepted by {self.gateway} but the reply was "
                f"lost, too long ago for a repeat to be recognised; they are not sent again (status in_doubt in "
                f"{summary['output_path']}). Next step: check them in the delivery reports or the gateway's "
                "portal; to send them anyway, re-run with resend_in_doubt=True."
            )
        if summary["duplicate_content"] and summary["sent"] + summary["already_sent"] == 0:
            raise AirflowException(
                f"Nothing was sent: {self.gateway} refused all {summary['duplicate_content']} message(s) because each "
                "phone already received the same text in the last 5 minutes, not from this operation (status "
                f"duplicate_content in {summary['output_path']}). They are not sent again, so nobody receives the "
                "text twice. Next step: if this was meant as a new message, change its text."
            )
        if summary["duplicate_content"]:
            self.log.warning(
                "%d message(s) not sent: the phone already received the same text in the last 5 minutes "
                "(duplicate_content; not sent again)",
                summary["duplicate_content"],
            )
        bad = summary["failed"] + summary["invalid"]
        total = summary["recipients"] + summary["invalid"]
        why = f" — {self._worst_failure}" if summary["failed"] else ""
        where = f"; per-recipient errors in {summary['output_path']}. A retry sends only the missing ones."
        if self.fail_on == "any" and bad:
            raise AirflowException(f"{bad} of {total} recipients failed ({summary['failed_by_code']}){why}{where}")
        if self.fail_on == "all" and summary["sent"] + summary["already_sent"] == 0:
            raise AirflowException(f"no message could be sent ({summary['failed_by_code']}){why}{where}")
        if isinstance(self.fail_on, float) and total and bad / total > self.fail_on:
            raise AirflowException(
                f"{bad / total:.1%} of recipients failed, above fail_on={self.fail_on:.1%}{why}{where}"
            )


def _check_fail_on(fail_on: FailOn) -> None:
    if fail_on in ("any", "all"):
        return
    if isinstance(fail_on, float) and 0.0 <= fail_on < 1.0:
        return
    raise InvalidInputError("fail_on", fail_on, "must be 'any', 'all' or a ratio in [0, 1)", "e.g. fail_on=0.05")


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


class FptSendSmsOperator(_BulkSmsOperator):
    """Send CSKH messages through FPT SMS Brandname, concurrently and exactly once per recipient.

    :param phones: list of phones, list of dicts (personalised), XCom, or a txt/CSV file (local or
        ObjectStoragePath, ``.gz`` too). Works with ``.partial(...).expand(phones=chunks)``.
    :param message: templated with Jinja (``{{ ds }}``) for the task, then ``{column}`` per recipient.
    :param brandname: overrides the connection's brandname.
    :param international: use FPT's international endpoint (numbers with country code).
    :param dry_run: validate everything and log a preview table; send nothing.
    :param max_concurrency: messages in flight at once (use an Airflow ``pool`` to bound all workers).
    :param fail_on: ``"any"`` (default), ``"all"`` or a ratio of failed/invalid recipients that fails the task.
    :param output_path: per-recipient results CSV (phones masked); default under ``$AIRFLOW_HOME/fptsms/sends``.
    :param strip_accents: send Vietnamese without accents (GSM-7: 160 characters per SMS instead of 70).
    :param max_segments: refuse messages longer than this many SMS parts (default 5).
    :param row_range: ``(first, last)`` rows of the source to send, for fan-out with
        ``.partial(phones=path).expand(row_range=chunk_ranges(rows, per_task))`` (no phone in XCom).
    :param mask_message: register the rendered message with Airflow's secrets masker, so an OTP
        never shows in the Rendered tab or the logs.
    :param resend_in_doubt: also send again messages whose earlier outcome is unknown and that FPT
        would no longer recognise as repeats (more than 5 minutes ago); they may arrive twice.
    :param idempotency_key: the business operation this send is (templated). Default: dag, task,
        map index and logical date (the run id for runs without one), so a re-trigger or ``dags test``
        of the same date sends nothing again. A key such as ``"{{ ds }}-spring-promo"`` holds across
        runs and DAG versions. Each recipient's key is (this key, phone).
    :param price_per_message: cost of one SMS part, for the dry-run estimate.
    :param phone_column: the phone's column in a CSV, or its key in dicts (default ``phone``).
    :param state_path: where the send journal lives (default ``$AIRFLOW_HOME/fptsms/state``; ``s3://...``
        on multi-worker deployments).
    :param on_empty: a source with no data row at all: ``"fail"`` (default), ``"skip"`` the task, or
        ``"succeed"`` having sent nothing (a daily job on a day with nobody to message).
    :param fpt_conn_id: a ``fptsms`` connection.
    """

    template_fields: Sequence[str] = (*_BulkSmsOperator.template_fields, "brandname")
    gateway = "FPT"
    reconciler = FPT_DUPLICATE_WINDOW  # the manual: "2501 or 1: Duplicate message in 5 minutes"

    def __init__(
        self,
        *,
        fpt_conn_id: str = "fptsms_default",
        brandname: str | None = None,
        international: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fpt_conn_id = fpt_conn_id
        self.brandname = brandname
        self.international = international

    def check_connection(self) -> None:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        FptSmsHook(self.fpt_conn_id).settings  # noqa: B018 - reading it validates type and credentials

    def send_all(self, todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        from airflow_provider_fptsms.hooks.fpt_async import CskhMessage, FptSmsAsyncHook

        replaying = delivery.replaying
        messages = (CskhMessage(r.phone, r.text, r.request_id, self.brandname, r.request_id in replaying) for r in todo)
        hook = FptSmsAsyncHook(self.fpt_conn_id)
        return asyncio.run(
            hook.send_cskh_many(
                messages,
                max_concurrency=self.max_concurrency,
                international=self.international,
                before_send=delivery.before_send_async,
                on_result=delivery.on_result,
            )
        )


class FiboSendSmsOperator(_BulkSmsOperator):
    """Send SMS through Fibo's SendMaskedSMS, with the same shape and guarantees as FptSendSmsOperator.

    The per-message key travels as ``smsGUID`` (a label). Fibo offers no evidence to settle a lost
    reply, so a message in doubt is never replayed automatically (``resend_in_doubt`` overrides).
    All parameters are FptSendSmsOperator's, plus:

    :param fibo_conn_id: a ``fibosms`` connection.
    :param sender_name: overrides the connection extra ``sender_name``.
    """

    template_fields: Sequence[str] = (*_BulkSmsOperator.template_fields, "sender_name")
    gateway = "Fibo"

    def __init__(self, *, fibo_conn_id: str = "fibosms_default", sender_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fibo_conn_id = fibo_conn_id
        self.sender_name = sender_name

    def check_connection(self) -> None:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        FiboSmsHook(self.fibo_conn_id).settings  # noqa: B018 - reading it validates type and credentials

    def send_all(self, todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        from airflow_provider_fptsms.hooks.fibo import FiboMessage, FiboSmsHook

        messages = (FiboMessage(r.phone, r.text, r.request_id, self.sender_name) for r in todo)
        return FiboSmsHook(self.fibo_conn_id).send_many(
            messages,
            max_concurrency=self.max_concurrency,
            before_send=delivery.before_send,
            on_result=delivery.on_result,
        )
