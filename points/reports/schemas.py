"""The reports' request schemas, shared by the JSON API and the admin pages."""

import marshmallow as ma

from points.http import Schema, page_field, per_page_field, text_field
from points.rules.model import period_window
from points.schemes.models import FIRST_YEAR, LAST_YEAR


YEAR = ma.validate.Range(min=FIRST_YEAR, max=LAST_YEAR)


def check_period(value):
    """A period as api.md writes it: YYYY, YYYY-H1/H2, YYYY-Q1…Q4 or YYYY-MM, in a year the
    service keeps (FIRST_YEAR to LAST_YEAR); marshmallow's ValidationError otherwise."""
    try:
        first, _, _ = period_window(value)
    except ValueError as error:
        raise ma.ValidationError(str(error)) from None
    YEAR(first.year)


def period_errors(value):
    """{"period": [why]} when `value` is not a period the reports take, else None (the pages'
    check, the same as the API's)."""
    try:
        check_period(value)
    except ma.ValidationError as error:
        return {"period": error.messages}
    return None


class RankingQuery(Schema):
    scheme = text_field(max_length=64)
    unit = text_field(max_length=64)
    year = ma.fields.Integer(validate=YEAR)
    period = ma.fields.String(validate=check_period)
    format = ma.fields.String(
        load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"])
    )
    page = page_field()
    per_page = per_page_field()


class GradesQuery(Schema):
    scheme = text_field(max_length=64)
    unit = text_field(max_length=64)
    period = ma.fields.String(validate=[ma.validate.Length(max=16), check_period])


class CloseSchema(Schema):
    scheme = text_field(max_length=64)
    year = ma.fields.Integer(required=True, validate=YEAR)
