"""FPT QC timing: approval lead in order hours, send windows, next valid slot, schedule validation.

Every test injects ``now``; the one test of the wall-clock default freezes it with time-machine.
Reference week (2026): Mon 15 June .. Sun 21 June, then Mon 22 June.
"""

from __future__ import annotations

import pickle
from datetime import date, datetime, time, timedelta, timezone

import pendulum
import pytest
import time_machine
from hypothesis import example, given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.schedule import (
    DEFAULT_APPROVAL_LEAD,
    SCHEDULE_FORMAT,
    VN_TZ,
    ScheduleError,
    approval_ready_at,
    in_send_window,
    next_valid_slot,
    validate_schedule,
)

FAST = settings(max_examples=200, derandomize=True, deadline=None)


def vn(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 6) -> pendulum.DateTime:
    return pendulum.datetime(2026, month, day, hour, minute, second, tz=VN_TZ)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


FRI_1600 = vn(19, 16)
MON_1100 = vn(22, 11)


def test_constants() -> None:
    assert DEFAULT_APPROVAL_LEAD.total_seconds() == 3 * 3600
    assert vn(19, 0).day_of_week == pendulum.FRIDAY  # the reference dates are what the table says


# --- approval lead, counted in order hours -------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "lead", "ready"),
    [
        pytest.param(FRI_1600, hours(3), MON_1100, id="friday-16:00-to-monday-11:00"),
        pytest.param(vn(20, 10), hours(3), vn(22, 11, 30), id="saturday-order"),
        pytest.param(vn(21, 23, 59), hours(3), vn(22, 11, 30), id="sunday-night-order"),
        pytest.param(vn(15, 7), hours(3), vn(15, 11, 30), id="weekday-before-08:30"),
        pytest.param(vn(15, 8, 30), hours(3), vn(15, 11, 30), id="exactly-at-opening"),
        pytest.param(vn(15, 13, 30), hours(3), vn(15, 16, 30), id="ends-exactly-at-close"),
        pytest.param(vn(15, 16, 30), hours(3), vn(16, 11, 30), id="exactly-at-close-waits"),
        pytest.param(vn(15, 16, 29), hours(3), vn(16, 11, 29), id="one-minute-before-close"),
        pytest.param(vn(15, 19), hours(3), vn(16, 11, 30), id="weekday-evening"),
        pytest.param(vn(15, 8, 30), hours(10), vn(16, 10, 30), id="long-lead-spans-days"),
        pytest.param(vn(19, 9), hours(24), vn(24, 9), id="24h-lead-is-three-order-days"),
        pytest.param(vn(15, 10), timedelta(0), vn(15, 10), id="zero-lead-in-order-hours"),
        pytest.param(vn(20, 10), timedelta(0), vn(22, 8, 30), id="zero-lead-on-weekend"),
        pytest.param(vn(15, 10, 0, 17), timedelta(minutes=90), vn(15, 11, 30, 17), id="seconds-kept"),
    ],
)
def test_approval_ready_at(now: pendulum.DateTime, lead: timedelta, ready: pendulum.DateTime) -> None:
    assert approval_ready_at(now, lead) == ready


def test_approval_ready_at_converts_other_zones_and_naive_input() -> None:
    assert approval_ready_at(datetime(2026, 6, 19, 9, 0, tzinfo=timezone.utc)) == MON_1100  # 16:00 VN
    assert approval_ready_at(datetime(2026, 6, 19, 16, 0)) == MON_1100  # naive = Vietnam time
    assert approval_ready_at(FRI_1600).timezone_name == VN_TZ


def test_negative_lead_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="lead"):
        approval_ready_at(FRI_1600, -hours(1))


# --- send windows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (time(7, 59, 59), False),
        (time(8, 0), True),
        (time(11, 30), True),
        (time(11, 30, 1), False),
        (time(12, 30), False),
        (time(13, 29, 59), False),
        (time(13, 30), True),
        (time(20, 0), True),
        (time(20, 0, 1), False),
        (time(23, 0), False),
        (time(0, 0), False),
    ],
)
def test_in_send_window_bounds_are_inclusive(moment: time, inside: bool) -> None:
    for day in (15, 20, 21):  # weekdays and weekends alike
        assert in_send_window(vn(day, moment.hour, moment.minute, moment.second)) is inside


