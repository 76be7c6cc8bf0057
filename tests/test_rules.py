"""The rules engine (积分规则): scheme files load, validate and compute points exactly.

Pure unit tests: no Flask app, no database.
"""

import copy
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runs without setup.cfg's pythonpath too
    sys.path.insert(0, str(ROOT))

from points.rules import (  # noqa: E402
    Cap,
    InvalidValue,
    RuleError,
    cap_window,
    check_dir,
    load_scheme_dir,
    load_scheme_file,
    scheme_from_dict,
)

RULES_DIR = ROOT / "rules"


# -- helpers ---------------------------------------------------------------------------


def small_scheme():
    """A minimal valid scheme as plain data, for one change per test."""
    return {
        "code": "demo",
        "name": "示例村道德积分",
        "subject": "household",
        "notice_days": 3,
        "reviewers_required": 2,
        "redeem_threshold": 10,
        "stars": [{"min": 50, "stars": 3}, {"min": 90, "stars": 5}],
        "year_end": {"carry": "all", "awards": {"top": 10, "per": "village"}},
        "categories": [
            {
                "code": "law",
                "name": "爱国守法",
                "items": [{"code": "T01", "name": "遵纪守法", "type": "fixed", "points": 5}],
            }
        ],
    }


def first_item(data):
    return data["categories"][0]["items"][0]


def write_yaml(folder, data, name="demo.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_text(folder, text, name="demo.yaml"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path):
    with pytest.raises(RuleError) as info:
        load_scheme_file(path)
    return info.value


def item_with(**fields):
    """An item of a one-item scheme, built through the public dict interface."""
    data = small_scheme()
    data["categories"][0]["items"] = [{"code": "T01", "name": "测试项目", **fields}]
    return scheme_from_dict(data).item("T01")


@pytest.fixture(scope="module")
def longhua():
    return load_scheme_file(RULES_DIR / "longhua.yaml")


@pytest.fixture(scope="module")
def shita():
    return load_scheme_file(RULES_DIR / "shita.yaml")


# -- the two schemes that ship ---------------------------------------------------------


def test_shipped_rules_directory_has_no_errors():
    assert check_dir(RULES_DIR) == []
    assert {"linxia", "longhua", "shita", "pingquan"} <= {
        scheme.code for scheme in load_scheme_dir(RULES_DIR)
    }


def test_longhua_has_thirty_household_items_under_five_headings(longhua):
    assert longhua.subject == "household"
    assert len(longhua.items) == 30
    assert [item.code for item in longhua.items] == [f"LH{n:02d}" for n in range(1, 31)]
    assert [c.name for c in longhua.categories] == [
        "爱国守法",
        "文明新风",
        "清洁卫生",
        "团结和睦",
        "勤劳致富",
    ]


def test_longhua_mixes_item_kinds_deductions_veto_and_caps(longhua):
    types = {item.type for item in longhua.items}
    assert {"fixed", "range", "per_unit"} <= types
    assert any(item.type == "fixed" and item.points < 0 for item in longhua.items)
    assert any(item.veto for item in longhua.items)
    assert any(
        item.cap and item.cap.per == "year" and item.cap.count == 1 for item in longhua.items
    )
    assert sum(1 for item in longhua.items if item.cap and item.cap.per == "month") >= 2
    assert longhua.reviewers_required == 2
    assert longhua.notice_days > 0
    assert longhua.redeem_threshold > 0
    assert longhua.stars and longhua.year_end.awards == {"top": 10, "per": "village"}


def test_shita_has_twenty_member_items_scored_by_time_content_and_quality(shita):
    assert shita.subject == "member"
    assert len(shita.items) == 20
    assert [item.code for item in shita.items] == [f"ST{n:02d}" for n in range(1, 21)]
    names = " ".join(item.name for item in shita.items)
    for wording in ("疫情防控", "文明县城创建", "爱心志愿帮扶", "执行纪律", "日常学习情况"):
        assert wording in names
    assert any(item.type == "hours_graded" and item.unit == "小时" for item in shita.items)
    assert any(item.type == "fixed" for item in shita.items)
    assert any(item.type == "graded" for item in shita.items)
    assert any(item.points is not None and item.points < 0 for item in shita.items)
    assert any(item.veto for item in shita.items)
    assert shita.reviewers_required >= 2
    assert shita.year_end.awards["top"] >= 1


def test_item_knows_its_category(longhua):
    assert longhua.item("LH01").category == "law"
    assert longhua.item("LH30").category == "thrift"
    assert longhua.item("XX99") is None


# -- computing points ------------------------------------------------------------------


def test_fixed_item_gives_its_points():
    item = item_with(type="fixed", points=-10)
    assert item.compute_points() == Decimal("-10")
    assert item.compute_points(points="", quantity=None) == Decimal("-10")  # blank form field


@pytest.mark.parametrize("given", ["points", "quantity", "grade"])
def test_fixed_item_refuses_any_value(given):
    with pytest.raises(InvalidValue) as info:
        item_with(type="fixed", points=5).compute_points(**{given: "1"})
    assert info.value.field == given
    assert info.value.message == "not used by this item"


@pytest.mark.parametrize(
    "value, expected",
    [
        (1, "1"),
        ("5", "5"),
        (Decimal("2.5"), "2.5"),
        (2.5, "2.5"),
        ("3.0", "3"),
        ("-0", "0"),
    ],
)
def test_range_item_takes_the_chosen_points_exactly(value, expected):
    result = item_with(type="range", min=-1, max=5).compute_points(points=value)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "required"),
        ("", "required"),
        (5.5, "between -1 and 5"),
        (-1.1, "between -1 and 5"),
        ("2.55", "at most one decimal place"),
        ("abc", "must be a number"),
        (True, "must be a number"),
        (float("nan"), "finite"),
        ("Infinity", "finite"),
    ],
)
def test_range_item_refuses_a_bad_choice(value, message):
    with pytest.raises(InvalidValue) as info:
        item_with(type="range", min=-1, max=5).compute_points(points=value)
    assert info.value.field == "points"
    assert message in info.value.message


