"""Send customer-care (CSKH) / OTP / alert SMS from a DAG: one message or a personalised one per row.

Safety, in the order it happens:
1. everything is checked before the first send — phones normalised (invalid rows reported),
   ``{column}`` placeholders resolved for every row, lengths checked — and ``dry_run`` stops here
   with a preview and a cost estimate;
2. every message carries a RequestId derived from (dag, run, task, map index, phone): a retry is
   recognised by FPT (2501 = already sent) for 5 minutes, and by the send journal after that;
3. each block of messages is announced in the journal before it goes out, and results are
   recorded as they arrive, so a retried task sends only what is missing;
4. a message that may have been accepted without us learning it (reply lost after every retry,
   or the try died with it in flight) is *in doubt*: sent again only while the gateway would
   still recognise it, otherwise held back and reported (``resend_in_doubt=True`` overrides);
5. per-recipient results (phone masked) go to ``output_path``; XCom gets a small summary.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import string
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from airflow_provider_fptsms.gateways.errors import InvalidInputError, SmsError, mask_phone, may_have_landed
from airflow_provider_fptsms.operators._sources import PhoneSource, mask_literal_phones, recipient_rows
from airflow_provider_fptsms.state import SendJournal, StateStore

if TYPE_CHECKING:
    from airflow.sdk import Context

FailOn = str | float


@dataclass(frozen=True)
class Recipient:
    row: int
    phone: str = field(repr=False)
    text: str = field(repr=False)
    request_id: str
    segments: int


def request_id_for(context: Context, phone: str) -> str:
    """Same run, task, map index and phone -> same id, on every try (<= 100 chars as FPT requires)."""
    ti = context["ti"]
    key = f"{ti.dag_id}|{ti.run_id}|{ti.task_id}|{ti.map_index}|{phone}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def placeholders(message: str) -> set[str]:
    """``{name}`` fields of a message (after Airflow's Jinja rendering)."""
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(message) if name}
    except ValueError as exc:
        raise InvalidInputError(
            "message", "<text>", f"has an unbalanced brace ({exc})", "write {column} for a variable, {{ for a brace"
        ) from None


class Dispatch:
    """Hands recipients to a sender in blocks announced in the journal, and remembers what it handed out.

    Blocks are small (twice the concurrency): after a kill, everything announced but unanswered is in
    doubt, so a block should hold little more than what is really in flight. A message in doubt that
    is being sent again goes first, and is re-checked when its block is handed out: past
    ``resend_until`` the gateway would no longer recognise it, so it is held back after all.
    On a clean exit, announced messages never handed out are recorded as not sent.
    """

    def __init__(
        self, journal: SendJournal, recipients: list[Recipient], block: int, resend_until: dict[str, float]
    ) -> None:
        self.journal = journal
        self.block = max(1, block)
        self.resend_until = resend_until
        self.recipients = sorted(recipients, key=lambda r: r.request_id not in resend_until)  # doubtful first
        self.rows = {r.request_id: r.row for r in recipients}
        self.late: set[str] = set()
        self._announced: list[str] = []
        self._taken: set[str] = set()

    def blocks(self) -> Iterator[list[Recipient]]:
        for start in range(0, len(self.recipients), self.block):
            now = time.time()
            block = []
            for r in self.recipients[start : start + self.block]:
                if self.resend_until.get(r.request_id, now) < now:
                    self.late.add(r.request_id)
                else:
                    block.append(r)
            if block:
                self.journal.intend([r.request_id for r in block])
                self._announced += [r.request_id for r in block]
                yield block

    def take(self, recipient: Recipient) -> Recipient:
        """Mark a recipient as handed to the gateway (called just before its request is made)."""
        self._taken.add(recipient.request_id)
        return recipient

    def record(self, result: dict[str, Any]) -> None:
        self.journal.record({**result, "row": self.rows.get(result["request_id"]), "at": time.time()})

    def close(self) -> None:
        for request_id in self._announced:
            if request_id not in self._taken:
                self.record({"request_id": request_id, "status": "failed", "error_code": "not_sent"})
        self.journal.flush()


