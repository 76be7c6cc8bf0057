"""Check a scheme given as plain data and build the model from it.

The same checks serve a YAML file (numbers must be written as numbers) and a scheme
stored as JSON by the app (numbers may come back as text). Every problem becomes a
RuleError naming the item or key and saying what is wrong; the reader goes on after
a bad item so that `rules check` can list every problem of a file at once.
"""

import difflib
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from points.rules.decimals import to_points, to_whole
from points.rules.errors import RuleError
from points.rules.model import (
    ITEM_TYPES,
    PERIODS,
    SUBJECTS,
    UNIT_KINDS,
    WHEN,
    Cap,
    Category,
    GradeRow,
    Item,
    Scheme,
    StarRow,
    YearEnd,
)
from points.rules.model import PLATFORM_MEASURES, RANKING_PERIODS, RATERS, Appraisal

SCHEME_CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_STARS = 5

SCHEME_REQUIRED = (
    "code",
    "name",
    "subject",
    "notice_days",
    "reviewers_required",
    "redeem_threshold",
    "categories",
)
SCHEME_OPTIONAL = ("stars", "year_end")
SCHEME_OPTIONAL += ("adopted", "grades")  # second wave: ratification, 评档定级
CATEGORY_KEYS = ("code", "name", "items")
ITEM_REQUIRED = ("code", "name", "type")
ITEM_OPTIONAL = ("veto", "cap", "evidence")
ITEM_OPTIONAL += ("when", "lawful_basis")  # second wave
TYPE_FIELDS = {
    "fixed": ("points",),
    "range": ("min", "max"),
    "per_unit": ("per", "unit"),
    "graded": ("grades",),
}
TYPE_FIELDS["hours_graded"] = ("per", "unit", "grades")
CARRY_EXAMPLE = "all, none or {max: N}"
# Grid workers (Linxia): the scheme's rhythm, democratic appraisal, platform items.
SCHEME_OPTIONAL += ("period", "appraisal")
TYPE_FIELDS["platform"] = ("measure", "per")
APPRAISAL_EXAMPLE = "{item: LX20, raters: household, ratings: {满意: 10, 基本满意: 6, 不满意: 0}}"
ADOPTED_EXAMPLE = "{on: 2026-03-01, by: 村民代表会议, present: 45, for: 43, against: 1, abstain: 1}"
ADOPTED_VOTES = ("present", "for", "against", "abstain")
# Acts the law protects (petitions, complaints, lawsuits, belief, votes): a scheme may deduct for
# one only when it names the rule that makes the deduction lawful (`lawful_basis`).
PROTECTED_ACTS = (
    "上访",
    "信访",
    "投诉",
    "举报",
    "检举",
    "控告",
    "申诉",
    "诉讼",
    "起诉",
    "复议",
    "仲裁",
    "信教",
    "宗教",
    "信仰",
    "选举",
    "投票",
    "选票",
)


def scheme_from_dict(data):
    """Rebuild a Scheme from `Scheme.to_dict()` output, also after a JSON round trip."""
    scheme, errors = read_scheme(data, file=None, numbers_as_text=True)
    if errors:
        raise errors[0]
    return scheme


def read_scheme(data, file, numbers_as_text=False):
    """Return (Scheme or None, list of RuleError) for the plain data of one scheme."""
    reader = _SchemeReader(file, numbers_as_text)
    return reader.scheme(data), reader.errors


def _key_problems(raw, required, optional=()):
    """Reasons for unknown keys (with a guess at the intended one), then missing keys."""
    allowed = list(required) + list(optional)
    reasons = []
    for key in raw:
        if key not in allowed:
            guess = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            if isinstance(key, bool):
                hint = " (YAML reads on, off, yes and no as true or false: quote the key)"
            reasons.append(f"unknown key '{key}'{hint}")
    reasons += [f"missing key '{key}'" for key in required if key not in raw]
    return reasons


def _is_text(value):
    return isinstance(value, str) and value.strip() != ""


