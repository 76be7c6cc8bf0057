"""/api/v1/public/...: no token; residents sign each request with holder code and PIN."""

import marshmallow as ma
from flask import request
from flask.views import MethodView

from points.entries import service as entries
from points.http import Blueprint, PageArgs, Schema, page_of, paginate, points_field, text_field
from points.ledger.api import PostingSchema
from points.users.service import resident
from points.public.service import balance_view, notice_view, object_to_entry
from points.public.schemas import PinSchema, PublicObjectionSchema

blp = Blueprint(
    "public",
    __name__,
    url_prefix="/api/v1/public",
    description="For residents and notice boards, no token",
)


class PublicAccountSchema(Schema):
    scheme = ma.fields.String()
    scheme_name = ma.fields.String()
    balance = points_field()
    pending = points_field()


class OpenEntrySchema(Schema):
    id = ma.fields.Integer()
    scheme = ma.fields.String()
    item = ma.fields.String()
    item_name = ma.fields.String()
    points = points_field()
    status = ma.fields.String()
    occurred_on = ma.fields.Date()
    note = ma.fields.String()
    notice_ends_on = ma.fields.Date(allow_none=True)


class OwnClaimSchema(Schema):
    id = ma.fields.Integer()
    item = ma.fields.String()
    item_name = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    occurred_on = ma.fields.Date()


class BalanceSchema(Schema):
    holder = ma.fields.String()
    name = ma.fields.String()
    accounts = ma.fields.List(ma.fields.Nested(PublicAccountSchema))
    recent = ma.fields.List(ma.fields.Nested(PostingSchema))
    open_entries = ma.fields.List(ma.fields.Nested(OpenEntrySchema))
    claims = ma.fields.List(ma.fields.Nested(OwnClaimSchema))


class NoticeQuery(PageArgs):
    unit = text_field(max_length=64)


class NoticeSchema(Schema):
    id = ma.fields.Integer()
    holder_name = ma.fields.String()
    item = ma.fields.String()
    item_name = ma.fields.String()
    points = points_field()
    occurred_on = ma.fields.Date()
    notice_ends_on = ma.fields.Date()


class ObjectionAnswer(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()


@blp.route("/balance")
class Balance(MethodView):
    @blp.arguments(PinSchema)
    @blp.response(200, BalanceSchema)
    @blp.doc(security=[])
    def post(self, data):
        """A resident's balance and pending points in every scheme, and recent history."""
        return balance_view(resident(data["holder"], data["pin"], request.remote_addr))


@blp.route("/notices")
class Notices(MethodView):
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, page_of(NoticeSchema))
    @blp.doc(security=[])
    def get(self, args):
        """公示栏: entries now in notice under a unit, names masked."""
        return paginate(entries.notices_query(args["unit"]), args, notice_view)


@blp.route("/entries/<int:entry_id>/objections")
class PublicObjection(MethodView):
    @blp.arguments(PublicObjectionSchema)
    @blp.response(201, ObjectionAnswer)
    @blp.doc(security=[])
    def post(self, data, entry_id):
        """A resident of the same village objects to an entry in notice."""
        return object_to_entry(
            data["holder"], data["pin"], request.remote_addr, entry_id, data["text"]
        )