def test_range_item_refuses_a_quantity():
    with pytest.raises(InvalidValue) as info:
        item_with(type="range", min=1, max=5).compute_points(points=2, quantity=1)
    assert info.value.field == "quantity"


@pytest.mark.parametrize(
    "per, quantity, expected",
    [
        ("0.5", "2.5", "1.3"),  # 1.25: half-up gives 1.3 where half-even would give 1.2
        ("1.5", "0.3", "0.5"),  # 0.45 → 0.5
        ("0.5", "0.1", "0.1"),  # 0.05 → 0.1
        ("1", 2.5, "2.5"),  # a float quantity arrives through its text, exactly
        ("5", 3, "15"),
        ("0.3", "0.1", "0"),  # 0.03 rounds to nothing
    ],
)
def test_per_unit_item_multiplies_and_rounds_half_up(per, quantity, expected):
    item = item_with(type="per_unit", per=Decimal(per), unit="小时")
    result = item.compute_points(quantity=quantity)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    "quantity, message",
    [
        (None, "required"),
        (0, "more than 0"),
        ("-2", "more than 0"),
        ("1.25", "at most one decimal place"),
        (False, "must be a number"),
        (float("inf"), "finite"),
    ],
)
def test_per_unit_item_refuses_a_bad_quantity(quantity, message):
    with pytest.raises(InvalidValue) as info:
        item_with(type="per_unit", per=1, unit="小时").compute_points(quantity=quantity)
    assert info.value.field == "quantity"
    assert message in info.value.message


def test_per_unit_item_refuses_points():
    with pytest.raises(InvalidValue) as info:
        item_with(type="per_unit", per=1, unit="小时").compute_points(points=3, quantity=3)
    assert info.value.field == "points"


