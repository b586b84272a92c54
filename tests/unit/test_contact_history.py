"""The contact history behind the 3-per-24h cap: idempotent reservations, keys, privacy, retention, concurrency."""

from __future__ import annotations

import multiprocessing
import queue
import random
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from airflow_provider_fptsms import contact_history
from airflow_provider_fptsms.contact_history import (
    DB_ENV,
    KEY_ENV,
    KEY_FILE_NAME,
    ContactHistory,
    default_db_url,
    history_table,
    resolve_db_url,
)
from airflow_provider_fptsms.gateways.errors import InvalidInputError

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=VN)
H = timedelta(hours=1)
A = "ACME"
PHONES = [f"8491{n:07d}" for n in range(10)]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(DB_ENV, raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture
def history(db_url: str) -> Iterator[ContactHistory]:
    store = ContactHistory(db_url)
    yield store
    store.dispose()


def rows(store: ContactHistory) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(history_table)).scalar_one())


# ---------------------------------------------------------------------------- reserve


def test_reserve_records_and_answers_in_order(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, PHONES[:3], 3) == [True, True, True]
    assert history.was_recorded(A, "c1", PHONES[:5]) == [True, True, True, False, False]
    assert history.was_recorded(A, "c2", PHONES[:3]) == [False, False, False]
    assert rows(history) == 3
    with history.engine.connect() as conn:
        row = conn.execute(select(history_table)).mappings().first()
    assert row is not None
    assert row["advertiser"] == A
    assert row["campaign"] == "c1"
    assert row["schedule_time"] == T0
    assert row["schedule_time"].tzinfo is timezone.utc  # stored as UTC, read back aware
    assert abs(row["recorded_at"] - datetime.now(timezone.utc)) < timedelta(minutes=5)  # the database's clock
    assert row["phone_hash"] in history.hash_phones(PHONES[:3])


def test_reserving_the_same_campaign_again_is_idempotent(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, PHONES, 1) == [True] * 10
    assert history.reserve(A, "c1", T0, PHONES, 1) == [True] * 10  # a retried task: same answer
    assert history.reserve(A, "c1", T0, [PHONES[0], PHONES[0]], 1) == [True, True]
    assert rows(history) == 10


def test_the_cap_counts_across_campaigns(history: ContactHistory) -> None:
    for n, campaign in enumerate(("c1", "c2", "c3")):
        assert history.reserve(A, campaign, T0 + n * H, PHONES[:2], 3) == [True, True]
    assert history.reserve(A, "c4", T0 + 5 * H, PHONES[:3], 3) == [False, False, True]
    assert history.was_recorded(A, "c4", PHONES[:3]) == [False, False, True]
    # Retries keep their answers: c4 stays capped, c1 stays allowed.
    assert history.reserve(A, "c4", T0 + 5 * H, PHONES[:3], 3) == [False, False, True]
    assert history.reserve(A, "c1", T0, PHONES[:2], 3) == [True, True]


def test_a_campaign_24_hours_later_starts_a_new_period(history: ContactHistory) -> None:
    for campaign in ("c1", "c2", "c3"):
        assert history.reserve(A, campaign, T0, PHONES[:1], 3) == [True]
    assert history.reserve(A, "next-day", T0 + 24 * H, PHONES[:1], 3) == [True]
    assert history.reserve(A, "almost", T0 + 24 * H - timedelta(minutes=1), PHONES[1:2], 3) == [True]
    assert history.reserve(A, "almost", T0 + 24 * H - timedelta(minutes=1), PHONES[:1], 3) == [False]


def test_a_campaign_scheduled_for_tomorrow_counts_tonight(history: ContactHistory) -> None:
    tomorrow_nine = datetime(2030, 3, 5, 9, 0, tzinfo=VN)
    tonight = datetime(2030, 3, 4, 20, 0, tzinfo=VN)
    assert history.reserve(A, "tomorrow", tomorrow_nine, PHONES[:2], 1) == [True, True]
    assert history.reserve(A, "tonight", tonight, PHONES[:3], 1) == [False, False, True]


