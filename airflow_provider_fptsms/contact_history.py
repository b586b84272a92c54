"""Durable contact history that enforces the 3-per-24h advertising cap across QC campaigns.

Decree 91/2020/ND-CP caps the advertising messages one advertiser sends to one number at 3 in
any 24 hours (the rule itself is :mod:`airflow_provider_fptsms.sms.frequency`).  A campaign is
pushed to FPT in chunks of about 1000 numbers, by several workers at once, and each campaign
goes out at its own ScheduleTime, so the cap needs a history that outlives every task and that
concurrent pushes of one advertiser update one at a time: :meth:`ContactHistory.reserve` reads,
decides and records a chunk in one transaction that holds the advertiser's write lock.

Numbers are never stored: each row holds a keyed hash (HMAC-SHA256 under a secret key), so a
copy of the database alone does not reveal who was contacted, and without the key the ~10^8
possible Vietnamese numbers cannot be hashed to find one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.schema import UniqueConstraint
from sqlalchemy.types import TypeDecorator

from airflow_provider_fptsms._sqlstore import (
    WRITE,
    home_sqlite_url,
    is_memory,
    retry_locked,
    safe_url,
    sqlite_engine,
    utcnow,
)
from airflow_provider_fptsms.gateways.errors import InvalidInputError, mask_phone
from airflow_provider_fptsms.sms.frequency import WINDOW, require_aware, validate_cap, would_exceed

__all__ = [
    "DB_ENV",
    "DEFAULT_RETENTION",
    "KEY_ENV",
    "KEY_FILE_NAME",
    "MIN_RETENTION",
    "RETENTION_ENV",
    "ContactHistory",
    "campaign_table",
    "default_db_url",
    "history_table",
    "resolve_db_url",
    "safe_url",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DB_ENV = "FPTSMS_CONTACT_HISTORY_DB"
KEY_ENV = "FPTSMS_CONTACT_HISTORY_KEY"
#: Created beside a SQLite database when no key is given: 32 random bytes, mode 0600.
KEY_FILE_NAME = "contact_history.key"
_KEY_BYTES = 32
#: A shorter key could be guessed together with the (few) possible phone numbers.
_MIN_KEY_BYTES = 16
DEFAULT_RETENTION = timedelta(days=30)
RETENTION_ENV = "FPTSMS_CONTACT_HISTORY_RETENTION_DAYS"
#: A row matters to any campaign within 24 h of its ScheduleTime; 48 h leaves a day for a push retried late.
MIN_RETENTION = timedelta(hours=48)
_PURGE_EVERY = 3600.0  # seconds, per instance
#: SQLite caps bound parameters per statement (999 on old builds): query hashes in chunks.
_CHUNK = 500
#: 128 bits of the HMAC, base64url without padding: 22 characters (see ContactHistory.hash_phone).
_HASH_BYTES = 16
_HASH_CHARS = 22
_MAX_NAME = 100
_MAX_PHONE = 20


class _UtcDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC and read back aware.

    SQLite has no time zone type: SQLAlchemy writes the wall time and drops the offset, so a
    Vietnam-time value would land 7 hours off.  Converting to UTC on the way in (and tagging UTC
    on the way out) keeps comparisons in SQL correct on every back-end.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()
history_table = Table(
    "fptsms_contact_history",
    metadata,
    # A plain increasing row id: the rows and the time index then grow at their ends, and the only
    # b-tree the random hashes scatter (each chunk of 1000 rewrites ~1000 of its pages) is the unique
    # index below.  SQLite needs exactly INTEGER for a row-id alias.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("advertiser", String(_MAX_NAME), nullable=False),
    Column("phone_hash", String(64), nullable=False),
    Column("campaign", String(_MAX_NAME), nullable=False),
    Column("schedule_time", _UtcDateTime(timezone=True), nullable=False),
    # Set by the database (one clock for every worker, and nothing to bind per row).
    Column("recorded_at", _UtcDateTime(timezone=True), nullable=False, server_default=func.current_timestamp()),
    # One row per (advertiser, campaign, number): re-recording a campaign is idempotent.  In this order
    # the constraint's index is also the cap's lookup (one number's sends for one advertiser, by prefix);
    # a separate (advertiser, phone_hash, schedule_time) index would be a second scattered index to write
    # on every insert, to save reading the few rows (~3 a day within the retention) one number has.
    UniqueConstraint("advertiser", "phone_hash", "campaign", name="uq_fptsms_contact_history"),
    # purge() deletes by age and release() finds a campaign's rows by its ScheduleTime; without it both
    # would scan the whole table under the write lock.
    Index("ix_fptsms_contact_history_time", "schedule_time"),
)

#: One row per campaign: its ScheduleTime, pinned by the first reservation (a campaign cannot move in time
#: after numbers were counted at the old one), and a cheap way to find its rows.
campaign_table = Table(
    "fptsms_contact_campaigns",
    metadata,
    Column("advertiser", String(_MAX_NAME), primary_key=True),
    Column("campaign", String(_MAX_NAME), primary_key=True),
    Column("schedule_time", _UtcDateTime(timezone=True), nullable=False),
    Column("recorded_at", _UtcDateTime(timezone=True), nullable=False, server_default=func.current_timestamp()),
    Index("ix_fptsms_contact_campaigns_time", "schedule_time"),
)


def resolve_db_url(url: str | None = None) -> str:
    """The URL given, else ``$FPTSMS_CONTACT_HISTORY_DB``, else the default SQLite file: all workers agree."""
    return url or os.environ.get(DB_ENV) or default_db_url()


def default_db_url() -> str:
    """``sqlite:///<AIRFLOW_HOME>/fptsms/contact_history.db`` (AIRFLOW_HOME defaults to ``~/airflow``)."""
    return home_sqlite_url("contact_history.db")


