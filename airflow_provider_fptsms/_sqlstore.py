"""What the provider's two small SQL stores share (the DLR store and the contact history): SQLite files that
several processes write (WAL, a busy timeout, a retry when the file is still locked), any other SQLAlchemy URL
as given, and URLs that never show their password."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

T = TypeVar("T")

#: ``connection.execution_options(**WRITE)``: on SQLite, start the transaction holding the write lock
WRITE = {"fptsms_write": True}


def home_sqlite_url(file_name: str) -> str:
    """``sqlite:///<AIRFLOW_HOME>/fptsms/<file_name>`` (AIRFLOW_HOME defaults to ``~/airflow`` as in Airflow)."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return f"sqlite:///{Path(home, 'fptsms', file_name)}"


def safe_url(url: str | URL) -> str:
    """The URL without its password, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_memory(url: URL) -> bool:
    """An in-memory SQLite database (one per connection unless shared through a StaticPool)."""
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:") or url.query.get("mode") == "memory"


def is_locked(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def retry_locked(work: Callable[[], T], retries: int) -> T:
    """``work()``, again after a short backoff while SQLite says the file is locked (up to ``retries`` times)."""
    for attempt in range(retries + 1):
        try:
            return work()
        except OperationalError as error:
            if attempt == retries or not is_locked(error):
                raise
            time.sleep(min(0.02 * 2**attempt, 1.0))
    raise AssertionError("unreachable")  # pragma: no cover


def sqlite_engine(url: URL, busy_timeout: float, *, immediate_writes: bool = False) -> Engine:
    """An engine on a SQLite file (its folder created) or in memory (one shared connection), with WAL and a
    busy timeout. ``immediate_writes``: a transaction on a connection with :data:`WRITE` execution options
    begins ``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite recipe), so a read-check-write cannot interleave."""
    memory = is_memory(url)
    args: dict[str, Any] = {"check_same_thread": False, "timeout": busy_timeout}
    if memory:
        engine = create_engine(url, connect_args=args, poolclass=StaticPool)
    else:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=args)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        if immediate_writes:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    if immediate_writes:

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("fptsms_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
