"""Pingquan's grading of village party organisations (平泉市村党组织评档定级, issue 12 item 1):
holders of kind organisation, a scheme of 5 classes and 20 standards, grades A–D by the year's
net points, the grades report with its chart, and grades on the ranking and its exports."""

import re
from datetime import timedelta

import pytest

from conftest import PASSWORD, TestConfig, edited_rules, local_today
from test_pages import html, staff  # noqa: F401  (fixture)

YEAR = local_today().year
DAY = local_today().isoformat()


@pytest.fixture
def pingquan(world):
    """平泉市 → 卧龙镇 → seven villages, each with its 村党组织; the township's recorder and two
    reviewers of its assessment group, and an admin of the city."""
    from points.database import write
    from points.extensions import db
    from points.org.models import Holder
    from points.org.service import create_unit_cli, unit_by_code
    from points.users.service import create_user_cli

    with world.app.app_context():
        create_unit_cli("pq", "平泉市", "county")
        create_unit_cli("pq-wolong", "卧龙镇", "township", "pq")
        for n in range(1, 8):
            create_unit_cli(f"pq-v{n}", f"卧龙镇第{n}村", "village", "pq-wolong")
        with write():
            for n in range(1, 8):
                db.session.add(
                    Holder(
                        code=f"PQ-{n}",
                        name=f"卧龙镇第{n}村党支部",
                        kind="organisation",
                        unit_id=unit_by_code(f"pq-v{n}").id,
                    )
                )
        for username, role, unit in [
            ("pqadmin", "admin", "pq"),
            ("pqrec", "recorder", "pq-wolong"),
            ("pqrev1", "reviewer", "pq-wolong"),
            ("pqrev2", "reviewer", "pq-wolong"),
        ]:
            create_user_cli(username, PASSWORD, role, unit)
        db.session.remove()
    return world


def score(world, holder, item, **values):
    answer = world.as_("pqrec").post(
        "/entries",
        json={"scheme": "pingquan", "holder": holder, "item": item, "occurred_on": DAY, **values},
    )
    assert answer.status == 201, answer
    world.approve_all(answer.json["id"], ("pqrev1", "pqrev2"))
    return answer.json


def test_pingquan_has_five_classes_and_twenty_standards_with_the_collective_economy_and_grades(
    pingquan,
):
    rules = pingquan.rules("pingquan")
    assert rules.subject == "organisation" and len(rules.categories) == 5 and len(rules.items) == 20
    assert any("集体经济" in item.name for item in rules.items)
    assert [row.grade for row in rules.grades] == ["A", "B", "C", "D"]
    assert rules.reviewers_required == 2


def test_an_organisation_is_scored_reviewed_and_graded_through_the_api(pingquan):
    economy = next(item for item in pingquan.rules("pingquan").items if "集体经济" in item.name)
    best = max(economy.grades, key=lambda g: economy.grades[g])
    score(pingquan, "PQ-1", economy.code, grade=best)
    household = pingquan.as_("pqrec").post(
        "/entries",
        json={
            "scheme": "pingquan",
            "holder": "H1",
            "item": economy.code,
            "occurred_on": DAY,
            "grade": best,
        },
    )
    assert household.status in (403, 422)
    pingquan.settle(local_today() + timedelta(days=10))
    answer = pingquan.as_("pqadmin").get("/reports/grades?scheme=pingquan&unit=pq-wolong")
    assert answer.status == 200, answer
    rows = {row["holder"]: row for row in answer.json["items"]}
    expected = pingquan.rules("pingquan").grade_for(economy.grades[best])
    assert (
        rows["PQ-1"]["points"] == float(economy.grades[best]) and rows["PQ-1"]["grade"] == expected
    )
    assert sum(answer.json["counts"].values()) == 7 and list(answer.json["counts"]) == [
        "A",
        "B",
        "C",
        "D",
    ]


def test_grades_report_is_for_admins_of_the_unit_and_refuses_a_scheme_without_grades(pingquan):
    assert pingquan.as_("pqrec").get("/reports/grades?scheme=pingquan&unit=pq-wolong").status == 403
    assert (
        pingquan.as_("zadmin").get("/reports/grades?scheme=pingquan&unit=pq-wolong").status == 403
    )
    no_grades = pingquan.as_("admin").get("/reports/grades?scheme=longhua&unit=v1")
    assert no_grades.status == 422 and "scheme" in no_grades.json["error"]["details"]
    unknown = pingquan.as_("pqadmin").get("/reports/grades?scheme=nope&unit=pq-wolong")
    assert unknown.status == 422
    bad = pingquan.as_("pqadmin").get("/reports/grades?scheme=pingquan&unit=pq-wolong&period=last")
    assert bad.status == 422 and "period" in bad.json["error"]["details"]
    year = pingquan.as_("pqadmin").get(
        f"/reports/grades?scheme=pingquan&unit=pq-wolong&period={YEAR}"
    )
    assert year.status == 200 and year.json["period"] == str(YEAR)
    for wrong in (f"{YEAR}-13", f"{YEAR}-Q5", "abc", "1999", "2101-Q1"):
        got = pingquan.as_("pqadmin").get(
            f"/reports/grades?scheme=pingquan&unit=pq-wolong&period={wrong}"
        )
        assert got.status == 422 and "period" in got.json["error"]["details"], wrong
    for part in ("H1", "Q3", "07"):
        got = pingquan.as_("pqadmin").get(
            f"/reports/grades?scheme=pingquan&unit=pq-wolong&period={YEAR}-{part}"
        )
        assert got.status == 200 and got.json["period"] == f"{YEAR}-{part}"
        assert sum(got.json["counts"].values()) == len(got.json["items"])


