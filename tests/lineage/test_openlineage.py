"""OpenLineage facets of the send, create, push and report operators, after real runs against the sandbox:
the datasets' namespaces and names exactly, and never a phone number (airflow_provider_fptsms.lineage)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_fptsms import lineage
from airflow_provider_fptsms.operators.campaign import (
    FptCampaignReportOperator,
    FptCreateCampaignOperator,
    FptPushCampaignOperator,
)
from airflow_provider_fptsms.operators.send import FiboSendSmsOperator, FptSendSmsOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.state import safe_key
from tests.leaks import RAW_PHONE

PHONES = ["0912000001", "0912000002", "0912000003", "0912000004"]
needs_openlineage = pytest.mark.usefixtures("openlineage")


@pytest.fixture
def openlineage() -> None:
    pytest.importorskip(
        "airflow.providers.openlineage",
        reason="apache-airflow-providers-openlineage is not installed: "
        "install the openlineage extra, pip install 'airflow-provider-fptsms[openlineage]'",
    )


@pytest.fixture(autouse=True)
def fast_connections(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Sandbox connections that retry fast, and an AIRFLOW_HOME of the test's own (the default report paths)."""
    fast = {"backoff": 0.001, "max_attempts": 4, "timeout": 5}
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(fptsms_sandbox.fpt_connection(**fast)))
    monkeypatch.setenv("AIRFLOW_CONN_FIBOSMS_DEFAULT", json.dumps(fptsms_sandbox.fibo_connection(**fast)))
    monkeypatch.setenv("FPTSMS_STATE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def ti(task_id: str, dag_id: str = "crm") -> Any:
    return SimpleNamespace(dag_id=dag_id, run_id="manual__1", task_id=task_id, map_index=-1, try_number=1)


def context(task_id: str, dag_id: str = "crm") -> Any:
    return {"ti": ti(task_id, dag_id), "logical_date": pendulum.datetime(2026, 6, 1, 7, 30, tz="UTC")}


def names(datasets: list[Any]) -> list[tuple[str, str]]:
    return [(dataset.namespace, dataset.name) for dataset in datasets]


def audience(tmp_path: Path) -> Path:
    path = tmp_path / "audience.csv"
    path.write_text("phone,name\n" + "".join(f"{phone},Khach {i}\n" for i, phone in enumerate(PHONES)))
    return path


def no_phone_in(facets: Any) -> None:
    text = repr(facets)
    assert not RAW_PHONE.search(text), text
    assert not any(phone[1:] in text for phone in PHONES), text  # 912000001: no form of any number


@needs_openlineage
def test_a_send_reads_its_files_and_writes_the_send_and_its_report(tmp_path: Path, fast_connections: Path) -> None:
    source, dnc = audience(tmp_path), tmp_path / "dnc.txt"
    dnc.write_text(f"{PHONES[0]}\n")
    operator = FptSendSmsOperator(
        task_id="send", phones=str(source), message="Chao {name}", suppress=str(dnc), state_path=str(tmp_path / "s")
    )
    summary = operator.execute(context("send"))
    assert summary["sent"] == 3
    facets = operator.get_openlineage_facets_on_complete(ti("send"))
    assert names(facets.inputs) == [("file", str(source)), ("file", str(dnc))]
    report = fast_connections / "fptsms" / "sends" / "crm" / "manual__1" / "send.csv"
    assert report.is_file() and summary["output_path"] == str(report)
    assert names(facets.outputs) == [("fptsms://fpt", "sends/crm/send"), ("file", str(report))]
    assert facets.run_facets == {} and facets.job_facets == {}
    no_phone_in(facets)


@needs_openlineage
def test_a_literal_phone_list_is_no_dataset(tmp_path: Path) -> None:
    output = tmp_path / "out" / "results.csv"
    operator = FiboSendSmsOperator(
        task_id="alert",
        phones=PHONES[:3],
        message="Canh bao",
        suppress=[PHONES[3]],
        output_path=str(output),
        state_path=str(tmp_path / "s"),
    )
    assert operator.execute(context("alert", dag_id="ops"))["sent"] == 3
    facets = operator.get_openlineage_facets_on_complete(ti("alert", dag_id="ops"))
    assert facets.inputs == []
    assert names(facets.outputs) == [("fptsms://fibo", "sends/ops/alert"), ("file", str(output))]
    no_phone_in(facets)
    # a list rendered as text by Jinja, a bare number, dicts: still no dataset
    for source in (str(PHONES), PHONES[0], [{"phone": PHONES[0], "name": "An"}], (PHONES[1],), None):
        assert lineage.source_name(source) is None, source


@needs_openlineage
def test_a_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    audience(tmp_path)
    operator = FptSendSmsOperator(task_id="send", phones="audience.csv", message="Chao {name}", dry_run=True)
    assert operator.execute(context("send"))["dry_run"] is True
    facets = operator.get_openlineage_facets_on_complete(ti("send"))
    assert names(facets.inputs) == [("file", str(tmp_path / "audience.csv"))]  # relative: as the task read it
    assert facets.outputs == []


@needs_openlineage
def test_audience_to_campaign_to_report(tmp_path: Path, fast_connections: Path) -> None:
    source, state = audience(tmp_path), str(tmp_path / "state")
    create = FptCreateCampaignOperator(task_id="create", message="[QC] Uu dai", phones=str(source), state_path=state)
    code = create.execute(context("create", dag_id="qc"))
    assert isinstance(code, str)
    facets = create.get_openlineage_facets_on_complete(ti("create", dag_id="qc"))
    campaign = ("fptsms://fpt", f"campaigns/{code}")
    assert (names(facets.inputs), names(facets.outputs)) == ([("file", str(source))], [campaign])

    push = FptPushCampaignOperator(task_id="push", campaign_code=code, phones=str(source), state_path=state)
    assert push.execute(context("push", dag_id="qc"))["pushed"] == 4
    facets = push.get_openlineage_facets_on_complete(ti("push", dag_id="qc"))
    pushes = fast_connections / "fptsms" / "pushes" / "qc" / "manual__1" / "push.csv"
    assert pushes.is_file()
    assert (names(facets.inputs), names(facets.outputs)) == ([("file", str(source))], [campaign, ("file", str(pushes))])
    no_phone_in(facets)

    report = FptCampaignReportOperator(task_id="report", campaign_code=code)
    summary = report.execute(context("report", dag_id="qc"))
    facets = report.get_openlineage_facets_on_complete(ti("report", dag_id="qc"))
    written = fast_connections / "fptsms" / "reports" / f"{safe_key(code)}.csv"
    assert summary["path"] == str(written) and written.is_file()
    assert (names(facets.inputs), names(facets.outputs)) == ([campaign], [("file", str(written))])
    no_phone_in(facets)


@needs_openlineage
def test_a_dry_run_create_has_no_campaign_and_a_quota_no_audience(tmp_path: Path) -> None:
    source = audience(tmp_path)
    dry = FptCreateCampaignOperator(task_id="create", message="[QC] Uu dai", phones=str(source), dry_run=True)
    preview = dry.execute(context("create"))
    assert isinstance(preview, dict) and preview["dry_run"] is True
    facets = dry.get_openlineage_facets_on_complete(ti("create"))
    assert (names(facets.inputs), facets.outputs) == ([("file", str(source))], [])
    by_quota = FptCreateCampaignOperator(task_id="create", message="[QC] Uu dai", quota=10, state_path=str(tmp_path))
    code = by_quota.execute(context("create"))
    facets = by_quota.get_openlineage_facets_on_complete(ti("create"))
    assert (facets.inputs, names(facets.outputs)) == ([], [("fptsms://fpt", f"campaigns/{code}")])


@needs_openlineage
def test_object_storage_sources_are_named_by_bucket_and_key() -> None:
    from airflow.sdk import ObjectStoragePath

    push = FptPushCampaignOperator(
        task_id="push",
        campaign_code="MjIxNQ==abc",
        phones="s3://crm-exports/audiences/2026-06-01.csv.gz",
        suppress={"dnc": ObjectStoragePath("gs://compliance/dnc.csv"), "opt-outs": [PHONES[0]]},
    )
    facets = push.get_openlineage_facets_on_complete(ti("push"))  # before a run: nothing written yet
    assert names(facets.inputs) == [
        ("s3://crm-exports", "audiences/2026-06-01.csv.gz"),
        ("gs://compliance", "dnc.csv"),
    ]
    assert names(facets.outputs) == [("fptsms://fpt", "campaigns/MjIxNQ==abc")]
    no_phone_in(facets)
    assert lineage.source_name("gcs://b/x.csv") == ("gs://b", "x.csv")
    assert lineage.source_name("file:///data/a.csv") == ("file", "/data/a.csv")
    assert lineage.source_name("file://nas01/data/a.csv") == ("file://nas01", "/data/a.csv")
    assert lineage.source_name("https://user:s3cret@files.example/a.csv") == ("https://files.example", "a.csv")
    assert lineage.source_name(Path("/data/a.csv")) == ("file", "/data/a.csv")


def test_without_openlineage_the_package_imports_and_sends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No import of OpenLineage until a facet is asked for: the extra stays optional."""
    for name in [n for n in sys.modules if n.startswith(("openlineage", "airflow.providers.openlineage"))]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "openlineage", None)
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage", None)
    monkeypatch.delitem(sys.modules, "airflow_provider_fptsms.lineage")
    monkeypatch.delattr("airflow_provider_fptsms.lineage")
    fresh = importlib.import_module("airflow_provider_fptsms.lineage")
    source = audience(tmp_path)
    operator = FptSendSmsOperator(
        task_id="send", phones=str(source), message="Chao {name}", state_path=str(tmp_path / "s")
    )
    assert operator.execute(context("send"))["sent"] == 4
    inputs, outputs = fresh.send_names(operator, ti("send"))
    assert inputs == [("file", str(source))] and outputs[0] == ("fptsms://fpt", "sends/crm/send")
    with pytest.raises(ImportError):
        operator.get_openlineage_facets_on_complete(ti("send"))
