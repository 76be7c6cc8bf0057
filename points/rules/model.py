"""Schemes, categories, items and caps: what a scheme file describes, and how an item scores."""

import calendar
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from points.rules.decimals import TENTH, canonical, to_points
from points.rules.errors import InvalidValue

SUBJECTS = ("household", "member", "organisation", "staff")
ITEM_TYPES = ("fixed", "range", "per_unit", "graded")
ITEM_TYPES += (
    "hours_graded",
)  # time × quality, the grade named by the reviewers (时间、内容、质量)
PERIODS = ("day", "week", "month", "quarter", "year")
UNIT_KINDS = ("county", "township", "village", "community", "grid", "branch")

# The input each item type reads; a fixed item reads none.
_INPUT_OF_TYPE = {"fixed": None, "range": "points", "per_unit": "quantity", "graded": "grade"}
_INPUT_OF_TYPE["hours_graded"] = "quantity"  # the recorder gives the hours; reviewers the grade
WHEN = ("year_end",)  # `when: year_end`: only in the last month of the year (items that say 全年…)


def cap_window(per, day):
    """Return the first and last day (inclusive) of the calendar period holding `day`.

    `per` is day, week (ISO: Monday to Sunday), month, quarter or year.
    """
    if isinstance(day, datetime):
        day = day.date()
    if per == "day":
        return day, day
    if per == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if per == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if per == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        return date(day.year, first_month, 1), _month_end(day.year, first_month + 2)
    if per == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(f"unknown period {per!r}; expected one of {', '.join(PERIODS)}")


def _month_end(year, month):
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Cap:
    """上限: at most `count` entries and/or `points` points for one holder in one period.

    Counted over the holder's entries under the item that are not rejected or revoked,
    by the day they occurred; `points` bounds the size of the total, so it also limits
    a deduction item.
    """

    per: str
    count: int | None = None
    points: Decimal | None = None

    def admits(self, used_count, used_points, points):
        """Whether one more entry of `points` fits, given what the period already holds."""
        if self.count is not None and used_count + 1 > self.count:
            return False
        if self.points is not None and abs(Decimal(used_points) + points) > self.points:
            return False
        return True

    def to_dict(self):
        data = {"per": self.per}
        if self.count is not None:
            data["count"] = self.count
        if self.points is not None:
            data["points"] = self.points
        return data