def test_graded_item_gives_the_grade_points(shita):
    assert shita.item("ST01").compute_points(grade="优") == Decimal("5")
    assert shita.item("ST01").compute_points(grade="中") == Decimal("1")


@pytest.mark.parametrize(
    "grade, message",
    [
        ("差", "must be one of 优, 良, 中"),
        (5, "must be one of"),
        (None, "required"),
    ],
)
def test_graded_item_refuses_a_bad_grade(grade, message):
    item = item_with(type="graded", grades={"优": 5, "良": 3, "中": 1})
    with pytest.raises(InvalidValue) as info:
        item.compute_points(grade=grade)
    assert info.value.field == "grade"
    assert message in info.value.message


def test_graded_item_refuses_a_quantity():
    item = item_with(type="graded", grades={"优": 5})
    with pytest.raises(InvalidValue) as info:
        item.compute_points(grade="优", quantity=1)
    assert info.value.field == "quantity"


def test_decimals_in_the_file_stay_exact(tmp_path):
    data = small_scheme()
    first_item(data).update(points=0.1)
    data["redeem_threshold"] = 0.3
    scheme = load_scheme_file(write_yaml(tmp_path, data))
    assert scheme.item("T01").points == Decimal("0.1")
    assert scheme.redeem_threshold == Decimal("0.3")


# -- to_dict and back ------------------------------------------------------------------


@pytest.mark.parametrize("file", ["longhua.yaml", "shita.yaml"])
def test_scheme_survives_a_trip_through_json(file):
    scheme = load_scheme_file(RULES_DIR / file)
    data = scheme.to_dict()
    assert scheme_from_dict(data) == scheme
    assert scheme_from_dict(json.loads(json.dumps(data, default=str))) == scheme
    assert scheme_from_dict(json.loads(json.dumps(data, default=float))) == scheme
    assert scheme_from_dict(json.loads(json.dumps(data, default=str))).to_dict() == data


def test_to_dict_writes_each_item_as_the_yaml_does(longhua):
    data = longhua.to_dict()
    items = {item["code"]: item for c in data["categories"] for item in c["items"]}
    assert items["LH01"] == {
        "code": "LH01",
        "name": "遵纪守法，全年无违法违规行为",
        "type": "fixed",
        "veto": False,
        "cap": {"per": "year", "count": 1},
        "points": Decimal("5"),
        "when": "year_end",
    }
    assert items["LH20"]["min"] == Decimal("1") and items["LH20"]["max"] == Decimal("5")
    assert items["LH20"]["cap"] is None
    assert items["LH21"]["per"] == Decimal("1") and items["LH21"]["unit"] == "小时"
    assert items["LH29"]["grades"] == {
        "大学": Decimal("5"),
        "硕士": Decimal("10"),
        "博士": Decimal("20"),
    }
    assert items["LH06"]["veto"] is True
    assert data["stars"][0] == {"min": Decimal("90"), "stars": 5}
    assert data["year_end"] == {"carry": "all", "awards": {"top": 10, "per": "village"}}


def test_scheme_from_dict_checks_like_the_file_does():
    data = small_scheme()
    first_item(data)["points"] = "2.55"
    with pytest.raises(RuleError) as info:
        scheme_from_dict(data)
    assert info.value.file is None
    assert str(info.value).startswith("item T01: points must have at most one decimal place")


# -- stars and caps --------------------------------------------------------------------


@pytest.mark.parametrize(
    "points, stars",
    [
        (Decimal("90"), 5),
        (Decimal("89.9"), 4),
        (Decimal("70"), 4),
        (Decimal("50"), 3),
        (Decimal("10"), 1),
        (Decimal("9.9"), 0),
        (Decimal("-5"), 0),
        (200, 5),
        ("30", 2),
    ],
)
def test_stars_for_applies_a_row_from_its_min(longhua, points, stars):
    assert longhua.stars_for(points) == stars


