"""Issue 14, items 2 and 6 under ``airflow dags test``, as a user runs their own DAG file.

The send reads an Excel-style export with mistakes: the per-row report accounts for each row, and the
log says what the emoji costs. The connections use production-style short names (brandname ``FTI``,
sender ``FIBO``); what the masker receives from the hooks is ``test_masker_noise.py``'s subject.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from airflow_provider_fptsms.sandbox.dagtest import FINISHED, AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess, fibo_connection, fpt_connection
from tests.newcomer.test_per_row_report import EXPECTED_SEND, EXPORT

DAG_FILE = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_fptsms.operators.send import FiboSendSmsOperator, FptSendSmsOperator

with DAG("my_customers", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh")):
    FptSendSmsOperator(
        task_id="thank_customers",
        phones="{export}",
        phone_column="so_dien_thoai",
        message="Cam on {{ten}} \\U0001f389 uu dai {{uu_dai}}",
        fail_on="all",
    )
    FiboSendSmsOperator(task_id="alert_ops", phones=["0912345609"], message="Gui cam on xong")
"""


def test_a_users_dag_reports_every_row_and_warns_about_the_emoji(tmp_path: Path) -> None:
    export = tmp_path / "khach_hang.csv"
    export.write_text(EXPORT, encoding="utf-8")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "my_customers.py").write_text(DAG_FILE.format(export=export), encoding="utf-8")
    with SandboxProcess() as sandbox:
        home = AirflowHome(
            tmp_path / "home",
            dags,
            AIRFLOW_CONN_FPTSMS_DEFAULT=json.dumps(fpt_connection(sandbox.url, brandname="FTI")),
            AIRFLOW_CONN_FIBOSMS_DEFAULT=json.dumps(fibo_connection(sandbox.url, sender_name="FIBO")),
        )
        home.migrate()
        done = home.run("dags", "test", "my_customers")
    output = done.stdout + done.stderr
    finished = FINISHED.search(output)
    assert finished and finished.group(1) == "success", output[-3000:]
    assert (
        "Message cost (row 1): 1 emoji (U+1F389 party popper) forces UCS-2, it counts 2 units: 1 SMS part(s), "
        "23 units; without it: 1 SMS part(s), GSM-7"  # "Cam on An " 10 + the emoji 2 + " uu dai 10%" 11
    ) in output
    reports = list((tmp_path / "home" / "fptsms" / "sends" / "my_customers").glob("*/thank_customers.csv"))
    assert len(reports) == 1
    with reports[0].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(r["row"]): r["status"] for r in rows} == EXPECTED_SEND
