"""Transactions, exact point columns and time, the same on SQLite and PostgreSQL.

SQLite ignores SELECT ... FOR UPDATE, and pysqlite's own transaction handling lets a read
run outside any transaction. So we take over BEGIN: a write unit of work starts with
BEGIN IMMEDIATE (the database's write lock, taken before the first read), every other
transaction with a plain BEGIN. On PostgreSQL the write section locks the rows it changes.

The paths people wait on most (the sign-in, a balance read, a redemption) run their
statements (`Prepared`) on the request's direct connection (`Direct`): one connection from
the engine's pool for the request, with no Session in between. Everything else uses the
session; the first time the session begins, the direct connection goes back to the pool, so
a request never holds two.
"""

import contextvars
import sqlite3
import time
import zlib
from collections import namedtuple
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from sqlalchemy import BigInteger, bindparam, event, exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from points import writers
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
def write(direct=False):
    """One write unit of work: commits once at the end, rolls back on any error.

    It starts from a fresh snapshot holding the write lock (SQLite), so nothing of it is
    half-written. Inside another write unit it simply joins it. It refuses to start with a
    transaction already open rather than commit whatever that held: a caller that read first
    finishes its read with `end_read()` (or reads inside the unit).

    It yields the session; with `direct`, the connection its statements run on instead (as
    `unit_connection()` gives): the request's direct connection, or the session's when it joins a
    unit of the session. Nothing may use the session inside a direct unit (refused).
    """
    if _immediate.get():
        unit = g.get(_DIRECT)
        if unit is not None and unit.writing:
            if not direct:
                raise RuntimeError("write() of the session inside a direct unit of work")
            yield unit
        else:
            yield unit_connection() if direct else db.session()
        return
    if _session_in_transaction():
        raise RuntimeError(
            "write() with a transaction already open: end the read first (end_read())"
        )
    token, primary = _immediate.set(True), report_engine.set(None)
    try:
        with writers.turn(db.engine):  # SQLite: after the writers before it, woken at once
            if direct:
                with _direct().unit() as unit:
                    yield unit
            else:
                session = db.session()
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
    direct = g.get(_DIRECT)
    if direct is not None and direct.in_transaction():
        direct.rollback()
    if not db.session.registry.has():
        return
    session = db.session()
    if _changed(session) or session.info.get("flushed_outside_write"):
        raise RuntimeError("a change made outside write(): put it inside the write unit of work")
    if session.in_transaction():
        session.rollback()


def _changed(session):
    return bool(session.new or session.dirty or session.deleted)


def _session_in_transaction():
    registry = db.session.registry
    return registry.has() and registry().in_transaction()


# --- the request's direct connection ----------------------------------------------------

_DIRECT = "points_direct"  # its key in flask.g (one per application context)


def unit_connection():
    """The connection a hot path's statements (`Prepared`) run on: inside a direct write unit,
    or while the session has no transaction, the request's direct connection (a read begun on
    it if none is open); else the session's, after flushing what the session holds, as the
    ORM's own execute would."""
    direct = g.get(_DIRECT)
    if direct is not None and direct.writing:
        return direct
    if _session_in_transaction():
        session = db.session()
        session.flush()
        return session.connection()
    if direct is None:
        direct = _direct()
    if not direct.in_transaction():
        direct.begin()
    return direct


def direct_unit():
    """The direct write unit of work under way, or None."""
    direct = g.get(_DIRECT) if has_app_context() else None
    return direct if direct is not None and direct.writing else None


def _direct():
    direct = g.get(_DIRECT)
    if direct is None:
        direct = Direct(db.engine)
        setattr(g, _DIRECT, direct)
    return direct


def release_direct(_error=None):
    """The direct connection back to the pool (its transaction rolled back): at the end of
    every request and application context, and when the session begins."""
    direct = g.pop(_DIRECT, None) if has_app_context() else None
    if direct is not None:
        direct.close()


@event.listens_for(Session, "after_transaction_create")
def _session_begins(_session, transaction):
    if transaction.parent is not None or not has_app_context():
        return
    direct = g.get(_DIRECT)
    if direct is None:
        return
    if direct.writing:  # the session would wait on SQLite's write lock, or lose its change
        raise RuntimeError("the session used inside a direct unit of work")
    release_direct()  # one connection per request: the session's from here on


