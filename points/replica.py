"""读库: reports read a PostgreSQL hot standby (POINTS_REPLICA_URL), so they never slow the
counters.

Which reads go there is decided in the report services with `database.reading()`; nothing
that moves or checks points uses it, so balances, redemptions and reviews read the primary,
and a balance read right after a user's own redemption sees it.

Before each report the standby is asked `pg_is_in_recovery()` (one round trip on a pooled
connection). A standby that does not answer, or that answers as a primary (a URL pointing at
the primary itself, or a standby promoted in a failover, whose data no longer follows), is
left alone for RETRY_AFTER seconds: reports read the primary meanwhile, and the log says so
once per change. The service never refuses to start over it, since after a failover a
service that starts on the primary alone is what the county needs.
"""

import logging
import threading
import time

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from points.config import database_url

log = logging.getLogger("points.replica")
RETRY_AFTER = 10  # seconds before a standby found down or not a standby is asked again
CONNECT_TIMEOUT = 3  # seconds: a standby machine that is off must not hold a report for minutes

# On a standby: 0 when it has replayed all it received, else the age of the last replayed commit.
_STATE = text("""
    SELECT pg_is_in_recovery(),
           CASE WHEN pg_last_wal_receive_lsn() IS NULL
                     OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
                THEN 0
                ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END""")

MESSAGES = {
    "down": (
        "the standby at POINTS_REPLICA_URL does not answer ({reason}); reports read the primary"
    ),
    "primary": (
        "POINTS_REPLICA_URL points at a primary, not a hot standby (pg_is_in_recovery() is false): "
        "reports read DATABASE_URL instead; "
        "point it at a standby made with pg_basebackup -R, or unset it"
    ),
    "ok": "reports read the standby at POINTS_REPLICA_URL",
}


class Replica:
    def __init__(self, url, pgbouncer=False):
        url = database_url(url)
        if not url.startswith("postgresql"):
            raise RuntimeError(
                f"POINTS_REPLICA_URL must be a PostgreSQL hot standby, not {url.split(':')[0]}"
            )
        connect_args = {"connect_timeout": CONNECT_TIMEOUT}
        if pgbouncer:
            connect_args["prepare_threshold"] = None
        self.engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self.state, self.reason, self.checked = None, "", float("-inf")
        self._lock = threading.Lock()

    def probe(self):
        """(state, lag in seconds or None, reason): 'ok', 'down' or 'primary'."""
        try:
            with self.engine.connect() as connection:
                in_recovery, lag = connection.execute(_STATE).one()
        except DBAPIError as error:
            return "down", None, str(error.orig or error).strip().splitlines()[0]
        if not in_recovery:
            return "primary", None, ""
        return "ok", (float(lag) if lag is not None else None), ""

    def engine_for_reports(self):
        """The standby's engine when it answers as a standby, else None (read the primary)."""
        now = time.monotonic()
        if self.state not in (None, "ok") and now - self.checked < RETRY_AFTER:
            return None
        state, _, reason = self.probe()
        self._note(state, reason, now)
        return self.engine if state == "ok" else None

    def _note(self, state, reason, now):
        with self._lock:
            changed = state != self.state
            self.state, self.reason, self.checked = state, reason, now
        if changed:
            (log.info if state == "ok" else log.warning if state == "down" else log.error)(
                MESSAGES[state].format(reason=reason)
            )


def init_app(app):
    url = app.config.get("REPLICA_URL")
    if not url:
        return
    replica = app.extensions["points_replica"] = Replica(
        url, pgbouncer=app.config.get("PGBOUNCER", False)
    )
    state, _, reason = replica.probe()
    replica._note(state, reason, time.monotonic())


def of(app):
    return app.extensions.get("points_replica")


def metrics(app):
    """points_replica_up and points_replica_lag_seconds, asked of the standby at scrape time."""
    from prometheus_client.core import GaugeMetricFamily

    replica = of(app)
    if replica is None:
        return
    state, lag, _ = replica.probe()
    up = GaugeMetricFamily(
        "points_replica_up", "1 when the standby at POINTS_REPLICA_URL answers as a hot standby"
    )
    up.add_metric([], 1 if state == "ok" else 0)
    yield up
    if lag is not None:
        behind = GaugeMetricFamily(
            "points_replica_lag_seconds",
            "How far the standby's replay is behind what it received (0: caught up)",
        )
        behind.add_metric([], lag)
        yield behind
