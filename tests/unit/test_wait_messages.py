"""The log lines and "done" rules that the sensors' poke path and the triggers share."""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_fptsms.gateways.fpt import CampaignStatus, ReportCounts
from airflow_provider_fptsms.sms.schedule import VN_TZ
from airflow_provider_fptsms.triggers.campaign import (
    campaign_outcome,
    every,
    found_message,
    report_message,
    status_found_message,
    waiting_message,
)
from airflow_provider_fptsms.triggers.delivery import dlr_message, dlrs_complete

NOW = pendulum.datetime(2026, 12, 1, 14, 43, tz=VN_TZ)


def status(*, approved: bool = False, sent: bool = False, reason: str | None = None) -> CampaignStatus:
    return CampaignStatus(
        campaign_code="ABC",
        total=1234,
        quota=1500,
        is_sent=sent,
        sending_time="2026-12-02 09:43",
        approved=approved,
        rejected=not approved and reason is not None,
        reason=reason,
    )


@pytest.mark.parametrize(
    ("reading", "wait_for", "outcome"),
    [
        (status(), "approval", None),
        (status(approved=True), "approval", "approved"),
        (status(approved=True), "sent", None),
        (status(approved=True, sent=True), "sent", "sent"),
        (status(reason="blocked word"), "approval", "rejected"),
        (status(reason="blocked word"), "sent", "rejected"),
    ],
)
def test_campaign_outcome(reading: CampaignStatus, wait_for: str, outcome: str | None) -> None:
    assert campaign_outcome(reading, wait_for) == outcome  # type: ignore[arg-type]


def test_waiting_for_schedule_time() -> None:
    assert waiting_message(status(approved=True), "sent", 300, NOW) == (
        "Campaign ABC: approved; waiting for ScheduleTime 2026-12-02 09:43 Vietnam time (19 h from now); "
        "next check in 300s"
    )


def test_waiting_for_approval() -> None:
    assert waiting_message(status(), "approval", 300, NOW) == (
        "Campaign ABC: pending approval; waiting for telco approval (orders Mon-Fri 08:30-16:30 Vietnam time); "
        "ScheduleTime 2026-12-02 09:43 Vietnam time (19 h from now); next check in 300s"
    )
    assert "then for ScheduleTime 2026-12-02 09:43" in waiting_message(status(), "sent", 600, NOW)
    assert waiting_message(status(), "approval", None, NOW).endswith("; deferring to the triggerer")


def test_waiting_after_schedule_time() -> None:
    later = NOW.add(days=1)
    assert waiting_message(status(approved=True), "sent", 0.05, later) == (
        "Campaign ABC: approved; ScheduleTime 2026-12-02 09:43 Vietnam time (5 h ago) has passed; "
        "waiting for FPT to report it sent; next check in 0.05s"
    )


def test_found_messages() -> None:
    assert (
        status_found_message(status(approved=True), "approved") == "Campaign ABC approved (1,234 phones, quota 1,500)"
    )
    assert found_message("ABC", "sent", total=1, quota=2, sending_time="2026-12-02 09:43", now=NOW) == (
        "Campaign ABC sent (1 phone, quota 2), ScheduleTime 2026-12-02 09:43 Vietnam time (19 h from now)"
    )
    assert status_found_message(status(reason="blocked word"), "rejected") == (
        "Campaign ABC rejected by the telco: blocked word (1,234 phones, quota 1,500)"
    )
    assert found_message("ABC", "approved", total=None, quota=None) == "Campaign ABC approved (0 phones, quota 0)"


def test_report_message() -> None:
    counts = ReportCounts({"delivered": 700, "failed": 200, "pending": 90, "unknown": 10})
    done = report_message("ABC", counts, 900)
    assert (
        done
        == "Report for ABC: 900/900 expected phones final (1,000 rows: 700 delivered, 200 failed, 100 not final yet)"
    )
    waiting = report_message("ABC", counts, 950, next_check=3600, deadline=NOW.add(days=6).timestamp(), now=NOW)
    assert waiting == (
        "Report for ABC: 900/950 expected phones final (1,000 rows: 700 delivered, 200 failed, 100 not final yet); "
        "waiting for 50 more; next check in 3600s; deadline 2026-12-07 14:43 Vietnam time (6.0 days from now)"
    )


def test_dlr_message_and_rule() -> None:
    summary = {"total": 10, "final": 8, "delivered": 7, "failed": 1, "pending": 1, "missing": 1}
    assert not dlrs_complete(summary)
    assert dlr_message(summary, 30) == (
        "DLRs for 10 message(s): 7 delivered, 1 failed, 1 pending, 1 missing; waiting for 2 more; next check in 30s"
    )
    assert dlr_message(summary, deferring=True).endswith("; waiting for 2 more; deferring to the triggerer")
    assert dlr_message(summary) == "DLRs for 10 message(s): 7 delivered, 1 failed, 1 pending, 1 missing"
    done = {**summary, "final": 10, "pending": 0, "missing": 0, "failed": 3}
    assert dlrs_complete(done)
    assert dlr_message(done, 30) == "DLRs for 10 message(s): 7 delivered, 3 failed, 0 pending, 0 missing; all final"


def test_every() -> None:
    assert (every(300.0), every(6.0), every(0.05)) == ("300s", "6s", "0.05s")
