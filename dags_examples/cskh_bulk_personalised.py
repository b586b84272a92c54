# TaskFlow passes XComArg where the task function takes the resolved value:
# mypy: disable-error-code="arg-type"
"""A personalised message per CSV row, fanned out over mapped tasks: CSV -> row ranges -> sends -> summary.

Only row ranges travel through XCom (never phones); each mapped task reads its rows from the
file, sends at most ``max_concurrency`` messages at once, and reports masked results.

The mapped sends run in the Airflow pool ``fptsms_gateway``: its slots bound how many send tasks
run at the same time across all workers and all DAGs that use it (each holding up to
``max_concurrency`` messages in flight), so fanning out never exceeds the gateway's rate limit.
The pool must exist before the DAG runs — the scheduler does not run tasks of a pool it does not
know (``airflow dags test`` ignores pools, so a test passes either way)::

    airflow pools set fptsms_gateway 4 "FPT SMS gateway: send/push tasks at once"
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_fptsms.operators.campaign import chunk_ranges
from airflow_provider_fptsms.operators.send import FptSendSmsOperator

CUSTOMERS = str(Path(__file__).parent / "data" / "customers.csv")
ROWS_PER_TASK = 4
POOL = "fptsms_gateway"


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "cskh", "example"])
def cskh_bulk_personalised() -> None:
    @task
    def plan() -> list[tuple[int, int]]:
        with open(CUSTOMERS, encoding="utf-8") as handle:
            rows = sum(1 for line in handle if line.strip()) - 1  # minus the header
        return chunk_ranges(rows, ROWS_PER_TASK)

    sends = FptSendSmsOperator.partial(
        task_id="send",
        phones=CUSTOMERS,
        phone_column="so_dien_thoai",
        message="Chao {ten}, don hang {don_hang} ({so_tien} VND) da duoc giao. Cam on quy khach!",
        fail_on=0.5,  # per mapped task: tolerate some bad rows; they are reported, not sent
        max_concurrency=8,  # messages in flight inside one mapped task
        pool=POOL,  # mapped tasks running at once, across all workers and DAGs
    ).expand(row_range=plan())

    @task
    def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
        total = {
            key: sum(r[key] for r in results) for key in ("recipients", "sent", "already_sent", "failed", "invalid")
        }
        print(f"CSKH bulk summary: {total}")
        return total

    summarise(sends.output)


cskh_bulk_personalised()
