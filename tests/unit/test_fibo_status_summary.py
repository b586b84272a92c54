"""The one "done" rule of the Fibo status wait (sensor and trigger), and what it says."""

from __future__ import annotations

from airflow_provider_fptsms.gateways.fibo import FiboStatus
from airflow_provider_fptsms.triggers.fibo_delivery import status_message, status_summary, statuses_complete


def test_counts_follow_the_guides_enum_and_an_unknown_guid_is_missing() -> None:
    statuses = {
        "g1": FiboStatus.SENT_SUCCESS,
        "g2": FiboStatus.PENDING,
        "g3": FiboStatus.SPAM_SMS,
        "g4": FiboStatus.SENDING,
        "g5": None,  # a value outside the enum: not final
    }
    summary = status_summary(["g1", "g2", "g3", "g4", "g5", "g6", "g1"], statuses)
    assert summary == {
        "total": 6,
        "final": 2,
        "delivered": 1,
        "failed": 1,
        "pending": 3,
        "missing": 1,
        "by_status": {"sent_success": 1, "pending": 1, "spam_sms": 1, "sending": 1, "unknown": 1},
    }
    assert not statuses_complete(summary)
    assert status_message(summary, 60) == (
        "Fibo statuses for 6 message(s): 1 delivered, 1 failed, 3 pending, 1 not known yet; waiting for 4 more; "
        "next check in 60s"
    )


def test_all_final_is_done() -> None:
    summary = status_summary(["a", "b"], {"a": FiboStatus.SENT_SUCCESS, "b": FiboStatus.OUT_OF_DATE})
    assert statuses_complete(summary)
    assert status_message(summary, 60).endswith("; all final")
    assert statuses_complete(status_summary([], {}))
