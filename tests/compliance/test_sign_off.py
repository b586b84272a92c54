"""A QC campaign spec with ``sign_off:``, run end to end with ``airflow dags test`` against the sandbox:
approve, reject, no answer — judged by what the sandbox recorded, not by our own counters.

``dags/sign_off_campaign.py`` builds ``campaign_dag()`` from ``specs/sign_off_promo.yaml`` (4 hours to answer)
and ``specs/sign_off_unanswered.yaml`` (3.6 seconds): preview_campaign >> sign_off >> create_campaign >>
push_phones >> wait_for_approval >> wait_until_sent >> delivery_report. Their audience has 20 rows: 16 unique
valid phones, 2 duplicates, 2 invalid; 2 of the phones are on the spec's do-not-contact list, so an approved
campaign reaches 14.

``airflow dags test`` runs in a subprocess on a throw-away SQLite home, against the in-process sandbox
(``fptsms_sandbox``, its telco delays cut to seconds). While it waits, a respondent answers from another
process on the same database through Airflow's public REST API — ``GET`` and ``PATCH
/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails`` — served in-process by
Airflow's own FastAPI app (``create_app``, Starlette's ``TestClient``): no api-server, but the endpoint's real
authentication (a JWT from ``POST /auth/token``), respondent check and validation, and on Airflow 3.3 its resume
of the parked task. The process is separate because Airflow's settings (database, auth manager) are process-wide
and this one's belong to the test session's own home.

On Airflow 3.3 the response deadline is the scheduler's (``SchedulerJobRunner.check_awaiting_input_timeouts``)
and ``dags test`` has no scheduler: the no-answer test calls that sweep, as a scheduler would, once it is due.

The runs need Airflow 3.3: on 3.1 and 3.2 ``dags test`` runs the sign-off's ``HITLTrigger`` inline, under a
supervisor that serves no Human-in-the-loop request but the first (``supervisor.py`` handles only
``CreateHITLDetailPayload``; the trigger's ``GetHITLDetailResponse`` is an "Unhandled request"), and the task fails.
There only a deployment with a triggerer runs a sign-off. What the spec and the function build, and their
refusal before 3.1, are tested on every line.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms._compat import AIRFLOW_VERSION, airflow_at_least
from airflow_provider_fptsms.gateways.errors import InvalidInputError
from airflow_provider_fptsms.sandbox.dagtest import AirflowHome
from airflow_provider_fptsms.sandbox.pytest_plugin import SandboxHandle

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DAGS = HERE / "dags"
DAG_FILE = DAGS / "sign_off_campaign.py"
SPECS = HERE / "specs"
PROMO, UNANSWERED = "qc_sign_off_promo", "qc_sign_off_unanswered"
LIFECYCLE = ["create_campaign", "push_phones", "wait_for_approval", "wait_until_sent", "delivery_report"]
TASKS = ["preview_campaign", "sign_off", *LIFECYCLE]
RESPONDENT, RESPONDENT_PASSWORD = "marketing_lead", "lead-secret"
OUTSIDER, OUTSIDER_PASSWORD = "intern", "intern-secret"  # an admin, but not a respondent of the sign-off
WAIT_SECONDS = 90.0  # for one `dags test` run; each takes 10-30 s here
#: the sandbox's telco, in seconds: approval, then sending, then final delivery statuses. Approval + sending
#: must outlast create -> push (a push to a sent campaign is refused): well under a second on Airflow 3.3.
TELCO_DELAYS = {"approval_delay": 2.0, "send_delay": 2.0, "dlr_delay": 1.0}
CREATE_PATH, PUSH_PATH = "/api/create-campaign", "/api/push-brandname-ads"  # the sandbox's request counters' keys

THIS = ".".join(map(str, AIRFLOW_VERSION))
needs_hitl = pytest.mark.skipif(
    not airflow_at_least("3.1"),
    reason=f"a campaign sign-off is Airflow Human-in-the-loop, which needs Airflow 3.1+ (this is {THIS})",
)
needs_dags_test_hitl = pytest.mark.skipif(
    not airflow_at_least("3.3"),
    reason=f"`airflow dags test` runs a Human-in-the-loop task from Airflow 3.3 on (this is {THIS}): on 3.1/3.2 "
    "its inline trigger's requests go unserved and the sign-off fails; only a deployment with a triggerer runs it",
)
#: Airflow's `dag.test` logs this once the parked task's state is final (sdk/definitions/dag.py, 3.3).
WAITING_MARK = "Waiting for Human-in-the-loop input for tasks"


# --- the audience, read here without the provider's cleaner ----------------------------------------------------------


def _as_84(raw: str) -> str | None:
    """``0912 000 101`` / ``+84912000101`` / ``84912000101`` -> ``84912000101``; None for anything else."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 10 and digits.startswith("0"):
        return "84" + digits[1:]
    return digits if len(digits) == 11 and digits.startswith("84") else None


