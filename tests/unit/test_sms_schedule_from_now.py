"""``from_now`` / ``describe_vn_time``: the "in N h" of the sensors' log lines, with an injected ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_fptsms.sms.schedule import VN_TZ, describe_vn_time, from_now, parse_vn_time

NOW = pendulum.datetime(2026, 12, 1, 14, 43, tz=VN_TZ)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        pytest.param(timedelta(seconds=20), "under a minute from now", id="seconds"),
        pytest.param(timedelta(minutes=7), "7 min from now", id="minutes"),
        pytest.param(timedelta(minutes=59, seconds=40), "1 h from now", id="rounds-up-to-an-hour"),
        pytest.param(timedelta(hours=3, minutes=32), "3 h 32 min from now", id="hours-and-minutes"),
        pytest.param(timedelta(hours=19), "19 h from now", id="whole-hours"),
        pytest.param(timedelta(hours=90), "3.8 days from now", id="days"),
        pytest.param(timedelta(days=30), "30 days from now", id="many-days"),
        pytest.param(-timedelta(minutes=43), "43 min ago", id="past"),
    ],
)
def test_from_now(delta: timedelta, text: str) -> None:
    assert from_now(NOW + delta, NOW) == text


def test_naive_times_are_vietnam_time_and_aware_ones_are_converted() -> None:
    assert from_now(datetime(2026, 12, 2, 9, 43), NOW) == "19 h from now"
    assert from_now(datetime(2026, 12, 2, 2, 43, tzinfo=timezone.utc), NOW) == "19 h from now"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-12-02 09:43", "2026-12-02 09:43 Vietnam time (19 h from now)"),
        ("2026-12-02 09:43:00", "2026-12-02 09:43 Vietnam time (19 h from now)"),
        ("2026-12-01T14:00:00+07:00", "2026-12-01 14:00 Vietnam time (43 min ago)"),
        (None, "unknown"),
        ("", "unknown"),
        ("soon", "'soon'"),
        ("x" * 80, repr("x" * 37 + "...")),
    ],
)
def test_describe_vn_time(value: str | None, text: str) -> None:
    assert describe_vn_time(value, NOW) == text


def test_parse_vn_time_never_raises() -> None:
    assert parse_vn_time("2026-12-02 09:43") == pendulum.datetime(2026, 12, 2, 9, 43, tz=VN_TZ)
    assert parse_vn_time("not a time") is None and parse_vn_time(42) is None
