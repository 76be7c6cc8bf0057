"""A NUL character (%00) in a request names nothing: PostgreSQL refuses it in text, so it is
refused before any lookup, the same way on every endpoint. The API answers 404 `not_found`
for a path with NUL and 422 `validation_error` naming the parameter for a value with NUL;
the pages answer their own 404 and 400 pages (never a 500)."""

import pytest

from conftest import yesterday
from shop_helpers import open_shop
from test_pages import form_token, html


@pytest.mark.parametrize(
    "path",
    [
        "/holders/H%001",
        "/units/v%001",
        "/accounts/longhua/H%001",
        "/accounts/long%00hua/H1/postings",
        "/accounts/longhua/H1%00/statement?year=2026",
        "/shops/lh-shop%00/goods",
        "/schemes/longhua%00",
        "/users/rec%00",
    ],
)
def test_a_nul_in_an_api_path_is_not_found(world, path):
    open_shop(world)
    answer = world.as_("admin").get(path)
    assert answer.status == 404, answer
    assert answer.json["error"]["code"] == "not_found"
    assert set(answer.json["error"]) == {"code", "message", "details"}


def test_a_nul_in_an_api_path_is_not_found_before_sign_in(world):
    answer = world.anonymous.get("/holders/H%001")
    assert answer.status == 404 and answer.code == "not_found", answer


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/reports/ranking?scheme=longhua&unit=v1%00", "unit"),
        ("/reports/ranking?scheme=long%00hua&unit=v1", "scheme"),
        ("/holders?unit=v1&q=%E5%BC%A0%00", "q"),
        ("/entries?holder=H1%00", "holder"),
        ("/claims?unit=v%001", "unit"),
        ("/redemptions?shop=lh-shop%00", "shop"),
        ("/public/notices?unit=v1%00", "unit"),
    ],
)
def test_a_nul_in_an_api_query_value_is_a_validation_error_naming_it(world, path, parameter):
    open_shop(world)
    answer = world.as_("admin").get(path)
    assert answer.status == 422, answer
    assert answer.code == "validation_error"
    assert list(answer.json["error"]["details"]) == [parameter]


def test_without_a_nul_the_same_queries_answer_as_before(world):
    """The check refuses only NUL: the same lookups without it still answer."""
    world.record()
    admin = world.as_("admin")
    assert admin.get("/reports/ranking?scheme=longhua&unit=v1").status == 200
    assert admin.get("/holders?unit=v1&q=%E5%BC%A0").status == 200
    assert admin.get("/entries?holder=H1").json["total"] == 1
    assert admin.get("/holders/H1").json["code"] == "H1"
    assert admin.get("/holders/H1x").status == 404


def test_a_nul_in_a_form_field_of_the_api_is_named(world):
    """A claim is a multipart form too: a field with NUL is named, nothing is stored."""
    answer = world.anonymous.post(
        "/public/claims",
        data={
            "holder": "H1",
            "pin": "1234",
            "scheme": "longhua",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
            "note": "扫雪\x00",
        },
        content_type="multipart/form-data",
    )
    assert answer.status == 422 and list(answer.json["error"]["details"]) == ["note"], answer
    assert world.as_("rec").get("/claims").json["total"] == 0


def test_a_nul_in_a_page_path_is_the_not_found_page(world, client):
    from test_pages import sign_in

    sign_in(client, "rec")
    for path in ("/holders/H%001", "/holders/H1%00/statement?year=2026"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "没有这个页面" in html(answer)


def test_a_nul_in_a_page_query_or_form_is_the_bad_request_page(world, client):
    from test_pages import sign_in

    sign_in(client, "rec")
    answer = client.get("/holders/H1/statement?year=2026%00")
    assert answer.status_code == 400 and "请求有误" in html(answer)
    answer = client.get("/entries/new?scheme=longhua&unit=g1%00")
    assert answer.status_code == 400 and "请求有误" in html(answer)
    client.delete_cookie("session")
    token = form_token(client, "/lookup")
    answer = client.post("/lookup", data={"csrf_token": token, "holder": "H1\x00", "pin": "1234"})
    assert answer.status_code == 400 and "请求有误" in html(answer)
    # the same page without the NUL still answers
    answer = client.post("/lookup", data={"csrf_token": token, "holder": "H1", "pin": "1234"})
    assert answer.status_code == 200 and "张三明" in html(answer)
