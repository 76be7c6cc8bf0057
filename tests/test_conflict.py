"""Nobody scores their own (回避): links between users and holders, the conflict-of-interest
refusal at every door where points move, the objector who may not settle, the year-end close
and its awards within the caller's units, and users without grants."""

from datetime import timedelta

import pytest

from conftest import PASSWORD, local_today, yesterday
from shop_helpers import add_user, give_points, open_shop, redeem, verify
from test_pages import form_token, html, record_form, staff  # noqa: F401 (a fixture)

LAST_YEAR = local_today().year - 1


def link(world, username, holder, by="admin"):
    answer = world.as_(by).post(f"/users/{username}/links", json={"holder": holder})
    assert answer.status == 201, answer
    return answer.json


def count_entries(world, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return world.as_("admin").get(f"/entries?{query}").json["total"]


def in_notice(world, holder="H1", by="rec"):
    entry = world.record(holder=holder, by=by)
    world.approve_all(entry["id"])
    return entry


def refused(answer, holders=None):
    assert answer.status == 403 and answer.code == "conflict_of_interest", answer
    if holders is not None:
        assert answer.json["error"]["details"]["holders"] == {
            h: ["conflict of interest"] for h in holders
        }
    return True


# --- links ---------------------------------------------------------------------------------


def test_an_admin_links_a_user_to_a_holder_and_reading_the_user_lists_it(world):
    assert link(world, "rec", "H1") == {"holder": "H1", "name": "张三明"}
    assert world.as_("admin").get("/users/rec").json["links"] == ["H1"]
    assert world.as_("rec").get("/me").json["links"] == ["H1"]
    removed = world.as_("admin").delete("/users/rec/links", json={"holder": "H1"})
    assert removed.status == 200 and removed.json["holder"] == "H1"
    assert world.as_("admin").get("/users/rec").json["links"] == []


def test_bad_links_get_a_clear_refusal_and_change_nothing(world):
    link(world, "rec", "H1")
    cases = [
        (
            world.as_("admin").post("/users/rec/links", json={"holder": "H404"}),
            422,
            "validation_error",
        ),
        (world.as_("admin").post("/users/nobody/links", json={"holder": "H2"}), 404, "not_found"),
        (world.as_("zadmin").post("/users/rec/links", json={"holder": "H2"}), 403, "forbidden"),
        (world.as_("rec").post("/users/rec/links", json={"holder": "H2"}), 403, "forbidden"),
        (world.as_("admin").post("/users/rec/links", json={"holder": "H1"}), 409, "conflict"),
        (world.as_("admin").delete("/users/rec/links", json={"holder": "H2"}), 404, "not_found"),
        (world.as_("zadmin").delete("/users/rec/links", json={"holder": "H1"}), 403, "forbidden"),
        (world.as_("admin").post("/users/rec/links", json={}), 422, "validation_error"),
    ]
    for answer, status, code in cases:
        assert (answer.status, answer.code) == (status, code), answer
    assert world.as_("admin").get("/users/rec").json["links"] == ["H1"]


def test_nobody_lifts_their_own_link(world):
    link(world, "admin", "H2")
    answer = world.as_("admin").delete("/users/admin/links", json={"holder": "H2"})
    assert answer.status == 403
    assert world.as_("admin").get("/me").json["links"] == ["H2"]


def test_the_command_line_links_and_unlinks(world):
    runner = world.app.test_cli_runner()
    done = runner.invoke(args=["users", "link", "rec", "H2"])
    assert done.exit_code == 0 and "H2" in done.output
    assert world.as_("admin").get("/users/rec").json["links"] == ["H2"]
    assert runner.invoke(args=["users", "link", "rec", "H2"]).exit_code == 1  # twice
    assert runner.invoke(args=["users", "link", "rec", "H404"]).exit_code == 1
    assert runner.invoke(args=["users", "link", "rec", "H2", "--remove"]).exit_code == 0
    assert world.as_("admin").get("/users/rec").json["links"] == []


# --- recording -----------------------------------------------------------------------------


def test_a_linked_recorder_cannot_record_for_that_household_but_can_for_others(world):
    link(world, "rec", "H1")
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "item": world.fixed_item(),
        "occurred_on": yesterday(),
    }
    assert refused(world.as_("rec").post("/entries", json=body), ["H1"])
    assert count_entries(world) == 0
    assert world.as_("rec").post("/entries", json={**body, "holder": "H2"}).status == 201


