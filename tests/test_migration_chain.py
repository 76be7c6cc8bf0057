"""The migration that adds the hash chain chains the postings already there.

Run on a database of its own: a SQLite file, or on PostgreSQL a scratch schema in the test
database (dropped after), migrated to the revision before the chain, filled by SQL as the
service of that time would have, then migrated to the head.
"""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from conftest import PG_URL, make_app
from points.config import database_url
from points.extensions import db

BEFORE_CHAIN = "e8a3c1f5b9d2"


@pytest.fixture
def old_database(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{database_url(PG_URL)}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def _fill_as_before(connection, accounts=3, per_account=2000):
    """Units, a scheme, holders, a user and postings with their running figures, by SQL: more
    postings than the migration hashes in one batch, so a batch ends inside an account."""

    def run(sql, rows=None, **params):
        connection.execute(text(sql), rows if rows is not None else params)

    run(
        "INSERT INTO units (id, code, name, kind, parent_id, path) "
        "VALUES (1, 'v', '村', 'village', NULL, '/1/')"
    )
    run(
        "INSERT INTO schemes (id, code, name, subject, version) "
        "VALUES (1, 's', '方案', 'household', 1)"
    )
    run(
        "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at) "
        "VALUES (1, 'clerk', '', 'x', :f, :at)",
        f=False,
        at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    start = datetime(2026, 6, 1, 3, 4, 5, 123456, tzinfo=timezone.utc)
    posting_id = 0
    for a in list(range(1, accounts + 1)) + [99]:  # account 99 has no postings yet
        run(
            "INSERT INTO holders (id, code, name, kind, unit_id) "
            "VALUES (:id, :code, '户', 'household', 1)",
            id=a,
            code=f"H{a}",
        )
        rows, balance = [], 0
        for n in range(per_account if a != 99 else 0):
            posting_id += 1
            balance += 20 + n % 7  # tenths
            rows.append(
                {
                    "a": a,
                    "p": 20 + n % 7,
                    "b": balance,
                    "at": start + timedelta(seconds=posting_id),
                    "ref": f"entry:{posting_id}",
                    "u": 1 if n % 2 else None,
                }
            )
        run(
            "INSERT INTO accounts (id, scheme_id, holder_id, balance, pending) "
            "VALUES (:a, 1, :a, :b, 0)",
            a=a,
            b=balance,
        )
        if rows:
            run(
                "INSERT INTO postings (account_id, kind, points, balance_after, at, ref, user_id) "
                "VALUES (:a, 'entry', :p, :b, :at, :ref, :u)",
                rows,
            )
            run(
                "INSERT INTO account_years (account_id, year, earned, deducted, redeemed) "
                "VALUES (:a, 2026, :b, 0, 0)",
                a=a,
                b=balance,
            )
    return posting_id


def test_the_migration_chains_postings_that_were_there_before_it(old_database):
    app = make_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE_CHAIN)
        with db.engine.begin() as connection:
            count = _fill_as_before(connection)
        upgrade()
        from points.ledger.service import account_for, post
        from points.verify import verify

        checked, problems = verify()
        assert problems == [] and f"{count} postings" in checked
        unhashed = text("SELECT count(*) FROM postings WHERE hash IS NULL")
        assert db.session.execute(unhashed).scalar_one() == 0
        # the service carries on each chain from where the migration left it
        from points.database import end_read, write

        end_read()
        with write():
            post(account_for(1, 1, lock=True), "void", 5, "redemption:1")
            post(account_for(1, 99, lock=True), "void", 5, "redemption:2")
        assert verify()[1] == []
        db.session.remove()
        db.engine.dispose()
