"""Reports on a hot standby (POINTS_REPLICA_URL): a real primary and standby, replay paused at will.

PostgreSQL only; the two clusters are made once per test session (tests/pg_clusters.py).
"""

import logging

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from conftest import PG_URL, World, make_app
from pg_clusters import Pair, missing
from points.extensions import db
from shop_helpers import give_points, open_shop, redeem
from test_metrics import value


@pytest.fixture(scope="session")
def pair():
    if not PG_URL:
        pytest.skip("a hot standby is PostgreSQL's (POINTS_TEST_DATABASE_URL)")
    if missing():
        pytest.skip(missing())
    pair = Pair()
    try:
        pair.make()
        app = make_app(pair.primary.url())
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield pair
    finally:
        pair.remove()


def _empty(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> "
                "'alembic_version'"
            )
        ).scalars()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _app(pair, rules_dir, tmp_path, replica_url):
    from points import replica

    _empty(pair.primary.url())
    app = make_app(
        pair.primary.url(),
        REPLICA_URL=replica_url,
        RULES_DIR=str(rules_dir),
        EVIDENCE_DIR=str(tmp_path / "evidence"),
    )
    with app.app_context():
        from points.schemes.service import sync

        sync(app.config["RULES_DIR"])
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    replica.of(app).engine.dispose()


@pytest.fixture
def county(pair, rules_dir, tmp_path):
    """A world on the primary, its reports read from the standby."""
    for app in _app(pair, rules_dir, tmp_path, pair.standby.url()):
        world = World(app, app.test_client())
        pair.caught_up()
        yield world


def ranked(world, holder="H1"):
    answer = world.as_("admin").get("/reports/ranking?scheme=longhua&unit=v1")
    assert answer.status == 200, answer
    return next(row["points"] for row in answer.json["items"] if row["holder"] == holder)


def test_a_posted_entry_shows_in_the_balance_at_once_and_in_the_ranking_after_replay(pair, county):
    open_shop(county, goods=[("soap", "肥皂", 5, 100)])
    give_points(county, "H1", 10)
    pair.caught_up()
    assert ranked(county) == 10
    pair.standby.scalar("SELECT pg_wal_replay_pause()")
    try:
        give_points(county, "H1", 20)
        assert county.balance("H1")["balance"] == 30  # the primary, at once
        assert ranked(county) == 10  # the standby, still replaying nothing
        assert redeem(county, [("soap", 1)]).status == 201
        assert (
            county.balance("H1")["balance"] == 25
        )  # right after one's own redemption: the primary
        pair.received()
        lagging = county.client.get("/metrics").get_data(as_text=True)
        assert value(lagging, "points_replica_up") == 1
        assert value(lagging, "points_replica_lag_seconds") > 0
    finally:
        pair.standby.scalar("SELECT pg_wal_replay_resume()")
    pair.caught_up()
    assert ranked(county) == 30
    assert (
        value(county.client.get("/metrics").get_data(as_text=True), "points_replica_lag_seconds")
        == 0
    )


def test_statistics_and_fairness_read_the_standby_too(pair, county):
    give_points(county, "H1", 10)
    pair.caught_up()
    admin = county.as_("admin")
    posted = admin.get("/reports/stats?unit=v1").json["months"]
    pair.standby.scalar("SELECT pg_wal_replay_pause()")
    try:
        county.record("H2")
        assert admin.get("/reports/stats?unit=v1").json["months"] == posted
        assert admin.get("/reports/fairness?unit=v1").status == 200
    finally:
        pair.standby.scalar("SELECT pg_wal_replay_resume()")
    pair.caught_up()
    assert (
        sum(m["recorded"] for m in admin.get("/reports/stats?unit=v1").json["months"])
        == sum(m["recorded"] for m in posted) + 1
    )


def test_with_the_standby_stopped_reports_read_the_primary_and_say_so(pair, county, caplog):
    give_points(county, "H1", 10)
    pair.standby.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="points.replica"):
            assert ranked(county) == 10
            assert ranked(county) == 10
        said = [r.getMessage() for r in caplog.records if r.name == "points.replica"]
        assert (
            len(said) == 1
            and "does not answer" in said[0]
            and "reports read the primary" in said[0]
        )
        assert value(county.client.get("/metrics").get_data(as_text=True), "points_replica_up") == 0
    finally:
        pair.standby.start()


def test_a_replica_url_that_points_at_a_primary_is_named_and_not_used(
    pair, rules_dir, tmp_path, caplog
):
    with caplog.at_level(logging.ERROR, logger="points.replica"):
        for app in _app(pair, rules_dir, tmp_path, pair.primary.url()):
            world = World(app, app.test_client())
            give_points(world, "H1", 10)
            assert ranked(world) == 10
            assert (
                value(world.client.get("/metrics").get_data(as_text=True), "points_replica_up") == 0
            )
    assert any("points at a primary" in r.getMessage() for r in caplog.records)


def test_the_replica_command_says_what_the_standby_is(pair, county, rules_dir, tmp_path):
    said = county.app.test_cli_runner().invoke(args=["replica"])
    assert (
        said.exit_code == 0
        and "reports read the standby" in said.output
        and "s behind" in said.output
    )
    for app in _app(pair, rules_dir, tmp_path / "wrong", pair.primary.url()):
        said = app.test_cli_runner().invoke(args=["replica"])
        assert said.exit_code == 1 and "points at a primary, not a hot standby" in said.output


def test_a_replica_url_that_is_not_postgresql_refuses_to_start(database_uri, tmp_path):
    with pytest.raises(RuntimeError, match="POINTS_REPLICA_URL must be a PostgreSQL hot standby"):
        make_app(database_uri, REPLICA_URL=f"sqlite:///{tmp_path / 'copy.db'}")


def test_participation_and_liability_read_the_standby_too(pair, county):
    open_shop(county, goods=[("soap", "肥皂", 5, 100)])
    give_points(county, "H1", 10)
    pair.caught_up()
    admin = county.as_("admin")
    seen = {
        path: admin.get(path).json
        for path in ("/reports/participation?unit=v1", "/reports/liability?unit=v1")
    }
    pair.standby.scalar("SELECT pg_wal_replay_pause()")
    try:
        give_points(county, "H2", 20)
        for path, before in seen.items():
            assert admin.get(path).json == before, path  # the standby, replaying nothing
    finally:
        pair.standby.scalar("SELECT pg_wal_replay_resume()")
    pair.caught_up()
    for path, before in seen.items():
        assert admin.get(path).json != before, path
