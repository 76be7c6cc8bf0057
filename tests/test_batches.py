"""Batch approval set-based (issue 14): all or nothing, each entry checked as one by one, the
answer the same as reading each entry alone."""

from conftest import yesterday


def event(world, holders=("H1", "H2", "H3"), by="rec"):
    """One event recorded for these households by one batch: (ids in that order, points)."""
    answer = world.as_(by).post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": world.fixed_item(),
            "holders": list(holders),
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 201, answer
    return [e["id"] for e in answer.json["items"]], answer.json["items"][0]["points"]


def approve(world, reviewer, ids):
    return world.as_(reviewer).post("/entries/batch/approve", json={"ids": ids})


def seen(world, entry_id):
    return world.as_("admin").get(f"/entries/{entry_id}").json


def test_the_batch_answer_is_each_entry_as_read_alone(world):
    ids, _ = event(world)
    for reviewer in ("rev1", "rev2"):
        answer = approve(world, reviewer, ids)
        assert answer.status == 200, answer
        assert answer.json["items"] == [world.as_(reviewer).get(f"/entries/{i}").json for i in ids]
    assert [e["status"] for e in answer.json["items"]] == ["in_notice"] * 3
    assert all(len(e["approvals"]) == 2 and "notice_ends_on" in e for e in answer.json["items"])


def test_a_batch_with_ones_own_entry_is_refused_whole_and_names_that_entry(world):
    ids, points = event(world, ("H1", "H3"))
    own = world.record(holder="H2", by="rev1")["id"]  # rev1 also records in v1
    batch = [ids[0], own, ids[1]]
    refused = approve(world, "rev1", batch)
    assert refused.status == 403 and refused.code == "self_review", refused
    assert refused.json["error"]["details"]["ids"].keys() == {str(own)}
    assert refused.json["error"]["message"].startswith(f"#{own}:")
    assert all(seen(world, i)["approvals"] == [] for i in batch)  # nothing of it was written
    assert all(seen(world, i)["status"] == "pending" for i in batch)
    # without the own entry the same reviewer may approve the others; another reviewer all three
    assert approve(world, "rev1", ids).status == 200
    answer = approve(world, "rev2", batch)
    assert answer.status == 200, answer
    assert [e["status"] for e in answer.json["items"]] == ["in_notice", "pending", "in_notice"]
    assert [len(e["approvals"]) for e in answer.json["items"]] == [2, 1, 2]
    assert world.balance("H2")["pending"] == points and world.balance("H2")["balance"] == 0


def test_a_batch_with_a_dispute_its_reviewer_objected_to_is_refused_whole(world):
    disputed, points = event(world, ("H1", "H2"))
    for reviewer in ("rev1", "rev2"):
        assert approve(world, reviewer, disputed).status == 200
    objection = world.as_("rev3").post(
        f"/entries/{disputed[0]}/objections", json={"text": "有疑问"}
    )
    assert objection.status == 201
    fresh, _ = event(world, ("H3",))
    assert approve(world, "rev1", fresh).status == 200
    refused = approve(world, "rev3", [fresh[0], disputed[0]])
    assert refused.status == 403 and refused.code == "conflict_of_interest", refused
    assert refused.json["error"]["details"]["ids"].keys() == {str(disputed[0])}
    assert [a["by"] for a in seen(world, fresh[0])["approvals"]] == ["rev1"]
    assert seen(world, disputed[0])["status"] == "disputed"
    assert world.balance("H1")["balance"] == 0
    # a reviewer who did not object settles the dispute and gives the second approval at once
    answer = approve(world, "rev2", [fresh[0], disputed[0]])
    assert answer.status == 200, answer
    assert [e["status"] for e in answer.json["items"]] == ["in_notice", "posted"]
    assert world.balance("H1")["balance"] == points and world.balance("H1")["pending"] == 0
    assert world.balance("H3")["pending"] == points


def test_duplicate_ids_in_one_batch_count_once(world):
    ids, points = event(world, ("H1", "H2"))
    answer = approve(world, "rev1", [ids[0], ids[0], ids[1], ids[0]])
    assert answer.status == 200, answer
    assert [e["id"] for e in answer.json["items"]] == ids
    assert [len(e["approvals"]) for e in answer.json["items"]] == [1, 1]
    again = approve(world, "rev1", [ids[1], ids[0], ids[1]])
    assert again.status == 409 and again.code == "already_reviewed", again
    assert again.json["error"]["details"]["ids"].keys() == {str(ids[1])}  # the first, as given
    answer = approve(world, "rev2", [ids[1], ids[1], ids[0]])
    assert [e["id"] for e in answer.json["items"]] == [ids[1], ids[0]]
    assert [e["status"] for e in answer.json["items"]] == ["in_notice", "in_notice"]
    assert world.balance("H1")["pending"] == points and world.balance("H2")["pending"] == points