def test_in_send_window_converts_time_zones() -> None:
    assert in_send_window(datetime(2026, 6, 20, 13, 0, tzinfo=timezone.utc))  # 20:00 VN
    assert not in_send_window(datetime(2026, 6, 20, 13, 1, tzinfo=timezone.utc))
    assert in_send_window(datetime(2026, 6, 20, 8, 0))  # naive = Vietnam time


# --- next valid slot -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "lead", "slot"),
    [
        pytest.param(FRI_1600, hours(3), MON_1100, id="friday-16:00"),
        pytest.param(vn(20, 10), hours(3), vn(22, 11, 30), id="saturday-ready-at-window-end"),
        pytest.param(vn(15, 8, 31), hours(3), vn(15, 13, 30), id="ready-11:31-waits-for-lunch-gap"),
        pytest.param(vn(15, 10), hours(3), vn(15, 13, 30), id="ready-in-lunch-gap"),
        pytest.param(vn(15, 10, 30), hours(3), vn(15, 13, 30), id="ready-exactly-13:30"),
        pytest.param(vn(15, 13), hours(3), vn(15, 16), id="afternoon"),
        pytest.param(vn(15, 9, 0, 1), hours(1), vn(15, 10, 1), id="rounds-up-to-the-minute"),
        pytest.param(vn(15, 10), timedelta(0), vn(15, 10, 1), id="zero-lead-strictly-future"),
        pytest.param(vn(15, 10, 0, 30), timedelta(0), vn(15, 10, 1), id="zero-lead-rounds-up"),
        pytest.param(vn(15, 12), timedelta(0), vn(15, 13, 30), id="zero-lead-at-lunch"),
        pytest.param(vn(19, 21), timedelta(0), vn(22, 8, 30), id="zero-lead-friday-night"),
    ],
)
def test_next_valid_slot(now: pendulum.DateTime, lead: timedelta, slot: pendulum.DateTime) -> None:
    assert next_valid_slot(now, lead) == slot


@pytest.mark.parametrize(
    ("now", "not_before", "slot"),
    [
        pytest.param(vn(15, 10), vn(15, 20, 30), vn(16, 8), id="evening-to-next-morning-08:00"),
        pytest.param(vn(15, 10), vn(15, 20, 0), vn(15, 20, 0), id="20:00-itself"),
        pytest.param(vn(15, 10), vn(15, 11, 45), vn(15, 13, 30), id="lunch-gap"),
        pytest.param(FRI_1600, vn(19, 20, 30), MON_1100, id="evening-but-not-ready-until-monday"),
        pytest.param(vn(15, 10), vn(15, 9), vn(15, 13, 30), id="not-before-in-the-past-is-ignored"),
        pytest.param(vn(15, 10), vn(20, 7, 59, 59), vn(20, 8), id="saturday-morning"),
    ],
)
def test_next_valid_slot_not_before(
    now: pendulum.DateTime, not_before: pendulum.DateTime, slot: pendulum.DateTime
) -> None:
    assert next_valid_slot(now, not_before=not_before) == slot


def test_wall_clock_default_is_only_used_when_now_is_omitted() -> None:
    with time_machine.travel(FRI_1600, tick=False):
        assert next_valid_slot() == MON_1100
        assert validate_schedule("2026-06-22 11:00") == MON_1100


# --- validate_schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-22 11:00",
        " 2026-06-22 11:00 ",
        "2026-06-22T11:00",
        "2026-06-22T11:00:00+07:00",
        "2026-06-22T04:00:00Z",
        "2026-06-22T04:00:45.123Z",  # seconds are dropped, as the wire format does
        datetime(2026, 6, 22, 11, 0),  # naive = Vietnam time
        datetime(2026, 6, 22, 4, 0, 59, tzinfo=timezone.utc),
        pendulum.datetime(2026, 6, 22, 6, 0, tz="Europe/Paris"),
        MON_1100,
    ],
)
def test_validate_schedule_accepts_every_input_form(value: datetime | str) -> None:
    result = validate_schedule(value, FRI_1600)
    assert result == MON_1100
    assert result.timezone_name == VN_TZ and result.second == 0 and result.microsecond == 0


