"""Claims: /api/v1/public/claims (a resident, code + PIN) and /api/v1/claims (staff)."""

import marshmallow as ma
from flask import request
from flask.views import MethodView

from points.claims import service
from points.claims.models import CLAIM_STATES
from points.entries.api import EntrySchema, entry_view
from points.entries import service as entries
from points.evidence import service as evidence
from points.http import (
    Blueprint,
    PageArgs,
    Schema,
    page_of,
    paginate,
    points_field,
    principal,
    protected,
    text_field,
)
from points.claims.schemas import NewClaimSchema, DeclineSchema

public = Blueprint(
    "public_claims",
    __name__,
    url_prefix="/api/v1/public",
    description="Claims (申领): a resident declares a deed, with photos",
)
blp = protected(
    Blueprint(
        "claims",
        __name__,
        url_prefix="/api/v1",
        description="Claims (申领): accept into an entry, or decline with a reason",
    )
)


class ClaimSchema(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    scheme = ma.fields.String()
    holder = ma.fields.String()
    holder_name = ma.fields.String()
    item = ma.fields.String()
    occurred_on = ma.fields.Date()
    note = ma.fields.String()
    points = points_field(allow_none=True)
    quantity = points_field(allow_none=True)
    grade = ma.fields.String(allow_none=True)
    photos = ma.fields.List(ma.fields.Integer())
    entry = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class ClaimQuery(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(CLAIM_STATES))
    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    holder = ma.fields.String(validate=ma.validate.Length(max=64))


class AcceptSchema(Schema):
    points = points_field()
    quantity = points_field()
    grade = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    note = text_field(required=False)


def claim_view(claim, photos=None):
    if photos is None:
        photos = evidence.of_claims([claim.id]).get(claim.id, [])
    return {
        "id": claim.id,
        "status": claim.status,
        "scheme": claim.scheme.code,
        "holder": claim.holder.code,
        "holder_name": claim.holder.name,
        "item": claim.item,
        "occurred_on": claim.occurred_on,
        "note": claim.note,
        "points": claim.points,
        "quantity": claim.quantity,
        "grade": claim.grade,
        "photos": [p.id for p in photos],
        "entry": claim.entry_id,
        "reason": claim.reason,
        "created_at": claim.created_at,
    }


def _values(data):
    return {k: data[k] for k in ("points", "quantity", "grade") if data.get(k) is not None}


@public.route("/claims")
class PublicClaims(MethodView):
    @public.arguments(NewClaimSchema, location="json_or_form")
    @public.response(201, ClaimSchema)
    @public.doc(security=[])
    def post(self, data):
        """A resident declares a deed (JSON, or a multipart form with up to 3 files `photo`)."""
        photos = service.read_photos(request.files.getlist("photo"))
        claim = service.declare(data["holder"], data["pin"], request.remote_addr, data, photos)
        return claim_view(claim)


@blp.route("/claims")
class Claims(MethodView):
    @blp.arguments(ClaimQuery, location="query")
    @blp.response(200, page_of(ClaimSchema))
    def get(self, args):
        """Claims within the caller's units (recorders and reviewers), newest first."""
        query = service.claims_query(
            principal(), args.get("status"), args.get("unit"), args.get("holder")
        )
        return paginate(query, args, claim_view)


@blp.route("/claims/<int:claim_id>")
class OneClaim(MethodView):
    @blp.response(200, ClaimSchema)
    def get(self, claim_id):
        return claim_view(service.get_claim(principal(), claim_id))


@blp.route("/claims/<int:claim_id>/accept")
class Accept(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(201, EntrySchema)
    def post(self, data, claim_id):
        """Accept (受理) into a pending entry recorded by the caller, its photos the evidence."""
        entry_id = service.accept(principal(), claim_id, _values(data), data.get("note"))
        return entry_view(entries.get_entry(principal(), entry_id))


@blp.route("/claims/<int:claim_id>/decline")
class Decline(MethodView):
    @blp.arguments(DeclineSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """Decline (不予受理) with a reason the resident sees."""
        return claim_view(service.decline(principal(), claim_id, data["reason"]))
