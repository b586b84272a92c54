"""What a new user hit with campaign specs: a key named like Airflow's schedule, a column typo found only at
run time, a send time outside the windows without the next slot, task settings the spec could not set, and
``default_args=`` refused. Each case asserts the exact text the user reads."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pendulum
import pytest

# What campaign_dag imports, imported first: Airflow's logging set-up, run on first import, routes warnings
# to logging and would hide them from pytest.warns.
import airflow_provider_fptsms.notifications.sms
import airflow_provider_fptsms.operators.campaign
import airflow_provider_fptsms.sensors.campaign  # noqa: F401
from airflow_provider_fptsms.spec import CampaignSpecDeprecationWarning, CampaignSpecError, campaign_dag, load_spec
from airflow_provider_fptsms.spec_schema import SCHEMA, SCHEMA_ID, SCHEMA_VERSION, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"
BASE = 'message: "[QC] Khuyen mai 20%"\naudience: {path: audience.csv, column: so_dien_thoai}\n'
SEND_TIME = "send_at: next_valid (or 'YYYY-MM-DD HH:mm', Vietnam time)"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "audience.csv").write_text("so_dien_thoai,ten\n0912345678,An\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return spec


def error_of(spec: Path) -> str:
    with pytest.raises(CampaignSpecError) as caught:
        campaign_dag(spec)
    text = str(caught.value)
    assert "0912345678" not in text and "84912345678" not in text
    return text


# --------------------------------------------------------------------------------------------- send_at / schedule


def test_old_schedule_key_still_works_with_a_warning_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = (
        "spec.yaml: 'schedule:' is the old name of 'send_at:' (FPT's ScheduleTime, not the DAG's schedule): "
        "rename it to 'send_at:'; 'schedule:' will stop working in a future version. "
        "The DAG's own schedule is 'dag_schedule:'."
    )
    spec = write(tmp_path, BASE + "schedule: next_valid\n")
    with (
        caplog.at_level(logging.WARNING, logger="airflow_provider_fptsms.spec"),
        pytest.warns(CampaignSpecDeprecationWarning) as warned,
    ):
        dag = campaign_dag(spec)
    assert [str(w.message) for w in warned] == [expected]
    assert issubclass(CampaignSpecDeprecationWarning, FutureWarning)  # shown by default, unlike DeprecationWarning
    assert expected in [r.getMessage() for r in caplog.records]
    with pytest.warns(CampaignSpecDeprecationWarning):
        assert load_spec(spec).send_at == "next_valid"
    assert getattr(dag.get_task("create_campaign"), "schedule_time", None) == "next_valid"


def test_new_key_does_not_warn(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    campaign_dag(write(tmp_path, BASE + "send_at: next_valid\n"))
    assert not [w for w in recwarn if issubclass(w.category, CampaignSpecDeprecationWarning)]


def test_airflow_preset_under_schedule_says_it_is_the_send_time(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + 'schedule: "@daily"\n')) == (
        "invalid spec.yaml: schedule='@daily': is FPT's send time (the old name of send_at), not the DAG's "
        "schedule: '@daily' is an Airflow schedule. Next step: write the DAG's schedule as dag_schedule: '@daily' "
        f"and the send time as {SEND_TIME}"
    )


def test_cron_and_none_under_schedule(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + 'schedule: "0 9 * * MON"\n')) == (
        "invalid spec.yaml: schedule='0 9 * * MON': is FPT's send time (the old name of send_at), not the DAG's "
        "schedule: '0 9 * * MON' is an Airflow schedule. Next step: write the DAG's schedule as "
        f"dag_schedule: '0 9 * * MON' and the send time as {SEND_TIME}"
    )
    assert error_of(write(tmp_path, BASE + "schedule: None\n")) == (
        "invalid spec.yaml: schedule='None': is FPT's send time (the old name of send_at), not the DAG's "
        "schedule: None is an Airflow schedule. Next step: leave out dag_schedule: (the DAG then runs only when "
        f"triggered) and write {SEND_TIME}"
    )


def test_airflow_preset_under_send_at(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + 'send_at: "@daily"\n')) == (
        "invalid spec.yaml: send_at='@daily': is FPT's send time, not the DAG's schedule: '@daily' is an Airflow "
        f"schedule. Next step: write the DAG's schedule as dag_schedule: '@daily' and the send time as {SEND_TIME}"
    )


def test_both_keys(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + "send_at: next_valid\nschedule: next_valid\n")) == (
        "invalid spec.yaml: schedule='next_valid': is the old name of send_at, and send_at is set too. "
        "Next step: delete it"
    )


def test_dag_schedule_sets_the_dags_schedule_and_a_keyword_wins(tmp_path: Path) -> None:
    spec = write(tmp_path, BASE + 'send_at: next_valid\ndag_schedule: "@daily"\n')
    assert campaign_dag(spec).schedule == "@daily"
    assert campaign_dag(spec, schedule="@weekly").schedule == "@weekly"
    assert campaign_dag(write(tmp_path, BASE + "send_at: next_valid\n")).schedule is None


def test_a_fixed_name_on_a_recurring_schedule_is_refused_when_the_dag_is_parsed(tmp_path: Path) -> None:
    fixed = BASE + 'send_at: next_valid\nname: tet-2027\ndag_schedule: "@daily"\n'
    assert error_of(write(tmp_path, fixed)) == (
        "invalid spec.yaml: name='tet-2027': is fixed, but the DAG runs again (@daily): FPT campaign names are "
        "single-use, so every run after the first would fail. Next step: leave out name: (each run then derives "
        "its own from its date), or template it with the run's date (name: 'tet-2027-{{ ds_nodash }}'), or run "
        "the DAG once (dag_schedule: '@once')"
    )
    once = BASE + "send_at: next_valid\nname: tet-2027\n"
    assert campaign_dag(write(tmp_path, once)).schedule is None  # triggered by hand: one run, one name
    with pytest.raises(CampaignSpecError, match="runs again \\(0 9 \\* \\* 1\\)"):
        campaign_dag(write(tmp_path, once), schedule="0 9 * * 1")  # the keyword's schedule counts too
    templated = BASE + "send_at: next_valid\nname: 'tet-{{ ds_nodash }}'\ndag_schedule: '@daily'\n"
    dag = campaign_dag(write(tmp_path, templated))
    assert getattr(dag.get_task("create_campaign"), "campaign_name", None) == "tet-{{ ds_nodash }}"


def test_a_fixed_send_time_on_a_recurring_schedule_is_refused(tmp_path: Path) -> None:
    spec = BASE + "send_at: '2027-01-20 09:00'\ndag_schedule: '@weekly'\n"
    assert error_of(write(tmp_path, spec)) == (
        "invalid spec.yaml: send_at='2027-01-20 09:00': is one fixed moment, but the DAG runs again (@weekly): "
        "every run after that moment would fail. Next step: write send_at: next_valid (each run sends at the "
        "next valid slot), or run the DAG once (dag_schedule: '@once')"
    )


def test_a_send_time_under_dag_schedule(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + 'send_at: next_valid\ndag_schedule: "2027-01-20 09:00"\n')) == (
        "invalid spec.yaml: dag_schedule='2027-01-20 09:00': is a send time, not an Airflow schedule. Next step: "
        "move it to 'send_at:'; dag_schedule takes a cron expression or a preset such as @daily, or leave it out "
        "(the DAG then runs only when triggered)"
    )


def test_send_time_outside_the_windows_offers_the_next_slot_like_the_run_time_check(tmp_path: Path) -> None:
    from airflow_provider_fptsms.gateways.errors import InvalidInputError
    from airflow_provider_fptsms.operators.campaign_create import FptCreateCampaignOperator

    day = (pendulum.now("Asia/Ho_Chi_Minh") + timedelta(days=40)).strftime("%Y-%m-%d")
    text = error_of(write(tmp_path, BASE + f'send_at: "{day} 12:00"\n'))
    assert text == (
        f"invalid spec.yaml: send_at='{day} 12:00': is outside the send windows 08:00-11:30 or 13:30-20:00. "
        f"Next step: the next valid slot is {day} 13:30 (Vietnam time); use it or a later time inside "
        "08:00-11:30 or 13:30-20:00"
    )
    # The run-time check (create_campaign, before any call) says the same next step: one rule.
    operator = FptCreateCampaignOperator(
        task_id="c", message="[QC] x", schedule_time=f"{day} 12:00", quota=1, campaign_name="promo"
    )
    with pytest.raises(InvalidInputError) as caught:
        operator.execute(cast(Any, {}))
    assert text.split("Next step: ")[1] == str(caught.value).split("Next step: ")[1]


def test_a_passed_send_time_inside_a_window_still_parses(tmp_path: Path) -> None:
    """A finished campaign's DAG must not become an import error: only the clock-free window is checked."""
    assert load_spec(write(tmp_path, BASE + 'send_at: "2020-01-20 09:00"\n')).send_at == "2020-01-20 09:00"


