"""Linxia's 考核等次 (优秀, 称职, 基本称职, 不称职): the grade table is written for one month, the
scheme's own period; a quarter's report scales its bounds × 3, a half's × 6, a year's × 12."""

from datetime import date, timedelta

import pytest

from conftest import local_today
from test_pages import sign_in

GRADES = ["优秀", "称职", "基本称职", "不称职"]
MONTH_BOUNDS = {"优秀": 80, "称职": 65, "基本称职": 50}  # rules/linxia.yaml
BATCH = 500  # the most ids one batch approval takes


def staff(world, codes, grid="g1"):
    """Grid workers (staff holders) of grid g1 in village v1, made through the API."""
    admin = world.as_("admin")
    for code in codes:
        made = admin.post(
            "/holders",
            json={"code": code, "name": f"网格员{code}", "kind": "staff", "unit": grid},
        )
        assert made.status == 201, made


def give(world, totals, first, last):
    """Post exactly `totals[code]` net points to each grid worker, on days inside [first, last]:
    +5 at a time (LX13, uncapped) and the rest with one LX08 (a range of 1 to 5)."""
    days = (last - first).days + 1
    left, ids, k = dict(totals), [], 0
    while any(points >= 5 for points in left.values()):
        holders = [code for code, points in left.items() if points >= 5]
        ids += _batch(world, "LX13", holders, first + timedelta(days=k % days))
        k += 1
        for code in holders:
            left[code] -= 5
    for rest in sorted({p for p in left.values() if p > 0}):
        holders = [code for code, points in left.items() if points == rest]
        ids += _batch(world, "LX08", holders, last, points=rest)
    for reviewer in ("rev1", "rev2"):
        for start in range(0, len(ids), BATCH):
            answer = world.as_(reviewer).post(
                "/entries/batch/approve", json={"ids": ids[start : start + BATCH]}
            )
            assert answer.status == 200, answer
    world.settle(date(first.year + 5, 1, 1))


def _batch(world, item, holders, day, **values):
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "linxia",
            "item": item,
            "holders": holders,
            "occurred_on": day.isoformat(),
            **values,
        },
    )
    assert answer.status == 201, answer
    return [entry["id"] for entry in answer.json["items"]]


def grades(world, period, unit="v1", by="admin"):
    return world.as_(by).get(
        "/reports/grades", query_string={"scheme": "linxia", "unit": unit, "period": period}
    )


def window(period):
    from points.rules.model import period_window

    first, last, _ = period_window(period)
    return first, last


LAST_YEAR = local_today().year - 1


@pytest.mark.parametrize(
    "period, scale",
    [(f"{LAST_YEAR}-03", 1), (f"{LAST_YEAR}-Q2", 3), (f"{LAST_YEAR}-H2", 6)],
)
def test_each_grade_begins_exactly_at_its_bound_scaled_to_the_period(world, period, scale):
    # One grid worker at each bound and one a point below it; S0 has done nothing.
    totals = {}
    for n, grade in enumerate(("优秀", "称职", "基本称职")):
        bound = MONTH_BOUNDS[grade] * scale
        totals[f"S{n}A"], totals[f"S{n}B"] = bound, bound - 1
    staff(world, ["S0", *totals])
    give(world, totals, *window(period))

    answer = grades(world, period)
    assert answer.status == 200, answer
    report = answer.json
    assert report["period"] == period and report["scale"] == scale
    assert report["bounds"] == [
        {"grade": "优秀", "min": 80 * scale},
        {"grade": "称职", "min": 65 * scale},
        {"grade": "基本称职", "min": 50 * scale},
        {"grade": "不称职", "min": -1000 * scale},
    ]
    got = {row["holder"]: (row["points"], row["grade"]) for row in report["items"]}
    assert got == {
        "S0A": (80 * scale, "优秀"),
        "S0B": (80 * scale - 1, "称职"),
        "S1A": (65 * scale, "称职"),
        "S1B": (65 * scale - 1, "基本称职"),
        "S2A": (50 * scale, "基本称职"),
        "S2B": (50 * scale - 1, "不称职"),
        "S0": (0, "不称职"),
    }
    assert report["counts"] == {"优秀": 1, "称职": 2, "基本称职": 2, "不称职": 2}
    assert [row["holder"] for row in report["items"]][:2] == ["S0A", "S0B"]
    # The same points over the whole year are measured against a year's bounds (× 12).
    year = grades(world, str(LAST_YEAR)).json
    assert year["scale"] == 12 and year["counts"] == {
        "优秀": 0,
        "称职": 0,
        "基本称职": 0,
        "不称职": 7,
    }
    # The ranking of the period carries the same grades as the grades report.
    ranking = world.as_("admin").get(
        "/reports/ranking", query_string={"scheme": "linxia", "unit": "v1", "period": period}
    )
    assert {row["holder"]: row["grade"] for row in ranking.json["items"]} == {
        code: grade for code, (_, grade) in got.items()
    }


