"""The love supermarket's guards at their exact edges: balance, threshold, stock, idempotency keys
and who may stand at the counter. Each test fails when one comparison or one check is broken."""

import pytest

from conftest import edited_rules
from shop_helpers import give_points, open_shop, redeem


@pytest.fixture
def shop(world):
    # price steps of 0.1 to land a balance exactly on, or a tenth under, an edge
    open_shop(
        world,
        goods=[
            ("soap", "肥皂", 5, 10),
            ("tenth", "一角货", 10.1, 10),
            ("twenty", "整二十", 20, 10),
            ("twentyplus", "二十零一角", 20.1, 10),
            ("three", "限量货", 1, 3),
        ],
    )
    return world


def test_a_redemption_whose_total_equals_the_balance_empties_it(shop):
    give_points(shop, "H1", 20)
    answer = redeem(shop, [("twenty", 1)])
    assert (answer.status, answer.json["balance_after"]) == (201, 0)


def test_a_redemption_one_tenth_over_the_balance_is_refused(shop):
    give_points(shop, "H1", 20)
    answer = redeem(shop, [("twentyplus", 1)])
    assert (answer.status, answer.code, answer.json["error"]["details"]) == (
        409,
        "insufficient_balance",
        {"balance": 20, "total": 20.1},
    )


def test_a_balance_exactly_at_the_threshold_redeems(shop):
    give_points(shop, "H1", 10)  # longhua's redeem_threshold is 10
    assert redeem(shop, [("soap", 1)]).status == 201


def test_a_balance_one_tenth_below_the_threshold_is_refused(shop):
    give_points(shop, "H1", 20)
    assert redeem(shop, [("tenth", 1)]).status == 201  # 9.9 left
    answer = redeem(shop, [("soap", 1)])
    assert (answer.status, answer.code, answer.json["error"]["details"]["balance"]) == (
        409,
        "below_threshold",
        9.9,
    )


@pytest.mark.parametrize("quantity, status, code", [(3, 201, None), (4, 409, "out_of_stock")])
def test_a_line_of_exactly_the_stock_sells_and_one_more_is_out_of_stock(
    shop, quantity, status, code
):
    give_points(shop, "H1", 20)
    answer = redeem(shop, [("three", quantity)])
    assert (answer.status, answer.code) == (status, code)


class TestAThresholdOfThree:
    """The threshold is the scheme's number, not the shipped 10."""

    @pytest.fixture
    def rules_dir(self, tmp_path):
        return edited_rules(tmp_path, "longhua", "redeem_threshold: 10", "redeem_threshold: 3")

    def test_a_balance_of_three_redeems(self, shop):
        give_points(shop, "H1", 5)
        assert redeem(shop, [("soap", 1)]).status == 201  # 0 left
        give_points(shop, "H2", 3)
        assert redeem(shop, [("three", 1)], holder="H2").status == 201

    def test_a_balance_of_two_is_below_it(self, shop):
        give_points(shop, "H1", 2)
        answer = redeem(shop, [("three", 1)])
        assert (answer.status, answer.code, answer.json["error"]["details"]["threshold"]) == (
            409,
            "below_threshold",
            3,
        )


# --- who may stand at the counter ----------------------------------------------------------


@pytest.mark.parametrize("who", ["rec", "rev1", "admin"])
def test_only_a_clerk_redeems_not_a_recorder_reviewer_or_admin_of_the_unit(shop, who):
    give_points(shop, "H1", 50)
    answer = redeem(shop, [("soap", 1)], by=who)
    assert (answer.status, answer.code) == (403, "forbidden")
    assert shop.balance("H1")["balance"] == 50


@pytest.mark.parametrize("who", ["rec", "rev1", "admin"])
def test_only_a_clerk_voids_not_a_recorder_reviewer_or_admin_of_the_unit(shop, who):
    give_points(shop, "H1", 50)
    redemption = redeem(shop, [("soap", 1)]).json
    answer = shop.as_(who).post(f"/redemptions/{redemption['id']}/void", json={"reason": "撤回"})
    assert (answer.status, answer.code) == (403, "forbidden")
    assert shop.balance("H1")["balance"] == 45


# --- idempotency keys ----------------------------------------------------------------------


def test_a_key_of_255_characters_is_accepted_and_256_refused(shop):
    give_points(shop, "H1", 50)
    assert redeem(shop, [("soap", 1)], key="k" * 255).status == 201
    answer = redeem(shop, [("soap", 1)], key="k" * 256)
    assert (answer.status, answer.code) == (422, "validation_error")
    assert shop.balance("H1")["balance"] == 45


def test_the_same_key_with_another_body_is_idempotency_key_reused_and_charges_nothing(shop):
    give_points(shop, "H1", 50)
    assert redeem(shop, [("soap", 1)], key="sale-1").status == 201
    answer = redeem(shop, [("soap", 2)], key="sale-1")
    assert (answer.status, answer.code) == (422, "idempotency_key_reused")
    assert shop.balance("H1")["balance"] == 45


def test_a_replay_answers_the_first_status_and_body_even_after_the_balance_moved(shop):
    give_points(shop, "H1", 50)
    first = redeem(shop, [("soap", 1)], key="sale-1")
    assert redeem(shop, [("soap", 2)]).status == 201  # another sale in between
    again = redeem(shop, [("soap", 1)], key="sale-1")
    assert (again.status, again.json) == (201, first.json)
    assert shop.balance("H1")["balance"] == 35
