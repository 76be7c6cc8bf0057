"""Shita scored as the seed says (issue 12, item 3): time, content and quality together. The
recorder gives the hours of an hours_graded item; each approving reviewer of the evaluation group
names the quality; the lowest named counts: hours × per × that grade's factor."""

from datetime import timedelta
from decimal import Decimal

from conftest import local_today, yesterday
from test_pages import form_token, html, staff  # noqa: F401  (fixture)


def hours_item(world):
    return world.item_of("hours_graded", scheme="shita", capped="month")


def record_hours(world, hours, holder="M1", **extra):
    item = hours_item(world)
    return item, world.as_("srec").post(
        "/entries",
        json={
            "scheme": "shita",
            "holder": holder,
            "item": item.code,
            "occurred_on": yesterday(),
            "quantity": hours,
            **extra,
        },
    )


def points_at(item, hours, grade):
    return (Decimal(str(hours)) * item.per * item.grades[grade]).quantize(Decimal("0.1"))


def test_the_lowest_grade_the_reviewers_name_counts_never_one_the_recorder_gives(world):
    item, by_recorder = record_hours(world, 4, grade=item_grades(world)[0])
    assert by_recorder.status == 422 and "grade" in by_recorder.json["error"]["details"]
    item, answer = record_hours(world, 4)
    assert answer.status == 201 and answer.json["grade"] is None
    best, middle, lowest = item_grades(world)[0], item_grades(world)[1], item_grades(world)[-1]
    assert answer.json["points"] == float(
        points_at(item, 4, best)
    )  # held at the best grade until graded
    entry = answer.json["id"]
    assert (
        world.as_("srev1").post(f"/entries/{entry}/approve", json={"grade": middle}).status == 200
    )
    second = world.as_("srev2").post(f"/entries/{entry}/approve", json={"grade": lowest})
    assert second.status == 200 and second.json["status"] == "in_notice"
    assert second.json["grade"] == lowest and second.json["points"] == float(
        points_at(item, 4, lowest)
    )
    assert sorted(a["grade"] for a in second.json["approvals"]) == sorted([middle, lowest])
    assert world.balance("M1", "shita", by="zadmin")["pending"] == float(points_at(item, 4, lowest))
    world.settle(local_today() + timedelta(days=10))
    assert world.balance("M1", "shita", by="zadmin")["balance"] == float(points_at(item, 4, lowest))


def item_grades(world):
    return sorted(hours_item(world).grades, key=lambda g: -hours_item(world).grades[g])


def test_approval_without_a_grade_or_with_an_unknown_one_is_refused_and_changes_nothing(world):
    item, answer = record_hours(world, 2)
    entry = answer.json["id"]
    for body in ({}, {"grade": "特优"}, {"grade": ""}):
        refused = world.as_("srev1").post(f"/entries/{entry}/approve", json=body)
        assert refused.status == 422 and "grade" in refused.json["error"]["details"], refused
    assert world.as_("srev1").get(f"/entries/{entry}").json["approvals"] == []
    other = world.item_of("fixed", scheme="shita", capped=False)
    plain = world.record(holder="M2", item=other.code, scheme="shita", by="srec")
    wrong = world.as_("srev1").post(
        f"/entries/{plain['id']}/approve", json={"grade": item_grades(world)[0]}
    )
    assert wrong.status == 422 and "grade" in wrong.json["error"]["details"]


def test_the_same_grade_from_both_reviewers_counts_and_a_batch_takes_one_grade(world):
    item, first = record_hours(world, 3, holder="M1")
    _, second = record_hours(world, 1.5, holder="M2")
    ids = [first.json["id"], second.json["id"]]
    good = item_grades(world)[1]
    no_grade = world.as_("srev1").post("/entries/batch/approve", json={"ids": ids})
    assert no_grade.status == 422
    for reviewer in ("srev1", "srev2"):
        answer = world.as_(reviewer).post(
            "/entries/batch/approve", json={"ids": ids, "grade": good}
        )
        assert answer.status == 200, answer
    points = [e["points"] for e in answer.json["items"]]
    assert points == [float(points_at(item, 3, good)), float(points_at(item, 1.5, good))]


def test_the_review_page_offers_the_grades_and_approves_with_the_one_chosen(world, staff):
    item, answer = record_hours(world, 2)
    entry = answer.json["id"]
    client = staff("srev1")
    page = html(client.get("/review"))
    assert f'name="grade_{entry}"' in page and all(
        f'<option value="{g}">' in page for g in item.grades
    )
    token = form_token(client, "/review")
    missing = client.post("/review", data={"csrf_token": token, "approve": str(entry)})
    assert missing.status_code == 422
    lowest = item_grades(world)[-1]
    done = client.post(
        "/review", data={"csrf_token": token, "approve": str(entry), f"grade_{entry}": lowest}
    )
    assert done.status_code == 302
    assert world.as_("srev1").get(f"/entries/{entry}").json["approvals"][0]["grade"] == lowest
