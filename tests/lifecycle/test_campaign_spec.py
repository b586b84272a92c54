"""Campaign specs: a YAML file becomes the lifecycle DAG; mistakes fail at parse time, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_fptsms.spec import CampaignSpecError, campaign_dag, load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "dags_examples" / "campaigns" / "weekend_promo.yaml"

GOOD = """
message: "[QC] Khuyen mai 20%"
send_at: "2027-01-20 09:00"
audience: {path: phones.txt}
alerts: {phones: ["0912345678"], via: fibo}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "phones.txt").write_text("0912345678\n0987654321\n")
    spec = tmp_path / "promo.yaml"
    spec.write_text(text)
    return spec


def test_example_spec_builds_the_lifecycle() -> None:
    dag = campaign_dag(EXAMPLE)
    assert dag.dag_id == "qc_weekend_promo"
    assert sorted(dag.task_ids) == [
        "create_campaign",
        "delivery_report",
        "push_phones",
        "wait_for_approval",
        "wait_until_sent",
    ]
    assert dag.get_task("wait_for_approval").downstream_task_ids == {"wait_until_sent"}
    spec = load_spec(EXAMPLE)
    assert spec.name == "weekend-promo" and spec.poll_interval == 300 and spec.alert_via == "fpt"
    assert spec.send_at == "next_valid" and dag.get_task("push_phones").pool == "fptsms_gateway"
    assert Path(spec.audience_path).is_file()


def test_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.dag_id == "qc_promo" and spec.chunk_size == 1000 and spec.alert_phones == ("0912345678",)
    assert "marketing" not in campaign_dag(write(tmp_path, GOOD), poll_interval=1).tags


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("send_at: next_valid\naudience: {path: phones.txt}", "message"),
        ('message: "[QC] x"\naudience: {path: phones.txt}', "send_at"),
        ('message: "[QC] x"\nsend_at: "20/01/2027 09:00"\naudience: {path: phones.txt}', "send_at"),
        ('message: "[QC] x"\nsend_at: "2027-01-20 12:00"\naudience: {path: phones.txt}', "send_at"),
        ('message: "[QC] x"\nsend_at: next_valid', "audience"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: {path: missing.csv}', "audience.path"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\nalerts: {phones: ["123"]}', "alerts.phones"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\nalerts: {via: sms}', "alerts.via"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\nchunk_size: 0', "chunk_size"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\nname: "' + "n" * 30 + '"', "name"),
        ('message: "[QC] x"\nsend_at: next_valid\naudience: phones.txt\nqouta_margin: 3', "qouta_margin"),
        ('message: "   "\nsend_at: next_valid\naudience: phones.txt', "message"),
        ("- just\n- a list", "spec"),
        ("message: [unclosed", "spec"),
    ],
)
def test_mistakes_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(CampaignSpecError) as caught:
        load_spec(write(tmp_path, text))
    assert caught.value.field.endswith(field), str(caught.value)
    assert "0912345678" not in str(caught.value)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(CampaignSpecError, match="file not found"):
        campaign_dag(tmp_path / "nope.yaml")
