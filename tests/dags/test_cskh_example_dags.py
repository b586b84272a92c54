"""The CSKH and Fibo example DAGs, end to end with ``airflow dags test`` against the sandbox."""

from __future__ import annotations

import ast

from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.dags.conftest import rendered_fields


def test_cskh_otp_single(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("cskh_otp_single", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    [entry] = SandboxClient(sandbox.url).ledger()
    assert entry["phone"] == "84912000111" and entry["message"].startswith("Ma OTP cua ban la 246810")
    [rendered] = rendered_fields(airflow_home, "cskh_otp_single")
    assert "***" in rendered and "246810" not in rendered  # the literal phone and (mask_message) the OTP


def test_cskh_bulk_personalised(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("cskh_bulk_personalised", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    line = next(x for x in result.output.splitlines() if "CSKH bulk summary:" in x)
    summary = ast.literal_eval(line.split("CSKH bulk summary:", 1)[1].strip().rsplit("}", 1)[0] + "}")
    assert summary == {"recipients": 10, "sent": 10, "already_sent": 0, "failed": 0, "invalid": 1}
    texts = sorted(e["message"] for e in SandboxClient(sandbox.url).ledger())
    assert texts[0] == "Chao An, don hang DH1001 (150000 VND) da duoc giao. Cam on quy khach!" and len(texts) == 10


def test_fibo_alert_on_failure(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    ok = airflow_home.dag_test("fibo_alert_on_failure", sandbox.url)
    assert ok.state == "success" and SandboxClient(sandbox.url).summary()["total"] == 0
    failed = airflow_home.dag_test("fibo_alert_on_failure", sandbox.url, conf={"fail": True})
    assert failed.state == "failed", failed.output[-3000:]
    [alert] = SandboxClient(sandbox.url).ledger(gateway="fibo")
    assert alert["message"].startswith("[Airflow] fibo_alert_on_failure.flaky_step loi luc ")  # accents stripped
    assert alert["phone"] == "84912000111"


def test_the_failure_alert_goes_out_for_a_run_without_a_logical_date(
    airflow_home: AirflowHome, sandbox: SandboxProcess
) -> None:
    """A run triggered from the REST API or CLI may have no logical date: ``{{ ts }}`` is undefined.
    The alert renders it as ``-`` with one warning and still sends exactly one SMS."""
    failed = airflow_home.dag_test_without_logical_date("fibo_alert_on_failure", sandbox.url, conf={"fail": True})
    assert failed.state == "failed", failed.output[-3000:]
    assert "logical_date=None" in failed.output
    [alert] = SandboxClient(sandbox.url).ledger(gateway="fibo")
    assert alert["message"] == "[Airflow] fibo_alert_on_failure.flaky_step loi luc -"
    assert failed.output.count("undefined in this run's context") == 1


def test_fibo_balance_guard(airflow_home: AirflowHome, sandbox: SandboxProcess) -> None:
    result = airflow_home.dag_test("fibo_balance_guard", sandbox.url)
    assert result.state == "success", result.output[-3000:]
    admin = SandboxClient(sandbox.url)
    assert admin.summary(gateway="fibo")["total"] == 3