@pytest.mark.parametrize(
    ("value", "problem", "next_slot"),
    [
        ("2026-06-22 10:59", "before approval can be ready (2026-06-22 11:00: a 3 h lead", "2026-06-22 11:00"),
        ("2026-06-20 09:00", "before approval", "2026-06-22 11:00"),  # Saturday: in a window, not approved
        ("2026-06-19 15:00", "not in the future", "2026-06-22 11:00"),
        ("2026-06-19 16:00", "not in the future", "2026-06-22 11:00"),  # now itself
        ("2026-06-22 20:01", "outside the send windows 08:00-11:30 or 13:30-20:00", "2026-06-23 08:00"),
        ("2026-06-22 12:00", "outside the send windows", "2026-06-22 13:30"),
        ("2026-06-23 07:59", "outside the send windows", "2026-06-23 08:00"),
        ("2026-06-19 20:30", "outside the send windows", "2026-06-22 11:00"),
        ("tomorrow", "is not a date-time", "2026-06-22 11:00"),
        ("2026-06-22", "is not a date-time", "2026-06-22 11:00"),  # a date alone has no time
        ("2026-06-22 25:00", "is not a date-time", "2026-06-22 11:00"),
        ("", "is not a date-time", "2026-06-22 11:00"),
        (20260622, "is not a date-time", "2026-06-22 11:00"),
        (date(2026, 6, 22), "is not a date-time", "2026-06-22 11:00"),
    ],
)
def test_validate_schedule_errors_name_the_next_slot(value: object, problem: str, next_slot: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(value, FRI_1600)  # type: ignore[arg-type]
    error = caught.value
    assert error.field == "schedule_time"
    assert problem in str(error)
    assert error.next_slot == next_slot and f"next valid slot is {next_slot}" in str(error)
    assert error.next_slot_at.strftime(SCHEDULE_FORMAT) == next_slot and error.next_slot_at.timezone_name == VN_TZ
    assert isinstance(error, InvalidInputError) and isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-06-23 08:00", True),
        ("2026-06-23 11:30", True),
        ("2026-06-23 11:31", False),
        ("2026-06-23 13:29", False),
        ("2026-06-23 13:30", True),
        ("2026-06-23 20:00", True),
        ("2026-06-23T20:00:59+07:00", True),  # truncated to 20:00
        ("2026-06-23 20:01", False),
        ("2026-06-27 08:00", True),  # Saturday sending is fine once approved
    ],
)
def test_validate_schedule_window_edges(value: str, ok: bool) -> None:
    if ok:
        assert validate_schedule(value, FRI_1600).strftime(SCHEDULE_FORMAT) == value[:16].replace("T", " ")
    else:
        with pytest.raises(ScheduleError, match="outside the send windows"):
            validate_schedule(value, FRI_1600)


def test_custom_lead_is_used_and_described() -> None:
    assert validate_schedule("2026-06-19 16:30", FRI_1600, timedelta(minutes=30)) == vn(19, 16, 30)
    with pytest.raises(ScheduleError, match="a 1 h 30 min lead") as caught:
        validate_schedule("2026-06-19 16:30", FRI_1600, timedelta(minutes=90))
    assert caught.value.next_slot == "2026-06-22 09:30"


def test_schedule_error_survives_pickling() -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule("2026-06-22 10:00", FRI_1600)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, ScheduleError)
    assert str(copy) == str(caught.value) and copy.next_slot == "2026-06-22 11:00" and copy.next_slot_at == MON_1100


# --- properties across week boundaries -----------------------------------------------------------

