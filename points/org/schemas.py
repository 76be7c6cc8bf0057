"""The organisation's request schemas, shared by the JSON API and the admin pages."""

import marshmallow as ma

from points.errors import reason
from points.http import Schema, text_field
from points.org.models import HOLDER_KINDS, UNIT_KINDS


CODE = ma.validate.Regexp(
    r"^[A-Za-z0-9_.-]{1,64}$",
    error=reason("code_chars", "letters, digits and _ . - only, at most 64"),
)


class UnitSchema(Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = text_field(max_length=200)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(UNIT_KINDS))
    parent = ma.fields.String(required=True, allow_none=True, validate=ma.validate.Length(max=64))
    children = ma.fields.List(ma.fields.String(), dump_only=True)


class HolderSchema(Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = text_field(max_length=200)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(HOLDER_KINDS))
    unit = text_field(max_length=64)
    pin = ma.fields.String(
        load_only=True,
        validate=ma.validate.Regexp(r"^[0-9]{4,8}$", error=reason("pin_digits", "4 to 8 digits")),
    )
