"""The request's direct connection (database.Direct): the sign-in, a balance read and a
redemption run on one connection of the pool with no Session; every request holds at most one
connection at a time (behind pgbouncer, one server connection), and nothing may use the
session inside a direct unit of work."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, insert, select

from conftest import yesterday
from points.database import Prepared, binds, write
from points.extensions import db
from points.idempotency import IdempotentRequest
from shop_helpers import give_points, open_shop, redeem

GOODS = [("soap", "肥皂", 5, 3)]
_KEEP_KEY = Prepared(
    insert(IdempotentRequest).values(
        binds("user_id", "key", "fingerprint", "status", "body", "created_at")
    )
)


@contextmanager
def connections_held(app):
    """The most connections of the pool checked out at once while the block runs, counted
    from what was out when it began (a list of one, read after the block)."""
    with app.app_context():
        engine = db.engine
    pool, most = engine.pool, [0]
    start = pool.checkedout()

    def out(*_args):
        most[0] = max(most[0], pool.checkedout() - start)

    event.listen(engine, "checkout", out)
    try:
        yield most
    finally:
        event.remove(engine, "checkout", out)
    assert pool.checkedout() == start, "a request left a connection checked out"


def _keys(app):
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(IdempotentRequest)).scalar()
        db.session.remove()
        return count


def _clerk_id(world):
    with world.app.app_context():
        from points.users.models import User

        found = db.session.execute(select(User.id).where(User.username == "clerk")).scalar()
        db.session.remove()
        return found


@pytest.fixture
def shop(world):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 20)
    return world


def test_each_request_holds_one_connection_at_a_time(shop):
    clerk, item = shop.as_("clerk"), shop.fixed_item()
    cases = {
        "a balance read": lambda: clerk.get("/accounts/longhua/H1"),
        "a redemption": lambda: redeem(shop, [("soap", 1)]),
        "a redemption refused": lambda: redeem(shop, [("soap", 3)]),
        "a replayed redemption": lambda: redeem(shop, [("soap", 1)], key="same-key"),
        "a list read through the session": lambda: clerk.get("/redemptions"),
        "an entry recorded through the session": lambda: shop.as_("rec").post(
            "/entries",
            json={
                "scheme": "longhua",
                "holder": "H2",
                "item": item,
                "occurred_on": yesterday(),
            },
        ),
        "an unknown token": lambda: shop.anonymous.get(
            "/accounts/longhua/H1", headers={"Authorization": "Bearer nothing"}
        ),
    }
    redeem(shop, [("soap", 1)], key="same-key")
    statuses = {}
    for name, request in cases.items():
        with connections_held(shop.app) as most:
            statuses[name] = request().status
        assert most[0] == 1, f"{name} held {most[0]} connections at once"
    assert statuses == {
        "a balance read": 200,
        "a redemption": 201,
        "a redemption refused": 409,
        "a replayed redemption": 201,
        "a list read through the session": 200,
        "an entry recorded through the session": 201,
        "an unknown token": 401,
    }
    assert shop.balance("H1")["balance"] == 10  # two soaps of 5: the replay charged nothing


def test_the_session_inside_a_direct_unit_is_refused_and_the_unit_keeps_nothing(shop):
    clerk, before = _clerk_id(shop), _keys(shop.app)
    row = dict(user_id=clerk, fingerprint="f", status=201, body="{}")
    with shop.app.app_context():
        from points.database import utcnow

        with pytest.raises(RuntimeError, match="inside a direct unit"):
            with write(direct=True) as connection:
                _KEEP_KEY.run(connection, {**row, "key": "direct-1", "created_at": utcnow()})
                db.session.execute(select(IdempotentRequest.id))  # would wait on SQLite's lock
        db.session.rollback()
        with pytest.raises(RuntimeError, match="inside a direct unit"):
            with write(direct=True) as connection:
                _KEEP_KEY.run(connection, {**row, "key": "direct-2", "created_at": utcnow()})
                db.session.add(IdempotentRequest(**row, key="direct-3", created_at=utcnow()))
        db.session.rollback()
        db.session.remove()
    assert _keys(shop.app) == before


def test_a_direct_unit_commits_what_it_wrote_and_counts_nothing_twice(shop):
    clerk, before = _clerk_id(shop), _keys(shop.app)
    with shop.app.app_context():
        from points.database import utcnow

        with write(direct=True) as connection:
            _KEEP_KEY.run(
                connection,
                {
                    "user_id": clerk,
                    "key": "direct-kept",
                    "fingerprint": "f",
                    "status": 201,
                    "body": "{}",
                    "created_at": utcnow(),
                },
            )
            with write(direct=True) as inner:  # a unit inside joins it
                assert inner is connection
            with pytest.raises(RuntimeError, match="session inside a direct unit"):
                with write():
                    pass
        db.session.remove()
    assert _keys(shop.app) == before + 1


def test_a_connection_the_reads_used_goes_back_to_the_pool_as_it_came(shop):
    # On PostgreSQL the direct reads run in autocommit; a connection left so would make the
    # next session's unit of work commit statement by statement, and a failed one keep half.
    clerk, before = _clerk_id(shop), _keys(shop.app)
    for n in range(4):
        assert shop.as_("clerk").get("/accounts/longhua/H1").status == 200
        with shop.app.app_context():
            from points.database import utcnow

            with pytest.raises(ZeroDivisionError):
                with write():
                    db.session.add(
                        IdempotentRequest(
                            user_id=clerk,
                            key=f"half-{n}",
                            fingerprint="f",
                            status=201,
                            body="{}",
                            created_at=utcnow(),
                        )
                    )
                    db.session.flush()
                    1 / 0
            db.session.remove()
    assert _keys(shop.app) == before
