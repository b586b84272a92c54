"""The leak guard that wraps every hook test must itself catch leaks."""

from __future__ import annotations

import pytest

from tests.leaks import find_leaks


@pytest.mark.parametrize(
    "text",
    [
        "sent to 0912345678",
        "phone 84912345678 failed",
        "+84987654321",
        "token abcSECRETxyz in url",
        "clientPass=sandbox-pass",
        "phone=0912345678;",
        "[0987654321]",
    ],
)
def test_leaks_are_found(text: str) -> None:
    assert find_leaks([text], ["abcSECRETxyz", "sandbox-pass"]) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "sent to 84912***678",
        "0912***678",
        "MessageId 491785",
        "batch qc.2215.1795635415.82989",
        "clientPass=***",
        # an Airflow DEBUG line seen in a run: a memory address that happens to hold 0801051690
        "Calling 'before_stopping' with {'component': <airflow...Supervisor object at 0x7f0801051690>}",
        # a W3C traceparent in an Airflow DEBUG line of `make e2e`: hex that starts like 0540284996
        "context_carrier={'traceparent': '00-0540284996a4853155328e97e0067220-0457436dbd4bae32-00'}",
    ],
)
def test_clean_texts_pass(text: str) -> None:
    assert find_leaks([text], ["abcSECRETxyz", "sandbox-pass"]) == []
