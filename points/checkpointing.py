"""SQLite's write-ahead log written back into the database file off the request path.

In WAL mode a commit appends the pages it changed to the -wal file. By SQLite's default the
commit that takes the log past 1,000 pages then copies them back into the database file and
waits for two fsyncs (synchronous=NORMAL): 15-20 ms on our machines, paid by about one
redemption in sixty, and some 40% of all the time commits took. With SQLITE_CHECKPOINT_EVERY
set (seconds), each server process runs a thread that does this work that often instead
(`PRAGMA wal_checkpoint(PASSIVE)`: it never waits for a reader or a writer, nor makes one
wait), and the requests' connections checkpoint only past BACKSTOP_PAGES, so the log stays
bounded should the thread fall behind or stop. Nothing is less durable: a commit is exactly
as safe as before, only the copying moved.

Like the settler, the thread is started by its process's first request (points/background.py:
so a command line, a test app or gunicorn's master never runs one, and a forked worker gets its
own). Several
processes checkpointing at once is harmless: SQLite lets one at a time copy, and the others
return at once.
"""

import sqlite3

from sqlalchemy import event

from points.background import ProcessThread
from points.extensions import db

BACKSTOP_PAGES = 10_000  # about 40 MiB of log: ten times SQLite's default, far above one period


class Checkpointer(ProcessThread):
    name = "points-checkpoint"

    def __init__(self, app, engine, every):
        super().__init__(app, every)
        self.engine = engine

    def run_once(self):
        try:
            self.checkpoint()
        except sqlite3.Error:  # logged, and tried again at the next run
            self.app.logger.exception("the WAL checkpoint failed")

    def checkpoint(self):
        """One PASSIVE checkpoint on a connection of the pool (in autocommit: pysqlite lets go
        of the GIL while SQLite copies and syncs, so the process's requests go on)."""
        connection = self.engine.raw_connection()
        try:
            connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()


def init_app(app):
    """On SQLite with SQLITE_CHECKPOINT_EVERY (seconds) set: checkpoints run in a thread of
    each server process, and the requests' connections leave them to it up to BACKSTOP_PAGES."""
    every = app.config["SQLITE_CHECKPOINT_EVERY"]
    with app.app_context():
        engine = db.engine
    if not every or engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _backstop(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")

    engine.pool.dispose()  # any connection made before the listener goes, so every one has it
    checkpointer = app.extensions["points_checkpointer"] = Checkpointer(app, engine, every)

    @app.before_request
    def start_checkpointer():
        checkpointer.start()
