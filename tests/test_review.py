"""Four-eyes review, public notice, objections, settling and revoking."""

from datetime import timedelta

from conftest import local_today


def test_a_recorder_can_never_approve_their_own_entry(world):
    entry = world.record(by="rev1")  # rev1 both records and reviews in v1
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={})
    assert answer.status == 403 and answer.code == "self_review"
    reject = world.as_("rev1").post(f"/entries/{entry['id']}/reject", json={"reason": "x"})
    assert reject.code == "self_review"


def test_two_distinct_reviewers_are_needed_before_notice(world):
    entry = world.record()
    first = world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={"note": "属实"})
    assert first.status == 200 and first.json["status"] == "pending"
    assert [a["by"] for a in first.json["approvals"]] == ["rev1"]
    twice = world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={})
    assert twice.status == 409 and twice.code == "already_reviewed"
    second = world.as_("rev2").post(f"/entries/{entry['id']}/approve", json={})
    assert second.json["status"] == "in_notice"
    assert second.json["notice_ends_on"] == (local_today() + timedelta(days=3)).isoformat()
    assert world.balance()["balance"] == 0 and world.balance()["pending"] == entry["points"]


def test_a_reviewer_of_another_village_is_forbidden(world):
    entry = world.record()
    answer = world.as_("rev_v2").post(f"/entries/{entry['id']}/approve", json={})
    assert answer.status == 403 and answer.code == "forbidden"


def test_approving_an_entry_that_does_not_exist_is_404(world):
    answer = world.as_("rev1").post("/entries/999/approve", json={})
    assert answer.status == 404 and answer.code == "not_found"


def test_rejecting_needs_a_reason_and_removes_the_pending_points(world):
    entry = world.record()
    empty = world.as_("rev1").post(f"/entries/{entry['id']}/reject", json={"reason": ""})
    assert empty.status == 422 and "reason" in empty.json["error"]["details"]
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/reject", json={"reason": "证据不足"})
    assert answer.json["status"] == "rejected" and answer.json["review_note"] == "证据不足"
    assert world.balance()["pending"] == 0
    again = world.as_("rev2").post(f"/entries/{entry['id']}/approve", json={})
    assert again.status == 409 and again.code == "invalid_state"


def test_notice_ends_and_settle_as_of_posts_only_entries_whose_last_day_has_passed(world):
    entry = world.record()
    notice_ends = world.approve_all(entry["id"])["notice_ends_on"]
    last_day = local_today() + timedelta(days=3)
    assert notice_ends == last_day.isoformat()
    assert world.settle(last_day) == 0  # the last day of notice is still notice
    assert world.balance()["balance"] == 0
    assert world.settle(last_day + timedelta(days=1)) == 1
    account = world.balance()
    assert account["balance"] == entry["points"] and account["pending"] == 0
    assert account["earned"] == entry["points"]
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "posted"


def test_the_settle_command_posts_entries_as_of_a_day(world):
    entry = world.record()
    world.approve_all(entry["id"])
    runner = world.app.test_cli_runner()
    day = (local_today() + timedelta(days=4)).isoformat()
    result = runner.invoke(args=["settle", "--as-of", day])
    assert result.exit_code == 0 and "posted 1" in result.output
    assert world.balance()["balance"] == entry["points"]


def test_a_neighbour_objects_and_one_reviewer_settles_the_dispute(world):
    entry = world.record()
    world.approve_all(entry["id"])
    objection = world.anonymous.post(
        f"/public/entries/{entry['id']}/objections",
        json={"holder": "H3", "pin": "1234", "text": "那天他不在村里"},
    )
    assert objection.status == 201 and objection.json["status"] == "disputed"
    assert world.settle(local_today() + timedelta(days=10)) == 0  # a disputed entry does not settle
    # The recorder cannot settle the dispute; an earlier approver can, at once, with no new notice.
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={}).json["status"]
        == "posted"
    )
    assert world.balance()["balance"] == entry["points"]
    history = world.as_("rec").get(f"/entries/{entry['id']}").json["history"]
    assert [h["action"] for h in history] == ["record", "approve", "approve", "object", "approve"]
    assert history[3]["by"] == "a resident of 汤头沟村"  # never the objector's code


def test_a_disputed_entry_can_be_rejected(world):
    entry = world.record()
    world.approve_all(entry["id"])
    assert (
        world.as_("rec").post(f"/entries/{entry['id']}/objections", json={"text": "有误"}).status
        == 201
    )
    answer = world.as_("rev3").post(f"/entries/{entry['id']}/reject", json={"reason": "核实有误"})
    assert answer.json["status"] == "rejected"
    account = world.balance()
    assert (account["balance"], account["pending"]) == (0, 0)


def test_objections_only_while_in_notice(world):
    entry = world.record()
    answer = world.as_("rec").post(f"/entries/{entry['id']}/objections", json={"text": "有误"})
    assert answer.status == 409 and answer.code == "invalid_state"


