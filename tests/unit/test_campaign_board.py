"""The campaign view's figures from recorded steps (pure): what a fanned-out push adds up, what wins."""

from __future__ import annotations

from typing import Any

from airflow_provider_fptsms.ui import board


def step(name: str, at: float, **facts: Any) -> dict[str, Any]:
    return {"step": name, "at": at, "campaign_code": "C", "dag_id": "qc", "run_id": "r", **facts}


AUDIENCE = {"total": 1000, "unique": 900, "invalid": 60, "duplicates": 40}


def test_ranges_of_one_push_add_up_but_read_the_same_audience() -> None:
    steps = [
        step("created", 1, campaign_name="n", schedule_time="2026-12-02 09:00", audience=AUDIENCE),
        step(
            "pushed rows 1-500",
            2,
            pushed=480,
            phones=AUDIENCE,
            suppression={"suppressed": 15},
            capped=5,
            cost={
                "messages": 480,
                "vnd": 400_000,
                "by_telco": {"viettel": {"messages": 300, "vnd": 255_000}, "vina": {"messages": 180, "vnd": 145_000}},
            },
        ),
        step(
            "pushed rows 501-900",
            3,
            pushed=390,
            phones=AUDIENCE,
            suppression={"suppressed": 10},
            capped=0,
            cost={"messages": 390, "vnd": 331_500, "by_telco": {"viettel": {"messages": 390, "vnd": 331_500}}},
        ),
    ]
    detail = board.detail("C", steps)
    assert {s["stage"]: s["phones"] for s in detail["funnel"]} == {
        "audience": 1000,
        "valid": 900,
        "pushed": 870,
        "approved": None,
        "sent": None,
        "delivered": None,
    }
    assert detail["left_out"] == {"invalid": 60, "duplicates": 40, "suppressed": 25, "capped": 5}
    assert detail["cost"] == {
        "messages": 870,
        "vnd": 731_500,
        "by_telco": {"viettel": {"messages": 690, "vnd": 586_500}, "vina": {"messages": 180, "vnd": 145_000}},
    }
    assert detail["state"] == "pushed" and detail["report"] is None


def test_state_follows_the_furthest_step_and_rejection_wins() -> None:
    base = [step("created", 1)]
    assert board.state(base) == "created"
    assert board.state([*base, step("pushed", 2)]) == "pushed"
    assert board.state([*base, step("pushed", 2), step("approved", 3, total=5)]) == "approved"
    assert board.state([*base, step("sent", 4, total=5)]) == "sent"
    assert board.state([*base, step("report", 5, delivered=4), step("sent", 4)]) == "reported"
    assert board.state([*base, step("pushed", 2), step("rejected", 3, reason="x")]) == "rejected"


def test_a_retried_step_counts_once_its_last_reading() -> None:
    steps = [step("created", 1), step("report", 5, delivered=3), step("report", 9, delivered=4)]
    assert board.funnel(steps)[-1] == {"stage": "delivered", "phones": 4}


def test_the_list_is_most_recent_first_and_a_campaign_without_created_step_still_shows() -> None:
    rows = board.campaign_list(
        {"OLD": [step("created", 1, campaign_name="old")], "NEW": [step("pushed", 7)], "EMPTY": []}
    )
    assert [(r["campaign_code"], r["name"], r["updated_at"]) for r in rows] == [("NEW", None, 7), ("OLD", "old", 1)]
    assert rows[0]["dag_id"] == "qc"


def test_send_rows_rate_is_over_final_reports_only() -> None:
    summary = {"total": 4, "final": 0, "delivered": 0, "failed": 0, "pending": 2, "missing": 2, "by_telco": {}}
    [row] = board.send_rows({"dag/run/task/-1": summary})
    assert (row["dag_id"], row["run_id"], row["task_id"], row["delivery_rate"]) == ("dag", "run", "task", None)
    [adhoc] = board.send_rows({"adhoc/abc": {**summary, "final": 2, "delivered": 1}})
    assert adhoc["dag_id"] == "adhoc" and adhoc["task_id"] == "" and adhoc["delivery_rate"] == 0.5
