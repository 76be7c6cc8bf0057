"""The reports' request schemas, shared by the JSON API and the admin pages."""

import marshmallow as ma

from points.http import Schema, text_field
from points.schemes.models import FIRST_YEAR, LAST_YEAR


YEAR = ma.validate.Range(min=FIRST_YEAR, max=LAST_YEAR)


class CloseSchema(Schema):
    scheme = text_field(max_length=64)
    year = ma.fields.Integer(required=True, validate=YEAR)
