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
    assert rules.appraisal.raters == "household" and list(rules.appraisal.ratings) == [
        "满意",
        "基本满意",
        "不满意",
    ]
    assert [c.name for c in rules.categories] == ["考勤", "考绩", "考能", "考德", "考廉"]


def _check_edited(app, tmp_path, old, new):
    shutil.copytree(app.config["RULES_DIR"], tmp_path / "rules")
    path = tmp_path / "rules" / "linxia.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["rules", "check", str(tmp_path / "rules")])


@pytest.mark.parametrize(
    "old, new, named, reason",
    [
        ("  item: LX20", "  item: LX99", "appraisal", "item LX99 is not an item of this scheme"),
        ("基本满意: 6", "基本满意: 六分", "appraisal.ratings", "ratings.基本满意 must be a number"),
        ("基本满意: 6", "基本满意: 12", "appraisal.ratings", "outside LX20's range 0 to 10"),
        (
            "measure: claims_on_time",
            "measure: notices_served",
            "item LX07",
            "measure must be one of households_reached, entries_recorded, claims_on_time (got "
            "'notices_served')",
        ),
        (
            "raters: household",
            "raters: cadres",
            "appraisal",
            "raters must be one of household, member, both",
        ),
        ("period: month", "period: week", "period", "must be one of year, half, quarter, month"),
    ],
)
def test_rules_check_refuses_a_bad_linxia_file_naming_file_item_and_reason(
    app, tmp_path, old, new, named, reason
):
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
    path.write_text(
        path.read_text(encoding="utf-8").replace("measure: entries_recorded", "measure: entries"),
        encoding="utf-8",
    )
    assert check_dir(tmp_path / "rules")
    with pytest.raises(RuleError):
        make_app(database_uri, RULES_DIR=str(tmp_path / "rules"))


@pytest.mark.parametrize(
    "text, first, last, kind",
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "year"),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30), "half"),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31), "half"),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "quarter"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "month"),
    ],
)
def test_a_period_is_a_year_half_quarter_or_month(text, first, last, kind):
    assert period_window(text) == (first, last, kind)


@pytest.mark.parametrize(
    "text", ["2026-H3", "2026-Q5", "2026-13", "2026-00", "26", "2026-7", "2026Q1", ""]
)
def test_a_period_written_otherwise_is_refused(text):
    with pytest.raises(ValueError):
        period_window(text)


# -- ranking by period, for every scheme -------------------------------------------------


def _posted(world, holder, day, item=None):
    entry = world.record(holder=holder, item=item, occurred_on=day)
    world.approve_all(entry["id"])
    return entry


def _ranking(world, period, **extra):
    answer = world.as_("admin").get(
        "/reports/ranking",
        query_string={"scheme": "longhua", "unit": "v1", "period": period, **extra},
    )
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
        ("H1", points, 1),
        ("H2", 0, 2),
        ("H3", 0, 2),
    ]
    assert january["period"] == f"{year}-01"
    assert [r["holder"] for r in _ranking(world, f"{year}-02")["items"]][0] == "H2"
    first_quarter = {r["holder"]: r["points"] for r in _ranking(world, f"{year}-Q1")["items"]}
    assert first_quarter == {"H1": points, "H2": points, "H3": 0}
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-Q3")["items"]}[
        "H2"
    ] == points
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-H1")["items"]}[
        "H2"
    ] == points
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-H2")["items"]} == {
        "H1": 0,
        "H2": points,
        "H3": 0,
    }
    whole = {r["holder"]: r["points"] for r in _ranking(world, str(year))["items"]}
    assert whole == {"H1": points, "H2": 2 * points, "H3": 0}
    assert whole == {r["holder"]: r["points"] for r in _ranking(world, None, year=year)["items"]}


