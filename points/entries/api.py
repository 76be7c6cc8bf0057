"""Entries: /api/v1/entries — record, batch, review, objections, revoke."""

import marshmallow as ma
from flask.views import MethodView

from points import idempotency
from points.database import aware
from points.entries import service
from points.entries.schemas import (
    ApproveSchema,
    BatchApproveSchema,
    BatchSchema,
    EntryQuery,
    NewEntrySchema,
    ReasonSchema,
    TextSchema,
)
from points.claims import service as claims
from points.evidence import service as evidence
from points.http import Blueprint, Schema, page_of, paginate, points_field, principal, protected
from points.schemes.service import rules_of

blp = protected(
    Blueprint(
        "entries",
        __name__,
        url_prefix="/api/v1",
        description="Entries (积分记录): record, review, notice, objections, revoke",
    )
)


class ApprovalSchema(Schema):
    by = ma.fields.String()
    at = ma.fields.DateTime()
    grade = ma.fields.String(allow_none=True)


class EventSchema(Schema):
    action = ma.fields.String()
    status = ma.fields.String()
    by = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime()
    note = ma.fields.String()


class EvidenceRef(Schema):
    id = ma.fields.Integer()
    sha256 = ma.fields.String()


class EntrySchema(Schema):
    id = ma.fields.Integer()
    scheme = ma.fields.String()
    holder = ma.fields.String()
    holder_name = ma.fields.String()
    item = ma.fields.String()
    item_name = ma.fields.String()
    category = ma.fields.String()
    points = points_field()
    quantity = points_field(allow_none=True)
    grade = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    recorded_by = ma.fields.String()
    occurred_on = ma.fields.Date()
    note = ma.fields.String()
    created_at = ma.fields.DateTime()
    reviewed_by = ma.fields.String()
    review_note = ma.fields.String()
    notice_ends_on = ma.fields.Date()
    approvals = ma.fields.List(ma.fields.Nested(ApprovalSchema))
    history = ma.fields.List(ma.fields.Nested(EventSchema))
    evidence = ma.fields.List(ma.fields.Nested(EvidenceRef))
    claim = ma.fields.Integer(allow_none=True)


class EntryList(Schema):
    items = ma.fields.List(ma.fields.Nested(EntrySchema))


def entry_view(entry, detail=True, viewer=None, known=None):
    """The entry as the contract shows it; with detail, its approvals and its history as
    `viewer` (the caller, by default) may see it. `known`: its claim, evidence, approvals and
    events read already for a whole batch (`entry_views`)."""
    item = rules_of(entry.scheme_version_id).item(entry.item)
    view = {
        "id": entry.id,
        "scheme": entry.scheme.code,
        "holder": entry.holder.code,
        "holder_name": entry.holder.name,
        "item": entry.item,
        "item_name": item.name if item else entry.item,
        "category": entry.category,
        "points": entry.points,
        "quantity": entry.quantity,
        "grade": entry.grade,
        "status": entry.status,
        "recorded_by": entry.recorded_by.username,
        "occurred_on": entry.occurred_on,
        "note": entry.note,
        "created_at": aware(entry.created_at),
        "claim": (known["claim"] if known else claims.entry_claims([entry.id]).get(entry.id)),
        "evidence": [
            {"id": e.id, "sha256": e.sha256}
            for e in (
                known["evidence"] if known else evidence.of_entries([entry.id]).get(entry.id, [])
            )
        ],
    }
    if entry.reviewed_by is not None:
        view.update(reviewed_by=entry.reviewed_by.username, review_note=entry.review_note or "")
    if entry.notice_ends_on is not None:
        view["notice_ends_on"] = entry.notice_ends_on
    if detail:
        view["approvals"] = [
            {"by": a.user.username, "at": aware(a.at), "grade": a.grade}
            for a in (known["approvals"] if known else service.approvals(entry))
        ]
        view["history"] = service.history_view(
            viewer or principal(), entry, known["events"] if known else None
        )
    return view


