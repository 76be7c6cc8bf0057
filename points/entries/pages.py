"""Pages: /entries/new (记分, one holder or a grid's households at once) and /review (审核)."""

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from points import idempotency
from points.database import today
from points.entries import forms, service
from points.entries.api import entry_view
from points.entries.schemas import (
    ApproveSchema,
    BatchApproveSchema,
    BatchSchema,
    NewEntrySchema,
    ReasonSchema,
)
from points.errors import REQUIRED, PointsError
from points.evidence import service as evidence
from points.web import (
    form,
    friendly,
    page_errors,
    points_text,
    principal,
    role_required,
    status_of,
)

bp = page_errors(Blueprint("entries_pages", __name__))

# --- /entries/new --------------------------------------------------------------------------


def _form_page(me, args, form, error=None, status=200):
    """The recorder's form (entries/forms.py) with this render's idempotency key."""
    context = forms.recording_form(me, args.get("scheme"), args.get("unit"))
    return render_template(
        "entries/new.html",
        **context,
        form=form,
        error=error,
        key=uuid.uuid4().hex,
        today=today().isoformat(),
    ), status


@bp.get("/entries/new")
@role_required("recorder")
def new_entry():
    return _form_page(
        principal(), request.args, {"occurred_on": today().isoformat(), "holders": []}
    )


def _holders(form):
    """The holders ticked in a grid, and the one typed, each once."""
    codes = form.getlist("holders") + [form.get("holder", "")]
    return list(dict.fromkeys(c.strip() for c in codes if c.strip()))


def _record(me, holders, key):
    """Record through the same schemas, service (and idempotency) as POST
    /api/v1/entries[/batch]: one holder is an entry, several a batch."""
    if not holders:
        raise ValidationError({"holder": [REQUIRED]})
    value = forms.value_field(request.form.get("scheme", ""), request.form.get("item", ""))
    fields = ["scheme", "item", "occurred_on", "note", *([value] if value else [])]
    optional = ("note", value)
    if len(holders) == 1:
        data = form(NewEntrySchema, fields, optional, holder=holders[0])
    else:
        data = form(BatchSchema, fields, optional, holders=holders)

    def work():
        return {"ids": service.record_loaded(me, data)}

    payload = {k: v for k, v in data.items() if k != "holder"}
    key = f"page:{key}"[:255] if key else None
    body = idempotency.once(
        me.user_id, key, request.path, {**payload, "holders": holders}, work
    ).data()
    return body["ids"]


@bp.post("/entries/new")
@role_required("recorder")
def record():
    me, sent = principal(), request.form
    try:
        ids = _record(me, _holders(sent), sent.get("key", "").strip())
    except (PointsError, ValidationError) as error:
        return _record_refused(me, error)
    flash(_recorded(me, ids), "success")
    unit = sent.get("unit") or None
    return redirect(url_for("entries_pages.new_entry", scheme=sent.get("scheme", ""), unit=unit))


def _record_refused(me, error):
    """The form again as it was sent (the grid's ticks kept), with why."""
    sent = {**request.form.to_dict(), "holders": request.form.getlist("holders")}
    return _form_page(me, request.form, sent, friendly(error), status_of(error))


def _recorded(me, ids):
    """已记分: how many entries, each one's points, and whose."""
    views = [entry_view(service.get_entry(me, i), detail=False) for i in ids]
    return _(
        "已记分 %(n)s 条，每条 %(points)s 分，等待审核：%(who)s",
        n=len(views),
        points=_signed(views[0]["points"]),
        who="、".join(f"{v['holder']} {v['holder_name']}" for v in views),
    )


def _signed(points):
    return points_text(points, signed=True)


# --- /review -------------------------------------------------------------------------------


def _queue(me):
    rows = []
    for entry in service.review_queue(me):
        view = entry_view(entry, detail=False)
        approvers = [a.user.username for a in service.approvals(entry)]
        view.update(
            approvers=approvers,
            own=entry.recorded_by_id == me.user_id,
            approved_by_me=me.username in approvers and entry.status == "pending",
            quality=service.grades_to_name(entry),
        )
        rows.append(view)
    return rows


@bp.get("/review")
@role_required("reviewer")
def review():
    return render_template("entries/review.html", queue=_queue(principal()))


BLANK = ("note", "grade")  # left blank: not given


@bp.post("/review")
@role_required("reviewer")
def review_action():
    """One of the queue's buttons: 驳回 one entry, 通过 one, or 通过 the ticked ones."""
    me = principal()
    try:
        message = _review(me, request.form)
    except (PointsError, ValidationError) as error:
        return render_template(
            "entries/review.html", queue=_queue(me), error=friendly(error)
        ), status_of(error)
    flash(message, "success")
    return redirect(url_for("entries_pages.review"))


def _review(me, sent):
    """The button pressed, through the API's schemas and service functions (reject, approve,
    approve_batch); what to tell the reviewer."""
    if sent.get("reject"):
        entry_id = _ids([sent["reject"]])[0]
        data = form(ReasonSchema, {"reason": f"reason_{entry_id}"})
        service.reject(me, entry_id, data["reason"])
        return _("已驳回 1 条记录。")
    if sent.get("approve"):
        entry_id = _ids([sent["approve"]])[0]
        data = form(ApproveSchema, {"note": "note", "grade": f"grade_{entry_id}"}, BLANK)
        service.approve(me, entry_id, data.get("note"), data.get("grade"))
        return _("已通过 1 条记录。")
    ids = _ids(i for i in sent.getlist("ids") if i.isdigit())
    data = form(BatchApproveSchema, ["note", "grade"], BLANK, ids=ids)
    service.approve_batch(me, data["ids"], data.get("note"), data.get("grade"))
    return _("已通过 %(n)s 条记录。", n=len(ids))


def _ids(texts):
    """Entry ids as the page sends them (a button's value, the ticked boxes); none, or one
    that is no number, is nothing ticked."""
    try:
        ids = [int(text) for text in texts]
    except ValueError:
        ids = []
    if not ids:
        raise ValidationError({"ids": [_("请先勾选要通过的记录")]})
    return ids


# --- 照片佐证 ------------------------------------------------------------------------------


@bp.post("/entries/<int:entry_id>/photos")
@login_required
def attach_photo(entry_id):
    """The recorder adds a photo to a pending entry (from the holder's page)."""
    upload = request.files.get("photo")
    back = request.form.get("holder", "")
    try:
        if upload is None or not upload.filename:
            raise PointsError("validation_error", "no photo", 422, {"photo": [REQUIRED]})
        evidence.attach(principal(), entry_id, upload.read(evidence.MAX_BYTES + 1))
    except PointsError as error:
        return render_template("error.html", message=friendly(error)), error.status
    flash(_("照片已上传。"), "success")
    return redirect(url_for("org_pages.holder", code=back) if back else url_for("users_pages.home"))


@bp.get("/evidence/<int:evidence_id>")
@login_required
def photo(evidence_id):
    """A photo of an entry, for staff in scope (the review queue shows it)."""
    return evidence.photo_response(principal(), evidence_id)
