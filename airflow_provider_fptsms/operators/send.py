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
import heapq
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_provider_fptsms._compat import AirflowException
from airflow_provider_fptsms.assets import attach_figures
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
from airflow_provider_fptsms.metrics import count_send
from airflow_provider_fptsms.operators._rows import (
    csv_line,
    default_path,
    duplicate_reason,
    invalid_reason,
    row_report,
    suppressed_reason,
)
from airflow_provider_fptsms.operators._sources import (
    PhoneSource,
    SuppressSource,
    check_on_empty,
    mask_literal_lists,
    mask_literal_phones,
    read_suppression,
    recipient_rows,
    when_empty,
)
from airflow_provider_fptsms.state import SendJournal, StateStore

if TYPE_CHECKING:
    from airflow_provider_fptsms.hooks.results import SendResult
    from airflow_provider_fptsms.lineage import OperatorLineage
    from airflow_provider_fptsms.sms.cost import Cost

if TYPE_CHECKING:
    from airflow.sdk import Context

FailOn = str | float
#: invalid rows listed by row number in the dry run and its XCom (the counts cover them all)
MAX_LISTED_INVALID = 20
#: rendered texts checked for what makes them cost more parts (emoji, UCS-2), in the dry run and the log
TEXT_WARNING_ROWS = 200


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


#: the journal's answer for a message whose intent was written ahead and that no sender took
NOT_SENT_AHEAD = {
    "state": "refused",  # the delivery model's word for a request that never left
    "status": "not_sent",
    "error_code": "not_sent",
    "error": "written ahead, not sent",
}


class TryDelivery:
    """One try of a bulk send, between the journal and a hook: the intent before each message, its
    answer after. A message replayed from doubt is re-checked as it goes (on the store's clock):
    past its window it is held back after all, and reported in doubt.

    ``order``: the keys in the order the hook takes them, so that a journal on an object store can write
    intents ahead of the senders (:class:`~airflow_provider_fptsms.state.GroupCommit`); those replayed
    inside a window are never written ahead (their write time is checked against the window).
    """

    def __init__(
        self,
        journal: SendJournal,
        rows: dict[str, int],
        replaying: set[str],
        replay_until: dict[str, float],
        order: Sequence[str] = (),
    ) -> None:
        from airflow_provider_fptsms.state import GroupCommit

        self.journal = journal
        self.rows = rows
        #: keys that repeat an attempt whose outcome is unknown (a duplicate answer then means it landed)
        self.replaying = replaying
        #: for those replayed inside the gateway's window: until when (store clock) the replay is safe
        self.replay_until = replay_until
        self.held: set[str] = set()
        # a local journal appends each intent in microseconds; an object store batches them
        ahead = [key for key in order if key not in replay_until]
        self._commit = None if journal.appends else GroupCommit(journal, ahead)

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

    def close(self) -> None:
        """The try's sends are over (done, failed or stopped): record the intents written ahead that no
        sender took as not sent (the request never left: free for the next try), then close the journal."""
        try:
            for key in self._commit.release() if self._commit is not None else ():
                self.journal.record(key, {**NOT_SENT_AHEAD, "row": self.rows.get(key)})
        finally:
            self.journal.close()