def test_a_batch_with_one_linked_holder_fails_whole_naming_it(world):
    link(world, "rec", "H2")
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "holders": ["H1", "H2", "H3"],
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
        },
    )
    assert refused(answer, ["H2"])
    assert count_entries(world) == 0


def test_a_member_of_the_evaluation_group_cannot_record_or_approve_their_own_points(world):
    link(world, "srev1", "M1", by="zadmin")
    add_user(world, "srec_m1", "recorder", "branch")
    link(world, "srec_m1", "M1", by="zadmin")
    body = {
        "scheme": "shita",
        "holder": "M1",
        "item": world.fixed_item("shita"),
        "occurred_on": yesterday(),
    }
    assert refused(world.as_("srec_m1").post("/entries", json=body))
    entry = world.record(holder="M1", scheme="shita", by="srec")
    assert refused(world.as_("srev1").post(f"/entries/{entry['id']}/approve", json={}))
    assert world.as_("srec").get(f"/entries/{entry['id']}").json.get("approvals") == []


# --- review --------------------------------------------------------------------------------


def test_a_linked_reviewer_cannot_approve_reject_or_revoke_but_others_can(world):
    link(world, "rev3", "H1")
    entry = world.record(holder="H1")
    assert refused(world.as_("rev3").post(f"/entries/{entry['id']}/approve", json={}))
    assert refused(
        world.as_("rev3").post(f"/entries/{entry['id']}/reject", json={"reason": "不实"})
    )
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "pending"
    world.approve_all(entry["id"])
    assert refused(
        world.as_("rev3").post(f"/entries/{entry['id']}/revoke", json={"reason": "不实"})
    )
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "in_notice"
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "不实"}).status
        == 200
    )


def test_a_kin_link_counts_like_ones_own_household(world):
    """Kin's households are linked the same way: the rule has no notion of 'own' vs 'kin'."""
    link(world, "rev3", "H1")
    link(world, "rev3", "H3")
    ids = [world.record(holder=h)["id"] for h in ("H1", "H2", "H3")]
    answer = world.as_("rev3").post("/entries/batch/approve", json={"ids": ids})
    assert refused(answer, ["H1", "H3"])
    assert all(world.as_("rec").get(f"/entries/{i}").json["approvals"] == [] for i in ids)
    assert world.as_("rev3").post("/entries/batch/approve", json={"ids": [ids[1]]}).status == 200


def test_a_linked_reviewer_cannot_settle_a_dispute(world):
    link(world, "rev3", "H1")
    entry = in_notice(world)
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/objections", json={"text": "没做"}).status
        == 201
    )
    assert refused(world.as_("rev3").post(f"/entries/{entry['id']}/approve", json={}))
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "disputed"


# --- the objector never settles ------------------------------------------------------------


@pytest.mark.parametrize("action,body", [("approve", {}), ("reject", {"reason": "确有其事"})])
def test_the_reviewer_who_objected_cannot_settle_the_dispute_another_can(world, action, body):
    entry = in_notice(world)
    assert (
        world.as_("rev3").post(f"/entries/{entry['id']}/objections", json={"text": "有疑问"}).status
        == 201
    )
    answer = world.as_("rev3").post(f"/entries/{entry['id']}/{action}", json=body)
    assert answer.status == 403 and answer.code == "conflict_of_interest"
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "disputed"
    settled = world.as_("rev2").post(
        f"/entries/{entry['id']}/{action}", json=body
    )  # an earlier approver
    assert settled.status == 200
    assert settled.json["status"] == ("posted" if action == "approve" else "rejected")


