"""The sign-in lockout at its edges: exactly five failures are answered 401, the sixth attempt
429; the window is 15 minutes to the second, moved by rewriting the failures' times."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import PASSWORD
from points.extensions import db


def _sign_in(world, password):
    return world.anonymous.post(
        "/auth/token", json={"username": "rec", "password": password}
    ).status


def test_five_wrong_passwords_are_each_401_and_the_sixth_attempt_429(world):
    assert [_sign_in(world, "guess-123") for _ in range(6)] == [401] * 5 + [429]


def test_four_failures_do_not_lock_the_right_password_out(world):
    for _ in range(4):
        _sign_in(world, "guess-123")
    assert _sign_in(world, PASSWORD) == 200


def _age_failures(world, age):
    from points.database import utcnow
    from points.users.models import LoginFailure

    with world.app.app_context():
        db.session.execute(update(LoginFailure).values(at=utcnow() - age))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize(
    "age, status",
    [(timedelta(minutes=15, seconds=-1), 429), (timedelta(minutes=15, seconds=1), 200)],
)
def test_the_lockout_lasts_fifteen_minutes_to_the_second(world, age, status):
    for _ in range(5):
        _sign_in(world, "guess-123")
    _age_failures(world, age)
    assert _sign_in(world, PASSWORD) == status
