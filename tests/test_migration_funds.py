"""The migration that adds funds and the restock donor upgrades a database already in use:
its stock movements keep their rows (no donor), and there are no funds until one is moved."""
from flask_migrate import upgrade
from sqlalchemy import text

from conftest import make_app
from test_migration_chain import old_database  # noqa: F401  (fixture)
from points.extensions import db

BEFORE_FUNDS = "a1b2c3d4e5f6"


def test_the_funds_migration_keeps_the_stock_movements_there_before_it(old_database):  # noqa: F811
    app = make_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE_FUNDS)
        with db.engine.begin() as connection:
            for sql in ("INSERT INTO units (id, code, name, kind, parent_id, path) "
                        "VALUES (1, 'v', '村', 'village', NULL, '/1/')",
                        "INSERT INTO shops (id, code, name, unit_id) VALUES (1, 's', '爱心超市', 1)",
                        "INSERT INTO goods (id, shop_id, code, name, price, stock, active) "
                        "VALUES (1, 1, 'soap', '肥皂', 50, 7, :t)",
                        "INSERT INTO stock_movements "
                        "(goods_id, kind, quantity, stock_after, ref, at, note) "
                        "VALUES (1, 'initial', 7, 7, '', '2026-06-01 00:00:00+00:00', '上架')"):
                connection.execute(text(sql), {"t": True})
        upgrade()
        from points.ledger.service import verify

        checked, problems = verify()
        assert problems == [] and "1 goods, 0 funds" in checked
        donors = db.session.execute(text("SELECT donor FROM stock_movements")).scalars().all()
        assert donors == [None]
        db.session.remove()
        db.engine.dispose()
