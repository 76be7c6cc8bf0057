"""Several server processes at once: gunicorn workers sharing one database, as in production."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import at_once
from shop_helpers import give_points, open_shop, verify

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.fixture
def server(app, database_uri, rules_dir):
    """gunicorn with three workers on the test's database; stopped after the test."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed beside this Python")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_uri,
        "POINTS_ENV": "development",
        "POINTS_RULES_DIR": str(rules_dir),
        "POINTS_SETTLE_EVERY": "0",
    }
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _call(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)  # waiting for the server to listen, not papering over a race
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a stuck server fails the test, never hangs CI
            process.kill()
            process.wait(timeout=30)
            raise


def test_clerks_on_several_server_processes_never_overdraw_a_household(world, server):
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, "H1", 40)
    token = world.token("clerk")
    body = {
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": "H1",
        "lines": [{"goods": "soap", "quantity": 1}],
    }
    answers = at_once(
        [
            lambda: _call(
                server,
                "POST",
                "/api/v1/redemptions",
                body,
                {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            )
        ]
        * 24
    )
    statuses = sorted(status for status, _ in answers)
    # 40 points, 5 a bar, a threshold of 10 that a balance of 5 is below: exactly 7 bars sold.
    assert statuses == [201] * 7 + [409] * 17
    assert world.balance("H1")["balance"] == 5
    assert verify(world)[1] == []


def test_the_same_key_on_several_server_processes_is_charged_once(world, server):
    open_shop(world, goods=[("rice", "大米", 50, 10)])
    give_points(world, "H1", 200)
    token = world.token("clerk")
    body = {
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": "H1",
        "lines": [{"goods": "rice", "quantity": 1}],
    }
    answers = at_once(
        [
            lambda: _call(
                server,
                "POST",
                "/api/v1/redemptions",
                body,
                {"Authorization": f"Bearer {token}", "Idempotency-Key": "counter-3-sale-17"},
            )
        ]
        * 9
    )
    created = [answer for status, answer in answers if status == 201]
    assert {status for status, _ in answers} <= {201, 409}
    assert len({answer["id"] for answer in created}) == 1
    assert world.balance("H1")["balance"] == 150
    assert verify(world)[1] == []
