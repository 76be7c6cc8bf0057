"""The migration that adds funds and the restock donor upgrades a database already in use:
its stock movements keep their rows (no donor), and there are no funds until one is moved."""

from flask_migrate import upgrade
from sqlalchemy import text

from conftest import make_app
from test_migration_chain import old_database  # noqa: F401  (fixture)
from points.extensions import db

BEFORE_FUNDS = "f12b00000001"


def test_the_funds_migration_keeps_the_stock_movements_there_before_it(old_database):  # noqa: F811
    app = make_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE_FUNDS)
        with db.engine.begin() as connection:
            for sql in (
                "INSERT INTO units (id, code, name, kind, parent_id, path) "
                "VALUES (1, 'v', '村', 'village', NULL, '/1/')",
                "INSERT INTO shops (id, code, name, unit_id) VALUES (1, 's', '爱心超市', 1)",
                "INSERT INTO goods (id, shop_id, code, name, price, stock, active) "
                "VALUES (1, 1, 'soap', '肥皂', 50, 7, :t)",
                "INSERT INTO stock_movements "
                "(goods_id, kind, quantity, stock_after, ref, at, note) "
                "VALUES (1, 'initial', 7, 7, '', '2026-06-01 00:00:00+00:00', '上架')",
            ):
                connection.execute(text(sql), {"t": True})
        upgrade()
        from points.verify import verify

        checked, problems = verify()
        assert problems == [] and "1 goods, 0 funds" in checked
        donors = db.session.execute(text("SELECT donor FROM stock_movements")).scalars().all()
        assert donors == [None]
        db.session.remove()
        db.engine.dispose()


def test_participation_figures_are_counted_for_entries_posted_before(old_database):  # noqa: F811
    app = make_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE_FUNDS)
        entries = [
            ("2025-03-01", 50, "posted"),
            ("2025-04-01", -30, "posted"),
            ("2025-05-01", -20, "revoked"),
            ("2025-06-01", 40, "pending"),
            ("2024-12-31", -10, "posted"),
        ]
        with db.engine.begin() as connection:
            for sql in (
                "INSERT INTO units (id, code, name, kind, parent_id, path) "
                "VALUES (1, 'v', '村', 'village', NULL, '/1/')",
                "INSERT INTO schemes (id, code, name, subject, version) "
                "VALUES (1, 's', '方案', 'household', 1)",
                "INSERT INTO scheme_versions (id, scheme_id, version, digest, definition, "
                "created_at) VALUES (1, 1, 1, 'd', '{}', '2026-01-01 00:00:00+00:00')",
                "INSERT INTO users (id, username, display_name, password_hash, disabled, "
                "created_at) VALUES (1, 'rec', '', 'x', :f, '2026-01-01 00:00:00+00:00')",
                "INSERT INTO holders (id, code, name, kind, unit_id) "
                "VALUES (1, 'H1', '户', 'household', 1)",
                "INSERT INTO holder_years (scheme_id, holder_id, year, points, vetoes) "
                "VALUES (1, 1, 2025, 20, 0), (1, 1, 2024, -10, 0)",
            ):
                connection.execute(text(sql), {"f": False})
            connection.execute(
                text(
                    "INSERT INTO entries (scheme_id, scheme_version_id, holder_id, item, category, "
                    "veto, points, occurred_on, note, status, recorded_by_id, created_at) "
                    "VALUES (1, 1, 1, 'X1', 'c', :f, :p, :d, '', :s, 1, "
                    "'2026-01-01 00:00:00+00:00')"
                ),
                [{"f": False, "p": p, "d": d, "s": s} for d, p, s in entries],
            )
        upgrade()
        rows = db.session.execute(
            text("SELECT year, entries, deductions, deducted FROM holder_years ORDER BY year")
        ).all()
        assert [tuple(r) for r in rows] == [(2024, 1, 1, 10), (2025, 2, 1, 30)]  # deducted: tenths
        from points.entries.checks import _verify_holder_year_counts

        assert _verify_holder_year_counts() == []
        db.session.remove()
        db.engine.dispose()
