"""The state store's guarantees: versioned records, conflicts refused, and on a local disk no two
writers can both pass the version check."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

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
    journal = SendJournal(StateStore(tmp_path), "dag/run/send/-1", flush_every=7)

    def sender(worker: int) -> None:
        for n in range(500):
            journal.record({"request_id": f"{worker}-{n}", "status": "sent"})

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.flush()
    assert len(SendJournal(StateStore(tmp_path), "dag/run/send/-1").recall().done) == 8 * 500


def test_the_journal_tells_done_in_doubt_and_free_apart(tmp_path: Path) -> None:
    journal = SendJournal(StateStore(tmp_path), "dag/run/send/-1")
    journal.intend(["sent", "lost", "refused", "never-answered"])
    for request_id, status in (("sent", "sent"), ("lost", "in_doubt"), ("refused", "failed")):
        journal.record({"request_id": request_id, "status": status, "at": 2e9})
    journal.flush()
    recall = SendJournal(StateStore(tmp_path), "dag/run/send/-1").recall()
    assert set(recall.done) == {"sent"}
    assert set(recall.in_doubt) == {"lost", "never-answered"}  # "refused" reached nothing: free to send
    assert all(at < 2e9 for at in recall.in_doubt.values())  # timed from the announcement, the earliest landing


def test_a_doubt_is_timed_from_the_earliest_attempt_and_only_acceptance_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_provider_fptsms.state as state

    journal = SendJournal(StateStore(tmp_path), "dag/run/send/-1")
    clock = iter([1000.0, 1200.0, 1400.0])
    monkeypatch.setattr(state.time, "time", lambda: next(clock))
    journal.intend(["m"])  # try 1 at 1000: the reply is lost
    journal.record({"request_id": "m", "status": "in_doubt"})
    journal.flush()
    journal.intend(["m"])  # try 2 at 1200: resent inside the window, lost again
    journal.record({"request_id": "m", "status": "in_doubt"})
    journal.flush()
    journal.intend(["m"])  # try 3 at 1400: the gateway is unreachable, nothing left
    journal.record({"request_id": "m", "status": "failed"})
    journal.flush()
    assert SendJournal(StateStore(tmp_path), "dag/run/send/-1").recall().in_doubt == {"m": 1000.0}
