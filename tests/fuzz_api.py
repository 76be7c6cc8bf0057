"""`make fuzz`: schemathesis (v4) reads the live OpenAPI document in process and runs its own
phases on every operation (examples, coverage of boundary values, fuzzing; valid and invalid
data), signed in as the county admin, against a database holding real objects
(tests/schemathesis.toml pins the path parameters to them). No answer may be a 500.

Not part of `make test` (this file is not named test_*.py). Each 500 it finds becomes a
regression test in the normal suite (tests/test_security.py). The database is made once, at
import, in a temporary folder: schemathesis' fixture-based loader does not run under pytest 9.2.
"""

import tempfile
from pathlib import Path

import schemathesis
from flask_migrate import upgrade
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from conftest import World, make_app, yesterday
from points.extensions import db
from shop_helpers import add_user, give_points, open_shop, redeem

CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))


def _stocked_app():
    """A migrated database with the story's people and the objects the pinned path parameters
    name: entry 1, shop lh-shop with soap, redemption 1, user `fuzzed`."""
    from points.schemes.service import sync

    folder = Path(tempfile.mkdtemp(prefix="points-fuzz-"))
    app = make_app(f"sqlite:///{folder / 'points.db'}")
    with app.app_context():
        upgrade()
        sync(app.config["RULES_DIR"])
        db.session.remove()
    world = World(app, app.test_client())
    assert world.record(holder="H1", occurred_on=yesterday())["id"] == 1
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, "H2", 20)
    assert redeem(world, [("soap", 1)], holder="H2").status == 201
    add_user(world, "fuzzed", "recorder", "v1")
    return world


WORLD = _stocked_app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WORLD.app, config=CONFIG)


@schema.parametrize()
def test_no_answer_is_a_server_error(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {WORLD.token('admin')}"}, checks=[not_a_server_error]
    )