def _advisory_lock_id(advertiser: str) -> int:
    """A signed 64-bit id for ``pg_advisory_xact_lock``: one lock per advertiser (other advertisers do not wait)."""
    digest = hashlib.sha256(b"fptsms-contact-history\0" + advertiser.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: Serialises CREATE TABLE on Postgres (concurrent CREATE ... IF NOT EXISTS can still collide there).
_DDL_LOCK_ID = _advisory_lock_id("\0ddl")


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


#: when this process last purged each database (by its URL without password)
_LAST_PURGE: dict[str, float] = {}


def _retention() -> timedelta:
    """``$FPTSMS_CONTACT_HISTORY_RETENTION_DAYS`` (one setting for every worker's pushes), else 30 days."""
    configured = os.environ.get(RETENTION_ENV, "").strip()
    if not configured:
        return DEFAULT_RETENTION
    try:
        days = float(configured)
    except ValueError:
        raise InvalidInputError(RETENTION_ENV, configured, "is not a number of days", "e.g. 30") from None
    if days < MIN_RETENTION.total_seconds() / 86400:
        raise InvalidInputError(
            RETENTION_ENV, configured, "is shorter than 2 days: the cap needs the sends of the last 48 hours", "e.g. 30"
        )
    return timedelta(days=days)


def _aware_utc(value: object, field: str) -> datetime:
    value = require_aware(value, field)
    utc = value.astimezone(timezone.utc)
    if type(utc) is not datetime:  # a pendulum DateTime (parse_vn_time's): a plain one for every driver
        utc = datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, timezone.utc)
    return utc


