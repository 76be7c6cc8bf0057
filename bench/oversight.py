"""The oversight reports at county scale: participation, liability and the admin's home page.

    .venv/bin/python bench/oversight.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/oversight.py --households 14000 --entries 500000   # a quick look

Builds the county of bench/county.py (townships, villages, grids, households, posted entries),
adds what these reports read (an account per household with its balance, objections on one
entry in a thousand, a shop with goods and a fund with movements per village), then times,
through the HTTP API in-process, participation and liability for a township and the county,
and the admin's home page with its liability warning.
"""

import argparse
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from county import YEAR, build, timed  # noqa: E402
from points import create_app  # noqa: E402
from points.config import DevelopmentConfig, database_url  # noqa: E402
from points.extensions import db  # noqa: E402


def add_oversight_rows():
    """Accounts with the year's points as balance, the year's posted entries on holder_years
    (bench/county.py leaves them 0), objections, a shop and a fund per village."""
    conn = db.session.connection()
    scheme_id = conn.execute(text("SELECT id FROM schemes WHERE code = 'longhua'")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO accounts (scheme_id, holder_id, balance, pending, last_hash) "
            "SELECT scheme_id, holder_id, points, 0, :g FROM holder_years"
        ),
        {"g": "0" * 64},
    )
    conn.execute(
        text(
            "UPDATE holder_years SET entries = (SELECT count(*) FROM entries e "
            "WHERE e.holder_id = holder_years.holder_id AND e.status = 'posted')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO entry_events (entry_id, action, status, note, at) "
            "SELECT id, 'object', 'disputed', '', created_at FROM entries "
            "WHERE id % 1000 = 0"
        )
    )
    villages = conn.execute(text("SELECT id, code FROM units WHERE kind = 'village'")).all()
    conn.execute(
        text("INSERT INTO shops (code, name, unit_id) VALUES (:c, :c, :u)"),
        [{"c": f"shop-{code}", "u": unit_id} for unit_id, code in villages],
    )
    conn.execute(
        text("INSERT INTO shop_schemes (shop_id, scheme_id) SELECT id, :s FROM shops"),
        {"s": scheme_id},
    )
    conn.execute(
        text(
            "INSERT INTO goods (shop_id, code, name, price, stock, active) "
            "SELECT id, 'rice', '大米', 500, 40, true FROM shops"
        )
    )
    conn.execute(
        text(
            "INSERT INTO funds (unit_id, balance) SELECT id, 2000000 FROM units "
            "WHERE kind = 'village'"
        )
    )
    conn.execute(
        text(
            "INSERT INTO fund_movements (fund_id, kind, amount, balance_after, source, "
            "note, at) SELECT id, 'in', 2000000, 2000000, '合作社二次分配', '', now() "
            "FROM funds"
            if db.engine.dialect.name != "sqlite"
            else "INSERT INTO fund_movements (fund_id, kind, amount, balance_after, source, "
            "note, at) SELECT id, 'in', 2000000, 2000000, '合作社二次分配', '', "
            "datetime('now') FROM funds"
        )
    )
    db.session.commit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="a PostgreSQL URL (its tables are dropped); default SQLite"
    )
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
        add_oversight_rows()
        print(
            f"built {households:,} households and {entries:,} entries in "
            f"{time.perf_counter() - start:.0f} s ({db.engine.dialect.name})"
        )
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "bench-admin", "password": "bench-pass-1"}
    ).get_json()["token"]
    for label, path in [
        ("participation of a township", f"/api/v1/reports/participation?unit=t3&year={YEAR}"),
        ("participation of the county", f"/api/v1/reports/participation?unit=county&year={YEAR}"),
        ("liability of a township", "/api/v1/reports/liability?unit=t3"),
        ("liability of the county", "/api/v1/reports/liability?unit=county"),
    ]:
        print(f"{label:40s} {timed(client, token, path) * 1000:8.1f} ms (best of 5)")
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post(
        "/login", data={"username": "bench-admin", "password": "bench-pass-1", "csrf_token": csrf}
    )
    best = None
    for _ in range(5):
        start = time.perf_counter()
        page = client.get("/")
        assert page.status_code == 200
        best = min(best or 1e9, time.perf_counter() - start)
    print(f"{'home page of the county admin':40s} {best * 1000:8.1f} ms (best of 5)")


if __name__ == "__main__":
    main()
