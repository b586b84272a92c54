"""One OTP to one phone, e.g. triggered by an application with ``dag_run.conf``.

The RequestId comes from the run and the phone: retrying the task never sends a second OTP; the
phone and the rendered message (with the code) are masked in the Rendered tab and the logs.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag

from airflow_provider_fptsms.operators.send import FptSendSmsOperator


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["fptsms", "cskh", "example"],
    params={"phone": Param("0912000111", type="string"), "otp": Param("246810", type="string")},
)
def cskh_otp_single() -> None:
    FptSendSmsOperator(
        task_id="send_otp",
        phones=["{{ params.phone }}"],
        message="Ma OTP cua ban la {{ params.otp }}. Khong chia se ma nay cho bat ky ai.",
        max_segments=1,
        mask_message=True,  # the rendered text holds the OTP: *** in the Rendered tab and the logs
        retries=2,
    )


cskh_otp_single()
