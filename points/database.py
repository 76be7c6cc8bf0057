"""Transactions, exact point columns and time, the same on SQLite and PostgreSQL.

SQLite ignores SELECT ... FOR UPDATE, and pysqlite's own transaction handling lets a read
run outside any transaction. So we take over BEGIN: a write unit of work starts with
BEGIN IMMEDIATE (the database's write lock, taken before the first read), every other
transaction with a plain BEGIN. On PostgreSQL the write section locks the rows it changes.
"""
import contextvars
import fcntl
import os
import sqlite3
import zlib
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import BigInteger, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from points.extensions import db

_immediate = contextvars.ContextVar("sqlite_begin_immediate", default=False)
TENTH = Decimal("0.1")


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def is_sqlite():
    return db.engine.dialect.name == "sqlite"


@contextmanager
def write():
    """One write unit of work: commits once at the end, rolls back on any error.

    What the request read before is finished first, so the write section starts from a
    fresh snapshot holding the write lock (SQLite) and nothing of it is half-written.
    Inside another write unit it simply joins it.
    """
    session = db.session()
    if _immediate.get():
        yield session
        return
    if session.in_transaction():
        session.commit()
    token = _immediate.set(True)
    try:
        with _writers_queue(), session.begin():
            yield session
    finally:
        _immediate.reset(token)


@contextmanager
def _writers_queue():
    """On a SQLite file, writers wait their turn on a lock file (flock) beside it before
    BEGIN IMMEDIATE. SQLite's own busy handler polls, sleeping 1, 2, 5 … 100 ms between
    tries, so two workers taking turns each lost milliseconds per write; the kernel wakes the
    next waiter of a flock the moment it is released. Each write opens the file itself, so
    threads of one process queue too. PostgreSQL and in-memory databases need no queue."""
    path = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def lock_key(name, shared=False):
    """Serialise writers on one name for the rest of the transaction (shared: many holders
    at once, but none while someone holds it exclusively).

    SQLite's BEGIN IMMEDIATE already serialises every writer; PostgreSQL takes an
    advisory lock released at commit.
    """
    if not is_sqlite():
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        db.session.execute(text(f"SELECT {function}(:k)"), {"k": zlib.crc32(name.encode())})


def for_update(statement, of=None):
    """SELECT ... FOR UPDATE [OF table] on PostgreSQL; on SQLite the write lock is already held."""
    return statement if is_sqlite() else statement.with_for_update(of=of)


class Points(TypeDecorator):
    """积分: exact points with one decimal, stored as whole tenths so no float ever sums them."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        tenths = Decimal(value) * 10
        if tenths != tenths.to_integral_value():
            raise ValueError(f"points have at most one decimal: {value}")
        return int(tenths)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 10).quantize(TENTH)

    def coerce_compared_value(self, op, value):
        return self


def as_points(value):
    """A Decimal with exactly one decimal place, for sums read back from the database."""
    return Decimal(value or 0).quantize(TENTH)


def utcnow():
    return datetime.now(timezone.utc)


def local_tz():
    return ZoneInfo(current_app.config["TIMEZONE"])


def today():
    """What 'today' means for notice and years: the configured zone, not the server's."""
    return datetime.now(local_tz()).date()


def local_date(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(local_tz()).date()


def aware(moment):
    """SQLite hands back naive datetimes: they are UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def insert_ignore(model, **values):
    """INSERT ... ON CONFLICT DO NOTHING, so a row that may already exist can then be locked."""
    if is_sqlite():
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


def offset_of(page, per_page, total):
    """The OFFSET of a page, or None for a page past the last (no query: an empty page, and a
    huge page number never reaches the database as an overflowing OFFSET)."""
    offset = (page - 1) * per_page
    return offset if offset < total else None