def ping_when_idle(engine, seconds):
    """Ping a connection before the pool hands it out only when it sat there `seconds` or
    longer; replace it (the pool tries anew) when the ping finds the server gone.

    SQLAlchemy's pool_pre_ping pings on every checkout: on PostgreSQL a round trip of some
    0.13 ms on each request, where a connection given back a moment ago is as alive as it was.
    A connection that has waited (a quiet hour, a restarted or failed-over server, an idle
    timeout of the server or of pgbouncer) is pinged as before. One the server drops while in
    use fails its statement as it would with any ping, and is dropped from the pool."""

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection, record):
        record.info["points_given_back"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection, record, _proxy):
        given_back = record.info.pop("points_given_back", None)
        if given_back is not None and time.monotonic() - given_back < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError("the database connection has gone") from error
            raise


def _listened(engine):
    dispatch = engine.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


class Direct:
    """One connection from the engine's pool, held by a request for the statements of the
    paths people wait on most, its transactions begun and ended here: no Session, no
    checkout per transaction (a Session's lifecycle was a third of a balance read).

    It is the DBAPI connection itself, so `Prepared` runs on it as on the session's. While
    anything listens on the engine for cursor executions (a test counting statements), it
    is a Core Connection instead, so that `Prepared` can show them its statements.
    Transactions: a read (BEGIN on SQLite; autocommit statements on PostgreSQL), or a write
    unit (`write(direct=True)`, BEGIN IMMEDIATE on SQLite), committed or rolled back whole.
    What the unit counts for /metrics (`after_commit`) counts once it commits.
    """

    __slots__ = (
        "engine",
        "dialect",
        "connection",
        "_core",
        "_transaction",
        "writing",
        "after_commit",
    )

    def __init__(self, engine):
        self.engine, self.dialect = engine, engine.dialect
        self._transaction, self.writing, self.after_commit = None, False, []
        self._connect()

    def _connect(self):
        if _listened(self.engine):
            self._core = self.engine.connect()
            self.connection = self._core.connection
        else:
            self._core, self.connection = None, self.engine.raw_connection()

    def in_transaction(self):
        return self._transaction is not None

    def begin(self, write=False):
        if self._transaction is not None:
            raise RuntimeError("Direct: a transaction is already open")
        if (self._core is not None) != _listened(self.engine):  # listeners came or went
            self._close_connection()
            self._connect()
        if self._core is not None:  # BEGIN (IMMEDIATE) from the engine's begin listener
            self._transaction = self._core.begin()
        else:
            if self.dialect.name == "sqlite":
                self._driver("execute", "BEGIN IMMEDIATE" if write else "BEGIN")
            else:
                self._autocommit(not write)
            self._transaction = True
        self.writing = write

    def _autocommit(self, on):
        """PostgreSQL: a read's statements run in autocommit, each with its own snapshot, as
        they would in a READ COMMITTED transaction (PostgreSQL's default, and ours), without
        the BEGIN and ROLLBACK round trips; a write unit is one transaction, begun by psycopg
        with its first statement. The pool gets the connection back as it gave it."""
        driver = self.connection.driver_connection
        if driver.autocommit != on:
            driver.autocommit = on

    @contextmanager
    def unit(self):
        """A write unit of work on this connection (inside `write(direct=True)`)."""
        if self._transaction is not None:
            self.rollback()  # a read ends where the write begins: nothing of it is pending
        self.begin(write=True)
        try:
            yield self
            if db.session.registry.has() and _changed(db.session()):
                raise RuntimeError("the session changed inside a direct unit of work")
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def commit(self):
        transaction, self._transaction, self.writing = self._transaction, None, False
        done, self.after_commit = self.after_commit, []
        if self._core is not None:
            transaction.commit()
        else:
            self._driver("commit")
        for callback in done:
            callback()

    def rollback(self):
        transaction, self._transaction, self.writing = self._transaction, None, False
        self.after_commit = []
        if transaction is None:
            return
        if self._core is not None:
            transaction.rollback()
        else:
            self._driver("rollback")

    def execute(self, statement, params=None):
        """A statement through SQLAlchemy (only while the engine is listened to)."""
        if self._core is None:
            raise RuntimeError("Direct: a cursor listener added while its connection was open")
        return self._core.execute(statement, params)

    def invalidate(self, error=None):
        """A connection lost (`Prepared` found a disconnect): dropped from the pool and from
        the request, which takes a new one next time."""
        self._transaction, self.writing, self.after_commit = None, False, []
        if self._core is not None:
            self._core.invalidate(error)
            self._core.close()
        else:
            self.connection.invalidate(error)  # and back to the pool, which drops it
        if has_app_context() and g.get(_DIRECT) is self:
            g.pop(_DIRECT)

    def close(self):
        try:
            self.rollback()
        finally:
            self._close_connection()

    def _close_connection(self):
        if self._core is None and self.dialect.name != "sqlite":
            driver = self.connection.driver_connection
            if driver is not None and not driver.closed:
                self._autocommit(False)
        (self._core or self.connection).close()

    def _driver(self, method, *args):
        try:
            getattr(self.connection.driver_connection, method)(*args)
        except self.dialect.loaded_dbapi.Error as error:
            raise _wrapped(self, args[0] if args else method.upper(), (), error) from error


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


