"""FPT QC (advertising) campaign timing: when an order can be approved, and when it may be sent.

The rules, all in Vietnam time (Asia/Ho_Chi_Minh, UTC+7, no DST):

* telcos take orders Monday-Friday 08:30-16:30, and approval needs a lead time (3 h by default)
  counted in those order hours only: ordered Friday 16:00 with a 3 h lead -> ready Monday 11:00;
* messages go out any day inside 08:00-11:30 or 13:30-20:00, both bounds included (11:30 and 20:00
  themselves are allowed, as the sandbox accepts them);
* advertising (QC) may only go out 07:00-22:00 (Decree 91/2020/ND-CP, :mod:`.compliance`); the windows
  above are inside those hours, and a time outside them is refused naming the law;
* ``ScheduleTime`` has minute precision (``YYYY-MM-DD HH:mm``) and must be strictly in the future.

Every function takes ``now`` explicitly so the rules can be tested with any clock; only the API
edges (:func:`next_valid_slot`, :func:`validate_schedule`) read the wall clock when it is omitted.
Public holidays are not modelled: telcos may take longer around Tết.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pendulum

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.compliance import advertising_hours_problem

__all__ = [
    "DEFAULT_APPROVAL_LEAD",
    "ORDER_CLOSE",
    "ORDER_OPEN",
    "ORDER_WEEKDAYS",
    "SCHEDULE_FORMAT",
    "SEND_WINDOWS",
    "VN_TZ",
    "ScheduleError",
    "approval_ready_at",
    "describe_vn_time",
    "from_now",
    "in_send_window",
    "next_valid_slot",
    "parse_vn_time",
    "validate_schedule",
]

VN_TZ = "Asia/Ho_Chi_Minh"
SCHEDULE_FORMAT = "%Y-%m-%d %H:%M"  # FPT's "yyyy-mm-dd HH:ii"

#: Days telcos take orders (``datetime.weekday()``: Monday is 0).
ORDER_WEEKDAYS: frozenset[int] = frozenset(range(5))
ORDER_OPEN = time(8, 30)
ORDER_CLOSE = time(16, 30)
#: Inclusive send windows, every day of the week.
SEND_WINDOWS: tuple[tuple[time, time], ...] = ((time(8, 0), time(11, 30)), (time(13, 30), time(20, 0)))
DEFAULT_APPROVAL_LEAD = pendulum.duration(hours=3)

_WINDOWS_TEXT = " or ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in SEND_WINDOWS)


class ScheduleError(InvalidInputError):
    """A ``ScheduleTime`` FPT would refuse; ``next_slot`` (``YYYY-MM-DD HH:mm``) is the earliest one it accepts."""

    def __init__(self, value: object, problem: str, next_slot: datetime) -> None:
        #: the earliest valid slot as a Vietnam-time DateTime, ready to pass back in.
        self.next_slot_at = _vn(next_slot)
        #: the same slot in FPT's format.
        self.next_slot = self.next_slot_at.strftime(SCHEDULE_FORMAT)
        next_step = (
            f"the next valid slot is {self.next_slot} (Vietnam time); use it or a later time inside {_WINDOWS_TEXT}"
        )
        super().__init__("schedule_time", value, problem, next_step)


def _vn(value: datetime) -> pendulum.DateTime:
    """Any datetime as a Vietnam-time pendulum DateTime; a naive one is taken as Vietnam wall time."""
    if value.tzinfo is None:
        return pendulum.instance(value, tz=VN_TZ)
    return pendulum.instance(value).in_timezone(VN_TZ)


def _now(now: datetime | None) -> pendulum.DateTime:
    return pendulum.now(VN_TZ) if now is None else _vn(now)


def _at(day: pendulum.DateTime, moment: time) -> pendulum.DateTime:
    return day.set(hour=moment.hour, minute=moment.minute, second=0, microsecond=0)


def _fmt(value: datetime) -> str:
    return value.strftime(SCHEDULE_FORMAT)


def _order_hours_from(t: pendulum.DateTime) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """(start, close) of the order-hours stretch open at ``t`` (start = ``t``) or the next one to open.

    Order hours are half-open for starting the count: an order at 16:30 sharp waits for the next opening.
    """
    day = t.start_of("day")
    while True:
        if day.weekday() in ORDER_WEEKDAYS:
            opening, closing = _at(day, ORDER_OPEN), _at(day, ORDER_CLOSE)
            if t < closing:
                return max(t, opening), closing
        day = day.add(days=1)


def approval_ready_at(now: datetime, lead: timedelta = DEFAULT_APPROVAL_LEAD) -> pendulum.DateTime:
    """When a campaign ordered at ``now`` can be approved: ``lead`` counted in order hours only."""
    if lead < timedelta(0):
        raise InvalidInputError(
            "lead", lead, "must not be negative", "pass a duration such as pendulum.duration(hours=3)"
        )
    remaining, cursor = lead, _vn(now)
    while True:
        start, closing = _order_hours_from(cursor)
        if remaining <= closing - start:
            return start + remaining
        remaining -= closing - start
        cursor = closing


def in_send_window(t: datetime) -> bool:
    """True when ``t`` (naive = Vietnam time) falls inside a send window, bounds included."""
    moment = _vn(t).time().replace(tzinfo=None)
    return any(start <= moment <= end for start, end in SEND_WINDOWS)


def _ceil_minute(t: pendulum.DateTime) -> pendulum.DateTime:
    floor = t.set(second=0, microsecond=0)
    return floor if floor == t else floor.add(minutes=1)


def _first_send_minute(t: pendulum.DateTime) -> pendulum.DateTime:
    """The first moment >= ``t`` (minute-aligned) inside a send window."""
    for start, end in SEND_WINDOWS:
        if t.time() <= end:
            return max(t, _at(t, start))
    return _at(t.add(days=1), SEND_WINDOWS[0][0])


def next_valid_slot(
    now: datetime | None = None, lead: timedelta = DEFAULT_APPROVAL_LEAD, *, not_before: datetime | None = None
) -> pendulum.DateTime:
    """The earliest ``ScheduleTime`` FPT accepts for an order placed at ``now``, in Vietnam time.

    That is the first whole minute at or after :func:`approval_ready_at` (and ``not_before``, when
    given: "tonight 21:00 is too late, what is the next slot after it?"), strictly after ``now``
    (matters only with a zero lead), and inside a send window.
    """
    current = _now(now)
    earliest = approval_ready_at(current, lead)
    if not_before is not None:
        earliest = max(earliest, _vn(not_before))
    candidate = _ceil_minute(earliest)
    if candidate <= current:
        candidate = candidate.add(minutes=1)
    return _first_send_minute(candidate)


def _parse(value: object) -> pendulum.DateTime | None:
    """A datetime (naive = Vietnam time), ``'YYYY-MM-DD HH:mm'`` or an ISO 8601 date-time; else None."""
    if isinstance(value, datetime):
        return _vn(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return _vn(datetime.strptime(text, SCHEDULE_FORMAT))
    except ValueError:
        pass
    try:
        parsed = pendulum.parse(text, tz=VN_TZ, exact=True)
    except ValueError:  # pendulum's ParserError is a ValueError
        return None
    return _vn(parsed) if isinstance(parsed, datetime) else None


def parse_vn_time(value: object) -> pendulum.DateTime | None:
    """A ScheduleTime / SendingTime as Vietnam time: a datetime (naive = Vietnam time),
    ``'YYYY-MM-DD HH:mm'`` or ISO 8601 text; None for anything else (no exception: it reads gateway replies)."""
    return _parse(value)


def _shown(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def validate_schedule(
    t: datetime | str, now: datetime | None = None, lead: timedelta = DEFAULT_APPROVAL_LEAD
) -> pendulum.DateTime:
    """``t`` as the Vietnam-time minute FPT will send at, or :class:`ScheduleError` naming the next valid slot.

    Seconds are dropped first (the wire format has none), then the minute must be strictly after
    ``now``, inside a send window, and not before approval can be ready. The error's ``next_slot``
    is the first valid slot at or after ``t`` (or after ``now`` when ``t`` is unreadable or past).
    """
    current = _now(now)
    parsed = _parse(t)
    if parsed is None:
        unreadable = "is not a date-time ('YYYY-MM-DD HH:mm' Vietnam time, or ISO 8601)"
        raise ScheduleError(_shown(t), unreadable, next_valid_slot(current, lead))
    moment = parsed.set(second=0, microsecond=0)
    problem = _schedule_problem(moment, current, lead)
    if problem is not None:
        raise ScheduleError(_shown(t), problem, next_valid_slot(current, lead, not_before=moment))
    return moment


def _schedule_problem(moment: pendulum.DateTime, now: pendulum.DateTime, lead: timedelta) -> str | None:
    if moment <= now:
        return f"{_fmt(moment)} is not in the future (now is {now:%Y-%m-%d %H:%M:%S})"
    law = advertising_hours_problem(moment)  # the decree's hours, named on their own: they outlive FPT's windows
    if law is not None:
        return law
    if not in_send_window(moment):
        return f"{_fmt(moment)} is outside the send windows {_WINDOWS_TEXT}"
    ready = approval_ready_at(now, lead)
    if moment < ready:
        return (
            f"{_fmt(moment)} is before approval can be ready ({_fmt(_ceil_minute(ready))}: a {_hours(lead)} lead "
            f"counted in order hours, Mon-Fri {ORDER_OPEN:%H:%M}-{ORDER_CLOSE:%H:%M})"
        )
    return None


def _hours(lead: timedelta) -> str:
    minutes = int(lead.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d} min"


def from_now(moment: datetime, now: datetime | None = None) -> str:
    """How far ``moment`` is from ``now``, as a person reads it in a log: ``19 h from now``, ``25 min ago``.

    Coarse on purpose (a wait of days is polled every few minutes): minutes below an hour, hours and
    minutes below 10 h, whole hours below 48 h, then days. Naive datetimes are Vietnam time.
    """
    seconds = (_vn(moment) - _now(now)).total_seconds()
    suffix = "from now" if seconds >= 0 else "ago"
    return f"{_duration(abs(seconds))} {suffix}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if seconds < 60:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 10:
        return f"{hours} h" if not rest else f"{hours} h {rest} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    days = seconds / 86400
    return f"{days:.0f} days" if days >= 10 else f"{days:.1f} days"


def describe_vn_time(value: datetime | str | None, now: datetime | None = None) -> str:
    """A time for a log line: ``2026-12-02 09:43 Vietnam time (19 h from now)``.

    ``value`` may be what ``detail-ads`` returns as ``SendingTime`` (``YYYY-MM-DD HH:mm[:ss]``, any ISO
    8601) or a datetime (naive = Vietnam time). A text that is no time comes back as it is, shortened.
    """
    if value is None or value == "":
        return "unknown"
    moment = _parse(value)
    if moment is None:
        text = str(value).strip()
        return repr(text if len(text) <= 40 else text[:37] + "...")
    return f"{_fmt(moment)} Vietnam time ({from_now(moment, now)})"
