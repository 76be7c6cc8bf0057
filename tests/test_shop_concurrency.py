"""Many counters at once: real threads, each with its own client, on the same database."""

import uuid

from conftest import at_once
from shop_helpers import add_households, give_points, open_shop, redeem, verify


def test_concurrent_redemptions_never_take_a_balance_below_zero(world):
    # 100 points, 15 a time: 6 succeed and 10 are left, still above longhua's threshold of 10,
    # so every other attempt is refused for lack of points
    open_shop(world, goods=[("towel", "毛巾", 15, 100)])
    give_points(world, "H1", 100)
    world.token("clerk")
    answers = at_once([lambda: redeem(world, [("towel", 1)], client=world.app.test_client())] * 30)
    statuses = sorted((a.status, a.code) for a in answers)
    assert statuses == [(201, None)] * 6 + [(409, "insufficient_balance")] * 24
    assert world.balance("H1")["balance"] == 10
    assert verify(world)[1] == []


def test_concurrent_buyers_never_take_stock_below_zero(world):
    households = [f"C{n:02d}" for n in range(40)]
    add_households(world, households)
    open_shop(world, goods=[("oil", "食用油", 5, 7)])
    give_points(world, households, 20)
    world.token("clerk")
    answers = at_once(
        [
            lambda code=code: redeem(
                world, [("oil", 1)], holder=code, client=world.app.test_client()
            )
            for code in households
        ]
    )
    statuses = sorted((a.status, a.code) for a in answers)
    assert statuses == [(201, None)] * 7 + [(409, "out_of_stock")] * 33
    goods = world.as_("clerk").get("/shops/lh-shop/goods").json["items"][0]
    assert goods["stock"] == 0
    assert all(
        a.json["error"]["details"] == {"goods": "oil", "stock": 0}
        for a in answers
        if a.status == 409
    )
    assert verify(world)[1] == []


def test_one_key_sent_by_ten_counters_is_charged_once(world):
    open_shop(world, goods=[("rice", "大米", 50, 20)])
    give_points(world, "H1", 200)
    world.token("clerk")
    key = uuid.uuid4().hex
    answers = at_once(
        [lambda: redeem(world, [("rice", 1)], key=key, client=world.app.test_client())] * 10
    )
    done = [a for a in answers if a.status == 201]
    assert all(
        a.status == 201 or (a.status, a.code) == (409, "idempotency_in_progress") for a in answers
    ), answers
    assert done and len({a.json["id"] for a in done}) == 1
    assert world.balance("H1")["balance"] == 150
    assert verify(world)[1] == []
