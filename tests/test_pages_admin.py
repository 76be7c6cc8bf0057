"""The admin pages: units, holders with CSV import (all or nothing, errors line by line),
users and grants, shops and goods, schemes read only, and the year-end close after a preview."""

from datetime import timedelta

import pytest

from conftest import local_today
from test_pages import TOKEN, form_token, html, staff  # noqa: F401  (fixture)

LAST_YEAR = local_today().year - 1


def holder_codes(world, unit):
    return sorted(
        h["code"]
        for h in world.as_("admin").get(f"/holders?unit={unit}&per_page=500").json["items"]
    )


@pytest.mark.parametrize(
    "path",
    [
        "/admin",
        "/admin/units",
        "/admin/holders",
        "/admin/users",
        "/admin/shops",
        "/admin/schemes",
        "/admin/close",
        "/admin/close?scheme=longhua",
    ],
)
def test_admin_pages_render_for_an_admin_and_refuse_others(world, staff, client, path):
    assert client.get(path).status_code == 302  # not signed in: to the sign-in page
    assert staff("clerk").get(path).status_code == 403
    answer = staff("admin").get(path)
    assert answer.status_code == 200, html(answer)
    assert "Admin" in html(staff("admin").get(path + ("&" if "?" in path else "?") + "lang=en"))


def test_an_admin_creates_a_unit_and_a_duplicate_code_is_friendly(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/units")
    data = {"csrf_token": token, "parent": "v1", "code": "g9", "name": "第九网格", "kind": "grid"}
    assert client.post("/admin/units", data=data).status_code == 302
    assert world.as_("admin").get("/units/g9").json["parent"] == "v1"
    again = client.post("/admin/units", data=data)
    assert again.status_code == 409 and "已经有了" in html(again)
    no_token = client.post("/admin/units", data={**data, "csrf_token": "", "code": "g10"})
    assert no_token.status_code == 400 and world.as_("admin").get("/units/g10").status == 404


def test_a_household_list_is_imported_whole(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/holders")
    text = "code,name,kind,unit,pin\nH20,刘一,household,g1,2468\nH21,陈二,户,g2\n"
    answer = client.post("/admin/holders/import", data={"csrf_token": token, "text": text})
    assert answer.status_code == 302, html(answer)
    assert "已导入 2 户" in html(client.get(answer.headers["Location"]))
    assert "H20" in holder_codes(world, "g1") and "H21" in holder_codes(world, "g2")
    assert (
        world.anonymous.post("/public/balance", json={"holder": "H20", "pin": "2468"}).status == 200
    )


def test_a_household_list_with_errors_imports_nothing_and_names_each_line(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/holders")
    text = (
        "code,name,kind,unit\nH30,好人,household,g1\nH1,重复,household,g1\nH31,,household,g1\n"
        "H32,外村,household,nowhere\nH30,又一次,household,g1\nH33,赵县,household,branch\n"
    )
    answer = client.post("/admin/holders/import", data={"csrf_token": token, "text": text})
    assert answer.status_code == 422
    page = html(answer)
    assert "没有导入任何一户" in page
    for line, reason in [
        (3, "编号已存在"),
        (4, "请填写姓名"),
        (5, "找不到这个单位"),
        (6, "编号重复（第 2 行）"),
        (7, "单位不在您管理的范围内"),
    ]:
        assert f"第 {line} 行</strong> {reason}" in page, (line, reason)
    assert "第 2 行" not in page.split("编号重复")[0]  # the good line is not named
    assert "H30" not in holder_codes(world, "g1")
    assert "H30,好人" in page  # the pasted list is kept for correcting


def test_a_household_list_may_come_as_a_gbk_file(world, staff):
    import io

    client = staff("admin")
    token = form_token(client, "/admin/holders")
    data = "编号,姓名,类型,单位\nH40,孙七,农户,g1\n".encode("gb18030")
    answer = client.post(
        "/admin/holders/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "名单.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, html(answer)
    assert "H40" in holder_codes(world, "g1")


def test_an_admin_creates_a_user_grants_and_disables(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/users")
    short = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "newrec",
            "password": "short",
            "role": "recorder",
            "unit": "g1",
        },
    )
    assert short.status_code == 422 and "至少 8 个字符" in html(short)
    made = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "newrec",
            "password": "long-enough-1",
            "display_name": "新记分员",
            "role": "recorder",
            "unit": "g1",
        },
    )
    assert made.status_code == 302
    added = client.post(
        "/admin/users/newrec",
        data={"csrf_token": token, "action": "add", "role": "clerk", "unit": "v1"},
    )
    assert added.status_code == 302
    grants = world.as_("admin").get("/users/newrec").json["grants"]
    assert {"role": "clerk", "unit": "v1"} in grants
    client.post(
        "/admin/users/newrec",
        data={"csrf_token": token, "action": "remove", "role": "clerk", "unit": "v1"},
    )
    assert world.as_("admin").get("/users/newrec").json["grants"] == [
        {"role": "recorder", "unit": "g1"}
    ]
    assert (
        client.post(
            "/admin/users/newrec", data={"csrf_token": token, "action": "disable"}
        ).status_code
        == 302
    )
    assert "已停用" in html(client.get("/admin/users"))
    other = staff("zadmin")
    refused = other.post(
        "/admin/users/rec",
        data={"csrf_token": form_token(other, "/admin/users"), "action": "disable"},
    )
    assert refused.status_code == 403 and "不在你管理的单位内" not in html(refused)


def test_an_admin_opens_a_shop_adds_goods_reprices_and_restocks(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/shops")
    opened = client.post(
        "/admin/shops",
        data={
            "csrf_token": token,
            "code": "v1-shop",
            "name": "汤头沟爱心超市",
            "unit": "v1",
            "schemes": ["longhua"],
        },
    )
    assert opened.status_code == 302 and opened.headers["Location"] == "/admin/shops/v1-shop"
    bad = client.post(
        "/admin/shops/v1-shop/goods",
        data={"csrf_token": token, "code": "cup", "name": "水杯", "price": "0", "stock": "5"},
    )
    assert bad.status_code == 422 and "所需积分" in html(bad)
    assert (
        client.post(
            "/admin/shops/v1-shop/goods",
            data={
                "csrf_token": token,
                "code": "cup",
                "name": "水杯",
                "price": "12.5",
                "stock": "5",
            },
        ).status_code
        == 302
    )
    client.post(
        "/admin/shops/v1-shop/goods/cup",
        data={
            "csrf_token": token,
            "action": "change",
            "price": "10",
            "name": "水杯",
            "active": "1",
        },
    )
    client.post(
        "/admin/shops/v1-shop/goods/cup",
        data={"csrf_token": token, "action": "restock", "quantity": "3"},
    )
    goods = world.as_("admin").get("/shops/v1-shop/goods").json["items"][0]
    assert goods["price"] == 10 and goods["stock"] == 8 and goods["active"] is True
    client.post(
        "/admin/shops/v1-shop/goods/cup",
        data={"csrf_token": token, "action": "change", "price": "10"},
    )
    assert world.as_("admin").get("/shops/v1-shop/goods").json["items"][0]["active"] is False
    assert "已下架" in html(client.get("/admin/shops/v1-shop"))


def test_the_schemes_are_shown_read_only(world, staff):
    page = html(staff("admin").get("/admin/schemes"))
    assert "爱国守法" in page and 'id="scheme-longhua"' in page and 'id="scheme-shita"' in page
    assert '<form method="post"' not in page.split("<main>")[1]


def give_last_year(world, holder):
    entry = world.record(holder=holder, occurred_on=f"{LAST_YEAR}-06-01")
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=10))
    return entry


