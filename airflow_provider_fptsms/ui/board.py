"""The campaign view's figures, read from the steps the lifecycle tasks recorded (pure: no Airflow, no I/O).

Each task of a QC campaign records what it learned as one *step* (:meth:`StateStore.note_step
<airflow_provider_fptsms.state.StateStore.note_step>`): ``created`` (name, ScheduleTime, quota, audience and
estimated cost), ``pushed`` or ``pushed rows A-B`` per pushed range (phones read, pushed, suppressed, capped,
cost), ``approved`` / ``sent`` / ``rejected`` (the ``detail-ads`` reading that ended the wait) and ``report``
(the ``dlr-ads`` figures by telco). The funnel puts them in order:
audience -> valid -> pushed -> approved -> sent -> delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The funnel's stages, in order; a stage the campaign has not reached yet has ``phones`` None.
STAGES = ("audience", "valid", "pushed", "approved", "sent", "delivered")
#: A campaign's state, from the last step it reached.
STATES = ("created", "pushed", "approved", "sent", "reported", "rejected")

Step = Mapping[str, Any]


def _latest(steps: Iterable[Step], name: str) -> Step | None:
    found = [step for step in steps if step.get("step") == name]
    return max(found, key=lambda step: step.get("at", 0)) if found else None


def _pushes(steps: Iterable[Step]) -> list[Step]:
    return [step for step in steps if str(step.get("step", "")).startswith("pushed")]


def _number(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def state(steps: Sequence[Step]) -> str:
    """The last stage the campaign reached (``rejected`` wins: the telco said no)."""
    reached = {step.get("step") for step in steps}
    for step, name in (("rejected", "rejected"), ("report", "reported"), ("sent", "sent"), ("approved", "approved")):
        if step in reached:
            return name
    return "pushed" if _pushes(steps) else "created"


def row(code: str, steps: Sequence[Step]) -> dict[str, Any]:
    """One line of the campaign list: name, code, state, ScheduleTime and the DAG run that created it."""
    created = _latest(steps, "created") or {}
    first = created or min(steps, key=lambda step: step.get("at", 0))
    return {
        "campaign_code": code,
        "name": created.get("campaign_name"),
        "state": state(steps),
        "schedule_time": created.get("schedule_time"),
        "dag_id": first.get("dag_id"),
        "run_id": first.get("run_id"),
        "updated_at": max(step.get("at", 0) for step in steps),
    }


def funnel(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """Phones at each stage. Each pushed range reads the whole audience, so audience and valid are the
    largest reading, while pushed adds the ranges up."""
    pushes = _pushes(steps)
    audiences = [push.get("phones") or {} for push in pushes]
    created_audience = (_latest(steps, "created") or {}).get("audience") or {}
    if created_audience:
        audiences.append(created_audience)
    approved, sent, report = _latest(steps, "approved"), _latest(steps, "sent"), _latest(steps, "report")
    phones: dict[str, int | None] = {
        "audience": max((_number(a.get("total")) for a in audiences), default=None),
        "valid": max((_number(a.get("unique")) for a in audiences), default=None),
        "pushed": sum(_number(push.get("pushed")) for push in pushes) if pushes else None,
        "approved": _number(approved.get("total")) if approved else None,
        "sent": _number(sent.get("total")) if sent else None,
        "delivered": _number(report.get("delivered")) if report else None,
    }
    return [{"stage": stage, "phones": phones[stage]} for stage in STAGES]


def _cost(pushes: list[Step]) -> dict[str, Any] | None:
    """What the pushes cost at the configured prices, by telco (None when no push priced anything)."""
    costs = [push["cost"] for push in pushes if isinstance(push.get("cost"), Mapping)]
    if not costs:
        return None
    by_telco: dict[str, dict[str, int]] = {}
    for cost in costs:
        for telco, figures in (cost.get("by_telco") or {}).items():
            total = by_telco.setdefault(telco, {"messages": 0, "vnd": 0})
            total["messages"] += _number(figures.get("messages"))
            total["vnd"] += _number(figures.get("vnd"))
    return {
        "messages": sum(_number(cost.get("messages")) for cost in costs),
        "vnd": sum(_number(cost.get("vnd")) for cost in costs),
        "by_telco": dict(sorted(by_telco.items())),
    }


def detail(code: str, steps: Sequence[Step]) -> dict[str, Any]:
    """Everything the campaign page shows: its row, the funnel, who was left out and why, the report by telco
    and the cost."""
    pushes = _pushes(steps)
    report = _latest(steps, "report")
    rejected = _latest(steps, "rejected")
    audiences = [push.get("phones") or {} for push in pushes]
    return {
        **row(code, steps),
        "funnel": funnel(steps),
        "left_out": {
            "invalid": max((_number(a.get("invalid")) for a in audiences), default=0),
            "duplicates": max((_number(a.get("duplicates")) for a in audiences), default=0),
            "suppressed": sum(_number((push.get("suppression") or {}).get("suppressed")) for push in pushes),
            "capped": sum(_number(push.get("capped")) for push in pushes),
        },
        "report": (
            {key: report.get(key) for key in ("rows", "delivered", "failed", "pending", "status_by_telco")}
            if report
            else None
        ),
        "rejected_reason": rejected.get("reason") if rejected else None,
        "cost": _cost(pushes),
        "estimated_cost": (_latest(steps, "created") or {}).get("estimated_cost"),
        "steps": sorted(
            ({"step": step.get("step"), "at": step.get("at"), "task_id": step.get("task_id")} for step in steps),
            key=lambda step: step["at"] or 0,
        ),
    }


def campaign_list(campaigns: Mapping[str, Sequence[Step]]) -> list[dict[str, Any]]:
    """The list page: every campaign, the most recently updated first."""
    rows = [row(code, steps) for code, steps in campaigns.items() if steps]
    return sorted(rows, key=lambda item: item["updated_at"], reverse=True)


def send_rows(summaries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """CSKH sends waited on through the DLR store (a ``FptDeliverySensor`` per send), with delivery rates.

    ``delivery_rate`` is delivered over final reports (None before the first): a pending or missing report is
    not a failure yet.
    """
    rows = []
    for key, summary in summaries.items():
        dag_id, run_id, task_id, *_ = [*key.split("/"), "", "", ""]  # the sensor's task instance
        final = _number(summary.get("final"))
        rows.append(
            {
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task_id,
                **{name: summary.get(name) for name in ("total", "delivered", "failed", "pending", "missing")},
                "delivery_rate": round(_number(summary.get("delivered")) / final, 4) if final else None,
                "by_telco": summary.get("by_telco") or {},
            }
        )
    return sorted(rows, key=lambda item: (item["dag_id"], item["run_id"], item["task_id"]), reverse=True)


__all__ = ["STAGES", "STATES", "campaign_list", "detail", "funnel", "row", "send_rows", "state"]
