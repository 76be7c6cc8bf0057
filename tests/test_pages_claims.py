"""/lookup/claim reads its form with the claims' own schema and declares through the same
service function as POST /api/v1/public/claims: the item's one value goes to the field the
item reads, and every refusal is worded by its name."""

from conftest import yesterday
from test_claims import claim
from test_pages import form_token, html


def post_claim(world, client, lang="zh", **fields):
    path = f"/lookup/claim?lang={lang}"
    data = {
        "csrf_token": form_token(client, path),
        "holder": "H1",
        "pin": "1234",
        "item": f"longhua:{world.fixed_item()}",
        "occurred_on": yesterday(),
        "note": "扫雪",
        **fields,
    }
    return client.post(path, data=data)


def test_the_value_goes_to_the_field_the_item_reads(world, client):
    item = world.item_of("range", positive=True)
    answer = post_claim(world, client, item=f"longhua:{item.code}", value=str(item.min))
    assert answer.status_code == 302, html(answer)
    [made] = world.as_("rec").get("/claims").json["items"]
    assert made["item"] == item.code and made["points"] == item.min and made["quantity"] is None


def test_a_range_item_without_its_value_is_named_and_nothing_is_claimed(world, client):
    item = world.item_of("range", positive=True)
    answer = post_claim(world, client, item=f"longhua:{item.code}", value=" ")
    assert answer.status_code == 422 and "这个项目必须填写" in html(answer)
    answer = post_claim(world, client, note="")
    assert answer.status_code == 422 and "备注" in html(answer)
    assert world.as_("rec").get("/claims").json["total"] == 0


def test_a_fixed_item_ignores_a_value_left_in_the_box(world, client):
    answer = post_claim(world, client, value="3")
    assert answer.status_code == 302, html(answer)
    assert world.as_("rec").get("/claims").json["total"] == 1


def test_a_sixth_open_claim_on_the_page_is_worded_in_either_language(world, client):
    for _ in range(5):
        claim(world)
    answer = post_claim(world, client)
    assert answer.status_code == 409 and "您已有 5 条申领在等待处理" in html(answer)
    answer = post_claim(world, client, lang="en")
    assert answer.status_code == 409 and "5 claims waiting" in html(answer)
    assert world.as_("rec").get("/claims").json["total"] == 5
