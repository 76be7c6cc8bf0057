"""GET /metrics: what a county's monitoring reads, from every gunicorn worker at once."""

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shop_helpers import give_points, open_shop, redeem
from test_gunicorn import _free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def samples(text):
    """{(name, sorted labels): value} of an exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text, name, **labels):
    return samples(text).get((name, tuple(sorted(labels.items()))), 0)


def grown(before, after, name, **labels):
    """How much a series grew between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


def scrape(client, **kw):
    response = client.get("/metrics", **kw)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def test_requests_redemptions_and_entries_are_counted(world, client):
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, "H1", 20)
    before = scrape(client)
    assert redeem(world, [("soap", 1)]).status == 201
    assert (
        redeem(world, [("soap", 9)]).status == 409
    )  # more than the balance: rolled back, not counted
    world.record("H2")
    after = scrape(client)
    assert grown(before, after, "points_redemptions_total") == 1
    assert grown(before, after, "points_entries_total", status="pending") == 1
    created = dict(endpoint="shop.Redemptions", method="POST", status="201")
    assert grown(before, after, "points_http_requests_total", **created) == 1
    refused = dict(created, status="409")
    assert grown(before, after, "points_http_requests_total", **refused) == 1
    timed = dict(endpoint="shop.Redemptions", status="201")
    assert grown(before, after, "points_http_request_duration_seconds_count", **timed) == 1


def test_posted_entries_are_counted_when_their_notice_ends(world, client):
    before = scrape(client)
    give_points(world, "H1", 10)
    after = scrape(client)
    grew = {
        status: grown(before, after, "points_entries_total", status=status)
        for status in ("pending", "in_notice", "posted")
    }
    assert grew["pending"] >= 1 and grew["pending"] == grew["in_notice"] == grew["posted"]


def test_metrics_are_refused_from_elsewhere_without_the_token(app, client):
    away = {"REMOTE_ADDR": "10.1.2.3"}
    refused = client.get("/metrics", environ_base=away)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    app.config["METRICS_TOKEN"] = "monitoring-token-1"
    assert (
        client.get(
            "/metrics", environ_base=away, headers={"Authorization": "Bearer wrong"}
        ).get_json()["error"]["code"]
        == "unauthorized"
    )
    assert "points_http_requests_total" in scrape(
        client, environ_base=away, headers={"Authorization": "Bearer monitoring-token-1"}
    )


def test_ledger_verify_ok_follows_the_last_verify(world, client, tmp_path):
    from sqlalchemy import text

    from points.extensions import db

    app = world.app
    app.config["VERIFY_STATUS_FILE"] = str(tmp_path / "verify.json")
    runner = app.test_cli_runner()
    assert value(scrape(client), "points_ledger_verify_ok") == 0  # never run: not known to be right
    give_points(world, "H1", 10)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    assert value(scrape(client), "points_ledger_verify_ok") == 1
    assert value(scrape(client), "points_ledger_verify_timestamp_seconds") > 0
    with app.app_context():
        db.session.execute(text("UPDATE accounts SET balance = balance + 70"))
        db.session.commit()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 1
    assert value(scrape(client), "points_ledger_verify_ok") == 0


def _get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def two_workers(app, database_uri, rules_dir, tmp_path):
    """gunicorn with deploy/gunicorn.conf.py, two workers that each end after 5 requests, so
    a dozen requests are answered by several processes, some of them gone by the scrape."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed beside this Python")
    port, metrics_dir = _free_port(), tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": database_uri,
        "POINTS_ENV": "development",
        "POINTS_RULES_DIR": str(rules_dir),
        "POINTS_SETTLE_EVERY": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-c",
            "deploy/gunicorn.conf.py",
            "--workers",
            "2",
            "--max-requests",
            "5",
            "--max-requests-jitter",
            "0",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)  # waiting for the server to listen, not papering over a race
        yield port, metrics_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            raise


def test_metrics_add_up_every_worker_the_ended_ones_too(two_workers):
    port, metrics_dir = two_workers
    for _ in range(12):
        assert _get(port, "/no-such-page")[0] == 404
    status, text = _get(port, "/metrics")
    assert status == 200
    assert (
        value(text, "points_http_requests_total", endpoint="unmatched", method="GET", status="404")
        == 12
    )
    workers = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
    assert len(workers) >= 3  # 12 requests at most 5 a worker: at least three processes counted


def test_every_request_of_a_series_is_counted_not_only_its_first(client):
    scrape(client)  # the series of /metrics itself exists from here on
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    before = scrape(client)
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    after = scrape(client)
    ok = dict(endpoint="healthz", method="GET", status="200")
    assert grown(before, after, "points_http_requests_total", **ok) == 2
    refused = dict(endpoint="unmatched", method="POST", status="405")  # no route for a POST
    assert grown(before, after, "points_http_requests_total", **refused) == 1
    read = dict(endpoint="metrics", method="GET", status="200")
    assert grown(before, after, "points_http_requests_total", **read) == 1