@dataclass(frozen=True)
class Item:
    """积分项目: one deed or deduction a holder can be scored for.

    `type` decides which fields are set: fixed → `points`; range → `min`, `max`;
    per_unit → `per`, `unit`; graded → `grades` (grade name → points, in file order).
    """

    code: str
    name: str
    type: str
    category: str
    veto: bool = False
    cap: Cap | None = None
    evidence: str = "optional"  # "required": no approval before a photo is attached (照片佐证)
    points: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    per: Decimal | None = None
    unit: str | None = None
    grades: dict | None = field(default=None, hash=False)
    measure: str | None = None  # platform items: what the service counts (PLATFORM_MEASURES)
    when: str | None = None  # "year_end": recordable only in December
    lawful_basis: str | None = None  # the rule that makes a deduction for a protected act lawful

    @property
    def input_field(self):
        """The entry field this item reads ('points', 'quantity', 'grade'), or None."""
        return _INPUT_OF_TYPE[self.type]

    def compute_points(self, points=None, quantity=None, grade=None):
        """Return the points of one entry under this item, or raise InvalidValue.

        An empty string counts as not given, as a blank form field does.
        """
        if self.type == "platform":
            raise InvalidValue(
                "item",
                "computed by the service when an appraisal round closes, never recorded by hand",
            )
        given = {"points": points, "quantity": quantity, "grade": grade}
        wanted = self.input_field
        for name, value in given.items():
            if name != wanted and not _blank(value):
                raise InvalidValue(name, "not used by this item", "not_for_item")
        if wanted is None:
            return self.points
        if _blank(given[wanted]):
            raise InvalidValue(wanted, "required for this item", "required_for_item")
        if self.type == "range":
            return self._chosen_points(points)
        if self.type == "per_unit":
            return self._points_for_quantity(quantity)
        if self.type == "hours_graded":
            return self.graded_hours(quantity, self.best_grade)
        return self._grade_points(grade)

    def _chosen_points(self, value):
        chosen = _exact("points", value)
        if not self.min <= chosen <= self.max:
            raise InvalidValue(
                "points",
                f"must be between {self.min} and {self.max}",
                "between",
                min=self.min,
                max=self.max,
            )
        return chosen

    def _points_for_quantity(self, value):
        quantity = _exact("quantity", value)
        if quantity <= 0:
            raise InvalidValue("quantity", "must be more than 0", "not_positive")
        result = (quantity * self.per).quantize(TENTH, rounding=ROUND_HALF_UP)
        return _exact("quantity", result)

    def _grade_points(self, value):
        name = value.strip() if isinstance(value, str) else value
        if not isinstance(name, str) or name not in self.grades:
            raise InvalidValue(
                "grade",
                f"must be one of {', '.join(self.grades)}",
                "one_of",
                choices=", ".join(self.grades),
            )
        return self.grades[name]

    # -- second wave: hours_graded, when, lawful_basis -----------------------------------

    @property
    def graded_by_reviewers(self):
        """Whether the reviewers name this entry's quality grade at approval (hours_graded)."""
        return self.type == "hours_graded"

    @property
    def best_grade(self):
        """The grade with the largest factor: an hours_graded entry is held at it until graded."""
        return max(self.grades, key=lambda name: self.grades[name])

    def lowest_grade(self, names):
        """Of the grades the reviewers named, the one that counts: the lowest factor."""
        return min(names, key=lambda name: self.grades[name])

    def graded_hours(self, quantity, grade):
        """quantity × per × the grade's factor, rounded half-up to one decimal."""
        hours = _exact("quantity", quantity)
        if hours <= 0:
            raise InvalidValue("quantity", "must be more than 0")
        if grade not in (self.grades or {}):
            raise InvalidValue("grade", f"must be one of {', '.join(self.grades)}")
        result = (hours * self.per * self.grades[grade]).quantize(TENTH, rounding=ROUND_HALF_UP)
        return _exact("quantity", result)

    def recordable_on(self, day):
        """False for a `when: year_end` item on a day before December of its year."""
        return self.when != "year_end" or day.month == 12

    def _second_wave_dict(self, data):
        if self.type == "hours_graded":
            data.update(per=self.per, unit=self.unit, grades=dict(self.grades))
        if self.when is not None:
            data["when"] = self.when
        if self.lawful_basis is not None:
            data["lawful_basis"] = self.lawful_basis
        return data

    def to_dict(self):
        """The item as the YAML writes it (without its category)."""
        data = {
            "code": self.code,
            "name": self.name,
            "type": self.type,
            "veto": self.veto,
            "cap": self.cap.to_dict() if self.cap else None,
        }
        if self.evidence == "required":  # only when set, so unchanged schemes keep their digest
            data["evidence"] = self.evidence
        if self.type == "fixed":
            data["points"] = self.points
        elif self.type == "range":
            data.update(min=self.min, max=self.max)
        elif self.type == "per_unit":
            data.update(per=self.per, unit=self.unit)
        elif self.type == "platform":
            data.update(measure=self.measure, per=self.per)
        elif self.type == "graded":
            data["grades"] = dict(self.grades)
        return self._second_wave_dict(data)


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _exact(field_name, value):
    try:
        return to_points(value)
    except ValueError as error:
        raise InvalidValue(field_name, str(error)) from None


@dataclass(frozen=True)
class Category:
    """类别: a heading of the scheme (爱国守法, 文明新风, ...) and its items in order."""

    code: str
    name: str
    items: tuple[Item, ...]

    def to_dict(self):
        return {
            "code": self.code,
            "name": self.name,
            "items": [item.to_dict() for item in self.items],
        }


class StarRow(NamedTuple):
    """One row of the star table (星级文明户): `stars` at net points >= `min`."""

    min: Decimal
    stars: int


class GradeRow(NamedTuple):
    """One row of the grade table (评档定级): `grade` at net points >= `min`."""

    min: Decimal
    grade: str


@dataclass(frozen=True)
class YearEnd:
    """年度结算: what the year-end close does.

    `carry` is 'all', 'none' or {'max': Decimal}; `awards` is {'top': int, 'per': unit kind}
    (the top N holders per unit are awarded, 年终评优) or None.
    """

    carry: object = field(default="all", hash=False)
    awards: dict | None = field(default=None, hash=False)

    def to_dict(self):
        carry = dict(self.carry) if isinstance(self.carry, dict) else self.carry
        return {"carry": carry, "awards": dict(self.awards) if self.awards else None}