def binds(*columns):
    """{column: bindparam(column)}: the values of an INSERT whose every value is a parameter
    named after its column (`insert(Model).values(binds("a", "b"))`)."""
    return {column: bindparam(column) for column in columns}


class Prepared:
    """A Core statement compiled once per dialect and run on the driver's own connection, in
    the transaction of the connection given (`unit_connection()`: the request's direct one, or
    the session's): for the statements of
    the two paths people wait on most, a balance read and a redemption, where SQLAlchemy's work
    per execution (cache key, execution context, result object, events: some 20 µs) cost more
    than SQLite's own. The SQL is SQLAlchemy's compilation of the statement, and every value
    goes in and comes out through the column types' own processors, so what is stored and read
    is exactly what `connection.execute` would store and read.

    For statements that name every value they write (no column defaults filled in by
    SQLAlchemy). While anything listens on the engine for cursor executions (a test counting
    statements), the statement runs through `connection.execute`, so it is seen. A driver error
    is raised as SQLAlchemy's (IntegrityError and the rest), as it would be.
    """

    __slots__ = ("statement", "_by_dialect")

    def __init__(self, statement):
        self.statement, self._by_dialect = statement, {}

    def all(self, connection, params=None):
        """The rows, each a named tuple (row.balance or row[0])."""
        cursor, compiled = self._execute(connection, params)
        return compiled.rows(cursor.fetchall(), cursor)

    def first(self, connection, params=None):
        rows = self.all(connection, params)
        return rows[0] if rows else None

    def scalar(self, connection, params=None):
        """The first column of the first row, or None when there is no row."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def run(self, connection, params=None):
        """A statement without rows: how many rows it changed."""
        cursor, _ = self._execute(connection, params)
        return cursor.rowcount

    def run_many(self, connection, rows):
        """The statement once for each of `rows` (the driver's executemany)."""
        compiled = self._compiled(connection)
        if compiled is None:
            connection.execute(self.statement, rows)
            return
        if compiled.expanding:
            raise TypeError("run_many takes no expanding IN")
        cursor = connection.connection.driver_connection.cursor()
        values = [compiled.bound(params)[1] for params in rows]
        sql = compiled.variants[()][0]
        try:
            cursor.executemany(sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, sql, values, error) from error
        finally:
            cursor.close()

    def _compiled(self, connection):
        if not connection.in_transaction():
            raise RuntimeError("Prepared runs inside a transaction: the session's connection")
        dispatch = connection.engine.dispatch  # a connection's own is joined anew per access
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
            return None
        dialect = connection.dialect
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            compiled = self._by_dialect[dialect] = _Compiled(self.statement, dialect)
        return compiled

    def _execute(self, connection, params):
        compiled = self._compiled(connection)
        if compiled is None:
            return _Replayed(connection.execute(self.statement, params or {})), _SEEN
        sql, values = compiled.bound(params or {})
        try:
            return connection.connection.driver_connection.execute(sql, values), compiled
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, sql, values, error) from error


