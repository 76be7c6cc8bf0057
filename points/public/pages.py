"""Pages for residents, no login: /lookup (code + PIN → balance) and /notices (公示栏)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from points.errors import PointsError
from points.database import today
from points.org.service import village_of, villages
from points.users.service import resident
from points.public.schemas import PinSchema, PublicObjectionSchema
from points.public import service
from points.public.service import balance_view, notice_board
from points.web import friendly, page_errors, remember_resident, status_of

bp = page_errors(Blueprint("public_pages", __name__))

BOARD = 200  # entries on one printed notice board


@bp.route("/lookup", methods=["GET", "POST"])
def lookup():
    """查询积分: the same sign-in and lockout as POST /api/v1/public/balance."""
    if request.method == "GET":
        return render_template("public/lookup.html", holder="")
    code = request.form.get("holder", "").strip()
    try:
        data = PinSchema().load({"holder": code, "pin": request.form.get("pin", "")})
        holder = resident(data["holder"], data["pin"], request.remote_addr)
        balance = balance_view(holder)
    except (PointsError, ValidationError) as error:
        status = status_of(error)
        return render_template(
            "public/lookup.html", holder=code, error=friendly(error, resident=True)
        ), status
    remember_resident(holder.code)
    return render_template(
        "public/balance.html", balance=balance, village=village_of(holder.unit), year=today().year
    )


def _board(unit_code):
    return notice_board(unit_code, BOARD) if unit_code else (None, [])


@bp.get("/notices")
def notices():
    """公示栏 of a village: masked names, printable on A4, an objection form per entry."""
    unit_code = request.args.get("unit", "").strip()
    try:
        unit, notices = _board(unit_code)
    except PointsError as error:
        return render_template(
            "public/notices.html", unit=None, notices=[], villages=villages(), error=friendly(error)
        ), error.status
    return render_template(
        "public/notices.html", unit=unit, notices=notices, villages=villages(), form={}
    )


@bp.post("/notices")
def object_to_entry():
    """提出异议: a resident of the same village, signed with code and PIN (as the API)."""
    unit_code = request.form.get("unit", "").strip()
    entry_id = request.form.get("entry", "")
    form = {
        "entry": entry_id,
        "holder": request.form.get("holder", "").strip(),
        "text": request.form.get("text", ""),
    }
    try:
        data = PublicObjectionSchema().load(
            {
                "holder": form["holder"],
                "pin": request.form.get("pin", ""),
                "text": form["text"].strip(),
            }
        )
        if not entry_id.isdigit():
            raise PointsError("not_found", "entry not found", 404)
        service.object_to_entry(
            data["holder"], data["pin"], request.remote_addr, int(entry_id), data["text"]
        )
    except (PointsError, ValidationError) as error:
        status = status_of(error)
        unit, notices = _board(unit_code) if unit_code else (None, [])
        return render_template(
            "public/notices.html",
            unit=unit,
            notices=notices,
            villages=villages(),
            form=form,
            error=friendly(error, resident=True),
        ), status
    flash(_("您的异议已提交，这条记录暂不入账，等待审核员处理。"), "success")
    return redirect(url_for("public_pages.notices", unit=unit_code or None))
