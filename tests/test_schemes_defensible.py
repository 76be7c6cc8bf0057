"""Schemes a village can defend at a villagers' meeting (issue 12, item 4): the ratification of
each version and what changed since the one before, no deduction for a protected lawful act
without its lawful basis, a veto that also takes the year's stars, and 全年… items kept to
December."""

from datetime import date, timedelta

import yaml

from conftest import edited_rules, local_today
from test_pages import html, staff  # noqa: F401  (fixture)

LAST_YEAR = local_today().year - 1


def scheme_file(tmp_path, item, **scheme):
    """A one-item scheme written as a village would write it."""
    data = {
        "code": "demo",
        "name": "示范村积分",
        "subject": "household",
        "notice_days": 0,
        "reviewers_required": 1,
        "redeem_threshold": 0,
        **scheme,
        "categories": [{"code": "law", "name": "爱国守法", "items": [item]}],
    }
    folder = tmp_path / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def rules_check(app, folder):
    from points.cli import rules_cli

    return app.test_cli_runner().invoke(rules_cli, ["check", str(folder)])


PETITION = {"code": "X1", "name": "非正常上访、缠访闹访", "type": "fixed", "points": -10}


def test_rules_check_refuses_a_deduction_for_petitioning_naming_file_and_item(app, tmp_path):
    folder = scheme_file(tmp_path, PETITION)
    result = rules_check(app, folder)
    assert result.exit_code == 1
    assert str(folder / "demo.yaml") in result.output and "item X1" in result.output
    assert "上访" in result.output and "lawful_basis" in result.output


def test_the_same_deduction_with_its_lawful_basis_passes_and_a_bonus_for_reporting_needs_none(
    app, tmp_path
):
    based = dict(
        PETITION, lawful_basis="《信访工作条例》第四十七条：扰乱信访秩序，经公安机关依法处理的"
    )
    assert rules_check(app, scheme_file(tmp_path, based)).exit_code == 0
    bonus = {"code": "X2", "name": "举报违法犯罪线索", "type": "fixed", "points": 5}
    assert rules_check(app, scheme_file(tmp_path / "b", bonus)).exit_code == 0


def test_every_protected_word_is_refused_in_a_range_or_graded_deduction(tmp_path):
    from points.rules import check_dir

    for n, name in enumerate(
        ["到县里信访", "对村干部投诉", "起诉村委会", "申请行政复议", "信教", "不按村里意见投票"]
    ):
        item = (
            {"code": f"Y{n}", "name": name, "type": "range", "min": -5, "max": 0}
            if n % 2
            else {"code": f"Y{n}", "name": name, "type": "graded", "grades": {"轻": -1, "重": -5}}
        )
        [problem] = check_dir(scheme_file(tmp_path / str(n), item))
        assert problem.item == f"Y{n}" and "lawful_basis" in problem.reason


def test_rules_check_warns_of_a_version_never_ratified_and_refuses_one_without_a_majority(
    app, tmp_path
):
    item = {"code": "X3", "name": "见义勇为", "type": "fixed", "points": 20}
    unratified = rules_check(app, scheme_file(tmp_path / "a", item))
    assert (
        unratified.exit_code == 0
        and "warning" in unratified.output
        and "adopted" in unratified.output
    )
    ratified = {
        "on": date(2026, 3, 1),
        "by": "村民代表会议",
        "present": 45,
        "for": 43,
        "against": 1,
        "abstain": 1,
    }
    clean = rules_check(app, scheme_file(tmp_path / "b", item, adopted=ratified))
    assert clean.exit_code == 0 and "warning" not in clean.output
    lost = rules_check(
        app, scheme_file(tmp_path / "c", item, adopted=dict(ratified, **{"for": 20, "against": 24}))
    )
    assert lost.exit_code == 1 and "adopted" in lost.output and "majority" in lost.output
    too_many = rules_check(
        app, scheme_file(tmp_path / "d", item, adopted=dict(ratified, abstain=9))
    )
    assert too_many.exit_code == 1 and "more than the 45 present" in too_many.output


def test_a_bare_on_key_in_yaml_is_the_adoption_day(tmp_path):
    from points.rules import load_scheme_file

    folder = scheme_file(
        tmp_path, {"code": "X4", "name": "见义勇为", "type": "fixed", "points": 20}
    )
    path = folder / "demo.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "adopted: {on: 2026-03-01, by: 村民大会}\n",
        encoding="utf-8",
    )
    assert load_scheme_file(path).adopted == {"on": "2026-03-01", "by": "村民大会"}


