"""`ledger verify` recomputes the statistics counts (entry_stats) from the entries."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from conftest import local_today
from points.extensions import db


@pytest.fixture
def story(world):
    """Entries in every state the statistics count: posted, a posted deduction, rejected,
    revoked in notice, revoked after posting, one still in review; in two villages."""
    deduction = world.item_of("fixed", positive=False).code
    posted = world.record(holder="H1")
    minus = world.record(holder="H3", item=deduction)
    in_notice = world.record(holder="H2")
    revoked_later = world.record(holder="H1")
    for entry in (posted, minus, in_notice, revoked_later):
        world.approve_all(entry["id"])
    world.record(holder="H9", by="rec2")  # still in review, another village
    rejected = world.record(holder="H2")
    act(world, rejected, "reject", "证据不足")
    act(world, in_notice, "revoke", "重复")
    world.settle(local_today() + timedelta(days=4))
    act(world, revoked_later, "revoke", "弄虚作假")
    return world


def act(world, entry, action, reason):
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/{action}", json={"reason": reason})
    assert answer.status == 200, answer


def stats_problems(world):
    from points.entries.checks import verify_entry_stats

    with world.app.app_context():
        lines = verify_entry_stats()
        db.session.remove()
    return lines


def tamper(world, sql):
    with world.app.app_context():
        row_id = db.session.execute(text("SELECT min(id) FROM entry_stats")).scalar_one()
        db.session.execute(text(sql), {"id": row_id})
        db.session.commit()
    return row_id


def test_statistics_of_every_kind_of_change_agree_with_the_entries(story):
    assert stats_problems(story) == []
    assert story.app.test_cli_runner().invoke(args=["ledger", "verify"]).exit_code == 0


@pytest.mark.parametrize(
    "column", ["recorded", "posted", "rejected", "revoked", "granted", "deducted"]
)
def test_a_tampered_statistics_row_is_named(story, column):
    row_id = tamper(story, f"UPDATE entry_stats SET {column} = {column} + 10 WHERE id = :id")
    broken = story.app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert broken.exit_code == 1
    named = [line for line in broken.output.splitlines() if line.startswith("entry_stats")]
    assert len(named) == 1 and named[0].startswith(f"entry_stats {row_id} (")
    assert f"{column} is" in named[0]


def test_a_deleted_statistics_row_is_named(story):
    tamper(story, "DELETE FROM entry_stats WHERE id = :id")
    named = stats_problems(story)
    assert len(named) == 1 and "no row" in named[0] and "recorded is 0" in named[0]
