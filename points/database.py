"""Transactions, exact point columns and time, the same on SQLite and PostgreSQL.

SQLite ignores SELECT ... FOR UPDATE, and pysqlite's own transaction handling lets a read
run outside any transaction. So we take over BEGIN: a write unit of work starts with
BEGIN IMMEDIATE (the database's write lock, taken before the first read), every other
transaction with a plain BEGIN. On PostgreSQL the write section locks the rows it changes.
"""

import contextvars
import sqlite3
import zlib
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import BigInteger, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from points.extensions import db, report_engine

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
    """On the driver's own connection: BEGIN needs no statement cache, result or events
    (a third of a balance read's statement overhead went to it)."""
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if _immediate.get() else "BEGIN"
        )


def is_sqlite():
    return db.engine.dialect.name == "sqlite"


@contextmanager
def write():
    """One write unit of work: commits once at the end, rolls back on any error.

    It starts from a fresh snapshot holding the write lock (SQLite), so nothing of it is
    half-written. Inside another write unit it simply joins it. It refuses to start with a
    transaction already open rather than commit whatever that held: a caller that read first
    finishes its read with `end_read()` (or reads inside the unit).
    """
    session = db.session()
    if _immediate.get():
        yield session
        return
    if session.in_transaction():
        raise RuntimeError(
            "write() with a transaction already open: end the read first (end_read())"
        )
    token, primary = _immediate.set(True), report_engine.set(None)
    try:
        with session.begin():
            yield session
    finally:
        report_engine.reset(primary)
        _immediate.reset(token)


@contextmanager
def reading():
    """Reports' reads: on the hot standby (POINTS_REPLICA_URL) when there is one and it answers,
    else on the primary. A context or a decorator: `@reading()` on a report service function.

    Only for reports (rankings, statistics, grades, fairness, participation, liability, their
    exports): what they show may lag the primary by the standby's replay. Never around anything
    that moves or checks points; inside a write unit of work it reads the primary.
    """
    from points import replica

    standby = replica.of(current_app)
    if standby is None or _immediate.get() or report_engine.get() is not None:
        yield
        return
    engine = standby.engine_for_reports()
    if engine is None:
        yield
        return
    db.session.flush()  # what the request has pending belongs to the primary
    token = report_engine.set(engine)
    try:
        yield
    finally:
        report_engine.reset(token)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    if not _immediate.get():
        session.info["flushed_outside_write"] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    if transaction.parent is None:
        session.info.pop("flushed_outside_write", None)


def end_read():
    """Finish a read-only transaction before a write unit of work. A change made outside
    `write()` is a bug: refused here, never committed (nor silently dropped) with the read."""
    if _immediate.get():  # inside a write unit: its reads are part of it
        return
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get("flushed_outside_write"):
        raise RuntimeError("a change made outside write(): put it inside the write unit of work")
    if session.in_transaction():
        session.rollback()


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
