"""Pages: /lookup/claim (a resident declares a deed with photos, no login) and /claims (the
recorders' and reviewers' queue: accept into an entry, or decline with a reason)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from points.claims import service
from points.claims.api import claim_view
from points.claims.schemas import DeclineSchema, NewClaimSchema
from points.database import today
from points.errors import PointsError
from points.entries import forms
from points.web import form, friendly, page_errors, principal, role_required, status_of

bp = page_errors(Blueprint("claims_pages", __name__))

QUEUE = 200


def _claim_form(form=None, error=None, status=200):
    return render_template(
        "claims/new.html",
        schemes=service.claimable(),
        form=form or {},
        error=error,
        today=today().isoformat(),
    ), status


@bp.get("/lookup/claim")
def new_claim():
    """申领 for residents: code + PIN, item by heading, date, note, up to 3 photos."""
    return _claim_form({"occurred_on": today().isoformat()})


def _read_claim():
    """The form through the API's schema ("scheme:item" picked in one list, the item's one
    value in `value`), and the photos' bytes as the API reads them."""
    scheme, _sep, item = request.form.get("item", "").partition(":")
    value = forms.value_field(scheme, item)
    fields = {"holder": "holder", "occurred_on": "occurred_on", "note": "note"}
    if value:
        fields[value] = "value"
    data = form(NewClaimSchema, fields, (value,), ["pin"], scheme=scheme, item=item)
    return data, service.read_photos(request.files.getlist("photo"))


@bp.post("/lookup/claim")
def submit_claim():
    """As POST /api/v1/public/claims: the same schema reads the form, the same service function
    declares it."""
    try:
        data, photos = _read_claim()
        claim = service.declare(data["holder"], data["pin"], request.remote_addr, data, photos)
    except (PointsError, ValidationError) as error:
        return _claim_refused(error)
    words = _(
        "申领已提交（编号 %(id)s），记分员核实后会记入积分；结果可在查询积分时看到。", id=claim.id
    )
    flash(words, "success")
    return redirect(url_for("claims_pages.new_claim"))


def _claim_refused(error):
    """The form again as it was sent (the PIN typed again), with why."""
    form_again = {**request.form.to_dict(), "pin": ""}
    return _claim_form(form_again, friendly(error, resident=True), status_of(error))


def _queue(error=None, status=200):
    rows = service.open_claims(principal(), QUEUE)
    views = [claim_view(claim, photos) for claim, photos, _name in rows]
    names = {claim.id: name for claim, _photos, name in rows}
    return render_template(
        "claims/queue.html",
        claims=views,
        names=names,
        error=error,
        recorder="recorder" in current_user.roles,
    ), status


@bp.get("/claims")
@role_required(*service.REVIEWING_ROLES)
def queue():
    """待受理的申领 within the caller's units, newest first, with the photos."""
    return _queue()


def _accept(me, claim_id):
    service.accept(me, claim_id)
    return _("申领 %(id)s 已受理，转为待审核的积分记录。", id=claim_id)


def _decline(me, claim_id):
    data = DeclineSchema().load({"reason": request.form.get(f"reason_{claim_id}", "").strip()})
    service.decline(me, claim_id, data["reason"])
    return _("申领 %(id)s 不予受理，原因已告知申领人。", id=claim_id)


def _decision():
    """The button pressed: accept=<id> or decline=<id> (its reason in reason_<id>)."""
    for name, act in (("accept", _accept), ("decline", _decline)):
        if request.form.get(name, "").isdigit():
            return act, int(request.form[name])
    raise PointsError("not_found", "claim not found", 404)


@bp.post("/claims")
@role_required(*service.REVIEWING_ROLES)
def decide():
    try:
        act, claim_id = _decision()
        message = act(principal(), claim_id)
    except (PointsError, ValidationError) as error:
        return _queue(friendly(error), status_of(error))
    flash(message, "success")
    return redirect(url_for("claims_pages.queue"))
