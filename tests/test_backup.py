"""`points backup FILE` while the service runs, `points restore FILE` into an empty database,
and `ledger verify` clean after, with the same postings."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, select, text

from conftest import PG_URL, make_app
from points.config import database_url
from points.extensions import db
from shop_helpers import give_points, open_shop, redeem

RESTORE_DB = f"{make_url(database_url(PG_URL)).database}_restore" if PG_URL else None


@pytest.fixture
def books(world):
    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, ["H1", "H2"], 30)
    assert redeem(world, [("soap", 2)]).status == 201
    return world


@pytest.fixture
def target_uri(tmp_path):
    """A new, empty database to restore into: a SQLite file not made yet, or on PostgreSQL a
    scratch database created here and dropped after."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = create_engine(database_url(PG_URL), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {RESTORE_DB}"))
    try:
        url = make_url(database_url(PG_URL)).set(database=RESTORE_DB)
        yield url.render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)"))
        server.dispose()


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def ledger_rows(app):
    from points.ledger.models import Account, Posting

    with app.app_context():
        postings = db.session.execute(
            select(
                Posting.id,
                Posting.account_id,
                Posting.kind,
                Posting.points,
                Posting.balance_after,
                Posting.ref,
                Posting.user_id,
                Posting.hash,
            ).order_by(Posting.id)
        ).all()
        accounts = db.session.execute(
            select(Account.id, Account.balance, Account.last_hash).order_by(Account.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in postings], [tuple(r) for r in accounts]


@pytest.mark.parametrize("target", ["new", "migrated but unused"])
def test_backup_then_restore_into_an_empty_database_verifies_with_the_same_postings(
    books, tmp_path, target_uri, target
):
    saved = cli(books.app, "backup", str(tmp_path / "points.backup"))
    assert saved.exit_code == 0, saved.output
    restored_app = make_app(target_uri)
    try:
        if target != "new":
            with restored_app.app_context():
                upgrade()
        restored = cli(restored_app, "restore", str(tmp_path / "points.backup"))
        assert restored.exit_code == 0, restored.output
        verified = cli(restored_app, "ledger", "verify")
        assert verified.exit_code == 0 and "all agree" in verified.output, verified.output
        postings, accounts = ledger_rows(restored_app)
        assert postings and (postings, accounts) == ledger_rows(books.app)
    finally:
        with restored_app.app_context():
            db.engine.dispose()


def test_a_backup_is_taken_while_a_writer_holds_its_transaction_open(books, tmp_path):
    """A writer in the middle of its transaction (the service running) does not stop the copy."""
    url = books.app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    with engine.connect() as writer:
        writer.execute(text("UPDATE holders SET name = 'uncommitted' WHERE code = 'H1'"))
        saved = cli(books.app, "backup", str(tmp_path / "during.backup"))
        writer.rollback()
    engine.dispose()
    assert saved.exit_code == 0, saved.output
    assert (tmp_path / "during.backup").stat().st_size > 0


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(books, tmp_path):
    assert cli(books.app, "backup", str(tmp_path / "points.backup")).exit_code == 0
    redeem(books, [("soap", 1)])  # the database moves on after the backup
    before = ledger_rows(books.app)
    refused = cli(books.app, "restore", str(tmp_path / "points.backup"))
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert ledger_rows(books.app) == before


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_a_backup_path_that_cannot_be_written_is_refused(books, tmp_path, where):
    path = tmp_path / "no" / "such" / "points.backup" if where == "missing directory" else tmp_path
    before = sorted(p.name for p in tmp_path.iterdir())
    refused = cli(books.app, "backup", str(path))
    assert refused.exit_code == 1 and "cannot write the backup" in refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_restoring_a_missing_file_or_something_else_is_refused(books, tmp_path, target_uri):
    restored_app = make_app(target_uri)
    missing = cli(restored_app, "restore", str(tmp_path / "nothing.backup"))
    assert missing.exit_code == 1 and "no backup at" in missing.output
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    other = cli(restored_app, "restore", str(tmp_path / "notes.txt"))
    assert other.exit_code == 1 and "is not a backup" in other.output
    with restored_app.app_context():
        from sqlalchemy import inspect

        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
