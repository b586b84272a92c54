# .output passes XComArg where the value is resolved at run time:
# mypy: disable-error-code="arg-type"
"""DAGs only the deployment test runs (``make e2e``), beside the examples.

``e2e_push_killed``: a campaign large enough to be killed mid-push (the driver SIGKILLs the task
process and checks that Airflow's retry pushes every phone once). ``e2e_cskh_delivery``: CSKH sends
whose delivery reports FPT (the sandbox) posts to the api-server's ``/fptsms/dlr``, awaited by the
deferred delivery sensor in the triggerer — the webhook store shared by api-server and triggerer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import dag, task

from airflow_provider_fptsms.operators.campaign import (
    FptCreateCampaignOperator,
    FptPushCampaignOperator,
    chunk_ranges,
)
from airflow_provider_fptsms.operators.send import FptSendSmsOperator
from airflow_provider_fptsms.sensors.delivery import FptDeliverySensor

#: written by the driver before it triggers the DAG (one phone per line)
PUSH_PHONES = str(Path(__file__).parent / "data" / "e2e_push_phones.txt")
CUSTOMERS = str(Path(__file__).parent / "data" / "customers.csv")
POOL = "fptsms_gateway"


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "e2e"])
def e2e_push_killed() -> None:
    create = FptCreateCampaignOperator(
        task_id="create_campaign",
        message="[QC] E2E: Giam 10% cuoi tuan. Tu choi QC soan TC gui 9xxx",
        schedule_time="next_valid",
        phones=PUSH_PHONES,
    )
    FptPushCampaignOperator(
        task_id="push_phones",
        campaign_code=create.output,
        phones=PUSH_PHONES,
        chunk_size=1000,
        retries=2,
        retry_delay=timedelta(seconds=1),
        pool=POOL,
    )


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "e2e"])
def e2e_cskh_delivery() -> None:
    send = FptSendSmsOperator(
        task_id="send",
        phones=CUSTOMERS,
        phone_column="so_dien_thoai",
        message="Chao {ten}, don hang {don_hang} da duoc giao.",
        fail_on=0.5,
        pool=POOL,
    )
    delivered = FptDeliverySensor(
        task_id="wait_for_delivery",
        message_ids="{{ ti.xcom_pull(task_ids='send')['output_path'] }}",
        poll_interval=3,
        timeout=300,
    )
    send >> delivered


e2e_push_killed()
e2e_cskh_delivery()


#: ``make e2e-celery``: one campaign fanned out over mapped pushes, bounded by the gateway pool
SCALE_PHONES = str(Path(__file__).parent / "data" / "e2e_scale_phones.txt")
SCALE_RANGES = 8


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["fptsms", "e2e"])
def e2e_scale_push() -> None:
    @task
    def plan() -> list[tuple[int, int]]:
        with open(SCALE_PHONES, encoding="utf-8") as handle:
            rows = sum(1 for _ in handle)
        return chunk_ranges(rows, -(-rows // SCALE_RANGES))

    create = FptCreateCampaignOperator(
        task_id="create_campaign",
        message="[QC] E2E scale: Giam 10% cuoi tuan. Tu choi QC soan TC gui 9xxx",
        # three runs can start within a minute, the default name's resolution: one name per second here
        campaign_name="e2e-scale-{{ ts_nodash }}",
        schedule_time="next_valid",
        phones=SCALE_PHONES,
    )
    FptPushCampaignOperator.partial(
        task_id="push_phones",
        campaign_code=create.output,
        phones=SCALE_PHONES,
        chunk_size=2000,
        retries=3,
        retry_delay=timedelta(seconds=1),
        pool=POOL,
    ).expand(row_range=plan())


e2e_scale_push()
