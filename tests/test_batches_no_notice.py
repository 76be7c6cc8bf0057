"""Batch approval that posts at once (a scheme with no notice): postings chained per account in
one batch, two batches on the same accounts at the same moment, `ledger verify` clean."""

import pytest

from conftest import at_once, edited_rules, own_clients
from test_batches import approve, event


@pytest.fixture
def rules_dir(tmp_path):
    return edited_rules(tmp_path, "longhua", "notice_days: 3", "notice_days: 0")


def _verify(world):
    from points.verify import verify

    with world.app.app_context():
        _, problems = verify()
    return problems


def postings(world, holder):
    items = world.as_("admin").get(f"/accounts/longhua/{holder}/postings?per_page=500").json
    return [(p["kind"], p["points"], p["balance_after"]) for p in reversed(items["items"])]


def test_a_batch_with_two_entries_of_one_account_posts_each_once_in_a_chain(world):
    first, points = event(world)
    second, _ = event(world, ("H1",))
    ids = first + second
    assert approve(world, "rev1", ids).status == 200
    answer = approve(world, "rev2", ids + [ids[0]])
    assert answer.status == 200, answer
    assert [e["id"] for e in answer.json["items"]] == ids
    assert all(e["status"] == "posted" for e in answer.json["items"])
    assert "notice_ends_on" not in answer.json["items"][0]
    h1 = world.balance("H1")
    assert (h1["balance"], h1["pending"], h1["earned"]) == (2 * points, 0, 2 * points)
    assert postings(world, "H1") == [("entry", points, points), ("entry", points, 2 * points)]
    assert postings(world, "H2") == [("entry", points, points)]
    assert _verify(world) == []
    # the other side: a third reviewer finds them posted; nothing moves
    again = approve(world, "rev3", ids)
    assert again.status == 409 and again.code == "invalid_state", again
    assert world.balance("H1")["balance"] == 2 * points and len(postings(world, "H1")) == 2


def test_two_batches_on_the_same_accounts_at_once_post_everything_once(world):
    a, points = event(world, ("H1", "H2", "H3"))
    b, _ = event(world, ("H3", "H2", "H1"))
    for ids in (a, b):
        assert approve(world, "rev1", ids).status == 200
    left, right = own_clients(world, "rev2", 2)
    answers = at_once(
        [
            lambda: left.post("/entries/batch/approve", json={"ids": a}),
            lambda: right.post("/entries/batch/approve", json={"ids": b}),
        ]
    )
    assert [x.status for x in answers] == [200, 200], answers
    for holder in ("H1", "H2", "H3"):
        figures = world.balance(holder)
        assert (figures["balance"], figures["pending"]) == (2 * points, 0), holder
        assert [p[2] for p in postings(world, holder)] == [points, 2 * points]
    assert _verify(world) == []


def test_the_same_batch_twice_at_once_posts_once_and_refuses_the_other_whole(world):
    ids, points = event(world, ("H1", "H2"))
    assert approve(world, "rev1", ids).status == 200
    clients = own_clients(world, "rev2", 1) + own_clients(world, "rev3", 1)
    answers = at_once(
        [lambda c=c: c.post("/entries/batch/approve", json={"ids": ids}) for c in clients]
    )
    assert sorted(x.status for x in answers) == [200, 409], answers
    assert {x.code for x in answers if x.status == 409} == {"invalid_state"}
    assert world.balance("H1")["balance"] == points and world.balance("H2")["balance"] == points
    assert len(postings(world, "H1")) == 1
    assert _verify(world) == []


def test_approving_a_batch_takes_as_many_statements_for_many_entries_as_for_one(world):
    """Set-based: the statements of a batch approval (and of its answer) do not grow with it."""
    from flask import g
    from sqlalchemy import event as sa_event, select

    from points.entries.api import entry_views
    from points.entries.service import approve_batch
    from points.extensions import db
    from points.users.models import User
    from points.users.service import principal_for_user

    one, _ = event(world, ("H1",))
    many, _ = event(world, ("H1", "H2", "H3"))
    more, _ = event(world, ("H1", "H2", "H3"))
    for ids in (one, many + more):
        assert approve(world, "rev1", ids).status == 200
    counts = []
    with world.app.app_context():
        engine = db.engine
        user_id = db.session.execute(select(User.id).where(User.username == "rev2")).scalar_one()
        db.session.remove()
        for ids in (one, many + more):
            seen_statements = []

            def count(*_args, seen_statements=seen_statements):
                seen_statements.append(1)

            with world.app.test_request_context():
                me = principal_for_user(user_id, "rev2")
                db.session.remove()
                sa_event.listen(engine, "before_cursor_execute", count)
                try:
                    approve_batch(me, ids)
                    g.principal = me
                    views = entry_views(ids)
                finally:
                    sa_event.remove(engine, "before_cursor_execute", count)
                assert [v["status"] for v in views] == ["posted"] * len(ids)
                db.session.remove()
            counts.append(len(seen_statements))
    assert counts[1] <= counts[0] + 2, counts  # + a unit or two read for the answer
