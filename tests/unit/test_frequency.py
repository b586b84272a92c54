"""The 3-per-24h advertising cap (Decree 91/2020/ND-CP) as a pure rule: the law's cases, the boundary, a brute force."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.frequency import DEFAULT_MAX_PER_24H, WINDOW, validate_cap, would_exceed

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2030, 3, 4, 12, 0, tzinfo=VN)
H = timedelta(hours=1)
DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=400)


def test_constants_are_the_law() -> None:
    assert DEFAULT_MAX_PER_24H == 3
    assert timedelta(hours=24) == WINDOW


# ---------------------------------------------------------------------------- the law's wording


def test_three_in_the_last_24_hours_refuse_a_fourth() -> None:
    assert would_exceed([NOW - 23 * H, NOW - 10 * H, NOW - 1 * H], NOW, 3)


def test_two_in_the_last_24_hours_allow_a_third() -> None:
    assert not would_exceed([NOW - 23 * H, NOW - 1 * H], NOW, 3)


def test_no_history_is_allowed() -> None:
    assert not would_exceed([], NOW, 3)
    assert not would_exceed([], NOW, 1)


def test_three_at_the_same_instant_refuse_a_fourth_there() -> None:
    assert would_exceed([NOW, NOW, NOW], NOW, 3)
    assert not would_exceed([NOW, NOW], NOW, 3)


def test_sends_24_hours_or_more_away_do_not_count() -> None:
    many = [NOW - 24 * H] * 5 + [NOW + 24 * H] * 5 + [NOW - 30 * H, NOW + 100 * H]
    assert not would_exceed(many, NOW, 1)


# ---------------------------------------------------------------------------- the boundary: [s, s + 24h)


def test_messages_exactly_24_hours_apart_are_in_different_periods() -> None:
    # Daily at 12:00: yesterday's message and today's never share a half-open period.
    assert not would_exceed([NOW - 24 * H], NOW, 1)
    assert not would_exceed([NOW + 24 * H], NOW, 1)


def test_one_microsecond_inside_the_window_shares_a_period() -> None:
    tick = timedelta(microseconds=1)
    assert would_exceed([NOW - 24 * H + tick], NOW, 1)
    assert would_exceed([NOW + 24 * H - tick], NOW, 1)


def test_the_period_start_is_included_and_its_end_excluded() -> None:
    # [NOW-24h, NOW) holds the three old ones but not NOW; every period that holds NOW holds at most 3.
    assert not would_exceed([NOW - 24 * H, NOW - 2 * H, NOW - 1 * H], NOW, 3)
    # Move the oldest one microsecond later: [NOW-24h+1us, NOW+1us) now holds all four.
    assert would_exceed([NOW - 24 * H + timedelta(microseconds=1), NOW - 2 * H, NOW - 1 * H], NOW, 3)


# ---------------------------------------------------------------------------- future campaigns count


def test_a_campaign_scheduled_for_tomorrow_counts_against_one_tonight() -> None:
    tonight = datetime(2030, 3, 4, 20, 0, tzinfo=VN)
    tomorrow_nine = datetime(2030, 3, 5, 9, 0, tzinfo=VN)
    assert would_exceed([tomorrow_nine], tonight, 1)
    # Two this morning and one tomorrow at 09:00: [10:00, 10:00 tomorrow) would hold four.
    morning = [datetime(2030, 3, 4, 10, 0, tzinfo=VN), datetime(2030, 3, 4, 11, 0, tzinfo=VN)]
    assert would_exceed([*morning, tomorrow_nine], tonight, 3)
    # Without tomorrow's campaign tonight's is the third: allowed.
    assert not would_exceed(morning, tonight, 3)


def test_only_future_sends_can_exceed_too() -> None:
    assert would_exceed([NOW + 1 * H, NOW + 2 * H, NOW + 3 * H], NOW, 3)
    assert not would_exceed([NOW + 1 * H, NOW + 2 * H], NOW, 3)


def test_a_sliding_window_not_plus_minus_24_hours() -> None:
    """One message 23 h before and two 23 h after: the ±24 h count is 3, yet no period holds four."""
    existing = [NOW - 23 * H, NOW + 23 * H, NOW + 23 * H + timedelta(minutes=5)]
    assert sum(1 for t in existing if abs(t - NOW) < WINDOW) == 3  # what a "±24 h" rule would refuse on
    assert not would_exceed(existing, NOW, 3)
    # Pull the later pair in, within 24 h of the earlier one: [NOW-23h, NOW+1h) holds four.
    assert would_exceed([NOW - 23 * H, NOW + 30 * timedelta(minutes=1), NOW + 50 * timedelta(minutes=1)], NOW, 3)


def test_an_existing_violation_far_from_new_does_not_refuse_it() -> None:
    # Four sends (a past breach, or a subscriber who agreed to more) 30 h before: no period holds them and NOW.
    assert not would_exceed([NOW - 30 * H] * 4, NOW, 3)


# ---------------------------------------------------------------------------- cap=1, order, zones


def test_cap_one_refuses_any_other_send_within_24_hours() -> None:
    for offset in (-23 * H, -1 * H, timedelta(0), 1 * H, 23 * H + 59 * timedelta(minutes=1)):
        assert would_exceed([NOW + offset], NOW, 1), offset
    assert not would_exceed([NOW - 24 * H, NOW + 24 * H], NOW, 1)


def test_input_order_does_not_matter() -> None:
    existing = [NOW - 20 * H, NOW + 3 * H, NOW - 5 * H, NOW + 26 * H, NOW - 25 * H]
    expected = would_exceed(sorted(existing), NOW, 3)
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(existing)
        assert would_exceed(existing, NOW, 3) == expected
    assert expected  # [NOW-20h, NOW+4h) holds NOW-20h, NOW-5h, NOW, NOW+3h


def test_time_zones_compare_as_instants() -> None:
    in_utc = [(NOW - 1 * H).astimezone(timezone.utc), (NOW - 2 * H).astimezone(timezone.utc)]
    assert would_exceed(in_utc, NOW, 2)
    assert would_exceed(in_utc, NOW.astimezone(timezone.utc), 2)


def test_any_sequence_works() -> None:
    assert would_exceed((NOW - 1 * H,), NOW, 1)


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize("cap", [0, -1, True, False, 1.5, "3", None])
def test_cap_must_be_a_positive_int(cap: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        would_exceed([], NOW, cap)  # type: ignore[arg-type]
    assert caught.value.field == "max_per_24h"
    assert "max_per_24h" in str(caught.value)
    assert "Next step" in str(caught.value)


def test_validate_cap_names_the_callers_field() -> None:
    assert validate_cap(3) == 3
    with pytest.raises(InvalidInputError) as caught:
        validate_cap(0, "cap")
    assert caught.value.field == "cap"


def test_naive_new_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        would_exceed([], datetime(2030, 3, 4, 12, 0), 3)
    assert caught.value.field == "new"
    assert "naive" in str(caught.value)
    assert "ZoneInfo" in str(caught.value)


def test_naive_existing_is_refused_with_its_index() -> None:
    with pytest.raises(InvalidInputError) as caught:
        would_exceed([NOW, datetime(2030, 3, 4, 11, 0)], NOW, 3)
    assert caught.value.field == "existing[1]"


def test_not_a_datetime_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        would_exceed(["2030-03-04 12:00"], NOW, 3)  # type: ignore[list-item]
    assert caught.value.field == "existing[0]"


# ---------------------------------------------------------------------------- against a brute force

MINUTE = timedelta(minutes=1)
DAY_MINUTES = 24 * 60


def brute_force(existing: list[int], new: int, cap: int) -> bool:
    """Every integer-minute period [s, s + 1440) that holds ``new``: enough for integer-minute sends."""
    times = [*existing, new]
    return any(sum(1 for t in times if s <= t < s + DAY_MINUTES) > cap for s in range(new - DAY_MINUTES + 1, new + 1))


def at(minutes: int) -> datetime:
    return NOW + minutes * MINUTE


offsets = st.integers(min_value=-2 * DAY_MINUTES, max_value=2 * DAY_MINUTES)
# Many sends close together, so that the cap is often reached; exact ±24 h offsets are common.
clustered = st.one_of(offsets, st.sampled_from([-DAY_MINUTES, DAY_MINUTES, -DAY_MINUTES + 1, DAY_MINUTES - 1, 0]))


@DETERMINISTIC
@given(existing=st.lists(clustered, max_size=12), new=st.integers(-60, 60), cap=st.integers(1, 5))
def test_matches_a_brute_force(existing: list[int], new: int, cap: int) -> None:
    assert would_exceed([at(m) for m in existing], at(new), cap) == brute_force(existing, new, cap)


def violates_anywhere(times: list[int], cap: int) -> bool:
    """Some period (anywhere, not only around one message) holds more than ``cap``."""
    return any(sum(1 for t in times if s <= t < s + DAY_MINUTES) > cap for s in times)


@DETERMINISTIC
@given(requests=st.lists(offsets, max_size=20), cap=st.integers(1, 4))
def test_admitting_one_by_one_never_breaks_the_cap(requests: list[int], cap: int) -> None:
    """What the contact history relies on: accept each request iff it does not exceed, in any order -> no breach."""
    accepted: list[int] = []
    for minute in requests:
        if not would_exceed([at(m) for m in accepted], at(minute), cap):
            accepted.append(minute)
    assert not violates_anywhere(accepted, cap)


@DETERMINISTIC
@given(existing=st.lists(offsets, max_size=10), new=st.integers(-60, 60), cap=st.integers(1, 4))
def test_fewer_sends_or_a_higher_cap_never_refuse_more(existing: list[int], new: int, cap: int) -> None:
    full = would_exceed([at(m) for m in existing], at(new), cap)
    assert would_exceed([at(m) for m in existing], at(new), cap + 1) <= full
    if existing:
        assert would_exceed([at(m) for m in existing[1:]], at(new), cap) <= full
