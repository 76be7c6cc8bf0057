"""人情分: the fairness report flags a recorder whose points go to one household, and a
reviewer who never rejects (api.md, Oversight)."""

import pytest

from conftest import yesterday
from shop_helpers import add_households

YEAR = int(yesterday()[:4])  # the year of the deeds recorded here
SPREAD = ["H1", "H2", "H3", "F1", "F2"]


@pytest.fixture
def village(world):
    add_households(world, ["F1", "F2"])
    return world


def record(world, holders):
    item = world.fixed_item()
    return [world.record(holder=h, item=item)["id"] for h in holders]


def report(world, unit="v1", by="admin", year=YEAR):
    answer = world.as_(by).get(f"/reports/fairness?unit={unit}&year={year}")
    assert answer.status == 200, answer
    return answer.json


def recorder(world, username="rec", **kw):
    return next(r for r in report(world, **kw)["recorders"] if r["username"] == username)


def test_a_recorder_giving_12_of_13_entries_to_one_household_is_flagged(village):
    record(village, ["H1"] * 12 + ["H2"])
    row = recorder(village)
    assert row["entries"] == 13 and row["households"] == 2 and row["flags"] == ["top_holder"]
    assert row["top_share"] == pytest.approx(12 / 13, abs=0.001)
    assert report(village)["recorders"][0]["username"] == "rec"  # flagged people first


def test_a_recorder_spreading_entries_is_not_flagged(village):
    record(village, (SPREAD * 3)[:13])
    row = recorder(village)
    assert row["entries"] == 13 and row["households"] == 5 and row["flags"] == []


def test_nine_entries_to_one_household_are_too_few_to_flag(village):
    record(village, ["H1"] * 9)
    assert recorder(village)["flags"] == []


def test_exactly_30_percent_to_one_household_is_not_flagged_and_a_hair_over_is(village):
    record(village, ["H1"] * 3 + ["H2", "H2", "H3", "H3", "F1", "F1", "F2"])  # 3 of 10
    row = recorder(village)
    assert row["top_share"] == 0.3 and row["flags"] == []
    record(village, ["H1"])  # 4 of 11
    assert recorder(village)["flags"] == ["top_holder"]


def test_a_reviewer_with_50_approvals_and_no_rejection_is_flagged(village):
    ids = record(village, (SPREAD * 10)[:50])
    assert village.as_("rev1").post("/entries/batch/approve", json={"ids": ids}).status == 200
    rejected = village.as_("rev3").post(f"/entries/{ids[-1]}/reject", json={"reason": "证据不足"})
    assert rejected.status == 200
    assert village.as_("rev2").post("/entries/batch/approve", json={"ids": ids[:49]}).status == 200
    reviewers = {r["username"]: r for r in report(village)["reviewers"]}
    assert reviewers["rev1"] == {
        "username": "rev1",
        "reviewed": 50,
        "approved": 50,
        "rejected": 0,
        "flags": ["never_rejects"],
    }
    assert reviewers["rev2"]["reviewed"] == 49 and reviewers["rev2"]["flags"] == []
    assert reviewers["rev3"] == {
        "username": "rev3",
        "reviewed": 1,
        "approved": 0,
        "rejected": 1,
        "flags": [],
    }


def test_thresholds_are_settings(village):
    village.app.config["FAIRNESS_MIN_ENTRIES"] = 5
    record(village, ["H1"] * 5)
    assert recorder(village)["flags"] == ["top_holder"]


def test_only_an_admin_over_the_unit_reads_it_and_the_unit_must_exist(village):
    record(village, ["H1"])
    assert village.as_("zadmin").get(f"/reports/fairness?unit=v1&year={YEAR}").status == 403
    assert village.as_("rec").get(f"/reports/fairness?unit=v1&year={YEAR}").status == 403
    assert village.as_("admin").get(f"/reports/fairness?unit=nowhere&year={YEAR}").status == 422
    assert report(village, unit="v2")["recorders"] == []  # another village's entries stay out