@dataclass(frozen=True)
class Scheme:
    """积分方案: a rule set, who holds points under it, and its items by category."""

    code: str
    name: str
    subject: str
    notice_days: int
    reviewers_required: int
    redeem_threshold: Decimal
    stars: tuple[StarRow, ...]
    year_end: YearEnd
    categories: tuple[Category, ...]
    period: str = "year"  # the scheme's rhythm of ranking and review (RANKING_PERIODS)
    appraisal: "Appraisal | None" = field(default=None, hash=False)
    _items: tuple = field(init=False, repr=False, compare=False, hash=False)
    # the ratification of this version (民主程序): {on, by, present, for, against, abstain}
    adopted: dict | None = field(default=None, hash=False)
    grades: tuple[GradeRow, ...] = ()  # 评档定级, highest min first
    _by_code: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        items = tuple(itertools.chain.from_iterable(c.items for c in self.categories))
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_by_code", {item.code: item for item in items})

    @property
    def items(self):
        """All items, category by category, in file order."""
        return self._items

    def item(self, code):
        """The item with this code, or None."""
        return self._by_code.get(code)

    def stars_for(self, points):
        """Stars earned by `points` net points of a year; 0 below every row."""
        points = canonical(Decimal(str(points)))
        for row in self.stars:
            if points >= row.min:
                return row.stars
        return 0

    def grade_for(self, points):
        """The grade earned by `points` net points of the period; None without a grade table
        or below every row."""
        points = canonical(Decimal(str(points)))
        return next((row.grade for row in self.grades if points >= row.min), None)

    def _second_wave_dict(self, data):
        # Only when set, so that a scheme without them keeps its digest (and its version).
        if self.adopted is not None:
            data["adopted"] = dict(self.adopted)
        if self.grades:
            data["grades"] = [{"min": row.min, "grade": row.grade} for row in self.grades]
        return data

    def to_dict(self):
        """The scheme as its YAML wrote it, in JSON-able form (Decimals kept as Decimal)."""
        data = {
            "code": self.code,
            "name": self.name,
            "subject": self.subject,
            "notice_days": self.notice_days,
            "reviewers_required": self.reviewers_required,
            "redeem_threshold": self.redeem_threshold,
            "stars": [{"min": row.min, "stars": row.stars} for row in self.stars],
            "year_end": self.year_end.to_dict(),
            "categories": [category.to_dict() for category in self.categories],
        }
        # Only when set, so that schemes without them keep their digest (and version).
        if self.period != "year":
            data["period"] = self.period
        if self.appraisal is not None:
            data["appraisal"] = self.appraisal.to_dict()
        return self._second_wave_dict(data)


# --- grid workers: platform items, democratic appraisal, periods (issue 12, Linxia) ---------

ITEM_TYPES = ITEM_TYPES + ("platform",)
_INPUT_OF_TYPE["platform"] = None  # 平台统计: the service counts, nobody types a value

# What a `platform` item may count, from the service's own records of the staff holder's
# linked users in a round's period.
PLATFORM_MEASURES = {
    "households_reached": "distinct households it recorded entries for (not rejected or revoked)",
    "entries_recorded": "entries it recorded that are posted",
    "claims_on_time": "residents' claims it accepted or declined within 7 days",
}
CLAIM_DAYS = 7
RANKING_PERIODS = ("year", "half", "quarter", "month")
RATERS = {"household": ("household",), "member": ("member",), "both": ("household", "member")}
_PERIOD = re.compile(r"^(\d{4})(?:-(?:H([12])|Q([1-4])|(\d{2})))?$")


def period_window(text):
    """The first and last day of a period written `YYYY`, `YYYY-H1`, `YYYY-Q3` or `YYYY-MM`,
    and its kind (year, half, quarter, month); ValueError for anything else."""
    match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError("must be a period like 2026, 2026-H1, 2026-Q3 or 2026-07")
    year, half, quarter, month = match.groups()
    year = int(year)
    if half:
        first, kind, months = 6 * (int(half) - 1) + 1, "half", 6
    elif quarter:
        first, kind, months = 3 * (int(quarter) - 1) + 1, "quarter", 3
    elif month:
        first, kind, months = int(month), "month", 1
        if not 1 <= first <= 12:
            raise ValueError("month must be 01 to 12")
    else:
        first, kind, months = 1, "year", 12
    if year < 1900:
        raise ValueError("year must be 1900 or later")
    return date(year, first, 1), _month_end(year, first + months - 1), kind


def platform_points(item, value):
    """A platform item's points for a counted `value`: value × per, rounded half-up to 0.1."""
    return canonical((Decimal(value) * item.per).quantize(TENTH, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Appraisal:
    """民主测评: who rates (household, member or both), the ratings and their values in file
    order, and the item a round's result is recorded under."""

    item: str
    raters: str
    ratings: dict = field(hash=False)

    @property
    def rater_kinds(self):
        return RATERS[self.raters]

    def result(self, counts):
        """The mean of the ballots' values, rounded half-up to one decimal; None without ballots."""
        ballots = sum(counts.values())
        if not ballots:
            return None
        total = sum(self.ratings[name] * n for name, n in counts.items())
        return canonical((Decimal(total) / ballots).quantize(TENTH, rounding=ROUND_HALF_UP))

    def to_dict(self):
        return {"item": self.item, "raters": self.raters, "ratings": dict(self.ratings)}
