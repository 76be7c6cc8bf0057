"""Linxia's assessment of grid workers ("五考"): staff holders, platform items counted from the
service's own records, democratic appraisal rounds, and rankings by period."""
import shutil

import pytest

from points.rules import check_dir, load_scheme_file
from points.rules.model import period_window

from datetime import date

from test_pages import sign_in


# -- the scheme file ---------------------------------------------------------------------

def test_linxia_assesses_grid_workers_by_scoring_platform_statistics_and_appraisal(app):
    rules = load_scheme_file(f"{app.config['RULES_DIR']}/linxia.yaml")
    assert rules.subject == "staff" and rules.period == "month"
    types = {item.type for item in rules.items}
    assert {"fixed", "range", "graded", "platform"} <= types
    measures = {item.measure for item in rules.items if item.type == "platform"}
    assert measures == {"households_reached", "entries_recorded", "claims_on_time"}
    assert rules.item(rules.appraisal.item).type == "range"
    assert rules.appraisal.raters == "household" and list(rules.appraisal.ratings) == ["满意", "基本满意", "不满意"]
    assert [c.name for c in rules.categories] == ["考勤", "考绩", "考能", "考德", "考廉"]


def _check_edited(app, tmp_path, old, new):
    shutil.copytree(app.config["RULES_DIR"], tmp_path / "rules")
    path = tmp_path / "rules" / "linxia.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["rules", "check", str(tmp_path / "rules")])


@pytest.mark.parametrize("old, new, named, reason", [
    ("  item: LX20", "  item: LX99", "appraisal", "item LX99 is not an item of this scheme"),
    ("基本满意: 6", "基本满意: 六分", "appraisal.ratings", "ratings.基本满意 must be a number"),
    ("基本满意: 6", "基本满意: 12", "appraisal.ratings", "outside LX20's range 0 to 10"),
    ("measure: claims_on_time", "measure: notices_served", "item LX07",
     "measure must be one of households_reached, entries_recorded, claims_on_time (got 'notices_served')"),
    ("raters: household", "raters: cadres", "appraisal", "raters must be one of household, member, both"),
    ("period: month", "period: week", "period", "must be one of year, half, quarter, month"),
])
def test_rules_check_refuses_a_bad_linxia_file_naming_file_item_and_reason(app, tmp_path, old, new, named, reason):
    result = _check_edited(app, tmp_path, old, new)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "linxia.yaml" in line)
    assert named in line and reason in line, result.output


def test_platform_items_and_appraisal_belong_to_staff_schemes_only(app, tmp_path):
    result = _check_edited(app, tmp_path, "subject: staff", "subject: household")
    assert result.exit_code == 1
    assert "item LX05: a platform item counts a grid worker's own work" in result.output
    assert "appraisal: democratic appraisal rates grid workers" in result.output


def test_the_service_refuses_to_start_on_an_unknown_measure(database_uri, tmp_path):
    from conftest import make_app
    from points.rules import RuleError

    shutil.copytree(make_app(database_uri).config["RULES_DIR"], tmp_path / "rules")
    path = tmp_path / "rules" / "linxia.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("measure: entries_recorded", "measure: entries"),
                    encoding="utf-8")
    assert check_dir(tmp_path / "rules")
    with pytest.raises(RuleError):
        make_app(database_uri, RULES_DIR=str(tmp_path / "rules"))


@pytest.mark.parametrize("text, first, last, kind", [
    ("2026", date(2026, 1, 1), date(2026, 12, 31), "year"),
    ("2026-H1", date(2026, 1, 1), date(2026, 6, 30), "half"),
    ("2026-H2", date(2026, 7, 1), date(2026, 12, 31), "half"),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "quarter"),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "month"),
])
def test_a_period_is_a_year_half_quarter_or_month(text, first, last, kind):
    assert period_window(text) == (first, last, kind)


@pytest.mark.parametrize("text", ["2026-H3", "2026-Q5", "2026-13", "2026-00", "26", "2026-7", "2026Q1", ""])
def test_a_period_written_otherwise_is_refused(text):
    with pytest.raises(ValueError):
        period_window(text)


