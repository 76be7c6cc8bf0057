"""Rankings with stars, exports, and the year-end close."""

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from conftest import edited_rules, local_today, rechain

THIS_YEAR = local_today().year
LAST_YEAR = THIS_YEAR - 1


def give(world, holder, points, occurred_on=None, veto=False):
    """Post `points` for a holder through record → approve → settle, using range items."""
    by, reviewers = ("rec2", ("rev_v2", "rev_v2b")) if holder == "H9" else ("rec", ("rev1", "rev2"))
    item = world.item_of("range") if not veto else world.item_of("fixed", positive=False, veto=True)
    values = {} if veto else {"points": float(points)}
    entry = world.record(
        holder=holder,
        item=item.code,
        occurred_on=occurred_on or f"{LAST_YEAR}-06-01",
        by=by,
        **values,
    )
    world.approve_all(entry["id"], reviewers)
    world.settle(local_today() + timedelta(days=5))
    return entry


@pytest.fixture
def rules_dir(tmp_path):
    """Longhua with a wide range item, stars at 5/3 and awards for the top 1 per village."""
    path = edited_rules(tmp_path, "longhua", "notice_days: 3", "notice_days: 3")
    text = (path / "longhua.yaml").read_text(encoding="utf-8")
    import re

    text = re.sub(
        r"stars:\n(  - .*\n)+", "stars:\n  - {min: 5, stars: 3}\n  - {min: 3, stars: 1}\n", text
    )
    text = re.sub(r"awards: \{top: \d+, per: village\}", "awards: {top: 1, per: village}", text)
    text = re.sub(
        r"(type: range\n\s+min: )[-\d.]+(\n\s+max: )[-\d.]+", r"\g<1>1\g<2>9", text, count=1
    )
    (path / "longhua.yaml").write_text(text, encoding="utf-8")
    return path


def backdate_postings(world):
    """Move every posting so far into last December, as if the points had been earned then."""
    from sqlalchemy import text as sql

    from points.extensions import db

    with world.app.app_context():
        db.session.execute(sql("UPDATE postings SET at = :at"), {"at": date(LAST_YEAR, 12, 30)})
        db.session.execute(sql("UPDATE account_years SET year = :year"), {"year": LAST_YEAR})
        db.session.commit()
    rechain(world.app)


def ranking(world, **params):
    query = "&".join(
        f"{k}={v}"
        for k, v in {"scheme": "longhua", "unit": "v1", "year": LAST_YEAR, **params}.items()
    )
    return world.as_("admin").get(f"/reports/ranking?{query}")


def test_ranking_lists_every_household_with_ties_sharing_a_rank_and_stars(world):
    give(world, "H1", 5)
    give(world, "H2", 5)
    give(world, "H3", 3)
    answer = ranking(world)
    assert answer.status == 200
    rows = [(r["rank"], r["holder"], r["points"], r["stars"]) for r in answer.json["items"]]
    assert rows == [(1, "H1", 5, 3), (1, "H2", 5, 3), (3, "H3", 3, 1)]
    # Every household of the unit is listed, with 0 when it has no points; the grid filter works.
    assert [r["holder"] for r in ranking(world, unit="g2").json["items"]] == ["H3"]
    assert [
        (r["holder"], r["points"], r["stars"]) for r in ranking(world, unit="v2").json["items"]
    ] == [("H9", 0, 0)]


def test_ranking_counts_only_posted_entries_of_that_year_and_spending_does_not_lower_it(world):
    give(world, "H1", 4)
    give(world, "H1", 2, occurred_on=f"{THIS_YEAR}-01-02")  # another year
    pending = world.record(
        holder="H1", item=world.item_of("range").code, points=9, occurred_on=f"{LAST_YEAR}-07-01"
    )
    assert pending["status"] == "pending"
    assert ranking(world).json["items"][0]["points"] == 4
    revoked = give(world, "H2", 6)
    world.as_("rev1").post(f"/entries/{revoked['id']}/revoke", json={"reason": "撤销"})
    assert next(r for r in ranking(world).json["items"] if r["holder"] == "H2")["points"] == 0


