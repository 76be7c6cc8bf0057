"""参与度 and 积分兑付能力: whether households take part, and whether the points they hold are
covered by the love supermarket's goods and the 公益金 fund (api.md, Oversight)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import local_today, yesterday
from shop_helpers import give_points, open_shop, redeem, verify
from points.extensions import db

YEAR = int(yesterday()[:4])  # the year of the deeds recorded here


def participation(world, unit="town", year=YEAR, by="admin", **query):
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    answer = world.as_(by).get(f"/reports/participation?unit={unit}&year={year}{extra}")
    assert answer.status == 200, answer
    return answer.json


def by_unit(report):
    return {row["unit"]: row for row in report["items"]}


def posted(world, holder, item):
    entry = world.record(holder=holder, item=item)
    world.approve_all(entry["id"])
    return entry


def test_participation_counts_households_with_a_posted_entry_per_village(world):
    item, deduction = world.fixed_item(), world.item_of("fixed", positive=False).code
    posted(world, "H1", item)
    posted(world, "H1", item)  # a second entry: still one active household
    posted(world, "H3", deduction)
    world.record(holder="H2", item=item)  # pending: H2 is not active yet
    disputed = posted(world, "H2", item)
    objection = world.anonymous.post(
        f"/public/entries/{disputed['id']}/objections",
        json={"holder": "H3", "pin": "1234", "text": "那天他不在村里"},
    )
    assert objection.status == 201
    world.settle(local_today() + timedelta(days=30))
    report = participation(world)
    assert report["unit"] == "town" and report["year"] == YEAR and report["total"] == 2
    assert by_unit(report) == {
        "v1": {
            "unit": "v1",
            "name": "汤头沟村",
            "holders": 3,
            "active": 2,
            "share": 0.667,
            "deductions": 1,
            "deducted": -world.item_of("fixed", positive=False).points,
            "objections": 1,
        },
        "v2": {
            "unit": "v2",
            "name": "西沟村",
            "holders": 1,
            "active": 0,
            "share": 0,
            "deductions": 0,
            "deducted": 0,
            "objections": 0,
        },
    }
    assert report["summary"] == {
        "unit": "town",
        "name": "汤头沟镇",
        "holders": 4,
        "active": 2,
        "share": 0.5,
        "deductions": 1,
        "deducted": by_unit(report)["v1"]["deducted"],
        "objections": 1,
    }


def test_only_entries_of_the_year_and_still_posted_make_a_household_active(world):
    item = world.fixed_item()
    posted(world, "H1", item)
    last_year = world.record(holder="H2", item=item, occurred_on=f"{YEAR - 1}-12-31")
    world.approve_all(last_year["id"])
    revoked = posted(world, "H3", item)
    world.settle(local_today() + timedelta(days=30))
    answer = world.as_("rev3").post(f"/entries/{revoked['id']}/revoke", json={"reason": "重复记录"})
    assert answer.status == 200, answer
    assert by_unit(participation(world, unit="v1"))["v1"]["active"] == 1  # H1 only
    assert by_unit(participation(world, unit="v1", year=YEAR - 1))["v1"]["active"] == 1  # H2


def test_participation_rows_follow_the_asked_unit(world):
    posted(world, "H1", world.fixed_item())
    world.settle(local_today() + timedelta(days=30))
    assert list(by_unit(participation(world, unit="v1"))) == ["v1"]
    grid = participation(world, unit="g1")
    rows = [(r["unit"], r["holders"], r["active"], r["share"]) for r in grid["items"]]
    assert rows == [("g1", 2, 1, 0.5)]
    shita = participation(world, unit="zhao", by="zadmin")
    assert [(r["unit"], r["holders"], r["active"]) for r in shita["items"]] == [("shita", 3, 0)]
    page = participation(world, per_page=1, page=2)
    assert page["total"] == 2 and [r["unit"] for r in page["items"]] == ["v2"]


def test_participation_is_for_admins_over_the_unit(world):
    assert world.as_("zadmin").get(f"/reports/participation?unit=town&year={YEAR}").status == 403
    assert world.as_("rec").get(f"/reports/participation?unit=v1&year={YEAR}").status == 403
    unknown = world.as_("admin").get(f"/reports/participation?unit=nowhere&year={YEAR}")
    assert unknown.status == 422 and "unit" in unknown.json["error"]["details"]
    assert world.as_("admin").get("/reports/participation?unit=v1&year=1999").status == 422


# --- 积分兑付能力 -------------------------------------------------------------------------------


def liability(world, unit="v1", by="admin", **query):
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    answer = world.as_(by).get(f"/reports/liability?unit={unit}{extra}")
    assert answer.status == 200, answer
    return answer.json


def fund(world, kind, amount, unit="v1", by="admin"):
    answer = world.as_(by).post(
        f"/funds/{unit}/movements",
        json={"kind": kind, "amount": amount, "source": "合作社二次分配"},
    )
    assert answer.status == 201, answer


@pytest.fixture
def shop(world):
    open_shop(world, goods=(("soap", "肥皂", 5, 4), ("rice", "大米", 50, 1)))  # 70 points of goods
    give_points(world, ["H1", "H2"], 50)  # 100 points outstanding
    return world


def test_outstanding_points_against_a_shops_stock_and_the_funds_movements(shop):
    report = liability(shop)
    assert (report["outstanding"], report["stock_value"], report["cover"]) == (100, 70, 70)
    assert report["fund"] == {"in": 0, "out": 0, "balance": 0} and report["yuan_per_point"] == 1
    assert report["shortfall"] == 30 and report["covered"] is False
    fund(shop, "in", 40)
    fund(shop, "out", 10.5)
    report = liability(shop)
    assert report["fund"] == {"in": 40, "out": 10.5, "balance": 29.5}
    assert report["fund_points"] == 29.5 and report["cover"] == 99.5 and report["shortfall"] == 0.5
    fund(shop, "in", 0.5)
    report = liability(shop)
    assert report["cover"] == 100 and report["shortfall"] == 0 and report["covered"] is True
    # a redemption takes as much from the points outstanding as from the goods on the shelf
    assert redeem(shop, [("soap", 2)]).status == 201
    report = liability(shop)
    assert (report["outstanding"], report["stock_value"], report["covered"]) == (90, 60, True)
    assert verify(shop)[1] == []


def test_inactive_goods_and_negative_balances_do_not_count(shop):
    answer = shop.as_("admin").patch("/shops/lh-shop/goods/rice", json={"active": False})
    assert answer.status == 200
    deduction = shop.item_of("fixed", positive=False).code
    posted(shop, "H3", deduction)
    shop.settle(local_today() + timedelta(days=30))
    assert shop.balance("H3")["balance"] < 0
    report = liability(shop)
    assert (report["outstanding"], report["stock_value"]) == (100, 20)


def test_donated_goods_come_in_through_restock_with_a_donor(shop):
    from points.shop.models import StockMovement

    answer = shop.as_("admin").post(
        "/shops/lh-shop/goods/rice/restock",
        json={"quantity": 2, "donor": "县妇联", "note": "爱心捐赠"},
    )
    assert answer.status == 200 and answer.json["stock"] == 3
    assert liability(shop)["stock_value"] == 170
    with shop.app.app_context():
        last = select(StockMovement).order_by(StockMovement.id.desc()).limit(1)
        movement = db.session.execute(last).scalar_one()
        assert (movement.kind, movement.quantity, movement.donor) == ("restock", 2, "县妇联")
        db.session.remove()
    too_long = shop.as_("admin").post(
        "/shops/lh-shop/goods/rice/restock", json={"quantity": 1, "donor": "x" * 201}
    )
    assert too_long.status == 422 and "donor" in too_long.json["error"]["details"]
    assert liability(shop)["stock_value"] == 170


def test_what_a_point_is_worth_in_yuan_is_a_setting(shop):
    shop.app.config["YUAN_PER_POINT"] = "2"
    fund(shop, "in", 61)
    report = liability(shop)
    assert report["yuan_per_point"] == 2
    assert report["fund_points"] == 30.5 and report["cover"] == 100.5


def test_liability_per_village_under_a_township(shop):
    fund(shop, "in", 5, unit="v2")
    fund(shop, "in", 1000, unit="town")  # the township's own fund: its own row
    report = liability(shop, unit="town")
    rows = {u["unit"]: u for u in report["units"]}
    assert list(rows) == ["town", "v1", "v2"]
    v1, v2 = rows["v1"], rows["v2"]
    assert (v1["outstanding"], v1["stock_value"], v1["covered"]) == (100, 70, False)
    assert (v2["outstanding"], v2["fund"]["balance"], v2["covered"]) == (0, 5, True)
    assert rows["town"]["fund"]["balance"] == 1000
    assert report["outstanding"] == 100 and report["cover"] == 1075 and report["covered"] is True


def test_a_scheme_narrows_the_points_and_the_shops(shop):
    assert liability(shop, scheme="longhua")["outstanding"] == 100
    shita = liability(shop, unit="zhao", by="zadmin", scheme="shita")
    assert (shita["outstanding"], shita["stock_value"], shita["scheme"]) == (0, 0, "shita")
    other = liability(shop, unit="town", scheme="shita")
    assert other["outstanding"] == 0 and other["stock_value"] == 0  # the shop does not take shita


def test_liability_is_for_admins_over_the_unit(shop):
    assert shop.as_("zadmin").get("/reports/liability?unit=v1").status == 403
    assert shop.as_("clerk").get("/reports/liability?unit=v1").status == 403
    assert shop.as_("admin").get("/reports/liability?unit=nowhere").status == 422
    assert shop.as_("admin").get("/reports/liability?unit=v1&scheme=nothing").status == 422


def test_ledger_verify_names_participation_figures_edited_behind_the_services_back(world):
    from sqlalchemy import text

    posted(world, "H1", world.fixed_item())
    world.settle(local_today() + timedelta(days=30))
    assert by_unit(participation(world, unit="v1"))["v1"]["active"] == 1
    assert verify(world)[1] == []
    with world.app.app_context():
        db.session.execute(text("UPDATE holder_years SET entries = 0"))
        db.session.commit()
        db.session.remove()
    assert by_unit(participation(world, unit="v1"))["v1"]["active"] == 0  # read from the figure
    problems = verify(world)[1]
    assert any(
        f"posted entries {YEAR} is 0 (0 deductions, 0.0 deducted), postings say 1 "
        "(0 deductions, 0.0 deducted)" in p
        for p in problems
    ), problems
