"""The love supermarket (爱心超市): shops, goods, stock and redemptions, through the API."""

import pytest
from sqlalchemy import func, select, text

from points.extensions import db
from shop_helpers import add_user, give_points, open_shop, redeem, verify

GOODS = [("soap", "肥皂", 5, 10), ("rice", "大米", 50, 3), ("oil", "食用油", 80, 2)]


@pytest.fixture
def shop(world):
    open_shop(world, goods=GOODS)
    return world


def stock_of(world, goods="soap", shop="lh-shop"):
    items = world.as_("admin").get(f"/shops/{shop}/goods").json["items"]
    return next(g["stock"] for g in items if g["code"] == goods)


def movements(world, goods="soap"):
    from points.shop.models import Goods, StockMovement

    with world.app.app_context():
        rows = db.session.execute(
            select(StockMovement.kind, StockMovement.quantity, StockMovement.stock_after)
            .join(Goods, Goods.id == StockMovement.goods_id)
            .where(Goods.code == goods)
            .order_by(StockMovement.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


# --- shops and goods -----------------------------------------------------------------------


def test_admin_opens_a_shop_taking_a_scheme(world):
    answer = world.as_("admin").post(
        "/shops", json={"code": "lh-shop", "name": "爱心超市", "unit": "v1", "schemes": ["longhua"]}
    )
    assert (answer.status, answer.json) == (
        201,
        {"code": "lh-shop", "name": "爱心超市", "unit": "v1", "schemes": ["longhua"]},
    )
    assert world.as_("clerk").get("/shops/lh-shop").json == answer.json


def test_only_an_admin_over_the_unit_opens_a_shop(world):
    body = {"code": "lh-shop", "name": "爱心超市", "unit": "v1", "schemes": ["longhua"]}
    assert world.as_("clerk").post("/shops", json=body).status == 403
    assert world.as_("zadmin").post("/shops", json=body).status == 403


def test_a_shop_code_is_used_once(shop):
    answer = shop.as_("admin").post(
        "/shops", json={"code": "lh-shop", "name": "又一个", "unit": "v1", "schemes": ["longhua"]}
    )
    assert (answer.status, answer.code) == (409, "conflict")


def test_a_shop_with_an_unknown_scheme_is_refused(world):
    answer = world.as_("admin").post(
        "/shops", json={"code": "x", "name": "x", "unit": "v1", "schemes": ["nope"]}
    )
    assert (answer.status, answer.code, list(answer.json["error"]["details"])) == (
        422,
        "validation_error",
        ["schemes"],
    )


def test_goods_listing_shows_price_stock_and_active(shop):
    answer = shop.as_("clerk").get("/shops/lh-shop/goods")
    assert answer.status == 200
    assert set(answer.json) == {"items", "total", "page", "per_page"}
    assert answer.json["total"] == 3
    soap = next(g for g in answer.json["items"] if g["code"] == "soap")
    assert {k: soap[k] for k in ("name", "price", "stock", "active")} == {
        "name": "肥皂",
        "price": 5,
        "stock": 10,
        "active": True,
    }
    assert '"price": 5' in answer.text.replace('"price":5', '"price": 5')  # a JSON number


def test_goods_price_must_be_positive_and_stock_not_negative(shop):
    for body in (
        {"code": "a", "name": "a", "price": 0, "stock": 1},
        {"code": "a", "name": "a", "price": 5, "stock": -1},
        {"code": "a", "name": "a", "price": 1.25, "stock": 1},
    ):
        assert shop.as_("admin").post("/shops/lh-shop/goods", json=body).status == 422


def test_a_clerk_cannot_put_goods_on_the_shelf(shop):
    answer = shop.as_("clerk").post(
        "/shops/lh-shop/goods", json={"code": "a", "name": "a", "price": 1, "stock": 1}
    )
    assert answer.status == 403


def test_admin_reprices_and_takes_goods_off_the_shelf(shop):
    answer = shop.as_("admin").patch(
        "/shops/lh-shop/goods/soap", json={"price": 6.5, "name": "香皂"}
    )
    assert (answer.status, answer.json["price"], answer.json["name"]) == (200, 6.5, "香皂")
    answer = shop.as_("admin").patch("/shops/lh-shop/goods/soap", json={"active": False})
    assert (answer.status, answer.json["active"]) == (200, False)
    assert (
        shop.as_("admin").patch("/shops/lh-shop/goods/nothing", json={"active": False}).status
        == 404
    )


def test_restock_adds_to_the_stock_and_writes_a_movement(shop):
    answer = shop.as_("admin").post(
        "/shops/lh-shop/goods/soap/restock", json={"quantity": 5, "note": "镇里送来"}
    )
    assert (answer.status, answer.json["stock"]) == (200, 15)
    assert movements(shop) == [("initial", 10, 10), ("restock", 5, 15)]


def test_restock_needs_a_positive_quantity(shop):
    for quantity in (0, -3, 1.5):
        assert (
            shop.as_("admin")
            .post("/shops/lh-shop/goods/soap/restock", json={"quantity": quantity})
            .status
            == 422
        )


# --- redeeming -----------------------------------------------------------------------------


def test_clerk_redeems_goods_for_points(shop):
    give_points(shop, "H1", 100)
    answer = redeem(shop, [("soap", 2), ("rice", 1)])
    assert answer.status == 201, answer
    body = answer.json
    assert {
        k: body[k] for k in ("shop", "scheme", "holder", "total", "balance_after", "status")
    } == {
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": "H1",
        "total": 60,
        "balance_after": 40,
        "status": "completed",
    }
    assert [
        {k: line[k] for k in ("goods", "quantity", "price", "points")} for line in body["lines"]
    ] == [
        {"goods": "soap", "quantity": 2, "price": 5, "points": 10},
        {"goods": "rice", "quantity": 1, "price": 50, "points": 50},
    ]
    assert isinstance(body["id"], int) and ("+" in body["at"] or body["at"].endswith("Z"))
    assert shop.balance("H1")["balance"] == 40
    assert shop.balance("H1")["redeemed"] == 60
    assert (stock_of(shop, "soap"), stock_of(shop, "rice")) == (8, 2)


def test_clerk_cannot_redeem_more_than_balance(shop):
    give_points(shop, "H1", 30)
    answer = redeem(shop, [("rice", 1)])
    assert (answer.status, answer.code, answer.json["error"]["details"]) == (
        409,
        "insufficient_balance",
        {"balance": 30, "total": 50},
    )
    assert shop.balance("H1")["balance"] == 30
    assert stock_of(shop, "rice") == 3


def test_a_holder_below_the_threshold_cannot_redeem(shop):
    give_points(shop, "H1", 7)  # longhua's redeem_threshold is 10
    answer = redeem(shop, [("soap", 1)])
    assert (answer.status, answer.code) == (409, "below_threshold")
    assert answer.json["error"]["details"]["balance"] == 7


def test_goods_beyond_stock_are_refused_and_nothing_is_charged(shop):
    give_points(shop, "H1", 300)
    answer = redeem(shop, [("soap", 1), ("oil", 2), ("rice", 1)])
    assert answer.status == 201
    answer = redeem(shop, [("soap", 1), ("oil", 1)])
    assert (answer.status, answer.code, answer.json["error"]["details"]) == (
        409,
        "out_of_stock",
        {"goods": "oil", "stock": 0},
    )
    assert shop.balance("H1")["balance"] == 300 - 215
    assert stock_of(shop, "soap") == 9


@pytest.mark.parametrize(
    "change, field",
    [
        ({"shop": "nowhere"}, "shop"),
        ({"holder": "NOBODY"}, "holder"),
        ({"scheme": "nope"}, "scheme"),
        ({"scheme": "shita"}, "scheme"),  # a scheme the shop does not take
        ({"holder": "M1"}, "holder"),  # a party member in a household scheme
        ({"lines": []}, "lines"),
        ({"lines": [{"goods": "caviar", "quantity": 1}]}, "lines"),
        ({"lines": [{"goods": "soap", "quantity": 0}]}, "lines"),
        ({"lines": [{"goods": "soap", "quantity": -1}]}, "lines"),
        ({"lines": [{"goods": "soap", "quantity": 1.5}]}, "lines"),
        ({"lines": [{"goods": "soap", "quantity": "2"}]}, "lines"),
        ({"lines": [{"goods": "cup", "quantity": 1}]}, "lines"),  # goods of another shop
    ],
)
def test_a_malformed_redemption_is_refused_with_the_field_named(shop, change, field):
    open_shop(shop, code="st-shop", unit="shita", schemes=["shita"], goods=[("cup", "水杯", 10, 5)])
    give_points(shop, "H1", 50)
    body = {
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": "H1",
        "lines": [{"goods": "soap", "quantity": 1}],
        **change,
    }
    answer = shop.as_("clerk").post("/redemptions", json=body, headers={"Idempotency-Key": "k1"})
    assert (answer.status, answer.code) == (422, "validation_error"), answer
    assert field in answer.json["error"]["details"]
    assert shop.balance("H1")["balance"] == 50


def test_inactive_goods_cannot_be_redeemed(shop):
    give_points(shop, "H1", 50)
    shop.as_("admin").patch("/shops/lh-shop/goods/soap", json={"active": False})
    answer = redeem(shop, [("soap", 1)])
    assert (answer.status, answer.code) == (422, "validation_error")
    assert answer.json["error"]["details"] == {
        "lines": {"0": {"goods": ["goods no longer offered"]}}
    }


def test_a_clerk_of_another_village_is_forbidden(shop):
    add_user(shop, "clerk2", "clerk", "v2")
    give_points(shop, "H1", 50)
    answer = redeem(shop, [("soap", 1)], by="clerk2")
    assert (answer.status, answer.code) == (403, "forbidden")
    assert shop.balance("H1")["balance"] == 50


def test_a_clerk_cannot_redeem_for_a_household_outside_their_units(shop):
    answer = redeem(shop, [("soap", 1)], holder="H9")  # H9 lives in another village
    assert (answer.status, answer.code) == (403, "forbidden")


def test_a_recorder_cannot_redeem(shop):
    give_points(shop, "H1", 50)
    assert redeem(shop, [("soap", 1)], by="rec").status == 403


def test_refusals_come_in_the_contracts_order(shop):
    add_user(shop, "clerk2", "clerk", "v2")
    give_points(shop, "H1", 7)
    # 422 before 403: a stranger's malformed request hears about the request first
    assert redeem(shop, [("caviar", 1)], by="clerk2").status == 422
    # 403 before any 409
    assert redeem(shop, [("oil", 5)], by="clerk2").status == 403
    # below_threshold before insufficient_balance and out_of_stock
    assert redeem(shop, [("oil", 5)]).code == "below_threshold"
    give_points(shop, "H1", 13)  # 20 now
    # insufficient_balance before out_of_stock
    answer = redeem(shop, [("oil", 5)])
    assert (answer.code, answer.json["error"]["details"]) == (
        "insufficient_balance",
        {"balance": 20, "total": 400},
    )
    give_points(shop, "H1", 480)
    assert redeem(shop, [("oil", 5)]).code == "out_of_stock"


# --- idempotency ---------------------------------------------------------------------------


def test_a_retried_redemption_is_answered_again_and_charged_once(shop):
    give_points(shop, "H1", 100)
    first = redeem(shop, [("rice", 1)], key="counter-1-0001")
    again = redeem(shop, [("rice", 1)], key="counter-1-0001")
    assert first.status == again.status == 201
    assert first.json == again.json
    assert shop.balance("H1")["balance"] == 50
    assert stock_of(shop, "rice") == 2


def test_a_retried_refusal_is_answered_the_same(shop):
    give_points(shop, "H1", 30)
    first = redeem(shop, [("rice", 1)], key="k-refused")
    give_points(shop, "H1", 30)
    again = redeem(shop, [("rice", 1)], key="k-refused")
    assert (first.status, first.code) == (again.status, again.code) == (409, "insufficient_balance")
    assert shop.balance("H1")["balance"] == 60


def test_the_same_key_with_another_body_is_refused(shop):
    give_points(shop, "H1", 100)
    assert redeem(shop, [("rice", 1)], key="k").status == 201
    answer = redeem(shop, [("soap", 1)], key="k")
    assert (answer.status, answer.code) == (422, "idempotency_key_reused")
    assert shop.balance("H1")["balance"] == 50


def test_the_same_key_is_replayed_even_when_goods_went_off_the_shelf(shop):
    give_points(shop, "H1", 100)
    first = redeem(shop, [("rice", 1)], key="k")
    shop.as_("admin").patch("/shops/lh-shop/goods/rice", json={"active": False})
    again = redeem(shop, [("rice", 1)], key="k")
    assert (again.status, again.json) == (201, first.json)


def test_keys_belong_to_the_calling_clerk(shop):
    add_user(shop, "clerk3", "clerk", "v1")
    give_points(shop, "H1", 100)
    assert redeem(shop, [("soap", 1)], key="k").status == 201
    assert redeem(shop, [("soap", 1)], key="k", by="clerk3").status == 201
    assert shop.balance("H1")["balance"] == 90


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "x" * 300}])
def test_a_redemption_needs_an_idempotency_key(shop, headers):
    give_points(shop, "H1", 50)
    body = {
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": "H1",
        "lines": [{"goods": "soap", "quantity": 1}],
    }
    answer = shop.as_("clerk").post("/redemptions", json=body, headers=headers)
    assert (answer.status, answer.code) == (422, "validation_error")
    assert shop.balance("H1")["balance"] == 50


