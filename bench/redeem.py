"""How fast the counter is: redemptions/s and balance reads/s against a bare endpoint's ceiling.

    .venv/bin/python bench/redeem.py [--requests 400] [--threads 4]

Starts gunicorn (2 workers) on a fresh SQLite database in a temporary directory, after
`flask db upgrade`, `rules sync` and `demo`; gives ten households plenty of points through
the entries service (record, two reviewers, notice ended) and restocks the soap; then times
a bounded number of requests from a few client threads (stdlib only) and prints each figure
with its ratio to GET /healthz served the same way. Stops the server at the end.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOUSEHOLDS = [f"LH-1{n:02d}" for n in range(1, 11)]
PASSWORD = "demo-pass-1"


def flask_cli(env, *args):
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def give_points(env, per_household=500):
    """Through the service layer, as staff would: one event per round, two reviewers, notice ends."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from points import create_app
    from points.config import config_for
    from points.database import today
    from points.entries import service as entries
    from points.extensions import db
    from points.rules import load_scheme_file
    from points.shop import service as shop
    from points.users.models import User
    from points.users.service import principal_for_user

    app = create_app(config_for("development"), SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"])
    with app.app_context():
        def who(username):
            user = db.session.query(User).filter_by(username=username).one()
            return principal_for_user(user.id, user.username)

        rules = load_scheme_file(Path(app.config["RULES_DIR"]) / "longhua.yaml")
        item = max((i for i in rules.items if i.type == "fixed" and i.points > 0 and i.cap is None and not i.veto),
                   key=lambda i: i.points)
        ids = []
        for _ in range(int(per_household // item.points)):
            ids += entries.record_batch(who("recorder"), "longhua", item.code, HOUSEHOLDS,
                                        today() - timedelta(days=1))
        for reviewer in ("reviewer1", "reviewer2"):
            for start in range(0, len(ids), 500):
                entries.approve_batch(who(reviewer), ids[start:start + 500])
        entries.settle(today() + timedelta(days=30))
        shop.restock(who("admin"), "lh-shop", "soap", 100000, "bench")
        db.session.remove()
        db.engine.dispose()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(port, server, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before it answered")
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer in time")


def measure(name, total, threads, request):
    """request(i) → status; `total` requests shared by `threads` clients; returns requests/s."""
    statuses = {}
    lock = threading.Lock()
    counter = iter(range(total))

    def client():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            status = request(i)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = total / (time.perf_counter() - started)
    print(f"  {name:<18} {rate:8.1f} req/s   statuses {dict(sorted(statuses.items()))}")
    return rate, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POINTS_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp}/points.db",
               "POINTS_SETTLE_EVERY": "0"}
        started = time.perf_counter()
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "rules", "sync")
        flask_cli(env, "demo")
        give_points(env)
        print(f"setup: {time.perf_counter() - started:.1f} s (db upgrade, rules sync, demo, points for "
              f"{len(HOUSEHOLDS)} households)")

        port = free_port()
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--log-level",
             "warning", "wsgi:app"], cwd=ROOT, env=env)
        try:
            wait_until_up(port, server)
            tokens = {}
            for username in ("clerk",):
                status, body = call(port, "POST", "/api/v1/auth/token",
                                    {"username": username, "password": PASSWORD})
                assert status == 200, body
                tokens[username] = json.loads(body)["token"]
            auth = {"Authorization": f"Bearer {tokens['clerk']}"}
            print(f"gunicorn, {args.workers} workers, SQLite; {args.requests} requests each from "
                  f"{args.threads} client threads")

            ceiling, _ = measure("GET /healthz", args.requests, args.threads,
                                 lambda i: call(port, "GET", "/healthz")[0])

            def redeem(i):
                body = {"shop": "lh-shop", "scheme": "longhua", "holder": HOUSEHOLDS[i % len(HOUSEHOLDS)],
                        "lines": [{"goods": "soap", "quantity": 1}]}
                return call(port, "POST", "/api/v1/redemptions", body,
                            {**auth, "Idempotency-Key": uuid.uuid4().hex})[0]

            redemptions, statuses = measure("redemptions", args.requests, args.threads, redeem)
            balances, _ = measure("balance reads", args.requests, args.threads,
                                  lambda i: call(port, "GET", f"/api/v1/accounts/longhua/"
                                                 f"{HOUSEHOLDS[i % len(HOUSEHOLDS)]}", headers=auth)[0])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

        verify = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "ledger", "verify"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        print()
        print(f"ceiling   GET /healthz          {ceiling:8.1f} req/s")
        print(f"redeem    POST /redemptions     {redemptions:8.1f} req/s   ratio {redemptions / ceiling:.2f}"
              f"   (target ≥ 0.3)")
        print(f"balance   GET /accounts/...     {balances:8.1f} req/s   ratio {balances / ceiling:.2f}"
              f"   (target ≥ 0.6)")
        print(f"ledger verify: {verify.stdout.strip()} (exit {verify.returncode})")
        if statuses.keys() - {201}:
            print(f"warning: some redemptions were not 201: {statuses}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
