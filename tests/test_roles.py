"""Everyone who may not act, trying to act: a recorder, a clerk, the unit's admin, a reviewer of
another village and the recorder itself, at every door where points move or are judged."""

import pytest

from conftest import local_today
from shop_helpers import add_user

NOT_REVIEWERS = [
    "rec",
    "clerk",
    "admin",
    "rev_v2",
]  # recorder, clerk, admin of the unit, other village
YEAR = local_today().year


def _in_notice(world, recorder="rec", reviewers=("rev1", "rev2")):
    entry = world.record(by=recorder)
    world.approve_all(entry["id"], reviewers)
    return entry


def _status(world, entry):
    return world.as_("admin").get(f"/entries/{entry['id']}").json["status"]


@pytest.mark.parametrize("who", NOT_REVIEWERS)
def test_only_a_reviewer_of_the_unit_approves(world, who):
    entry = world.record()
    answer = world.as_(who).post(f"/entries/{entry['id']}/approve", json={})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "forbidden", "pending")


@pytest.mark.parametrize("who", NOT_REVIEWERS)
def test_only_a_reviewer_of_the_unit_rejects(world, who):
    entry = world.record()
    answer = world.as_(who).post(f"/entries/{entry['id']}/reject", json={"reason": "不实"})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "forbidden", "pending")


@pytest.mark.parametrize("who", NOT_REVIEWERS)
def test_only_a_reviewer_of_the_unit_revokes(world, who):
    entry = _in_notice(world)
    answer = world.as_(who).post(f"/entries/{entry['id']}/revoke", json={"reason": "弄错了"})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "forbidden", "in_notice")


def test_a_reviewer_who_recorded_the_entry_may_not_reject_it(world):
    entry = world.record(by="rev1")  # rev1 also records
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/reject", json={"reason": "不实"})
    assert (answer.status, answer.code) == (403, "self_review")


def test_a_reviewer_who_recorded_the_entry_may_not_revoke_it(world):
    entry = _in_notice(world, recorder="rev1", reviewers=("rev2", "rev3"))
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "弄错了"})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "self_review", "in_notice")


def test_a_reviewer_who_recorded_the_entry_may_not_settle_its_dispute(world):
    entry = _in_notice(world, recorder="rev1", reviewers=("rev2", "rev3"))
    assert (
        world.as_("admin")
        .post(f"/entries/{entry['id']}/objections", json={"text": "不属实"})
        .status
        == 201
    )
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "self_review", "disputed")


@pytest.mark.parametrize("who", ["clerk", "admin", "rev2"])
def test_only_a_recorder_records(world, who):
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "item": world.fixed_item(),
        "occurred_on": local_today().isoformat(),
    }
    answer = world.as_(who).post("/entries", json=body)
    assert (answer.status, answer.code) == (403, "forbidden")


@pytest.mark.parametrize("who", ["rev1", "clerk"])
def test_a_reviewer_or_clerk_does_not_read_rankings(world, who):
    answer = world.as_(who).get(f"/reports/ranking?scheme=longhua&unit=v1&year={YEAR}")
    assert (answer.status, answer.code) == (403, "forbidden")


@pytest.mark.parametrize("who", ["rev1", "clerk", "vadmin"])
def test_only_an_admin_over_every_holder_closes_the_year(world, who):
    add_user(world, "vadmin", "admin", "v1")  # the village's admin, not the county's
    answer = world.as_(who).post("/periods/close", json={"scheme": "longhua", "year": YEAR - 1})
    assert (answer.status, answer.code) == (403, "forbidden")