# --- voiding -------------------------------------------------------------------------------


def test_void_gives_points_and_stock_back_once(shop):
    give_points(shop, "H1", 100)
    redemption = redeem(shop, [("soap", 2), ("rice", 1)]).json
    answer = shop.as_("clerk").post(
        f"/redemptions/{redemption['id']}/void", json={"reason": "点错了"}
    )
    assert (answer.status, answer.json["status"], answer.json["void_reason"]) == (
        200,
        "voided",
        "点错了",
    )
    assert shop.balance("H1")["balance"] == 100
    assert shop.balance("H1")["redeemed"] == 0
    assert (stock_of(shop, "soap"), stock_of(shop, "rice")) == (10, 3)
    assert movements(shop, "soap") == [("initial", 10, 10), ("sale", -2, 8), ("void", 2, 10)]
    postings = shop.as_("clerk").get("/accounts/longhua/H1/postings").json["items"]
    assert [(p["kind"], p["points"]) for p in postings[:2]] == [("void", 60), ("redemption", -60)]
    again = shop.as_("clerk").post(
        f"/redemptions/{redemption['id']}/void", json={"reason": "再点一次"}
    )
    assert (again.status, again.code) == (409, "invalid_state")
    assert shop.balance("H1")["balance"] == 100


def test_void_needs_a_reason_and_a_clerk_of_the_shop(shop):
    add_user(shop, "clerk2", "clerk", "v2")
    give_points(shop, "H1", 100)
    redemption = redeem(shop, [("soap", 1)]).json
    assert (
        shop.as_("clerk").post(f"/redemptions/{redemption['id']}/void", json={"reason": ""}).status
        == 422
    )
    assert (
        shop.as_("clerk2")
        .post(f"/redemptions/{redemption['id']}/void", json={"reason": "x"})
        .status
        == 403
    )
    assert shop.as_("clerk").post("/redemptions/99999/void", json={"reason": "x"}).status == 404