def test_star_rows_are_sorted_by_min_descending(tmp_path):
    scheme = load_scheme_file(write_yaml(tmp_path, small_scheme()))
    assert [(row.min, row.stars) for row in scheme.stars] == [
        (Decimal("90"), 5),
        (Decimal("50"), 3),
    ]


@pytest.mark.parametrize(
    "per, day, first, last",
    [
        ("day", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 23)),
        ("week", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),  # a Monday
        ("week", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),  # a Sunday
        ("week", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4)),  # across the year
        ("month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29)),  # leap February
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
        ("quarter", date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31)),
        ("quarter", date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30)),
        ("quarter", date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30)),
        ("quarter", date(2026, 10, 1), date(2026, 10, 1), date(2026, 12, 31)),
        ("year", date(2026, 6, 15), date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_cap_window_is_the_calendar_period(per, day, first, last):
    assert cap_window(per, day) == (first, last)


def test_cap_window_refuses_an_unknown_period():
    with pytest.raises(ValueError):
        cap_window("fortnight", date(2026, 1, 1))


def test_cap_admits_up_to_its_count_and_points():
    cap = Cap("month", count=2, points=Decimal("20"))
    assert cap.admits(1, Decimal("10"), Decimal("10"))
    assert not cap.admits(2, Decimal("10"), Decimal("1"))
    assert not cap.admits(0, Decimal("15"), Decimal("5.1"))
    assert not Cap("month", points=Decimal("10")).admits(0, Decimal("-8"), Decimal("-3"))


# -- validation: one rule each ---------------------------------------------------------


def _set(path, value):
    """A change to the small scheme: set the value at a tuple path."""

    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _item(**fields):
    """A change replacing the one item's fields (code T01 unless given)."""

    def change(data):
        data["categories"][0]["items"] = [{"code": "T01", "name": "测试项目", **fields}]

    return change


def _add_item(**fields):
    def change(data):
        data["categories"][0]["items"].append({"name": "第二项", **fields})

    return change


ITEM0 = "categories[0].items[0]"

INVALID_SCHEMES = [
    ("missing-subject", _delete(("subject",)), None, "missing key 'subject'"),
    (
        "unknown-top-key",
        _set(("notic_days",), 3),
        None,
        "unknown key 'notic_days' (did you mean 'notice_days'?)",
    ),
    (
        "item-key-typo",
        _item(type="fixed", ponts=5),
        "T01",
        "unknown key 'ponts' (did you mean 'points'?)",
    ),
    (
        "item-missing-name",
        _delete(("categories", 0, "items", 0, "name")),
        "T01",
        "missing key 'name'",
    ),
    ("type-key-typo", _item(tpye="fixed", points=5), "T01", "unknown key 'tpye'"),
    ("bad-type", _item(type="fix", points=5), "T01", "type must be one of fixed, range"),
    (
        "field-of-another-type",
        _item(type="fixed", points=5, min=1),
        "T01",
        "min is not used by a fixed item",
    ),
    (
        "scheme-code-pattern",
        _set(("code",), "Long Hua"),
        None,
        "code must be lowercase letters, digits and dashes",
    ),
    ("scheme-code-leading-dash", _set(("code",), "-demo"), None, "code must be lowercase"),
    (
        "duplicate-item-code",
        _add_item(code="T01", type="fixed", points=1),
        "T01",
        "code T01 is used by more than one item",
    ),
    (
        "empty-item-code",
        _set(("categories", 0, "items", 0, "code"), ""),
        ITEM0,
        "code must be non-empty text",
    ),
    (
        "numeric-item-code",
        _set(("categories", 0, "items", 0, "code"), 101),
        ITEM0,
        "code must be non-empty text (got 101)",
    ),
    (
        "duplicate-category-code",
        lambda d: d["categories"].append(
            {
                "code": "law",
                "name": "重复",
                "items": [{"code": "T02", "name": "x", "type": "fixed", "points": 1}],
            }
        ),
        "categories[1]",
        "category code law is used by more than one category",
    ),
    (
        "bad-subject",
        _set(("subject",), "family"),
        None,
        "subject must be one of household, member, organisation, staff (got 'family')",
    ),
    (
        "negative-notice-days",
        _set(("notice_days",), -1),
        None,
        "notice_days must be a whole number, 0 or more (got -1)",
    ),
    (
        "fractional-notice-days",
        _set(("notice_days",), 1.5),
        None,
        "notice_days must be a whole number, 0 or more (got 1.5)",
    ),
    (
        "no-reviewers",
        _set(("reviewers_required",), 0),
        None,
        "reviewers_required must be a positive whole number (got 0)",
    ),
    (
        "negative-threshold",
        _set(("redeem_threshold",), -5),
        None,
        "redeem_threshold must be 0 or more",
    ),
    (
        "zero-cap-count",
        _item(type="fixed", points=1, cap={"per": "month", "count": 0}),
        "T01",
        "cap.count must be a positive whole number (got 0)",
    ),
    (
        "negative-cap-count",
        _item(type="fixed", points=1, cap={"per": "month", "count": -2}),
        "T01",
        "cap.count must be a positive whole number",
    ),
    (
        "zero-cap-points",
        _item(type="fixed", points=1, cap={"per": "year", "points": 0}),
        "T01",
        "cap.points must be positive",
    ),
    (
        "negative-cap-points",
        _item(type="fixed", points=1, cap={"per": "year", "points": -1}),
        "T01",
        "cap.points must be positive (got -1)",
    ),
    (
        "cap-without-limit",
        _item(type="fixed", points=1, cap={"per": "year"}),
        "T01",
        "cap needs count or points",
    ),
    (
        "bad-cap-period",
        _item(type="fixed", points=1, cap={"per": "fortnight", "count": 1}),
        "T01",
        "cap.per must be one of day, week, month, quarter, year",
    ),
    (
        "cap-key-typo",
        _item(type="fixed", points=1, cap={"per": "day", "cont": 1}),
        "T01",
        "cap: unknown key 'cont' (did you mean 'count'?)",
    ),
    (
        "range-min-above-max",
        _item(type="range", min=5, max=1),
        "T01",
        "min (5) must not be greater than max (1)",
    ),
    (
        "per-unit-zero-per",
        _item(type="per_unit", per=0, unit="小时"),
        "T01",
        "per must be more than 0",
    ),
    (
        "per-unit-negative-per",
        _item(type="per_unit", per=-1, unit="小时"),
        "T01",
        "per must be more than 0",
    ),
    ("per-unit-missing-unit", _item(type="per_unit", per=1), "T01", "missing key 'unit'"),
    (
        "per-unit-empty-unit",
        _item(type="per_unit", per=1, unit=""),
        "T01",
        "unit must be non-empty text",
    ),
    (
        "graded-empty-grades",
        _item(type="graded", grades={}),
        "T01",
        "grades must list at least one grade",
    ),
    (
        "graded-text-points",
        _item(type="graded", grades={"优": "五"}),
        "T01",
        "grades.优 must be a number",
    ),
    ("fixed-zero-points", _item(type="fixed", points=0), "T01", "points must not be 0"),
    (
        "two-decimals-points",
        _item(type="fixed", points=2.55),
        "T01",
        "points must have at most one decimal place (got 2.55)",
    ),
    (
        "two-decimals-range",
        _item(type="range", min=0.25, max=1),
        "T01",
        "min must have at most one decimal place",
    ),
    (
        "two-decimals-threshold",
        _set(("redeem_threshold",), 10.25),
        None,
        "redeem_threshold must have at most one decimal place",
    ),
    (
        "two-decimals-star-min",
        _set(("stars", 0, "min"), 50.05),
        "stars[0]",
        "min must have at most one decimal place",
    ),
    ("text-points", _item(type="fixed", points="5"), "T01", "points must be a number, not text"),
    ("bool-points", _item(type="fixed", points=True), "T01", "points must be a number, not yes/no"),
    (
        "bool-notice-days",
        _set(("notice_days",), True),
        None,
        "notice_days must be a whole number, 0 or more (got yes)",
    ),
    (
        "bool-cap-count",
        _item(type="fixed", points=1, cap={"per": "day", "count": True}),
        "T01",
        "cap.count must be a positive whole number (got yes)",
    ),
    ("bad-veto", _item(type="fixed", points=1, veto="maybe"), "T01", "veto must be true or false"),
    (
        "zero-stars",
        _set(("stars", 0, "stars"), 0),
        "stars[0]",
        "stars must be a positive whole number",
    ),
    ("too-many-stars", _set(("stars", 0, "stars"), 9), "stars[0]", "stars must be from 1 to 5"),
    ("negative-star-min", _set(("stars", 0, "min"), -1), "stars[0]", "min must be 0 or more"),
    ("star-row-missing-min", _delete(("stars", 1, "min")), "stars[1]", "missing key 'min'"),
    ("same-star-min", _set(("stars", 1, "min"), 50), "stars", "two rows have the same min 50"),
    (
        "stars-not-rising",
        _set(("stars", 1, "stars"), 2),
        "stars",
        "a row with a higher min must give more stars",
    ),
    (
        "bad-carry",
        _set(("year_end", "carry"), "some"),
        "year_end.carry",
        "must be all, none or {max: N}",
    ),
    (
        "negative-carry-max",
        _set(("year_end", "carry"), {"max": -1}),
        "year_end.carry",
        "max must be 0 or more",
    ),
    (
        "carry-key-typo",
        _set(("year_end", "carry"), {"maximum": 50}),
        "year_end.carry",
        "must be all, none or {max: N}",
    ),
    (
        "zero-award-top",
        _set(("year_end", "awards", "top"), 0),
        "year_end.awards",
        "top must be a positive whole number",
    ),
    (
        "bad-award-unit",
        _set(("year_end", "awards", "per"), "town"),
        "year_end.awards",
        "per must be one of county, township, village",
    ),
    ("no-categories", _set(("categories",), []), "categories", "must list at least one category"),
    (
        "category-without-items",
        _set(("categories", 0, "items"), []),
        "categories[0]",
        "category law must list at least one item",
    ),
    (
        "category-missing-name",
        _delete(("categories", 0, "name")),
        "categories[0]",
        "missing key 'name'",
    ),
]


@pytest.mark.parametrize(
    "change, item, reason",
    [case[1:] for case in INVALID_SCHEMES],
    ids=[case[0] for case in INVALID_SCHEMES],
)
def test_invalid_scheme_is_refused_with_file_item_and_reason(tmp_path, change, item, reason):
    data = small_scheme()
    change(data)
    path = write_yaml(tmp_path, data)
    error = load_error(path)
    assert error.file == str(path)
    assert error.item == item
    assert reason in error.reason
    assert str(error).startswith(str(path) + ": ")
    if item is not None:
        assert item in str(error)
    assert reason in str(error)


def test_error_reads_file_item_reason(tmp_path):
    data = small_scheme()
    first_item(data)["cap"] = {"per": "month", "points": -1}
    path = write_yaml(tmp_path, data)
    assert str(load_error(path)) == f"{path}: item T01: cap.points must be positive (got -1)"


def test_yes_where_a_number_belongs_is_refused(tmp_path):
    text = yaml.safe_dump(small_scheme(), allow_unicode=True, sort_keys=False)
    path = write_text(tmp_path, text.replace("points: 5", "points: yes"))
    error = load_error(path)
    assert error.item == "T01"
    assert "points must be a number, not yes/no" in error.reason


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "the file is empty"),
        ("# 只有注释\n", "the file is empty"),
        ("- code: demo\n- name: x\n", "the file must be a mapping"),
        ("just words\n", "the file must be a mapping"),
    ],
)
def test_empty_or_non_mapping_file_is_refused(tmp_path, text, reason):
    path = write_text(tmp_path, text)
    error = load_error(path)
    assert error.file == str(path) and error.item is None
    assert reason in error.reason


