"""Recording deeds and deductions: points computed from the item, refusals, caps, batches."""

from datetime import timedelta
from decimal import Decimal

import pytest

from conftest import edited_rules, local_today, yesterday


def test_recorder_records_a_fixed_item_and_the_service_computes_the_points(world):
    item = world.rules().item(world.fixed_item())
    entry = world.record(item=item.code, note="帮助邻居收玉米")
    assert entry["status"] == "pending"
    assert entry["points"] == float(item.points)
    assert entry["recorded_by"] == "rec"
    assert entry["note"] == "帮助邻居收玉米"
    assert world.balance()["pending"] == float(item.points)
    assert world.balance()["balance"] == 0


def test_points_arrive_as_json_numbers_not_strings(world):
    item = world.item_of("per_unit")
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": item.code,
            "occurred_on": yesterday(),
            "quantity": 1.5,
        },
    )
    assert answer.status == 201, answer
    assert '"points": ' in answer.text and '"points": "' not in answer.text
    assert Decimal(str(answer.json["points"])) == (Decimal("1.5") * item.per).quantize(
        Decimal("0.1")
    )


def test_range_item_needs_points_within_its_range(world):
    item = world.item_of("range")
    base = {"scheme": "longhua", "holder": "H1", "item": item.code, "occurred_on": yesterday()}
    rec = world.as_("rec")
    assert rec.post("/entries", json=base).json["error"]["details"] == {
        "points": ["required for this item"]
    }
    too_high = rec.post("/entries", json={**base, "points": float(item.max) + 1})
    assert too_high.status == 422 and "points" in too_high.json["error"]["details"]
    ok = rec.post("/entries", json={**base, "points": float(item.min)})
    assert ok.status == 201 and ok.json["points"] == float(item.min)


def test_graded_item_takes_the_grade_points(world):
    item = world.item_of("graded", scheme="shita")
    grade, points = next(iter(item.grades.items()))
    entry = world.record(holder="M1", item=item.code, scheme="shita", by="srec", grade=grade)
    assert entry["points"] == float(points) and entry["grade"] == grade
    bad = world.as_("srec").post(
        "/entries",
        json={
            "scheme": "shita",
            "holder": "M1",
            "item": item.code,
            "occurred_on": yesterday(),
            "grade": "特优",
        },
    )
    assert bad.status == 422 and "grade" in bad.json["error"]["details"]


def test_a_value_the_item_does_not_use_is_refused(world):
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
            "quantity": 2,
        },
    )
    assert answer.status == 422 and "quantity" in answer.json["error"]["details"]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("scheme", "nowhere", "unknown scheme"),
        ("holder", "NOBODY", "unknown holder"),
        ("item", "ZZ99", "unknown item"),
    ],
)
def test_unknown_codes_are_validation_errors_naming_the_field(world, field, value, message):
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "item": world.fixed_item(),
        "occurred_on": yesterday(),
        field: value,
    }
    answer = world.as_("rec").post("/entries", json=body)
    assert answer.status == 422 and answer.code == "validation_error"
    assert answer.json["error"]["details"][field] == [message]
    assert world.as_("admin").get("/entries").json["total"] == 0


def test_a_party_member_cannot_get_household_points(world):
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "M1",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 422 and "holder" in answer.json["error"]["details"]


def test_a_date_in_the_future_is_refused(world):
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    answer = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": tomorrow,
        },
    )
    assert answer.status == 422 and "occurred_on" in answer.json["error"]["details"]


def test_a_recorder_of_another_village_is_forbidden(world):
    answer = world.as_("rec2").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 403 and answer.code == "forbidden"
    assert world.as_("admin").get("/entries").json["total"] == 0


def test_a_reviewer_without_the_recorder_role_cannot_record(world):
    answer = world.as_("rev2").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 403


def test_an_item_capped_once_a_year_is_refused_whole_the_second_time(world):
    item = world.item_of("fixed", capped="year")
    world.record(item=item.code)
    again = world.as_("rec").post(
        "/entries",
        json={"scheme": "longhua", "holder": "H1", "item": item.code, "occurred_on": yesterday()},
    )
    assert again.status == 409 and again.code == "cap_exceeded"
    assert world.balance()["pending"] == float(item.points)
    # Another household is not affected by H1's cap.
    world.record(holder="H2", item=item.code)


def test_a_rejected_entry_frees_its_place_under_the_cap(world):
    item = world.item_of("fixed", capped="year")
    entry = world.record(item=item.code)
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/reject", json={"reason": "重复记录"}).status
        == 200
    )
    world.record(item=item.code)


