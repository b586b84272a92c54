"""Issue acceptance: a 1,000,000-phone file pushes through the operator with task RSS <= 150 MB, each phone once."""

from __future__ import annotations

from benchmarks.campaign_push import measure


def test_million_phone_push_in_flat_memory() -> None:
    result = measure(1_000_000, chunk_size=5000)
    assert result["campaign_push_ledger_total"] == 1_000_000
    assert result["campaign_push_ledger_duplicates"] == 0
    assert result["campaign_push_peak_rss_mb"] <= 150, result