def test_broken_yaml_names_the_line(tmp_path):
    text = "code: demo\nname: 示例\nsubject: [household\nnotice_days: 3\n"
    error = load_error(write_text(tmp_path, text))
    assert error.item is None
    assert error.reason.startswith("invalid YAML at line ")
    assert "line 4" in error.reason or "line 3" in error.reason


def test_key_written_twice_is_refused_with_its_line(tmp_path):
    lines = yaml.safe_dump(small_scheme(), allow_unicode=True, sort_keys=False).splitlines()
    line = next(n for n, value in enumerate(lines, 1) if value.strip() == "points: 5") + 1
    lines.insert(line - 1, lines[line - 2].replace("5", "6"))
    text = "\n".join(lines) + "\n"
    error = load_error(write_text(tmp_path, text))
    assert f"invalid YAML at line {line}" in error.reason
    assert "key 'points' is written twice" in error.reason


def test_infinite_points_are_refused(tmp_path):
    text = yaml.safe_dump(small_scheme(), allow_unicode=True, sort_keys=False)
    error = load_error(write_text(tmp_path, text.replace("points: 5", "points: .inf")))
    assert error.item == "T01"
    assert "points must be a finite number" in error.reason


def test_file_not_in_utf8_is_refused(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_bytes("name: 示例\n".encode("gbk"))
    assert "not UTF-8" in load_error(path).reason


def test_file_with_byte_order_mark_loads(tmp_path):
    path = tmp_path / "demo.yaml"
    text = yaml.safe_dump(small_scheme(), allow_unicode=True, sort_keys=False)
    path.write_bytes(text.encode("utf-8-sig"))
    assert load_scheme_file(path).code == "demo"


# -- directories -----------------------------------------------------------------------


def test_check_dir_lists_every_error_of_every_file(tmp_path):
    write_yaml(tmp_path, small_scheme(), "a-good.yaml")
    several = small_scheme()
    several["subject"] = "family"
    several["categories"][0]["items"] = [
        {"code": "T01", "name": "一", "type": "fixed", "points": 0},
        {"code": "T02", "name": "二", "type": "range", "min": 3, "max": 1},
    ]
    several["code"] = "several"
    write_yaml(tmp_path, several, "b-several.yml")
    write_text(tmp_path, "code: [broken\n", "c-broken.yaml")
    write_text(tmp_path, "not a scheme", "notes.txt")
    errors = check_dir(tmp_path)
    found = [(Path(error.file).name, error.item) for error in errors]
    assert found == [
        ("b-several.yml", None),
        ("b-several.yml", "T01"),
        ("b-several.yml", "T02"),
        ("c-broken.yaml", None),
    ]
    with pytest.raises(RuleError) as info:
        load_scheme_dir(tmp_path)
    assert str(info.value) == str(errors[0])


def test_two_files_with_one_scheme_code_are_refused(tmp_path):
    write_yaml(tmp_path, small_scheme(), "a.yaml")
    write_yaml(tmp_path, small_scheme(), "b.yaml")
    errors = check_dir(tmp_path)
    assert len(errors) == 1
    assert errors[0].file == str(tmp_path / "b.yaml")
    assert "scheme code demo is already used by" in errors[0].reason
    assert str(tmp_path / "a.yaml") in errors[0].reason


def test_load_scheme_dir_reads_files_in_name_order(tmp_path):
    second = copy.deepcopy(small_scheme())
    second["code"] = "alpha"
    write_yaml(tmp_path, small_scheme(), "1-demo.yaml")
    write_yaml(tmp_path, second, "2-alpha.yml")
    assert [scheme.code for scheme in load_scheme_dir(tmp_path)] == ["demo", "alpha"]


def test_missing_or_empty_directory_is_an_error(tmp_path):
    assert "no such directory" in check_dir(tmp_path / "nowhere")[0].reason
    assert "no scheme files" in check_dir(tmp_path)[0].reason
