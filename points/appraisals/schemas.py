"""The appraisals' request schemas, shared by the JSON API and the pages."""

import marshmallow as ma

from points.appraisals.models import ROUND_STATES
from points.http import PageArgs, Schema, text_field
from points.public.schemas import PinSchema
from points.rules.model import period_window


def _period(value):
    try:
        period_window(value)
    except ValueError as error:
        raise ma.ValidationError(str(error)) from None


class RoundField(ma.fields.Field):
    """A round by its id (a number) or by its period ("2026-H2")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, str))
            or (isinstance(value, str) and not 0 < len(value.strip()) <= 20)
        ):
            raise ma.ValidationError("a round id, or a period like 2026-H2")
        if isinstance(value, int) and not 0 < value < 2**31:
            raise ma.ValidationError("unknown round")
        return value


class NewRoundSchema(Schema):
    scheme = text_field(max_length=64)
    round = ma.fields.String(required=True, validate=_period)
    unit = text_field(max_length=64)


class RoundQuery(PageArgs):
    scheme = ma.fields.String(validate=ma.validate.Length(max=64))
    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    status = ma.fields.String(validate=ma.validate.OneOf(ROUND_STATES))


class BallotSchema(PinSchema):
    round = RoundField(required=True)
    subject = text_field(max_length=64)
    rating = text_field(max_length=64)


class PublicResultsQuery(PageArgs):
    unit = text_field(max_length=64)