# --- reading -------------------------------------------------------------------------------


def test_redemptions_are_listed_newest_first_within_the_callers_units(shop):
    from conftest import local_today

    add_user(shop, "clerk2", "clerk", "v2")
    give_points(shop, ["H1", "H2"], 100)
    first = redeem(shop, [("soap", 1)], holder="H1").json
    second = redeem(shop, [("soap", 2)], holder="H2").json
    answer = shop.as_("clerk").get("/redemptions")
    assert set(answer.json) == {"items", "total", "page", "per_page"}
    assert [r["id"] for r in answer.json["items"]] == [second["id"], first["id"]]
    assert [r["id"] for r in shop.as_("clerk").get("/redemptions?holder=H1").json["items"]] == [
        first["id"]
    ]
    assert shop.as_("clerk").get("/redemptions?shop=lh-shop").json["total"] == 2
    assert (
        shop.as_("clerk").get(f"/redemptions?date={local_today().isoformat()}").json["total"] == 2
    )
    assert shop.as_("clerk").get("/redemptions?date=2001-01-01").json["total"] == 0
    assert shop.as_("clerk2").get("/redemptions").json["total"] == 0


def test_a_shop_in_another_county_is_not_shown(shop):
    open_shop(shop, code="st-shop", unit="shita", schemes=["shita"])
    assert shop.as_("clerk").get("/shops/st-shop").status == 403
    assert shop.as_("clerk").get("/shops/st-shop/goods").status == 403


