"""Durable, idempotent store of FPT delivery reports: one row per ``smsid``.

FPT may post the same report twice, or a "waiting" one before the final one, from several
workers at once.  Every write is one short transaction whose WHERE clause encodes the rules,
so concurrent receivers (several API-server workers on one SQLite file, or a shared Postgres)
agree without locks of our own: a row moves only from waiting (2, -11) to final (1, 0), never back.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from airflow_provider_fptsms._sqlstore import home_sqlite_url, retry_locked, safe_url, sqlite_engine, utcnow
from airflow_provider_fptsms.webhook.report import FINAL, STATUS_NAMES, WAITING, DeliveryReport

log = logging.getLogger(__name__)
T = TypeVar("T")

DB_ENV = "FPTSMS_DLR_DB"
#: SQLite caps bound parameters per statement (999 on old builds): query ids in chunks.
_CHUNK = 500

metadata = MetaData()
dlr_table = Table(
    "fptsms_dlr",
    metadata,
    Column("smsid", String(64), primary_key=True),
    Column("status", Integer, nullable=False),
    Column("telco", String(32)),
    Column("error", String(500)),
    Column("mt_count", Integer),
    Column("first_received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: The message ids a deferred sensor waits for, registered under its task instance ("watch"), so
#: the trigger row carries a key instead of up to a million ids.
watch_table = Table(
    "fptsms_dlr_watch",
    metadata,
    Column("watch", String(250), primary_key=True),
    Column("smsid", String(64), primary_key=True),
)


def default_db_url() -> str:
    """``sqlite:///<AIRFLOW_HOME>/fptsms/dlr.db`` (AIRFLOW_HOME defaults to ``~/airflow`` as in Airflow)."""
    return home_sqlite_url("dlr.db")


def resolve_db_url(url: str | None = None) -> str:
    """The URL given, else ``$FPTSMS_DLR_DB``, else the default SQLite file: receiver and sensor agree."""
    return url or os.environ.get(DB_ENV) or default_db_url()


