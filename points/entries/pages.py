"""Pages: /entries/new (记分, one holder or a grid's households at once) and /review (审核)."""

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from points import idempotency
from points.database import today
from points.entries import service
from points.entries.api import BatchSchema, NewEntrySchema, ReasonSchema, entry_view
from points.errors import REQUIRED, PointsError
from points.evidence import service as evidence
from points.org.service import holders_within, units_with_holders
from points.schemes.service import all_schemes, rules_of
from points.web import friendly, page_errors, points_text, principal, role_required, status_of

bp = page_errors(Blueprint("entries_pages", __name__))

GRID_HOLDERS = 300  # the most households one grid (or branch) lists for ticking


# --- /entries/new --------------------------------------------------------------------------


def _schemes_for_recorder(me):
    """Each scheme with the units (grids, branches) whose holders this recorder may score."""
    return [
        (scheme, units_with_holders(me, scheme.subject, "recorder")) for scheme in all_schemes()
    ]


def _choose(options, wanted, key):
    for option in options:
        if key(option) == wanted:
            return option
    return None


def _form_context(me, args, form, error=None):
    schemes = _schemes_for_recorder(me)
    chosen = (
        _choose(schemes, args.get("scheme"), lambda s: s[0].code)
        or next((s for s in schemes if s[1]), None)
        or (schemes[0] if schemes else None)
    )
    scheme, units = chosen if chosen else (None, [])
    unit = _choose(units, args.get("unit"), lambda u: u.code)
    holders = []
    if unit is not None:
        holders = holders_within(me, GRID_HOLDERS, unit_code=unit.code, kind=scheme.subject)
    rules = rules_of(scheme.current_version_id) if scheme else None
    grades = list(
        dict.fromkeys(
            g for item in (rules.items if rules else []) if item.grades for g in item.grades
        )
    )
    return dict(
        schemes=[s for s, _units in schemes],
        scheme=scheme,
        units=units,
        unit=unit,
        holders=holders,
        rules=rules,
        grades=grades,
        form=form,
        error=error,
        key=uuid.uuid4().hex,
        today=today().isoformat(),
    )


@bp.get("/entries/new")
@role_required("recorder")
def new_entry():
    form = {"occurred_on": today().isoformat(), "holders": []}
    return render_template("entries/new.html", **_form_context(principal(), request.args, form))


def _entry_payload(form, rules):
    """The form as the JSON API's body: only the one value field the chosen item reads."""
    data = {
        "scheme": form.get("scheme", ""),
        "item": form.get("item", ""),
        "occurred_on": form.get("occurred_on", ""),
    }
    if form.get("note", "").strip():
        data["note"] = form["note"].strip()
    item = rules.item(data["item"]) if rules and data["item"] else None
    if item is not None and item.input_field and form.get(item.input_field, "").strip():
        data[item.input_field] = form[item.input_field].strip()
    holders = list(
        dict.fromkeys(
            c.strip() for c in form.getlist("holders") + [form.get("holder", "")] if c.strip()
        )
    )
    return data, holders


def _record(me, data, holders, key):
    """Record through the same service (and idempotency) as POST /api/v1/entries[/batch]."""
    if not holders:
        raise ValidationError({"holder": [REQUIRED]})
    if len(holders) == 1:
        parsed = NewEntrySchema().load({**data, "holder": holders[0]})
        values = {k: parsed[k] for k in ("points", "quantity", "grade") if k in parsed}

        def work():
            return {
                "ids": [
                    service.record(
                        me,
                        parsed["scheme"],
                        parsed["holder"],
                        parsed["item"],
                        parsed["occurred_on"],
                        parsed.get("note"),
                        **values,
                    )
                ]
            }
    else:
        parsed = BatchSchema().load({**data, "holders": holders})
        values = {k: parsed[k] for k in ("points", "quantity", "grade") if k in parsed}

        def work():
            return {
                "ids": service.record_batch(
                    me,
                    parsed["scheme"],
                    parsed["item"],
                    parsed["holders"],
                    parsed["occurred_on"],
                    parsed.get("note"),
                    **values,
                )
            }

    answer = idempotency.run(
        me.user_id, f"page:{key}"[:255] if key else None, {**data, "holders": holders}, work
    )
    body = answer.get_json()
    if answer.status_code != 201:  # a refusal kept for this key, answered again
        error = body["error"]
        raise PointsError(error["code"], error["message"], answer.status_code, error["details"])
    return body["ids"]


@bp.post("/entries/new")
@role_required("recorder")
def record():
    me = principal()
    schemes = {s.code: s for s in all_schemes()}
    scheme = schemes.get(request.form.get("scheme", ""))
    rules = rules_of(scheme.current_version_id) if scheme else None
    data, holders = _entry_payload(request.form, rules)
    try:
        ids = _record(me, data, holders, request.form.get("key", "").strip())
    except (PointsError, ValidationError) as error:
        form = {**request.form.to_dict(), "holders": request.form.getlist("holders")}
        args = {"scheme": data["scheme"], "unit": request.form.get("unit", "")}
        status = status_of(error)
        return render_template(
            "entries/new.html", **_form_context(me, args, form, friendly(error))
        ), status
    views = [entry_view(service.get_entry(me, i), detail=False) for i in ids]
    flash(
        _(
            "已记分 %(n)s 条，每条 %(points)s 分，等待审核：%(who)s",
            n=len(views),
            points=_signed(views[0]["points"]),
            who="、".join(f"{v['holder']} {v['holder_name']}" for v in views),
        ),
        "success",
    )
    return redirect(
        url_for(
            "entries_pages.new_entry", scheme=data["scheme"], unit=request.form.get("unit") or None
        )
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


@bp.post("/review")
@role_required("reviewer")
def review_action():
    me = principal()
    note = request.form.get("note", "").strip() or None
    try:
        if request.form.get("reject"):
            entry_id = int(request.form["reject"])
            reason = ReasonSchema().load(
                {"reason": request.form.get(f"reason_{entry_id}", "").strip()}
            )["reason"]
            service.reject(me, entry_id, reason)
            message = _("已驳回 1 条记录。")
        elif request.form.get("approve"):
            entry_id = int(request.form["approve"])
            service.approve(me, entry_id, note, request.form.get(f"grade_{entry_id}") or None)
            message = _("已通过 1 条记录。")
        else:
            ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
            if not ids:
                raise ValidationError({"ids": [_("请先勾选要通过的记录")]})
            service.approve_batch(me, ids, note, request.form.get("grade") or None)
            message = _("已通过 %(n)s 条记录。", n=len(ids))
    except (PointsError, ValidationError, ValueError) as error:
        if isinstance(error, ValueError) and not isinstance(error, ValidationError):
            error = ValidationError({"ids": [_("请先勾选要通过的记录")]})
        status = status_of(error)
        return render_template(
            "entries/review.html", queue=_queue(me), error=friendly(error)
        ), status
    flash(message, "success")
    return redirect(url_for("entries_pages.review"))


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
