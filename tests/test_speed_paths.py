"""The fast paths of the counter (bench/redeem.py): one statement for the caller and their grants,
one for a balance read, and a short write section.
Each keeps the answers and the checks of the slow path it replaced."""

import pytest
from sqlalchemy import select

from points.extensions import db
from shop_helpers import add_user, give_points, open_shop, redeem, verify

GOODS = [("soap", "肥皂", 5, 10), ("rice", "大米", 50, 3)]


@pytest.fixture
def shop(world):
    open_shop(world, goods=GOODS)
    return world


# --- the caller, from one statement and never from a cache -----------------------------------


def test_a_removed_grant_counts_from_the_next_request(shop):
    give_points(shop, "H1", 30)
    assert redeem(shop, [("soap", 1)]).status == 201
    removed = shop.as_("admin").delete("/users/clerk/grants", json={"role": "clerk", "unit": "v1"})
    assert removed.status == 200, removed
    answer = redeem(shop, [("soap", 1)])  # the same token as before
    assert answer.status == 403, answer
    assert shop.balance("H1")["balance"] == 25


def test_an_added_grant_counts_from_the_next_request(shop):
    give_points(shop, "H1", 30)
    assert shop.as_("rec").get("/accounts/longhua/H1").status == 200
    assert redeem(shop, [("soap", 1)], by="rec").status == 403
    assert shop.as_("admin").post(
        "/users/rec/grants", json={"role": "clerk", "unit": "v1"}
    ).status in (200, 201)
    assert redeem(shop, [("soap", 1)], by="rec").status == 201


def test_a_disabled_clerks_token_stops_at_once(shop):
    give_points(shop, "H1", 30)
    assert redeem(shop, [("soap", 1)]).status == 201
    assert shop.as_("admin").post("/users/clerk/disable").status == 200
    answer = redeem(shop, [("soap", 1)])
    assert (answer.status, answer.code) == (401, "unauthorized")
    assert shop.as_("clerk").get("/accounts/longhua/H1").status == 401


def test_a_user_without_grants_is_signed_in_with_none(world):
    from points.users.service import principal_for_token, principal_for_user

    world.as_("admin").delete("/users/rec/grants", json={"role": "recorder", "unit": "v1"})
    token = world.token("rec")
    with world.app.test_request_context():
        caller = principal_for_token(token)
        assert (caller.username, caller.grants) == ("rec", ())
        assert principal_for_user(caller.user_id, "rec") == caller
        db.session.remove()


def test_the_principal_holds_every_grant_in_grant_order(world):
    from points.users.service import principal_for_token, principal_for_user

    token = world.token("rev1")  # reviewer over v1, then recorder over v1
    with world.app.test_request_context():
        caller = principal_for_token(token)
        assert [(g.role, g.unit) for g in caller.grants] == [("reviewer", "v1"), ("recorder", "v1")]
        assert principal_for_user(caller.user_id, caller.username) == caller
        db.session.remove()


def test_an_unknown_or_expired_token_is_refused(world):
    from datetime import timedelta

    from points.database import utcnow, write
    from points.users.models import Token

    token = world.token("clerk")
    assert (
        world.anonymous.get("/accounts/longhua/H1", headers={"Authorization": "Bearer nope"}).status
        == 401
    )
    with world.app.app_context():
        with write():
            for row in db.session.execute(select(Token)).scalars():
                row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.remove()
    answer = world.anonymous.get(
        "/accounts/longhua/H1", headers={"Authorization": f"Bearer {token}"}
    )
    assert (answer.status, answer.code) == (401, "unauthorized")


# --- a balance read in one statement ------------------------------------------------------


def test_a_balance_read_gives_numbers_and_the_years_totals(shop):
    give_points(shop, "H1", 30)
    redeem(shop, [("soap", 2)])
    answer = shop.as_("clerk").get("/accounts/longhua/H1")
    assert answer.status == 200
    assert answer.json == {
        "scheme": "longhua",
        "holder": "H1",
        "balance": 20,
        "pending": 0,
        "earned": 30,
        "deducted": 0,
        "redeemed": 10,
    }
    assert '"balance": 20' in answer.text or '"balance":20' in answer.text  # a JSON number


def test_a_balance_read_of_a_holder_without_an_account_is_all_zero(world):
    answer = world.as_("admin").get("/accounts/longhua/H2")
    assert answer.json == {
        "scheme": "longhua",
        "holder": "H2",
        "balance": 0,
        "pending": 0,
        "earned": 0,
        "deducted": 0,
        "redeemed": 0,
    }


