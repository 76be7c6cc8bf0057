"""County scale: a township's ranking and statistics over 140,000 households and 5 million entries.

    .venv/bin/python bench/county.py                      # SQLite file in a temp dir
    .venv/bin/python bench/county.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/county.py --households 14000 --entries 500000   # a quick look
    .venv/bin/python bench/county.py --paths [--database URL]   # issue 14's figures, below

Builds the data straight into the tables (entries as posted, with the running figures the
service keeps: holder_years and entry_stats), then times, through the HTTP API in-process,
GET /api/v1/reports/ranking for one township and GET /api/v1/reports/stats for it.

With --paths, the places where staff wait, on a fresh database (issue 14): importing 5,000
households with PINs at the production PIN cost (the service the CLI and the admin page
call); recording one event for 500 households through POST /api/v1/entries/batch and its two
approvals through POST /api/v1/entries/batch/approve; a township's ranking of 7,000 rows as
XLSX and CSV; and a township built through the API (--api-households holders by POST
/api/v1/holders, then 5 entries each by batches of 500, each approved by two reviewers).

Figures (issue 14, item 4: "a township built through the API at least 5x faster than today"),
the "a township by the API" line of `bench/county.py --paths --import-rows 500`, measured on
2026-12-03 on 2 cores shared with another engineer's test runs: the better of two runs, with
the 1-minute load average of the better one (households + entries = total):

                                    SQLite                          PostgreSQL
    7c177cc, "today" in issue 14    51.0 s idle (61.2 s at 4.3)     18.2 + 140.8 = 159.0 s at 2.2
                                                                      (one run)
    8b21053, before this change     4.7 + 8.1 = 12.8 s at 1.0       10.1 + 16.9 = 27.0 s at 2.1
    after                           2.9 + 4.8 = 7.7 s at 2.9        7.1 + 13.4 = 20.5 s at 2.1
                                      (9.1 s at 3.0 in a first pair)

that is 6.6x the idle 51.0 s on SQLite and 7.8x on PostgreSQL (run in the same minutes, before
and after alternately, SQLite gave 14.3 s and 9.4 s). What changed: a POST /api/v1/holders
takes 5 statements on SQLite instead of 8 (the unit was read again inside the write lock, the
holder and its unit read back after the commit; now the answer is built from plain values);
recording a batch of 500 takes one INSERT of entries and one of notices instead of 500 each
(RETURNING with sort_by_parameter_order falls back to a statement per row on SQLite); a
batch's answer is read as columns instead of some 7,000 ORM objects. What remains of a batch
call is mostly marshmallow dumping the 500 entries of its answer.

The issue's full township, `--paths --import-rows 500 --api-households 20000` (20,000
households, 100,000 entries), on SQLite, one run at load 2.9: 82.9 + 129.2 = 212 s (issue 14
reported over 12 minutes). On 2026-12-03 21:08-21:16, at 7586541, on an idle machine of 2
cores (one run each): SQLite 27.3 + 89.9 = 117 s, PostgreSQL 121.5 + 172.3 = 294 s; and the
default `--paths` at 21:03 gave the 1,000-household township in 7.3 s on SQLite and 18.5 s on
PostgreSQL.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from points import create_app  # noqa: E402
from points.config import Config, DevelopmentConfig, database_url  # noqa: E402
from points.extensions import db  # noqa: E402

TOWNSHIPS, VILLAGES, GRIDS = 20, 35, 20
YEAR = 2025


def build(households, entries):
    """Units, households, entries and running figures, inserted in bulk."""
    per_grid = max(1, households // (TOWNSHIPS * VILLAGES * GRIDS))
    from points.schemes.service import rules_of, scheme_by_code, sync
    from points.users.service import create_user_cli

    sync(os.path.join(os.path.dirname(__file__), "..", "rules"))
    scheme = scheme_by_code("longhua")
    items = [
        (i.code, i.category, i.points if i.type == "fixed" else (i.min if i.type == "range" else 1))
        for i in rules_of(scheme.current_version_id).items
        if i.type in ("fixed", "range", "per_unit")
    ]
    conn = db.session.connection()
    units, holders, unit_id = [], [], 0

    def unit(code, kind, parent):
        nonlocal unit_id
        unit_id += 1
        path = (parent[2] if parent else "/") + f"{unit_id}/"
        units.append(
            {
                "id": unit_id,
                "code": code,
                "name": code,
                "kind": kind,
                "parent_id": parent[0] if parent else None,
                "path": path,
            }
        )
        return unit_id, code, path

    county = unit("county", "county", None)
    grid_ids = []
    for t in range(TOWNSHIPS):
        town = unit(f"t{t}", "township", county)
        for v in range(VILLAGES):
            village = unit(f"t{t}v{v}", "village", town)
            for g in range(GRIDS):
                grid_ids.append(unit(f"t{t}v{v}g{g}", "grid", village)[0])
    for n in range(per_grid * len(grid_ids)):
        holders.append(
            {
                "id": n + 1,
                "code": f"H{n + 1}",
                "name": f"户{n + 1}",
                "kind": "household",
                "unit_id": grid_ids[n // per_grid],
                "pin_hash": None,
            }
        )
    conn.execute(
        text(
            "INSERT INTO units (id, code, name, kind, parent_id, path) "
            "VALUES (:id, :code, :name, :kind, :parent_id, :path)"
        ),
        units,
    )
    conn.execute(
        text(
            "INSERT INTO holders (id, code, name, kind, unit_id, pin_hash) "
            "VALUES (:id, :code, :name, :kind, :unit_id, :pin_hash)"
        ),
        holders,
    )
    db.session.commit()
    create_user_cli("bench-admin", "bench-pass-1", "admin", "county")
    user_id = db.session.execute(
        text("SELECT id FROM users WHERE username = 'bench-admin'")
    ).scalar_one()
    conn = db.session.connection()

    unit_paths = {u["id"]: [int(i) for i in u["path"].strip("/").split("/")] for u in units}
    rng = random.Random(7)
    year_points, stats = defaultdict(int), defaultdict(lambda: [0, 0, 0])
    now = datetime.now(timezone.utc)
    batch, entry_id = [], 0
    insert = text(
        "INSERT INTO entries (id, scheme_id, scheme_version_id, holder_id, item, category, veto, points, "
        "occurred_on, note, status, recorded_by_id, created_at) VALUES (:id, :s, :v, :h, :i, :c, false, "
        ":p, :d, '', 'posted', :u, :t)"
    )
    for _ in range(entries):
        entry_id += 1
        holder = rng.randrange(len(holders))
        code, category, points = items[rng.randrange(len(items))]
        tenths = int(points * 10)
        day = date(YEAR, rng.randint(1, 12), rng.randint(1, 28))
        batch.append(
            {
                "id": entry_id,
                "s": scheme.id,
                "v": scheme.current_version_id,
                "h": holder + 1,
                "i": code,
                "c": category,
                "p": tenths,
                "d": day,
                "u": user_id,
                "t": now,
            }
        )
        year_points[holder + 1] += tenths
        for unit_id in unit_paths[holders[holder]["unit_id"]]:
            figures = stats[(unit_id, day.month, code, category)]
            figures[0] += 1
            figures[1 if tenths >= 0 else 2] += abs(tenths)
        if len(batch) == 50_000:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)
    conn.execute(
        text(
            "INSERT INTO holder_years (scheme_id, holder_id, year, points, vetoes) "
            "VALUES (:s, :h, :y, :p, 0)"
        ),
        [{"s": scheme.id, "h": h, "y": YEAR, "p": p} for h, p in year_points.items()],
    )
    conn.execute(
        text(
            "INSERT INTO entry_stats (unit_id, scheme_id, year, month, category, item, recorded, posted, "
            "rejected, revoked, granted, deducted) VALUES (:u, :s, :y, :m, :c, :i, :n, :n, 0, 0, :g, :d)"
        ),
        [
            {
                "u": u,
                "s": scheme.id,
                "y": YEAR,
                "m": m,
                "c": c,
                "i": i,
                "n": f[0],
                "g": f[1],
                "d": f[2],
            }
            for (u, m, i, c), f in stats.items()
        ],
    )
    db.session.commit()
    return len(holders), entry_id


def timed(client, token, path, runs=5):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - start
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        best = elapsed if best is None else min(best, elapsed)
    return best


def seconds(started):
    return f"{time.perf_counter() - started:7.2f} s"


def paths(app, api_households, import_rows=5000):
    """Issue 14's figures: import, batch entry and approval, a 7,000-row export, a township by API."""
    from points.database import today
    from points.org.service import create_unit_cli
    from points.schemes.service import sync
    from points.users.service import create_user_cli, import_holders, principal_for_user

    with app.app_context():
        sync(os.path.join(os.path.dirname(__file__), "..", "rules"))
        create_unit_cli("county", "县", "county")
        create_unit_cli("town", "镇", "township", "county")
        for v in range(2):
            create_unit_cli(f"v{v}", f"村{v}", "village", "town")
            create_unit_cli(f"v{v}g0", f"网格{v}", "grid", f"v{v}")
        for name, role, unit in [
            ("bench-admin", "admin", "county"),
            ("recorder", "recorder", "county"),
            ("reviewer1", "reviewer", "county"),
            ("reviewer2", "reviewer", "county"),
        ]:
            create_user_cli(name, "bench-pass-1", role, unit)
        admin = db.session.execute(
            text("SELECT id FROM users WHERE username = 'bench-admin'")
        ).scalar_one()
        rows = [
            (
                n + 1,
                {
                    "code": f"P{n:05d}",
                    "name": f"户{n}",
                    "kind": "household",
                    "unit": "v0g0",
                    "pin": f"{n % 10000:04d}",
                },
            )
            for n in range(import_rows)
        ]
        start = time.perf_counter()
        import_holders(principal_for_user(admin, "bench-admin"), rows)
        print(
            f"import {import_rows:,} households with PINs ({app.config.get('PIN_HASH_METHOD', app.config['PASSWORD_HASH_METHOD'])})      {seconds(start)}"
        )
        unit_id = db.session.execute(text("SELECT id FROM units WHERE code = 'v0g0'")).scalar_one()
        conn = db.session.connection()
        conn.execute(
            text(
                "INSERT INTO holders (code, name, kind, unit_id) VALUES (:c, :n, 'household', :u)"
            ),
            [{"c": f"Q{n:05d}", "n": f"户{n}", "u": unit_id} for n in range(7000 - import_rows)],
        )
        db.session.commit()
    client = app.test_client()
    tokens = {
        name: client.post(
            "/api/v1/auth/token", json={"username": name, "password": "bench-pass-1"}
        ).get_json()["token"]
        for name in ("bench-admin", "recorder", "reviewer1", "reviewer2")
    }

    def call(who, path, body):
        answer = client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)[:300]
        return answer.get_json()

    with app.app_context():
        day = (today() - timedelta(days=1)).isoformat()

    def batch(codes, label=None):
        start = time.perf_counter()
        ids = [
            e["id"]
            for e in call(
                "recorder",
                "/api/v1/entries/batch",
                {"scheme": "longhua", "item": "LH07", "occurred_on": day, "holders": codes},
            )["items"]
        ]
        if label:
            print(f"{label} record                   {seconds(start)}")
        for reviewer in ("reviewer1", "reviewer2"):
            start = time.perf_counter()
            call(reviewer, "/api/v1/entries/batch/approve", {"ids": ids})
            if label:
                print(f"{label} approve ({reviewer})       {seconds(start)}")
        return ids

    batch(
        ([f"P{n:05d}" for n in range(import_rows)] + [f"Q{n:05d}" for n in range(500)])[:500],
        "batch of 500 households:",
    )
    for label, fmt in [
        ("township ranking, 7,000 rows, xlsx", "xlsx"),
        ("township ranking, 7,000 rows, csv", "csv"),
    ]:
        best = None
        for _ in range(3):
            start = time.perf_counter()
            answer = client.get(
                f"/api/v1/reports/ranking?scheme=longhua&unit=town&format={fmt}",
                headers={"Authorization": f"Bearer {tokens['bench-admin']}"},
            )
            body = answer.get_data()
            elapsed = time.perf_counter() - start
            assert answer.status_code == 200 and body, answer.status_code
            best = elapsed if best is None else min(best, elapsed)
        print(f"{label:45s} {best:7.2f} s (best of 3, {len(body):,} bytes)")

    start = time.perf_counter()
    codes = [f"T{n:05d}" for n in range(api_households)]
    for code in codes:
        call(
            "bench-admin",
            "/api/v1/holders",
            {"code": code, "name": "户", "kind": "household", "unit": "v1g0"},
        )
    made = time.perf_counter()
    for _ in range(5):
        for first in range(0, len(codes), 500):
            batch(codes[first : first + 500])
    print(
        f"a township by the API: {api_households:,} households ({made - start:.1f} s), "
        f"{5 * api_households:,} entries recorded and approved twice ({time.perf_counter() - made:.1f} s)"
        f"   {seconds(start)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="a PostgreSQL URL (its tables are dropped); default a SQLite file"
    )
    parser.add_argument("--households", type=int, default=140_000)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument(
        "--paths", action="store_true", help="issue 14's figures instead of the county's"
    )
    parser.add_argument("--api-households", type=int, default=1000)
    parser.add_argument(
        "--import-rows", type=int, default=5000, help="households imported with PINs (of 7,000)"
    )
    args = parser.parse_args()
    if args.database:
        uri = database_url(args.database)
    else:
        uri = f"sqlite:///{tempfile.mkdtemp(prefix='points-bench-')}/county.db"
    # The production PIN and password cost: what a village's import really pays.
    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=uri,
        SETTLE_EVERY=0,
        PASSWORD_HASH_METHOD=Config.PASSWORD_HASH_METHOD,
    )
    with app.app_context():
        if args.database:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    if args.paths:
        print(f"issue 14's figures on {uri.split(':')[0]}")
        return paths(app, args.api_households, args.import_rows)
    with app.app_context():
        start = time.perf_counter()
        households, entries = build(args.households, args.entries)
        print(
            f"built {households:,} households and {entries:,} entries in {time.perf_counter() - start:.0f} s "
            f"({db.engine.dialect.name})"
        )
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "bench-admin", "password": "bench-pass-1"}
    ).get_json()["token"]
    for label, path in [
        (
            "ranking of a township, first page",
            f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}",
        ),
        (
            "ranking of a township, last page",
            f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}&page=14&per_page=500",
        ),
        ("ranking of a village", f"/api/v1/reports/ranking?scheme=longhua&unit=t3v4&year={YEAR}"),
        ("statistics of a township", f"/api/v1/reports/stats?unit=t3&year={YEAR}"),
        ("statistics of the county", f"/api/v1/reports/stats?unit=county&year={YEAR}"),
        (
            "ranking of a township as xlsx",
            f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}&format=xlsx",
        ),
    ]:
        print(f"{label:40s} {timed(client, token, path) * 1000:8.1f} ms (best of 5)")


if __name__ == "__main__":
    main()
