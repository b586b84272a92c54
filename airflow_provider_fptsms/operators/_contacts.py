"""The QC push's frequency cap, wired up: which contact history, which advertiser, which ScheduleTime.

The rule itself is :mod:`airflow_provider_fptsms.sms.frequency`'s and the durable counting
:mod:`airflow_provider_fptsms.contact_history`'s; this module only gathers what they need from the
operator, the connections and the campaign, once per task try.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.gateways.errors import InvalidInputError

if TYPE_CHECKING:
    from airflow_provider_fptsms.contact_history import ContactHistory


@dataclass
class ContactCap:
    """One campaign's view of the contact history: reserve its phones, or ask what is already recorded."""

    history: ContactHistory
    advertiser: str
    campaign: str
    schedule_time: datetime
    limit: int

    def reserve(self, phones: Sequence[str]) -> list[bool]:
        """Which of ``phones`` this campaign may advertise to (and records them): False means capped."""
        return list(self.history.reserve(self.advertiser, self.campaign, self.schedule_time, phones, self.limit))

    def was_recorded(self, phones: Sequence[str]) -> list[bool]:
        """Which of ``phones`` an earlier try of this campaign recorded (so pushed, when its chunk was)."""
        return list(self.history.was_recorded(self.advertiser, self.campaign, phones))

    def capped(self, phones: Sequence[str]) -> list[bool]:
        """Which of ``phones`` :meth:`reserve` would refuse (True: capped), recording nothing (a preview)."""
        return list(self.history.capped(self.advertiser, self.campaign, self.schedule_time, phones, self.limit))


def contact_cap(
    operator: Any, campaign: str, schedule_time: str | datetime | None, limit: int, *, status_time: str | None = None
) -> ContactCap:
    """The cap for ``campaign``: the operator's ``advertiser`` (default: the FPT connection's brandname, else
    its client id), the ScheduleTime given (else ``status_time``, FPT's SendingTime) and its contact history."""
    from airflow_provider_fptsms.contact_history import ContactHistory
    from airflow_provider_fptsms.sms.frequency import validate_cap
    from airflow_provider_fptsms.sms.schedule import parse_vn_time

    limit = validate_cap(limit)
    moment = parse_vn_time(schedule_time if schedule_time is not None else status_time)
    if moment is None:
        raise InvalidInputError(
            "schedule_time",
            schedule_time if schedule_time is not None else status_time,
            "is needed to count the 24 hours around the campaign's send, and is not a date-time",
            "pass schedule_time= ('YYYY-MM-DD HH:mm' Vietnam time, e.g. the create task's), or max_per_24h=None",
        )
    settings = operator.hook.settings
    advertiser = operator.advertiser or settings.brandname or settings.client_id
    history = ContactHistory(operator.contact_history_db, key=_key(operator.contact_history_key_conn_id))
    return ContactCap(history, str(advertiser), campaign, moment, limit)


def _key(conn_id: str | None) -> str | None:
    """The hashing key from a connection's password, when one is named (else the history's own default)."""
    if not conn_id:
        return None
    from airflow.sdk import BaseHook

    from airflow_provider_fptsms.hooks._http import mask

    password = BaseHook.get_connection(conn_id).password
    if not password:
        raise InvalidInputError(
            "contact_history_key_conn_id",
            conn_id,
            "has no password: the password is the key that hashes phones in the contact history",
            "set a long random password on that connection (the same for every worker)",
        )
    mask(password)
    return password