def test_the_year_end_close_shows_a_preview_then_closes_once(world, staff):
    give_last_year(world, "H1")
    client = staff("admin")
    preview = client.get(f"/admin/close?scheme=longhua&year={LAST_YEAR}")
    page = html(preview)
    assert (
        preview.status_code == 200
        and 'id="awards"' in page
        and "张三明" in page
        and "确认结算" in page
    )
    token = TOKEN.search(page).group(1)
    done = client.post(
        "/admin/close", data={"csrf_token": token, "scheme": "longhua", "year": LAST_YEAR}
    )
    assert done.status_code == 302, html(done)
    assert "年度已结算" in html(client.get(done.headers["Location"]))
    assert world.as_("admin").get(f"/periods/longhua/{LAST_YEAR}").json["awards"] == ["H1"]
    again = client.post(
        "/admin/close", data={"csrf_token": token, "scheme": "longhua", "year": LAST_YEAR}
    )
    assert again.status_code == 409 and "已经结算过了" in html(again)


def test_the_close_is_refused_while_entries_of_the_year_are_open(world, staff):
    world.record(holder="H2", occurred_on=f"{LAST_YEAR}-12-01")
    client = staff("admin")
    page = html(client.get(f"/admin/close?scheme=longhua&year={LAST_YEAR}"))
    assert "还有 1 条" in page and "确认结算" not in page
    answer = client.post(
        "/admin/close",
        data={"csrf_token": TOKEN.search(page).group(1), "scheme": "longhua", "year": LAST_YEAR},
    )
    assert answer.status_code == 409 and "还有 1 条" in html(answer)
    assert world.as_("admin").get(f"/periods/longhua/{LAST_YEAR}").status == 404
