"""On SQLite a running service writes the WAL back into the database file in a thread of its
own (points/checkpointing.py), so no request's commit waits for it."""

import os

import pytest
from sqlalchemy import text

from conftest import JOIN_TIMEOUT, World, make_app
from points.checkpointing import BACKSTOP_PAGES
from points.extensions import db
from points.schemes.service import sync


@pytest.fixture
def served(database_uri, rules_dir):
    if not database_uri.startswith("sqlite"):
        pytest.skip("the WAL is SQLite's")
    app = make_app(database_uri, RULES_DIR=str(rules_dir), SQLITE_CHECKPOINT_EVERY=0.01)
    with app.app_context():
        sync(app.config["RULES_DIR"])
        db.session.remove()
    yield app
    app.extensions["points_checkpointer"].stop()
    with app.app_context():
        db.engine.dispose()


def _wal_size(app):
    with app.app_context():
        path = db.engine.url.database
    return os.path.getsize(path + "-wal")


def test_the_wal_is_written_back_between_requests_and_not_by_their_commits(served):
    world = World(served, served.test_client())
    checkpointer = served.extensions["points_checkpointer"]
    world.record()  # the first request starts this process's thread
    runs = checkpointer.runs
    assert checkpointer.wait_for_run(runs + 1, JOIN_TIMEOUT)
    after_first = _wal_size(served)
    for _ in range(10):
        world.record()
        runs = checkpointer.runs
        assert checkpointer.wait_for_run(runs + 1, JOIN_TIMEOUT)
    # Each commit began the log again from its start, everything before it copied back: the
    # log did not grow (without the thread it grows by every commit's pages up to 1,000).
    assert _wal_size(served) <= after_first
    with served.app_context():
        assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == BACKSTOP_PAGES
        db.session.remove()
    assert world.as_("rec").get("/entries").json["total"] == 11


def test_without_the_setting_the_commits_checkpoint_as_sqlite_does(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the WAL is SQLite's")
    assert "points_checkpointer" not in app.extensions
    with app.app_context():
        assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
        db.session.remove()