def test_an_entry_not_yet_posted_does_not_lift_a_grade(world):
    staff(world, ["S1"])
    first, last = window(f"{LAST_YEAR}-05")
    give(world, {"S1": 79}, first, last)
    pending = _batch(world, "LX08", ["S1"], last, points=1)
    world.as_("rev1").post("/entries/batch/approve", json={"ids": pending})  # one of two
    row = grades(world, f"{LAST_YEAR}-05").json["items"][0]
    assert (row["points"], row["grade"]) == (79, "称职")


def test_an_empty_period_grades_every_grid_worker_at_nought(world):
    staff(world, ["S1", "S2"])
    give(world, {"S1": 80}, *window(f"{LAST_YEAR}-01"))
    report = grades(world, f"{LAST_YEAR}-02").json
    assert [(r["holder"], r["points"], r["grade"], r["rank"]) for r in report["items"]] == [
        ("S1", 0, "不称职", 1),
        ("S2", 0, "不称职", 1),
    ]
    assert report["counts"] == {"优秀": 0, "称职": 0, "基本称职": 0, "不称职": 2}
    # a village with no grid worker at all: nobody in any grade
    none = grades(world, f"{LAST_YEAR}-02", unit="v2").json
    assert none["items"] == [] and set(none["counts"].values()) == {0}


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "2026-H0", "1999-01"])
def test_a_period_the_grades_cannot_read_is_refused_naming_period(world, period):
    answer = grades(world, period)
    assert answer.status == 422 and "period" in answer.json["error"]["details"], answer


@pytest.mark.parametrize("user", ["rec", "rev1", "clerk", "zadmin"])
def test_who_is_not_the_villages_admin_reads_no_grades(world, user):
    staff(world, ["S1"])
    answer = grades(world, f"{LAST_YEAR}-Q1", by=user)
    assert answer.status == 403, answer
    assert (
        world.anonymous.get(
            "/reports/grades", query_string={"scheme": "linxia", "unit": "v1"}
        ).status
        == 401
    )


def test_the_grades_page_shows_the_quarters_bounds_and_refuses_a_recorder(world, client):
    staff(world, ["S1"])
    give(world, {"S1": 240}, *window(f"{LAST_YEAR}-Q3"))
    sign_in(client, "admin")
    page = client.get(f"/reports/grades?scheme=linxia&unit=v1&year={LAST_YEAR}&span=Q3").get_data(
        as_text=True
    )
    assert "优秀" in page and "不称职" in page and "240" in page and "S1" in page
    sign_in(client, "rec")
    assert client.get("/reports/grades?scheme=linxia&unit=v1").status_code == 403


# -- the demo's Linxia grid ------------------------------------------------------------------


def test_the_demos_linxia_grid_is_graded_by_month_and_quarter(app):
    from conftest import Api

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    client = app.test_client()

    def signed(username):
        answer = Api(client).post(
            "/auth/token", json={"username": username, "password": "demo-pass-1"}
        )
        assert answer.status == 200, username
        return Api(client, answer.json["token"])

    admin = signed("admin")
    workers = admin.get("/holders", query_string={"kind": "staff", "per_page": 500}).json
    assert [h["code"] for h in workers["items"]] == ["LX-S1", "LX-S2", "LX-S3"]
    for n in (1, 2, 3):  # each grid worker has a user of their own, linked to them
        user = admin.get(f"/users/lx-worker{n}").json
        assert user["links"] == [f"LX-S{n}"], user
    households = admin.get(
        "/holders", query_string={"kind": "household", "unit": "lx-v1-g1", "per_page": 500}
    ).json
    assert households["total"] == 9
    entries = admin.get("/entries", query_string={"scheme": "linxia", "per_page": 500}).json[
        "items"
    ]
    assert {"posted", "in_notice", "pending", "rejected"} <= {e["status"] for e in entries}
    for entry in entries:  # the supervisor or the round's admin recorded; never a grid worker
        assert entry["recorded_by"] in ("lx-supervisor", "admin"), entry
    rounds = admin.get("/appraisals/rounds", query_string={"scheme": "linxia"}).json["items"]
    assert [r["status"] for r in rounds] == ["closed"]
    appraised = [e for e in entries if e["item"] == "LX20"]
    assert len(appraised) == 3 and {e["status"] for e in appraised} >= {"pending"}

    month = rounds[0]["round"]
    report = admin.get(
        "/reports/grades", query_string={"scheme": "linxia", "unit": "lx-hanji", "period": month}
    ).json
    assert sum(report["counts"].values()) == 3
    points = [row["points"] for row in report["items"]]
    assert points == sorted(points, reverse=True) and points[0] > points[-1] > 0
    quarter = f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"
    ranking = admin.get(
        "/reports/ranking",
        query_string={"scheme": "linxia", "unit": "lx-hanji-v1", "period": quarter},
    ).json
    assert [row["holder"] for row in ranking["items"]] == ["LX-S1", "LX-S2", "LX-S3"]
    assert all(row["grade"] for row in ranking["items"])
    assert (
        signed("lx-worker1")
        .get(
            "/reports/grades",
            query_string={"scheme": "linxia", "unit": "lx-hanji", "period": month},
        )
        .status
        == 403
    )
