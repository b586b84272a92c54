"""Push a phone list to a QC campaign in chunks, resumably.

Retry safety comes from :mod:`airflow_provider_fptsms.state`: the operator records each chunk
before sending it and each acknowledgement after, so a retried task continues where its
predecessor stopped and a chunk whose reply was lost is reconciled with ``detail-ads`` Total
(see :func:`chunk_landed`) before anything is re-sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms._compat import AirflowException, AirflowFailException
from airflow_provider_fptsms.delivery import Outcome, chunk_landed, classify
from airflow_provider_fptsms.gateways.errors import NetworkError, QuotaError, SmsError, mask_phone, mask_phones
from airflow_provider_fptsms.metrics import count
from airflow_provider_fptsms.operators._fpt import _FptOperator, _owner
from airflow_provider_fptsms.operators._prices import operator_prices
from airflow_provider_fptsms.operators._rows import (
    capped_reason,
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
    count_rows,
    numbered_phones,
    read_suppression,
    when_empty,
)
from airflow_provider_fptsms.sms.cost import CostCounter
from airflow_provider_fptsms.sms.frequency import DEFAULT_MAX_PER_24H, validate_cap
from airflow_provider_fptsms.state import Chunk, PushProgress

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fptsms.lineage import OperatorLineage
    from airflow_provider_fptsms.operators._contacts import ContactCap


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
    :param output_path: the per-row report (templated; local or ObjectStoragePath, ``.gz`` compressed):
        every row of this push's range once, as ``pushed`` (chunk, BatchId), ``already_pushed`` (by an
        earlier try), ``invalid`` (reason, next step), ``duplicate``, ``not_pushed`` or ``in_doubt`` (the
        push failed: why). Phones masked. Default ``$AIRFLOW_HOME/fptsms/pushes/<dag>/<run>/<task>.csv``.
    :param invalid_output: file (local or ObjectStoragePath) listing only the invalid rows of the whole
        list (row, reason; never the number), for the team that fixes the source.
    :param chunk_attempts: tries per chunk within one task try. After a lost reply or a 5xx (the
        chunk may have landed) ``detail-ads`` decides first, so a flaky gateway costs seconds, not a
        task retry; other retryable errors are simply tried again.
    :param on_empty: a list with no data row at all: ``"fail"`` (default), ``"skip"`` the task, or
        ``"succeed"`` having pushed nothing.
    :param phone_column: the phone's CSV column when ``phones`` is a file.
    :param progress_every: seconds between progress log lines.
    :param suppress: do-not-contact lists (templated): a file (txt / CSV / .gz, local or ObjectStoragePath), a
        list or XCom, several of them, or ``{name: source}``, e.g. the national DNC export and the team's
        opt-outs. Numbers are cleaned like the audience's; a phone on any list is never pushed (``suppressed``
        in the report, counted by list in the summary). Each list costs a few MB per million numbers.
    :param max_per_24h: the frequency cap (Decree 91/2020/ND-CP: 3): a phone that would get more advertising
        messages than this from the advertiser in any 24 hours, counting every campaign recorded in the
        contact history around this campaign's ScheduleTime, is not pushed (``capped``). The pushed phones
        are recorded (as keyed hashes) before each chunk is sent. ``None`` switches the cap off.
    :param schedule_time: the campaign's ScheduleTime (templated; ``'YYYY-MM-DD HH:mm'`` Vietnam time), for
        the cap. Default: FPT's SendingTime from ``detail-ads``.
    :param advertiser: whose campaigns count together for the cap. Default: the connection's ``brandname``
        extra, else its client id.
    :param contact_history_db: SQLAlchemy URL of the contact history (templated). Default
        ``$FPTSMS_CONTACT_HISTORY_DB``, else ``sqlite:///$AIRFLOW_HOME/fptsms/contact_history.db``; use one
        shared database (Postgres) when several workers push.
    :param contact_history_key_conn_id: a connection whose password is the key that hashes phones in the
        history. Default ``$FPTSMS_CONTACT_HISTORY_KEY``, else (SQLite only) a key file created beside the
        database. Every worker must use the same key.
    :param prices: VND per message part by telco (``{"viettel": 850, "default": 900}``), for the summary's
        ``cost`` of what this range pushed. Default: the connection's ``prices`` extra.
    """

    template_fields: Sequence[str] = (
        "campaign_code",
        "phones",
        "output_path",
        "invalid_output",
        "state_path",
        "suppress",
        "schedule_time",
        "contact_history_db",
    )

    def __init__(
        self,
        *,
        campaign_code: str,
        phones: PhoneSource,
        phone_column: str | int | None = None,
        chunk_size: int = 1000,
        row_range: tuple[int, int] | None = None,
        output_path: str | None = None,
        invalid_output: str | None = None,
        progress_every: float = 10.0,
        chunk_attempts: int = 3,
        on_empty: str = "fail",
        suppress: SuppressSource | None = None,
        max_per_24h: int | None = DEFAULT_MAX_PER_24H,
        schedule_time: str | datetime | None = None,
        advertiser: str | None = None,
        contact_history_db: str | None = None,
        contact_history_key_conn_id: str | None = None,
        prices: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prices = prices
        self.suppress = suppress
        self.max_per_24h = None if max_per_24h is None else validate_cap(max_per_24h)  # a typo fails at parse time
        self.schedule_time = schedule_time
        self.advertiser = advertiser
        self.contact_history_db = contact_history_db
        self.contact_history_key_conn_id = contact_history_key_conn_id
        self.chunk_attempts = chunk_attempts
        self.on_empty = on_empty
        check_on_empty(on_empty)
        self.campaign_code = campaign_code
        self.phones = phones
        self.phone_column = phone_column
        self.chunk_size = chunk_size
        self.row_range = tuple(row_range) if row_range else None
        self.output_path = output_path
        self.invalid_output = invalid_output
        self.progress_every = progress_every
        self._rows: int | None = None  # the source's raw rows, counted once per try (progress, ETA)
        self._planned: int | None = None  # chunks this range should take (an upper bound), for messages

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise InvalidInputError("chunk_size", self.chunk_size, "must be a positive integer", "e.g. 1000")
        owner = _owner(context)
        key = self.campaign_code + (f"@{self.row_range[0]}-{self.row_range[1]}" if self.row_range else "")
        record = self.store.push(key) or PushProgress(key=key, campaign_code=self.campaign_code)
        self._rows = count_rows(self.phones)
        self._planned = planned_chunks(self._rows, self.row_range, self.chunk_size)
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
                f"Cannot reconcile {self._label(chunk.index)} pushed to {self.campaign_code} yet: other ranges of "
                f"the campaign kept pushing for {self.RECONCILE_READS}s. Nothing was re-sent; a retry reconciles "
                "it later."
            )
        if landed is None:
            raise AirflowFailException(
                f"Cannot tell whether {self._label(chunk.index)} pushed to {self.campaign_code} ({chunk.rows} "
                "phones) landed: "
                f"detail-ads Total is {total}, which fits both answers (or neither) given the campaign's push "
                "records. Nothing was re-sent. Next step: check the campaign on the FPT portal, then clear "
                f"the in_flight entry in {self.store.path_of('pushes', record.key)}."
            )
        if landed:
            self.log.info(
                "%s (%d phones) had landed before the reply was lost: recorded, not re-sent",
                self._label(chunk.index).capitalize(),
                chunk.rows,
            )
            chunk.batch_id = chunk.batch_id or "reconciled-from-detail-ads"
            record.chunks.append(chunk)
        else:
            self.log.info("%s did not land: it will be pushed again", self._label(chunk.index).capitalize())
        record.in_flight = None
        self.store.save_push(record, owner)
        return landed

    def _push(self, context: Context, record: PushProgress, owner: str) -> dict[str, Any]:
        from airflow_provider_fptsms.sms.phones import PhoneStats, clean_numbered

        stats = PhoneStats()
        first, last = self.row_range or (1, None)
        covered = record.covered_rows  # positions the acknowledged chunks hold (pushed or skipped between)
        suppression = read_suppression(self.suppress)
        listed_in = suppression.source_of if suppression else None  # asked once, not per row
        cap = _LazyCap(self._cap) if self.max_per_24h is not None else None  # no call for an empty list
        started, last_log, pushed_before = time.monotonic(), time.monotonic(), record.pushed_rows
        target = self.output_path or default_path(context, "pushes")
        self._written_path = target  # for get_openlineage_facets_on_complete
        unique_index = 0
        with (
            numbered_phones(self.phones, self.phone_column) as rows,
            self._invalid_writer() as invalid,
            row_report(target, PUSH_REPORT_FIELDS) as report,
        ):
            batch = _Batch(self, record, owner, report, cap, CostCounter(operator_prices(self.prices, self.hook)))
            for result in clean_numbered(rows, stats=stats):
                if result.phone is None or result.duplicate:
                    if result.phone is None:
                        invalid(result.row, result.reason or "")
                    owner_index = max(unique_index, 1)  # a row that is not pushed belongs to the range before it
                    if owner_index >= first and (last is None or owner_index <= last):
                        batch.line(_skipped_line(result))
                    continue
                unique_index += 1
                if unique_index < first or (last is not None and unique_index > last):
                    continue
                position = unique_index - first + 1  # 1-based within this range
                listed = listed_in(result.phone) if listed_in else None
                if listed is not None:
                    if position > covered:  # an earlier try counted those it covered
                        count("phones.suppressed", gateway="FPT")
                    batch.line(csv_line(result.row, mask_phone(result.phone), "suppressed", suppressed_reason(listed)))
                elif position <= covered:  # an earlier try's chunk holds it: pushed, or capped then
                    batch.earlier(result.row, result.phone, position)
                else:
                    batch.add(result.row, result.phone, position)
                    if time.monotonic() - last_log >= self.progress_every:
                        last_log = time.monotonic()
                        self._progress(record, record.pushed_rows - pushed_before, started, self._rows)
            batch.close()
        if batch.stopped is not None:
            self.log.info("Every row of this push and its status: %s", target)
            raise batch.stopped
        sent_now = record.pushed_rows - pushed_before
        self._progress(record, sent_now, started, self._rows)
        if stats.total == 0:
            when_empty(self.on_empty, self.phones)
        summary = {
            "campaign_code": self.campaign_code,
            "pushed": record.pushed_rows,
            "pushed_this_try": sent_now,
            "chunks": len(record.chunks),
            "remain_quota": record.remain_quota,
            "phones": stats.as_dict(),
            "invalid_output": self.invalid_output if stats.invalid else None,
            "output_path": target,
        }
        summary["cost"] = batch.costs.cost().as_dict()  # what this range pushed, at the configured prices
        if suppression:
            summary["suppression"] = suppression.as_dict()
        if cap is not None:
            summary["capped"] = batch.capped
            summary["max_per_24h"] = self.max_per_24h
        if sent_now == 0 and record.pushed_rows:
            summary["already_done"] = True
            excluded = f"; {suppression.total} suppressed" if suppression else ""
            excluded += f", {batch.capped} capped (max_per_24h={self.max_per_24h})" if cap is not None else ""
            self.log.warning(
                "Nothing new to push: all %d phones of this range were pushed to %s by earlier tries or runs%s",
                record.pushed_rows,
                self.campaign_code,
                excluded,
            )
        self.log.info("Push done: %s", summary)
        facts = ("pushed", "phones", "cost", "suppression", "capped")
        step = f"pushed rows {self.row_range[0]}-{self.row_range[1]}" if self.row_range else "pushed"
        self._note(context, self.campaign_code, step, {key: summary.get(key) for key in facts})
        return summary

    def _cap(self) -> ContactCap:
        """The frequency cap across the advertiser's campaigns (``max_per_24h`` is set)."""
        from airflow_provider_fptsms.operators._contacts import contact_cap

        assert self.max_per_24h is not None

        sending = self.hook.campaign_status(self.campaign_code).sending_time if self.schedule_time is None else None
        return contact_cap(self, self.campaign_code, self.schedule_time, self.max_per_24h, status_time=sending)

    def _push_chunk(
        self, record: PushProgress, owner: str, phones: list[str], first_row: int, span: int, segments: int | None
    ) -> int | None:
        remain = record.remain_quota
        index = len(record.chunks)  # 0-based, as stored; messages say self._label(index)
        if remain is not None and segments is not None and len(phones) * segments > remain:
            raise AirflowFailException(
                f"Campaign {self.campaign_code} has {remain} messages of quota left; {self._label(index)} "
                f"({len(phones)} phones) needs {len(phones) * segments}. {record.pushed_rows} phones were pushed "
                "and recorded; nothing more was sent. Next step: create the campaign with a larger quota (or "
                "quota_margin)."
            )
        if record.baseline_total is None:  # read just before our first chunk: an empty list calls nothing
            record.baseline_total = self.hook.campaign_status(self.campaign_code).total
            self.store.save_push(record, owner)
        attempts = max(1, self.chunk_attempts)
        for attempt in range(1, attempts + 1):
            record.in_flight = Chunk(
                index=index,
                first_row=first_row,
                rows=len(phones),
                batch_id="",
                messages=0,
                remain_quota=None,
                span=span if span != len(phones) else 0,
            )
            self.store.save_push(record, owner)  # before the call: a lost reply can be reconciled
            try:
                receipt = self.hook.push_campaign(self.campaign_code, phones)
            except SmsError as error:
                verdict = classify(error)
                unknown = verdict.outcome is Outcome.UNKNOWN
                if not unknown:
                    record.in_flight = None  # refused or never sent: nothing landed
                    self.store.save_push(record, owner)
                if isinstance(error, QuotaError) or not verdict.retryable:
                    # the gateway's answer for this campaign (quota spent, already sent, ...): a task retry
                    # would only ask again; what was pushed stays pushed
                    raise AirflowFailException(
                        f"{error}. {self._label(index).capitalize()} was not pushed; {record.pushed_rows} phones "
                        "were pushed before."
                    ) from None
                if attempt == attempts:
                    raise
                self.log.warning("%s, attempt %d of %d: %s", self._label(index).capitalize(), attempt, attempts, error)
                # after a timeout FPT may still be storing the chunk: give it as long again before asking
                timed_out = isinstance(error, NetworkError) and error.timed_out
                time.sleep(self.hook.settings.timeout if timed_out else self.hook.settings.backoff * attempt)
                if unknown and self._reconcile(record, owner):
                    return segments
                continue
            chunk = record.in_flight
            chunk.batch_id, chunk.messages = receipt.batch_id, receipt.num_message_sent
            chunk.remain_quota = receipt.num_remain_quota
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
            "Pushed %s, %d phones (%d this try, %.0f phones/s%s)",
            chunks_done(len(record.chunks), self._planned),
            record.pushed_rows,
            sent_now,
            rate,
            eta,
        )

    def _invalid_writer(self) -> Any:
        return _InvalidRows(self.invalid_output)

    def _label(self, index: int) -> str:
        return chunk_label(index, self._planned)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage: inputs the phones and suppress files, outputs the campaign and the push report
        (:mod:`airflow_provider_fptsms.lineage`)."""
        from airflow_provider_fptsms.lineage import push_lineage

        return push_lineage(self, task_instance)


def planned_chunks(rows: int | None, row_range: Sequence[int] | None, chunk_size: int) -> int | None:
    """How many chunks this range should take: an upper bound, from the source's raw row count (a
    header, invalid rows and duplicates are counted too) and the range; None when neither is known."""
    size = None if row_range is None else row_range[1] - row_range[0] + 1
    if rows is not None:
        left = rows if row_range is None else rows - row_range[0] + 1
        size = left if size is None else min(size, left)
    return None if size is None or chunk_size < 1 else max(math.ceil(size / chunk_size), 1)


def chunk_label(index: int, planned: int | None) -> str:
    """``chunk 3 of ~12`` for the stored 0-based ``index`` 2: every message counts chunks from 1, as
    the summary's ``chunks`` count does. ``~``: the total is an estimate made before reading the list;
    it is left out when unknown or already passed."""
    number = index + 1
    return f"chunk {number} of ~{planned}" if planned is not None and number <= planned else f"chunk {number}"


def chunks_done(done: int, planned: int | None) -> str:
    """``3 of ~12 chunks`` for the progress line (the plain count once the estimate is passed)."""
    return f"{done} of ~{planned} chunks" if planned is not None and done <= planned else f"{done} chunks"


#: the columns of a push's per-row report (``output_path``)
PUSH_REPORT_FIELDS = ("row", "phone", "status", "error", "chunk", "batch_id")
STOPPED = "not pushed: the push stopped at an earlier chunk (see the task error); a retry continues from there"
IN_DOUBT = (
    "in doubt: the chunk's reply was lost; a retry reads detail-ads Total before pushing it again, so it is "
    "never pushed twice"
)


def _skipped_line(result: Any) -> str:
    """The report line of a row that is not pushed: invalid (why, what to do) or a repeated phone."""
    if result.phone is None:
        return csv_line(
            result.row, mask_phone(str(result.raw).strip()), "invalid", invalid_reason(result.reason or ""), "", ""
        )
    return csv_line(result.row, mask_phone(result.phone), "duplicate", duplicate_reason(None), "", "")


class _EarlierChunks:
    """Which acknowledged chunk (1-based number, the chunk) holds a position of this range: earlier tries'
    chunks are contiguous and in order, and positions are asked in increasing order."""

    def __init__(self, record: PushProgress) -> None:
        self.chunks = record.chunks
        self.index = 0

    def at(self, position: int) -> tuple[int, Chunk]:
        while position >= self.chunks[self.index].first_row + self.chunks[self.index].covered:
            self.index += 1
        return self.index + 1, self.chunks[self.index]


class _LazyCap:
    """The contact cap, set up on first use: reading the campaign's SendingTime is a call, and a push with
    nothing to push makes none."""

    def __init__(self, make: Callable[[], ContactCap]) -> None:
        self.make = make
        self.cap: ContactCap | None = None

    def get(self) -> ContactCap:
        if self.cap is None:
            self.cap = self.make()
        return self.cap


class _Batch:
    """The rows read since the last decision, in the file's order, and the phones decided together.

    A new chunk's phones are checked against the contact history (the cap), then the allowed ones are pushed;
    the rows an earlier try's chunk holds are told apart (pushed then, or capped then). Lines are written only
    once decided, so the report keeps the file's order. A chunk covers the positions from the end of the one
    before to its last phone, those capped included, so chunks stay contiguous and a retry starts after them.
    """

    def __init__(
        self,
        push: FptPushCampaignOperator,
        record: PushProgress,
        owner: str,
        report: Any,
        cap: _LazyCap | None,
        costs: CostCounter,
    ) -> None:
        self.push, self.record, self.owner, self.report, self.cap = push, record, owner, report, cap
        self.costs = costs  # messages of the phones pushed, by telco (this try's and earlier tries')
        self.entries: list[str | int] = []  # decided lines, and indexes into ``phones``
        self.phones: list[tuple[int, str, int]] = []  # (row, phone, position) decided together
        self.from_earlier = False  # whether ``phones`` are an earlier try's
        self.next_first = record.covered_rows + 1
        self.earlier_chunks = _EarlierChunks(record)
        head = record.chunks[0] if record.chunks else None
        self.segments = head.messages // head.rows if head is not None and head.rows else None
        self.stopped: Exception | None = None  # the push failed: the rest of the list is accounted, then raised
        self.capped = 0

    def line(self, text: str) -> None:
        if self.entries:
            self.entries.append(text)
        else:
            self.report.write(text)

    def earlier(self, row: int, phone: str, position: int) -> None:
        """A phone an earlier try's chunk covers: a chunk without gaps pushed all its phones."""
        number, chunk = self.earlier_chunks.at(position)
        if self.cap is None or not chunk.span:
            self.costs.add(phone, self.segments or 1)
            self.line(csv_line(row, mask_phone(phone), "already_pushed", "", number, chunk.batch_id))
        else:
            self._decide_with(row, phone, position, from_earlier=True)

    def add(self, row: int, phone: str, position: int) -> None:
        if self.stopped is not None:
            self.line(csv_line(row, mask_phone(phone), "not_pushed", STOPPED, "", ""))
        else:
            self._decide_with(row, phone, position, from_earlier=False)

    def _decide_with(self, row: int, phone: str, position: int, *, from_earlier: bool) -> None:
        if self.phones and self.from_earlier != from_earlier:
            self.flush()
        self.from_earlier = from_earlier
        self.entries.append(len(self.phones))
        self.phones.append((row, phone, position))
        if len(self.phones) == self.push.chunk_size:
            self.flush()

    def flush(self) -> None:
        if self.phones:
            lines = self._earlier_lines() if self.from_earlier else self._push_lines()
            self.report.write("".join(entry if isinstance(entry, str) else lines[entry] for entry in self.entries))
        else:
            self.report.write("".join(entry for entry in self.entries if isinstance(entry, str)))
        self.entries, self.phones = [], []

    close = flush

    def _push_lines(self) -> list[str]:
        """Reserve the chunk's phones in the contact history, push the allowed ones, and say so row by row:
        ``pushed`` (chunk, BatchId), ``capped``, or if the push failed ``in_doubt`` / ``not_pushed``."""
        phones = [phone for _row, phone, _position in self.phones]
        allowed = self.cap.get().reserve(phones) if self.cap is not None else [True] * len(phones)
        chosen = [phone for phone, ok in zip(phones, allowed, strict=True) if ok]
        tail = ""
        if chosen:
            first, last = self.next_first, self.phones[-1][2]
            try:
                self.segments = self.push._push_chunk(
                    self.record, self.owner, chosen, first, last - first + 1, self.segments
                )
            except Exception as failure:  # reported row by row, raised once the rest of the list is accounted
                self.stopped = failure
            if self.stopped is None:
                self.next_first = last + 1
                count("phones.pushed", len(chosen), gateway="FPT")  # acknowledged, even if a later chunk fails
                self.costs.add_many(chosen, self.segments or 1)
                tail = csv_line("", "pushed", "", len(self.record.chunks), self.record.chunks[-1].batch_id)
            elif self.record.in_flight is not None:
                tail = csv_line("", "in_doubt", IN_DOUBT, "", "")
            else:
                tail = csv_line("", "not_pushed", f"not pushed: {self.stopped}", "", "")
        # else every phone is capped: nothing to push, and the next chunk covers these positions
        capped = "" if self.cap is None else csv_line("", "capped", capped_reason(self.cap.get().limit), "", "")
        self.capped += len(phones) - len(chosen)
        count(
            "phones.capped", len(phones) - len(chosen), gateway="FPT"
        )  # decided now (a retry re-reports, not re-counts)
        # a chunk's rows are numbers with a masked phone: no cell needs quoting, so one f-string each
        return [
            f"{row},{masked}{tail if ok else capped}"
            for (row, _phone, _position), masked, ok in zip(self.phones, mask_phones(phones), allowed, strict=True)
        ]

    def _earlier_lines(self) -> list[str]:
        """Rows an earlier try's chunk (one with gaps) covers: pushed if that try recorded them, else capped."""
        assert self.cap is not None  # only a cap makes an earlier chunk's rows need telling apart
        phones = [phone for _row, phone, _position in self.phones]
        cap = self.cap.get()
        recorded = cap.was_recorded(phones)
        capped = csv_line("", "capped", capped_reason(cap.limit), "", "")
        lines = []
        for (row, phone, position), masked, pushed in zip(self.phones, mask_phones(phones), recorded, strict=True):
            if pushed:
                self.costs.add(phone, self.segments or 1)
                number, chunk = self.earlier_chunks.at(position)
                lines.append(f"{row},{masked}{csv_line('', 'already_pushed', '', number, chunk.batch_id)}")
            else:
                self.capped += 1
                lines.append(f"{row},{masked}{capped}")
        return lines


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


def chunk_ranges(total: int, per_task: int) -> list[tuple[int, int]]:
    """``row_range`` values for ``FptPushCampaignOperator.partial(...).expand(row_range=...)``."""
    if per_task < 1:
        from airflow_provider_fptsms.gateways.errors import InvalidInputError

        raise InvalidInputError("per_task", per_task, "must be at least 1", "e.g. chunk_ranges(total, 100_000)")
    return [(start, min(start + per_task - 1, total)) for start in range(1, total + 1, per_task)]


__all__ = ["FptPushCampaignOperator", "chunk_label", "chunk_landed", "chunk_ranges", "planned_chunks"]
