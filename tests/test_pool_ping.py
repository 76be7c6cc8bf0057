"""PostgreSQL: a connection that waited in the pool POOL_PING_AFTER seconds or longer is
pinged before it is handed out, and replaced when the server has ended it, so the request is
answered as if nothing had happened; one given back a moment ago is handed out as it is (no
round trip on every request), and a request on it after the server went fails once."""

import pytest
from sqlalchemy import create_engine, text

from conftest import PG_URL, PGBOUNCER_URL, make_app

pytestmark = pytest.mark.skipif(
    not PG_URL or bool(PGBOUNCER_URL),
    reason="PostgreSQL only; behind pgbouncer the server's connections are pgbouncer's",
)


@pytest.fixture
def balance_on(world, database_uri, rules_dir):
    """A balance read through an app of its own, made with this POOL_PING_AFTER."""

    def make(ping_after):
        app = make_app(database_uri, RULES_DIR=str(rules_dir), POOL_PING_AFTER=ping_after)
        client, token = app.test_client(), world.token("admin")

        def balance():
            answer = client.get(
                "/api/v1/accounts/longhua/H1", headers={"Authorization": f"Bearer {token}"}
            )
            return answer.status_code

        return balance

    return make


def _server_ends_every_connection(database_uri):
    """What a restart or a failover does to the connections waiting in the pools."""
    server = create_engine(database_uri)
    with server.begin() as conn:
        ended = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    server.dispose()
    assert ended >= 1


def test_a_connection_that_waited_is_pinged_and_replaced_when_the_server_ended_it(
    balance_on, database_uri
):
    balance = balance_on(0)  # every connection counts as having waited
    assert balance() == 200
    _server_ends_every_connection(database_uri)
    assert [balance(), balance()] == [200, 200]


def test_a_connection_given_back_a_moment_ago_is_not_pinged(balance_on, database_uri):
    balance = balance_on(3600)
    assert balance() == 200
    _server_ends_every_connection(database_uri)
    # not pinged: its first statement finds the server gone, and the connection is dropped
    assert balance() >= 500
    assert balance() == 200


@pytest.mark.parametrize("no_bound", [-1, None])
def test_without_a_bound_every_checkout_is_pinged_as_before(balance_on, database_uri, no_bound):
    balance = balance_on(no_bound)  # POOL_PING_AFTER < 0 or None: SQLAlchemy's pool_pre_ping
    assert balance() == 200
    _server_ends_every_connection(database_uri)
    assert balance() == 200
