"""What residents send without a token (code and PIN), shared by the JSON API and the pages."""

import marshmallow as ma

from points.http import Schema, text_field


class PinSchema(Schema):
    holder = text_field(max_length=64)
    pin = ma.fields.String(required=True, validate=ma.validate.Length(max=64))


class PublicObjectionSchema(PinSchema):
    text = text_field()