def entry_views(ids):
    """A batch's answer, read by a few statements for the whole batch after its write."""
    entries, approved, events = service.batch_of(principal(), ids)
    claimed, photos = claims.entry_claims(ids), evidence.of_entries(ids)
    return [
        entry_view(
            e,
            known={
                "claim": claimed.get(e.id),
                "evidence": photos.get(e.id, []),
                "approvals": approved.get(e.id, []),
                "events": events.get(e.id, []),
            },
        )
        for e in entries
    ]


def _one(entry_id):
    return EntrySchema().dump(entry_view(service.get_entry(principal(), entry_id)))


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(NewEntrySchema)
    @blp.response(201, EntrySchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, data):
        """Record a deed or a deduction; the service computes the points from the item."""

        def work():
            return _one(service.record_loaded(principal(), data)[0])

        return idempotency.run(
            principal().user_id, idempotency.header_key(required=False), data, work
        )

    @blp.arguments(EntryQuery, location="query")
    @blp.response(200, page_of(EntrySchema))
    def get(self, args):
        """Entries within the caller's units, newest first."""
        query = service.entries_query(
            principal(), **{k: v for k, v in args.items() if k not in ("page", "per_page")}
        )
        return paginate(query, args, lambda e: entry_view(e, detail=False))


@blp.route("/entries/batch")
class Batch(MethodView):
    @blp.arguments(BatchSchema)
    @blp.response(201, EntryList)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, data):
        """Record one item for many holders at once (an event): all or nothing."""

        def work():
            return EntryList().dump(
                {"items": entry_views(service.record_loaded(principal(), data))}
            )

        return idempotency.run(
            principal().user_id, idempotency.header_key(required=False), data, work
        )


@blp.route("/entries/<int:entry_id>")
class OneEntry(MethodView):
    @blp.response(200, EntrySchema)
    def get(self, entry_id):
        """One entry with its approvals and its history of state changes."""
        return entry_view(service.get_entry(principal(), entry_id))


@blp.route("/entries/<int:entry_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApproveSchema)
    @blp.response(200, EntrySchema)
    def post(self, data, entry_id):
        """Approve (通过): towards the quorum, or settle a disputed entry; `grade` names the
        quality of a time-and-quality (hours_graded) entry."""
        service.approve(principal(), entry_id, data.get("note"), data.get("grade"))
        return entry_view(service.get_entry(principal(), entry_id))


@blp.route("/entries/batch/approve")
class BatchApprove(MethodView):
    @blp.arguments(BatchApproveSchema)
    @blp.response(200, EntryList)
    def post(self, data):
        """Approve a whole event at once: all or nothing."""
        ids = service.approve_batch(principal(), data["ids"], data.get("note"), data.get("grade"))
        return {"items": entry_views(ids)}


@blp.route("/entries/<int:entry_id>/reject")
class Reject(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, EntrySchema)
    def post(self, data, entry_id):
        """Reject (驳回) with a reason."""
        service.reject(principal(), entry_id, data["reason"])
        return entry_view(service.get_entry(principal(), entry_id))


@blp.route("/entries/<int:entry_id>/revoke")
class Revoke(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, EntrySchema)
    def post(self, data, entry_id):
        """Revoke (撤销) a posted or in-notice entry; posted points go back by a reversing
        posting."""
        service.revoke(principal(), entry_id, data["reason"])
        return entry_view(service.get_entry(principal(), entry_id))


@blp.route("/entries/<int:entry_id>/objections")
class Objections(MethodView):
    @blp.arguments(TextSchema)
    @blp.response(201, EntrySchema)
    def post(self, data, entry_id):
        """Object (提出异议) to an entry in notice: it becomes disputed."""
        service.object_as_user(principal(), entry_id, data["text"])
        return entry_view(service.get_entry(principal(), entry_id))
