"""Temporary PostgreSQL clusters for the tests: a primary and a hot standby on free ports.

Made as the `postgres` user with the server's own tools (initdb, pg_basebackup -R, pg_ctl),
small and unsynced (fsync off) so they start in a few seconds; removed at the end of the session.
Commits stay synchronous: a commit is in the WAL the primary reports (pg_current_wal_lsn) when it
returns, so waiting for the standby to replay up to that position sees it.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)
SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
port = {port}
max_connections = 60
shared_buffers = 16MB
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
hot_standby_feedback = on
"""


def missing():
    """Why the clusters cannot be made here, or None."""
    if BIN is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "making clusters needs root and runuser (to act as the postgres user)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*args):
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=120
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr or done.stdout}")
    return done.stdout


class Cluster:
    def __init__(self, directory, port):
        self.directory, self.port = Path(directory), port

    def url(self, database="points"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        as_postgres(
            f"{BIN}/pg_ctl",
            "-D",
            str(self.directory),
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self, mode="fast"):
        as_postgres(f"{BIN}/pg_ctl", "-D", str(self.directory), "-m", mode, "-w", "stop")

    def scalar(self, sql, **params):
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql), params).scalar()
        finally:
            engine.dispose()


class Pair:
    """A primary with one database, `points`, and a streaming hot standby of it."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="points-pg-"))
        shutil.chown(self.base, "postgres", "postgres")
        self.primary = Cluster(self.base / "primary", free_port())
        self.standby = Cluster(self.base / "standby", free_port())

    def make(self):
        primary, standby = self.primary, self.standby
        as_postgres(
            f"{BIN}/initdb",
            "-D",
            str(primary.directory),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with open(primary.directory / "postgresql.conf", "a") as conf:
            conf.write(SETTINGS.format(sockets=self.base, port=primary.port))
        with open(primary.directory / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        as_postgres(
            f"{BIN}/createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "points",
        )
        as_postgres(
            f"{BIN}/pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.directory),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        with open(standby.directory / "postgresql.conf", "a") as conf:
            conf.write(f"port = {standby.port}\n")
        standby.start()
        return self

    def caught_up(self, timeout=30):
        """Wait until the standby has replayed everything the primary wrote so far."""
        lsn = self.primary.scalar("SELECT pg_current_wal_lsn()::text")
        self._wait("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)", lsn, timeout)

    def received(self, timeout=30):
        """Wait until the standby has received (not necessarily replayed) all the primary wrote."""
        lsn = self.primary.scalar("SELECT pg_current_wal_lsn()::text")
        self._wait("SELECT pg_last_wal_receive_lsn() >= CAST(:lsn AS pg_lsn)", lsn, timeout)

    def _wait(self, sql, lsn, timeout):
        deadline = time.monotonic() + timeout
        while not self.standby.scalar(sql, lsn=lsn):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not reach {lsn} in {timeout}s")
            time.sleep(0.02)  # polling the standby's position: a condition, not a guess at timing

    def remove(self):
        for cluster in (self.standby, self.primary):
            try:
                cluster.stop("immediate")
            except RuntimeError:
                pass  # not running (a test stopped it, or it never started)
        shutil.rmtree(self.base, ignore_errors=True)
