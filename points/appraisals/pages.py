"""/appraise (民主测评, no login): a household signs in with code + PIN, as at /lookup, and
rates each grid worker of its grid once in every open round. Phone-first: one column, big
buttons, one form per grid worker."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from points.appraisals import service
from points.appraisals.schemas import NewRoundSchema
from points.database import today
from points.errors import PointsError
from points.org.service import holder_by_code
from points.public.schemas import PinSchema
from points.users.service import resident
from points.web import (
    form as read_form,
    friendly,
    page_errors,
    principal,
    remember_resident,
    role_required,
    signed_in_resident,
    status_of,
)

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
        data = read_form(PinSchema, ["holder"], secrets=["pin"])
        holder = resident(data["holder"], data["pin"], request.remote_addr)
    except (PointsError, ValidationError) as error:
        return render_template(
            "appraisals/sign_in.html", holder=code, error=friendly(error, resident=True)
        ), status_of(error)
    remember_resident(holder.code)
    return _ballot_page(holder)


@bp.post("/appraise/ballot")
def ballot():
    """One secret ballot: the page never shows how anyone rated, only that one has voted."""
    code = signed_in_resident()
    if not code:
        return _back(_("请先输入户号和查询密码。"), "error")
    holder = holder_by_code(code)
    try:
        service.cast(holder, *(request.form.get(k, "") for k in ("round", "subject", "rating")))
    except PointsError as error:
        return _ballot_page(holder, _refusal(error), error.status)
    return _back(_("谢谢！您的评议已记下，评议结果只公布票数，不显示谁投了什么。"), "success")


def _back(words, category):
    """To /appraise (the sign-in form, or the open rounds) with a message."""
    flash(words, category)
    return redirect(url_for("appraisals_pages.appraise"))


# --- /admin/appraisals: the admin opens and closes rounds --------------------------------

ROUNDS_LISTED = 50


def _rounds_page(form=None, error=None, status=200):
    return render_template(
        "appraisals/rounds.html",
        **service.rounds_page(principal(), ROUNDS_LISTED),
        form=form or {"round": today().strftime("%Y-%m")},
        error=error,
    ), status


@bp.get("/admin/appraisals")
@role_required("admin")
def rounds():
    """测评轮次: open a round for a unit and a period; close it to record the results."""
    return _rounds_page()


@bp.post("/admin/appraisals")
@role_required("admin")
def open_round():
    try:
        data = read_form(NewRoundSchema, ["scheme", "round", "unit"])
        service.open_round(principal(), data["scheme"], data["round"], data["unit"])
    except (PointsError, ValidationError) as error:
        return _rounds_page(request.form, friendly(error), status_of(error))
    flash(_("测评轮次已开始，网格内农户可以在 /appraise 评议。"), "success")
    return redirect(url_for("appraisals_pages.rounds"))


@bp.post("/admin/appraisals/<int:round_id>/close")
@role_required("admin")
def close_round(round_id):
    try:
        _round, results = service.close_round(principal(), round_id)
    except PointsError as error:
        return _rounds_page(error=friendly(error), status=error.status)
    entries = sum(len(row["entries"]) for row in results)
    flash(_("测评轮次已结束，%(n)s 条结果已记为待审核的积分记录。", n=entries), "success")
    return redirect(url_for("appraisals_pages.rounds"))
