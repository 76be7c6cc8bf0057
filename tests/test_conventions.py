"""The contract's conventions: one error envelope, JSON numbers, paging, the API document."""

import pytest


def test_unknown_path_is_a_404_in_the_envelope(client):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.get_json() == {
        "error": {
            "code": "not_found",
            "message": answer.get_json()["error"]["message"],
            "details": {},
        }
    }


def test_wrong_method_is_a_405_in_the_envelope(world):
    answer = world.as_("admin").delete("/entries")
    assert (
        answer.status == 405
        and answer.code == "method_not_allowed"
        and answer.json["error"]["details"] == {}
    )


def test_a_body_that_is_not_json_is_a_400(world):
    answer = world.as_("rec").post(
        "/entries", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400 and answer.code == "bad_request"


def test_wrong_types_are_validation_errors_per_field(world):
    answer = world.as_("rec").post(
        "/entries", json={"scheme": 5, "holder": "H1", "item": "x", "occurred_on": "yesterday"}
    )
    assert answer.status == 422 and answer.code == "validation_error"
    assert set(answer.json["error"]["details"]) >= {"scheme", "occurred_on"}


def test_huge_strings_are_refused_and_nothing_is_recorded(world):
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": "2026-01-05",
            "note": "好" * 100_000,
        },
    )
    assert answer.status == 422 and "note" in answer.json["error"]["details"]
    assert world.as_("admin").get("/entries").json["total"] == 0


def test_unknown_fields_are_refused(world):
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": "2026-01-05",
            "status": "posted",
        },
    )
    assert answer.status == 422 and "status" in answer.json["error"]["details"]


@pytest.mark.parametrize("query", ["per_page=501", "per_page=0", "page=0", "page=x"])
def test_paging_limits(world, query):
    assert world.as_("admin").get(f"/holders?{query}").status == 422


def test_lists_have_the_contract_shape(world):
    answer = world.as_("admin").get("/holders?per_page=2&page=2")
    assert set(answer.json) == {"items", "total", "page", "per_page"}
    assert answer.json["page"] == 2 and answer.json["per_page"] == 2 and answer.json["total"] == 4
    assert len(answer.json["items"]) == 2


def test_chinese_text_comes_back_as_is(world):
    answer = world.as_("admin").get("/units/v1")
    assert "汤头沟村" in answer.text


def test_healthz(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_the_openapi_document_describes_every_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in [
        "/api/v1/auth/token",
        "/api/v1/users",
        "/api/v1/units",
        "/api/v1/holders",
        "/api/v1/schemes/{code}",
        "/api/v1/entries",
        "/api/v1/entries/batch",
        "/api/v1/entries/{entry_id}/approve",
        "/api/v1/entries/batch/approve",
        "/api/v1/accounts/{scheme}/{holder}",
        "/api/v1/public/balance",
        "/api/v1/public/notices",
        "/api/v1/public/entries/{entry_id}/objections",
    ]:
        assert path in paths, path
    assert "NewEntry" in spec["components"]["schemas"]


def test_the_docs_page_uses_only_assets_the_service_serves(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs.js").status_code == 200


def test_schemes_are_listed_and_described_as_written(world):
    rec = world.as_("rec")
    listing = rec.get("/schemes").json["items"]
    assert {
        ("longhua", "household", 30),
        ("shita", "member", 20),
        ("pingquan", "organisation", 20),
        ("linxia", "staff", 19),
    } <= {(s["code"], s["subject"], s["items_count"]) for s in listing}
    scheme = rec.get("/schemes/longhua").json
    assert scheme["reviewers_required"] == 2 and scheme["version"] == 1
    items = [i for c in scheme["categories"] for i in c["items"]]
    assert len(items) == 30 and {"code", "name", "type", "veto", "cap"} <= set(items[0])
    graded = next(
        i
        for c in rec.get("/schemes/shita").json["categories"]
        for i in c["items"]
        if i["type"] == "graded"
    )
    assert list(graded["grades"]) == list(world.rules("shita").item(graded["code"]).grades)
    assert rec.get("/schemes/nowhere").status == 404


def test_an_unexpected_failure_is_a_500_in_the_envelope(app):
    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/broken-for-test", view_func=broken)
    answer = app.test_client().get("/api/v1/broken-for-test")
    assert answer.status_code == 500
    assert answer.get_json()["error"]["code"] == "internal_error" and "boom" not in answer.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "body", [b'{"note": "a\\ud800b"}', b'{"note": "a\\u0000b"}', b'{"scheme": "\xff"}']
)
def test_text_a_database_cannot_store_is_a_400_not_a_500(world, body):
    answer = world.as_("rec").post(
        "/entries", data=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400 and answer.code == "bad_request"


@pytest.mark.parametrize("levels, refused", [(32, False), (33, True)])
def test_a_body_nested_deeper_than_32_levels_is_a_400(world, levels, refused):
    note = "[" * (levels - 1) + "]" * (levels - 1)  # the body's object is the first level
    body = f'{{"note": {note}}}'.encode()
    answer = world.as_("rec").post(
        "/entries", data=body, headers={"Content-Type": "application/json"}
    )
    if refused:
        assert (answer.status, answer.code) == (400, "bad_request"), answer
        assert "deeper than 32" in answer.json["error"]["message"]
    else:
        assert (answer.status, answer.code) == (422, "validation_error"), answer


def test_brackets_and_escapes_inside_text_are_only_text(world):
    body = {"scheme": "longhua", "holder": "H1", "item": "nope", "note": "[{" * 40 + "\u00e9"}
    answer = world.as_("rec").post("/entries", json=body)
    assert (answer.status, answer.code) == (422, "validation_error"), answer
    assert "note" not in answer.json["error"]["details"]


@pytest.mark.parametrize(
    "path", ["/entries/99999999999999999999999", "/periods/longhua/99999999999999999999"]
)
def test_ids_beyond_any_row_are_404_not_500(world, path):
    assert world.as_("admin").get(path).status == 404


def test_the_openapi_document_shows_our_error_shape_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["ErrorEnvelope"]
    assert set(spec["components"]["schemas"]["ErrorBody"]["properties"]) == {
        "code",
        "message",
        "details",
    }
    assert error["properties"]["error"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert spec["paths"]["/api/v1/public/balance"]["post"]["security"] == []


def test_a_wrong_method_on_healthz_is_a_405_in_the_envelope(client):
    answer = client.post("/healthz")
    assert answer.status_code == 405 and answer.get_json()["error"]["code"] == "method_not_allowed"