class _Compiled:
    """One statement's SQL for one dialect, its binds in order with their processors, and its
    result columns' processors (read off the first result's description). An expanding IN
    (`bindparam(..., expanding=True)`) is rendered by SQLAlchemy once for each length of list
    it is given, and kept."""

    def __init__(self, statement, dialect):
        self.compiled = compiled = statement.compile(dialect=dialect)
        self.dialect, self.positional = dialect, compiled.positional
        self.by_name = {name: bind for bind, name in compiled.bind_names.items()}
        self.expanding = [bind.key for bind in self.by_name.values() if bind.expanding]
        self.variants = {}
        if not self.expanding:
            names = compiled.positiontup if self.positional else list(self.by_name)
            self.variants[()] = (compiled.string, [self._bind(name) for name in names])
        columns = list(getattr(statement, "exported_columns", ()))
        self.types = [column.type for column in columns]
        self.row = namedtuple("Row", [column.key for column in columns], rename=True)
        self.processors = None

    def _bind(self, name):
        """(the name the driver sees, the parameter's key, its place in an expanding list, its
        value when none is given, its processor)."""
        escaped = self.compiled.escaped_bind_names or {}
        bind = self.by_name[name]
        return (
            escaped.get(name, name),
            bind.key,
            None,
            None if bind.required else bind.value,
            bind.type.dialect_impl(self.dialect).bind_processor(self.dialect),
        )

    def _variant(self, params):
        lengths = tuple(len(params[key]) for key in self.expanding)
        found = self.variants.get(lengths)
        if found is None:
            state = self.compiled.construct_expanded_state(params)
            expanded = {  # each rendered bind of a list: (its list's key, its place in it)
                one: (self.by_name[name].key, index)
                for name, ones in state.parameter_expansion.items()
                for index, one in enumerate(ones)
            }
            names = state.positiontup if self.positional else list(state.parameters)
            binds = []
            for name in names:
                if name in expanded:
                    key, index = expanded[name]
                    binds.append((name, key, index, None, state.processors.get(name)))
                else:
                    binds.append(self._bind(name))
            found = self.variants[lengths] = (state.statement, binds)
        return found

    def bound(self, params):
        """The SQL and the values for these parameters, processed as SQLAlchemy would."""
        sql, binds = self.variants[()] if not self.expanding else self._variant(params)
        values = []
        for name, key, index, default, process in binds:
            value = params[key] if key in params else default
            if index is not None:
                value = value[index]
            values.append((name, value if process is None else process(value)))
        if self.positional:
            return sql, tuple(value for _, value in values)
        return sql, dict(values)

    def rows(self, fetched, cursor):
        if not fetched:  # nothing to process (and no description to read it off, perhaps)
            return []
        if self.processors is None:
            described = cursor.description or ()
            if len(described) != len(self.types):
                raise RuntimeError("Prepared: the result's columns are not the statement's")
            self.processors = [
                type_.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                for type_, column in zip(self.types, described)
            ]
        make, processors = self.row._make, self.processors
        if not any(processors):
            return [make(row) for row in fetched]
        return [
            make(
                value if process is None else process(value)
                for value, process in zip(row, processors)
            )
            for row in fetched
        ]


class _Replayed:
    """A SQLAlchemy result standing in for a driver cursor (the path taken while something
    listens for cursor executions)."""

    def __init__(self, result):
        self.result = result
        self.rowcount = result.rowcount

    def fetchall(self):
        return self.result.all() if self.result.returns_rows else []  # Rows: named, as ours


class _Seen:
    def rows(self, fetched, cursor):
        return fetched


_SEEN = _Seen()


def _wrapped(connection, sql, values, error):
    dialect = connection.dialect
    invalidated = dialect.is_disconnect(error, connection.connection.driver_connection, None)
    if invalidated:
        connection.invalidate(error)
    return exc.DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )


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
        return Decimal(int(value)).scaleb(-1)  # whole tenths: exactly one decimal place

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
