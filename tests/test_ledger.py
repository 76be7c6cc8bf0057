"""Accounts, postings, the resident's balance by PIN, and `ledger verify`."""

from datetime import timedelta

from sqlalchemy import text

from conftest import local_today


def _posted(world, holder="H1", item=None):
    entry = world.record(holder=holder, item=item)
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=4))
    return entry


def test_a_holder_with_no_postings_has_an_account_of_zeros(world):
    assert world.balance("H2") == {
        "scheme": "longhua",
        "holder": "H2",
        "balance": 0,
        "pending": 0,
        "earned": 0,
        "deducted": 0,
        "redeemed": 0,
    }


def test_an_account_for_a_scheme_of_another_subject_is_not_found(world):
    assert world.as_("admin").get("/accounts/shita/H1").status == 404
    assert world.as_("admin").get("/accounts/longhua/NOBODY").status == 404


def test_balance_pending_earned_and_deducted(world):
    # The expected figures come from the scheme's items, never from the server's own answers.
    good, deduction = world.item_of("fixed", capped=False), world.item_of("fixed", positive=False)
    _posted(world, item=good.code)
    _posted(world, item=deduction.code)
    world.record(holder="H1", item=good.code)
    account = world.balance()
    assert (account["balance"], account["pending"], account["earned"], account["deducted"]) == (
        float(good.points + deduction.points),
        float(good.points),
        float(good.points),
        float(-deduction.points),
    )


def test_postings_are_newest_first_with_the_running_balance(world):
    first = _posted(world)
    second = _posted(world, holder="H1", item=world.item_of("fixed", positive=False).code)
    postings = world.as_("clerk").get("/accounts/longhua/H1/postings").json
    assert postings["total"] == 2
    assert [p["ref"] for p in postings["items"]] == [
        f"entry:{second['id']}",
        f"entry:{first['id']}",
    ]
    assert postings["items"][0]["balance_after"] == first["points"] + second["points"]
    assert set(postings["items"][0]) == {"id", "kind", "points", "balance_after", "at", "ref"}


def test_a_user_outside_the_holders_units_cannot_read_the_account(world):
    assert world.as_("rec2").get("/accounts/longhua/H1").status == 403


def test_a_resident_checks_their_balance_with_the_pin(world):
    entry = _posted(world)
    answer = world.anonymous.post("/public/balance", json={"holder": "H1", "pin": "1234"})
    assert answer.status == 200
    assert answer.json["holder"] == "H1" and answer.json["name"] == "张三明"
    assert answer.json["accounts"][0]["scheme"] == "longhua"
    assert answer.json["accounts"][0]["balance"] == entry["points"]
    assert [p["kind"] for p in answer.json["recent"]] == ["entry"]


def test_five_wrong_pins_lock_the_holder_across_the_service(world):
    for _ in range(5):
        wrong = world.anonymous.post("/public/balance", json={"holder": "H1", "pin": "0000"})
        assert wrong.status == 401 and wrong.code == "invalid_credentials"
    locked = world.anonymous.post("/public/balance", json={"holder": "H1", "pin": "1234"})
    assert locked.status == 429 and locked.code == "too_many_attempts"
    assert (
        world.anonymous.post("/public/balance", json={"holder": "H2", "pin": "1234"}).status == 200
    )


def test_ledger_verify_agrees_then_names_an_account_that_was_tampered_with(world):
    _posted(world)
    runner = world.app.test_cli_runner()
    clean = runner.invoke(args=["ledger", "verify"])
    assert clean.exit_code == 0 and "all agree" in clean.output
    from points.extensions import db

    with world.app.app_context():
        db.session.execute(text("UPDATE accounts SET balance = balance + 70"))
        db.session.commit()
    broken = runner.invoke(args=["ledger", "verify"])
    assert broken.exit_code == 1 and "balance" in broken.output and "account" in broken.output


def test_reading_a_balance_reads_one_row_whatever_the_history(world):
    """The balance is a running figure kept with each posting, not a sum at read time."""
    item = world.item_of("fixed", capped=False)
    _posted(world, item=item.code)
    from points.extensions import db

    with world.app.app_context():
        db.session.execute(text("DELETE FROM postings"))  # only to show where the figure comes from
        db.session.commit()
    assert world.balance()["balance"] == float(item.points)


def test_ledger_verify_checks_pending_points_against_open_entries(world):
    world.record()
    from points.extensions import db
    from points.verify import verify

    with world.app.app_context():
        assert verify()[1] == []
        db.session.execute(text("UPDATE accounts SET pending = 0"))
        db.session.commit()
        problems = verify()[1]
    assert len(problems) == 1 and "pending" in problems[0]
