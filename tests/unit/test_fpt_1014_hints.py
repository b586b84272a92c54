"""FPT 1014 ("Input parameter error") is generic: the next step must fit what the gateway said.

The manual's own samples use 1014 for "Campaign name already exists." (create-campaign) and
"Campaign is already sent." (push-brandname-ads); a user who pushed to a sent campaign was told
about campaign names. These tests pin the exact text a user reads.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import (
    CampaignNameTakenError,
    ErrorSpec,
    ErrorTable,
    InvalidRequestError,
    PermanentError,
)


def _reply(text: str) -> str:
    return json.dumps({"error": 1014, "error_description": text}, ensure_ascii=False)


def _push_error(text: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        fpt.parse_push(400, _reply(text))
    return caught.value


def test_pushing_to_a_campaign_already_sent_says_to_create_a_new_campaign() -> None:
    error = _push_error("Campaign is already sent.")
    assert str(error) == (
        "FPT error 1014: Input parameter error (gateway said: 'Campaign is already sent.'). Next step: the "
        "campaign was already sent at its ScheduleTime; pushing more phones to it is not possible. Create a new "
        "campaign (a new CampaignName) for the phones not pushed yet"
    )
    assert "single-use" not in str(error) and not error.retryable


def test_a_taken_campaign_name_still_says_names_are_single_use() -> None:
    assert _push_error("Campaign name already exists.").next_step == (
        "campaign names are single-use at FPT: pass a new name"
    )
    with pytest.raises(CampaignNameTakenError) as caught:
        fpt.parse_campaign_created(400, _reply("Campaign name already exists."))
    assert str(caught.value) == (
        "FPT error 1014: Campaign name already exists (gateway said: 'Campaign name already exists.'). "
        "Next step: campaign names are single-use at FPT: pass a new name"
    )


def test_any_other_1014_names_the_fields_to_check() -> None:
    error = _push_error("Tham số không hợp lệ: ScheduleTime")  # production answers in Vietnamese
    assert str(error) == (
        "FPT error 1014: Input parameter error (gateway said: 'Tham số không hợp lệ: ScheduleTime'). Next step: "
        "fix the field named in the gateway's text (CampaignName: <= 32 characters and single-use; "
        "ScheduleTime: 'YYYY-MM-DD HH:mm')"
    )


def test_hints_by_text_match_case_insensitively_first_match_wins_and_fall_back() -> None:
    table = ErrorTable(
        "GW",
        (ErrorSpec((7,), "Generic", PermanentError, "general step", by_text=(("Sent", "a"), ("sent twice", "b"))),),
    )
    assert table.error(7, "Already SENT twice").next_step == "a"
    assert table.error(7, "something else").next_step == "general step"
    assert table.error(7, None).next_step == "general step"
    assert table.error(7, "sent", context="(row 3)").next_step == "a (row 3)"


@pytest.mark.parametrize("said", ["Chiến dịch đã được gửi.", "Chiến dịch đã gửi rồi"])
def test_the_vietnamese_production_text_of_a_sent_campaign_gets_the_same_next_step(said: str) -> None:
    assert _push_error(said).next_step.startswith("the campaign was already sent at its ScheduleTime")


def test_a_taken_name_in_vietnamese_is_a_taken_name() -> None:
    with pytest.raises(CampaignNameTakenError):
        fpt.parse_campaign_created(400, _reply("Tên chiến dịch đã tồn tại."))