def test_a_monthly_points_cap_refuses_an_entry_that_would_pass_it(world):
    item = world.item_of("per_unit", capped="month")
    cap = item.cap.points
    quantity = float(cap / item.per)
    day = local_today().replace(day=1).isoformat()
    world.record(item=item.code, quantity=quantity, occurred_on=day)
    over = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": item.code,
            "occurred_on": day,
            "quantity": 1,
        },
    )
    assert over.status == 409 and over.code == "cap_exceeded"
    assert over.json["error"]["details"]["per"] == "month"


def test_batch_records_an_event_for_a_whole_grid(world):
    item = world.fixed_item()
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": item,
            "holders": ["H1", "H2", "H3"],
            "occurred_on": yesterday(),
            "note": "村容整治",
        },
    )
    assert answer.status == 201, answer
    assert [e["holder"] for e in answer.json["items"]] == ["H1", "H2", "H3"]
    assert all(e["status"] == "pending" and e["note"] == "村容整治" for e in answer.json["items"])


def test_batch_is_all_or_nothing_and_names_the_bad_holder(world):
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": world.fixed_item(),
            "holders": ["H1", "NOBODY", "H2"],
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 422 and answer.code == "validation_error"
    assert list(answer.json["error"]["details"]["holders"]) == ["NOBODY"]
    assert world.as_("admin").get("/entries").json["total"] == 0


def test_batch_with_a_holder_outside_the_recorders_units_is_forbidden_whole(world):
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": world.fixed_item(),
            "holders": ["H1", "H9"],
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 403 and "H9" in answer.json["error"]["details"]["holders"]
    assert world.as_("admin").get("/entries").json["total"] == 0


def test_batch_past_a_cap_for_one_holder_records_nobody(world):
    item = world.item_of("fixed", capped="year")
    world.record(holder="H2", item=item.code)
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": item.code,
            "holders": ["H1", "H2"],
            "occurred_on": yesterday(),
        },
    )
    assert answer.status == 409 and answer.code == "cap_exceeded"
    assert list(answer.json["error"]["details"]["holders"]) == ["H2"]
    assert world.as_("admin").get("/entries?holder=H1").json["total"] == 0


def test_a_retried_form_with_the_same_idempotency_key_records_once(world):
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "item": world.fixed_item(),
        "occurred_on": yesterday(),
    }
    rec = world.as_("rec")
    first = rec.post("/entries", json=body, headers={"Idempotency-Key": "form-1"})
    again = rec.post("/entries", json=body, headers={"Idempotency-Key": "form-1"})
    assert first.status == again.status == 201
    assert first.json == again.json
    assert world.as_("admin").get("/entries").json["total"] == 1
    other = rec.post(
        "/entries", json={**body, "holder": "H2"}, headers={"Idempotency-Key": "form-1"}
    )
    assert other.status == 422 and other.code == "idempotency_key_reused"


def test_entries_list_filters_and_pages_newest_first(world):
    ids = [world.record(holder=h)["id"] for h in ("H1", "H2", "H3")]
    world.record(holder="M1", scheme="shita", by="srec")
    admin = world.as_("admin")
    listing = admin.get("/entries?scheme=longhua&per_page=2")
    assert (
        listing.json["total"] == 3 and listing.json["per_page"] == 2 and listing.json["page"] == 1
    )
    assert [e["id"] for e in listing.json["items"]] == ids[::-1][:2]
    assert [e["holder"] for e in admin.get("/entries?unit=g2").json["items"]] == ["H3"]
    assert world.as_("zadmin").get("/entries?recorded_by=srec").json["total"] == 1
    assert (
        admin.get("/entries?recorded_by=srec").json["total"] == 0
    )  # outside the Longhua admin's units
    assert admin.get("/entries?status=posted").json["total"] == 0
    # A Longhua recorder sees only entries within their units.
    assert world.as_("rec2").get("/entries").json["total"] == 0


def test_an_entry_shows_its_history(world):
    entry = world.record()
    world.approve_all(entry["id"])
    detail = world.as_("rec").get(f"/entries/{entry['id']}").json
    assert [h["action"] for h in detail["history"]] == ["record", "approve", "approve"]
    assert [h["by"] for h in detail["history"]] == ["rec", "rev1", "rev2"]
    assert detail["status"] == "in_notice" and detail["reviewed_by"] == "rev2"


def test_an_item_whose_points_change_in_yaml_keeps_old_entries_points(world, tmp_path):
    from points.schemes.service import sync

    item = world.rules().item(world.fixed_item())
    entry = world.record(item=item.code)
    new_points = item.points + 1
    changed = edited_rules(
        tmp_path,
        "longhua",
        f"code: {item.code}\n",
        f"code: {item.code}\n",
        points=(item.code, item.points, new_points),
    )
    with world.app.app_context():
        report = dict((code, (version, outcome)) for code, version, outcome in sync(str(changed)))
    assert report["longhua"] == (2, "changed")
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["points"] == float(item.points)
    scheme = world.as_("rec").get("/schemes/longhua").json
    assert scheme["version"] == 2
