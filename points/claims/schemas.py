"""The claims' request schemas, shared by the JSON API and the pages."""

from points.entries.schemas import ValuesMixin
from points.http import Schema, text_field
from points.public.schemas import PinSchema


class NewClaimSchema(PinSchema, ValuesMixin):
    scheme = text_field(max_length=64)
    item = text_field(max_length=64)
    note = text_field(required=True)


class DeclineSchema(Schema):
    reason = text_field()
