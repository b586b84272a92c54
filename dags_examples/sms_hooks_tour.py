# TaskFlow passes XComArg where the task function takes the resolved value:
# mypy: disable-error-code="arg-type"
"""A tour of the hooks: one OTP over FPT, a small QC campaign pushed, an alert over Fibo.

Runs against the sandbox with ``make demo``; against production with real ``fptsms_default``
and ``fibosms_default`` connections.  Every send carries an id derived from the run, so a
retried task never sends twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task

PHONES = ["0912345678", "0987654321", "0351234567"]


def _run_key() -> str:
    context = get_current_context()
    ti = context["ti"]
    return f"{ti.dag_id}:{ti.run_id}:{ti.task_id}:{ti.map_index}"


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "example"])
def sms_hooks_tour() -> None:
    @task
    def fibo_balance() -> str:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        return str(FiboSmsHook().get_balance())

    # A dict return would also push each key as its own XCom (TaskFlow infers multiple_outputs from the
    # annotation), and Airflow 3.0 refuses an XCom whose value is None: one XCom, the whole result.
    @task(multiple_outputs=False)
    def send_otp() -> dict[str, Any]:
        import hashlib

        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        request_id = hashlib.sha256(_run_key().encode()).hexdigest()[:32]
        return FptSmsHook().send_cskh(PHONES[0], "Ma OTP cua ban la 246810", request_id=request_id).as_dict()

    @task
    def create_and_push_campaign() -> dict[str, Any]:
        import hashlib

        from airflow_provider_fptsms.gateways.fpt import VN_TZ
        from airflow_provider_fptsms.hooks.fpt import FptSmsHook

        hook = FptSmsHook()
        tomorrow = datetime.now(VN_TZ) + timedelta(days=1)
        schedule = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
        name = "tour-" + hashlib.sha256(_run_key().encode()).hexdigest()[:12]
        code = hook.create_campaign(name, "[QC] Khuyen mai 20% cuoi tuan", schedule, quota=len(PHONES))
        pushed = hook.push_campaign(code, PHONES)
        status = hook.campaign_status(code)
        return {"campaign_code": code, "pushed": pushed.num_message_sent, "state": status.state}

    @task(multiple_outputs=False)
    def fibo_alert(balance: str, otp: dict[str, Any], campaign: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_fptsms.hooks.fibo import FiboSmsHook

        text = f"Tour done: OTP {otp['status']}, campaign {campaign['campaign_code']} {campaign['state']}"
        return FiboSmsHook().send_masked_sms(PHONES[1], text, sms_guid=_run_key()).as_dict()

    fibo_alert(fibo_balance(), send_otp(), create_and_push_campaign())


sms_hooks_tour()