class _BulkSmsOperator(BaseOperator):
    """Shared shape of the send operators; subclasses only send."""

    template_fields: Sequence[str] = ("phones", "message", "output_path", "state_path")
    template_fields_renderers: ClassVar[dict[str, str]] = {"message": "jinja"}
    ui_color = "#ffe9d6"
    gateway = ""
    international = False

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mask_message = mask_message
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
                    invalid[error.description.split(": ", 1)[-1]] += 1
                    continue
                if not seen.add(int(phone)):
                    duplicates += 1
                    continue
                text = self.message.format_map(variables) if fields else self.message
                if self.strip_accents:
                    text = strip_accents(text)
                info = check_message(text, field=f"message (row {row})", max_segments=self.max_segments)
                recipients.append(Recipient(row, phone, text, request_id_for(context, phone), info.segments))
        stats = {
            "rows": len(recipients) + sum(invalid.values()) + duplicates,
            "valid": len(recipients),
            "invalid": sum(invalid.values()),
            "invalid_by_reason": dict(invalid),
            "duplicates": duplicates,
            "segments": sum(r.segments for r in recipients),
        }
        if not recipients:
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
        lines = [f"{'row':>6}  {'phone':<14} {'segments':>8}  {'encoding':<8} chars"]
        from airflow_provider_fptsms.sms.text import encoding

        for r in recipients[:10]:
            lines.append(f"{r.row:>6}  {mask_phone(r.phone):<14} {r.segments:>8}  {encoding(r.text):<8} {len(r.text)}")
        if len(recipients) > 10:
            lines.append(f"... and {len(recipients) - 10} more")
        cost = None if self.price_per_message is None else stats["segments"] * self.price_per_message
        self.log.info(
            "DRY RUN — nothing sent. %d recipients, %d messages%s\n%s",
            len(recipients),
            stats["segments"],
            f", estimated cost {cost:,.0f}" if cost is not None else "",
            "\n".join(lines),
        )
        return {"dry_run": True, **stats, "estimated_cost": cost}

    # ------------------------------------------------------------------ sending

    def send_all(self, dispatch: Dispatch) -> list[dict[str, Any]]:
        """Send ``dispatch.blocks()``, calling ``dispatch.take`` before and ``dispatch.record`` after each message."""
        raise NotImplementedError

    def check_connection(self) -> None:
        """Read the connection (type, credentials present) without calling the gateway."""
        raise NotImplementedError

    def execute(self, context: Context) -> dict[str, Any]:
        recipients, stats = self.prepare(context)
        self.check_connection()
        if self._dry_run:
            return self.preview(recipients, stats)
        ti = context["ti"]
        journal = SendJournal(StateStore(self.state_path), f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}")
        recall = journal.recall()
        held, resend_until = self._held_back(recall.in_doubt)
        todo = [r for r in recipients if r.request_id not in recall.done and r.request_id not in held]
        if recall.done or recall.in_doubt:
            self.log.info(
                "Earlier tries: %d sent (not sending them again), %d in doubt (%d held back, %d sent again "
                "while the gateway still recognises their RequestId)",
                len(recall.done),
                len(recall.in_doubt),
                len(held),
                len(recall.in_doubt) - len(held),
            )
        dispatch = Dispatch(journal, todo, 2 * self.max_concurrency, resend_until)
        try:
            fresh = self.send_all(dispatch) if todo else []
        finally:
            dispatch.close()
        held |= dispatch.late
        doubtful = {rid: {"status": "in_doubt", "error_code": "in_doubt", "request_id": rid} for rid in held}
        by_request = {r["request_id"]: r for r in (*recall.done.values(), *doubtful.values(), *fresh)}
        results = [self._row(r, by_request.get(r.request_id)) for r in recipients]
        summary = self._summary(results, stats, self._write(context, results))
        self._apply_fail_policy(summary)
        return summary

    #: seconds after which the gateway no longer recognises a repeated message id (FPT: RequestId,
    #: 5 minutes); a message in doubt is sent again only well inside it (see ``resend_in_doubt``)
    duplicate_window = 0.0
    RESEND_MARGIN = 60.0

    def _held_back(self, in_doubt: dict[str, float]) -> tuple[set[str], dict[str, float]]:
        """Messages in doubt that must not be sent again (the gateway would no longer recognise them),
        and for the others the time until which a repeat is still recognised."""
        if self.resend_in_doubt:
            return set(), {}
        until = {rid: at + self.duplicate_window - self.RESEND_MARGIN for rid, at in in_doubt.items()}
        now = time.time()
        return {rid for rid, t in until.items() if t < now}, {rid: t for rid, t in until.items() if t >= now}

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
        summary = {
            "gateway": self.gateway,
            "recipients": len(results),
            "sent": statuses["sent"],
            "already_sent": statuses["already_sent"],
            "failed": statuses["failed"],
            "in_doubt": statuses["in_doubt"],
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
        bad = summary["failed"] + summary["invalid"]
        total = summary["recipients"] + summary["invalid"]
        if self.fail_on == "any" and bad:
            raise AirflowException(
                f"{bad} of {total} recipients failed ({summary['failed_by_code']}); see "
                f"{summary['output_path']}. A retry sends only the missing ones."
            )
        if self.fail_on == "all" and summary["sent"] + summary["already_sent"] == 0:
            raise AirflowException(f"no message could be sent ({summary['failed_by_code']})")
        if isinstance(self.fail_on, float) and total and bad / total > self.fail_on:
            raise AirflowException(f"{bad / total:.1%} of recipients failed, above fail_on={self.fail_on:.1%}")


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
    """

    template_fields: Sequence[str] = (*_BulkSmsOperator.template_fields, "brandname")
    gateway = "FPT"
    duplicate_window = 300.0  # the manual: "2501 or 1: Duplicate message in 5 minutes"

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

    def send_all(self, dispatch: Dispatch) -> list[dict[str, Any]]:
        from airflow_provider_fptsms.hooks.fpt_async import CskhMessage, FptSmsAsyncHook

        messages = (  # lazy: a block is announced when its first message is taken, and marked as taken
            CskhMessage(r.phone, r.text, r.request_id, self.brandname)
            for block in dispatch.blocks()
            for r in map(dispatch.take, block)
        )
        hook = FptSmsAsyncHook(self.fpt_conn_id)
        return asyncio.run(
            hook.send_cskh_many(
                messages,
                max_concurrency=self.max_concurrency,
                international=self.international,
                on_result=lambda _index, result: dispatch.record(result),
            )
        )


class FiboSendSmsOperator(_BulkSmsOperator):
    """Send SMS through Fibo's SendMaskedSMS, with the same shape and guarantees as FptSendSmsOperator.

    The deterministic id travels as ``smsGUID``; Fibo's duplicate-content reply (6) for it counts as
    already sent.
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

    def send_all(self, dispatch: Dispatch) -> list[dict[str, Any]]:
        from concurrent.futures import ThreadPoolExecutor

        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook
        from airflow_provider_fptsms.hooks.fpt_async import BATCH_FATAL

        hook = FiboSmsHook(self.fibo_conn_id)

        def one(recipient: Recipient) -> dict[str, Any]:
            dispatch.take(recipient)
            result: dict[str, Any] = {"request_id": recipient.request_id, "message_id": None, "telco": None}
            try:
                reply = hook.send_sms(
                    recipient.phone, recipient.text, sender_name=self.sender_name, sms_guid=recipient.request_id
                )
                result.update(status=reply["status"], error_code=None)
            except SmsError as error:
                result.update(
                    status="in_doubt" if may_have_landed(error) else "failed",
                    error_code=error.code if error.code is not None else "invalid_input",
                    error=str(error),
                )
                if isinstance(error, BATCH_FATAL):  # refused like every message would be: record, then stop
                    dispatch.record(result)
                    raise
            dispatch.record(result)
            return result

        results: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=max(1, self.max_concurrency), thread_name_prefix="fibo-send") as pool:
            for block in dispatch.blocks():
                results += pool.map(one, block)
        return results
