"""The decree's content and hours rules (COMPLIANCE_VN.md), as pure functions: label first, 07:00-22:00."""

from __future__ import annotations

from datetime import datetime, timezone

import pendulum
import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sms.compliance import (
    advertising_hours_problem,
    check_label,
    in_advertising_hours,
    label_problem,
    labelled,
    qc_message,
)
from airflow_provider_fptsms.sms.schedule import ScheduleError, validate_schedule
from airflow_provider_fptsms.sms.text import qc_quota_per_phone

VN = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize("text", ["[QC] Giam 20%", "[AD] 20% off", "[QC]Giam"])
def test_a_message_that_starts_with_its_label_passes(text: str) -> None:
    assert label_problem(text) is None
    check_label(text)
    assert qc_message(text) == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Giam 20% [QC]", "does not start with an advertising label ([QC] or [AD])"),
        ("  [QC] Giam 20%", "has 2 character(s) before its label"),
        ("[qc] Giam 20%", "starts with '[qc]'; the label is written exactly '[QC]'"),
        ("QC: Giam 20%", "does not start with an advertising label"),
        ("", "does not start with an advertising label"),
    ],
)
def test_the_label_must_be_at_the_first_position(text: str, words: str) -> None:
    problem = label_problem(text)
    assert problem is not None and words in problem
    with pytest.raises(InvalidInputError) as caught:
        check_label(text)
    message = str(caught.value)
    assert "Decree 91/2020/ND-CP" in message and "auto_label=True" in message and "message=" in message
    assert "Giam" not in message  # the text itself is never quoted


def test_auto_label_adds_the_label_once_and_it_counts_in_the_quota() -> None:
    assert labelled("Giam 20%") == "[QC] Giam 20%"
    assert labelled("[AD] Giam 20%") == "[AD] Giam 20%"
    assert qc_message("Giam 20%", auto_label=True) == "[QC] Giam 20%"
    assert qc_message("Giam 20%", auto_label="[AD]") == "[AD] Giam 20%"
    assert labelled("  [QC] Giam") == "[QC] Giam" and labelled("[qc] Giam") == "[QC] Giam"  # moved, never doubled
    assert labelled("[ad]Giam") == "[AD]Giam"
    text = "x" * 156  # 156 GSM-7 characters: one message; with "[QC] " 161: two
    assert qc_quota_per_phone(text) == 1
    assert qc_quota_per_phone(qc_message(text, auto_label=True)) == 2
    with pytest.raises(InvalidInputError, match="auto_label"):
        qc_message("Giam", auto_label="[KM]")


def test_other_labels_are_configurable() -> None:
    assert label_problem("[KM] Giam", labels=["[KM]"]) is None
    assert label_problem("[QC] Giam", labels=["[KM]"]) is not None
    with pytest.raises(InvalidInputError, match="qc_labels"):
        label_problem("[QC] x", labels=[])
    with pytest.raises(InvalidInputError, match="qc_labels"):
        label_problem("[QC] x", labels=[" [QC]"])


@pytest.mark.parametrize(
    ("clock", "allowed"),
    [("06:59", False), ("07:00", True), ("12:00", True), ("22:00", True), ("22:01", False), ("23:30", False)],
)
def test_advertising_hours_are_seven_to_ten_vietnam_time(clock: str, allowed: bool) -> None:
    hour, minute = map(int, clock.split(":"))
    moment = pendulum.datetime(2027, 1, 20, hour, minute, tz=VN)
    assert in_advertising_hours(moment) is allowed
    assert (advertising_hours_problem(moment) is None) is allowed


def test_hours_are_read_in_vietnam_time_whatever_the_timezone() -> None:
    utc_midday = datetime(2027, 1, 20, 12, 0, tzinfo=timezone.utc)  # 19:00 in Vietnam
    utc_evening = datetime(2027, 1, 20, 15, 30, tzinfo=timezone.utc)  # 22:30 in Vietnam
    assert in_advertising_hours(utc_midday) and not in_advertising_hours(utc_evening)
    assert in_advertising_hours(datetime(2027, 1, 20, 7, 0))  # naive: Vietnam time


def test_a_schedule_outside_the_hours_is_refused_naming_the_law() -> None:
    now = pendulum.datetime(2027, 1, 18, 9, 0, tz=VN)  # a Monday
    with pytest.raises(ScheduleError) as caught:
        validate_schedule("2027-01-20 22:30", now)
    assert "outside the advertising hours 07:00-22:00" in str(caught.value)
    assert "Decree 91/2020/ND-CP" in str(caught.value) and caught.value.next_slot == "2027-01-21 08:00"
    with pytest.raises(ScheduleError, match="outside the send windows"):  # inside the law's hours, not FPT's
        validate_schedule("2027-01-20 21:00", now)