def test_a_revoked_entry_leaves_the_period_ranking(world):
    year = date.today().year - 1
    entry = _posted(world, "H1", f"{year}-05-05")
    world.settle(date(year + 5, 1, 1))
    assert (
        world.as_("rev1").post(f"/entries/{entry['id']}/revoke", json={"reason": "记错了"}).status
        == 200
    )
    assert {r["holder"]: r["points"] for r in _ranking(world, f"{year}-05")["items"]}["H1"] == 0


@pytest.mark.parametrize("period", ["2026-H3", "2026-Q0", "2026-13", "26-01", "1999-Q1", "2026/07"])
def test_ranking_refuses_a_period_it_cannot_read(world, period):
    answer = world.as_("admin").get(
        "/reports/ranking", query_string={"scheme": "longhua", "unit": "v1", "period": period}
    )
    assert answer.status == 422 and "period" in answer.json["error"]["details"], answer


def test_a_quarter_ranking_exports_under_its_own_title(world):
    year = date.today().year - 1
    _posted(world, "H1", f"{year}-08-08")
    world.settle(date(year + 5, 1, 1))
    answer = world.as_("admin").client.get(
        "/api/v1/reports/ranking",
        query_string={"scheme": "longhua", "unit": "v1", "period": f"{year}-Q3", "format": "csv"},
        headers={"Authorization": f"Bearer {world.token('admin')}"},
    )
    assert answer.status_code == 200
    assert f"ranking-v1-{year}-Q3.csv" in answer.headers["Content-Disposition"]
    assert "H1" in answer.get_data(as_text=True).splitlines()[1]


def test_the_ranking_page_offers_months_quarters_and_halves(world):
    year = date.today().year - 1
    _posted(world, "H2", f"{year}-03-03")
    world.settle(date(year + 5, 1, 1))
    client = world.app.test_client()
    sign_in(client, "admin")
    page = client.get(f"/reports/ranking?scheme=longhua&unit=v1&year={year}&span=Q1").get_data(
        as_text=True
    )
    assert 'name="span"' in page and f"{year}-Q1" in page
    row = page.split('id="ranking"')[1].split("</tr>")[1]
    assert "H2" in row
    printed = client.get(
        f"/reports/ranking/print?scheme=longhua&unit=v1&year={year}&span=03"
    ).get_data(as_text=True)
    assert f"{year}-03" in printed


# -- grid workers, appraisal rounds and platform items, end to end through the API -------

from conftest import PASSWORD, local_today, yesterday  # noqa: E402


def grid_workers(world):
    """S1 works grid g1 (user gw1, a recorder there), S2 grid g2 (user gw2), S9 西沟 (no user)."""
    admin = world.as_("admin")
    for code, name, grid, user in [
        ("S1", "马国强", "g1", "gw1"),
        ("S2", "韩玉兰", "g2", "gw2"),
        ("S9", "撒海军", "g3", None),
    ]:
        made = admin.post(
            "/holders", json={"code": code, "name": name, "kind": "staff", "unit": grid}
        )
        assert made.status == 201 and made.json["kind"] == "staff", made
        if user:
            assert (
                admin.post(
                    "/users",
                    json={
                        "username": user,
                        "password": PASSWORD,
                        "grants": [{"role": "recorder", "unit": grid}],
                    },
                ).status
                == 201
            )
            assert admin.post(f"/users/{user}/links", json={"holder": code}).status == 201
    return admin


def period_of_yesterday():
    return yesterday()[:7]


def open_round(world, period=None, unit="v1", by="admin"):
    return world.as_(by).post(
        "/appraisals/rounds",
        json={"scheme": "linxia", "round": period or period_of_yesterday(), "unit": unit},
    )


def ballot(world, holder, subject, rating, round_id, pin="1234"):
    return world.anonymous.post(
        "/public/appraisals",
        json={
            "holder": holder,
            "pin": pin,
            "round": round_id,
            "subject": subject,
            "rating": rating,
        },
    )


