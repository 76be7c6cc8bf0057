"""The shop's request schemas, shared by the JSON API, the counter and the admin pages."""

import marshmallow as ma

from points.errors import reason
from points.http import Schema, points_field, text_field


CODE = {"max_length": 64}


class NewShopSchema(Schema):
    code = text_field(**CODE)
    name = text_field(max_length=200)
    unit = text_field(**CODE)
    schemes = ma.fields.List(
        text_field(**CODE), required=True, validate=ma.validate.Length(min=1, max=20)
    )


def _tenths(value):
    if value is not None and value.as_tuple().exponent < -1:
        raise ma.ValidationError(reason("one_decimal", "points have at most one decimal place"))


class NewGoodsSchema(Schema):
    code = text_field(**CODE)
    name = text_field(max_length=200)
    price = points_field(
        required=True, validate=[ma.validate.Range(min=0, min_inclusive=False, max=10**9), _tenths]
    )
    stock = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=0, max=10**9)
    )


class GoodsChangeSchema(Schema):
    name = text_field(required=False, max_length=200)
    price = points_field(
        validate=[ma.validate.Range(min=0, min_inclusive=False, max=10**9), _tenths]
    )
    active = ma.fields.Boolean()


class RestockSchema(Schema):
    quantity = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**9)
    )
    note = text_field(required=False)
    donor = text_field(required=False, max_length=200)  # donated goods: who gave them


class VoidSchema(Schema):
    """作废: why a redemption is voided (its points and stock go back)."""

    reason = text_field()
