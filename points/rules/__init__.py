"""Scoring rules (积分规则): YAML schemes in, scheme objects and point computations out.

Plain Python on purpose: nothing here imports Flask, the database or the rest of the app.
"""

from points.rules.errors import InvalidValue, RuleError
from points.rules.loader import check_dir, load_scheme_dir, load_scheme_file, warnings_of_dir
from points.rules.model import (
    ITEM_TYPES,
    PERIODS,
    SUBJECTS,
    UNIT_KINDS,
    Cap,
    Category,
    GradeRow,
    Item,
    Scheme,
    StarRow,
    YearEnd,
    cap_window,
)
from points.rules.validation import scheme_from_dict

__all__ = [
    "Cap",
    "Category",
    "GradeRow",
    "InvalidValue",
    "Item",
    "ITEM_TYPES",
    "PERIODS",
    "RuleError",
    "Scheme",
    "StarRow",
    "SUBJECTS",
    "UNIT_KINDS",
    "YearEnd",
    "cap_window",
    "check_dir",
    "load_scheme_dir",
    "load_scheme_file",
    "scheme_from_dict",
    "warnings_of_dir",
]
