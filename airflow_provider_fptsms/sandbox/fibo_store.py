"""What the simulated Fibo remembers of each message it took, and the status each has on the sandbox clock.

A message is Pending (0) until ``dlr_delay`` seconds after Fibo took it, then final: SentSuccess (2), or
SentFailed (3) for the phones ``delivery_fails`` picks at ``dlr_failure_rate`` (the same phones the FPT
reports fail). The enum is the v2.0 guide's (FIBO_API_V2.md: "0 Pending, 1 Sending, 2 SentSuccess, 3
SentFailed, ..."; final 2..11). Read at query time, so changing ``dlr_delay`` or moving the clock applies
to messages already sent, as it does for FPT's delivery reports.

A test-mode message (SendSMS ``serviceType=3``: "stored, not delivered") is stored and stays Pending: the
guide says it is never delivered and names no status for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from airflow_provider_fptsms.gateways.fpt import VN_TZ
from airflow_provider_fptsms.sandbox.config import Clock, SandboxConfig
from airflow_provider_fptsms.sandbox.ledger import delivery_fails

PENDING, SENT_SUCCESS, SENT_FAILED = 0, 2, 3


@dataclass(frozen=True, slots=True)
class FiboRecord:
    sms_id: int
    account: str
    #: the client's smsGUID; "" for the seed's default "0" (line 91: "smsGUID : 0 (mặc định)"), never looked up
    guid: str
    phone: str  # 84xxxxxxxxx
    message: str
    sender: str  # "" for a long-code send (SendSMS, SendBulkSMS, senderName n/a)
    service_type: str
    accepted_at: float
    test_mode: bool = False


@dataclass(frozen=True)
class Filters:
    """GetClientSMSListOfPage's filters; None = not given ("Nếu không có thì để trống": empty means all)."""

    key: str = ""
    from_day: date | None = None
    to_day: date | None = None
    status: int | None = None
    service_type: int | None = None


class FiboStore:
    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self._records: dict[str, list[FiboRecord]] = defaultdict(list)
        self._by_guid: dict[tuple[str, str], list[FiboRecord]] = defaultdict(list)
        self._next_id = 1

    def add(
        self,
        account: str,
        guid: str,
        phone: str,
        message: str,
        sender: str,
        service_type: str,
        *,
        test_mode: bool = False,
    ) -> FiboRecord:
        record = FiboRecord(
            self._next_id, account, guid, phone, message, sender, service_type, self.clock.now(), test_mode
        )
        self._next_id += 1
        self._records[account].append(record)
        if guid:
            self._by_guid[(account, guid)].append(record)
        return record

    # ------------------------------------------------------------------ status

    def final_at(self, record: FiboRecord) -> float | None:
        """When the message reaches its final status (None: never, test mode)."""
        return None if record.test_mode else record.accepted_at + self.config.dlr_delay

    def status(self, record: FiboRecord) -> int:
        final_at = self.final_at(record)
        if final_at is None or self.clock.now() < final_at:
            return PENDING
        return SENT_FAILED if delivery_fails(record.phone, self.config.dlr_failure_rate) else SENT_SUCCESS

    def totals(self, account: str) -> tuple[int, int, int]:
        """(success, failed, pending) over every message of the account: the seed's ``505|6|0`` (line 124)."""
        success = failed = pending = 0
        for record in self._records.get(account, ()):
            status = self.status(record)
            if status == SENT_SUCCESS:
                success += 1
            elif status == PENDING:
                pending += 1
            else:
                failed += 1
        return success, failed, pending

    # ------------------------------------------------------------------ queries

    def by_guids(self, account: str, guids: Iterable[str]) -> list[FiboRecord]:
        """Each known GUID's messages, in the order asked (a GUID reused by the client: one row per message)."""
        found: list[FiboRecord] = []
        for guid in dict.fromkeys(guids):
            found.extend(self._by_guid.get((account, guid), ()) if guid else ())
        return found

    def since(self, account: str, seconds: float) -> list[FiboRecord]:
        cutoff = self.clock.now() - seconds
        return [r for r in self._records.get(account, ()) if r.accepted_at >= cutoff]

    def matching(self, account: str, filters: Filters) -> list[FiboRecord]:
        """History, newest first. ``key`` matches the phone (as 84... or 0...) or the text, as the guide's example
        ``key="0905"`` for the messages to one number; dates are Vietnam days, both ends included."""
        chosen = []
        for record in reversed(self._records.get(account, ())):
            day = datetime.fromtimestamp(record.accepted_at, VN_TZ).date()
            if (filters.from_day and day < filters.from_day) or (filters.to_day and day > filters.to_day):
                continue
            if filters.status is not None and self.status(record) != filters.status:
                continue
            if filters.service_type is not None and record.service_type != str(filters.service_type):
                continue
            if filters.key and not any(
                filters.key in text for text in (record.phone, "0" + record.phone[2:], record.message)
            ):
                continue
            chosen.append(record)
        return chosen

    def row(self, record: FiboRecord) -> dict[str, object]:
        """One GetSMSSentList row (FIBO_API_V2.md: SMSID, SMSGUID, PhoneNumber, Message, CreatedDate, SentDate,
        SMSStatus); dates ISO with the +07:00 offset ("2008-05-16T09:23:00+07:00"); SentDate empty until final."""
        final_at = self.final_at(record)
        sent = final_at is not None and self.clock.now() >= final_at
        return {
            "SMSID": record.sms_id,
            "SMSGUID": record.guid,
            "PhoneNumber": record.phone,
            "Message": record.message,
            "CreatedDate": iso(record.accepted_at),
            "SentDate": iso(final_at) if sent and final_at is not None else "",
            "SMSStatus": self.status(record),
        }


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, VN_TZ).isoformat(timespec="seconds")
