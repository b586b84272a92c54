"""The advertising frequency cap of Decree 91/2020/ND-CP: at most 3 QC messages to one number within 24 hours.

The rule is an exact *sliding window*: a new message at ``new`` is refused when some 24-hour
period ``[s, s + 24h)`` would then hold more than ``cap`` messages of the advertiser to that
number.  Periods are half-open, so two messages exactly 24 hours apart never share one: a
campaign every day at 09:00 is always allowed three times.

Why not the simpler "count the messages within 24 hours either side of ``new``": that counts
messages that can never fall in one period together.  With one message 23 h before ``new`` and
two 23 h after it, the ±24 h count is 3 (so a cap of 3 would refuse ``new``), yet no 24-hour
period holds more than 3 messages with ``new`` added (the earlier one and the later two are
46 h apart).  Refusing there would drop phones the law allows.

Scheduled messages count wherever they lie in time: a campaign already scheduled for tomorrow
09:00 counts against one at 20:00 today, exactly like one sent this morning.

Pure: no Airflow, no network, no database.  Every datetime must be timezone-aware (ScheduleTimes
are Vietnam time; mixing naive and aware values would shift a window by 7 hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from airflow_provider_fptsms.gateways.errors import InvalidInputError

__all__ = ["DEFAULT_MAX_PER_24H", "WINDOW", "validate_cap", "would_exceed"]

#: Decree 91/2020/ND-CP, article on advertising messages: 3 per number per 24 hours (unless the subscriber agreed).
DEFAULT_MAX_PER_24H = 3
#: The length of one period; periods are half-open ``[s, s + WINDOW)``.
WINDOW = timedelta(hours=24)


def validate_cap(cap: object, field: str = "max_per_24h") -> int:
    """``cap`` as a positive int, else :class:`InvalidInputError` naming ``field`` (``True`` is not a number)."""
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise InvalidInputError(
            field,
            cap,
            "the frequency cap must be a whole number of messages, at least 1",
            f"use {DEFAULT_MAX_PER_24H} (the legal maximum of Decree 91/2020/ND-CP) or a smaller positive number",
        )
    return cap


def require_aware(value: object, field: str) -> datetime:
    """``value`` if it is a timezone-aware datetime, else :class:`InvalidInputError` naming ``field``."""
    if not isinstance(value, datetime):
        raise InvalidInputError(field, value, "expected a timezone-aware datetime", "pass a datetime with tzinfo")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            field,
            value.isoformat(),
            "a naive datetime has no time zone, so its 24-hour window is ambiguous",
            "attach the zone, e.g. value.replace(tzinfo=ZoneInfo('Asia/Ho_Chi_Minh')) for a ScheduleTime",
        )
    return value


def would_exceed(existing: Sequence[datetime], new: datetime, cap: int) -> bool:
    """True if one more message at ``new`` would put more than ``cap`` messages in some 24-hour period.

    ``existing`` holds the other messages (sent or scheduled, any order) of the same advertiser
    to the same number; only those strictly within 24 h of ``new`` can share a period with it.
    A period that holds ``new`` can always be slid right until it starts at one of its messages
    without losing any, so checking the periods that start at each message time ``<= new`` is exact.
    """
    cap = validate_cap(cap)
    new = require_aware(new, "new")
    low, high = new - WINDOW, new + WINDOW
    nearby: list[datetime] = []
    for index, when in enumerate(existing):
        when = require_aware(when, f"existing[{index}]")
        if low < when < high:
            nearby.append(when)
    if len(nearby) < cap:
        return False  # even all of them plus the new one fit in the cap
    times = sorted([*nearby, new])
    # Two pointers: for each start ``times[first] <= new``, count the messages in [start, start + 24h).
    end = 0
    for first, start in enumerate(times):
        if start > new:
            break
        end = max(end, first)
        while end < len(times) and times[end] < start + WINDOW:
            end += 1
        if end - first > cap:
            return True
    return False