def _shown(value):
    """A value as the file's author wrote it, for "(got ...)" in a reason."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    return str(value)


# Keys written with nothing after them (`adopted:`) that count as not given.
NOTHING_IS_ABSENT = ("adopted", "grades")


class _SchemeReader:
    """Reads one scheme, collecting a RuleError per problem."""

    def __init__(self, file, numbers_as_text):
        self.file = file
        self.numbers_as_text = numbers_as_text
        self.errors = []

    def _at(self, where, is_path=True):
        """A function making RuleErrors located at an item code or key path."""
        return lambda reason: RuleError(self.file, where, reason, is_path)

    # -- numbers and text, shared by every level -------------------------------------

    def _number(self, value, name, fail):
        try:
            return to_points(value, allow_text=self.numbers_as_text)
        except ValueError as error:
            raise fail(f"{name} {error}") from None

    def _whole(self, value, name, fail, least):
        try:
            number = to_whole(value)
        except ValueError:
            number = None
        if number is None or number < least:
            wording = (
                "a positive whole number" if least == 1 else f"a whole number, {least} or more"
            )
            raise fail(f"{name} must be {wording} (got {_shown(value)})")
        return number

    @staticmethod
    def _text(value, name, fail):
        if not _is_text(value):
            raise fail(f"{name} must be non-empty text (got {_shown(value)})")
        return value.strip()

    # -- the scheme ------------------------------------------------------------------

    def scheme(self, data):
        if data is None:
            self.errors.append(RuleError(self.file, None, "the file is empty"))
            return None
        if not isinstance(data, dict):
            self.errors.append(
                RuleError(
                    self.file,
                    None,
                    "the file must be a mapping of keys (code, name, subject, ...)"
                    f", not a {type(data).__name__}",
                )
            )
            return None
        fail = self._at(None)
        self.errors += [
            fail(reason) for reason in _key_problems(data, SCHEME_REQUIRED, SCHEME_OPTIONAL)
        ]
        fields = self._scheme_fields(data)
        if self.errors:
            return None
        self._check_staff_parts(fields)
        if self.errors:
            return None
        return Scheme(**fields)

    def _scheme_fields(self, data):
        readers = {
            "code": self._scheme_code,
            "name": lambda v: self._text(v, "name", self._at(None)),
            "subject": self._subject,
            "notice_days": lambda v: self._whole(v, "notice_days", self._at(None), least=0),
            "reviewers_required": lambda v: self._whole(
                v, "reviewers_required", self._at(None), least=1
            ),
            "redeem_threshold": self._threshold,
            "stars": self._stars,
            "year_end": self._year_end,
            "categories": self._categories,
        }
        readers.update(period=self._period, appraisal=self._appraisal)
        readers.update(adopted=self._adopted, grades=self._grade_table)  # the second wave
        fields = {"stars": (), "year_end": YearEnd()}
        for key, read in readers.items():
            if key not in data or (data[key] is None and key in NOTHING_IS_ABSENT):
                continue
            try:
                fields[key] = read(data[key])
            except RuleError as error:
                self.errors.append(error)
        return fields

    def _scheme_code(self, value):
        if not isinstance(value, str) or not SCHEME_CODE.match(value):
            raise self._at(None)(
                "code must be lowercase letters, digits and dashes, starting with a letter "
                f"or digit, like longhua (got {_shown(value)})"
            )
        return value

    def _subject(self, value):
        if value not in SUBJECTS:
            raise self._at(None)(
                f"subject must be one of {', '.join(SUBJECTS)} (got {_shown(value)})"
            )
        return value

    def _threshold(self, value):
        fail = self._at(None)
        threshold = self._number(value, "redeem_threshold", fail)
        if threshold < 0:
            raise fail(f"redeem_threshold must be 0 or more (got {threshold})")
        return threshold

    # -- stars and year end ----------------------------------------------------------

    def _stars(self, value):
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self._at("stars")("must be a list of rows like {min: 90, stars: 5}")
        rows = []
        for index, raw in enumerate(value):
            try:
                rows.append(self._star_row(raw, self._at(f"stars[{index}]")))
            except RuleError as error:
                self.errors.append(error)
        rows.sort(key=lambda row: row.min, reverse=True)
        self._check_star_order(rows)
        return tuple(rows)

    def _star_row(self, raw, fail):
        if not isinstance(raw, dict):
            raise fail("must be a row like {min: 90, stars: 5}")
        problems = _key_problems(raw, ("min", "stars"))
        if problems:
            raise fail(problems[0])
        least = self._number(raw["min"], "min", fail)
        if least < 0:
            raise fail(f"min must be 0 or more (got {least})")
        stars = self._whole(raw["stars"], "stars", fail, least=1)
        if stars > MAX_STARS:
            raise fail(f"stars must be from 1 to {MAX_STARS} (got {stars})")
        return StarRow(least, stars)

    def _check_star_order(self, rows):
        fail = self._at("stars")
        for higher, lower in zip(rows, rows[1:]):
            if higher.min == lower.min:
                raise fail(f"two rows have the same min {higher.min}")
            if higher.stars <= lower.stars:
                raise fail(
                    f"a row with a higher min must give more stars (min {higher.min} "
                    f"gives {higher.stars}, min {lower.min} gives {lower.stars})"
                )

    def _year_end(self, value):
        if value is None:
            return YearEnd()
        fail = self._at("year_end")
        if not isinstance(value, dict):
            raise fail("must be a mapping with carry and awards")
        problems = _key_problems(value, (), ("carry", "awards"))
        if problems:
            raise fail(problems[0])
        carry = self._carry(value.get("carry", "all"))
        awards = self._awards(value.get("awards"))
        return YearEnd(carry, awards)

    def _carry(self, value):
        fail = self._at("year_end.carry")
        if value in ("all", "none"):
            return value
        if not isinstance(value, dict) or list(value) != ["max"]:
            raise fail(f"must be {CARRY_EXAMPLE} (got {_shown(value)})")
        most = self._number(value["max"], "max", fail)
        if most < 0:
            raise fail(f"max must be 0 or more (got {most})")
        return {"max": most}

    def _awards(self, value):
        if value is None:
            return None
        fail = self._at("year_end.awards")
        if not isinstance(value, dict):
            raise fail("must be a mapping like {top: 10, per: village}")
        problems = _key_problems(value, ("top", "per"))
        if problems:
            raise fail(problems[0])
        top = self._whole(value["top"], "top", fail, least=1)
        if value["per"] not in UNIT_KINDS:
            raise fail(f"per must be one of {', '.join(UNIT_KINDS)} (got {_shown(value['per'])})")
        return {"top": top, "per": value["per"]}

    # -- categories and items --------------------------------------------------------

    def _categories(self, value):
        if not isinstance(value, list) or not value:
            raise self._at("categories")("must list at least one category")
        read = [
            (index, self._category(raw, f"categories[{index}]")) for index, raw in enumerate(value)
        ]
        categories = [(index, category) for index, category in read if category is not None]
        self._check_unique_codes(categories)
        return tuple(category for _, category in categories)

    def _category(self, raw, path):
        fail = self._at(path)
        try:
            if not isinstance(raw, dict):
                raise fail("must be a mapping with code, name and items")
            problems = _key_problems(raw, CATEGORY_KEYS)
            if problems:
                raise fail(problems[0])
            code = self._text(raw["code"], "code", fail)
            name = self._text(raw["name"], "name", fail)
            if not isinstance(raw["items"], list) or not raw["items"]:
                raise fail(f"category {code} must list at least one item")
        except RuleError as error:
            self.errors.append(error)
            return None
        return Category(code, name, self._items(raw["items"], code, path))

    def _items(self, raws, category, path):
        """The good items; each bad one is recorded (and the scheme then not built)."""
        items = []
        for index, raw in enumerate(raws):
            try:
                items.append(self._item(raw, category, f"{path}.items[{index}]"))
            except RuleError as error:
                self.errors.append(error)
        return tuple(items)

    def _check_unique_codes(self, categories):
        """Category codes and item codes are each unique within the scheme."""
        seen_categories, seen_items = set(), set()
        for index, category in categories:
            if category.code in seen_categories:
                self.errors.append(
                    self._at(f"categories[{index}]")(
                        f"category code {category.code} is used by more than one category"
                    )
                )
            seen_categories.add(category.code)
            for item in category.items:
                if item.code in seen_items:
                    self.errors.append(
                        self._at(item.code, is_path=False)(
                            f"code {item.code} is used by more than one item"
                        )
                    )
                seen_items.add(item.code)

    def _item(self, raw, category, path):
        if not isinstance(raw, dict):
            raise self._at(path)("must be a mapping with code, name and type")
        code = raw.get("code")
        fail = self._at(code.strip(), is_path=False) if _is_text(code) else self._at(path)
        self._text(code, "code", fail)
        item_type = self._item_type(raw, fail)
        veto = raw.get("veto", False)
        if veto is None:
            veto = False
        if not isinstance(veto, bool):
            raise fail(f"veto must be true or false (got {_shown(veto)})")
        evidence = raw.get("evidence") or "optional"
        if evidence not in ("required", "optional"):
            raise fail(f"evidence must be required or optional (got {_shown(evidence)})")
        item = Item(
            code=code.strip(),
            name=self._text(raw["name"], "name", fail),
            type=item_type,
            category=category,
            veto=veto,
            evidence=evidence,
            cap=self._cap(raw.get("cap"), fail),
            **self._type_fields(raw, item_type, fail),
            **self._item_additions(raw, fail),
        )
        self._check_lawful(item, fail)
        return item

    @staticmethod
    def _item_type(raw, fail):
        """The item's type, once its keys are known to suit that type."""
        item_type = raw.get("type")
        if item_type is None:
            # Allow every type's fields so that a typo in `type` itself is named as such.
            all_fields = tuple(key for fields in TYPE_FIELDS.values() for key in fields)
            raise fail(_key_problems(raw, ITEM_REQUIRED, ITEM_OPTIONAL + all_fields)[0])
        if item_type not in ITEM_TYPES:
            raise fail(f"type must be one of {', '.join(ITEM_TYPES)} (got {_shown(item_type)})")
        fields = TYPE_FIELDS[item_type]
        for other_fields in TYPE_FIELDS.values():
            for key in other_fields:
                if key in raw and key not in fields:
                    raise fail(
                        f"{key} is not used by a {item_type} item (it needs {' and '.join(fields)})"
                    )
        problems = _key_problems(raw, ITEM_REQUIRED + fields, ITEM_OPTIONAL)
        if problems:
            raise fail(problems[0])
        return item_type

    def _type_fields(self, raw, item_type, fail):
        if item_type == "fixed":
            points = self._number(raw["points"], "points", fail)
            if points == 0:
                raise fail("points must not be 0")
            return {"points": points}
        if item_type == "range":
            least = self._number(raw["min"], "min", fail)
            most = self._number(raw["max"], "max", fail)
            if least > most:
                raise fail(f"min ({least}) must not be greater than max ({most})")
            return {"min": least, "max": most}
        if item_type == "per_unit":
            per = self._number(raw["per"], "per", fail)
            if per <= 0:
                raise fail(f"per must be more than 0 (got {per})")
            return {"per": per, "unit": self._text(raw["unit"], "unit", fail)}
        if item_type == "platform":
            return self._platform_fields(raw, fail)
        if item_type == "hours_graded":
            return self._hours_graded(raw, fail)
        return {"grades": self._grades(raw["grades"], fail)}

    def _grades(self, value, fail):
        if not isinstance(value, dict) or not value:
            raise fail("grades must list at least one grade, like {优: 5, 良: 3, 中: 1}")
        grades = {}
        for name, points in value.items():
            if not _is_text(name):
                raise fail(f"grades: a grade name must be non-empty text (got {_shown(name)})")
            grades[name.strip()] = self._number(points, f"grades.{name}", fail)
        return grades

    def _cap(self, value, fail):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise fail("cap must be a mapping like {per: month, count: 1}")
        problems = _key_problems(value, ("per",), ("count", "points"))
        if problems:
            raise fail(f"cap: {problems[0]}")
        if value["per"] not in PERIODS:
            raise fail(f"cap.per must be one of {', '.join(PERIODS)} (got {_shown(value['per'])})")
        count, points = value.get("count"), value.get("points")
        if count is None and points is None:
            raise fail("cap needs count or points (or both)")
        if count is not None:
            count = self._whole(count, "cap.count", fail, least=1)
        if points is not None:
            points = self._number(points, "cap.points", fail)
            if points <= 0:
                raise fail(f"cap.points must be positive (got {points})")
        return Cap(value["per"], count, points)

    # -- grid workers: period, appraisal, platform items (Linxia) -------------------

    def _period(self, value):
        if value not in RANKING_PERIODS:
            raise self._at("period")(
                f"must be one of {', '.join(RANKING_PERIODS)} (got {_shown(value)})"
            )
        return value

    def _appraisal(self, value):
        """民主测评: the item its result goes under, who rates, and ratings worth numbers."""
        if value is None:
            return None
        fail = self._at("appraisal")
        if not isinstance(value, dict):
            raise fail(f"must be a mapping like {APPRAISAL_EXAMPLE}")
        problems = _key_problems(value, ("item", "raters", "ratings"))
        if problems:
            raise fail(problems[0])
        item = self._text(value["item"], "item", fail)
        if value["raters"] not in RATERS:
            raise fail(f"raters must be one of {', '.join(RATERS)} (got {_shown(value['raters'])})")
        ratings = value["ratings"]
        if not isinstance(ratings, dict) or len(ratings) < 2:
            raise fail(
                "ratings must name at least two ratings with their points, "
                "like {满意: 10, 不满意: 0}"
            )
        read = {}
        for name, points in ratings.items():
            if not _is_text(name):
                raise fail(f"ratings: a rating's name must be non-empty text (got {_shown(name)})")
            read[name.strip()] = self._number(
                points, f"ratings.{name}", self._at("appraisal.ratings")
            )
        return Appraisal(item, value["raters"], read)

    def _platform_fields(self, raw, fail):
        measure = raw["measure"]
        if measure not in PLATFORM_MEASURES:
            raise fail(
                f"measure must be one of {', '.join(PLATFORM_MEASURES)} (got {_shown(measure)})"
            )
        per = self._number(raw["per"], "per", fail)
        if per <= 0:
            raise fail(f"per must be more than 0 (got {per})")
        return {"measure": measure, "per": per}

    def _check_staff_parts(self, fields):
        """Platform items and appraisal count a grid worker's own work: staff schemes only;
        the appraisal's item is a range item that holds every rating's points."""
        staff = fields.get("subject") == "staff"
        items = [item for category in fields["categories"] for item in category.items]
        for item in items:
            if item.type == "platform" and not staff:
                self.errors.append(
                    self._at(item.code, is_path=False)(
                        "a platform item counts a grid worker's own work: "
                        "only in a scheme with subject: staff"
                    )
                )
        appraisal = fields.get("appraisal")
        if appraisal is None:
            return
        fail = self._at("appraisal")
        if not staff:
            self.errors.append(
                fail(
                    "democratic appraisal rates grid workers: only in a scheme with subject: staff"
                )
            )
            return
        item = next((item for item in items if item.code == appraisal.item), None)
        if item is None:
            self.errors.append(fail(f"item {appraisal.item} is not an item of this scheme"))
        elif item.type != "range":
            self.errors.append(
                self._at(item.code, is_path=False)(
                    "the appraisal's item must be a range item holding every rating's points "
                    f"(it is {item.type})"
                )
            )
        else:
            for name, points in appraisal.ratings.items():
                if not item.min <= points <= item.max:
                    self.errors.append(
                        self._at("appraisal.ratings")(
                            f"{name} gives {points}, "
                            f"outside {item.code}'s range {item.min} to {item.max}"
                        )
                    )

    # -- second wave: ratification, grades, hours_graded, when, lawful_basis ------------

    def _adopted(self, value):
        """民主程序: when and by whom this version was ratified, and the votes."""
        fail = self._at("adopted")
        if not isinstance(value, dict):
            raise fail(f"must be a mapping like {ADOPTED_EXAMPLE}")
        # YAML 1.1 reads a bare `on` as true: that key is the date all the same.
        value = {("on" if key is True else key): v for key, v in value.items()}
        problems = _key_problems(value, ("on", "by"), ADOPTED_VOTES)
        if problems:
            raise fail(problems[0])
        adopted = {
            "on": self._day(value["on"], fail).isoformat(),
            "by": self._text(value["by"], "by", fail),
        }
        for key in ADOPTED_VOTES:
            if value.get(key) is not None:
                adopted[key] = self._whole(value[key], key, fail, least=0)
        present = adopted.get("present")
        cast = sum(adopted.get(key, 0) for key in ("for", "against", "abstain"))
        if present is not None and cast > present:
            raise fail(
                f"for, against and abstain add up to {cast}, more than the {present} present"
            )
        if present is not None and "for" in adopted and adopted["for"] * 2 <= present:
            raise fail(
                f"{adopted['for']} for out of {present} present is not a majority: "
                "the version was not adopted"
            )
        return adopted

    @staticmethod
    def _day(value, fail):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise fail(f"on must be a date like 2026-03-01 (got {_shown(value)})") from None

    def _grade_table(self, value):
        """评档定级: rows {min, grade}, written from the highest min to the lowest."""
        fail = self._at("grades")
        if not isinstance(value, list) or not value:
            raise fail("must be a list of rows like {min: 90, grade: A}, highest min first")
        rows = []
        for index, raw in enumerate(value):
            row_fail = self._at(f"grades[{index}]")
            if not isinstance(raw, dict):
                raise row_fail("must be a row like {min: 90, grade: A}")
            problems = _key_problems(raw, ("min", "grade"))
            if problems:
                raise row_fail(problems[0])
            grade = raw["grade"]
            if not _is_text(grade):
                raise row_fail(f"grade must be non-empty text (got {_shown(grade)})")
            row = GradeRow(self._number(raw["min"], "min", row_fail), str(grade).strip())
            if rows and row.min >= rows[-1].min:
                raise row_fail(
                    f"grades must go from the highest min to the lowest: min {row.min} "
                    f"({row.grade}) comes after min {rows[-1].min} ({rows[-1].grade})"
                )
            if any(earlier.grade == row.grade for earlier in rows):
                raise row_fail(f"grade {row.grade} is written twice")
            rows.append(row)
        return tuple(rows)

    def _hours_graded(self, raw, fail):
        """Hours × per × the factor of the grade the reviewers name (优: 1.0, 良: 0.8, ...)."""
        per = self._number(raw["per"], "per", fail)
        if per <= 0:
            raise fail(f"per must be more than 0 (got {per})")
        factors = raw["grades"]
        if not isinstance(factors, dict) or not factors:
            raise fail(
                "grades must list at least one grade with its factor, "
                "like {优: 1.0, 良: 0.8, 中: 0.5}"
            )
        grades = {}
        for name, factor in factors.items():
            if not _is_text(name):
                raise fail(f"grades: a grade name must be non-empty text (got {_shown(name)})")
            grades[name.strip()] = self._factor(factor, f"grades.{name}", fail)
        return {"per": per, "unit": self._text(raw["unit"], "unit", fail), "grades": grades}

    def _factor(self, value, name, fail):
        text_ok = self.numbers_as_text and isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)) and not text_ok:
            raise fail(f"{name} must be a number like 0.8 (got {_shown(value)})")
        try:
            factor = Decimal(str(value).strip())
        except InvalidOperation:
            raise fail(f"{name} must be a number like 0.8 (got {_shown(value)})") from None
        if (
            not factor.is_finite()
            or factor <= 0
            or factor > 10
            or factor != factor.quantize(Decimal("0.01"))
        ):
            raise fail(
                f"{name} must be more than 0, at most 10, with at most two decimals "
                f"(got {_shown(value)})"
            )
        return (
            factor.normalize()
            if factor != factor.to_integral_value()
            else factor.quantize(Decimal(1))
        )

    def _item_additions(self, raw, fail):
        additions = {}
        when = raw.get("when")
        if when is not None:
            if when not in WHEN:
                raise fail(f"when must be {' or '.join(WHEN)} (got {_shown(when)})")
            additions["when"] = when
        if raw.get("lawful_basis") is not None:
            additions["lawful_basis"] = self._text(raw["lawful_basis"], "lawful_basis", fail)
        return additions

    @staticmethod
    def _check_lawful(item, fail):
        """A deduction for a protected act (上访, 投诉, 诉讼, 信教, 投票 ...) must say its lawful
        basis."""
        if item.lawful_basis is not None or not _deducts(item):
            return
        acts = [act for act in PROTECTED_ACTS if act in item.name]
        if acts:
            raise fail(
                f"deducts for {'、'.join(acts)}, which the law protects: state the rule that "
                "makes this deduction lawful in lawful_basis, or remove the item"
            )


def _deducts(item):
    """Whether an entry under the item can take points away."""
    if item.type == "fixed":
        return item.points < 0
    if item.type == "range":
        return item.min < 0
    if item.type == "graded":
        return any(points < 0 for points in item.grades.values())
    return False


def scheme_warnings(scheme, file):
    """What `rules check` warns of without refusing the file: a version never ratified."""
    if scheme.adopted is None:
        return [
            RuleError(
                file,
                "adopted",
                "no adopted: record when and by whom (村民代表会议 ...) "
                f"this version was ratified, like {ADOPTED_EXAMPLE}",
                True,
            )
        ]
    return []
