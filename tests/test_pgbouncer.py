"""Behind pgbouncer in transaction pooling (POINTS_TEST_PGBOUNCER_URL, .ci/pgbouncer): each
transaction may run on another server connection, so the service keeps no session state."""

import pytest
from sqlalchemy import select

from conftest import PGBOUNCER_URL, at_once
from points.extensions import db
from shop_helpers import give_points

pytestmark = pytest.mark.skipif(
    not PGBOUNCER_URL, reason="needs pgbouncer (POINTS_TEST_PGBOUNCER_URL)"
)


def test_the_same_statement_in_many_transactions_at_once_never_meets_a_stale_prepared_one(world):
    # psycopg prepares a statement run 5 times on one connection; pgbouncer then hands the
    # next transaction another server connection, where it does not exist or another client's
    # statement of that name does.
    from points.ledger.models import Account

    give_points(world, "H1", 10)

    def reads():
        with world.app.app_context():
            for _ in range(30):
                db.session.execute(select(Account.balance)).all()
                db.session.commit()
            db.session.remove()

    at_once([reads] * 8)