AUDIENCE_FILE, DNC_FILE = SPECS / "data" / "sign_off_audience.csv", SPECS / "data" / "sign_off_dnc.txt"
AUDIENCE_ROWS = [row["so_dien_thoai"] for row in csv.DictReader(AUDIENCE_FILE.read_text().splitlines())]
DNC = {phone for phone in map(_as_84, DNC_FILE.read_text().splitlines()) if phone}
AUDIENCE = {phone for phone in map(_as_84, AUDIENCE_ROWS) if phone}
TO_PUSH = AUDIENCE - DNC
#: every way an audience number could be written out: the file's text, 84..., 0..., the 9 national digits
WRITTEN = {row.strip() for row in AUDIENCE_ROWS if _as_84(row)} | {
    form for phone in AUDIENCE | DNC for form in (phone, "0" + phone[2:], phone[2:])
}
#: a phone's worth of digits in a row (the 9 national digits at least), e.g. an unmasked number
DIGIT_RUN = re.compile(r"(?<!\d)\d{9,12}(?!\d)")


def test_the_audience_is_what_the_tests_expect() -> None:
    """The data file itself, so the end-to-end figures below mean what they say."""
    assert (len(AUDIENCE_ROWS), len(AUDIENCE), len(DNC & AUDIENCE), len(TO_PUSH)) == (20, 16, 2, 14)


# --- the respondent: runs in its own process (python -m tests.compliance.test_sign_off ...) -------------------------


def _api() -> Any:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app(apps="core"))


