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
    ],
)
def test_leaks_are_found(text: str) -> None:
    assert find_leaks([text], ["abcSECRETxyz", "sandbox-pass"]) == [text]


@pytest.mark.parametrize(
    "text",
    ["sent to 84912***678", "0912***678", "MessageId 491785", "batch qc.2215.1795635415.82989", "clientPass=***"],
)
def test_clean_texts_pass(text: str) -> None:
    assert find_leaks([text], ["abcSECRETxyz", "sandbox-pass"]) == []