class DlrStore:
    """Delivery reports keyed by smsid, on any SQLAlchemy URL (SQLite by default).

    On SQLite the file uses WAL (readers never block the writer) and a busy timeout; a write that
    still meets ``database is locked`` is retried a few times with a short backoff.
    """

    def __init__(self, url: str | None = None, *, lock_retries: int = 8, busy_timeout: float = 10.0) -> None:
        self.url = make_url(resolve_db_url(url))
        self.lock_retries = lock_retries
        self._ready = False
        self._ready_lock = threading.Lock()
        self.engine = self._engine(busy_timeout)

    def _engine(self, busy_timeout: float) -> Engine:
        if self.url.get_backend_name() != "sqlite":
            return create_engine(self.url, pool_pre_ping=True)
        return sqlite_engine(self.url, busy_timeout)

    def __repr__(self) -> str:
        return f"DlrStore({safe_url(self.url)!r})"

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ plumbing

    def _retry(self, work: Callable[[], T]) -> T:
        return retry_locked(work, self.lock_retries)

    def _ensure_tables(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return

            def create() -> None:
                with self.engine.begin() as conn:
                    for table in (dlr_table, watch_table):
                        conn.execute(CreateTable(table, if_not_exists=True))

            self._retry(create)
            self._ready = True

    # ------------------------------------------------------------------ writes

    def record(self, report: DeliveryReport) -> bool:
        """Store a report; True if a row was created or moved from waiting to final, False if nothing changed."""
        return self.record_many([report])[0]

    def record_many(self, reports: Sequence[DeliveryReport]) -> list[bool]:
        """Store reports in one transaction (one commit: one fsync for all), each as :meth:`record` would.

        The receiver hands over the reports that arrived while the previous commit ran, so 50 posters at once
        share a commit instead of queueing for the file's write lock one by one. Repeats of one smsid in the
        batch apply in order.
        """
        if not reports:
            return []
        self._ensure_tables()

        def write() -> list[bool]:
            now = utcnow()
            with self.engine.begin() as conn:
                upsert = _upsert(conn.dialect.name)
                if upsert is not None:  # the whole rule in one statement per report
                    return [bool(conn.execute(upsert, _values(report, now)).rowcount) for report in reports]
                return [self._apply(conn, report, now) for report in reports]

        return self._retry(write)

    def _apply(self, conn: Connection, report: DeliveryReport, now: datetime) -> bool:
        """The rule in three steps, for databases without ``INSERT ... ON CONFLICT``."""
        if report.final and self._promote(conn, report, now):
            return True
        try:
            with conn.begin_nested():  # a savepoint: an existing row never aborts the batch's transaction
                conn.execute(insert(dlr_table).values(**_values(report, now)))
            return True
        except IntegrityError:
            pass  # the row exists: a repeat, or a waiting row another writer inserted just now
        return report.final and self._promote(conn, report, now)

    @staticmethod
    def _promote(conn: Connection, report: DeliveryReport, now: datetime) -> bool:
        """Waiting -> final, atomically: the WHERE clause is the state machine."""
        result = conn.execute(
            update(dlr_table)
            .where(dlr_table.c.smsid == report.smsid, dlr_table.c.status.in_(sorted(WAITING)))
            .values(
                status=report.status,
                telco=report.telco if report.telco is not None else dlr_table.c.telco,
                error=report.error,
                mt_count=report.mt_count if report.mt_count is not None else dlr_table.c.mt_count,
                updated_at=now,
            )
        )
        return bool(result.rowcount)

    def watch(self, key: str, message_ids: Iterable[str]) -> int:
        """Register the ids a wait is for under ``key`` (replacing an earlier registration); returns how many."""
        ids = list(dict.fromkeys(message_ids))
        self._ensure_tables()

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(delete(watch_table).where(watch_table.c.watch == key))
                for start in range(0, len(ids), _CHUNK):
                    rows = [{"watch": key, "smsid": smsid} for smsid in ids[start : start + _CHUNK]]
                    conn.execute(insert(watch_table), rows)

        self._retry(write)
        return len(ids)

    # ------------------------------------------------------------------ reads

    def watched(self, key: str) -> list[str]:
        """The ids registered under ``key`` (empty if none)."""
        self._ensure_tables()

        def read() -> list[str]:
            with self.engine.connect() as conn:
                query = select(watch_table.c.smsid).where(watch_table.c.watch == key).order_by(watch_table.c.smsid)
                return [str(smsid) for (smsid,) in conn.execute(query)]

        return self._retry(read)

    def get(self, smsid: str | int) -> dict[str, Any] | None:
        """The stored report for one smsid (with ``status_name``), or None."""
        self._ensure_tables()

        def read() -> dict[str, Any] | None:
            with self.engine.connect() as conn:
                row = conn.execute(select(dlr_table).where(dlr_table.c.smsid == str(smsid))).mappings().first()
            if row is None:
                return None
            return {**row, "status_name": STATUS_NAMES.get(row["status"], "unknown")}

        return self._retry(read)

    def _rows(self, ids: list[str]) -> Iterator[tuple[str, int, str | None]]:
        columns = (dlr_table.c.smsid, dlr_table.c.status, dlr_table.c.telco)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                for smsid, status, telco in conn.execute(select(*columns).where(dlr_table.c.smsid.in_(chunk))):
                    yield str(smsid), int(status), telco

    def summary(self, message_ids: Iterable[str | int | None]) -> dict[str, Any]:
        """Counts for these message ids: by status name, by telco (then status), ``final`` and ``total``.

        Empty ids are ignored and repeated ids count once; an id with no report yet is ``missing``.
        """
        ids = list(dict.fromkeys(text for text in (str(i).strip() for i in message_ids if i is not None) if text))
        self._ensure_tables()
        rows = self._retry(lambda: list(self._rows(ids)))
        return _tally(len(ids), ((status, telco, 1) for _smsid, status, telco in rows))

    def watch_summaries(self, limit: int = 100) -> dict[str, dict[str, Any]]:
        """:meth:`summary` of each registered wait (a CSKH send's ids, by task instance), in one query; the
        ``limit`` last keys in order (keys start with the DAG id and run id)."""
        self._ensure_tables()
        dlr = dlr_table
        query = (
            select(watch_table.c.watch, dlr.c.status, dlr.c.telco, func.count())
            .select_from(watch_table.outerjoin(dlr, dlr.c.smsid == watch_table.c.smsid))
            .group_by(watch_table.c.watch, dlr.c.status, dlr.c.telco)
        )

        def read() -> list[Any]:
            with self.engine.connect() as conn:
                return list(conn.execute(query))

        totals: Counter[str] = Counter()
        reports: dict[str, list[tuple[int, str | None, int]]] = {}
        for watch, status, telco, n in self._retry(read):
            totals[str(watch)] += int(n)
            if status is not None:  # an id with no report yet (the outer join's NULL) is "missing"
                reports.setdefault(str(watch), []).append((int(status), telco, int(n)))
        keys = sorted(totals)[-limit:] if limit > 0 else []
        return {key: _tally(totals[key], reports.get(key, [])) for key in keys}


STATUSES = ("delivered", "failed", "pending")


def _values(report: DeliveryReport, now: datetime) -> dict[str, Any]:
    return {
        "smsid": report.smsid,
        "status": report.status,
        "telco": report.telco,
        "error": report.error,
        "mt_count": report.mt_count,
        "first_received_at": now,
        "updated_at": now,
    }


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """``INSERT ... ON CONFLICT (smsid) DO UPDATE ... WHERE`` for SQLite and PostgreSQL (None elsewhere): a new
    smsid is inserted; an existing waiting row takes a final report (telco and mt_count kept when the report has
    none); anything else changes nothing, and ``rowcount`` says which happened. Built once: executions reuse
    the compiled statement."""
    if dialect_name not in ("sqlite", "postgresql"):
        return None
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite if dialect_name == "sqlite" else postgresql
    statement = dialect.insert(dlr_table)
    new, row = statement.excluded, dlr_table.c
    return statement.on_conflict_do_update(
        index_elements=[row.smsid],
        set_={
            "status": new.status,
            "telco": func.coalesce(new.telco, row.telco),
            "error": new.error,
            "mt_count": func.coalesce(new.mt_count, row.mt_count),
            "updated_at": new.updated_at,
        },
        where=row.status.in_(sorted(WAITING)) & new.status.in_(sorted(FINAL)),
    )


def _tally(total: int, reports: Iterable[tuple[int, str | None, int]]) -> dict[str, Any]:
    """The summary of ``total`` ids from ``(status, telco, how many)`` of those that have a report."""
    counts: Counter[str] = Counter()
    by_telco: dict[str, Counter[str]] = {}
    final = 0
    for status, telco, n in reports:
        name = STATUS_NAMES.get(status, "pending")
        counts[name] += n
        by_telco.setdefault(telco or "unknown", Counter())[name] += n
        final += n if status in FINAL else 0
    return {
        "total": total,
        "final": final,
        "delivered": counts["delivered"],
        "failed": counts["failed"],
        "pending": counts["pending"],
        "missing": total - sum(counts.values()),
        "by_telco": {
            telco: {name: c[name] for name in ("delivered", "failed", "pending")}
            for telco, c in sorted(by_telco.items())
        },
    }