def test_grade_boundaries_of_the_shipped_table(pingquan):
    rules = pingquan.rules("pingquan")
    cases = {
        "100": "A",
        "90": "A",
        "89.9": "B",
        "75": "B",
        "74.9": "C",
        "60": "C",
        "59.9": "D",
        "0": "D",
        "-25": "D",
    }
    assert {points: rules.grade_for(points) for points in cases} == cases


class TestGradesAtEachBoundary:
    """The grade table scaled down (A 9, B 7.5, C 6) so one entry reaches each boundary."""

    @pytest.fixture
    def rules_dir(self, tmp_path):
        path = edited_rules(
            tmp_path, "pingquan", "  - {min: 90, grade: A}", "  - {min: 9, grade: A}"
        )
        text = (path / "pingquan.yaml").read_text(encoding="utf-8")
        text = text.replace("{min: 75, grade: B}", "{min: 7.5, grade: B}").replace(
            "{min: 60, grade: C}", "{min: 6, grade: C}"
        )
        (path / "pingquan.yaml").write_text(text, encoding="utf-8")
        return path

    def test_each_boundary_gives_its_grade_on_the_report_the_ranking_its_files_and_print(
        self, pingquan, staff
    ):
        item = next(i for i in pingquan.rules("pingquan").items if i.type == "range" and i.max >= 9)
        given = {"PQ-1": 9, "PQ-2": 8.9, "PQ-3": 7.5, "PQ-4": 7.4, "PQ-5": 6, "PQ-6": 5.9}
        for holder, points in given.items():
            score(pingquan, holder, item.code, points=points)
        pingquan.settle(local_today() + timedelta(days=10))
        admin = pingquan.as_("pqadmin")
        report = admin.get("/reports/grades?scheme=pingquan&unit=pq-wolong").json
        grades = {row["holder"]: row["grade"] for row in report["items"]}
        assert grades == {
            "PQ-1": "A",
            "PQ-2": "B",
            "PQ-3": "B",
            "PQ-4": "C",
            "PQ-5": "C",
            "PQ-6": "D",
            "PQ-7": "D",
        }
        assert report["counts"] == {"A": 1, "B": 2, "C": 2, "D": 2}
        ranking = admin.get("/reports/ranking?scheme=pingquan&unit=pq-wolong").json["items"]
        assert [(row["holder"], row["grade"]) for row in ranking][:2] == [
            ("PQ-1", "A"),
            ("PQ-2", "B"),
        ]
        longhua = pingquan.as_("admin").get("/reports/ranking?scheme=longhua&unit=v1").json["items"]
        assert all("grade" not in row for row in longhua)
        csv_text = admin.get("/reports/ranking?scheme=pingquan&unit=pq-wolong&format=csv").text
        assert "档次" in csv_text.splitlines()[0] and csv_text.splitlines()[1].endswith(",A")
        client = staff("pqadmin")
        printed = html(
            client.get(f"/reports/ranking/print?scheme=pingquan&unit=pq-wolong&year={YEAR}")
        )
        assert "档次" in printed and '<td class="grade">A</td>' in printed
        page = html(client.get(f"/reports/grades?scheme=pingquan&unit=pq-wolong&year={YEAR}"))
        chart = page.split('id="grades-chart"', 1)[1].split("</svg>", 1)[0]
        assert len(re.findall(r"<rect ", chart)) == 4 and ">A<" in chart and ">D<" in chart
        assert staff("clerk").get("/reports/grades").status_code == 403


def test_a_grade_table_out_of_order_is_refused_naming_the_file_and_row(tmp_path):
    from points.rules import check_dir

    path = edited_rules(tmp_path, "pingquan", "  - {min: 75, grade: B}", "  - {min: 95, grade: B}")
    problems = check_dir(str(path))
    assert len(problems) == 1
    assert problems[0].file.endswith("pingquan.yaml") and problems[0].item == "grades[1]"
    assert "highest min to the lowest" in problems[0].reason
    twice = edited_rules(
        tmp_path / "twice", "pingquan", "  - {min: 75, grade: B}", "  - {min: 75, grade: A}"
    )
    assert "written twice" in check_dir(str(twice))[0].reason


def test_the_service_refuses_to_start_on_a_grade_table_out_of_order(tmp_path):
    from points import create_app

    path = edited_rules(tmp_path, "pingquan", "  - {min: 60, grade: C}", "  - {min: 80, grade: C}")
    with pytest.raises(Exception) as refused:
        create_app(TestConfig, RULES_DIR=str(path))
    assert "pingquan.yaml" in str(refused.value) and "grades[2]" in str(refused.value)


def test_the_scheme_api_shows_grades_ratification_and_year_end_items(pingquan):
    described = pingquan.as_("pqadmin").get("/schemes/pingquan").json
    assert [row["grade"] for row in described["grades"]] == ["A", "B", "C", "D"] and described[
        "grades"
    ][0]["min"] == 90
    assert described["adopted"]["by"] and described["subject"] == "organisation"
    longhua = pingquan.as_("admin").get("/schemes/longhua").json
    assert any(i.get("when") == "year_end" for c in longhua["categories"] for i in c["items"])