def test_ranking_as_csv_opens_in_excel_with_chinese_headers(world):
    give(world, "H1", 5)
    answer = ranking(world, format="csv")
    assert answer.status == 200 and answer.response.mimetype == "text/csv"
    body = answer.response.get_data()
    assert body.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["排名", "编号", "姓名", "积分", "星级"]
    assert rows[1] == ["1", "H1", "张三明", "5.0", "3"]
    assert len(rows) == 1 + 3


def test_ranking_as_xlsx_has_a_title_row_and_chinese_headers(world):
    give(world, "H2", 3)
    answer = ranking(world, format="xlsx")
    sheet = load_workbook(io.BytesIO(answer.response.get_data())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert "汤头沟村" in rows[0][0] and str(LAST_YEAR) in rows[0][0]
    assert list(rows[1]) == ["排名", "编号", "姓名", "积分", "星级"]
    assert rows[2][:4] == (1, "H2", "李四", 3)


def test_streamed_exports_hold_the_same_rows_as_the_json_ranking(world):
    give(world, "H1", 5)
    give(world, "H3", 2)
    expected = [
        [r["rank"], r["holder"], r["name"], r["points"], r["stars"]]
        for r in ranking(world).json["items"]
    ]
    assert len(expected) == 3
    answer = ranking(world, format="csv")
    rows = list(csv.reader(io.StringIO(answer.response.get_data().decode("utf-8-sig"))))[1:]
    assert rows == [
        [str(v) if not isinstance(v, float) else f"{v:.1f}" for v in row] for row in expected
    ]
    answer = ranking(world, format="xlsx")
    body = answer.response.get_data()
    assert int(answer.response.headers["Content-Length"]) == len(body)
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    assert [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)] == expected


def test_only_an_admin_over_the_unit_reads_rankings(world):
    assert (
        world.as_("rec").get(f"/reports/ranking?scheme=longhua&unit=v1&year={LAST_YEAR}").status
        == 403
    )
    assert (
        world.as_("zadmin").get(f"/reports/ranking?scheme=longhua&unit=v1&year={LAST_YEAR}").status
        == 403
    )


def test_closing_the_year_awards_the_top_per_village_leaving_out_vetoed_holders(world):
    veto = world.item_of("fixed", positive=False, veto=True)
    for month in (
        "02",
        "05",
        "08",
        "11",
    ):  # one a quarter: the first range item (LH14) is capped so
        give(world, "H1", 9, occurred_on=f"{LAST_YEAR}-{month}-01")
    give(world, "H1", 0, veto=True)
    assert 36 + veto.points > 4  # H1 still has the most points after the deduction, but a veto item
    give(world, "H2", 4)
    give(world, "H3", 4)
    give(world, "H9", 2)
    answer = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert answer.status == 200, answer
    assert sorted(answer.json["awards"]) == ["H2", "H3", "H9"]  # ties at the last place all awarded
    assert (
        world.as_("admin").get(f"/periods/longhua/{LAST_YEAR}").json["awards"]
        == answer.json["awards"]
    )


def test_a_closed_year_refuses_new_entries_and_a_second_close(world):
    give(world, "H1", 3)
    assert (
        world.as_("admin")
        .post("/periods/close", json={"scheme": "longhua", "year": LAST_YEAR})
        .status
        == 200
    )
    late = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H2",
            "item": world.fixed_item(),
            "occurred_on": f"{LAST_YEAR}-12-30",
        },
    )
    assert late.status == 409 and late.code == "period_closed"
    again = world.as_("admin").post("/periods/close", json={"scheme": "longhua", "year": LAST_YEAR})
    assert again.status == 409 and again.code == "invalid_state"
    # Ranking of a closed year stays readable.
    assert ranking(world).json["items"][0]["points"] == 3


def test_closing_with_entries_still_open_is_refused_with_their_number(world):
    world.record(holder="H1", occurred_on=f"{LAST_YEAR}-03-03")
    answer = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert (
        answer.status == 409
        and answer.code == "invalid_state"
        and answer.json["error"]["details"] == {"open": 1}
    )


