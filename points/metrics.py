"""GET /metrics: the Prometheus text format (api.md, Configuration), through prometheus_client.

Under gunicorn every worker is a process of its own, so the series are kept in
prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (deploy/gunicorn.conf.py
sets it, empties it at start and marks dead workers): a scrape answered by any worker adds up
the counts of all of them, the dead included. Without it (flask run, tests) the counts are
this process's own.

Counts that belong to a transaction (entries, redemptions) are queued on the session and
added when it commits, so a unit of work that rolls back counts nothing.

Who may read it: requests from 127.0.0.1 / ::1 (as seen after POINTS_PROXIES' ProxyFix, so
a visitor coming through nginx is not local), or any caller with POINTS_METRICS_TOKEN as a
bearer token. The nginx site in deploy/ refuses /metrics from outside as well.
"""

import hmac
import json
import os
import time
from pathlib import Path

from flask import current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from points.errors import PointsError, forbidden

LOCAL = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
# This process's series (single-process mode); in multiprocess mode the files hold them.
REGISTRY = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "points_http_requests",
    "HTTP requests answered, by endpoint, method and status",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
http_duration = Histogram(
    "points_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "status"],
    registry=REGISTRY,
)
redemptions = Counter("points_redemptions", "Redemptions (兑换) completed", registry=REGISTRY)
entries = Counter(
    "points_entries",
    "Entries (积分记录) that reached a status, by that status",
    ["status"],
    registry=REGISTRY,
)


def counted(counter, **labels):
    """Count one when the current unit of work commits (nothing when it rolls back)."""
    from points.database import direct_unit
    from points.extensions import db

    unit = direct_unit()
    if unit is not None:
        unit.after_commit.append((counter.labels(**labels) if labels else counter).inc)
        return
    db.session().info.setdefault("points_metrics", []).append((counter, labels))


@event.listens_for(Session, "after_flush")
def _entry_statuses(session, _context):
    from points.entries.models import Entry

    queued = session.info.setdefault("points_metrics", [])
    for entry in session.new:
        if isinstance(entry, Entry):
            queued.append((entries, {"status": entry.status}))
    for entry in session.dirty:
        if isinstance(entry, Entry):
            for status in inspect(entry).attrs.status.history.added:
                queued.append((entries, {"status": status}))


@event.listens_for(Session, "after_commit")
def _add_counts(session):
    for counter, labels in session.info.pop("points_metrics", []):
        (counter.labels(**labels) if labels else counter).inc()


@event.listens_for(Session, "after_rollback")
def _drop_counts(session):
    session.info.pop("points_metrics", None)


def init_app(app):
    """Time and count every request; serve /metrics."""

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    series = {}  # (endpoint, method, status): its two children, looked up once (labels() locks)

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            key = (request.endpoint or "unmatched", request.method, response.status_code)
            found = series.get(key)
            if found is None:
                endpoint, method, status = key[0], key[1], str(key[2])
                found = series[key] = (
                    http_requests.labels(endpoint, method, status),
                    http_duration.labels(endpoint, status),
                )
            found[0].inc()
            found[1].observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        _allow_reader()
        return generate_latest(_scrape_registry()), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _allow_reader():
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        if hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode()):
            return
        raise PointsError("unauthorized", "the metrics token is not valid", 401)
    if request.remote_addr not in LOCAL:
        raise forbidden(
            "/metrics is read from 127.0.0.1 or with POINTS_METRICS_TOKEN as a bearer token"
        )


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


class _Live:
    """Figures read when scraped, not counted: the last ledger verify, the hot standby."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        verified = read_verify_status(self.app)
        ok = GaugeMetricFamily(
            "points_ledger_verify_ok",
            "1 when the last `ledger verify` found every "
            "figure and hash right, 0 when it did not or has not run",
        )
        ok.add_metric([], 1 if verified and verified["ok"] else 0)
        yield ok
        if verified:
            at = GaugeMetricFamily(
                "points_ledger_verify_timestamp_seconds", "When the last `ledger verify` ended"
            )
            at.add_metric([], verified["at"])
            yield at
        from points import replica

        yield from replica.metrics(self.app)


def _scrape_registry():
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Live(current_app._get_current_object()))
    return registry


# --- the last ledger verify ----------------------------------------------------------------


def verify_status_path(app):
    return Path(
        app.config.get("VERIFY_STATUS_FILE") or Path(app.instance_path) / "ledger-verify.json"
    )


def write_verify_status(app, ok, problems):
    """Kept beside the instance's other files, so that every worker's /metrics reads it."""
    path = verify_status_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.write_text(json.dumps({"ok": bool(ok), "problems": problems, "at": time.time()}))
    os.replace(draft, path)


def read_verify_status(app):
    try:
        return json.loads(verify_status_path(app).read_text())
    except (OSError, ValueError):
        return None
