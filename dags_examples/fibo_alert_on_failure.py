"""An SMS through Fibo when any task fails: the notifier as ``on_failure_callback``.

The ``flaky_step`` task fails on purpose when the DAG is triggered with ``{"fail": true}``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from airflow_provider_fptsms.notifications.sms import FiboSmsNotifier

ALERT = FiboSmsNotifier(
    message="[Airflow] {{ ti.dag_id }}.{{ ti.task_id }} lỗi lúc {{ ts }}",  # accents stripped: 1 SMS
    phones=["0912000111"],
)


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["fptsms", "fibo", "example"],
    default_args={"on_failure_callback": ALERT},
    params={"fail": False},
)
def fibo_alert_on_failure() -> None:
    @task
    def flaky_step() -> str:
        if get_current_context()["params"]["fail"]:
            raise RuntimeError("the nightly load failed")
        return "ok"

    flaky_step()


fibo_alert_on_failure()