def _login(client: Any, username: str, password: str) -> dict[str, str]:
    answer = client.post("/auth/token", json={"username": username, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _pending(client: Any, headers: dict[str, str], dag_id: str, logical_date: str, deadline: float) -> dict[str, Any]:
    """The unanswered sign-off request of the run at ``logical_date``, once ``dags test`` waits for the answer.

    ``dags test`` writes the parked task's state once more after the task itself parked it (``_run_task``:
    ``ti.set_state(...)``, a fresh read then a merge): an answer in that window would be overwritten and the run
    would wait forever. So the answer waits for the log line ``dag.test`` writes after it. A task run by a
    scheduler's executor has no such window.
    """
    wanted = datetime.fromisoformat(logical_date)
    log = Path(os.environ["FPTSMS_SIGN_OFF_DAG_TEST_LOG"])
    while time.monotonic() < deadline:
        answer = client.get(
            f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails", params={"response_received": False}, headers=headers
        )
        answer.raise_for_status()
        for item in answer.json()["hitl_details"]:
            ti = item["task_instance"]
            if (
                ti["logical_date"]
                and datetime.fromisoformat(ti["logical_date"].replace("Z", "+00:00")) == wanted
                and ti["state"] == "awaiting_input"
                and WAITING_MARK in log.read_text(encoding="utf-8", errors="replace")
            ):
                return dict(item)
        time.sleep(0.5)
    raise TimeoutError(f"no sign-off request of {dag_id} waiting for an answer for the run at {logical_date}")


def _detail_path(item: dict[str, Any]) -> str:
    ti = item["task_instance"]
    return f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails"


def _respond(dag_id: str, logical_date: str, choice: str) -> dict[str, Any]:
    """Answer the run's sign-off as the respondent, after an outsider's answer is refused."""
    deadline = time.monotonic() + WAIT_SECONDS
    client = _api()
    headers = _login(client, RESPONDENT, RESPONDENT_PASSWORD)
    item = _pending(client, headers, dag_id, logical_date, deadline)
    outsider = client.patch(
        _detail_path(item), json={"chosen_options": ["Approve"]}, headers=_login(client, OUTSIDER, OUTSIDER_PASSWORD)
    )
    answer = client.patch(_detail_path(item), json={"chosen_options": [choice]}, headers=headers)
    return {"request": item, "outsider": outsider.status_code, "status": answer.status_code, "answer": answer.json()}


def _expire(dag_id: str, logical_date: str) -> dict[str, Any]:
    """Give no answer, and do the scheduler's part `dags test` lacks: its sweep of parked Human-in-the-loop tasks
    past their deadline (every ``[scheduler] trigger_timeout_check_interval``, 15 s by default). Returns the
    request as the sweep resolved it."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    deadline = time.monotonic() + WAIT_SECONDS
    client = _api()
    headers = _login(client, RESPONDENT, RESPONDENT_PASSWORD)
    item = _pending(client, headers, dag_id, logical_date, deadline)
    sweep = SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts
    while time.monotonic() < deadline:
        sweep()  # resolves nothing before the deadline
        detail = client.get(_detail_path(item), headers=headers).json()
        if detail["response_received"]:
            return {"request": item, "detail": detail}
        time.sleep(1)
    raise TimeoutError("the sign-off's timeout was never applied")


def main(argv: list[str]) -> None:
    action, dag_id, logical_date, *rest = argv
    result = _respond(dag_id, logical_date, *rest) if action == "respond" else _expire(dag_id, logical_date)
    print("RESULT " + json.dumps(result, default=str))


# --- the test side ---------------------------------------------------------------------------------------------------


@dataclass
class Run:
    state: str
    output: str
    tasks: dict[str, str | None]
    #: the run's ``return_value`` XComs by task (JSON as Airflow stored it)
    returned: dict[str, Any]
    #: every XCom value and rendered template field the run stored, as text
    stored: list[str]
    respondent: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    path = tmp_path_factory.mktemp("sign-off-home")
    (path / "passwords.json").write_text(
        json.dumps({RESPONDENT: RESPONDENT_PASSWORD, OUTSIDER: OUTSIDER_PASSWORD}), encoding="utf-8"
    )
    home = AirflowHome(
        path,
        DAGS,
        # the worktree's code, in every Airflow process (an editable install may point elsewhere)
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{RESPONDENT}:admin,{OUTSIDER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(path / "passwords.json"),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
    )
    home.migrate()
    return home


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def _stored(database: sqlite3.Connection, run_id: str) -> tuple[dict[str, Any], list[str]]:
    xcoms = database.execute("SELECT task_id, key, value FROM xcom WHERE run_id = ?", (run_id,)).fetchall()
    returned = {task: json.loads(value) for task, key, value in xcoms if key == "return_value"}
    rendered = database.execute(
        "SELECT rendered_fields FROM rendered_task_instance_fields WHERE run_id = ?", (run_id,)
    ).fetchall()
    return returned, [str(value) for _, _, value in xcoms] + [str(fields) for (fields,) in rendered]


@pytest.fixture
def sandbox(fptsms_sandbox: SandboxHandle) -> SandboxHandle:
    """The session's sandbox, reset, with a telco that decides, sends and reports in seconds."""
    fptsms_sandbox.admin.configure(**TELCO_DELAYS)
    return fptsms_sandbox


@pytest.fixture
def run_dag(home: AirflowHome, sandbox: SandboxHandle, tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def run(dag_id: str, action: str, *answer: str) -> Run:
        """Run ``dag_id`` while the respondent process does ``action`` (``respond`` with a choice, or ``expire``)."""
        logical_date = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        env = {
            **home.env(sandbox.url),
            "FPTSMS_STATE_PATH": str(tmp_path / "fptsms-state"),  # this run's creation records
            "FPTSMS_SIGN_OFF_DAG_TEST_LOG": str(tmp_path / "dags-test.log"),
        }
        began = time.monotonic()
        with (tmp_path / "dags-test.log").open("w+") as log, (tmp_path / "respondent.log").open("w+") as answers:
            dag_test = subprocess.Popen(
                [home.airflow, "dags", "test", dag_id, logical_date],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started.append(dag_test)
            answering = subprocess.Popen(
                [sys.executable, "-m", "tests.compliance.test_sign_off", action, dag_id, logical_date, *answer],
                env=env,
                cwd=ROOT,
                stdout=answers,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started.append(answering)
            try:
                answering.wait(timeout=WAIT_SECONDS)
                dag_test.wait(timeout=max(5.0, WAIT_SECONDS - (time.monotonic() - began)))
            except subprocess.TimeoutExpired:
                pass
            seconds = time.monotonic() - began
            log.seek(0)
            answers.seek(0)
            output, answered = log.read(), answers.read()
        result = next((line for line in answered.splitlines() if line.startswith("RESULT ")), None)
        assert result, f"the respondent failed:\n{answered[-4000:]}\n--- dags test:\n{output[-3000:]}"
        respondent_result = json.loads(result[7:])
        run_id = respondent_result["request"]["task_instance"]["dag_run_id"]
        with sqlite3.connect(home.home / "airflow.db") as database:
            [(state,)] = database.execute("SELECT state FROM dag_run WHERE run_id = ?", (run_id,)).fetchall()
            tasks = dict(database.execute("SELECT task_id, state FROM task_instance WHERE run_id = ?", (run_id,)))
            returned, stored = _stored(database, run_id)
        return Run(state, output, tasks, returned, stored, respondent_result, seconds)

    yield run
    for process in started:
        _stop(process)


def _audience_in(text: str) -> list[str]:
    """The audience's numbers in ``text``, in any of the forms they are written in."""
    return sorted(form for form in WRITTEN if form in text)


def _phones_in(text: str) -> list[str]:
    """What in ``text`` looks like a phone number: a 9-12 digit run, or an audience number in any form."""
    return DIGIT_RUN.findall(text) + _audience_in(text)


def _nothing_created(sandbox: SandboxHandle) -> None:
    """The sandbox's own records: no campaign, no QC message, and no call at all (the preview calls nothing)."""
    admin = sandbox.admin
    assert admin.campaigns() == []
    assert admin.ledger(kind="qc") == [] and admin.summary()["total"] == 0
    calls = admin.requests()
    assert calls.get(CREATE_PATH, 0) == calls.get(PUSH_PATH, 0) == 0, calls
    assert calls == {}, calls  # not even a token: the preview and the sign-off never call FPT


@pytest.mark.signoff_e2e  # `make e2e` runs these (three `airflow dags test` runs, ~90 s)
@needs_dags_test_hitl
@needs_hitl  # evaluated first: on 3.0 its reason is the one that applies
def test_approve_creates_and_pushes_the_campaign(run_dag: Any, sandbox: SandboxHandle) -> None:
    run = run_dag(PROMO, "respond", "Approve")
    assert run.state == "success", run.output[-3000:]
    assert run.tasks == dict.fromkeys(TASKS, "success")

    # what the sandbox recorded: one campaign, this run's, holding the audience minus the do-not-contact list
    admin = sandbox.admin
    code = run.returned["create_campaign"]
    [campaign] = admin.campaigns()
    assert (campaign["CampaignCode"], campaign["CampaignName"]) == (code, "signoff-promo")
    # the quota leaves the do-not-contact list out: FPT reserves nothing for phones never pushed
    assert (campaign["Total"], campaign["Quota"], campaign["State"]) == (len(TO_PUSH), len(TO_PUSH), "sent")
    pushed = [entry["phone"] for entry in admin.ledger(campaign_code=code)]
    assert sorted(pushed) == sorted(TO_PUSH)  # each once; none suppressed, duplicated or invalid
    assert admin.summary(kind="qc")["total"] == len(TO_PUSH)  # nothing outside the campaign either
    calls = admin.requests()
    assert (calls[CREATE_PATH], calls[PUSH_PATH]) == (1, 3), calls  # 14 phones, chunk_size 5
    preview = run.returned["preview_campaign"]
    assert preview["to_push"] == len(pushed)  # the preview said what the push did
    assert (preview["campaign_name"], preview["schedule_time"]) == (campaign["CampaignName"], campaign["ScheduleTime"])
    assert run.returned["delivery_report"]  # the report task returned its summary

    # what the respondent was shown, and how the answer was recorded
    request = run.respondent["request"]
    assert request["subject"] == "Send QC campaign signoff-promo (sign_off_promo.yaml)?"
    body = request["body"]
    for row in (
        "| Audience rows | 20 |",
        "| Valid phones | 16 unique |",
        "| Duplicates | 2 (sent once) |",
        "| Suppressed | 2 (dnc 2) |",
        "| Capped | 0 (more than 3 in 24 h) |",
        "| To push | 14 phones |",
        "| Quota asked | 14 |",
        "| Estimated cost | 14 SMS parts, about 11,200 VND |",  # the spec's prices: default 800
    ):
        assert f"\n{row}\n" in body, (row, body)
    assert body.startswith("### QC campaign sign-off\n") and "\n| Campaign | signoff-promo |\n" in body, body
    assert "\n```text\n[QC] FPT Shop: Giam 20% phu kien cuoi tuan nay." in body, body  # verbatim
    assert _phones_in(body) == [], body  # no phone number of the audience, in any form
    assert [text for text in run.stored if _audience_in(text)] == []  # nor in what the run stored
    assert _audience_in(run.output) == []  # nor in its log
    assert request["assigned_users"] == [{"id": RESPONDENT, "name": RESPONDENT}]
    assert request["defaults"] == ["Reject"]  # what a timeout chooses
    assert run.respondent["outsider"] == 403  # only a named respondent may sign off
    assert run.respondent["status"] == 200
    assert run.respondent["answer"]["chosen_options"] == ["Approve"]
    assert run.respondent["answer"]["responded_by"] == {"id": RESPONDENT, "name": RESPONDENT}
    print(f"approve: {run.seconds:.1f} s")


@pytest.mark.signoff_e2e  # `make e2e` runs these (three `airflow dags test` runs, ~90 s)
@needs_dags_test_hitl
@needs_hitl  # evaluated first: on 3.0 its reason is the one that applies
def test_reject_creates_nothing(run_dag: Any, sandbox: SandboxHandle) -> None:
    run = run_dag(PROMO, "respond", "Reject")
    _nothing_created(sandbox)
    assert run.state == "success", run.output[-3000:]  # the documented end state of a rejected sign-off
    assert run.tasks == {"preview_campaign": "success", "sign_off": "success", **dict.fromkeys(LIFECYCLE, "skipped")}
    assert run.respondent["answer"]["chosen_options"] == ["Reject"]
    assert run.respondent["answer"]["responded_by"] == {"id": RESPONDENT, "name": RESPONDENT}
    assert [text for text in run.stored if _audience_in(text)] == []  # nor a phone in what the run stored
    print(f"reject: {run.seconds:.1f} s")


@pytest.mark.signoff_e2e  # `make e2e` runs these (three `airflow dags test` runs, ~90 s)
@needs_dags_test_hitl
@needs_hitl  # evaluated first: on 3.0 its reason is the one that applies
def test_no_answer_in_time_creates_nothing(run_dag: Any, sandbox: SandboxHandle) -> None:
    run = run_dag(UNANSWERED, "expire")
    _nothing_created(sandbox)
    assert run.state == "success", run.output[-3000:]
    assert run.tasks == {"preview_campaign": "success", "sign_off": "success", **dict.fromkeys(LIFECYCLE, "skipped")}
    detail = run.respondent["detail"]
    assert detail["chosen_options"] == ["Reject"]  # never approved by default
    assert detail["responded_by_user"] is None  # recorded as the timeout's, not a person's
    print(f"no answer: {run.seconds:.1f} s")


# --- what the spec and the function build ----------------------------------------------------------------------------


def _dag_bag(path: Path) -> Any:
    """The DAG file parsed as the dag-processor parses it (``DagBag`` moved in Airflow 3.2; belongs in tests/compat)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0/3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,attr-defined,unused-ignore]
    return DagBag(dag_folder=str(path), safe_mode=False)  # examples: off (AIRFLOW__CORE__LOAD_EXAMPLES, conftest)


def _before_3_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 3.0, as far as the provider's version checks can tell (the real one on that line)."""
    from airflow_provider_fptsms import _compat

    if airflow_at_least("3.1"):
        monkeypatch.setattr(_compat, "AIRFLOW_VERSION", (3, 0, 6))


def test_a_spec_with_a_sign_off_is_refused_before_airflow_3_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_fptsms.spec import CampaignSpecError, load_spec

    _before_3_1(monkeypatch)
    with pytest.raises(CampaignSpecError) as refused:
        load_spec(SPECS / "sign_off_promo.yaml")
    assert refused.value.field == "sign_off_promo.yaml: sign_off"
    text = str(refused.value)
    assert "sign-off (Human-in-the-loop approval) needs Airflow 3.1 or newer" in text, text
    assert "pip install 'apache-airflow>=3.1'" in text and "remove sign_off: or upgrade Airflow" in text, text


def test_a_dag_file_with_a_sign_off_fails_to_parse_before_airflow_3_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a spec DAG with a sign-off meets on Airflow 3.0 when its file is parsed: an import error that names
    the key and the version it needs, not an ImportError deep in Airflow."""
    _before_3_1(monkeypatch)
    bag = _dag_bag(DAG_FILE)
    assert bag.dags == {}
    [error] = bag.import_errors.values()
    assert "CampaignSpecError" in error and "sign_off_promo.yaml: sign_off" in error, error
    assert "needs Airflow 3.1 or newer" in error and "pip install 'apache-airflow>=3.1'" in error, error


@needs_hitl
def test_the_dag_file_parses_on_airflow_3_1_and_later() -> None:
    from airflow_provider_fptsms.operators.sign_off import preview_body

    bag = _dag_bag(DAG_FILE)
    assert bag.import_errors == {}
    assert sorted(bag.dags) == [PROMO, UNANSWERED]
    for dag_id, timeout in ((PROMO, timedelta(hours=4)), (UNANSWERED, timedelta(seconds=3.6))):
        dag = bag.dags[dag_id]
        assert [t.task_id for t in dag.topological_sort()] == TASKS
        sign_off = dag.get_task("sign_off")
        assert sign_off.body == preview_body("preview_campaign", "markdown")
        assert sign_off.assigned_users == [{"id": RESPONDENT, "name": RESPONDENT}]
        assert sign_off.response_timeout == timeout and sign_off.defaults == ["Reject"]
        assert sign_off.ignore_downstream_trigger_rules is True and sign_off.fail_on_reject is False
        assert not sign_off.notifiers  # notify: false
        assert dag.get_task("create_campaign").upstream_task_ids == {"sign_off"}


@needs_hitl
def test_the_operator_it_builds() -> None:
    from airflow.sdk import DAG

    from airflow_provider_fptsms.operators.sign_off import preview_body, sign_off_task

    with DAG("sign_off_unit", schedule=None, default_args={"retries": 3, "execution_timeout": timedelta(minutes=5)}):
        task = sign_off_task(
            body=preview_body("preview_campaign"),
            subject="Send?",
            respondents=["lead", {"id": "42", "name": "Chị Lan"}],
            timeout=timedelta(hours=4),
        )
    assert task.task_id == "sign_off" and task.body == "{{ ti.xcom_pull(task_ids='preview_campaign') }}"
    assert "body" in task.template_fields and "subject" in task.template_fields
    assert task.assigned_users == [{"id": "lead", "name": "lead"}, {"id": "42", "name": "Chị Lan"}]
    assert task.defaults == ["Reject"] and task.response_timeout == timedelta(hours=4)
    assert task.ignore_downstream_trigger_rules is True and task.fail_on_reject is False
    assert task.retries == 0 and task.execution_timeout is None  # the DAG's defaults do not reach the sign-off
    assert preview_body("preview_campaign", "markdown") == "{{ ti.xcom_pull(task_ids='preview_campaign')['markdown'] }}"


@needs_hitl
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"defaults": "Approve"}, "always rejected"),
        ({"response_timeout": timedelta(hours=1)}, "use timeout="),
        ({"execution_timeout": timedelta(hours=1)}, "use timeout="),
        ({"ignore_downstream_trigger_rules": False}, "skips every task"),
        ({"timeout": timedelta(0)}, "not a positive timedelta"),
        ({"respondents": []}, "is empty"),
        ({"respondents": [""]}, "is not a user id"),
        ({"options": ["Yes", "No"]}, "not allowed"),
    ],
)
def test_what_it_refuses(kwargs: dict[str, Any], error: str) -> None:
    from airflow_provider_fptsms.operators.sign_off import sign_off_task

    with pytest.raises((InvalidInputError, TypeError, ValueError), match=error):
        sign_off_task(body="b", subject="s", **kwargs)


if __name__ == "__main__":
    main(sys.argv[1:])
