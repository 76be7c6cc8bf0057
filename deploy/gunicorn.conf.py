"""gunicorn for a county: `gunicorn -c deploy/gunicorn.conf.py wsgi:app` (deploy/points.service).

Settings from the environment where a county may want another value; the rest is fixed here.
"""

import os
from pathlib import Path

bind = os.environ.get("POINTS_BIND", "127.0.0.1:8000")  # nginx in front (deploy/nginx-points.conf)
# Sync workers: a request holds one worker; 2 per core plus one keeps the counters served while
# a report runs. Each worker keeps up to 5 database connections (SQLAlchemy's pool).
workers = int(os.environ.get("POINTS_WORKERS", 2 * (os.cpu_count() or 1) + 1))
timeout = (
    120  # a whole county's export (xlsx) may take a minute; a worker silent longer is restarted
)
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then; jitter so they do not all restart at once
max_requests_jitter = 500
accesslog = "-"  # to the journal (systemd); the client address is nginx's X-Forwarded-For
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("POINTS_LOG_LEVEL", "info")

# /metrics adds up every worker (points/metrics.py): prometheus_client's multiprocess mode keeps
# each worker's series in files here. Set before any worker imports prometheus_client.
METRICS_DIR = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(Path(__file__).resolve().parent.parent / "instance" / "metrics"),
    )
)
METRICS_DIR.mkdir(parents=True, exist_ok=True)


def on_starting(server):
    """A fresh start counts from zero: the files of a previous run's workers are removed."""
    for old in METRICS_DIR.glob("*.db"):
        old.unlink()


def child_exit(server, worker):
    """A worker that ended keeps its counts; its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
