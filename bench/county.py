"""County scale: a township's ranking and statistics over 140,000 households and 5 million entries.

    .venv/bin/python bench/county.py                      # SQLite file in a temp dir
    .venv/bin/python bench/county.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/county.py --households 14000 --entries 500000   # a quick look

Builds the data straight into the tables (entries as posted, with the running figures the
service keeps: holder_years and entry_stats), then times, through the HTTP API in-process,
GET /api/v1/reports/ranking for one township and GET /api/v1/reports/stats for it.
"""
import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from points import create_app  # noqa: E402
from points.config import DevelopmentConfig, database_url  # noqa: E402
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
    items = [(i.code, i.category, i.points if i.type == "fixed" else (i.min if i.type == "range" else 1))
             for i in rules_of(scheme.current_version_id).items if i.type in ("fixed", "range", "per_unit")]
    conn = db.session.connection()
    units, holders, unit_id = [], [], 0

    def unit(code, kind, parent):
        nonlocal unit_id
        unit_id += 1
        path = (parent[2] if parent else "/") + f"{unit_id}/"
        units.append({"id": unit_id, "code": code, "name": code, "kind": kind,
                      "parent_id": parent[0] if parent else None, "path": path})
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
        holders.append({"id": n + 1, "code": f"H{n + 1}", "name": f"户{n + 1}", "kind": "household",
                        "unit_id": grid_ids[n // per_grid], "pin_hash": None})
    conn.execute(text("INSERT INTO units (id, code, name, kind, parent_id, path) "
                      "VALUES (:id, :code, :name, :kind, :parent_id, :path)"), units)
    conn.execute(text("INSERT INTO holders (id, code, name, kind, unit_id, pin_hash) "
                      "VALUES (:id, :code, :name, :kind, :unit_id, :pin_hash)"), holders)
    db.session.commit()
    create_user_cli("bench-admin", "bench-pass-1", "admin", "county")
    user_id = db.session.execute(text("SELECT id FROM users WHERE username = 'bench-admin'")).scalar_one()
    conn = db.session.connection()

    unit_paths = {u["id"]: [int(i) for i in u["path"].strip("/").split("/")] for u in units}
    rng = random.Random(7)
    year_points, stats = defaultdict(int), defaultdict(lambda: [0, 0, 0])
    now = datetime.now(timezone.utc)
    batch, entry_id = [], 0
    insert = text("INSERT INTO entries (id, scheme_id, scheme_version_id, holder_id, item, category, veto, points, "
                  "occurred_on, note, status, recorded_by_id, created_at) VALUES (:id, :s, :v, :h, :i, :c, false, "
                  ":p, :d, '', 'posted', :u, :t)")
    for _ in range(entries):
        entry_id += 1
        holder = rng.randrange(len(holders))
        code, category, points = items[rng.randrange(len(items))]
        tenths = int(points * 10)
        day = date(YEAR, rng.randint(1, 12), rng.randint(1, 28))
        batch.append({"id": entry_id, "s": scheme.id, "v": scheme.current_version_id, "h": holder + 1, "i": code,
                      "c": category, "p": tenths, "d": day, "u": user_id, "t": now})
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
    conn.execute(text("INSERT INTO holder_years (scheme_id, holder_id, year, points, vetoes) "
                      "VALUES (:s, :h, :y, :p, 0)"),
                 [{"s": scheme.id, "h": h, "y": YEAR, "p": p} for h, p in year_points.items()])
    conn.execute(text("INSERT INTO entry_stats (unit_id, scheme_id, year, month, category, item, recorded, posted, "
                      "rejected, revoked, granted, deducted) VALUES (:u, :s, :y, :m, :c, :i, :n, :n, 0, 0, :g, :d)"),
                 [{"u": u, "s": scheme.id, "y": YEAR, "m": m, "c": c, "i": i, "n": f[0], "g": f[1], "d": f[2]}
                  for (u, m, i, c), f in stats.items()])
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL (its tables are dropped); default a SQLite file")
    parser.add_argument("--households", type=int, default=140_000)
    parser.add_argument("--entries", type=int, default=5_000_000)
    args = parser.parse_args()
    if args.database:
        uri = database_url(args.database)
    else:
        uri = f"sqlite:///{tempfile.mkdtemp(prefix='points-bench-')}/county.db"
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=uri, SETTLE_EVERY=0)
    with app.app_context():
        if args.database:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        start = time.perf_counter()
        households, entries = build(args.households, args.entries)
        print(f"built {households:,} households and {entries:,} entries in {time.perf_counter() - start:.0f} s "
              f"({db.engine.dialect.name})")
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench-admin", "password": "bench-pass-1"}).get_json()["token"]
    for label, path in [
        ("ranking of a township, first page", f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}"),
        ("ranking of a township, last page", f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}&page=14&per_page=500"),
        ("ranking of a village", f"/api/v1/reports/ranking?scheme=longhua&unit=t3v4&year={YEAR}"),
        ("statistics of a township", f"/api/v1/reports/stats?unit=t3&year={YEAR}"),
        ("statistics of the county", f"/api/v1/reports/stats?unit=county&year={YEAR}"),
        ("ranking of a township as xlsx", f"/api/v1/reports/ranking?scheme=longhua&unit=t3&year={YEAR}&format=xlsx"),
    ]:
        print(f"{label:40s} {timed(client, token, path) * 1000:8.1f} ms (best of 5)")


if __name__ == "__main__":
    main()
