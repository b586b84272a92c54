"""The CSKH and Fibo example DAGs, end to end with ``airflow dags test`` against the sandbox."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sandbox.client import SandboxClient
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.server import SandboxProcess
from tests.dags.conftest import DAGS, rendered_fields
from tests.leaks import log_lines


def test_cskh_otp_single_keeps_the_phone_and_the_code_out_of_conf_rendered_fields_and_logs(
    airflow_home: AirflowHome, sandbox: SandboxProcess
) -> None:
    """The app triggers with a customer id only; the task looks the phone up and makes the code. Neither
    may reach the run's conf, the audit log, the Rendered tab, XCom or the logs; the OTP store has the
    code for the app to check, readable by its owner only."""
    result = airflow_home.dag_test("cskh_otp_single", sandbox.url, conf={"customer_id": "KH0002"})
    assert result.state == "success", result.output[-3000:]
    [entry] = SandboxClient(sandbox.url).ledger()
    assert entry["phone"] == "84987000222"
    sent = re.fullmatch(r"Ma OTP cua ban la (\d{6})\. Khong chia se ma nay cho bat ky ai\.", entry["message"])
    assert sent, entry["message"]
    code = sent.group(1)
    [store] = [p for p in (airflow_home.home / "fptsms" / "otp").glob("*.json") if code in p.read_text()]
    assert json.loads(store.read_text())["code"] == code and store.stat().st_mode & 0o077 == 0

    with sqlite3.connect(airflow_home.home / "airflow.db") as database:
        conf = [str(row[0]) for row in database.execute("SELECT conf FROM dag_run WHERE dag_id = 'cskh_otp_single'")]
        audit = [str(row) for row in database.execute("SELECT event, extra FROM log WHERE dag_id = 'cskh_otp_single'")]
        xcoms = [str(row[0]) for row in database.execute("SELECT value FROM xcom WHERE dag_id = 'cskh_otp_single'")]
    [rendered] = rendered_fields(airflow_home, "cskh_otp_single")
    assert "KH0002" in conf[0] and "***" in rendered  # the reference is there; the template is masked
    secrets = ("0987000222", "84987000222", code)
    places = {"conf": conf, "audit log": audit, "rendered": [rendered], "xcom": xcoms}
    assert {name: [s for s in secrets for text in texts if s in text] for name, texts in places.items()} == {
        name: [] for name in places
    }
    # logs (but Airflow's own MaskSecret requests, see tests/leaks.py): the phone in any form, or the
    # code as a word of its own (the same six digits inside a timestamp are no leak)
    logs = "\n".join(log_lines(result.output))
    assert not [s for s in secrets[:2] if s in logs]
    assert not re.search(rf"(?<![\w.:]){code}(?!\w)", logs)


def _otp_example() -> ModuleType:
    """The OTP example's module, loaded from its file (the dags folder is no package)."""
    spec = importlib.util.spec_from_file_location("cskh_otp_single", DAGS / "cskh_otp_single.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_retry_of_the_otp_run_sends_the_same_code_until_it_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same text on every try: an in-doubt send replayed within FPT's 5 minutes is then recognised
    as the same message, not a second SMS with another code."""
    monkeypatch.setenv("FPTSMS_OTP_STORE", str(tmp_path))
    example = _otp_example()
    code = example.issue_code("manual__2026-06-01T07:30:00+00:00")
    assert re.fullmatch(r"\d{6}", code) and example.issue_code("manual__2026-06-01T07:30:00+00:00") == code
    [entry] = tmp_path.glob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600 and ":" not in entry.name
    assert example.OTP_TTL.total_seconds() > 300  # outlives the duplicate window it relies on
    entry.write_text(json.dumps({"code": code, "expires_at": 0}))
    example.issue_code("manual__2026-06-01T07:30:00+00:00")
    assert json.loads(entry.read_text())["expires_at"] > 0  # expired: a new code was made
    with pytest.raises(InvalidInputError, match=r"customer_id='KH9999': is not in the customer directory"):
        example.customer_phone("KH9999")


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
