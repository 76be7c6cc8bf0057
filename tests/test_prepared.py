"""database.Prepared: the hot paths' statements run on the driver's connection, storing and
reading exactly what SQLAlchemy's own execution stores and reads, on SQLite and PostgreSQL."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, text

from points.database import Prepared, end_read, write
from points.extensions import db
from points.shop.models import Goods, StockMovement
from shop_helpers import give_points, open_shop, redeem

GOODS = [("soap", "肥皂", 5, 10), ("rice", "大米", 2.5, 3)]
_GOODS = select(Goods.id, Goods.code, Goods.price, Goods.stock, Goods.active).where(
    Goods.code == bindparam("code")
)
_MOVEMENT = insert(StockMovement).values(
    {c: bindparam(c) for c in ("goods_id", "kind", "quantity", "stock_after", "ref", "at", "note")}
)
_STORED = text(
    "SELECT goods_id, kind, quantity, stock_after, ref, at, note, donor, user_id"
    " FROM stock_movements WHERE ref = :ref"
)


@pytest.fixture
def shop(world):
    open_shop(world, goods=GOODS)
    return world


def _rice_id(world):
    with world.app.app_context():
        return db.session.execute(select(Goods.id).where(Goods.code == "rice")).scalar_one()


def test_rows_read_as_sqlalchemy_reads_them(shop):
    with shop.app.app_context():
        connection = db.session.connection()
        ours = Prepared(_GOODS).first(connection, {"code": "rice"})
        theirs = connection.execute(_GOODS, {"code": "rice"}).one()
        assert tuple(ours) == tuple(theirs)
        assert (ours.code, ours.price, ours.stock, ours.active) == ("rice", Decimal("2.5"), 3, True)
        assert type(ours.price) is Decimal and type(ours.active) is bool
        assert Prepared(_GOODS).first(connection, {"code": "nothing"}) is None
        assert Prepared(_GOODS).scalar(connection, {"code": "nothing"}) is None


def test_values_are_stored_as_sqlalchemy_stores_them(shop):
    goods_id = _rice_id(shop)
    at = datetime(2026, 12, 3, 4, 5, 6, 789000, tzinfo=timezone.utc)
    rows = {
        ref: {
            "goods_id": goods_id,
            "kind": "sale",
            "quantity": -1,
            "stock_after": 2,
            "ref": ref,
            "at": at,
            "note": "测试",
        }
        for ref in ("ours", "theirs")
    }
    with shop.app.app_context():
        with write():
            connection = db.session.connection()
            Prepared(_MOVEMENT).run_many(connection, [rows["ours"]])
            connection.execute(_MOVEMENT, [rows["theirs"]])
        end_read()
        connection = db.session.connection()
        ours = connection.execute(_STORED, {"ref": "ours"}).one()
        theirs = connection.execute(_STORED, {"ref": "theirs"}).one()
        assert ours[:4] + ours[5:] == theirs[:4] + theirs[5:]  # the raw stored values, `at` too
        assert ours.kind == "sale" and ours.donor is None and ours.user_id is None


def test_a_redemption_through_the_fast_path_reads_back_through_the_orm(shop):
    give_points(shop, "H1", 20)
    answer = redeem(shop, [("rice", 3)])
    assert answer.status == 201, answer
    assert (answer.json["total"], answer.json["balance_after"]) == (7.5, 12.5)
    assert shop.balance("H1")["balance"] == 12.5
    with shop.app.app_context():
        rice = db.session.execute(select(Goods).where(Goods.code == "rice")).scalar_one()
        assert rice.stock == 0
    assert redeem(shop, [("rice", 1)]).code == "out_of_stock"


def test_a_unique_violation_is_sqlalchemys_integrity_error_and_writes_nothing(shop):
    from points.idempotency import IdempotentRequest, _CLAIM

    claim = {"user_id": 1, "key": "k", "fingerprint": "f", "status": 0, "body": ""}
    claim["created_at"] = datetime.now(timezone.utc)
    with shop.app.app_context():
        with write():
            _CLAIM.scalar(db.session.connection(), claim)
        with pytest.raises(exc.IntegrityError):
            with write():
                _CLAIM.scalar(db.session.connection(), {**claim, "key": "k2"})
                _CLAIM.scalar(db.session.connection(), claim)
        db.session.rollback()
        keys = db.session.execute(select(IdempotentRequest.key)).scalars().all()
        assert keys == ["k"]


def test_statements_are_seen_by_a_listener_and_answer_the_same(shop):
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with shop.app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            connection = db.session.connection()
            heard = Prepared(_GOODS).first(connection, {"code": "rice"})
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert any("FROM goods" in statement for statement in seen)
        assert (heard.code, heard.price, heard.active) == ("rice", Decimal("2.5"), True)
        assert Prepared(_GOODS).first(db.session.connection(), {"code": "rice"}) == tuple(heard)


def test_an_expanding_in_reads_as_sqlalchemy_reads_it_for_every_length(shop):
    listed = (
        select(Goods.code, Goods.price)
        .where(
            Goods.code.in_(bindparam("codes", expanding=True)), Goods.stock >= bindparam("least")
        )
        .order_by(Goods.code)
    )
    prepared = Prepared(listed)
    with shop.app.app_context():
        connection = db.session.connection()
        for codes in (["rice"], ["soap", "nothing", "rice"], ["soap"], ["rice", "soap"]):
            params = {"codes": codes, "least": 1}
            ours = prepared.all(connection, params)
            assert ours == [tuple(row) for row in connection.execute(listed, params)]
            assert [row.code for row in ours] == sorted(set(codes) - {"nothing"})
        assert prepared.all(connection, {"codes": ["soap"], "least": 11}) == []
        with pytest.raises(TypeError, match="expanding"):
            prepared.run_many(connection, [{"codes": ["rice"], "least": 1}])


def test_refused_outside_a_transaction(shop):
    with shop.app.app_context():
        with db.engine.connect() as bare:
            with pytest.raises(RuntimeError, match="inside a transaction"):
                Prepared(_GOODS).first(bare, {"code": "rice"})
