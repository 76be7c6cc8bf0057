"""The entries' request schemas, shared by the JSON API (/api/v1/entries) and the pages
(/entries/new, /review)."""

import marshmallow as ma

from points.entries.models import STATES
from points.http import MAX_QUANTITY, PageArgs, Schema, points_field, row_id_field, text_field


class ValuesMixin(Schema):
    occurred_on = ma.fields.Date(required=True)
    note = text_field(required=False)
    points = points_field(validate=ma.validate.Range(min=-MAX_QUANTITY, max=MAX_QUANTITY))
    quantity = points_field(validate=ma.validate.Range(min=-MAX_QUANTITY, max=MAX_QUANTITY))
    grade = ma.fields.String(validate=ma.validate.Length(min=1, max=64))


class NewEntrySchema(ValuesMixin):
    scheme = text_field(max_length=64)
    holder = text_field(max_length=64)
    item = text_field(max_length=64)


class BatchSchema(ValuesMixin):
    scheme = text_field(max_length=64)
    item = text_field(max_length=64)
    holders = ma.fields.List(
        text_field(max_length=64), required=True, validate=ma.validate.Length(min=1, max=500)
    )


class EntryQuery(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATES))
    scheme = ma.fields.String(validate=ma.validate.Length(max=64))
    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    holder = ma.fields.String(validate=ma.validate.Length(max=64))
    recorded_by = ma.fields.String(validate=ma.validate.Length(max=64))


class NoteSchema(Schema):
    note = text_field(required=False)


class ReasonSchema(Schema):
    reason = text_field()


class TextSchema(Schema):
    text = text_field()


class BatchApproveSchema(NoteSchema):
    ids = ma.fields.List(row_id_field(), required=True, validate=ma.validate.Length(min=1, max=500))
    grade = ma.fields.String(validate=ma.validate.Length(min=1, max=64))  # hours_graded entries


class ApproveSchema(NoteSchema):
    grade = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64)
    )  # hours_graded: the quality