# --------------------------------------------------------------------------------------------- audience column


def test_wrong_column_names_the_header_at_parse_time(tmp_path: Path) -> None:
    spec = write(tmp_path, BASE.replace("so_dien_thoai", "sdt") + "send_at: next_valid\n")
    assert error_of(spec) == (
        "invalid spec.yaml: audience.column='sdt': is not in the header of audience.csv: ['so_dien_thoai', 'ten']. "
        "Next step: write one of those names (case does not matter) or a 0-based index"
    )


def test_header_check_reads_only_the_first_lines(tmp_path: Path) -> None:
    spec = write(tmp_path, BASE + "send_at: next_valid\n")
    with (tmp_path / "audience.csv").open("ab") as handle:
        handle.write(b"0912345678,An\n" * 10_000)
        handle.write(b"\xff\xfe not utf-8 further down\n")  # a full read would fail on this line
    assert load_spec(spec).audience_column == "so_dien_thoai"


def test_a_column_on_a_plain_list(tmp_path: Path) -> None:
    (tmp_path / "phones.txt").write_text("0912345678\n")
    spec = write(tmp_path, 'message: "[QC] x"\nsend_at: next_valid\naudience: {path: phones.txt, column: sdt}\n')
    assert error_of(spec) == (
        "invalid spec.yaml: audience.column='sdt': plain-text files have no columns. "
        "Next step: drop 'column:' or use a .csv / .tsv file"
    )


