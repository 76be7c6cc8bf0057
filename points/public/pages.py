"""Pages for residents, no login: /lookup (code + PIN → balance) and /notices (公示栏)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from points.errors import PointsError
from points.org.service import villages
from points.public.schemas import PinSchema, PublicObjectionSchema
from points.public import service
from points.public.service import notice_board
from points.web import form as read_form, form_row_id, friendly, page_errors, remember_resident
from points.web import status_of

bp = page_errors(Blueprint("public_pages", __name__))

BOARD = 200  # entries on one printed notice board


@bp.get("/lookup")
def lookup():
    """查询积分: the holder code and PIN form."""
    return render_template("public/lookup.html", holder="")


@bp.post("/lookup")
def balance():
    """The balance, after the same sign-in and lockout as POST /api/v1/public/balance."""
    try:
        data = read_form(PinSchema, ["holder"], secrets=["pin"])
        shown = service.balance_page(data["holder"], data["pin"], request.remote_addr)
    except (PointsError, ValidationError) as error:
        code, words = request.form.get("holder", "").strip(), friendly(error, resident=True)
        return render_template("public/lookup.html", holder=code, error=words), status_of(error)
    remember_resident(shown["balance"]["holder"])
    return render_template("public/balance.html", **shown)


def _notices_page(unit_code, form=None, error=None, status=200):
    """The board of `unit_code` (none when blank), or, when it cannot be read, an empty one."""
    try:
        unit, notices = notice_board(unit_code, BOARD) if unit_code else (None, [])
    except PointsError as failure:
        if error is not None:
            raise
        unit, notices, error, status = None, [], friendly(failure), failure.status
    return render_template(
        "public/notices.html",
        unit=unit,
        notices=notices,
        villages=villages(),
        form=form or {},
        error=error,
    ), status


@bp.get("/notices")
def notices():
    """公示栏 of a village: masked names, printable on A4, an objection form per entry."""
    return _notices_page(request.args.get("unit", "").strip())


@bp.post("/notices")
def object_to_entry():
    """提出异议: a resident of the same village, signed with code and PIN (as the API)."""
    unit_code = request.form.get("unit", "").strip()
    try:
        data = read_form(PublicObjectionSchema, ["holder", "text"], secrets=["pin"])
        entry, text = form_row_id("entry", "entry"), data["text"]
        service.object_to_entry(data["holder"], data["pin"], request.remote_addr, entry, text)
    except (PointsError, ValidationError) as error:
        return _objection_refused(unit_code, error)
    flash(_("您的异议已提交，这条记录暂不入账，等待审核员处理。"), "success")
    return redirect(url_for("public_pages.notices", unit=unit_code or None))


def _objection_refused(unit_code, error):
    """The board again with why, and the objection as it was sent (the PIN typed again)."""
    form = {
        "entry": request.form.get("entry", ""),
        "holder": request.form.get("holder", "").strip(),
        "text": request.form.get("text", ""),
    }
    return _notices_page(unit_code, form, friendly(error, resident=True), status_of(error))