def test_a_reviewer_whose_household_objected_cannot_settle_it(world):
    link(world, "rev3", "H2")
    entry = in_notice(world)
    objection = world.anonymous.post(
        f"/public/entries/{entry['id']}/objections",
        json={"holder": "H2", "pin": "1234", "text": "不属实"},
    )
    assert objection.status == 201
    answer = world.as_("rev3").post(f"/entries/{entry['id']}/approve", json={})
    assert answer.status == 403 and answer.code == "conflict_of_interest"
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={}).json["status"]
        == "posted"
    )


# --- the counter ---------------------------------------------------------------------------


def test_a_linked_clerk_cannot_redeem_or_void_for_that_household(world):
    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, ["H1", "H2"], 20)
    add_user(world, "clerk2", "clerk", "v1")
    link(world, "clerk", "H1")
    answer = redeem(world, [("soap", 1)], holder="H1")
    assert refused(answer, ["H1"])
    assert world.balance("H1")["balance"] == 20
    done = redeem(world, [("soap", 1)], holder="H1", by="clerk2")
    assert done.status == 201
    assert refused(
        world.as_("clerk").post(f"/redemptions/{done.json['id']}/void", json={"reason": "退货"})
    )
    assert world.balance("H1")["balance"] == 15
    assert redeem(world, [("soap", 1)], holder="H2").status == 201
    assert verify(world)[1] == []


# --- the year-end close and its awards -----------------------------------------------------


def posted_last_year(world, holder, by="rec", reviewers=("rev1", "rev2")):
    entry = world.record(holder=holder, by=by, occurred_on=f"{LAST_YEAR}-06-01")
    world.approve_all(entry["id"], reviewers)
    world.settle(local_today() + timedelta(days=30))


