"""Security scan: run example DAGs with DEBUG logging, then scan every log line, rendered template
field and XCom value in the metadata database for the configured secrets and unmasked phones.
(The fault soak's task logs get the same scan: ``tests/soak``.)"""

from __future__ import annotations

import sqlite3

import pytest

from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.dags.conftest import DAGS
from tests.leaks import find_leaks, log_lines


@pytest.fixture(scope="module")
def debug_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(
        tmp_path_factory.mktemp("airflow-debug"),
        DAGS,
        FPTSMS_EXAMPLE_POLL_SECONDS="0.5",
        AIRFLOW__LOGGING__LOGGING_LEVEL="DEBUG",
    )
    home.migrate()
    return home


def test_no_secret_or_raw_phone_in_logs_rendered_fields_or_xcom(debug_home: AirflowHome) -> None:
    outputs = []
    with SandboxProcess("--approval-delay", "1", "--send-delay", "1", "--dlr-delay", "1") as sandbox:
        for dag_id in ("cskh_otp_single", "qc_campaign_lifecycle"):
            result = debug_home.dag_test(dag_id, sandbox.url)
            assert result.state == "success", result.output[-2000:]
            outputs.append(result.output)
    database = sqlite3.connect(debug_home.home / "airflow.db")
    rendered = [str(row[0]) for row in database.execute("SELECT rendered_fields FROM rendered_task_instance_fields")]
    xcoms = [str(row[0]) for row in database.execute("SELECT value FROM xcom")]
    database.close()
    assert rendered and xcoms and "DEBUG" in "".join(outputs).upper()
    hits = {
        "log": find_leaks(log_lines("\n".join(outputs))),
        "rendered": find_leaks(rendered),
        "xcom": find_leaks(xcoms),
    }
    assert hits == {"log": [], "rendered": [], "xcom": []}, hits
    assert any("0912***111" in text or "***" in text for text in rendered)  # the literal phone was masked
    assert not [text for text in rendered if "246810" in text]  # cskh_otp_single's OTP: mask_message=True
