"""/entries/new and /review read their forms with the entries' own request schemas (the JSON
API's), and the recorder's form shows what entries/forms.py says this recorder may score."""

from conftest import yesterday
from test_pages import entries, html, record_form, staff  # noqa: F401 (a fixture)


def test_the_form_sends_only_the_value_field_the_item_reads(world, staff):  # noqa: F811
    """The page shows points, quantity and grade inputs at once; a value left in an input the
    chosen item does not read is not sent (the API refuses such a body: not_for_item)."""
    client = staff("rec")
    item = world.fixed_item()
    refused = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": item,
            "occurred_on": yesterday(),
            "quantity": 3,
        },
    )
    assert refused.status == 422 and "quantity" in refused.json["error"]["details"]
    data = {
        **record_form(client),
        "scheme": "longhua",
        "item": item,
        "holder": "H1",
        "occurred_on": yesterday(),
        "points": "",
        "quantity": "3",
        "grade": "A",
        "note": "  ",
    }
    answer = client.post("/entries/new", data=data)
    assert answer.status_code == 302, html(answer)
    [entry] = entries(world, recorded_by="rec")
    assert entry["item"] == item and entry["quantity"] is None and entry["note"] == ""


def test_a_bad_date_is_the_schemas_refusal_on_the_same_page(world, staff):  # noqa: F811
    client = staff("rec")
    data = {
        **record_form(client),
        "scheme": "longhua",
        "item": world.fixed_item(),
        "holders": ["H1", "H2"],
        "occurred_on": "2026-13-01",
    }
    answer = client.post("/entries/new", data=data)
    assert answer.status_code == 422 and "日期格式不对" in html(answer)
    assert entries(world, recorded_by="rec") == []


def test_the_recorder_picks_only_grids_and_households_in_their_units(world, staff):  # noqa: F811
    client = staff("rec")  # a recorder of v1: grids g1 and g2, not g3 (v2)
    page = html(client.get("/entries/new?scheme=longhua"))
    assert 'value="g1"' in page and 'value="g2"' in page and 'value="g3"' not in page
    page = html(client.get("/entries/new?scheme=longhua&unit=g1"))
    assert 'name="holders" value="H1"' in page and 'name="holders" value="H2"' in page
    assert 'name="holders" value="H3"' not in page
    page = html(client.get("/entries/new?scheme=longhua&unit=g3"))  # outside: no grid shown
    assert 'name="holders"' not in page and 'name="holders" value="H9"' not in page


def test_a_reject_without_a_reason_and_an_approve_with_a_blank_note(world, staff):  # noqa: F811
    entry = world.record()
    client = staff("rev1")
    token = html(client.get("/review"))
    from test_pages import TOKEN

    csrf = TOKEN.search(token).group(1)
    answer = client.post(
        "/review", data={"csrf_token": csrf, "reject": entry["id"], f"reason_{entry['id']}": " "}
    )
    assert answer.status_code == 422 and "驳回原因" in html(answer), html(answer)[-1500:]
    answer = client.post(
        "/review",
        data={"csrf_token": csrf, "approve": entry["id"], "note": " ", f"grade_{entry['id']}": ""},
    )
    assert answer.status_code == 302, html(answer)
    seen = world.as_("admin").get(f"/entries/{entry['id']}").json
    assert [a["by"] for a in seen["approvals"]] == ["rev1"] and seen["status"] == "pending"
