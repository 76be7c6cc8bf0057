"""`make fuzz`: schemathesis (v4) reads the live OpenAPI document in process and sends what it
generates from it, valid and invalid, signed in as the county admin, against a database holding
real objects (tests/schemathesis.toml pins the path parameters to them). No answer may be a 500.

Not part of `make test` (this file is not named test_*.py). Each 500 it finds becomes a
regression test in the normal suite (tests/test_security.py). FUZZ_EXAMPLES sets the number
of cases per operation and mode (default 40).

schemathesis' own pytest loader (`from_fixture`) does not run under pytest 9.2, so each
operation is one parametrized test that drives the operation's Hypothesis strategy itself.
"""
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.overrides import for_operation

from conftest import make_app, yesterday
from shop_helpers import add_user, give_points, open_shop, redeem

CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))


def _labels():
    """Every operation of the document, read from an app that needs no database for it."""
    spec = make_app("sqlite://").test_client().get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(spec, config=CONFIG)
    return [result.ok().label for result in schema.get_all_operations()]


def _stock(world):
    """The objects the pinned path parameters name: entry 1, shop lh-shop with soap,
    redemption 1, user `fuzzed`."""
    entry = world.record(holder="H1", occurred_on=yesterday())
    assert entry["id"] == 1
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, "H2", 20)
    assert redeem(world, [("soap", 1)], holder="H2").status == 201
    add_user(world, "fuzzed", "recorder", "v1")


@pytest.mark.parametrize("label", _labels())
def test_no_answer_is_a_server_error(world, label):
    _stock(world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app, config=CONFIG)
    operation = schema.find_operation_by_label(label)
    headers = {"Authorization": f"Bearer {world.token('admin')}"}
    # The pins of schemathesis.toml, as its own runner applies them.
    pinned = for_operation(schema.config, operation=operation).path_parameters
    cases = st.one_of(*(operation.as_strategy(mode, path_parameters=pinned)
                        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def one(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.as_curl_command(headers), response.text[:500])

    one()