def test_a_resident_of_another_village_cannot_object(world):
    entry = world.record()
    world.approve_all(entry["id"])
    answer = world.anonymous.post(
        f"/public/entries/{entry['id']}/objections",
        json={"holder": "H9", "pin": "1234", "text": "不服"},
    )
    assert answer.status == 403 and answer.code == "forbidden"
    wrong_pin = world.anonymous.post(
        f"/public/entries/{entry['id']}/objections",
        json={"holder": "H3", "pin": "9999", "text": "不服"},
    )
    assert wrong_pin.status == 401 and wrong_pin.code == "invalid_credentials"


def test_the_public_notice_board_masks_names(world):
    entries = [world.record(holder=h) for h in ("H1", "H2")]
    for entry in entries:
        world.approve_all(entry["id"])
    world.record(holder="H3")  # still pending: not on the board
    board = world.anonymous.get("/public/notices?unit=v1")
    assert board.status == 200 and board.json["total"] == 2
    assert sorted(n["holder_name"] for n in board.json["items"]) == [
        "張*明".replace("張", "张"),
        "李*",
    ]
    assert all("notice_ends_on" in n and "points" in n for n in board.json["items"])
    assert world.anonymous.get("/public/notices?unit=v2").json["total"] == 0


def test_revoking_a_posted_entry_posts_the_reverse_even_below_zero(world):
    entry = world.record()
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=4))
    deduction = world.item_of("fixed", positive=False)
    minus = world.record(item=deduction.code)
    world.approve_all(minus["id"])
    world.settle(local_today() + timedelta(days=4))
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "弄虚作假"})
    assert answer.status == 200 and answer.json["status"] == "revoked"
    account = world.balance()
    assert account["balance"] == float(deduction.points)  # below zero: deductions stand
    postings = world.as_("admin").get("/accounts/longhua/H1/postings").json["items"]
    assert [p["kind"] for p in postings] == ["revoke", "entry", "entry"]
    assert (
        postings[0]["points"] == -entry["points"] and postings[0]["ref"] == f"entry:{entry['id']}"
    )
    again = world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "再次"})
    assert again.status == 409 and again.code == "invalid_state"


def test_revoking_an_entry_in_notice_only_drops_its_pending_points(world):
    entry = world.record()
    world.approve_all(entry["id"])
    assert (
        world.as_("rev3").post(f"/entries/{entry['id']}/revoke", json={"reason": "误记"}).status
        == 200
    )
    account = world.balance()
    assert account["pending"] == 0 and account["balance"] == 0
    assert world.as_("admin").get("/accounts/longhua/H1/postings").json["total"] == 0


def test_revoking_a_pending_entry_is_refused(world):
    entry = world.record()
    answer = world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "误记"})
    assert answer.status == 409 and answer.code == "invalid_state"


def test_batch_approval_is_all_or_nothing(world):
    ids = [world.record(holder=h)["id"] for h in ("H1", "H2")]
    own = world.record(holder="H3", by="rev1")["id"]
    refused = world.as_("rev1").post("/entries/batch/approve", json={"ids": ids + [own]})
    assert refused.status == 403 and refused.code == "self_review"
    assert all(not world.as_("rec").get(f"/entries/{i}").json["approvals"] for i in ids)
    answer = world.as_("rev1").post("/entries/batch/approve", json={"ids": ids, "note": "活动属实"})
    assert answer.status == 200 and [e["id"] for e in answer.json["items"]] == ids
    assert all(len(e["approvals"]) == 1 for e in answer.json["items"])


def test_a_running_service_settles_on_its_own(database_uri, rules_dir):
    """A village without cron still gets its points: each server process settles on its own,
    once its first request started it and then every SETTLE_EVERY seconds, outside requests."""
    from conftest import JOIN_TIMEOUT, Api, World, make_app
    from points.extensions import db
    from points.schemes.service import sync

    app = make_app(database_uri, RULES_DIR=str(rules_dir), SETTLE_EVERY=3600)
    with app.app_context():
        sync(app.config["RULES_DIR"])
        db.session.remove()
    world = World(app, app.test_client())
    entry = world.record()
    world.approve_all(entry["id"])
    settler = app.extensions["points_settler"]
    assert settler.wait_for_run(1, JOIN_TIMEOUT)  # this process's first run: nothing due
    later = make_app(database_uri, RULES_DIR=str(rules_dir), SETTLE_EVERY=3600)
    with later.app_context():
        db.session.execute(
            db.text("UPDATE entries SET notice_ends_on = :d"),
            {"d": local_today() - timedelta(days=1)},
        )
        db.session.commit()
    answer = world.as_("rec").get(f"/entries/{entry['id']}")
    assert answer.json["status"] == "in_notice"  # this process settled within the hour
    assert settler.runs == 1
    # Another process posts what is due once its first request has started its settler.
    later_api = Api(later.test_client(), world.token("admin"))
    later_api.get("/healthz")
    assert later.extensions["points_settler"].wait_for_run(1, JOIN_TIMEOUT)
    assert later_api.get(f"/entries/{entry['id']}").json["status"] == "posted"
    settler.stop()
    later.extensions["points_settler"].stop()