def test_a_balance_read_refuses_as_before(world):
    admin = world.as_("admin")
    assert (admin.get("/accounts/nope/H1").status, admin.get("/accounts/nope/H1").code) == (
        404,
        "not_found",
    )
    assert "scheme" in admin.get("/accounts/nope/H1").json["error"]["message"]
    assert "holder" in admin.get("/accounts/longhua/NOPE").json["error"]["message"]
    assert "scheme" in admin.get("/accounts/nope/NOPE").json["error"]["message"]
    assert world.as_("rec2").get("/accounts/longhua/H1").status == 403  # another village
    assert admin.get("/accounts/longhua/M1").status == 403  # scope is checked before the kind
    wrong_kind = world.as_("zadmin").get("/accounts/longhua/M1")
    assert (wrong_kind.status, wrong_kind.json["error"]["message"]) == (
        404,
        "account: longhua is for household holders not found",
    )


def test_the_account_view_of_the_pages_agrees_with_the_api(shop):
    from points.ledger.service import account_view, read_account
    from points.org.service import holder_by_code
    from points.schemes.service import scheme_by_code

    give_points(shop, "H1", 30)
    redeem(shop, [("soap", 1)])
    with shop.app.app_context():
        view = account_view(
            scheme_by_code("longhua"), holder_by_code("H1"), 2000 + 0
        )  # a year without totals
        assert view["balance"] == 25 and (view["earned"], view["redeemed"]) == (0, 0)
        from points.database import today

        year = today().year
        assert (
            account_view(scheme_by_code("longhua"), holder_by_code("H1"), year)
            == read_account("longhua", "H1", year).view
        )
        db.session.remove()


# --- the redemption's write section -------------------------------------------------------


def test_the_redemption_body_is_what_the_schema_would_dump(shop):
    from points.shop.api import RedemptionSchema, redemption_body

    give_points(shop, "H1", 100)
    answer = redeem(shop, [("rice", 1), ("soap", 2)])
    assert answer.status == 201, answer
    again = shop.as_("clerk").get(f"/redemptions/{answer.json['id']}")
    assert again.json == answer.json
    with shop.app.app_context():
        from points.database import utcnow

        view = {
            "id": 1,
            "shop": "s",
            "scheme": "c",
            "holder": "h",
            "holder_name": "n",
            "lines": [
                {
                    "goods": "g",
                    "name": "n",
                    "quantity": 2,
                    "price": shop_points("5.0"),
                    "points": shop_points("10.0"),
                }
            ],
            "total": shop_points("10.0"),
            "balance_after": shop_points("0.5"),
            "status": "completed",
            "at": utcnow(),
            "clerk": "clerk",
        }
        assert redemption_body(view) == RedemptionSchema().dump(view)


def shop_points(text):
    from decimal import Decimal

    return Decimal(text)


def test_year_totals_add_up_over_several_redemptions_and_verify_agrees(shop):
    give_points(shop, ["H1", "H2"], 100)
    for holder, lines in [
        ("H1", [("soap", 1)]),
        ("H1", [("soap", 2), ("rice", 1)]),
        ("H2", [("soap", 1)]),
    ]:
        assert redeem(shop, lines, holder=holder).status == 201
    assert shop.balance("H1")["redeemed"] == 65 and shop.balance("H1")["balance"] == 35
    assert shop.balance("H2")["redeemed"] == 5
    assert verify(shop)[1] == []


def test_a_refused_redemption_leaves_nothing_behind(shop):
    give_points(shop, "H1", 60)
    before = shop.balance("H1")
    answer = redeem(shop, [("soap", 1), ("rice", 2)])  # rice: only 3, but 2 × 50 > 60 points
    assert (answer.status, answer.code) == (409, "insufficient_balance")
    assert shop.balance("H1") == before
    assert verify(shop)[1] == []


def test_a_clerk_of_a_grid_below_the_shop_is_forbidden_at_the_village_shop(shop):
    add_user(shop, "clerk2", "clerk", "g1")
    give_points(shop, "H1", 30)
    answer = redeem(shop, [("soap", 1)], by="clerk2")
    assert (answer.status, answer.code) == (403, "forbidden")
    assert shop.balance("H1")["balance"] == 30
