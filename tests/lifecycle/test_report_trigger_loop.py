"""Issue 13: the report trigger polls a 1,000,000-row ``dlr-ads`` report without holding the triggerer.

The report comes from a local aiohttp server in a child process (``benchmarks.report_trigger``),
streamed in the sandbox's ``dlr-ads`` layout; the connection is injected as ``AIRFLOW_CONN_*``.
An independent heartbeat coroutine on the same loop measures the longest stall; peak RSS during
the poll (``VmHWM`` reset just before it) minus RSS before it is the memory growth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_fptsms.sandbox.server import fpt_connection
from airflow_provider_fptsms.triggers.campaign import FptCampaignReportTrigger
from benchmarks.report_trigger import CONN_ID, expected_counts, first_event, measured_poll, report_server

ROWS = 1_000_000


@pytest.fixture(scope="module")
def report_url() -> Iterator[str]:
    with report_server() as url:
        yield url


@pytest.fixture
def report_conn(report_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = fpt_connection(report_url, timeout=30, max_attempts=1)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))


@pytest.mark.usefixtures("report_conn")
async def test_million_row_report_poll_keeps_the_loop_and_memory_free() -> None:
    result = await measured_poll(ROWS)
    expected = expected_counts(ROWS)
    event = result["event"]
    assert event == {
        "status": "complete",
        "campaign_code": f"DLR-{ROWS}",
        "rows": ROWS,
        "final": expected["final"],
        "pending": expected["pending"],
    }
    assert result["beats"] > 20  # the heartbeat really ran through the poll
    assert result["max_stall_ms"] <= 50, result
    assert result["memory_growth_mb"] <= 50, result


@pytest.mark.usefixtures("report_conn")
async def test_an_error_reply_is_an_error_event() -> None:
    event = await first_event(FptCampaignReportTrigger("NO-SUCH-CAMPAIGN", 1, CONN_ID, poll_interval=0.01))
    assert event["status"] == "error" and "1014" in event["message"]


@pytest.mark.usefixtures("report_conn")
async def test_a_report_still_arriving_waits_until_the_deadline() -> None:
    event = await first_event(FptCampaignReportTrigger("DLR-1000", 1000, CONN_ID, poll_interval=0.01, deadline=0))
    assert event == {"status": "deadline", "campaign_code": "DLR-1000", "rows": 1000, "final": 900, "pending": 100}