# -- ranking by period, for every scheme -------------------------------------------------

def _posted(world, holder, day, item=None):
    entry = world.record(holder=holder, item=item, occurred_on=day)
    world.approve_all(entry["id"])
    return entry


def _ranking(world, period, **extra):
    answer = world.as_("admin").get("/reports/ranking", query_string={"scheme": "longhua", "unit": "v1",
                                                                       "period": period, **extra})
    assert answer.status == 200, answer
    return answer.json


def test_ranking_by_month_quarter_and_half_counts_posted_entries_that_occurred_in_it(world):
    year = date.today().year - 1
    item = world.rules().item(world.fixed_item())
    _posted(world, "H1", f"{year}-01-31")
    _posted(world, "H2", f"{year}-02-01")
    _posted(world, "H2", f"{year}-07-01")
    world.record(holder="H3", occurred_on=f"{year}-01-15")  # pending: never counts
    world.settle(date(year + 5, 1, 1))
    points = item.points

    january = _ranking(world, f"{year}-01")
    assert [(r["holder"], r["points"], r["rank"]) for r in january["items"]] == [
        ("H1", points, 1), ("H2", 0, 2), ("H3", 0, 2)]
    assert january["period"] == f"{year}-01"
    assert [r["holder"] for r in _ranking(world, f"{year}-02")["items"]][0] == "H2"
    first_quarter = {r["holder"]: r["points"] for r in _ranking(world, f"{year}-Q1")["items"]}
    assert first_quarter == {"H1": points, "H2": points, "H3": 0}
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-Q3")["items"]}["H2"] == points
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-H1")["items"]}["H2"] == points
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-H2")["items"]} == {"H1": 0, "H2": points, "H3": 0}
    whole = {r["holder"]: r["points"] for r in _ranking(world, str(year))["items"]}
    assert whole == {"H1": points, "H2": 2 * points, "H3": 0}
    assert whole == {r["holder"]: r["points"] for r in _ranking(world, None, year=year)["items"]}


def test_a_revoked_entry_leaves_the_period_ranking(world):
    year = date.today().year - 1
    entry = _posted(world, "H1", f"{year}-05-05")
    world.settle(date(year + 5, 1, 1))
    assert world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "记错了"}).status == 200
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-05")["items"]}["H1"] == 0


@pytest.mark.parametrize("period", ["2026-H3", "2026-Q0", "2026-13", "26-01", "1999-Q1", "2026/07"])
def test_ranking_refuses_a_period_it_cannot_read(world, period):
    answer = world.as_("admin").get("/reports/ranking", query_string={"scheme": "longhua", "unit": "v1",
                                                                       "period": period})
    assert answer.status == 422 and "period" in answer.json["error"]["details"], answer


def test_a_quarter_ranking_exports_under_its_own_title(world):
    year = date.today().year - 1
    _posted(world, "H1", f"{year}-08-08")
    world.settle(date(year + 5, 1, 1))
    answer = world.as_("admin").client.get(
        "/api/v1/reports/ranking", query_string={"scheme": "longhua", "unit": "v1", "period": f"{year}-Q3",
                                                 "format": "csv"},
        headers={"Authorization": f"Bearer {world.token('admin')}"})
    assert answer.status_code == 200
    assert f"ranking-v1-{year}-Q3.csv" in answer.headers["Content-Disposition"]
    assert "H1" in answer.get_data(as_text=True).splitlines()[1]


def test_the_ranking_page_offers_months_quarters_and_halves(world):
    year = date.today().year - 1
    _posted(world, "H2", f"{year}-03-03")
    world.settle(date(year + 5, 1, 1))
    client = world.app.test_client()
    sign_in(client, "admin")
    page = client.get(f"/reports/ranking?scheme=longhua&unit=v1&year={year}&span=Q1").get_data(as_text=True)
    assert 'name="span"' in page and f"{year}-Q1" in page
    row = page.split('id="ranking"')[1].split("</tr>")[1]
    assert "H2" in row
    printed = client.get(f"/reports/ranking/print?scheme=longhua&unit=v1&year={year}&span=03").get_data(as_text=True)
    assert f"{year}-03" in printed
