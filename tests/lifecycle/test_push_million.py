"""Issue acceptance: a 1,000,000-phone file pushes through the operator with task RSS <= 150 MB, each phone once.

The 150 MB is the whole task process on Airflow 3.3 (the locked line), its imports included. Other lines'
imports weigh differently (on this machine up to ~20 MB more), so on every line the push must also stay within
what it adds over the same task with nothing to push: the list, the de-duplication bitmaps, the report, the
contact history of the 3-per-24h cap.
"""

from __future__ import annotations

from airflow_provider_fptsms._compat import airflow_at_least
from benchmarks.campaign_push import push_once

BUDGET_MB = 150  # Airflow 3.3
#: what a 1,000,000-phone push may add over the empty push's peak, on any line (10 MB measured on 3.3: 145 - 135)
GROWTH_BUDGET_MB = 25


def test_million_phone_push_in_flat_memory() -> None:
    result = push_once(1_000_000, chunk_size=5000, latency_ms=0, baseline=True)
    assert result["ledger_total"] == 1_000_000
    assert result["ledger_duplicates"] == 0
    growth = result["peak_rss_mb"] - result["baseline_rss_mb"]
    assert growth <= GROWTH_BUDGET_MB, result
    if airflow_at_least("3.3"):
        assert result["peak_rss_mb"] <= BUDGET_MB, result