START = datetime(2026, 1, 5)  # a Monday; six weeks of orders, weekends included
SIX_WEEKS_MINUTES = 6 * 7 * 24 * 60
ZONES = (VN_TZ, "UTC", "America/New_York")


@st.composite
def clocks(draw: st.DrawFn) -> pendulum.DateTime:
    """An order time over six weeks: often on a whole minute (the edges), sometimes mid-minute."""
    minute = draw(st.integers(0, SIX_WEEKS_MINUTES))
    micros = draw(st.one_of(st.just(0), st.integers(0, 59_999_999)))
    naive = START + timedelta(minutes=minute, microseconds=micros)
    return pendulum.instance(naive, tz=VN_TZ).in_timezone(draw(st.sampled_from(ZONES)))


leads = st.one_of(
    st.integers(0, 600).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 36_000).map(lambda s: timedelta(seconds=s)),
)


def _order_time(start: datetime, end: datetime) -> timedelta:
    """Oracle: order hours (Mon-Fri 08:30-16:30) between two naive Vietnam wall times."""
    total, day = timedelta(0), start.date()
    while day <= end.date():
        if day.weekday() < 5:
            low = max(start, datetime.combine(day, time(8, 30)))
            high = min(end, datetime.combine(day, time(16, 30)))
            total += max(high - low, timedelta(0))
        day += timedelta(days=1)
    return total


def _oracle_valid(t: datetime, now: datetime, lead: timedelta) -> bool:
    """Oracle on naive Vietnam wall times: future, in a window, after enough order time (and an opening)."""
    in_window = time(8) <= t.time() <= time(11, 30) or time(13, 30) <= t.time() <= time(20)
    opened = _order_time(now, t) > timedelta(0) or (t.weekday() < 5 and time(8, 30) <= t.time() < time(16, 30))
    return t > now and in_window and _order_time(now, t) >= lead and opened


def _naive_vn(value: datetime) -> datetime:
    return pendulum.instance(value).in_timezone(VN_TZ).naive()


@FAST
@given(clocks(), leads)
@example(FRI_1600, hours(3))
@example(vn(19, 16, 30), timedelta(0))
def test_next_valid_slot_is_valid_and_the_minute_before_is_not(now: pendulum.DateTime, lead: timedelta) -> None:
    slot = next_valid_slot(now, lead)
    ready = approval_ready_at(now, lead)
    assert slot.timezone_name == VN_TZ and slot.second == 0 and slot.microsecond == 0
    assert slot > now and slot >= ready and in_send_window(slot)
    assert validate_schedule(slot, now, lead) == slot
    assert validate_schedule(slot.strftime(SCHEDULE_FORMAT), now, lead) == slot
    before = slot.subtract(minutes=1)
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(before, now, lead)
    assert caught.value.next_slot == slot.strftime(SCHEDULE_FORMAT)
    assert slot - ready < timedelta(hours=2, minutes=1)  # at worst the lunch gap, rounded up


@FAST
@given(clocks(), leads, st.integers(-24 * 60, 5 * 24 * 60))
def test_validate_schedule_matches_an_independent_oracle(now: pendulum.DateTime, lead: timedelta, offset: int) -> None:
    t = now.in_timezone(VN_TZ).set(second=0, microsecond=0).add(minutes=offset)
    expected = _oracle_valid(t.naive(), _naive_vn(now), lead)
    try:
        assert validate_schedule(t, now, lead) == t
        accepted = True
    except ScheduleError as error:
        accepted = False
        slot = error.next_slot_at
        assert _oracle_valid(slot.naive(), _naive_vn(now), lead)
        assert slot >= next_valid_slot(now, lead)
    assert accepted is expected
    if accepted:
        assert t >= next_valid_slot(now, lead)


@FAST
@given(clocks(), leads, leads)
def test_longer_lead_never_gives_an_earlier_slot(now: pendulum.DateTime, first: timedelta, second: timedelta) -> None:
    short, long = sorted((first, second))
    assert approval_ready_at(now, short) <= approval_ready_at(now, long)
    assert next_valid_slot(now, short) <= next_valid_slot(now, long)
