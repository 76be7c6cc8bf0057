"""How fast the counter is, measured as a user's load generator would: wrk against gunicorn.

    make bench                                     # SQLite, then PostgreSQL when reachable
    .venv/bin/python bench/redeem.py [--seconds 5] [--rounds 3] [--database sqlite|postgresql]

For each database: a fresh one (`flask db upgrade`, `rules sync`, `demo`, then HOUSEHOLDS more
households and POINTS points each through the entries service, and soap restocked) so that no
redemption is refused; gunicorn with 2 sync workers serving the service, and a bare Flask JSON
endpoint (bench/bare.py) served the same way. Each round runs wrk (2 threads, 16 connections)
for --seconds against the bare endpoint, POST /api/v1/redemptions (bench/redeem.lua, a fresh
Idempotency-Key each) and GET /api/v1/accounts/longhua/<holder> (bench/balance.lua); the
figures printed are the median of the rounds, each ratio the median of the rounds' ratios.
After the run every redemption must have been a 201, and `ledger verify` must pass.
PostgreSQL: BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/points_bench; its
tables are dropped).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "demo-pass-1"
HOUSEHOLDS = 200  # beside the demo's 28
POINTS = 500  # each, by default; a soap costs 5, so 236 households pay for ~23,000 redemptions
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/points_bench")


def flask_cli(env, *args):
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare(env, points):
    """Households with plenty of points, as staff would give them: through the service layer."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from points import create_app
    from points.config import config_for
    from points.database import today
    from points.entries import service as entries
    from points.extensions import db
    from points.org.models import Holder
    from points.users.service import import_holders
    from points.rules import load_scheme_file
    from points.shop import service as shop
    from points.users.models import User
    from points.users.service import principal_for_user
    from sqlalchemy import select

    app = create_app(config_for("development"), SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"])
    with app.app_context():

        def who(username):
            user = db.session.query(User).filter_by(username=username).one()
            return principal_for_user(user.id, user.username)

        import_holders(
            who("admin"),
            [
                (
                    n + 1,
                    {
                        "code": f"BH-{n:03d}",
                        "name": f"户{n}",
                        "kind": "household",
                        "unit": "lh-v1-g1",
                    },
                )
                for n in range(HOUSEHOLDS)
            ],
        )
        households = sorted(
            db.session.execute(
                select(Holder.code).where(Holder.kind == "household", Holder.code.like("%H-%"))
            ).scalars()
        )
        rules = load_scheme_file(Path(app.config["RULES_DIR"]) / "longhua.yaml")
        item = max(
            (
                i
                for i in rules.items
                if i.type == "fixed" and i.points > 0 and i.cap is None and not i.veto
            ),
            key=lambda i: i.points,
        )
        ids = []
        for _ in range(int(points // item.points)):
            for start in range(0, len(households), 500):
                ids += entries.record_batch(
                    who("recorder"),
                    "longhua",
                    item.code,
                    households[start : start + 500],
                    today() - timedelta(days=1),
                )
        for reviewer in ("reviewer1", "reviewer2"):
            for start in range(0, len(ids), 500):
                entries.approve_batch(who(reviewer), ids[start : start + 500])
        entries.settle(today() + timedelta(days=30))
        shop.restock(who("admin"), "lh-shop", "soap", 1_000_000, "bench")
        db.session.remove()
        db.engine.dispose()
    return households


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app, env):
    port = free_port()
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn {app} exited before it answered")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return port, server
        except urllib.error.HTTPError:
            return port, server
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn {app} did not answer in time")


def stop(server):
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def wrk(port, path, script, seconds, *args):
    """requests/s from one wrk run (2 threads, 16 connections); refuses a run with errors."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(BENCH / script),
            f"http://127.0.0.1:{port}{path}",
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", out.split("WRK", 1)[1]))
    if found["status_errors"] or found["timeout"]:
        raise SystemExit(
            f"{script}: {found['status_errors']} answers were not 2xx, "
            f"{found['timeout']} timed out:\n{out}"
        )
    return found["requests"] / (found["duration_us"] / 1e6)


def token(port):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        method="POST",
        data=json.dumps({"username": "clerk", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["token"]


def pg_reachable():
    try:
        import psycopg
    except ImportError:
        return False
    base = PG_URL.rsplit("/", 1)
    try:
        with psycopg.connect(base[0] + "/postgres", autocommit=True, connect_timeout=3) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (base[1],)
            ).fetchone():
                conn.execute(f'CREATE DATABASE "{base[1]}"')
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return True
    except psycopg.Error as error:
        print(f"PostgreSQL not reachable at {PG_URL}: {error}")
        return False


def bench(database, url, seconds, rounds, points):
    env = {
        **os.environ,
        "POINTS_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "DATABASE_URL": url,
    }
    started = time.perf_counter()
    setup_env = {**env, "POINTS_ENV": "development"}
    flask_cli(setup_env, "db", "upgrade")
    flask_cli(setup_env, "rules", "sync")
    flask_cli(setup_env, "demo")
    households = prepare(setup_env, points)
    print(
        f"{database}: setup {time.perf_counter() - started:.0f} s ({len(households)} households, {points} points each)"
    )
    bare_port, bare = serve("bench.bare:app", env)
    port, server = serve("wsgi:app", env)
    figures = []
    try:
        clerk = token(port)
        wrk(port, "/healthz", "bare.lua", 1)  # both workers up and settled once
        for n in range(rounds):
            ceiling = wrk(bare_port, "/", "bare.lua", seconds)
            redeemed = wrk(
                port,
                "/api/v1/redemptions",
                "redeem.lua",
                seconds,
                clerk,
                f"r{n}{uuid.uuid4().hex[:8]}",
                *households,
            )
            read = wrk(
                port, "/api/v1/accounts/longhua/", "balance.lua", seconds, clerk, *households
            )
            figures.append((ceiling, redeemed, read))
            print(
                f"  round {n + 1}: bare {ceiling:7.0f}/s   redemptions {redeemed:6.0f}/s ({redeemed / ceiling:.2f})"
                f"   balance reads {read:6.0f}/s ({read / ceiling:.2f})"
            )
    finally:
        stop(server)
        stop(bare)
    verify = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "ledger", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    median = statistics.median
    print(
        f"{database}, gunicorn 2 sync workers, wrk 2 threads 16 connections, {seconds} s each, "
        f"median of {rounds} rounds:"
    )
    print(f"  bare Flask endpoint   {median(f[0] for f in figures):7.0f} requests/s")
    print(
        f"  redemptions           {median(f[1] for f in figures):7.0f} /s   ratio "
        f"{median(f[1] / f[0] for f in figures):.2f}   (issue 14: ≥ 0.2)"
    )
    print(
        f"  balance reads         {median(f[2] for f in figures):7.0f} /s   ratio "
        f"{median(f[2] / f[0] for f in figures):.2f}   (issue 14: ≥ 0.5)"
    )
    print(
        f"  ledger verify: {verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else ''} "
        f"(exit {verify.returncode})"
    )
    return verify.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument(
        "--points", type=int, default=POINTS, help="each household's, enough for every redemption"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does)")
    failed = 0
    for database in args.database or ["sqlite", "postgresql"]:
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                failed |= bench(
                    "SQLite", f"sqlite:///{tmp}/points.db", args.seconds, args.rounds, args.points
                )
        elif pg_reachable():
            failed |= bench("PostgreSQL", PG_URL, args.seconds, args.rounds, args.points)
    return failed


if __name__ == "__main__":
    sys.exit(main())
