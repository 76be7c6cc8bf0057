"""A scheme with no public notice: the quorum posts at once, and only once."""

import pytest
from sqlalchemy import func, select

from conftest import at_once, edited_rules


@pytest.fixture
def rules_dir(tmp_path):
    """Longhua with no notice period: approved entries are posted at once."""
    return edited_rules(tmp_path, "longhua", "notice_days: 3", "notice_days: 0")


def test_with_no_notice_the_quorum_posts_at_once(world):
    entry = world.record()
    approved = world.approve_all(entry["id"])
    assert approved["status"] == "posted" and "notice_ends_on" not in approved
    assert world.balance()["balance"] == entry["points"]


def _postings_of(world, entry_id):
    from points.extensions import db
    from points.ledger.models import Posting

    with world.app.app_context():
        count = db.session.execute(
            select(func.count(Posting.id)).where(Posting.ref == f"entry:{entry_id}")
        ).scalar_one()
        db.session.remove()
    return count


def _verify(world):
    from points.verify import verify

    with world.app.app_context():
        _, problems = verify()
    return problems


def test_reviewers_approving_one_entry_at_the_same_moment_post_it_once(world):
    entry = world.record()
    reviewers = ["rev1", "rev2", "rev3"]
    apis = [world.as_(r) for r in reviewers]  # sign in first: only the approvals race
    for api in apis:
        api.client = world.app.test_client()
    answers = at_once(
        [lambda a=a: a.post(f"/entries/{entry['id']}/approve", json={}) for a in apis]
    )
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 200, 409], answers
    assert {a.code for a in answers if a.status == 409} == {"invalid_state"}
    assert _postings_of(world, entry["id"]) == 1
    assert world.balance()["balance"] == entry["points"]
    assert _verify(world) == []


def test_one_reviewer_clicking_approve_many_times_at_once_counts_once(world):
    entry = world.record()
    token = world.token("rev1")
    apis = []
    for _ in range(6):
        api = world.as_("rev1")
        api.client, api.token = world.app.test_client(), token
        apis.append(api)
    answers = at_once(
        [lambda a=a: a.post(f"/entries/{entry['id']}/approve", json={}) for a in apis]
    )
    assert sorted(a.status for a in answers) == [200] + [409] * 5, answers
    assert {a.code for a in answers if a.status == 409} == {"already_reviewed"}
    detail = world.as_("rec").get(f"/entries/{entry['id']}").json
    assert detail["status"] == "pending" and len(detail["approvals"]) == 1