def test_a_grid_worker_is_a_staff_holder_who_never_scores_themselves(world):
    grid_workers(world)
    rules = world.rules("linxia")
    fixed = next(
        i.code for i in rules.items if i.type == "fixed" and i.points > 0 and i.cap is None
    )
    own = world.as_("gw1").post(
        "/entries",
        json={"scheme": "linxia", "holder": "S1", "item": fixed, "occurred_on": yesterday()},
    )
    assert own.status == 403 and own.json["error"]["code"] == "conflict_of_interest"
    other = world.as_("rec").post(
        "/entries",
        json={"scheme": "linxia", "holder": "S1", "item": fixed, "occurred_on": yesterday()},
    )
    assert other.status == 201 and other.json["status"] == "pending"
    household = world.as_("rec").post(
        "/entries",
        json={"scheme": "linxia", "holder": "H1", "item": fixed, "occurred_on": yesterday()},
    )
    assert household.status == 422 and "holder" in household.json["error"]["details"]


def test_platform_and_appraisal_items_are_never_recorded_by_hand(world):
    grid_workers(world)
    rules = world.rules("linxia")
    platform = next(i.code for i in rules.items if i.type == "platform")
    for item, extra in [(platform, {}), (rules.appraisal.item, {"points": 10})]:
        answer = world.as_("rec").post(
            "/entries",
            json={
                "scheme": "linxia",
                "holder": "S1",
                "item": item,
                "occurred_on": yesterday(),
                **extra,
            },
        )
        assert answer.status == 422 and "item" in answer.json["error"]["details"], answer


def test_an_appraisal_round_from_opening_to_reviewed_entries(world):
    grid_workers(world)
    # gw1's own work in the period: two households recorded for and posted, one claim handled.
    for holder in ("H1", "H2"):
        entry = world.record(holder=holder, by="gw1")
        world.approve_all(entry["id"])
    world.settle(date(local_today().year + 1, 6, 1))
    claim = world.anonymous.post(
        "/public/claims",
        json={
            "holder": "H2",
            "pin": "1234",
            "scheme": "longhua",
            "item": world.fixed_item(),
            "occurred_on": yesterday(),
            "note": "打扫村道",
        },
    )
    assert claim.status == 201, claim
    assert world.as_("gw1").post(f"/claims/{claim.json['id']}/accept", json={}).status == 201

    opened = open_round(world)
    assert opened.status == 201, opened
    assert opened.json["status"] == "open" and opened.json["round"] == period_of_yesterday()
    round_id = opened.json["id"]
    assert ballot(world, "H1", "S1", "满意", round_id).status == 201
    by_period = ballot(world, "H2", "S1", "基本满意", period_of_yesterday())
    assert (
        by_period.status == 201
        and by_period.json["subject"] == "S1"
        and by_period.json["id"] == round_id
    )
    assert ballot(world, "H3", "S2", "不满意", round_id).status == 201

    again = ballot(world, "H1", "S1", "不满意", round_id)
    assert again.status == 409 and again.json["error"]["code"] == "already_voted"
    other_grid = ballot(world, "H3", "S1", "满意", round_id)
    assert other_grid.status == 403 and other_grid.json["error"]["code"] == "forbidden"
    other_village = ballot(world, "H9", "S1", "满意", round_id)
    assert other_village.status == 403
    assert ballot(world, "H1", "S1", "满意", round_id, pin="0000").status == 401
    open_view = world.as_("admin").get(f"/appraisals/rounds/{round_id}").json
    assert {r["subject"]: r["ballots"] for r in open_view["results"]} == {"S1": 2, "S2": 1}
    assert all("counts" not in r for r in open_view["results"])  # no running count while open

    closed = world.as_("admin").post(f"/appraisals/rounds/{round_id}/close", json={})
    assert closed.status == 200, closed
    results = {r["subject"]: r for r in closed.json["results"]}
    assert results["S1"]["ballots"] == 2 and results["S1"]["counts"] == {
        "满意": 1,
        "基本满意": 1,
        "不满意": 0,
    }
    assert results["S1"]["points"] == 8 and results["S2"]["points"] == 0
    platform = {p["measure"]: p for p in results["S1"]["platform"]}
    assert (
        platform["households_reached"]["value"] == 2
        and platform["households_reached"]["points"] == 1
    )
    assert (
        platform["entries_recorded"]["value"] == 2 and platform["entries_recorded"]["points"] == 0.4
    )
    assert platform["claims_on_time"]["value"] == 1 and platform["claims_on_time"]["points"] == 1
    assert all(p["entry"] is None for p in results["S2"]["platform"])  # gw2 did nothing yet

    entries = (
        world.as_("admin")
        .get("/entries", query_string={"holder": "S1", "scheme": "linxia"})
        .json["items"]
    )
    assert sorted(e["points"] for e in entries) == [0.4, 1, 1, 8]
    assert {e["status"] for e in entries} == {"pending"} and {
        e["recorded_by"] for e in entries
    } == {"admin"}
    appraisal_entry = next(e for e in entries if e["item"] == world.rules("linxia").appraisal.item)
    assert world.approve_all(appraisal_entry["id"])["status"] == "in_notice"
    assert world.balance("S1", "linxia")["pending"] == 10.4

    late = ballot(world, "H2", "S1", "满意", round_id)
    assert late.status == 409 and late.json["error"]["code"] == "invalid_state"
    twice = world.as_("admin").post(f"/appraisals/rounds/{round_id}/close", json={})
    assert twice.status == 409 and twice.json["error"]["code"] == "invalid_state"


