"""The advertising law in a campaign spec: refused when the DAG is parsed, or wired into the lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fptsms._compat import airflow_at_least
from airflow_provider_fptsms.spec import CampaignSpecError, campaign_dag, load_spec

BASE = 'send_at: "2027-01-20 09:00"\naudience: {path: phones.txt}\n'


def task(dag: Any, task_id: str) -> Any:
    return dag.get_task(task_id)  # an operator, with its own attributes


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "phones.txt").write_text("0912345678\n0987654321\n")
    (tmp_path / "dnc.csv").write_text("so_dien_thoai\n0912345678\n")
    spec = tmp_path / "promo.yaml"
    spec.write_text(text)
    return spec


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('message: "Khuyen mai 20%"\n', "message", "does not start with an advertising label"),
        ('message: "[qc] Khuyen mai"\n', "message", "the label is written exactly '[QC]'"),
        ('message: "[QC] x"\nsuppress: [missing.csv]\n', "suppress[0]", "file not found"),
        ('message: "[QC] x"\nsuppress: {dnc: missing.csv}\n', "suppress.dnc", "file not found"),
        ('message: "[QC] x"\nmax_per_24h: 0\n', "max_per_24h", ""),
        ('message: "[QC] x"\nprices: {vinaphone: 800}\n', "prices.vinaphone", "is not a telco"),
        ('message: "[QC] x"\nauto_label: "[KM]"\n', "auto_label", ""),
        ('message: "[QC] x"\nsign_off: {timeout_hours: 4}\n', "sign_off", "respondents"),
    ],
)
def test_a_spec_that_breaks_a_rule_fails_when_parsed(tmp_path: Path, text: str, field: str, words: str) -> None:
    with pytest.raises(CampaignSpecError) as caught:
        load_spec(write(tmp_path, text + BASE))
    assert f"promo.yaml: {field}" in str(caught.value) and words in str(caught.value)


def test_auto_label_lets_an_unlabelled_message_through(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, 'message: "Khuyen mai 20%"\nauto_label: true\n' + BASE))
    assert spec.auto_label is True and spec.message == "Khuyen mai 20%"  # labelled by the create task


def test_the_spec_wires_lists_cap_and_prices_into_the_tasks(tmp_path: Path) -> None:
    text = 'message: "[QC] x"\nsuppress: {dnc: dnc.csv}\nmax_per_24h: 2\nprices: {default: 900}\nbrandname: FTI\n'
    dag = campaign_dag(write(tmp_path, text + BASE))
    push = task(dag, "push_phones")
    assert push.suppress == {"dnc": str(tmp_path / "dnc.csv")} and push.max_per_24h == 2
    assert push.advertiser == "FTI" and push.prices == {"default": 900.0}
    assert task(dag, "create_campaign").prices == {"default": 900.0}
    off = campaign_dag(write(tmp_path, 'message: "[QC] x"\nmax_per_24h: null\n' + BASE))
    assert task(off, "push_phones").max_per_24h is None


@pytest.mark.skipif(not airflow_at_least("3.1"), reason="Human-in-the-loop needs Airflow 3.1+")
def test_sign_off_comes_before_the_campaign_is_created(tmp_path: Path) -> None:
    text = 'message: "[QC] x"\nsign_off: {respondents: [marketing_lead], timeout_hours: 4}\n'
    dag = campaign_dag(write(tmp_path, text + BASE))
    assert task(dag, "preview_campaign").downstream_task_ids == {"sign_off"}
    assert task(dag, "sign_off").downstream_task_ids == {"create_campaign"}
    sign_off = task(dag, "sign_off")
    assert sign_off.assigned_users == [{"id": "marketing_lead", "name": "marketing_lead"}]
    assert sign_off.response_timeout.total_seconds() == 4 * 3600
    with pytest.raises(CampaignSpecError, match=r"sign_off\.notify"):
        load_spec(write(tmp_path, 'message: "[QC] x"\nsign_off: {respondents: [a], notify: true}\n' + BASE))