def test_a_village_admin_cannot_close_a_year_that_reaches_beyond_the_village(world):
    add_user(world, "vadmin", "admin", "v1")
    posted_last_year(world, "H1")  # only v1 has accounts: households elsewhere still count
    answer = world.as_("vadmin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert answer.status == 403 and answer.code == "forbidden"
    assert world.as_("admin").get(f"/periods/longhua/{LAST_YEAR}").status == 404
    add_user(world, "tadmin", "admin", "town")  # the township covers every household
    assert (
        world.as_("tadmin")
        .post("/periods/close", json={"scheme": "longhua", "year": LAST_YEAR})
        .status
        == 200
    )


def test_the_close_preview_tells_a_village_admin_before_any_button(world, staff):
    add_user(world, "vadmin", "admin", "v1")
    posted_last_year(world, "H9", by="rec2", reviewers=("rev_v2", "rev_v2b"))
    page = html(staff("vadmin").get(f"/admin/close?scheme=longhua&year={LAST_YEAR}"))
    assert 'id="not-allowed"' in page and "确认结算" not in page
    assert "H9" not in page and "赵西沟" not in page  # nothing of another village shows
    page = html(staff("admin").get(f"/admin/close?scheme=longhua&year={LAST_YEAR}"))
    assert 'id="not-allowed"' not in page and "确认结算" in page


def test_awards_are_read_within_the_callers_units_only(world):
    posted_last_year(world, "H1")
    posted_last_year(world, "H9", by="rec2", reviewers=("rev_v2", "rev_v2b"))
    closed = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert sorted(closed.json["awards"]) == ["H1", "H9"]
    add_user(world, "vadmin", "admin", "v1")
    assert world.as_("vadmin").get(f"/periods/longhua/{LAST_YEAR}").json["awards"] == ["H1"]
    assert world.as_("zadmin").get(f"/periods/longhua/{LAST_YEAR}").json["awards"] == []
    assert sorted(world.as_("admin").get(f"/periods/longhua/{LAST_YEAR}").json["awards"]) == [
        "H1",
        "H9",
    ]


# --- users without grants ------------------------------------------------------------------


def test_a_user_without_grants_belongs_to_the_admins_of_a_root_unit(world):
    add_user(world, "tadmin", "admin", "town")
    body = {"username": "floating", "password": PASSWORD, "grants": []}
    assert world.as_("tadmin").post("/users", json=body).status == 403
    assert world.as_("admin").post("/users", json=body).status == 201
    assert world.as_("tadmin").get("/users/floating").status == 403
    assert (
        world.as_("tadmin")
        .post("/users/floating/grants", json={"role": "clerk", "unit": "v1"})
        .status
        == 403
    )
    assert world.as_("tadmin").post("/users/floating/disable").status == 403
    assert world.as_("admin").get("/users/floating").status == 200
    assert world.as_("zadmin").get("/users/floating").status == 200  # another root's admin too


# --- the pages -----------------------------------------------------------------------------


def test_a_linked_recorder_on_the_page_gets_a_friendly_refusal_and_nothing_is_recorded(
    world, staff
):
    link(world, "rec", "H1")
    client = staff("rec")
    data = {
        **record_form(client, "/entries/new?scheme=longhua&unit=g1&lang=en"),
        "scheme": "longhua",
        "unit": "g1",
        "item": world.fixed_item(),
        "holders": ["H1", "H2"],
        "occurred_on": yesterday(),
    }
    answer = client.post("/entries/new", data=data)
    assert answer.status_code == 403 and "stand back" in html(answer) and "H1" in html(answer)
    assert count_entries(world) == 0


def test_a_linked_reviewer_on_the_review_page_is_refused_and_nothing_changes(world, staff):
    link(world, "rev3", "H1")
    entry = world.record(holder="H1")
    client = staff("rev3")
    answer = client.post(
        "/review", data={"csrf_token": form_token(client, "/review"), "approve": entry["id"]}
    )
    assert answer.status_code == 403 and "回避" in html(answer)
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["approvals"] == []


def test_a_linked_clerk_at_the_counter_page_is_refused(world, staff):
    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, "H1", 10)
    link(world, "clerk", "H1")
    client = staff("clerk")
    page = html(client.get("/counter?shop=lh-shop&holder=H1"))
    token = form_token(client, "/counter?shop=lh-shop&holder=H1")
    key = re_key(page)
    answer = client.post(
        "/counter",
        data={
            "csrf_token": token,
            "key": key,
            "shop": "lh-shop",
            "scheme": "longhua",
            "holder": "H1",
            "qty_soap": "1",
        },
    )
    assert answer.status_code == 403 and "回避" in html(answer)
    assert world.balance("H1")["balance"] == 10


def re_key(page):
    import re

    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def test_the_admin_page_links_a_user_by_name_and_lifts_the_link(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/users")
    answer = client.post(
        "/admin/users/rec", data={"csrf_token": token, "action": "link", "holder": "李四"}
    )
    assert answer.status_code == 302, html(answer)
    assert world.as_("admin").get("/users/rec").json["links"] == ["H2"]
    page = html(client.get("/admin/users"))
    assert "H2 · 李四" in page
    answer = client.post(
        "/admin/users/rec", data={"csrf_token": token, "action": "link", "holder": "无此人"}
    )
    assert answer.status_code == 422 and "找不到这个编号" in html(answer)
    client.post("/admin/users/rec", data={"csrf_token": token, "action": "unlink", "holder": "H2"})
    assert world.as_("admin").get("/users/rec").json["links"] == []


def test_the_household_list_names_the_staff_user_it_belongs_to(world, staff):
    client = staff("admin")
    token = form_token(client, "/admin/holders")
    text = "code,name,kind,unit,pin,user\nH20,刘大,household,g1,,rec\nH21,刘二,household,g1,,\n"
    answer = client.post("/admin/holders/import", data={"csrf_token": token, "text": text})
    assert answer.status_code == 302, html(answer)
    assert world.as_("admin").get("/users/rec").json["links"] == ["H20"]
    bad = "H22,刘三,household,g1,,nobody\n"
    answer = client.post("/admin/holders/import", data={"csrf_token": token, "text": bad})
    assert answer.status_code == 422 and "找不到这个用户" in html(answer)
    assert world.as_("admin").get("/holders/H22").status == 404