def test_ballots_are_secret_and_results_are_counts_only(world):
    from points.appraisals.models import AppraisalTally, AppraisalVoter

    grid_workers(world)
    round_id = open_round(world).json["id"]
    assert ballot(world, "H1", "S1", "不满意", round_id).status == 201
    assert ballot(world, "H2", "S1", "满意", round_id).status == 201
    world.as_("admin").post(f"/appraisals/rounds/{round_id}/close", json={})
    answers = [
        world.as_("admin").get(f"/appraisals/rounds/{round_id}"),
        world.as_("admin").get("/appraisals/rounds"),
        world.anonymous.get("/public/appraisals", query_string={"unit": "v1"}),
    ]
    for answer in answers:
        assert answer.status == 200, answer
        assert "H1" not in answer.text and "H2" not in answer.text and "张三明" not in answer.text
    public = answers[2].json["items"][0]
    s1 = next(r for r in public["results"] if r["subject"] == "S1")
    assert s1["counts"] == {"满意": 1, "基本满意": 0, "不满意": 1} and s1["name"] == "马*强"
    # "Has voted" is kept apart from the tallies: no row holds both a household and a rating.
    assert set(AppraisalVoter.__table__.columns.keys()) == {"round_id", "subject_id", "holder_id"}
    assert "holder_id" not in AppraisalTally.__table__.columns.keys()


def test_a_grid_workers_own_household_does_not_rate_them(world):
    grid_workers(world)
    assert world.as_("admin").post("/users/gw1/links", json={"holder": "H2"}).status == 201
    round_id = open_round(world).json["id"]
    answer = ballot(world, "H2", "S1", "满意", round_id)
    assert answer.status == 403 and answer.json["error"]["code"] == "conflict_of_interest"


@pytest.mark.parametrize("rating", ["非常满意", "", 10])
def test_a_rating_the_scheme_does_not_name_is_refused(world, rating):
    grid_workers(world)
    round_id = open_round(world).json["id"]
    answer = ballot(world, "H1", "S1", rating, round_id)
    assert answer.status == 422 and "rating" in answer.json["error"]["details"], answer
    assert (
        world.as_("admin").get(f"/appraisals/rounds/{round_id}").json["results"][0]["ballots"] == 0
    )