def _name(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME:
        raise InvalidInputError(
            field,
            value,
            f"expected a non-empty text of at most {_MAX_NAME} characters",
            f"pass the {field}'s name as a short string (the history counts numbers per advertiser and campaign)",
        )
    return value


def _key_bytes(value: bytes | str, field: str) -> bytes:
    key = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(key) < _MIN_KEY_BYTES:
        raise InvalidInputError(
            field,
            f"<{len(key)} bytes, hidden>",
            f"the contact-history key must be at least {_MIN_KEY_BYTES} bytes: a short key can be guessed "
            "together with the phone numbers it hides",
            "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'",
        )
    return key


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable: losing the key file after a crash would orphan the history."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _create_key_file(path: Path) -> None:
    """Publish 32 random bytes at ``path`` unless it exists; the first of several racing processes wins.

    The key is fully written to a private temporary file and then hard-linked into place, so a
    reader never sees a partial key and ``os.link`` fails for every process but the first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{KEY_FILE_NAME}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process published its key first: everyone reads that one
        except OSError:  # no hard links on this file system: exclusive create (readers wait for 32 bytes)
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(out, "wb") as handle:
                handle.write(Path(tmp).read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        _fsync_dir(path.parent)
    finally:
        os.unlink(tmp)


def _load_key_file(path: Path) -> bytes:
    """The key stored at ``path``, created first if missing."""
    deadline = time.monotonic() + 5.0
    while True:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            _create_key_file(path)
            continue
        if len(data) == _KEY_BYTES:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                log.warning(
                    "The contact-history key file %s is readable by others (mode %o): chmod 600 it.", path, mode
                )
            return data
        if len(data) < _KEY_BYTES and time.monotonic() < deadline:
            time.sleep(0.01)  # being written by the exclusive-create fallback
            continue
        raise InvalidInputError(
            "key_file",
            str(path),
            f"holds {len(data)} bytes instead of {_KEY_BYTES}: it is damaged",
            f"restore it from a backup, or set {KEY_ENV}; deleting it makes every recorded send unmatchable, so the "
            "cap would forget the last 24 hours",
        )


@dataclass(frozen=True)
class _Decision:
    allowed: dict[str, bool]
    recorded: frozenset[str]  # hashes this campaign already holds
    known: bool  # the campaign (and its ScheduleTime) is already recorded


class ContactHistory:
    """Who got which advertiser's QC campaigns, and when: the memory behind the 3-per-24h cap.

    One row per (advertiser, campaign, number) holds the advertiser, the campaign name, the
    campaign's ScheduleTime (UTC) and when it was recorded; the number itself is never stored,
    only :meth:`hash_phone` of it.  One more row per campaign pins its ScheduleTime.  Rows whose
    ScheduleTime is older than ``retention`` (30 days by default, at least 48 hours) are deleted
    by :meth:`purge`, which :meth:`reserve` runs at most once an hour per instance; a cancelled
    campaign is forgotten at once with :meth:`release`.

    ``busy_timeout`` bounds the wait for another worker's write lock (SQLite's busy timeout,
    Postgres's ``lock_timeout``): several pushes of one advertiser queue on it, so it is longer
    than the delivery-report store's.

    The database is any SQLite or PostgreSQL URL (``url``, else ``$FPTSMS_CONTACT_HISTORY_DB``,
    else ``sqlite:///$AIRFLOW_HOME/fptsms/contact_history.db``).  SQLite suits one machine (every
    worker on it shares the file); a team with several machines uses a shared Postgres
    (``postgresql+psycopg2://...``).

    The HMAC key is ``key``, else ``$FPTSMS_CONTACT_HISTORY_KEY`` (a str is used as its UTF-8
    bytes), else, for a SQLite file only, ``contact_history.key`` beside the database (created on
    first use).  Every worker must hash with the same key or the counts silently split, so a
    Postgres URL without a key is refused rather than given a per-worker one; an in-memory SQLite
    database (``sqlite://``, for tests) gets a random key that lives as long as it does.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key: bytes | str | None = None,
        retention: timedelta | None = None,
        lock_retries: int = 8,
        busy_timeout: float = 30.0,
    ) -> None:
        raw_url = resolve_db_url(url)
        try:
            self.url = make_url(raw_url)
        except ArgumentError:
            raise InvalidInputError(
                "url", "<unparsable, hidden>", "not a database URL", "use sqlite:///path/file.db or postgresql+..."
            ) from None
        self.backend = self.url.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise InvalidInputError(
                "url",
                safe_url(self.url),
                f"the contact history supports SQLite and PostgreSQL, not {self.backend}: the cap needs a write "
                "lock per transaction (BEGIN IMMEDIATE, pg_advisory_xact_lock) that other databases lack here",
                f"use a sqlite:/// file or a postgresql+psycopg2:// URL (argument url or ${DB_ENV})",
            )
        retention = _retention() if retention is None else retention
        if not isinstance(retention, timedelta) or retention < MIN_RETENTION:
            raise InvalidInputError(
                "retention",
                retention,
                f"the history must keep sends for at least {MIN_RETENTION} (a send still counts against any "
                "campaign within 24 hours of its ScheduleTime, and a push may be retried late)",
                f"use at least timedelta(hours=48); the default is {DEFAULT_RETENTION.days} days",
            )
        self.retention = retention
        self.lock_retries = lock_retries
        self._busy_timeout_ms = max(1, int(busy_timeout * 1000))
        self._memory = self.backend == "sqlite" and is_memory(self.url)
        # keyed once: a copy of this HMAC per phone costs ~2.6 µs, hmac.digest() re-keys each time (~4.3 µs)
        self._keyed = hmac.new(self._resolve_key(key), digestmod=hashlib.sha256)
        self._ready = False
        self._ready_lock = threading.Lock()
        # One in-memory connection is shared by every thread (StaticPool): take turns.
        self._local_lock: threading.Lock | None = threading.Lock() if self._memory else None
        self.engine = self._engine(busy_timeout)
        #: Connections that start their transaction with the write lock (SQLite: BEGIN IMMEDIATE).
        self._write_engine = self.engine.execution_options(**WRITE)

    # ------------------------------------------------------------------ setup

    def _resolve_key(self, key: bytes | str | None) -> bytes:
        if key is not None:
            return _key_bytes(key, "key")
        from_env = os.environ.get(KEY_ENV)
        if from_env:
            return _key_bytes(from_env, KEY_ENV)
        if self._memory:
            return secrets.token_bytes(_KEY_BYTES)
        if self.backend == "sqlite":
            return _load_key_file(Path(self.url.database or "").expanduser().parent / KEY_FILE_NAME)
        raise InvalidInputError(
            KEY_ENV,
            None,
            f"no key to hash phone numbers with for {safe_url(self.url)}: every worker sharing this database must "
            "use the same key, so none is generated for it",
            f"set {KEY_ENV} to the same secret (at least {_MIN_KEY_BYTES} bytes, e.g. secrets.token_hex(32)) on every "
            "worker, or pass key=",
        )

    def _engine(self, busy_timeout: float) -> Engine:
        if self.backend == "postgresql":
            # READ COMMITTED, whatever the server default: each statement after the advisory lock must see
            # what the previous holder committed (a REPEATABLE READ snapshot would predate the lock).
            return create_engine(self.url, pool_pre_ping=True, isolation_level="READ COMMITTED")
        # IMMEDIATE takes the write lock at BEGIN: two pushes cannot both read the old counts and then both write.
        return sqlite_engine(self.url, busy_timeout, immediate_writes=True)

    def __repr__(self) -> str:
        return f"ContactHistory({safe_url(self.url)!r}, retention={self.retention!r})"

    def dispose(self) -> None:
        """Close the pooled connections (the history stays on disk)."""
        self.engine.dispose()

    # ------------------------------------------------------------------ plumbing

    def _retry(self, work: Callable[[], T]) -> T:
        return retry_locked(work, self.lock_retries)

    @contextmanager
    def _transaction(self, *, write: bool, advertiser: str | None = None) -> Iterator[Connection]:
        """One transaction; ``write`` takes SQLite's write lock at BEGIN, ``advertiser`` Postgres's advisory one."""
        with self._local_lock or nullcontext(), (self._write_engine if write else self.engine).begin() as conn:
            if advertiser is not None and self.backend == "postgresql":
                # A stuck holder must fail this push, not hang it: lock_timeout also bounds advisory locks.
                conn.execute(text(f"SET LOCAL lock_timeout = {self._busy_timeout_ms}"))
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _advisory_lock_id(advertiser)})
            yield conn

    def _ensure_tables(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return

            def create() -> None:
                with self._transaction(write=True) as conn:
                    if self.backend == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _DDL_LOCK_ID})
                    metadata.create_all(conn)

            self._retry(create)
            self._ready = True

    # ------------------------------------------------------------------ hashing

    def hash_phone(self, phone: str) -> str:
        """The stored form of a normalised number (``84912345678``): 22 characters, the same on every worker.

        HMAC-SHA256 under the key, cut to its first 128 bits and written in unpadded base64url.
        128 bits keep a collision between two of the world's numbers below 1e-18; a collision
        could only make the cap stricter (two numbers sharing one count), never let a fourth
        message through.  22 characters instead of 64 hex ones save 42 bytes in each row and again
        in its entry of the unique index, about 40% of both.
        """
        return self.hash_phones([phone])[0]

    def hash_phones(self, phones: Sequence[str]) -> list[str]:
        """:meth:`hash_phone` of many numbers at once (validated: ASCII digits only, as normalised numbers are)."""
        keyed = self._keyed.copy
        encode = base64.urlsafe_b64encode
        out: list[str] = []
        append = out.append
        for index, phone in enumerate(phones):
            if not isinstance(phone, str) or not (phone.isascii() and phone.isdigit()) or len(phone) > _MAX_PHONE:
                raise InvalidInputError(
                    f"phones[{index}]",
                    mask_phone(phone) if isinstance(phone, str) else type(phone).__name__,
                    "expected a normalised number: digits only, like 84912345678",
                    "normalise the numbers first (airflow_provider_fptsms.sms.phones.clean) so that one subscriber "
                    "always hashes the same way",
                )
            mac = keyed()
            mac.update(phone.encode("ascii"))
            append(encode(mac.digest()[:_HASH_BYTES])[:_HASH_CHARS].decode("ascii"))
        return out

    # ------------------------------------------------------------------ the cap

    @staticmethod
    def _pinned_time(conn: Connection, advertiser: str, campaign: str, when: datetime) -> bool:
        """Whether the campaign is known; refuses a ScheduleTime other than the one it was first reserved for."""
        table = campaign_table
        held = conn.execute(
            select(table.c.schedule_time).where(table.c.advertiser == advertiser, table.c.campaign == campaign)
        ).scalar()
        if held is not None and held != when:
            raise InvalidInputError(
                "schedule_time",
                when.isoformat(),
                f"campaign {campaign!r} of {advertiser!r} already reserved numbers for ScheduleTime {held.isoformat()}",
                "a campaign keeps its ScheduleTime: push it with the recorded one, or, if it was cancelled before "
                "FPT sent it, release() it and reserve again",
            )
        return held is not None

    def _decide(
        self, conn: Connection, advertiser: str, campaign: str, when: datetime, hashes: Sequence[str], cap: int
    ) -> _Decision:
        known = self._pinned_time(conn, advertiser, campaign, when)
        table = history_table
        recorded: set[str] = set()
        others: dict[str, list[datetime]] = {}
        for chunk in _chunks(hashes):
            query = select(table.c.phone_hash, table.c.campaign, table.c.schedule_time).where(
                table.c.advertiser == advertiser,
                table.c.phone_hash.in_(chunk),
                or_(
                    table.c.campaign == campaign,
                    and_(table.c.schedule_time > when - WINDOW, table.c.schedule_time < when + WINDOW),
                ),
            )
            for phone_hash, row_campaign, schedule_time in conn.execute(query):
                if row_campaign == campaign:
                    recorded.add(phone_hash)
                else:
                    others.setdefault(phone_hash, []).append(schedule_time)
        # A number with no other send within 24 h is allowed at once (most of a campaign's numbers).
        allowed = {h: h in recorded or h not in others or not would_exceed(others[h], when, cap) for h in hashes}
        return _Decision(allowed, frozenset(recorded), known)

    def _prepare(
        self, advertiser: str, campaign: str, schedule_time: datetime, phones: Sequence[str], cap: int
    ) -> tuple[str, str, datetime, list[str], list[str], int]:
        advertiser = _name("advertiser", advertiser)
        campaign = _name("campaign", campaign)
        when = _aware_utc(schedule_time, "schedule_time")
        cap = validate_cap(cap)
        hashes = self.hash_phones(phones)
        return advertiser, campaign, when, hashes, list(dict.fromkeys(hashes)), cap

    def reserve(
        self, advertiser: str, campaign: str, schedule_time: datetime, phones: Sequence[str], cap: int
    ) -> list[bool]:
        """For each number, in order: True if ``campaign`` may send to it (now recorded), False if capped.

        A number is allowed if this campaign already holds it (a retried push gets the same
        answer), else if one more message at ``schedule_time`` keeps every 24-hour period of this
        advertiser's other campaigns to it within ``cap``.  The read, the decision and the insert
        are one transaction under the advertiser's write lock, so two workers pushing two campaigns
        at once cannot both take a number's last slot.  Pass about 1000 numbers per call.

        The first call pins the campaign's ScheduleTime; a later call with another one is refused
        (:class:`InvalidInputError` on ``schedule_time``) until :meth:`release`.
        """
        advertiser, campaign, when, hashes, unique, cap = self._prepare(
            advertiser, campaign, schedule_time, phones, cap
        )
        if not unique:
            return []
        self._ensure_tables()
        self._maybe_purge()

        def work() -> dict[str, bool]:
            with self._transaction(write=True, advertiser=advertiser) as conn:
                decision = self._decide(conn, advertiser, campaign, when, unique, cap)
                if not decision.known:
                    conn.execute(
                        insert(campaign_table).values(advertiser=advertiser, campaign=campaign, schedule_time=when)
                    )
                rows = [
                    {"advertiser": advertiser, "phone_hash": h, "campaign": campaign, "schedule_time": when}
                    for h in unique
                    if decision.allowed[h] and h not in decision.recorded
                ]
                if rows:
                    conn.execute(insert(history_table), rows)
                return decision.allowed

        allowed = self._retry(work)
        return [allowed[h] for h in hashes]

    def capped(
        self, advertiser: str, campaign: str, schedule_time: datetime, phones: Sequence[str], cap: int
    ) -> list[bool]:
        """For each number, True if :meth:`reserve` would cap it now: a read-only preview, nothing is recorded.

        Note the polarity: True means *capped* (``reserve`` returns True for *allowed*).  Another
        campaign may reserve in between, so the preview is advice; ``reserve`` decides.
        """
        advertiser, campaign, when, hashes, unique, cap = self._prepare(
            advertiser, campaign, schedule_time, phones, cap
        )
        if not unique:
            return []
        self._ensure_tables()

        def work() -> dict[str, bool]:
            with self._transaction(write=False) as conn:
                return self._decide(conn, advertiser, campaign, when, unique, cap).allowed

        allowed = self._retry(work)
        return [not allowed[h] for h in hashes]

    def was_recorded(self, advertiser: str, campaign: str, phones: Sequence[str]) -> list[bool]:
        """For each number, True if ``campaign`` holds it: tells a retried push "already reserved" from "capped"."""
        advertiser = _name("advertiser", advertiser)
        campaign = _name("campaign", campaign)
        hashes = self.hash_phones(phones)
        unique = list(dict.fromkeys(hashes))
        if not unique:
            return []
        self._ensure_tables()
        table = history_table

        def work() -> set[str]:
            found: set[str] = set()
            with self._transaction(write=False) as conn:
                for chunk in _chunks(unique):
                    query = select(table.c.phone_hash).where(
                        table.c.advertiser == advertiser, table.c.phone_hash.in_(chunk), table.c.campaign == campaign
                    )
                    found.update(conn.execute(query).scalars())
            return found

        found = self._retry(work)
        return [h in found for h in hashes]

    # ------------------------------------------------------------------ housekeeping

    def release(self, advertiser: str, campaign: str) -> int:
        """Forget ``campaign`` and every number it reserved; returns how many numbers.

        Only for a campaign cancelled before FPT sent it (its messages will never count); a sent
        campaign must stay, or the cap would allow too many messages.
        """
        advertiser = _name("advertiser", advertiser)
        campaign = _name("campaign", campaign)
        self._ensure_tables()
        table, campaigns = history_table, campaign_table

        def work() -> int:
            with self._transaction(write=True, advertiser=advertiser) as conn:
                key = (campaigns.c.advertiser == advertiser, campaigns.c.campaign == campaign)
                when = conn.execute(select(campaigns.c.schedule_time).where(*key)).scalar()
                if when is None:
                    return 0
                result = conn.execute(
                    delete(table).where(
                        table.c.schedule_time == when, table.c.advertiser == advertiser, table.c.campaign == campaign
                    )
                )
                conn.execute(delete(campaigns).where(*key))
                return int(result.rowcount)

        return self._retry(work)

    def purge(self, now: datetime | None = None) -> int:
        """Delete the sends whose ScheduleTime is older than ``retention`` before ``now``; returns how many."""
        cutoff = (utcnow() if now is None else _aware_utc(now, "now")) - self.retention
        self._ensure_tables()

        def work() -> int:
            with self._transaction(write=True) as conn:
                result = conn.execute(delete(history_table).where(history_table.c.schedule_time < cutoff))
                conn.execute(delete(campaign_table).where(campaign_table.c.schedule_time < cutoff))
                return int(result.rowcount)

        deleted = self._retry(work)
        if deleted:
            log.info("Contact history: purged %d sends older than %s.", deleted, cutoff.isoformat())
        return deleted

    def _maybe_purge(self) -> None:
        """Purge at most once an hour per process and database (each push try builds its own instance): old
        rows go without a scheduled job, at no cost per push."""
        now, where = time.monotonic(), safe_url(self.url)
        last = _LAST_PURGE.get(where)
        if last is not None and now - last < _PURGE_EVERY:
            return
        _LAST_PURGE[where] = now
        self.purge()
