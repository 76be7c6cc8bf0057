"""/appraise (民主测评, no login): a household signs in with code + PIN, as at /lookup, and
rates each grid worker of its grid once in every open round. Phone-first: one column, big
buttons, one form per grid worker."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from points.appraisals import service
from points.appraisals.api import NewRoundSchema
from points.database import today
from points.errors import PointsError, forbidden
from points.extensions import db
from points.org.service import holder_by_code, units_within
from points.public.schemas import PinSchema
from points.users.service import resident
from points.schemes.service import all_schemes, rules_of
from points.web import friendly, page_errors, principal, remember_resident, signed_in_resident

bp = page_errors(Blueprint("appraisals_pages", __name__))


def _refusal(error):
    """What a resident reads when a ballot is not taken."""
    messages = {
        "already_voted": _("您在本轮已经评议过这位网格员，每轮只能评议一次。"),
        "forbidden": _("只能评议本网格的网格员。"),
        "conflict_of_interest": _("网格员本人或亲属户不参加对其本人的评议。"),
        "invalid_state": _("本轮测评已经结束。"),
    }
    if isinstance(error, PointsError) and error.code in messages:
        return messages[error.code]
    return friendly(error, resident=True)


def _ballot_page(holder, error=None, status=200):
    return render_template(
        "appraisals/ballots.html",
        holder=holder,
        rounds=service.open_rounds_for(holder),
        error=error,
    ), status


@bp.get("/appraise")
def appraise():
    """The sign-in form, or, for a resident just signed in, their open rounds."""
    code = signed_in_resident()
    if code:
        return _ballot_page(holder_by_code(code))
    return render_template("appraisals/sign_in.html", holder="")


@bp.post("/appraise")
def sign_in():
    """Code + PIN, with the lockouts of the public balance."""
    code = request.form.get("holder", "").strip()
    try:
        data = PinSchema().load({"holder": code, "pin": request.form.get("pin", "")})
        holder = resident(data["holder"], data["pin"], request.remote_addr)
    except (PointsError, ValidationError) as error:
        status = error.status if isinstance(error, PointsError) else 422
        return render_template(
            "appraisals/sign_in.html", holder=code, error=friendly(error, resident=True)
        ), status
    remember_resident(holder.code)
    return _ballot_page(holder)


@bp.post("/appraise/ballot")
def ballot():
    """One secret ballot: the page never shows how anyone rated, only that one has voted."""
    code = signed_in_resident()
    if not code:
        flash(_("请先输入户号和查询密码。"), "error")
        return redirect(url_for("appraisals_pages.appraise"))
    holder = holder_by_code(code)
    try:
        service.cast(
            holder,
            request.form.get("round", ""),
            request.form.get("subject", ""),
            request.form.get("rating", ""),
        )
    except PointsError as error:
        return _ballot_page(holder, _refusal(error), error.status)
    flash(_("谢谢！您的评议已记下，评议结果只公布票数，不显示谁投了什么。"), "success")
    return redirect(url_for("appraisals_pages.appraise"))


# --- /admin/appraisals: the admin opens and closes rounds --------------------------------

ROUNDS_LISTED = 50


def _rounds_page(form=None, error=None, status=200, closed=None):
    if "admin" not in current_user.roles:
        raise forbidden()
    me = principal()
    schemes = [s for s in all_schemes() if rules_of(s.current_version_id).appraisal is not None]
    rounds = db.session.execute(service.rounds_query(me).limit(ROUNDS_LISTED)).scalars().all()
    return render_template(
        "appraisals/rounds.html",
        schemes=schemes,
        units=units_within(me, "admin"),
        rounds=[(r, service.results(r)) for r in rounds],
        form=form or {"round": today().strftime("%Y-%m")},
        error=error,
        closed=closed,
    ), status


@bp.get("/admin/appraisals")
@login_required
def rounds():
    """测评轮次: open a round for a unit and a period; close it to record the results."""
    return _rounds_page()


@bp.post("/admin/appraisals")
@login_required
def open_round():
    form = {key: request.form.get(key, "").strip() for key in ("scheme", "round", "unit")}
    try:
        data = NewRoundSchema().load(form)
        service.open_round(principal(), data["scheme"], data["round"], data["unit"])
    except (PointsError, ValidationError) as error:
        return _rounds_page(
            form, friendly(error), error.status if isinstance(error, PointsError) else 422
        )
    flash(_("测评轮次已开始，网格内农户可以在 /appraise 评议。"), "success")
    return redirect(url_for("appraisals_pages.rounds"))


@bp.post("/admin/appraisals/<int:round_id>/close")
@login_required
def close_round(round_id):
    try:
        _round, results = service.close_round(principal(), round_id)
    except PointsError as error:
        return _rounds_page(error=friendly(error), status=error.status)
    entries = sum(len(row["entries"]) for row in results)
    flash(_("测评轮次已结束，%(n)s 条结果已记为待审核的积分记录。", n=entries), "success")
    return redirect(url_for("appraisals_pages.rounds"))