def test_who_may_open_and_close_rounds_and_for_what(world):
    grid_workers(world)
    assert open_round(world, by="rec").status == 403
    no_appraisal = world.as_("admin").post(
        "/appraisals/rounds",
        json={"scheme": "longhua", "unit": "v1", "round": period_of_yesterday()},
    )
    assert no_appraisal.status == 422 and "scheme" in no_appraisal.json["error"]["details"]
    future = open_round(world, period=str(local_today().year + 1))
    assert future.status == 422 and "round" in future.json["error"]["details"]
    assert open_round(world, period="2026-Q5").status == 422
    round_id = open_round(world).json["id"]
    duplicate = open_round(world)
    assert duplicate.status == 409 and duplicate.json["error"]["code"] == "conflict"
    assert open_round(world, period=str(local_today().year - 1)).status == 201  # a year-end round
    assert world.as_("rev1").post(f"/appraisals/rounds/{round_id}/close", json={}).status == 403
    assert world.as_("zadmin").get(f"/appraisals/rounds/{round_id}").status == 403


def test_an_admin_who_is_a_subjects_user_does_not_close_the_round(world):
    grid_workers(world)
    round_id = open_round(world).json["id"]
    assert world.as_("admin").post("/users/admin/links", json={"holder": "S2"}).status == 201
    answer = world.as_("admin").post(f"/appraisals/rounds/{round_id}/close", json={})
    assert answer.status == 403 and answer.json["error"]["code"] == "conflict_of_interest"
    assert world.as_("admin").get(f"/appraisals/rounds/{round_id}").json["status"] == "open"


# -- the migration -------------------------------------------------------------------------

from test_migration_chain import old_database  # noqa: E402,F401  (the fixture)


def test_the_appraisal_tables_come_onto_a_database_of_the_previous_head(old_database):  # noqa: F811
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from conftest import make_app
    from points.extensions import db

    app = make_app(old_database)
    with app.app_context():
        upgrade(revision="f11a00000001")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO units (id, code, name, kind, parent_id, path) "
                    "VALUES (1, 'v', '村', 'village', NULL, '/1/')"
                )
            )
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"appraisal_rounds", "appraisal_voters", "appraisal_tallies"} <= tables
        assert db.session.execute(text("SELECT count(*) FROM units")).scalar_one() == 1
        db.session.remove()
        db.engine.dispose()


# -- /appraise, the residents' page --------------------------------------------------------

from test_pages import INLINE_HANDLER, INLINE_SCRIPT, TOKEN, form_token  # noqa: E402


def appraise_sign_in(client, holder, pin="1234"):
    token = form_token(client, "/appraise")
    return client.post("/appraise", data={"csrf_token": token, "holder": holder, "pin": pin})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_appraise_page_renders_for_phones_in_both_languages(client, lang):
    page = client.get(f"/appraise?lang={lang}").get_data(as_text=True)
    assert 'name="viewport"' in page and 'name="pin"' in page and 'inputmode="numeric"' in page
    assert ("Democratic appraisal" in page) if lang == "en" else ("民主测评" in page)
    assert not INLINE_SCRIPT.search(page) and not INLINE_HANDLER.search(page)


def test_a_household_rates_its_grid_worker_once_on_the_page(world, client):
    grid_workers(world)
    round_id = open_round(world).json["id"]
    signed = appraise_sign_in(client, "H1")
    page = signed.get_data(as_text=True)
    assert signed.status_code == 200 and 'id="subject-S1"' in page and "马国强" in page
    assert 'id="subject-S2"' not in page  # another grid's worker
    token = TOKEN.search(page).group(1)
    voted = client.post(
        "/appraise/ballot",
        data={"csrf_token": token, "round": round_id, "subject": "S1", "rating": "满意"},
    )
    assert voted.status_code == 302
    after = client.get("/appraise").get_data(as_text=True)
    assert "已评议" in after.split('id="subject-S1"')[1]
    again = client.post(
        "/appraise/ballot",
        data={"csrf_token": token, "round": round_id, "subject": "S1", "rating": "不满意"},
    )
    assert again.status_code == 409 and "每轮只能评议一次" in again.get_data(as_text=True)
    assert (
        world.as_("admin").get(f"/appraisals/rounds/{round_id}").json["results"][0]["ballots"] == 1
    )