def test_a_party_member_redeems_at_the_community_shop(world):
    add_user(world, "sclerk", "clerk", "shita")
    open_shop(
        world, code="st-shop", unit="shita", schemes=["shita"], goods=[("cup", "水杯", 15, 5)]
    )
    give_points(world, "M1", 40, scheme="shita")
    answer = redeem(world, [("cup", 2)], holder="M1", by="sclerk", shop="st-shop", scheme="shita")
    assert (answer.status, answer.json["balance_after"]) == (201, 10)


# --- the ledger agrees ---------------------------------------------------------------------


def test_ledger_verify_is_clean_after_a_day_at_the_counter(shop):
    give_points(shop, ["H1", "H2", "H3"], 120)
    ids = [
        redeem(shop, [("soap", 1), ("rice", 1)], holder=h).json["id"] for h in ("H1", "H2", "H3")
    ]
    redeem(shop, [("rice", 1)], holder="H1")  # out of stock
    shop.as_("clerk").post(f"/redemptions/{ids[1]}/void", json={"reason": "退货"})
    shop.as_("admin").post("/shops/lh-shop/goods/rice/restock", json={"quantity": 4})
    checked, problems = verify(shop)
    assert problems == []
    assert "3 goods" in checked


def test_stock_movements_explain_the_stock(shop):
    from points.shop.models import Goods, StockMovement

    give_points(shop, ["H1", "H2"], 120)
    redeem(shop, [("soap", 3)], holder="H1")
    redeem(shop, [("soap", 2), ("rice", 1)], holder="H2")
    shop.as_("admin").post("/shops/lh-shop/goods/soap/restock", json={"quantity": 7})
    with shop.app.app_context():
        for goods in db.session.execute(select(Goods)).scalars():
            total = db.session.execute(
                select(func.sum(StockMovement.quantity)).where(StockMovement.goods_id == goods.id)
            ).scalar_one()
            assert total == goods.stock
        db.session.remove()
    assert stock_of(shop, "soap") == 12


def test_ledger_verify_names_goods_whose_stock_disagrees(shop):
    with shop.app.app_context():
        db.session.execute(text("UPDATE goods SET stock = stock + 1 WHERE code = 'soap'"))
        db.session.commit()
        db.session.remove()
    _, problems = verify(shop)
    assert len(problems) >= 1 and all("soap" in p for p in problems)
