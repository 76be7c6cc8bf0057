"""Transitions the contract forbids, tried from the state next to the one that allows them, and
the figures each allowed one must move. Each test here was written for a rule that one broken
line in the code left green everywhere else (see the issue 9 item 6 report)."""

from datetime import timedelta

from conftest import local_today
from shop_helpers import give_points, open_shop, redeem


def _in_notice(world, holder="H1", item=None):
    entry = world.record(holder=holder, item=item)
    world.approve_all(entry["id"])
    return entry


def _disputed(world):
    entry = _in_notice(world)
    assert (
        world.as_("admin")
        .post(f"/entries/{entry['id']}/objections", json={"text": "不属实"})
        .status
        == 201
    )
    return entry


def _status(world, entry):
    return world.as_("admin").get(f"/entries/{entry['id']}").json["status"]


# --- entries: from which status ------------------------------------------------------------


def test_a_disputed_entry_cannot_be_revoked_only_settled(world):
    entry = _disputed(world)
    answer = world.as_("rev3").post(f"/entries/{entry['id']}/revoke", json={"reason": "撤销"})
    assert (answer.status, answer.code, _status(world, entry)) == (409, "invalid_state", "disputed")


def test_an_entry_in_notice_cannot_be_rejected_only_revoked_or_objected_to(world):
    entry = _in_notice(world)
    answer = world.as_("rev3").post(f"/entries/{entry['id']}/reject", json={"reason": "不实"})
    assert (answer.status, answer.code, _status(world, entry)) == (
        409,
        "invalid_state",
        "in_notice",
    )


def test_a_posted_entry_cannot_be_objected_to_or_approved_again(world):
    entry = _in_notice(world)
    world.settle(local_today() + timedelta(days=4))
    objection = world.as_("admin").post(
        f"/entries/{entry['id']}/objections", json={"text": "迟到的异议"}
    )
    approval = world.as_("rev3").post(f"/entries/{entry['id']}/approve", json={})
    assert [(objection.status, objection.code), (approval.status, approval.code)] == [
        (409, "invalid_state"),
        (409, "invalid_state"),
    ]
    assert _status(world, entry) == "posted"


def test_a_revoked_entry_frees_its_place_under_the_cap(world):
    item = world.item_of("fixed", capped="year")
    assert item.cap.count == 1
    entry = _in_notice(world, item=item.code)
    assert (
        world.as_("rev3").post(f"/entries/{entry['id']}/revoke", json={"reason": "误记"}).status
        == 200
    )
    again = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": item.code,
            "occurred_on": (local_today() - timedelta(days=1)).isoformat(),
        },
    )
    assert again.status == 201, again


# --- objections: who ------------------------------------------------------------------------


def test_staff_outside_the_holders_units_cannot_object(world):
    entry = _in_notice(world)
    answer = world.as_("rec2").post(f"/entries/{entry['id']}/objections", json={"text": "有异议"})
    assert (answer.status, answer.code, _status(world, entry)) == (403, "forbidden", "in_notice")


def test_the_notice_board_shows_entries_in_notice_not_disputed_ones(world):
    shown, disputed = _in_notice(world, holder="H2"), _disputed(world)
    board = world.anonymous.get("/public/notices?unit=v1").json
    assert [n["id"] for n in board["items"]] == [shown["id"]]
    assert disputed["id"] not in [n["id"] for n in board["items"]]


# --- scope of reading -----------------------------------------------------------------------


def test_an_entry_outside_the_callers_units_is_forbidden_to_read_and_not_listed(world):
    entry = world.record()
    answer = world.as_("rec2").get(f"/entries/{entry['id']}")
    assert (answer.status, answer.code) == (403, "forbidden")
    assert world.as_("rec2").get("/entries").json["total"] == 0
    assert world.as_("rec").get("/entries").json["total"] == 1


# --- the year's totals that revocations and voids move --------------------------------------


def test_revoking_a_posted_deed_lowers_what_was_earned_and_a_deduction_what_was_deducted(world):
    good, bad = (
        world.item_of("fixed", capped=False),
        world.item_of("fixed", positive=False, capped=False),
    )
    entries = [_in_notice(world, item=good.code), _in_notice(world, item=bad.code)]
    world.settle(local_today() + timedelta(days=4))
    for entry in entries:
        assert (
            world.as_("rev3").post(f"/entries/{entry['id']}/revoke", json={"reason": "撤销"}).status
            == 200
        )
    account = world.balance()
    assert (account["balance"], account["earned"], account["deducted"]) == (0, 0, 0)


def test_a_void_takes_back_what_was_counted_as_redeemed(world):
    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, "H1", 20)
    sale = redeem(world, [("soap", 2)]).json
    assert world.balance()["redeemed"] == 10
    assert (
        world.as_("clerk").post(f"/redemptions/{sale['id']}/void", json={"reason": "退货"}).status
        == 200
    )
    account = world.balance()
    assert (account["balance"], account["redeemed"]) == (20, 0)


# --- time windows ---------------------------------------------------------------------------


def test_a_redemption_key_is_still_answered_a_day_later_after_the_service_forgets_old_keys(world):
    """Keys are kept at least 24 hours: one used 23 h 59 min ago survives the clean-up that
    settling runs, and its retry is answered, not charged again."""
    from sqlalchemy import update

    from points.database import utcnow
    from points.extensions import db
    from points.idempotency import IdempotentRequest, forget_old

    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, "H1", 20)
    first = redeem(world, [("soap", 1)], key="sale-1")
    with world.app.app_context():
        db.session.execute(
            update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=23, minutes=59))
        )
        db.session.commit()
        forget_old()
        db.session.remove()
    again = redeem(world, [("soap", 1)], key="sale-1")
    assert (again.status, again.json) == (first.status, first.json)
    assert world.balance()["balance"] == 15
