"""The state store's guarantees: versioned records, conflicts refused, and on a local disk no two
writers can both pass the version check."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from airflow_provider_fptsms.delivery import State
from airflow_provider_fptsms.state import Creation, PushProgress, SendJournal, StateConflictError, StateStore


def test_records_round_trip_with_versions_and_owner(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    record = Creation(name="promo")
    store.save_creation(record, "dag/run/create/-1/try1")
    record.campaign_code = "CODE1"
    store.save_creation(record, "dag/run/create/-1/try1")
    saved = store.creation("promo")
    assert saved is not None and (saved.campaign_code, saved.version, saved.owner) == (
        "CODE1",
        2,
        "dag/run/create/-1/try1",
    )
    assert store.push("nothing") is None


def test_a_stale_writer_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    zombie = PushProgress(key="C1", campaign_code="C1")
    store.save_push(zombie, "try1")
    successor = store.push("C1")
    assert successor is not None
    store.save_push(successor, "try2")  # version 2
    with pytest.raises(StateConflictError, match=r"version 2, expected 1.*try2"):
        store.save_push(zombie, "try1")


def test_concurrent_writers_cannot_both_pass_the_check(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    outcomes: list[str] = []
    for round_ in range(30):
        key = f"race-{round_}"
        store.save_push(PushProgress(key=key, campaign_code=key), "setup")  # version 1
        records = [store.push(key) for _ in range(4)]  # four tries all read version 1
        start = threading.Barrier(len(records))

        def write(record: PushProgress | None, writer: int, start: threading.Barrier = start) -> None:
            assert record is not None
            start.wait()
            try:
                store.save_push(record, f"writer{writer}")
                outcomes.append("saved")
            except StateConflictError:
                outcomes.append("refused")

        threads = [threading.Thread(target=write, args=(r, i)) for i, r in enumerate(records)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = store.push(key)
        assert final is not None and final.version == 2
    assert outcomes.count("saved") == 30 and outcomes.count("refused") == 90  # exactly one winner per round


def test_the_send_journal_keeps_every_result_from_concurrent_senders(tmp_path: Path) -> None:
    """Fibo sends report from a thread pool: results recorded while another thread flushes must not be lost."""
    journal = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01", flush_every=7)

    def sender(worker: int) -> None:
        for n in range(500):
            journal.record(f"{worker}-{n}", {"state": "accepted", "status": "sent"})

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.flush()
    records = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()
    assert sum(r.done for r in records.values()) == 8 * 500


def test_the_journal_tells_done_in_doubt_and_free_apart(tmp_path: Path) -> None:
    journal = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01")
    journal.intend(["sent", "lost", "refused", "never-answered", "duplicate"])
    for key, state in (("sent", "accepted"), ("lost", "in_doubt"), ("refused", "refused")):
        journal.record(key, {"state": state})
    journal.record("duplicate", {"state": "refused", "final": True, "status": "duplicate_content"})
    journal.flush()
    records = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()
    assert {k for k, r in records.items() if r.done} == {"sent", "duplicate"}  # a final refusal stands
    assert {k for k, r in records.items() if r.state is State.IN_DOUBT} == {"lost", "never-answered"}
    assert records["refused"].state is State.REFUSED  # reached nothing: free to send


@pytest.mark.parametrize("appends", [True, False], ids=["local-log", "object-store-segments"])
def test_doubts_are_timed_on_the_store_clock_not_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, appends: bool
) -> None:
    """Two workers' clocks may differ; the journal trusts the store's time of the write-ahead."""
    import os

    import airflow_provider_fptsms.state as state

    journal = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01")
    journal.appends = appends
    monkeypatch.setattr(state.time, "time", lambda: 5e9)  # this worker's clock is far off
    journal.intend(["m"])
    journal.close()
    monkeypatch.undo()
    (segment,) = tmp_path.rglob("*.jsonl")
    record = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()["m"]
    assert record.state is State.IN_DOUBT and record.doubt_since is not None
    assert abs(record.doubt_since - segment.stat().st_mtime) < 5  # the store's time, not 5e9
    if not appends:
        os.utime(segment, (1000.0, 1000.0))  # what the store recorded
        assert SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()["m"].doubt_since == 1000.0
    assert abs(SendJournal(StateStore(tmp_path), "x").clock() - time.time()) < 5  # "now" comes from the store too


def test_a_local_journal_records_every_line_as_it_happens(tmp_path: Path) -> None:
    """No buffer to lose: what a killed try wrote is all there, even without close()."""
    journal = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01")
    journal.intend(["a", "b"])
    journal.record("a", {"state": "accepted"})  # the process dies here: no flush, no close
    records = SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()
    assert records["a"].state is State.ACCEPTED and records["b"].state is State.IN_DOUBT
    (log,) = tmp_path.rglob("*.jsonl")
    log.write_text(log.read_text() + '{"key": "b", "sta')  # a line cut short by a dying machine
    assert SendJournal(StateStore(tmp_path), "dag.send@2026-06-01").recall()["b"].state is State.IN_DOUBT