def test_the_schemes_page_shows_each_versions_ratification_and_prints_what_changed(
    world, staff, tmp_path
):
    from points.schemes.service import sync

    item = world.item_of("fixed", capped=False)
    changed = edited_rules(
        tmp_path,
        "longhua",
        "  on: 2026-03-01\n",
        "  on: 2026-11-20\n",
        points=(item.code, item.points, item.points + 5),
    )
    with world.app.app_context():
        sync(str(changed))
    admin = staff("admin")
    page = html(admin.get("/admin/schemes"))
    assert "2026-11-20" in page and "2026-03-01" in page and "村民代表会议" in page
    assert "/admin/schemes/longhua/changes?version=2" in page
    changes = html(admin.get("/admin/schemes/longhua/changes?version=2"))
    row = changes.split(f"<td>{item.code}</td>", 1)[1].split("</tr>", 1)[0]
    assert f"points: {item.points}" in row and f"points: {item.points + 5}" in row
    assert changes.count('class="change-') == 1 and "2026-11-20" in changes
    first = html(admin.get("/admin/schemes/longhua/changes?version=1"))
    assert first.count('class="change-added"') == 30
    assert admin.get("/admin/schemes/longhua/changes?version=9").status_code == 404
    assert staff("clerk").get("/admin/schemes/longhua/changes?version=2").status_code == 403


# --- a veto takes the year's stars ---------------------------------------------------------


def test_a_veto_item_takes_that_years_stars_as_well_as_the_award(world):
    deed = world.item_of("fixed", capped=False)
    veto = world.item_of("fixed", positive=False, veto=True)
    day = local_today().isoformat()
    for holder in ("H1", "H1", "H2", "H2"):
        world.approve_all(world.record(holder=holder, item=deed.code, occurred_on=day)["id"])
    world.approve_all(world.record(holder="H1", item=veto.code, occurred_on=day)["id"])
    world.settle(local_today() + timedelta(days=10))
    rules = world.rules()
    rows = {
        r["holder"]: r
        for r in world.as_("admin").get("/reports/ranking?scheme=longhua&unit=v1").json["items"]
    }
    assert rows["H1"]["points"] == float(2 * deed.points + veto.points)
    assert rules.stars_for(rows["H1"]["points"]) > 0 and rows["H1"]["stars"] == 0
    assert rows["H2"]["stars"] == rules.stars_for(2 * deed.points) > 0


# --- 全年… items only in December ------------------------------------------------------------


def test_a_year_end_item_is_refused_before_december_and_taken_in_it(world):
    item = world.item_of("fixed", capped="year", when="year_end")
    refused = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H1",
            "item": item.code,
            "occurred_on": f"{LAST_YEAR}-11-30",
        },
    )
    assert (
        refused.status == 422 and "December" in refused.json["error"]["details"]["occurred_on"][0]
    )
    assert (
        world.record(holder="H1", item=item.code, occurred_on=f"{LAST_YEAR}-12-01")["status"]
        == "pending"
    )
    assert (
        world.record(holder="H2", item=item.code, occurred_on=f"{LAST_YEAR}-12-31")["status"]
        == "pending"
    )
    later = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H3",
            "item": item.code,
            "occurred_on": f"{LAST_YEAR + 1}-01-01",
        },
    )
    assert later.status == 422


def test_every_item_that_says_quan_nian_is_kept_to_december_in_both_shipped_schemes(world):
    said = [
        item
        for scheme in ("longhua", "shita")
        for item in world.rules(scheme).items
        if "全年" in item.name
    ]
    assert len(said) >= 4 and all(item.when == "year_end" for item in said)


# --- what the review of the shipped schemes found ------------------------------------------


def test_no_repeated_inspection_can_take_more_in_a_year_than_a_crime(world):
    rules = world.rules()
    crime = max(abs(item.points) for item in rules.items if item.veto and item.type == "fixed")
    periods = {"day": 366, "week": 53, "month": 12, "quarter": 4, "year": 1}
    for item in rules.items:
        if item.type == "range" and item.min < 0 and item.cap is not None and item.cap.count:
            assert abs(item.min) * item.cap.count * periods[item.cap.per] < crime, item.code


def test_shitas_caps_are_by_points_where_the_published_rules_cap_points(world):
    capped = [
        item
        for item in world.rules("shita").items
        if item.name.startswith("参加") and item.cap is not None and item.cap.per == "year"
    ]
    assert len(capped) == 3 and all(
        item.cap.points is not None and item.cap.count is None for item in capped
    )
    assert all(
        "无故" in item.name
        for item in world.rules("shita").items
        if item.type == "fixed" and item.points < 0 and "缺席" in item.name
    )
