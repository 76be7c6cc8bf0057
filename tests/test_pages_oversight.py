"""The oversight pages: participation with its chart, liability, the 公益金 page, donated goods
at restock, and the warning on an admin's home page when the points cannot be covered."""

from datetime import timedelta

from conftest import local_today, yesterday
from shop_helpers import give_points, open_shop
from test_pages import form_token, html, staff  # noqa: F401  (fixture)

YEAR = int(yesterday()[:4])


def test_the_participation_page_has_a_chart_and_a_row_per_village(world, staff):
    entry = world.record(holder="H1")
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=30))
    answer = staff("admin").get(f"/reports/participation?unit=town&year={YEAR}")
    assert answer.status_code == 200, html(answer)
    page = html(answer)
    assert 'id="participation-chart"' in page and "33.3%" in page  # 1 of v1's 3 households
    rows = page.split('id="participation"')[1]
    assert rows.index("汤头沟村") < rows.index("西沟村") and "1 / 4" in page
    english = staff("admin").get(f"/reports/participation?unit=town&year={YEAR}&lang=en")
    assert english.status_code == 200 and "Participation" in html(english)
    assert staff("rec").get("/reports/participation").status_code == 403


def test_the_home_page_warns_an_admin_when_the_points_cannot_be_covered(world, staff):
    open_shop(world, goods=(("soap", "肥皂", 5, 2),))
    give_points(world, "H1", 30)
    client = staff("admin")
    home = html(client.get("/"))
    assert 'id="liability-warning"' in home and "汤头沟村" in home and "缺口 20 分" in home
    assert "/reports/liability?unit=v1" in home
    assert "缺口 20 分" in html(client.get("/admin"))  # the admin pages' own home
    page = html(client.get("/reports/liability?unit=v1"))
    assert 'id="shortfall"' in page and "缺口 20 分" in page and "¥1.00" in page
    token = form_token(client, "/admin/funds?unit=v1")
    answer = client.post(
        "/admin/funds/v1",
        data={"csrf_token": token, "kind": "in", "amount": "20.00", "source": "合作社二次分配"},
    )
    assert answer.status_code == 302
    assert 'id="liability-warning"' not in html(client.get("/"))
    assert "够兑付" in html(client.get("/reports/liability?unit=v1&lang=zh"))
    assert 'id="liability-warning"' not in html(staff("rec").get("/"))  # for admins only


def test_the_fund_page_records_money_in_and_out_and_refuses_bad_amounts(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/funds?unit=v1")

    def post(**form):
        return client.post(
            "/admin/funds/v1", data={"csrf_token": token, "source": "采购：大米", **form}
        )

    assert post(kind="in", amount="1234.5").status_code == 302
    page = html(client.get("/admin/funds?unit=v1"))
    assert "¥1,234.50" in page and 'id="movements"' in page and "采购：大米" in page
    bad = post(kind="out", amount="12.345")
    assert bad.status_code == 422 and "最多两位小数" in html(bad)
    negative = post(kind="in", amount="-5")
    assert negative.status_code == 422 and "必须大于 0" in html(negative)
    beyond = post(kind="out", amount="2000")
    assert (
        beyond.status_code == 409
        and "公益金余额不足" in html(beyond)
        and "¥1,234.50" in html(beyond)
    )
    assert post(kind="out", amount="234.50").status_code == 302
    assert '<span id="balance">¥1,000.00</span>' in html(client.get("/admin/funds?unit=v1"))
    english = client.get("/admin/funds?unit=v1&lang=en")
    assert english.status_code == 200 and "Public-welfare fund" in html(english)
    assert staff("zadmin").get("/admin/funds?unit=v1").status_code == 403
    assert staff("clerk").get("/admin/funds").status_code == 403


def test_an_admin_restocks_donated_goods_naming_the_donor(world, staff):
    from points.extensions import db
    from points.shop.models import StockMovement

    open_shop(world, goods=(("soap", "肥皂", 5, 2),))
    client = staff("admin")
    token = form_token(client, "/admin/shops/lh-shop")
    assert 'name="donor"' in html(client.get("/admin/shops/lh-shop"))
    answer = client.post(
        "/admin/shops/lh-shop/goods/soap",
        data={"csrf_token": token, "action": "restock", "quantity": "10", "donor": "县妇联"},
    )
    assert answer.status_code == 302
    with world.app.app_context():
        movement = db.session.query(StockMovement).order_by(StockMovement.id.desc()).first()
        assert (movement.quantity, movement.donor) == (10, "县妇联")
        db.session.remove()
    bought = client.post(
        "/admin/shops/lh-shop/goods/soap",
        data={"csrf_token": token, "action": "restock", "quantity": "1"},
    )  # bought: no donor
    assert bought.status_code == 302
    rows = html(client.get("/admin/funds?unit=town")).split('id="donations"')[1]
    assert "县妇联" in rows and "肥皂" in rows and ">50<" in rows  # 10 × 5 points
    assert rows.count("<tr>") == 2  # the heading and the one donation


def test_the_oversight_pages_render_in_both_languages_without_inline_script(world, staff):
    from test_pages import INLINE_HANDLER, INLINE_SCRIPT, STYLE_ATTRIBUTE

    open_shop(world, goods=(("soap", "肥皂", 5, 2),))
    client = staff("admin")
    for path in (
        "/reports/participation?unit=town",
        "/reports/liability?unit=town",
        "/admin/funds?unit=v1",
        "/",
    ):
        for lang in ("zh", "en"):
            answer = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert answer.status_code == 200, (path, lang)
            text = html(answer)
            assert not INLINE_SCRIPT.search(text) and not INLINE_HANDLER.search(text), path
            assert not STYLE_ATTRIBUTE.search(text), path
