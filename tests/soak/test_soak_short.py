"""The short fault soak (the long one is ``make soak``): nothing lost, nothing sent twice, nothing leaked."""

from __future__ import annotations

import pytest

from tests.soak.soak import run

pytestmark = pytest.mark.exactly_once


def test_short_soak_loses_nothing_and_duplicates_nothing() -> None:
    figures = run(messages=2000, campaign_phones=20_000, seed=11, kills=1)
    print(figures)
    assert figures["cskh_in_ledger"] == figures["cskh_unique"] == 2000 and figures["cskh_duplicates"] == 0
    assert figures["qc_in_ledger"] == figures["qc_unique"] == 20_000 and figures["qc_duplicates"] == 0
    assert figures["log_debug_lines"] > 100 and figures["log_leaks"] == []  # scanned at DEBUG, nothing leaked
    injected = figures["faults_injected"]
    assert injected["error_5xx"] and injected["drop"] and injected["lost_reply"] and injected["token_invalidated"]