# --------------------------------------------------------------------------------------------- task defaults


def test_pool_and_retries_from_the_spec_reach_every_task(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        BASE + "send_at: next_valid\npool: fptsms_gateway\npool_slots: 2\nretries: 1\nretry_delay_minutes: 10\n",
    )
    dag = campaign_dag(spec)
    for task_id in dag.task_ids:
        task = dag.get_task(task_id)
        assert (task.pool, task.pool_slots, task.retries, task.retry_delay) == (
            "fptsms_gateway",
            2,
            1,
            timedelta(minutes=10),
        ), task_id


def test_default_args_merge_with_the_spec_and_win_key_by_key(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        BASE + "send_at: next_valid\npool: fptsms_gateway\nretries: 1\nalerts: {phones: ['0912345678']}\n",
    )
    dag = campaign_dag(spec, default_args={"retries": 4, "owner": "marketing"})  # was: TypeError
    create = dag.get_task("create_campaign")
    assert (create.pool, create.retries, create.owner) == ("fptsms_gateway", 4, "marketing")
    assert dag.get_task("push_phones").retries == 4
    assert create.on_failure_callback  # the spec's alert survives a default_args without one
    assert campaign_dag(spec, default_args={"pool": "other"}).get_task("push_phones").pool == "other"


def test_push_keeps_three_retries_unless_told(tmp_path: Path) -> None:
    dag = campaign_dag(write(tmp_path, BASE + "send_at: next_valid\n"))
    assert dag.get_task("push_phones").retries == 3


def test_task_setting_type_errors(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, BASE + "send_at: next_valid\npool_slots: 0\n")) == (
        "invalid spec.yaml: pool_slots=0: must be a number >= 1. Next step: e.g. pool_slots: 1"
    )
    assert error_of(write(tmp_path, BASE + "send_at: next_valid\nretries: two\n")) == (
        "invalid spec.yaml: retries='two': must be a whole number. Next step: e.g. retries: 2"
    )


# --------------------------------------------------------------------------------------------- the schema


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    text = error_of(write(tmp_path, BASE + "send_at: next_valid\nretry_delay: 5\n"))
    assert text.startswith(
        "invalid spec.yaml: retry_delay=5: is not a known setting. Next step: did you mean 'retry_delay_minutes:'? "
    )


def test_schema_is_valid_draft_2020_12_and_versioned() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] == SCHEMA_ID and SCHEMA["version"] == SCHEMA_VERSION
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def described(node: dict[str, object], where: str) -> None:
        for name, child in node.get("properties", {}).items():  # type: ignore[attr-defined]
            assert child.get("description"), f"{where}{name} has no description"
            described(child, f"{where}{name}.")

    described(SCHEMA, "")


def test_readme_table_is_the_rendered_schema() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- campaign-spec-schema:start -->\n(.*?)<!-- campaign-spec-schema:end -->", text, re.S)
    assert found, "README lost the campaign spec table markers"
    assert found.group(1) == markdown_table(), (
        "README's campaign spec table is stale: replace it with "
        "`python -m airflow_provider_fptsms.spec_schema --markdown`"
    )


def test_example_spec_uses_the_new_key(recwarn: pytest.WarningsRecorder) -> None:
    example = README.parent / "dags_examples" / "campaigns" / "weekend_promo.yaml"
    assert load_spec(example).send_at == "next_valid"
    assert not [w for w in recwarn if issubclass(w.category, CampaignSpecDeprecationWarning)]
