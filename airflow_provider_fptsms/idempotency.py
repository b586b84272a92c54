"""The idempotency key of a task's (or a callback's) work, read from its Airflow context.

The rule itself (what a key is made of) is pure and lives in :mod:`airflow_provider_fptsms.delivery`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_fptsms.delivery import operation_key

if TYPE_CHECKING:
    from airflow.sdk import Context


def operation_key_for(context: Context, idempotency_key: str | None = None) -> str:
    """The business operation: the rendered ``idempotency_key``, else dag, task, map index and logical
    date (the run id only when the run has none). Works for task, DAG and notifier contexts."""
    if idempotency_key:
        return str(idempotency_key)
    ti = context.get("ti")
    run = context.get("dag_run")
    logical: Any = context.get("logical_date") or getattr(run, "logical_date", None)
    return operation_key(
        dag_id=getattr(ti, "dag_id", "") or getattr(run, "dag_id", "") or "dag",
        task_id=getattr(ti, "task_id", "") or "dag",
        map_index=getattr(ti, "map_index", -1),
        logical_date=logical.isoformat() if logical is not None else None,
        run_id=getattr(ti, "run_id", "") or getattr(run, "run_id", ""),
    )