def test_only_an_admin_of_every_account_closes_the_year(world):
    give(world, "H1", 3)
    assert (
        world.as_("zadmin")
        .post("/periods/close", json={"scheme": "longhua", "year": LAST_YEAR})
        .status
        == 403
    )
    assert (
        world.as_("rec")
        .post("/periods/close", json={"scheme": "longhua", "year": LAST_YEAR})
        .status
        == 403
    )


@pytest.mark.parametrize("carry,expired,kept", [("all", 0, 6), ("none", 6, 0), ("{max: 5}", 1, 5)])
def test_each_carry_rule_expires_and_carries_through_postings(
    world, tmp_path, carry, expired, kept
):
    from points.schemes.service import sync

    changed = edited_rules(tmp_path / "carry", "longhua", "carry: all", f"carry: {carry}")
    with world.app.app_context():
        sync(str(changed))
    give(world, "H1", 6)
    backdate_postings(world)
    answer = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert answer.json["expired"] == expired and answer.json["carried"] == kept
    postings = world.as_("admin").get("/accounts/longhua/H1/postings").json["items"]
    assert [p["kind"] for p in postings[:2]] == ["carry", "expiry"]
    assert postings[0]["points"] == 0 and postings[0]["balance_after"] == kept
    assert postings[1]["points"] == -expired
    assert world.balance("H1")["balance"] == kept
    from points.verify import verify

    with world.app.app_context():
        assert verify()[1] == []


def test_statistics_count_entries_month_by_month_and_points_by_heading(world):
    give(world, "H1", 4, occurred_on=f"{LAST_YEAR}-03-05")
    give(world, "H9", 2, occurred_on=f"{LAST_YEAR}-03-09")
    rejected = world.record(holder="H2", occurred_on=f"{LAST_YEAR}-04-01")
    world.as_("rev1").post(f"/entries/{rejected['id']}/reject", json={"reason": "不实"})
    deduction = world.item_of("fixed", positive=False, capped=False)
    minus = world.record(holder="H3", item=deduction.code, occurred_on=f"{LAST_YEAR}-04-02")
    world.approve_all(minus["id"])
    world.settle(local_today() + timedelta(days=5))
    answer = world.as_("admin").get(f"/reports/stats?unit=town&year={LAST_YEAR}")
    assert answer.status == 200, answer
    march, april = answer.json["months"][2], answer.json["months"][3]
    assert (march["recorded"], march["posted"], march["granted"]) == (2, 2, 6)
    assert (april["recorded"], april["posted"], april["rejected"], april["deducted"]) == (
        2,
        1,
        1,
        -deduction.points,
    )
    assert sum(c["granted"] for c in answer.json["categories"]) == 6
    assert answer.json["top_items"][0]["count"] == 2
    village = world.as_("admin").get(f"/reports/stats?unit=v2&year={LAST_YEAR}").json
    assert village["months"][2]["granted"] == 2 and village["months"][3]["recorded"] == 0
    assert world.as_("rec").get(f"/reports/stats?unit=v1&year={LAST_YEAR}").status == 403


def test_closing_a_year_expires_only_what_that_year_left_and_refuses_an_unfinished_year(
    world, tmp_path
):
    from points.schemes.service import sync

    with world.app.app_context():
        sync(str(edited_rules(tmp_path / "none", "longhua", "carry: all", "carry: none")))
    before = give(world, "H1", 6)
    backdate_postings(world)
    give(world, "H1", 4, occurred_on=local_today().isoformat())  # this year's points
    answer = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": LAST_YEAR}
    )
    assert answer.status == 200 and answer.json["expired"] == before["points"]
    assert world.balance("H1")["balance"] == 4
    assert answer.json["closed_at"].endswith("+00:00")
    unfinished = world.as_("admin").post(
        "/periods/close", json={"scheme": "longhua", "year": THIS_YEAR + 1}
    )
    assert unfinished.status == 409 and unfinished.code == "invalid_state"