def test_advertisers_are_counted_apart(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, PHONES[:1], 1) == [True]
    assert history.reserve("OTHER", "c1", T0, PHONES[:1], 1) == [True]
    assert history.reserve(A, "c2", T0, PHONES[:1], 1) == [False]
    assert history.was_recorded("OTHER", "c1", PHONES[:1]) == [True]


def test_schedule_times_in_any_zone_are_one_instant(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, PHONES[:1], 1) == [True]
    assert history.reserve(A, "c1", T0.astimezone(timezone.utc), PHONES[:1], 1) == [True]  # same campaign, same time
    assert history.reserve(A, "c2", (T0 + 23 * H).astimezone(timezone.utc), PHONES[:1], 1) == [False]


def test_pendulum_schedule_times_work(history: ContactHistory) -> None:
    from airflow_provider_fptsms.sms.schedule import parse_vn_time

    moment = parse_vn_time("2030-03-04 09:00")
    assert isinstance(moment, pendulum.DateTime)
    assert history.reserve(A, "c1", moment, PHONES[:1], 1) == [True]
    assert history.reserve(A, "c1", T0, PHONES[:2], 1) == [True, True]  # the same instant: the same campaign
    assert history.reserve(A, "c2", pendulum.instance(T0 + H), PHONES[:3], 1) == [False, False, True]


def test_a_campaign_keeps_its_schedule_time_until_released(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, PHONES[:2], 1) == [True, True]
    with pytest.raises(InvalidInputError) as caught:
        history.reserve(A, "c1", T0 + 2 * H, PHONES[2:3], 1)
    assert caught.value.field == "schedule_time"
    assert "release()" in str(caught.value)
    assert history.release(A, "c1") == 2
    assert history.reserve(A, "c1", T0 + 2 * H, PHONES[:1], 1) == [True]
    assert history.release(A, "never") == 0


def test_empty_phone_lists_are_fine(history: ContactHistory) -> None:
    assert history.reserve(A, "c1", T0, [], 3) == []
    assert history.capped(A, "c1", T0, [], 3) == []
    assert history.was_recorded(A, "c1", []) == []


def test_many_phones_cross_the_query_chunks(history: ContactHistory) -> None:
    phones = [f"849{n:08d}" for n in range(1234)]  # > 2 chunks of 500 bound parameters
    assert all(history.reserve(A, "c1", T0, phones, 1))
    mixed = phones[::2] + [f"848{n:08d}" for n in range(700)]
    assert history.reserve(A, "c2", T0, mixed, 1) == [False] * 617 + [True] * 700
    assert sum(history.was_recorded(A, "c2", mixed)) == 700


# ---------------------------------------------------------------------------- capped (preview)


