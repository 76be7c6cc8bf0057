"""The report pages: the ranking with stars, its exports and A4 printout, and the statistics,
for administrators only."""

import csv
import io

from openpyxl import load_workbook

from conftest import local_today, yesterday
from shop_helpers import give_points, open_shop, redeem
from test_pages import html, staff  # noqa: F401  (fixture)

YEAR = local_today().year


def test_the_ranking_shows_stars_a_chart_and_export_buttons(world, staff):
    give_points(world, "H1", 35)
    client = staff("admin")
    answer = client.get(f"/reports/ranking?scheme=longhua&unit=v1&year={YEAR}")
    assert answer.status_code == 200, html(answer)
    page = html(answer)
    rows = page[page.index('id="ranking"') :]
    assert rows.index("张三明") < rows.index("李四")  # H1 first
    assert "★★<" in page  # 35 points: two stars in the shipped longhua table
    assert "<svg viewBox" in page and 'id="ranking-chart"' in page and "张三明" in page
    assert (
        "/reports/ranking/export?format=xlsx" in page
        and "/reports/ranking/export?format=csv" in page
    )


def test_the_ranking_exports_are_the_apis_files(world, staff):
    give_points(world, "H2", 12)
    client = staff("admin")
    query = f"scheme=longhua&unit=v1&year={YEAR}"
    answer = client.get(f"/reports/ranking/export?format=csv&{query}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["排名", "编号", "姓名", "积分", "星级"] and rows[1][:4] == [
        "1",
        "H2",
        "李四",
        "12.0",
    ]
    book = client.get(f"/reports/ranking/export?format=xlsx&{query}")
    sheet = load_workbook(io.BytesIO(book.get_data())).active
    assert sheet["A1"].value == f"汤头沟村 {YEAR} 年度积分排名" and sheet["B3"].value == "H2"
    api = world.as_("admin").get(f"/reports/ranking?format=csv&{query}")
    assert api.response.get_data() == answer.get_data()


def test_the_printable_ranking_names_the_unit_and_the_date(world, staff):
    page = html(staff("admin").get(f"/reports/ranking/print?scheme=longhua&unit=v1&year={YEAR}"))
    assert f"汤头沟村 {YEAR} 年度积分排名" in page and "公布日期" in page and "paper-a4" in page
    assert "张三明" in page and "data-print" in page


def test_the_statistics_page_has_months_headings_shops_and_a_chart(world, staff):
    open_shop(world, goods=(("soap", "肥皂", 5, 10),))
    give_points(world, "H1", 20)
    assert redeem(world, [("soap", 1)]).status == 201
    answer = staff("admin").get(f"/reports/stats?unit=v1&year={YEAR}")
    assert answer.status_code == 200, html(answer)
    page = html(answer)
    assert 'id="months-chart"' in page and 'id="months"' in page
    assert "爱心超市" in page and 'id="shops"' in page and 'id="top-items"' in page
    assert english_ok(staff("admin").get(f"/reports/stats?unit=v1&year={YEAR}&lang=en"))


def english_ok(answer):
    return answer.status_code == 200 and "Statistics" in html(answer)


def test_reports_are_for_admins_of_the_unit(world, staff, client):
    assert client.get("/reports/ranking").status_code == 302
    assert staff("clerk").get("/reports/ranking").status_code == 403
    assert staff("rec").get("/reports/stats").status_code == 403
    other = staff("zadmin").get(f"/reports/ranking?scheme=longhua&unit=v1&year={YEAR}")
    assert other.status_code == 403 and "没有权限" in html(other)
    unknown = staff("admin").get(f"/reports/stats?unit=nowhere&year={YEAR}")
    assert unknown.status_code == 422 and "找不到这个单位" in html(unknown)
    assert (
        staff("zadmin").get("/reports/ranking/export?format=csv&scheme=longhua&unit=v1").status_code
        == 403
    )


def test_the_fairness_page_shows_flagged_recorders_first_with_a_chart(world, staff):
    item = world.fixed_item()
    for holder in ["H1"] * 12 + ["H2"]:
        world.record(holder=holder, item=item)
    world.record(holder="H3", item=item, by="rev1")  # rev1 also records: a second, unflagged row
    year = int(yesterday()[:4])
    answer = staff("admin").get(f"/reports/fairness?unit=v1&year={year}")
    assert answer.status_code == 200, html(answer)
    page = html(answer)
    assert 'id="recorders-chart"' in page and 'id="reviewers"' in page
    rows = page.split('id="recorders"')[1]
    assert rows.index("rec<") < rows.index("rev1<") and "积分集中于一户" in rows
    assert "/holders/H1" in rows  # the household behind the flag
    english = staff("admin").get(f"/reports/fairness?unit=v1&year={year}&lang=en")
    assert english.status_code == 200 and "Fairness report" in html(english)
    assert staff("rec").get("/reports/fairness").status_code == 403