def test_an_unknown_id_or_one_out_of_scope_refuses_the_batch(world):
    ids, _ = event(world, ("H1",))
    elsewhere, _ = event(world, ("H9",), by="rec2")
    unknown = approve(world, "rev1", [ids[0], 999999])
    assert unknown.status == 404, unknown
    outside = approve(world, "rev1", [ids[0], elsewhere[0]])
    assert outside.status == 403 and outside.code == "forbidden", outside
    assert outside.json["error"]["details"]["ids"].keys() == {str(elsewhere[0])}
    assert seen(world, ids[0])["approvals"] == []
    assert approve(world, "rev_v2", elsewhere).status == 200
    assert approve(world, "clerk", ids).status == 403


def test_settling_posts_each_entry_once_chained_per_account_across_transactions(world):
    from datetime import timedelta

    from conftest import local_today
    from points.entries.service import settle
    from points.extensions import db
    from points.verify import verify

    first, points = event(world)
    second, _ = event(world, ("H1", "H2"))
    ids = first + second
    for reviewer in ("rev1", "rev2"):
        assert approve(world, reviewer, ids).status == 200
    revoked = world.as_("rev3").post(f"/entries/{second[1]}/revoke", json={"reason": "重复"})
    assert revoked.status == 200
    assert world.settle(local_today()) == 0  # the notice has not ended: nothing posts
    with world.app.app_context():
        assert settle(local_today() + timedelta(days=10), batch=2) == 4
        assert settle(local_today() + timedelta(days=10), batch=2) == 0
        assert verify()[1] == []
        db.session.remove()
    figures = [world.balance(h) for h in ("H1", "H2", "H3")]
    assert [(f["balance"], f["pending"]) for f in figures] == [
        (2 * points, 0),
        (points, 0),
        (points, 0),
    ]
    assert [e["status"] for e in (seen(world, i) for i in ids)] == ["posted"] * 3 + [
        "posted",
        "revoked",
    ]
    assert seen(world, ids[0])["history"][-1]["action"] == "settle"


def test_recording_a_batch_takes_as_many_statements_for_many_holders_as_for_one(world):
    """Set-based: the entries and their notices inserted by one statement each (not one per
    holder), each new id matched to its own holder, in the order the holders were given."""
    from sqlalchemy import event as sa_event, select

    from points.extensions import db
    from points.notices.models import Notice
    from points.org.models import Holder

    with world.app.app_context():
        engine = db.engine
    answers = [(("H1",), event(world, ("H1",))[0])]  # signed in, schemes read once
    counts = []
    for holders in (("H2",), ("H3", "H1", "H2")):
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            ids, _ = event(world, holders)
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
        answers.append((holders, ids))
    assert counts[1] == counts[0], counts
    for holders, ids in answers:
        assert [seen(world, i)["holder"] for i in ids] == list(holders)
    with world.app.app_context():
        queued = db.session.execute(
            select(Notice.entry_id, Holder.code, Notice.event)
            .join(Holder, Holder.id == Notice.holder_id)
            .order_by(Notice.entry_id)
        ).all()
        db.session.remove()
    recorded = {i: code for holders, ids in answers for i, code in zip(ids, holders)}
    assert [tuple(row) for row in queued] == [
        (i, code, "recorded") for i, code in sorted(recorded.items())
    ]


def test_a_batch_answer_names_a_residents_objection_as_a_single_read_does(world):
    """A resident's objection in a batch's history: "a resident of <village>", its text shown
    to the reviewer who settles it, the same as reading the entry alone."""
    ids, _ = event(world, ("H1", "H3"))
    for reviewer in ("rev1", "rev2"):
        assert approve(world, reviewer, ids).status == 200
    objection = world.anonymous.post(
        f"/public/entries/{ids[1]}/objections",
        json={"holder": "H2", "pin": "1234", "text": "不属实"},
    )
    assert objection.status == 201, objection
    answer = approve(world, "rev3", ids[1:])
    assert answer.status == 200, answer
    assert answer.json["items"] == [world.as_("rev3").get(f"/entries/{ids[1]}").json]
    objected = [e for e in answer.json["items"][0]["history"] if e["action"] == "object"]
    assert [(e["by"], e["note"]) for e in objected] == [("a resident of 汤头沟村", "不属实")]
