"""The fund's request schema and its yuan, shared by the JSON API and the page."""

import marshmallow as ma

from points.errors import reason
from points.http import Schema, text_field

MAX_YUAN = 10**10  # far beyond any village's fund, far below what the column holds


def yuan_field(**kwargs):
    """Yuan as an exact decimal, written as a JSON number (1234.5 → 1234.50 on the way out)."""
    return ma.fields.Decimal(as_string=False, allow_nan=False, **kwargs)


def _fen(value):
    if value is not None and value.as_tuple().exponent < -2:
        raise ma.ValidationError(reason("two_decimals", "yuan have at most two decimal places"))


class NewMovementSchema(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["in", "out"]))
    amount = yuan_field(
        required=True,
        validate=[
            ma.validate.Range(
                min=0, min_inclusive=False, error=reason("not_positive", "must be more than 0")
            ),
            ma.validate.Range(max=MAX_YUAN),
            _fen,
        ],
    )
    source = text_field(max_length=200)  # 合作社二次分配, a donor's name, what was bought
    note = text_field(required=False)