def test_capped_previews_without_recording(history: ContactHistory) -> None:
    for campaign in ("c1", "c2", "c3"):
        history.reserve(A, campaign, T0, PHONES[:1], 3)
    before = rows(history)
    assert history.capped(A, "c4", T0, PHONES[:2], 3) == [True, False]
    assert rows(history) == before
    assert history.was_recorded(A, "c4", PHONES[:2]) == [False, False]
    # A campaign's own numbers are never capped (the preview of a retried push).
    assert history.capped(A, "c1", T0, PHONES[:2], 3) == [False, False]


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: h.reserve(A, "c", datetime(2030, 3, 4, 9, 0), PHONES, 3), "schedule_time"),
        (lambda h: h.reserve(A, "c", T0, PHONES, 0), "max_per_24h"),
        (lambda h: h.reserve("", "c", T0, PHONES, 3), "advertiser"),
        (lambda h: h.reserve(A, "x" * 101, T0, PHONES, 3), "campaign"),
        (lambda h: h.reserve(A, "c", T0, ["84912345678", "+84912345679"], 3), "phones[1]"),
        (lambda h: h.capped(A, "c", T0, [84912345678], 3), "phones[0]"),
        (lambda h: h.was_recorded(A, "c", ["0912 345 678"]), "phones[0]"),
        (lambda h: h.purge(datetime(2030, 3, 4)), "now"),
    ],
)
def test_bad_input_names_its_field(history: ContactHistory, call: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(history)
    assert caught.value.field == field
    assert "Next step" in str(caught.value)


def test_a_bad_phone_is_masked_in_the_error(history: ContactHistory) -> None:
    with pytest.raises(InvalidInputError) as caught:
        history.hash_phones(["84912345678", "84912345679x"])
    assert "84912345679" not in str(caught.value)
    assert "84912***79x" in str(caught.value)


@pytest.mark.parametrize("retention", [timedelta(hours=47, minutes=59), timedelta(0), timedelta(days=-1), 30])
def test_retention_must_cover_48_hours(db_url: str, retention: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(db_url, retention=retention)
    assert caught.value.field == "retention"


def test_retention_of_48_hours_is_enough(db_url: str) -> None:
    ContactHistory(db_url, retention=timedelta(hours=48)).dispose()


def test_other_databases_are_refused_by_name() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory("mysql+pymysql://user:hunter2hunter2@db/x", key="k" * 32)
    assert caught.value.field == "url"
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory("not a url", key="k" * 32)
    assert caught.value.field == "url"


# ---------------------------------------------------------------------------- URLs


def test_default_url_lives_under_airflow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert default_db_url() == f"sqlite:///{tmp_path / 'fptsms' / 'contact_history.db'}"
    assert resolve_db_url() == default_db_url()
    monkeypatch.setenv(DB_ENV, "sqlite:////elsewhere/h.db")
    assert resolve_db_url() == "sqlite:////elsewhere/h.db"
    assert resolve_db_url("sqlite:///given.db") == "sqlite:///given.db"


def test_the_env_url_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DB_ENV, f"sqlite:///{tmp_path / 'env' / 'h.db'}")
    store = ContactHistory()
    store.reserve(A, "c1", T0, PHONES[:1], 3)
    store.dispose()
    assert (tmp_path / "env" / "h.db").exists()
    assert (tmp_path / "env" / KEY_FILE_NAME).exists()


def test_in_memory_sqlite_works() -> None:
    store = ContactHistory("sqlite://")
    assert store.reserve(A, "c1", T0, PHONES[:2], 1) == [True, True]
    assert store.reserve(A, "c2", T0, PHONES[:3], 1) == [False, False, True]
    store.dispose()


# ---------------------------------------------------------------------------- keys


def test_a_key_file_is_created_beside_the_database(tmp_path: Path, db_url: str) -> None:
    first = ContactHistory(db_url)
    key_file = tmp_path / KEY_FILE_NAME
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    second = ContactHistory(db_url)
    assert first.hash_phone("84912345678") == second.hash_phone("84912345678")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind
    first.dispose()
    second.dispose()


def test_racing_threads_agree_on_one_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "race" / KEY_FILE_NAME
    barrier = threading.Barrier(8)
    keys: list[bytes] = []

    def load() -> None:
        barrier.wait()
        keys.append(contact_history._load_key_file(key_file))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8
    assert set(keys) == {key_file.read_bytes()}


def test_a_damaged_key_file_is_refused(tmp_path: Path, db_url: str) -> None:
    (tmp_path / KEY_FILE_NAME).write_bytes(b"x" * 40)
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(db_url)
    assert caught.value.field == "key_file"
    assert "backup" in str(caught.value)


def test_a_different_key_matches_nothing(db_url: str) -> None:
    mine = ContactHistory(db_url, key="a" * 32)
    assert mine.reserve(A, "c1", T0, PHONES[:2], 1) == [True, True]
    theirs = ContactHistory(db_url, key="b" * 32)
    assert theirs.was_recorded(A, "c1", PHONES[:2]) == [False, False]
    assert theirs.hash_phone(PHONES[0]) != mine.hash_phone(PHONES[0])
    assert mine.was_recorded(A, "c1", PHONES[:2]) == [True, True]
    mine.dispose()
    theirs.dispose()


def test_the_env_key_wins_over_the_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> None:
    monkeypatch.setenv(KEY_ENV, "a" * 32)
    from_env = ContactHistory(db_url)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    explicit = ContactHistory(db_url, key=b"a" * 32)
    assert from_env.hash_phone(PHONES[0]) == explicit.hash_phone(PHONES[0])
    assert ContactHistory(db_url, key="z" * 32).hash_phone(PHONES[0]) != explicit.hash_phone(PHONES[0])


def test_hashes_are_compact_hmac_sha256() -> None:
    import base64
    import hashlib
    import hmac

    store = ContactHistory("sqlite://", key=b"k" * 32)
    expected = base64.urlsafe_b64encode(hmac.new(b"k" * 32, b"84912345678", hashlib.sha256).digest()[:16])
    assert store.hash_phone("84912345678") == expected.decode().rstrip("=")
    assert len(store.hash_phone("84912345678")) == 22
    assert store.hash_phones(PHONES) == [store.hash_phone(p) for p in PHONES]


@pytest.mark.parametrize("key", ["s3cr3t-k3y", b"", "Q" * 15])
def test_a_short_key_is_refused_without_showing_it(db_url: str, key: str | bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(db_url, key=key)
    assert caught.value.field == "key"
    if key:
        assert str(key) not in str(caught.value)


def test_a_short_env_key_is_refused_by_its_variable(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv(KEY_ENV, "tiny-secret")
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(db_url)
    assert caught.value.field == KEY_ENV
    assert "tiny-secret" not in str(caught.value)


def test_postgres_without_a_key_is_refused_before_connecting() -> None:
    # No such host, and psycopg (3) need not be installed: the check comes before any engine exists.
    url = "postgresql+psycopg://fpt:pg-password-1@db.invalid:5432/history"
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(url)
    assert caught.value.field == KEY_ENV
    assert KEY_ENV in str(caught.value)
    assert "pg-password-1" not in str(caught.value)


def test_repr_shows_neither_key_nor_password(tmp_path: Path) -> None:
    store = ContactHistory(f"sqlite:///{tmp_path / 'h.db'}", key="super-secret-key-material-0123456789")
    assert "super-secret" not in repr(store)
    assert "h.db" in repr(store)
    store.dispose()


# ---------------------------------------------------------------------------- privacy


def test_no_raw_number_reaches_the_database_file(tmp_path: Path, db_url: str) -> None:
    phones = [f"8491{n:07d}" for n in range(200)]
    store = ContactHistory(db_url)
    store.reserve(A, "c1", T0, phones, 3)
    store.capped(A, "c2", T0, phones, 3)
    store.was_recorded(A, "c1", phones)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("history.db"))
    store.dispose()
    blob += (tmp_path / "history.db").read_bytes()  # after the WAL is checkpointed on close
    assert b"ACME" in blob  # the check really reads the rows
    for phone in phones:
        assert phone.encode() not in blob
        assert phone[2:].encode() not in blob  # nor the national form without 84


# ---------------------------------------------------------------------------- retention


def test_purge_deletes_what_the_retention_no_longer_needs(db_url: str) -> None:
    store = ContactHistory(db_url, retention=timedelta(days=2))
    store.reserve(A, "old", T0 - 49 * H, PHONES[:3], 3)
    store.reserve(A, "recent", T0 - 47 * H, PHONES[:2], 3)
    assert store.purge(now=T0) == 3
    assert store.was_recorded(A, "old", PHONES[:3]) == [False] * 3
    assert store.was_recorded(A, "recent", PHONES[:2]) == [True] * 2
    assert store.purge(now=T0) == 0
    store.dispose()


def test_reserve_purges_at_most_once_an_hour(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(timezone.utc)
    store = ContactHistory(db_url)
    store.reserve(A, "ancient", now - timedelta(days=40), PHONES[:2], 3)  # purges first, then records
    assert store.was_recorded(A, "ancient", PHONES[:2]) == [True, True]
    calls: list[object] = []

    def counting_purge(now: datetime | None = None) -> int:
        calls.append(now)
        return 0

    monkeypatch.setattr(store, "purge", counting_purge)
    store.reserve(A, "c1", now + H, PHONES[:1], 3)
    assert calls == []  # purged less than an hour ago
    fresh = ContactHistory(db_url)  # each push try builds its own: the hour is the process's, per database
    fresh.reserve(A, "c2", now + H, PHONES[:1], 3)
    assert fresh.was_recorded(A, "ancient", PHONES[:2]) == [True, True]
    an_hour_later = time.monotonic() + 3601
    monkeypatch.setattr(time, "monotonic", lambda: an_hour_later)
    fresh.reserve(A, "c3", now + H, PHONES[:1], 3)
    assert fresh.was_recorded(A, "ancient", PHONES[:2]) == [False, False]
    store.dispose()
    fresh.dispose()


# ---------------------------------------------------------------------------- locking


def test_reserve_takes_the_write_lock_at_begin_and_reads_do_not_wait(tmp_path: Path, db_url: str) -> None:
    store = ContactHistory(db_url, busy_timeout=0.2, lock_retries=0)
    store.reserve(A, "c1", T0, PHONES[:2], 3)
    blocker = sqlite3.connect(tmp_path / "history.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another worker in the middle of its reservation
    try:
        assert store.capped(A, "c2", T0, PHONES[:2], 3) == [False, False]  # WAL: the preview does not wait
        assert store.was_recorded(A, "c1", PHONES[:2]) == [True, True]
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            store.reserve(A, "c2", T0, PHONES[:2], 3)
        assert time.monotonic() - started >= 0.15  # it waited for the lock (busy timeout), then gave up
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.reserve(A, "c2", T0, PHONES[:2], 3) == [True, True]
    store.dispose()


def _reserve_worker(
    url: str, key: str | None, campaign: str, phones: list[str], when: str, cap: int, barrier: Any, out: Any
) -> None:
    """One worker process: build its own history, wait for the others, then reserve in shuffled chunks."""
    try:
        store = ContactHistory(url, key=key)
        probe = store.hash_phone("84900000000")
        order = list(range(len(phones)))
        random.Random(campaign).shuffle(order)
        barrier.wait(timeout=120)
        allowed: dict[str, bool] = {}
        for start in range(0, len(order), 50):
            chunk = [phones[i] for i in order[start : start + 50]]
            allowed.update(
                zip(chunk, store.reserve(A, campaign, datetime.fromisoformat(when), chunk, cap), strict=True)
            )
        store.dispose()
        out.put((campaign, probe, [allowed[p] for p in phones], None))
    except BaseException as error:
        out.put((campaign, "", [], repr(error)))


def run_workers(url: str, key: str | None, workers: int, phones: list[str], cap: int) -> list[tuple[Any, ...]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    processes = [
        ctx.Process(target=_reserve_worker, args=(url, key, f"camp-{n}", phones, T0.isoformat(), cap, barrier, out))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    results = []
    try:
        for _ in processes:
            results.append(out.get(timeout=240))
    except queue.Empty:
        pytest.fail(f"only {len(results)} of {workers} workers answered")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return results


def assert_cap_held(results: list[tuple[Any, ...]], phones: list[str], cap: int) -> None:
    assert [error for *_, error in results if error] == []
    assert len({probe for _, probe, _, _ in results}) == 1, "the workers hashed with different keys"
    per_phone = Counter[str]()
    for _, _, allowed, _ in results:
        per_phone.update(phone for phone, ok in zip(phones, allowed, strict=True) if ok)
    assert set(per_phone.values()) == {cap}, Counter(per_phone.values())
    assert len(per_phone) == len(phones)


def test_concurrent_processes_never_pass_the_cap_on_one_sqlite_file(tmp_path: Path) -> None:
    phones = [f"8491{n:07d}" for n in range(200)]
    url = f"sqlite:///{tmp_path / 'shared' / 'history.db'}"
    results = run_workers(url, None, 6, phones, 3)  # no key: the 6 also race to create the key file
    assert_cap_held(results, phones, 3)
    store = ContactHistory(url)
    assert rows(store) == 3 * 200
    store.dispose()


def test_reserving_100k_numbers_in_chunks_of_1000(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ContactHistory(f"sqlite:///{tmp_path / 'big.db'}")
    phones = [f"849{n:08d}" for n in range(100_000)]
    timings = []
    # The second campaign meets a history for each of its numbers (a fifth of them, to keep the suite short).
    for campaign, numbers in (("first", phones), ("second", phones[:20_000])):
        started = time.perf_counter()
        allowed = 0
        for start in range(0, len(numbers), 1000):
            allowed += sum(store.reserve(A, campaign, T0, numbers[start : start + 1000], 3))
        timings.append(time.perf_counter() - started)
        assert allowed == len(numbers)
    store.dispose()
    with capsys.disabled():
        print(
            f"\ncontact history, chunks of 1000: 100k new numbers {timings[0]:.2f} s; "
            f"20k numbers with history {timings[1]:.2f} s"
        )
    assert timings[0] < 60


# ---------------------------------------------------------------------------- PostgreSQL (pgserver wheel)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg2")
    pgdata = Path(tempfile.mkdtemp(prefix="fptsms-ch-pg-"))
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    except Exception as error:  # no shared memory, no postgres user...: this machine cannot run it
        shutil.rmtree(pgdata, ignore_errors=True)
        pytest.skip(f"pgserver could not start PostgreSQL: {error}")
    try:
        server.psql("CREATE DATABASE fptsms_history;")
        socket_dir = server.get_postmaster_info().socket_dir
        yield f"postgresql+psycopg2://postgres@/fptsms_history?host={socket_dir}"
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


PG_KEY = "pg-test-key-0123456789abcdef"


def test_postgres_reserve_cap_and_time_zones(postgres_url: str) -> None:
    store = ContactHistory(postgres_url, key=PG_KEY)
    assert store.backend == "postgresql"
    assert store.reserve("PG-A", "c1", T0, PHONES[:2], 1) == [True, True]
    assert store.reserve("PG-A", "c1", T0, PHONES[:2], 1) == [True, True]
    assert store.reserve("PG-A", "c2", (T0 + 23 * H).astimezone(timezone.utc), PHONES[:3], 1) == [False, False, True]
    assert store.reserve("PG-A", "c3", pendulum.instance(T0 + 24 * H), PHONES[:1], 1) == [True]
    assert store.capped("PG-A", "c4", T0, PHONES[:3], 1) == [True, True, True]
    assert store.purge(now=T0 + timedelta(days=31)) == 3  # c1 and c2; c3 (T0+24h) is not older than the cutoff
    store.dispose()


def test_concurrent_processes_never_pass_the_cap_on_postgres(postgres_url: str) -> None:
    phones = [f"8492{n:07d}" for n in range(100)]
    assert_cap_held(run_workers(postgres_url, PG_KEY, 4, phones, 2), phones, 2)


def test_retention_is_configurable_for_every_worker_from_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FPTSMS_CONTACT_HISTORY_RETENTION_DAYS", "7")
    assert ContactHistory(db_url).retention == timedelta(days=7)
    assert ContactHistory(db_url, retention=timedelta(days=3)).retention == timedelta(days=3)  # the argument wins
    monkeypatch.setenv("FPTSMS_CONTACT_HISTORY_RETENTION_DAYS", "1")
    with pytest.raises(InvalidInputError) as caught:
        ContactHistory(db_url)
    assert caught.value.field == "FPTSMS_CONTACT_HISTORY_RETENTION_DAYS"
    monkeypatch.setenv("FPTSMS_CONTACT_HISTORY_RETENTION_DAYS", "a month")
    with pytest.raises(InvalidInputError, match="FPTSMS_CONTACT_HISTORY_RETENTION_DAYS"):
        ContactHistory(db_url)
    monkeypatch.delenv("FPTSMS_CONTACT_HISTORY_RETENTION_DAYS")
    assert ContactHistory(db_url).retention == timedelta(days=30)