class _BulkSmsOperator(BaseOperator):
    """Shared shape of the send operators; subclasses only send."""

    template_fields: Sequence[str] = ("phones", "message", "output_path", "state_path", "idempotency_key", "suppress")
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
        price_per_message: float | dict[str, float] | None = None,
        state_path: str | None = None,
        row_range: tuple[int, int] | None = None,
        mask_message: bool = False,
        resend_in_doubt: bool = False,
        idempotency_key: str | None = None,
        on_empty: str = "fail",
        suppress: SuppressSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.suppress = suppress
        self.idempotency_key = idempotency_key
        self.on_empty = on_empty
        check_on_empty(on_empty)
        self.mask_message = mask_message
        self._skipped: list[dict[str, Any]] = []  # report rows of the rows not sent (invalid, duplicate)
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
        mask_literal_lists(self.suppress)

    # ------------------------------------------------------------------ preparation (no I/O to the gateway)

    def prepare(self, context: Context) -> tuple[list[Recipient], dict[str, Any]]:
        """Every row of the source (in ``row_range``) checked and rendered; nothing sent, nothing refused
        yet. Rows that will not be sent are kept in :attr:`_skipped` as report rows."""
        from airflow_provider_fptsms.sms.phones import normalise
        from airflow_provider_fptsms.sms.text import check_message, strip_accents

        if not isinstance(self.message, str) or not self.message.strip():
            raise InvalidInputError("message", self.message, "is empty", "write the message text")
        fields = placeholders(self.message)
        operation = operation_key_for(context, self.idempotency_key)
        secret = self._key_secret()
        self._skipped = []
        recipients: list[Recipient] = []
        invalid: Counter[str] = Counter()
        first_row: dict[int, int] = {}  # phone -> the row that has it first (a send's list fits in memory)
        suppression = read_suppression(self.suppress, international=self.international)
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
                    self._skipped.append(_skipped_row(row, mask_phone(str(raw).strip()), "invalid", reason))
                    continue
                seen = first_row.setdefault(int(phone), row)
                if seen != row:
                    self._skipped.append(_skipped_row(row, mask_phone(phone), "duplicate", duplicate_reason(seen)))
                    continue
                listed = suppression.source_of(phone) if suppression else None
                if listed is not None:
                    self._skipped.append(_skipped_row(row, mask_phone(phone), "suppressed", suppressed_reason(listed)))
                    continue
                text = self.message.format_map(variables) if fields else self.message
                if self.strip_accents:
                    text = strip_accents(text)
                info = check_message(text, field=f"message (row {row})", max_segments=self.max_segments)
                recipients.append(Recipient(row, phone, text, recipient_key(operation, phone, secret), info.segments))
        duplicates = sum(1 for r in self._skipped if r["status"] == "duplicate")
        stats = {
            "rows": len(recipients) + len(self._skipped),
            "valid": len(recipients),
            "invalid": sum(invalid.values()),
            "invalid_by_reason": dict(invalid),
            "duplicates": duplicates,
            "segments": sum(r.segments for r in recipients),
        }
        if suppression:
            stats["suppression"] = suppression.as_dict()
        return recipients, stats

    def cost(self, recipients: Iterable[Recipient], *, dry_run: bool = False) -> Cost:
        """Messages (SMS parts) and VND by telco for ``recipients``, at ``price_per_message`` (one price, or
        one per telco), else the connection's ``prices`` extra."""
        from airflow_provider_fptsms.operators._prices import operator_prices
        from airflow_provider_fptsms.sms.cost import CostCounter

        price = self.price_per_message
        explicit: Mapping[str, object] | None = {"default": price} if isinstance(price, (int, float)) else price
        counter = CostCounter(operator_prices(explicit, self.sync_hook(), dry_run=dry_run))
        for recipient in recipients:
            counter.add(recipient.phone, recipient.segments)
        return counter.cost()

    def refusal(self, recipients: list[Recipient], stats: dict[str, Any], where: str) -> InvalidInputError | None:
        """The fail policy applied to invalid rows, before the first send (a task failing after it sent
        could never succeed); ``where`` says where the user finds the rows."""
        invalid, rows = stats["invalid"], stats["rows"]
        by_reason = stats["invalid_by_reason"]
        if not recipients:
            return InvalidInputError(
                "phones", f"{rows} rows", "contain no valid recipient", f"check the list ({by_reason}; {where})"
            )
        if invalid and self.fail_on == "any":
            return InvalidInputError(
                "phones",
                f"{invalid} of {rows} rows",
                f"are invalid ({by_reason})",
                f"fix or remove them ({where}), or pass fail_on='all' / a ratio to send to the valid ones",
            )
        if isinstance(self.fail_on, float) and invalid / rows > self.fail_on:
            return InvalidInputError(
                "phones",
                f"{invalid} of {rows} rows",
                f"are invalid ({by_reason}), above fail_on={self.fail_on:.1%}",
                f"fix or remove them ({where}), or raise fail_on",
            )
        return None

    def preview(self, recipients: list[Recipient], stats: dict[str, Any]) -> dict[str, Any]:
        """The dry run's report: recipients, the invalid rows and why, one rendered message, the cost."""
        from airflow_provider_fptsms.sms.text import describe

        lines = [f"{'row':>6}  {'phone':<14} {'segments':>8}  {'encoding':<8} {'units':>5}"]
        for r in recipients[:10]:
            info = describe(r.text)
            lines.append(f"{r.row:>6}  {mask_phone(r.phone):<14} {r.segments:>8}  {info.encoding:<8} {info.units:>5}")
        if len(recipients) > 10:
            lines.append(f"... and {len(recipients) - 10} more")
        listed = [r for r in self._skipped if r["status"] == "invalid"][:MAX_LISTED_INVALID]
        if listed:
            lines.append(f"Invalid rows ({stats['invalid']}; not sent):")
            lines += [f"{r['row']:>6}  {r['phone']:<14} {r['error']}" for r in listed]
            if stats["invalid"] > len(listed):
                lines.append(f"... and {stats['invalid'] - len(listed)} more")
        if stats["duplicates"]:
            lines.append(f"Duplicate rows ({stats['duplicates']}): the same phone as an earlier row, sent once")
        if recipients:
            sample = recipients[0]
            shown_text = "*** (mask_message=True)" if self.mask_message else sample.text
            lines.append(f"Sample message (row {sample.row}, {sample.segments} SMS part(s)): {shown_text}")
        lines += self._text_warnings(recipients)
        estimate = self.cost(recipients, dry_run=True)
        priced = bool(estimate.vnd) and not estimate.unpriced
        lines.append(
            f"Estimated cost: {estimate.describe()}"
            if estimate.vnd
            else f"Estimated cost: set price_per_message= (or the connection's prices extra) to see it "
            f"({stats['segments']} SMS parts)"
        )
        if stats.get("suppression"):
            lines.append(
                f"Suppressed ({stats['suppression']['suppressed']}; not sent): {stats['suppression']['by_list']}"
            )
        self.log.info(
            "DRY RUN — nothing sent. %d recipients, %d messages\n%s",
            len(recipients),
            stats["segments"],
            "\n".join(lines),
        )
        shown = [{"row": r["row"], "reason": r["error"], "phone": r["phone"]} for r in listed]
        total = round(estimate.total_vnd) if priced else None
        return {"dry_run": True, **stats, "estimated_cost": total, "cost": estimate.as_dict(), "invalid_rows": shown}

    def _text_warnings(self, recipients: list[Recipient]) -> list[str]:
        """What the texts cost more than their length suggests (UCS-2, emoji, two-unit characters): the
        first row of each kind, from the first :data:`TEXT_WARNING_ROWS` texts (a template's rows differ
        only in their variables)."""
        from airflow_provider_fptsms.sms.text import text_warnings

        first: dict[str, str] = {}
        for r in recipients[:TEXT_WARNING_ROWS]:
            for kind, words in text_warnings(r.text):
                first.setdefault(kind, f"Message cost (row {r.row}): {words}")
        return list(first.values())

    # ------------------------------------------------------------------ sending

    #: how the gateway lets a doubtful send be settled (see :mod:`airflow_provider_fptsms.delivery`)
    reconciler: Reconciler = NO_RECONCILER

    def send_all(self, todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        """Send ``todo`` through the hook, calling ``delivery``'s write-ahead before and record after each."""
        raise NotImplementedError

    def sync_hook(self) -> Any:
        """This gateway's hook, on the operator's connection (its settings are read, the gateway is not called)."""
        raise NotImplementedError

    def _key_secret(self) -> str | None:
        """The connection's secret, which keys the message ids; a dry run without the connection uses none
        (its ids are never sent)."""
        try:
            return str(self.sync_hook().settings.password or "") or None
        except Exception:
            if self._dry_run:
                return None
            raise

    def check_connection(self) -> None:
        """Read the connection (type, credentials present) without calling the gateway."""
        self.sync_hook().settings  # noqa: B018 - reading it validates type and credentials

    def execute(self, context: Context) -> dict[str, Any]:
        recipients, stats = self.prepare(context)
        self.check_connection()
        if not stats["rows"]:  # no data row at all
            when_empty(self.on_empty, self.phones)
            self.log.warning("phones is empty: nothing to send (on_empty='succeed')")
            return self._announced(
                context, {"gateway": self.gateway, "recipients": 0, "sent": 0, "empty": True, **stats}
            )
        if self._dry_run:
            preview = self.preview(recipients, stats)
            refused = self.refusal(recipients, stats, "listed above")
            if refused is not None:
                raise refused  # what the real run would say, after the preview that shows the rows
            return self._announced(context, {"gateway": self.gateway, "recipients": len(recipients), **preview})
        target = self.output_path or default_path(context, "sends")
        refused = self.refusal(recipients, stats, f"every row and its status in {target}")
        if refused is not None:
            not_sent = {"status": "not_sent", "error": f"not sent: {refused.description}"}
            self._write(target, self._report(recipients, dict.fromkeys(self._keys(recipients), not_sent)))
            raise refused
        for warning in self._text_warnings(recipients):
            self.log.warning("%s", warning)
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
        order = [r.request_id for r in todo]
        delivery = TryDelivery(journal, rows, {r.request_id for r in replaying}, replay_until, order)
        try:
            fresh = self.send_all(todo, delivery) if todo else []
        finally:
            delivery.close()
        by_key: dict[str, dict[str, Any]] = {}
        for r in recipients:
            record = records.get(r.request_id)
            if steps[r.request_id] is Step.SKIP and record is not None:
                status = "already_sent" if record.state is State.ACCEPTED else record.result.get("status", "failed")
                by_key[r.request_id] = {**record.result, "status": status}
            elif steps[r.request_id] is Step.HOLD or r.request_id in delivery.held:
                by_key[r.request_id] = {"status": "in_doubt", "error_code": "in_doubt", "error": IN_DOUBT}
        by_key.update((result.request_id or "", result.as_dict()) for result in fresh)
        report = self._report(recipients, by_key)
        summary = self._summary(report, stats, self._write(target, report))
        delivered = {"sent", "already_sent"}
        billed = [r for r in recipients if by_key.get(r.request_id, {}).get("status") in delivered]
        summary["cost"] = self.cost(billed).as_dict()  # what was accepted, at the configured prices
        summary["idempotency_key"] = operation
        count_send(self.gateway, summary)
        self._announced(context, summary)
        self._apply_fail_policy(summary)
        return summary

    def _announced(self, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
        """``summary``, its figures put on the events of the task's Asset outlets (the same keys whatever
        happened: a dry run or an empty source sends nothing, and says so)."""
        figures: dict[str, Any] = {key: summary.get(key, 0) for key in ASSET_FIGURES}
        figures.update(gateway=self.gateway, output_path=summary.get("output_path"))
        figures.update(dry_run=bool(summary.get("dry_run")), empty=bool(summary.get("empty")))
        attach_figures(context, self.outlets, figures)
        return summary

    @staticmethod
    def _keys(recipients: list[Recipient]) -> list[str]:
        return [r.request_id for r in recipients]

    def _report(self, recipients: list[Recipient], by_key: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """One row per input row, in row order: the recipients' outcomes and the rows that were never sent."""
        sent = (self._row(r, by_key.get(r.request_id)) for r in recipients)
        return list(heapq.merge(sent, self._skipped, key=itemgetter("row")))

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

    @staticmethod
    def _write(target: str, report: list[dict[str, Any]]) -> str:
        with row_report(target, REPORT_FIELDS) as handle:
            handle.writelines(csv_line(*(row[name] for name in REPORT_FIELDS)) for row in report)
        return target

    def _summary(self, report: list[dict[str, Any]], stats: dict[str, Any], path: str) -> dict[str, Any]:
        statuses = Counter(r["status"] for r in report)
        failed = Counter(str(r["error_code"]) for r in report if r["status"] == "failed")
        self._worst_failure = _top_failures(report, failed)
        summary = {
            "gateway": self.gateway,
            "recipients": stats["valid"],
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
        where = f"; every row and its status in {summary['output_path']}. A retry sends only the missing ones."
        if self.fail_on == "any" and bad:
            raise AirflowException(f"{bad} of {total} recipients failed ({summary['failed_by_code']}){why}{where}")
        if self.fail_on == "all" and summary["sent"] + summary["already_sent"] == 0:
            raise AirflowException(f"no message could be sent ({summary['failed_by_code']}){why}{where}")
        if isinstance(self.fail_on, float) and total and bad / total > self.fail_on:
            raise AirflowException(
                f"{bad / total:.1%} of recipients failed, above fail_on={self.fail_on:.1%}{why}{where}"
            )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage: inputs the phones and suppress files, outputs the send and its per-row report
        (:mod:`airflow_provider_fptsms.lineage`)."""
        from airflow_provider_fptsms.lineage import send_lineage

        return send_lineage(self, task_instance)


#: the counts a send puts on its Asset events (with ``gateway``, ``output_path``, ``dry_run`` and ``empty``)
ASSET_FIGURES = ("recipients", "sent", "already_sent", "failed", "in_doubt")

#: the columns of a send's per-row report (``output_path``)
REPORT_FIELDS = ("row", "phone", "status", "message_id", "telco", "error_code", "error", "request_id", "segments")
IN_DOUBT = (
    "may have been accepted but the reply was lost, too long ago for a repeat to be recognised: not sent again. "
    "Next step: check the delivery reports or the portal; resend_in_doubt=True sends it anyway"
)


def _skipped_row(row: int, masked_phone: str, status: str, reason: str) -> dict[str, Any]:
    """A report row for an input row that is not sent: ``invalid`` (why, what to do) or ``duplicate``."""
    error = invalid_reason(reason) if status == "invalid" else reason
    return dict.fromkeys(REPORT_FIELDS, "") | {"row": row, "phone": masked_phone, "status": status, "error": error}


def _top_failures(report: list[dict[str, Any]], failed: Counter[str], top: int = 3) -> str:
    """``most often 6 (2x): <text>; then 1005 (1x): <text>``: the commonest failures with their meaning and
    next step, for the fail policy's message."""
    parts = []
    for code, count in failed.most_common(top):
        example = next(r["error"] for r in report if r["status"] == "failed" and str(r["error_code"]) == code)
        parts.append(f"{code} ({count}x): {example}" if example else f"{code} ({count}x)")
    return ("most often " + "; then ".join(parts)) if parts else ""


def _check_fail_on(fail_on: FailOn) -> None:
    if fail_on in ("any", "all"):
        return
    if isinstance(fail_on, float) and 0.0 <= fail_on < 1.0:
        return
    raise InvalidInputError("fail_on", fail_on, "must be 'any', 'all' or a ratio in [0, 1)", "e.g. fail_on=0.05")


class FptSendSmsOperator(_BulkSmsOperator):
    """Send CSKH messages through FPT SMS Brandname, concurrently and exactly once per recipient.

    :param fpt_conn_id: a ``fptsms`` connection.
    :param brandname: overrides the connection's brandname (templated).
    :param international: use FPT's international endpoint (numbers with country code).
    :param phones: list of phones, list of dicts (personalised), XCom, or a txt/CSV file (local or
        ObjectStoragePath, ``.gz`` too). Templated. Works with ``.partial(...).expand(phones=chunks)``.
    :param message: templated with Jinja (``{{ ds }}``) for the task, then ``{column}`` per recipient.
    :param phone_column: the phone's column in a CSV, or its key in dicts (default ``phone``).
    :param dry_run: validate everything, log a preview (rows, invalid rows, a sample, the cost); send nothing.
    :param max_concurrency: messages in flight at once (use an Airflow ``pool`` to bound all workers).
    :param output_path: the per-row report (templated; local or ObjectStoragePath, ``.gz`` compressed):
        every input row once with its status and, if not sent, why; phones masked. Default
        ``$AIRFLOW_HOME/fptsms/sends/<dag>/<run>/<task>.csv``.
    :param fail_on: ``"any"`` (default), ``"all"`` or a ratio of failed/invalid recipients that fails the task.
    :param strip_accents: send Vietnamese without accents (GSM-7: 160 characters per SMS instead of 70).
    :param max_segments: refuse messages longer than this many SMS parts (default 5).
    :param price_per_message: VND per SMS part, one price or one per telco (``{"viettel": 850, "default":
        900}``), for the cost in the dry run and the summary. Default: the connection's ``prices`` extra.
    :param state_path: where the send journal lives (templated; default ``$AIRFLOW_HOME/fptsms/state``;
        ``s3://...`` on multi-worker deployments).
    :param row_range: ``(first, last)`` rows of the source to send, for fan-out with
        ``.partial(phones=path).expand(row_range=chunk_ranges(rows, per_task))`` (no phone in XCom).
    :param mask_message: register the rendered message with Airflow's secrets masker, so an OTP
        never shows in the Rendered tab or the logs.
    :param resend_in_doubt: also send again messages whose earlier outcome is unknown and that the
        gateway would no longer recognise as repeats; they may arrive twice.
    :param idempotency_key: the business operation this send is (templated). Default: dag, task,
        map index and logical date (the run id for runs without one), so a re-trigger or ``dags test``
        of the same date sends nothing again. A key such as ``"{{ ds }}-spring-promo"`` holds across
        runs and DAG versions. Each recipient's key is (this key, phone).
    :param on_empty: a source with no data row at all: ``"fail"`` (default), ``"skip"`` the task, or
        ``"succeed"`` having sent nothing (a daily job on a day with nobody to message).
    :param suppress: do-not-contact lists (templated) for marketing sent as CSKH: a file, a list or XCom,
        several, or ``{name: source}``. A phone on any list is not sent (``suppressed`` in the report).
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
        phones: PhoneSource | Sequence[dict[str, Any]],
        message: str,
        phone_column: str | int | None = None,
        dry_run: bool = False,
        max_concurrency: int = 16,
        output_path: str | None = None,
        fail_on: FailOn = "any",
        strip_accents: bool = False,
        max_segments: int | None = 5,
        price_per_message: float | dict[str, float] | None = None,
        state_path: str | None = None,
        row_range: tuple[int, int] | None = None,
        mask_message: bool = False,
        resend_in_doubt: bool = False,
        idempotency_key: str | None = None,
        on_empty: str = "fail",
        suppress: SuppressSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            phones=phones,
            message=message,
            phone_column=phone_column,
            dry_run=dry_run,
            max_concurrency=max_concurrency,
            output_path=output_path,
            fail_on=fail_on,
            strip_accents=strip_accents,
            max_segments=max_segments,
            price_per_message=price_per_message,
            state_path=state_path,
            row_range=row_range,
            mask_message=mask_message,
            resend_in_doubt=resend_in_doubt,
            idempotency_key=idempotency_key,
            on_empty=on_empty,
            suppress=suppress,
            **kwargs,
        )
        self.fpt_conn_id = fpt_conn_id
        self.brandname = brandname
        self.international = international

    def sync_hook(self) -> Any:
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        return FptSmsHook(self.fpt_conn_id)

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

    :param fibo_conn_id: a ``fibosms`` connection.
    :param sender_name: overrides the connection extra ``sender_name`` (templated).
    :param phones: list of phones, list of dicts (personalised), XCom, or a txt/CSV file (local or
        ObjectStoragePath, ``.gz`` too). Templated. Works with ``.partial(...).expand(phones=chunks)``.
    :param message: templated with Jinja (``{{ ds }}``) for the task, then ``{column}`` per recipient.
    :param phone_column: the phone's column in a CSV, or its key in dicts (default ``phone``).
    :param dry_run: validate everything, log a preview (rows, invalid rows, a sample, the cost); send nothing.
    :param max_concurrency: messages in flight at once (use an Airflow ``pool`` to bound all workers).
    :param output_path: the per-row report (templated; local or ObjectStoragePath, ``.gz`` compressed):
        every input row once with its status and, if not sent, why; phones masked. Default
        ``$AIRFLOW_HOME/fptsms/sends/<dag>/<run>/<task>.csv``.
    :param fail_on: ``"any"`` (default), ``"all"`` or a ratio of failed/invalid recipients that fails the task.
    :param strip_accents: send Vietnamese without accents (GSM-7: 160 characters per SMS instead of 70).
    :param max_segments: refuse messages longer than this many SMS parts (default 5).
    :param price_per_message: VND per SMS part, one price or one per telco (``{"viettel": 850, "default":
        900}``), for the cost in the dry run and the summary. Default: the connection's ``prices`` extra.
    :param state_path: where the send journal lives (templated; default ``$AIRFLOW_HOME/fptsms/state``;
        ``s3://...`` on multi-worker deployments).
    :param row_range: ``(first, last)`` rows of the source to send, for fan-out with
        ``.partial(phones=path).expand(row_range=chunk_ranges(rows, per_task))`` (no phone in XCom).
    :param mask_message: register the rendered message with Airflow's secrets masker, so an OTP
        never shows in the Rendered tab or the logs.
    :param resend_in_doubt: also send again messages whose earlier outcome is unknown and that the
        gateway would no longer recognise as repeats; they may arrive twice.
    :param idempotency_key: the business operation this send is (templated). Default: dag, task,
        map index and logical date (the run id for runs without one), so a re-trigger or ``dags test``
        of the same date sends nothing again. A key such as ``"{{ ds }}-spring-promo"`` holds across
        runs and DAG versions. Each recipient's key is (this key, phone).
    :param on_empty: a source with no data row at all: ``"fail"`` (default), ``"skip"`` the task, or
        ``"succeed"`` having sent nothing (a daily job on a day with nobody to message).
    :param suppress: do-not-contact lists (templated) for marketing sent as CSKH: a file, a list or XCom,
        several, or ``{name: source}``. A phone on any list is not sent (``suppressed`` in the report).
    """

    template_fields: Sequence[str] = (*_BulkSmsOperator.template_fields, "sender_name")
    gateway = "Fibo"

    def __init__(
        self,
        *,
        fibo_conn_id: str = "fibosms_default",
        sender_name: str | None = None,
        phones: PhoneSource | Sequence[dict[str, Any]],
        message: str,
        phone_column: str | int | None = None,
        dry_run: bool = False,
        max_concurrency: int = 16,
        output_path: str | None = None,
        fail_on: FailOn = "any",
        strip_accents: bool = False,
        max_segments: int | None = 5,
        price_per_message: float | dict[str, float] | None = None,
        state_path: str | None = None,
        row_range: tuple[int, int] | None = None,
        mask_message: bool = False,
        resend_in_doubt: bool = False,
        idempotency_key: str | None = None,
        on_empty: str = "fail",
        suppress: SuppressSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            phones=phones,
            message=message,
            phone_column=phone_column,
            dry_run=dry_run,
            max_concurrency=max_concurrency,
            output_path=output_path,
            fail_on=fail_on,
            strip_accents=strip_accents,
            max_segments=max_segments,
            price_per_message=price_per_message,
            state_path=state_path,
            row_range=row_range,
            mask_message=mask_message,
            resend_in_doubt=resend_in_doubt,
            idempotency_key=idempotency_key,
            on_empty=on_empty,
            suppress=suppress,
            **kwargs,
        )
        self.fibo_conn_id = fibo_conn_id
        self.sender_name = sender_name

    def sync_hook(self) -> Any:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        return FiboSmsHook(self.fibo_conn_id)

    def send_all(self, todo: list[Recipient], delivery: TryDelivery) -> list[SendResult]:
        from airflow_provider_fptsms.hooks.fibo import FiboMessage, FiboSmsHook

        messages = [FiboMessage(r.phone, r.text, r.request_id, self.sender_name) for r in todo]
        # the same text to many phones goes out in list calls (measured faster: make bench), the rest one by one
        return FiboSmsHook(self.fibo_conn_id).send_bulk(
            messages,
            max_concurrency=self.max_concurrency,
            before_send=delivery.before_send,
            on_result=delivery.on_result,
        )
