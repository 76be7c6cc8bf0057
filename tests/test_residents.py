"""Nothing about a household happens behind its back: its open entries on the public balance
and /lookup (deductions first, with the objection button while in notice), and the passbook
(积分存折) of a year, through the API and as a printable page for staff and the resident."""

from datetime import date, timedelta

from sqlalchemy import text as sql

from conftest import local_today
from points.extensions import db
from shop_helpers import give_points, open_shop, redeem
from test_pages import form_token, html, staff  # noqa: F401 (a fixture)

THIS_YEAR = local_today().year
LAST_YEAR = THIS_YEAR - 1


def public_balance(world, holder="H1", pin="1234"):
    answer = world.anonymous.post("/public/balance", json={"holder": holder, "pin": pin})
    assert answer.status == 200, answer
    return answer.json


def deduction(world):
    return world.item_of("fixed", positive=False).code


# --- open entries --------------------------------------------------------------------------


def test_a_deduction_shows_to_the_household_before_it_is_final_deductions_first(world):
    good = world.record(holder="H1")
    bad = world.record(holder="H1", item=deduction(world), note="乱堆柴草")
    world.record(holder="H2", item=deduction(world))
    shown = public_balance(world)["open_entries"]
    assert [e["id"] for e in shown] == [bad["id"], good["id"]]
    assert (
        shown[0]["points"] < 0
        and shown[0]["status"] == "pending"
        and shown[0]["note"] == "乱堆柴草"
    )
    world.approve_all(bad["id"])
    in_notice = public_balance(world)["open_entries"][0]
    assert (
        in_notice["status"] == "in_notice"
        and in_notice["notice_ends_on"]
        == world.as_("rec").get(f"/entries/{bad['id']}").json["notice_ends_on"]
    )


def test_entries_no_longer_open_leave_the_list(world):
    entry = world.record(holder="H1")
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=30))
    rejected = world.record(holder="H1")
    assert (
        world.as_("rev1").post(f"/entries/{rejected['id']}/reject", json={"reason": "重复"}).status
        == 200
    )
    assert public_balance(world)["open_entries"] == []


def test_lookup_lists_open_entries_with_an_objection_form_only_while_in_notice(world, client):
    pending = world.record(holder="H1", item=deduction(world))
    noticed = world.record(holder="H1")
    world.approve_all(noticed["id"])
    token = form_token(client, "/lookup")
    page = html(client.post("/lookup", data={"csrf_token": token, "holder": "H1", "pin": "1234"}))
    assert f'id="open-{pending["id"]}"' in page and f'id="open-{noticed["id"]}"' in page
    assert page.index(f'id="open-{pending["id"]}"') < page.index(f'id="open-{noticed["id"]}"')
    assert f'name="entry" value="{noticed["id"]}"' in page
    assert f'name="entry" value="{pending["id"]}"' not in page
    objected = client.post(
        "/notices",
        data={
            "csrf_token": token,
            "unit": "v1",
            "entry": noticed["id"],
            "holder": "H1",
            "pin": "1234",
            "text": "我家没有做",
        },
    )
    assert objected.status_code == 302
    assert world.as_("rec").get(f"/entries/{noticed['id']}").json["status"] == "disputed"


# --- the passbook --------------------------------------------------------------------------


def move_postings_to(world, day):
    with world.app.app_context():
        db.session.execute(sql("UPDATE postings SET at = :at"), {"at": day})
        db.session.commit()


def statement(world, year, holder="H1", by="admin"):
    return world.as_(by).get(f"/accounts/longhua/{holder}/statement?year={year}")


def test_the_statement_opens_with_last_years_balance_and_closes_with_this_years(world):
    open_shop(world, goods=[("soap", "肥皂", 3, 10)])
    give_points(world, "H1", 10)
    move_postings_to(world, date(LAST_YEAR, 12, 30))
    give_points(world, "H1", 5)
    assert redeem(world, [("soap", 2)]).status == 201
    last = statement(world, LAST_YEAR).json
    assert (last["opening"], last["closing"]) == (0, 10)
    this = statement(world, THIS_YEAR).json
    assert this["opening"] == 10 and this["closing"] == 9 == world.balance()["balance"]
    assert [p["kind"] for p in this["postings"]][-1] == "redemption"  # oldest first
    assert this["opening"] + sum(p["points"] for p in this["postings"]) == this["closing"]
    ids = [p["id"] for p in this["postings"]]
    assert ids == sorted(ids)
    empty = statement(world, LAST_YEAR - 1).json
    assert (empty["opening"], empty["closing"], empty["postings"]) == (0, 0, [])


def test_a_statement_is_for_staff_in_scope_and_a_year_the_service_knows(world):
    assert statement(world, THIS_YEAR, by="rec2").status == 403
    assert statement(world, THIS_YEAR, by="rec").status == 200
    assert statement(world, 1999).status == 422
    assert world.as_("admin").get("/accounts/longhua/H1/statement").status == 422
    assert world.as_("admin").get(f"/accounts/shita/H1/statement?year={THIS_YEAR}").status == 404


def test_a_resident_prints_their_own_passbook_from_lookup_and_no_other(world, client):
    give_points(world, "H1", 4)
    path = f"/holders/H1/statement?scheme=longhua&year={THIS_YEAR}"
    before = client.get(path)
    assert before.status_code == 302 and before.headers["Location"].startswith("/lookup")
    token = form_token(client, "/lookup")
    page = html(client.post("/lookup", data={"csrf_token": token, "holder": "H1", "pin": "1234"}))
    assert f"/holders/H1/statement?scheme=longhua&amp;year={THIS_YEAR}" in page
    printed = client.get(path)
    assert (
        printed.status_code == 200
        and 'id="closing">4<' in html(printed)
        and "汤头沟村" in html(printed)
    )
    assert client.get(f"/holders/H2/statement?scheme=longhua&year={THIS_YEAR}").status_code == 302


def test_staff_print_a_passbook_within_their_units(world, staff):
    give_points(world, "H1", 4)
    assert (
        staff("rec").get(f"/holders/H1/statement?scheme=longhua&year={THIS_YEAR}").status_code
        == 200
    )
    assert (
        staff("rec2").get(f"/holders/H1/statement?scheme=longhua&year={THIS_YEAR}").status_code
        == 403
    )
    assert staff("rec").get("/holders/H1/statement?scheme=shita").status_code == 404
