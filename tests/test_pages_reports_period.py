"""The ranking page given a whole year as its period (period=YYYY, as the API takes it)."""

from conftest import local_today
from shop_helpers import give_points
from test_pages import html, staff  # noqa: F401  (fixture)

YEAR = local_today().year


def test_the_ranking_page_takes_a_whole_year_as_its_period(world, staff):
    give_points(world, "H1", 35)
    client = staff("admin")
    answer = client.get(f"/reports/ranking?scheme=longhua&unit=v1&period={YEAR}")
    assert answer.status_code == 200, html(answer)
    assert "张三明" in html(answer)
    wrong = client.get("/reports/ranking?scheme=longhua&unit=v1&period=1999")
    assert wrong.status_code == 422  # a year the service does not keep: named, not a 500
    assert staff("clerk").get(f"/reports/ranking?period={YEAR}").status_code == 403
