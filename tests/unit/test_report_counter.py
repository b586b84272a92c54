"""The streaming ``dlr-ads`` counter: same answers as the whole-body parser, however the bytes arrive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fptsms.gateways import fpt
from airflow_provider_fptsms.gateways.errors import AuthError, MalformedReplyError, RetryableError, TokenError

FAST = settings(max_examples=150, derandomize=True, deadline=None)

REPORT = (
    "\ufeffPhone,Telco,Status,Error,SendTime,DoneTime,BatchId\r\n"
    "84912345678,viettel,1,,2026-12-01 09:00:00,2026-12-01 09:05:00,qc.1\r\n"
    '84912345679,vinaphone,0,"DELIVERY_FAILED, ""busy""\r\nsecond line",2026-12-01 09:00:00,,qc.1\r\n'
    "84912345680,mobifone,2,,2026-12-01 09:00:00,,qc.1\r\n"
    ",,,,,,\r\n"
    "\r\n"
    "84912345681,viettel,DELIVRD,,,,qc.2\r\n"
    "84912345682,viettel,-11,,,,qc.2\r\n"
    "84912345683,viettel,???,,,,qc.2\r\n"
    "84912345684,viettel\r\n"
    "84912345685,viettel,  ,,,,qc.2"
).encode()


def _fed(body: bytes, cuts: list[int], status: int = 200) -> fpt.ReportCounts:
    counter = fpt.DeliveryReportCounter(status)
    last = 0
    for cut in sorted(set(cuts)):
        counter.feed(body[last:cut])
        last = cut
    counter.feed(body[last:])
    return counter.close()


def test_counts_by_normalised_status() -> None:
    counts = fpt.count_delivery_report(200, REPORT)
    assert counts.by_status == {"delivered": 2, "failed": 1, "pending": 4, "unknown": 1}
    assert (counts.rows, counts.final, counts.pending) == (8, 3, 5)
    assert counts.complete(3) and not counts.complete(4)


def test_agrees_with_the_whole_body_parser() -> None:
    records = fpt.parse_delivery_report(200, REPORT)
    assert fpt.count_delivery_report(200, REPORT) == fpt.ReportCounts.of(r.status for r in records)


@FAST
@given(st.lists(st.integers(min_value=0, max_value=len(REPORT)), max_size=12))
def test_any_chunking_gives_the_same_counts(cuts: list[int]) -> None:
    assert _fed(REPORT, cuts) == fpt.count_delivery_report(200, REPORT)


def test_byte_by_byte() -> None:
    assert _fed(REPORT, list(range(len(REPORT)))) == fpt.count_delivery_report(200, REPORT)


def test_empty_and_header_only_reports() -> None:
    assert fpt.count_delivery_report(200, b"").rows == 0
    assert fpt.count_delivery_report(200, b"  \r\n").rows == 0
    assert fpt.count_delivery_report(200, b"Phone,Status\r\n").rows == 0


def test_a_report_without_a_status_column_is_all_pending() -> None:
    counts = fpt.count_delivery_report(200, b"Phone,Telco\r\n84912345678,viettel\r\n")
    assert counts.by_status == {"pending": 1}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        pytest.param(401, b'{"error": 1013, "error_description": "expired"}', TokenError, id="4xx-json"),
        pytest.param(200, b'  {"Error": 1008, "Error_description": "bad client"}', AuthError, id="json-under-200"),
        pytest.param(503, b"<html>busy</html>", RetryableError, id="5xx-html"),
        pytest.param(200, b"Status,Telco\r\n1,vina\r\n", MalformedReplyError, id="no-phone-column"),
    ],
)
def test_error_replies_raise_the_typed_errors_of_the_whole_body_parser(
    status: int, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        fpt.parse_delivery_report(status, body)
    with pytest.raises(error):
        _fed(body, list(range(0, len(body), 3)), status)


def test_memory_is_bounded_by_one_record() -> None:
    counter = fpt.DeliveryReportCounter()
    counter.feed(b'Phone,Status\r\n84912345678,"never closed')
    with pytest.raises(MalformedReplyError, match="longer than"):
        for _ in range(20):
            counter.feed(b"x" * (1 << 16))


def test_an_error_body_is_kept_only_in_part() -> None:
    counter = fpt.DeliveryReportCounter(502)
    for _ in range(40):
        counter.feed(b"<p>" + b"x" * (1 << 16))
    assert len(counter._tail) <= fpt.DeliveryReportCounter.MAX_PENDING
    with pytest.raises(RetryableError):
        counter.close()


def test_final_statuses_are_one_rule() -> None:
    assert sorted(fpt.FINAL_DLR_STATUSES) == ["delivered", "failed"]
    assert fpt.ReportCounts.of(["delivered", "failed", "pending", "unknown"]).final == 2
