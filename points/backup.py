"""备份: a consistent copy of the whole database while the service runs, and back.

SQLite copies through its online backup API in one step: one read transaction, which in WAL
mode never stops a writer, so the copy is the database as of one commit. PostgreSQL copies
with `pg_dump -Fc` (one snapshot) and comes back with `pg_restore` in a single transaction.
A backup is written beside its name and moved into place only once it reads back whole, so
a failed or interrupted run never leaves a half file under the name cron will keep.
A restore goes only into a database with no rows, so it can never mix two histories; on any
error it changes nothing.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text

from points.errors import PointsError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def _refuse(message):
    return PointsError("backup_failed", message, 409)


def backup(engine, path):
    """Copy the database behind `engine` to `path`; returns a line saying what was written."""
    path = Path(path)
    partial = _writable(path)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(_sqlite_path(engine), partial)
        else:
            _pg_dump(engine.url, partial)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return f"backed up the {engine.dialect.name} database to {path} ({path.stat().st_size} bytes)"


def _writable(path):
    """The partial file beside `path`, once it is known that it can be written there."""
    if path.is_dir():
        raise _refuse(f"cannot write the backup to {path}: it is a directory")
    if not path.parent.is_dir():
        raise _refuse(f"cannot write the backup to {path}: there is no directory {path.parent}")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        partial.open("wb").close()
    except OSError as error:
        raise _refuse(f"cannot write the backup to {path}: {error.strerror}") from None
    return partial


def _sqlite_path(engine):
    database = engine.url.database
    if not database or database == ":memory:":
        raise _refuse("an in-memory SQLite database cannot be backed up or restored")
    return database


def _sqlite_backup(source_path, target_path):
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(target)  # pages=-1: the whole database in one step, from one snapshot
        if target.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _refuse("the copy does not read back whole (PRAGMA quick_check)")
    finally:
        target.close()
        source.close()


def _pg_command(url, program, *arguments):
    """A PostgreSQL client command for the URL's parts (its password through the environment)."""
    if shutil.which(program) is None:
        raise _refuse(f"{program} is not installed (the PostgreSQL client programs)")
    command = [program, "--no-password"]
    for flag, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            command += [flag, str(value)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return command + list(arguments), env


def _run(command, env, what):
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise _refuse(f"{what} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _pg_dump(url, target_path):
    command, env = _pg_command(
        url, "pg_dump", "--format=custom", f"--file={target_path}", f"--dbname={url.database}"
    )
    _run(command, env, "pg_dump")
    command, env = _pg_command(url, "pg_restore", "--list", str(target_path))
    _run(command, env, "reading the dump back (pg_restore --list)")


# --- restore -------------------------------------------------------------------------------


def restore(engine, path):
    """Restore the backup at `path` into the (empty) database behind `engine`."""
    path = Path(path)
    if not path.is_file():
        raise _refuse(f"no backup at {path}")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head.startswith(PG_MAGIC) else None
    if kind is None:
        raise _refuse(f"{path} is not a backup made by `points backup`")
    if kind != engine.dialect.name:
        raise _refuse(f"{path} is a {kind} backup; this database is {engine.dialect.name}")
    tables = _refuse_unless_empty(engine)
    engine.dispose()  # nothing of ours holds the database while it is replaced
    if kind == "sqlite":
        _sqlite_restore(path, _sqlite_path(engine))
    else:
        _pg_restore(engine.url, path, clean=bool(tables))
    return f"restored {path} into the {kind} database; now run `points ledger verify`"


def _refuse_unless_empty(engine):
    """The tables there (a database migrated but never used is empty too); an error if any
    holds a row."""
    with engine.connect() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        for table in tables:
            if connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                raise _refuse(
                    f"the database is not empty (table {table} has rows): "
                    "restore only into a new, empty database"
                )
    return tables


def _sqlite_restore(backup_path, target_path):
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _refuse(f"{backup_path} does not read back whole (PRAGMA quick_check)")
        names = {
            row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"alembic_version", "postings"} <= names:
            raise _refuse(f"{backup_path} is not a backup of a points database")
        target = sqlite3.connect(target_path)
        try:
            target.execute("PRAGMA busy_timeout=30000")
            source.backup(target)  # the target's pages replaced in one write transaction
        finally:
            target.close()
    finally:
        source.close()


def _pg_restore(url, backup_path, clean):
    """One transaction: on any error (a bad archive, a conflict) the database is as it was.
    A target that was migrated but holds no rows has its empty tables replaced (--clean)."""
    options = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if clean:
        options += ["--clean", "--if-exists"]
    command, env = _pg_command(
        url, "pg_restore", *options, f"--dbname={url.database}", str(backup_path)
    )
    _run(command, env, "pg_restore")