def test_the_appraise_page_refuses_a_wrong_pin_and_locks_out_as_the_balance_does(world, client):
    grid_workers(world)
    for _ in range(5):
        assert appraise_sign_in(client, "H2", "0000").status_code == 401
    assert appraise_sign_in(client, "H2", "1234").status_code == 429
    token = form_token(client, "/appraise")
    unsigned = client.post(
        "/appraise/ballot",
        data={"csrf_token": token, "round": 1, "subject": "S1", "rating": "满意"},
    )
    assert unsigned.status_code == 302 and unsigned.headers["Location"].endswith("/appraise")


def test_recorders_pick_linxia_items_by_heading_without_the_computed_ones(world, client):
    grid_workers(world)
    sign_in(client, "rec")
    page = client.get("/entries/new?scheme=linxia&unit=g1").get_data(as_text=True)
    rules = world.rules("linxia")
    assert "S1" in page and "考勤" in page
    for item in rules.items:
        computed = item.type == "platform" or item.code == rules.appraisal.item
        assert (f'value="{item.code}"' in page) != computed, item.code
    claim_page = client.get("/lookup/claim").get_data(as_text=True)
    assert "linxia:" not in claim_page
    holder_page = client.get("/holders/S1").get_data(as_text=True)
    assert "网格员" in holder_page


def test_an_admin_opens_and_closes_a_round_on_the_page(world, client):
    grid_workers(world)
    sign_in(client, "admin")
    token = form_token(client, "/admin/appraisals")
    opened = client.post(
        "/admin/appraisals",
        data={
            "csrf_token": token,
            "scheme": "linxia",
            "unit": "v1",
            "round": period_of_yesterday(),
        },
    )
    assert opened.status_code == 302
    bad = client.post(
        "/admin/appraisals",
        data={"csrf_token": token, "scheme": "linxia", "unit": "v1", "round": "2026-Q9"},
    )
    assert bad.status_code == 422
    round_id = world.as_("admin").get("/appraisals/rounds").json["items"][0]["id"]
    assert ballot(world, "H1", "S1", "满意", round_id).status == 201
    closed = client.post(f"/admin/appraisals/{round_id}/close", data={"csrf_token": token})
    assert closed.status_code == 302
    page = client.get("/admin/appraisals?lang=en").get_data(as_text=True)
    assert "满意 1" in page and "Closed" in page
    sign_in(client, "rec")
    assert client.get("/admin/appraisals").status_code == 403


def test_one_household_voting_twice_at_once_is_counted_once(world):
    from conftest import Api, at_once

    grid_workers(world)
    round_id = open_round(world).json["id"]
    body = {"holder": "H1", "pin": "1234", "round": round_id, "subject": "S1", "rating": "满意"}
    callers = [Api(world.app.test_client()) for _ in range(3)]
    answers = at_once([lambda a=a: a.post("/public/appraisals", json=body) for a in callers])
    assert sorted(a.status for a in answers) == [201, 409, 409], answers
    assert (
        world.as_("admin").get(f"/appraisals/rounds/{round_id}").json["results"][0]["ballots"] == 1
    )


def test_a_ballot_racing_the_close_is_either_counted_or_refused(world):
    from conftest import Api, at_once

    grid_workers(world)
    round_id = open_round(world).json["id"]
    admin = world.as_("admin")
    body = {"holder": "H2", "pin": "1234", "round": round_id, "subject": "S1", "rating": "满意"}
    voted, closed = at_once(
        [
            lambda: Api(world.app.test_client()).post("/public/appraisals", json=body),
            lambda: admin.post(f"/appraisals/rounds/{round_id}/close", json={}),
        ]
    )
    assert closed.status == 200, closed
    s1 = next(r for r in closed.json["results"] if r["subject"] == "S1")
    assert (voted.status, s1["ballots"]) in [(201, 1), (409, 0)], (voted, s1)
