"""The counter (/counter): a clerk finds a household, redeems goods once however often the
confirm is tapped, prints a 兑换小票, and voids from the day's list; refusals are friendly
and charge nothing."""

import re

from shop_helpers import give_points, open_shop, verify
from test_pages import TOKEN, form_token, html, staff  # noqa: F401  (fixture)

KEY = re.compile(r'name="key" value="([^"]+)"')
GOODS = (("soap", "肥皂", 5, 10), ("towel", "毛巾", 8, 3))


def counter_form(client, holder="H1"):
    page = html(client.get(f"/counter?holder={holder}"))
    return {
        "csrf_token": TOKEN.search(page).group(1),
        "key": KEY.search(page).group(1),
        "shop": "lh-shop",
        "scheme": "longhua",
        "holder": holder,
    }


def goods(world, code):
    items = world.as_("admin").get("/shops/lh-shop/goods").json["items"]
    return next(g for g in items if g["code"] == code)


def test_the_counter_finds_a_household_by_name_and_shows_balance_and_goods(world, staff):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 20)
    client = staff("clerk")
    assert "/counter" in html(client.get("/"))
    page = html(client.get("/counter?q=张三"))
    assert "H1 张三明" in page and "可用积分" in page and "20 分" in page
    assert 'name="qty_soap"' in page and "所需积分 5" in page
    several = html(client.get("/counter?q=H"))
    assert "请选择一户" in several and "/counter?shop=lh-shop&amp;holder=H2" in several


def test_a_clerk_redeems_once_however_often_confirm_is_sent_and_gets_a_receipt(world, staff):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 30)
    client = staff("clerk")
    data = {**counter_form(client), "qty_soap": "2", "qty_towel": "1"}
    first = client.post("/counter", data=data)
    assert first.status_code == 302, html(first)
    again = client.post("/counter", data=data)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert world.balance("H1")["balance"] == 12
    assert goods(world, "soap")["stock"] == 8 and goods(world, "towel")["stock"] == 2
    receipt = client.get(first.headers["Location"])
    text = html(receipt)
    assert receipt.status_code == 200 and "兑换小票" in text and "肥皂" in text and "18 分" in text
    assert "paper-58" in text
    assert "paper-a4" in html(client.get(first.headers["Location"] + "?paper=a4"))
    assert verify(world)[1] == []


def test_not_enough_points_or_stock_is_a_friendly_message_and_nothing_is_charged(world, staff):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 40)
    client = staff("clerk")
    answer = client.post("/counter", data={**counter_form(client), "qty_soap": "9"})
    assert answer.status_code == 409
    assert "余额不足：当前 40 分，本次需 45 分" in html(answer)
    assert 'value="9"' in html(answer)  # the clerk's picks are kept
    stock = client.post("/counter", data={**counter_form(client), "qty_towel": "4"})
    assert stock.status_code == 409 and "库存不足：毛巾 只剩 3 件" in html(stock)
    assert world.balance("H1")["balance"] == 40 and goods(world, "soap")["stock"] == 10
    english = client.post("/counter?lang=en", data={**counter_form(client), "qty_soap": "9"})
    assert english.status_code == 409 and "Not enough points: 40 now, 45 needed." in html(english)
    assert verify(world)[1] == []


def test_below_the_threshold_and_no_goods_picked_are_friendly(world, staff):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 5)
    client = staff("clerk")
    below = client.post("/counter", data={**counter_form(client), "qty_soap": "1"})
    assert below.status_code == 409 and "未达到兑换门槛" in html(below)
    empty = client.post("/counter", data={**counter_form(client), "qty_soap": "0"})
    assert empty.status_code == 422 and "请先点选要兑换的商品" in html(empty)
    assert world.balance("H1")["balance"] == 5


def test_voiding_needs_a_reason_and_gives_points_and_stock_back(world, staff):
    open_shop(world, goods=GOODS)
    give_points(world, "H1", 20)
    client = staff("clerk")
    done = client.post("/counter", data={**counter_form(client), "qty_towel": "2"})
    redemption = int(done.headers["Location"].rsplit("/", 1)[1])
    token = form_token(client, "/counter")
    assert f'id="redemption-{redemption}"' in html(client.get("/counter"))
    no_reason = client.post(
        "/counter/void",
        data={"csrf_token": token, "shop": "lh-shop", "redemption": redemption, "reason": " "},
    )
    assert no_reason.status_code == 422 and "请填写作废原因" in html(no_reason)
    assert world.balance("H1")["balance"] == 4
    voided = client.post(
        "/counter/void",
        data={"csrf_token": token, "shop": "lh-shop", "redemption": redemption, "reason": "拿错了"},
    )
    assert voided.status_code == 302
    assert "已作废" in html(client.get(voided.headers["Location"]))
    assert world.balance("H1")["balance"] == 20 and goods(world, "towel")["stock"] == 3
    twice = client.post(
        "/counter/void",
        data={"csrf_token": token, "shop": "lh-shop", "redemption": redemption, "reason": "再来"},
    )
    assert twice.status_code == 409 and "已经作废" in html(twice)


def test_the_counter_is_for_clerks_and_its_forms_need_the_csrf_token(world, staff, client):
    open_shop(world, goods=GOODS)
    assert client.get("/counter").status_code == 302  # not signed in
    assert staff("rec").get("/counter").status_code == 403
    clerk = staff("clerk")
    data = {k: v for k, v in counter_form(clerk).items() if k != "csrf_token"}
    answer = clerk.post("/counter", data={**data, "qty_soap": "1"})
    assert answer.status_code == 400 and "页面已过期" in html(answer)


def test_a_household_outside_the_clerks_units_is_refused_politely(world, staff):
    open_shop(world, goods=GOODS)
    answer = staff("clerk").get("/counter?holder=H9")
    assert answer.status_code == 403 and "没有权限" in html(answer)
    missing = staff("clerk").get("/counter?holder=NOPE")
    assert missing.status_code == 404 and "没有找到" in html(missing)
