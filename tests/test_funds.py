"""公益金: a unit's fund as append-only movements in yuan, money in and out by its admins;
bad amounts, unknown units and admins of other units change nothing (api.md, Oversight)."""

import pytest

from shop_helpers import add_user, verify


def move(world, kind, amount, unit="v1", by="admin", source="合作社二次分配", **extra):
    return world.as_(by).post(
        f"/funds/{unit}/movements", json={"kind": kind, "amount": amount, "source": source, **extra}
    )


def fund(world, unit="v1", by="admin"):
    answer = world.as_(by).get(f"/funds/{unit}/movements")
    assert answer.status == 200, answer
    return answer.json


def test_money_in_and_out_keeps_an_exact_balance_in_yuan(world):
    first = move(world, "in", 27720.5)
    assert first.status == 201, first
    assert first.json["amount"] == 27720.5 and first.json["balance_after"] == 27720.5
    assert '"amount":27720.50,' in first.text  # two decimals, a JSON number
    assert move(world, "in", "0.10", source="捐赠：张三明").status == 201
    bought = move(world, "out", 1234.56, source="采购：大米 20 袋", note="汤头沟村爱心超市")
    assert bought.status == 201 and bought.json["balance_after"] == pytest.approx(26486.04)
    listed = fund(world)
    assert listed["balance"] == pytest.approx(26486.04) and listed["total"] == 3
    assert [m["kind"] for m in listed["items"]] == ["out", "in", "in"]  # newest first
    assert listed["items"][0] == {**bought.json, "by": "admin"}
    assert verify(world)[1] == []


def test_a_negative_zero_three_decimal_or_absurd_amount_is_refused(world):
    assert move(world, "in", 100).status == 201
    for kind in ("in", "out"):
        for amount in (-5, -0.01, 0, 12.345, "1.001", 0.005, "abc", True, None, 10**11):
            answer = move(world, kind, amount)
            assert answer.status == 422 and answer.code == "validation_error", (amount, answer)
            assert "amount" in answer.json["error"]["details"]
    assert fund(world)["balance"] == 100 and fund(world)["total"] == 1


def test_two_decimals_are_enough_and_a_kind_must_be_in_or_out(world):
    assert move(world, "in", "12.34").status == 201
    answer = move(world, "spend", 1)
    assert answer.status == 422 and "kind" in answer.json["error"]["details"]
    assert move(world, "in", 1, source="").status == 422
    assert fund(world)["balance"] == 12.34


def test_money_out_beyond_the_balance_is_refused_and_changes_nothing(world):
    assert move(world, "in", 100).status == 201
    answer = move(world, "out", 100.01)
    assert answer.status == 409 and answer.code == "insufficient_fund", answer
    assert answer.json["error"]["details"] == {"balance": 100, "amount": 100.01}
    assert move(world, "out", 100).status == 201  # exactly the balance
    assert fund(world)["balance"] == 0 and fund(world)["total"] == 2
    first_out = move(world, "out", 1, unit="v2")  # a fund that never had money
    assert first_out.status == 409 and first_out.json["error"]["details"]["balance"] == 0


def test_an_unknown_unit_is_a_404_and_nothing_is_made(world):
    answer = move(world, "in", 10, unit="nowhere")
    assert answer.status == 404 and answer.code == "not_found"
    assert world.as_("admin").get("/funds/nowhere/movements").status == 404


def test_only_admins_over_the_unit_move_or_read_its_fund(world):
    add_user(world, "v2admin", "admin", "v2")
    for username in ("zadmin", "v2admin", "rec", "rev1", "clerk"):
        answer = move(world, "in", 10, by=username)
        assert answer.status == 403 and answer.code == "forbidden", (username, answer)
        assert world.as_(username).get("/funds/v1/movements").status == 403
    anonymous = world.anonymous.post(
        "/funds/v1/movements", json={"kind": "in", "amount": 1, "source": "x"}
    )
    assert anonymous.status == 401
    assert fund(world)["total"] == 0
    assert move(world, "in", 10, unit="v2", by="v2admin").status == 201  # their own village
    assert fund(world, "town")["total"] == 0  # a township's fund is its own, not its villages'


def test_ledger_verify_names_a_fund_whose_balance_was_edited_behind_the_services_back(world):
    from sqlalchemy import text

    from points.extensions import db

    assert move(world, "in", 500).status == 201
    assert move(world, "out", 120).status == 201
    with world.app.app_context():
        db.session.execute(text("UPDATE funds SET balance = balance + 10000"))  # fen: ¥100
        db.session.commit()
        db.session.remove()
    checked, problems = verify(world)
    assert "1 funds" in checked
    assert any(
        p.startswith("fund ") and "balance is 480.00, movements say 380.00" in p for p in problems
    )
    assert any("last balance_after is 380.00" in p for p in problems)


def test_ledger_verify_names_a_movement_edited_behind_the_services_back(world):
    from sqlalchemy import text

    from points.extensions import db

    assert move(world, "in", 500).status == 201
    assert move(world, "out", 120).status == 201
    with world.app.app_context():
        # fen: ¥120 out becomes ¥20
        db.session.execute(text("UPDATE fund_movements SET amount = 2000 WHERE kind = 'out'"))
        db.session.commit()
        db.session.remove()
    assert any("balance is 380.00, movements say 480.00" in p for p in verify(world)[1])


def test_two_admins_spending_at_once_never_take_the_fund_below_zero(world):
    from conftest import at_once, own_clients

    assert move(world, "in", 100).status == 201
    clients = own_clients(world, "admin", 2)
    body = {"kind": "out", "amount": 60, "source": "采购"}
    answers = at_once([lambda c=c: c.post("/funds/v1/movements", json=body) for c in clients])
    assert sorted(a.status for a in answers) == [201, 409]
    listed = fund(world)
    assert listed["balance"] == 40 and listed["total"] == 2
    assert verify(world)[1] == []
