"""The campaign view's JSON API, judged against the gateway: a real lifecycle (create, push, approval, send,
report) runs against the sandbox, then the API's funnel must equal what the sandbox holds (its ledger, its
``detail-ads`` and its raw ``dlr-ads`` CSV read here with the csv module), and only readers of the DAG see it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pendulum
import pytest
from fastapi import HTTPException

from airflow_provider_fptsms._compat import AirflowFailException
from airflow_provider_fptsms.hooks.fpt import FptSmsHook
from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator
from airflow_provider_fptsms.operators.campaign_push import FptPushCampaignOperator
from airflow_provider_fptsms.operators.campaign_report import FptCampaignReportOperator
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle
from airflow_provider_fptsms.sensors.campaign import FptCampaignApprovalSensor, FptCampaignSentSensor
from airflow_provider_fptsms.sms.schedule import next_valid_slot
from airflow_provider_fptsms.state import StateStore
from airflow_provider_fptsms.ui.app import CanRead, create_campaign_app
from airflow_provider_fptsms.webhook.report import parse_report
from airflow_provider_fptsms.webhook.store import DlrStore

DAG = "qc_summer"


@pytest.fixture(autouse=True)
def fast_connection(fptsms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = fptsms_sandbox.fpt_connection(backoff=0.001, max_attempts=4, timeout=5)
    monkeypatch.setenv("AIRFLOW_CONN_FPTSMS_DEFAULT", json.dumps(conn))


def context(task_id: str, dag_id: str = DAG, run_id: str = "scheduled__2026-12-01") -> Any:
    ti = SimpleNamespace(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=-1, try_number=1)
    return {"ti": ti, "logical_date": pendulum.now("UTC")}


def readers(*dag_ids: str) -> Callable[..., Any]:
    """A viewer dependency: the user may read these DAGs only."""

    async def viewer() -> CanRead:
        return lambda dag_id: dag_id in dag_ids

    return viewer


async def nobody() -> CanRead:
    raise HTTPException(401, "Not authenticated")


def client(state: Path, viewer: Callable[..., Any], dlr: DlrStore | None = None) -> httpx.AsyncClient:
    app = create_campaign_app(
        lambda: StateStore(state), lambda: dlr or DlrStore(f"sqlite:///{state}/dlr.db"), viewer, base_url="/airflow"
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def run_lifecycle(tmp_path: Path, sandbox: SandboxHandle, name: str, dag_id: str = DAG) -> str:
    """30 rows: 25 distinct valid phones, 2 invalid, 3 repeats; 3 of the 25 are on a do-not-contact list."""
    valid = [f"0912{i:06d}" for i in range(25)]
    audience = tmp_path / f"{name}.csv"
    audience.write_text("phone\n" + "\n".join([*valid, "12345", "not a phone", *valid[:3]]) + "\n")
    dnc = tmp_path / "dnc.txt"
    dnc.write_text("\n".join(valid[-3:]) + "\n")
    state = str(tmp_path / "state")
    when = next_valid_slot(pendulum.now("Asia/Ho_Chi_Minh"), pendulum.duration(hours=3))
    sandbox.admin.configure(dlr_failure_rate=0.2)
    code = FptCreateCampaignOperator(
        task_id="create",
        message="[QC] Uu dai mua he 20%",
        campaign_name=name,
        schedule_time=when.strftime("%Y-%m-%d %H:%M"),
        phones=str(audience),
        suppress={"dnc": str(dnc)},
        prices={"viettel": 850, "default": 800},
        state_path=state,
    ).execute(context("create", dag_id))
    assert isinstance(code, str)
    FptPushCampaignOperator(
        task_id="push",
        campaign_code=code,
        phones=str(audience),
        suppress={"dnc": str(dnc)},
        prices={"viettel": 850, "default": 800},
        state_path=state,
        output_path=str(tmp_path / "push.csv"),
    ).execute(context("push", dag_id))
    sandbox.admin.configure(approval_delay=0, send_delay=0, dlr_delay=0)  # the telcos and the send, at once
    FptCampaignApprovalSensor(task_id="approval", campaign_code=code, state_path=state).execute(
        context("approval", dag_id)
    )
    FptCampaignSentSensor(task_id="sent", campaign_code=code, state_path=state).execute(context("sent", dag_id))
    FptCampaignReportOperator(
        task_id="report", campaign_code=code, output_path=str(tmp_path / "report.csv"), state_path=state
    ).execute(context("report", dag_id))
    return code


def gateway_reading(sandbox: SandboxHandle, code: str, tmp_path: Path) -> dict[str, Any]:
    """What FPT holds, read without our code: ledger, detail-ads Total, the raw dlr-ads CSV."""
    raw = tmp_path / "raw-dlr.csv"
    FptSmsHook().download_delivery_report(code, raw)
    with raw.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_telco: dict[str, Counter[str]] = {}
    for row in rows:
        status = {"1": "delivered", "0": "failed"}.get(row["Status"], "pending")
        by_telco.setdefault(row["Telco"], Counter())[status] += 1
    [campaign] = [c for c in sandbox.admin.campaigns() if c["CampaignCode"] == code]
    return {
        "ledger": {e["phone"] for e in sandbox.admin.ledger(campaign_code=code)},
        "total": campaign["Total"],
        "delivered": sum(c["delivered"] for c in by_telco.values()),
        "by_telco": {t: {s: c[s] for s in ("delivered", "failed", "pending")} for t, c in sorted(by_telco.items())},
    }


async def test_the_funnel_is_what_the_gateway_holds(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = run_lifecycle(tmp_path, fptsms_sandbox, "summer-view")
    truth = gateway_reading(fptsms_sandbox, code, tmp_path)
    assert len(truth["ledger"]) == 22 and truth["total"] == 22  # 25 valid, 3 on the list

    async with client(tmp_path / "state", readers(DAG)) as api:
        listed = (await api.get("/api/campaigns")).json()["campaigns"]
        detail = (await api.get("/api/campaign", params={"code": code})).json()

    assert [(c["campaign_code"], c["name"], c["state"]) for c in listed] == [(code, "summer-view", "reported")]
    assert listed[0]["run_url"] == f"/airflow/dags/{DAG}/runs/scheduled__2026-12-01"
    funnel = {stage["stage"]: stage["phones"] for stage in detail["funnel"]}
    assert funnel == {
        "audience": 30,
        "valid": 25,
        "pushed": len(truth["ledger"]),
        "approved": truth["total"],
        "sent": truth["total"],
        "delivered": truth["delivered"],
    }
    assert 0 < truth["delivered"] < 22  # the 20 % failure rate really shows
    assert detail["report"]["status_by_telco"] == truth["by_telco"]
    assert detail["left_out"] == {"invalid": 2, "duplicates": 3, "suppressed": 3, "capped": 0}
    messages = sum(t["messages"] for t in detail["cost"]["by_telco"].values())
    assert detail["cost"]["messages"] == messages == 22  # one SMS part each, for the pushed phones only
    assert [s["step"] for s in detail["steps"]] == ["created", "pushed", "approved", "sent", "report"]
    assert detail["schedule_time"] and detail["dag_id"] == DAG
    text = json.dumps(detail) + json.dumps(listed)
    assert not any(phone[1:] in text for phone in truth["ledger"])  # figures only, never a phone


async def test_only_readers_of_the_dag_see_a_campaign(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    code = run_lifecycle(tmp_path, fptsms_sandbox, "secret-view", dag_id="qc_other_team")
    async with client(tmp_path / "state", readers(DAG)) as api:
        assert (await api.get("/api/campaigns")).json() == {"campaigns": []}
        hidden = await api.get("/api/campaign", params={"code": code})
        assert hidden.status_code == 404
    async with client(tmp_path / "state", readers("qc_other_team")) as api:
        assert [c["campaign_code"] for c in (await api.get("/api/campaigns")).json()["campaigns"]] == [code]
    async with client(tmp_path / "state", nobody) as api:
        for path in ("/", "/campaigns.js", "/api/campaigns", "/api/sends", f"/api/campaign?code={code}"):
            assert (await api.get(path)).status_code == 401, path
        library = await api.get("/static/chartjs/chart.umd.min.js")  # public code, no data
        assert library.status_code == 200 and "Chart.js v4" in library.text[:200]


async def test_the_page_and_its_assets_are_served(tmp_path: Path) -> None:
    async with client(tmp_path / "state", readers(DAG)) as api:
        page = await api.get("/")
        script = await api.get("/campaigns.js")
        assert (await api.get("/api/campaigns")).json() == {"campaigns": []}  # nothing recorded yet: no error
    assert page.status_code == 200 and '<canvas id="funnel">' in page.text
    assert 'src="static/chartjs/chart.umd.min.js"' in page.text  # vendored: no CDN
    assert "http" not in page.text.split("<script")[1]
    assert script.status_code == 200 and "textContent" in script.text and ".innerHTML" not in script.text


async def test_a_rejected_campaign_says_so(fptsms_sandbox: SandboxHandle, tmp_path: Path) -> None:
    hook = FptSmsHook()
    when = next_valid_slot(pendulum.now("Asia/Ho_Chi_Minh"), pendulum.duration(hours=3))
    state = str(tmp_path / "state")
    code = FptCreateCampaignOperator(
        task_id="create",
        message="[QC] Ca cuoc bong da",
        campaign_name="rejected-view",
        schedule_time=when.strftime("%Y-%m-%d %H:%M"),
        quota=5,
        state_path=state,
    ).execute(context("create"))
    assert isinstance(code, str)
    hook.push_campaign(code, ["0912345678"])
    fptsms_sandbox.admin.configure(approval_delay=0, blocked_words=["cuoc"])  # the telcos decide now
    with pytest.raises(AirflowFailException):
        FptCampaignApprovalSensor(task_id="approval", campaign_code=code, state_path=state).execute(context("approval"))
    async with client(tmp_path / "state", readers(DAG)) as api:
        detail = (await api.get("/api/campaign", params={"code": code})).json()
    assert detail["state"] == "rejected" and "cuoc" in detail["rejected_reason"]
    assert {s["stage"]: s["phones"] for s in detail["funnel"]}["approved"] is None


async def test_cskh_delivery_rates_come_from_the_dlr_store(tmp_path: Path) -> None:
    store = DlrStore(f"sqlite:///{tmp_path / 'dlr.db'}")
    store.watch(f"{DAG}/manual__1/send_otp/-1", [str(i) for i in range(1, 11)])
    store.watch("other_dag/manual__1/send/-1", ["99"])
    posted = [(1, "viettel", 1)] * 6 + [(7, "viettel", 0), (8, "mobifone", 0), (9, "mobifone", 2)]
    for smsid, (_, telco, status) in enumerate(posted, start=1):
        store.record(parse_report({"smsid": str(smsid), "status": status, "telco": telco, "mt_count": 1}))
    async with client(tmp_path, readers(DAG), dlr=store) as api:
        sends = (await api.get("/api/sends")).json()["sends"]
    store.dispose()
    assert sends == [
        {
            "dag_id": DAG,
            "run_id": "manual__1",
            "task_id": "send_otp",
            "total": 10,
            "delivered": 6,
            "failed": 2,
            "pending": 1,
            "missing": 1,
            "delivery_rate": 0.75,  # 6 of the 8 final reports; pending and missing are not failures yet
            "by_telco": {
                "mobifone": {"delivered": 0, "failed": 1, "pending": 1},
                "viettel": {"delivered": 6, "failed": 1, "pending": 0},
            },
            "run_url": f"/airflow/dags/{DAG}/runs/manual__1",
        }
    ]
