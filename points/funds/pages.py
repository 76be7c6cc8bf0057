"""Page: /admin/funds (公益金) — a unit's fund: its balance, money in and out, the movements."""

from babel.numbers import format_decimal
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from points.errors import PointsError, forbidden
from points.funds import service
from points.funds.api import NewMovementSchema
from points.org.service import units_within
from points.reports.oversight import donations
from points.web import friendly, page_errors, principal

bp = page_errors(Blueprint("funds_pages", __name__, url_prefix="/admin/funds"))

LISTED = 50  # movements on the page


@bp.app_template_filter("yuan")
def yuan_text(value):
    """¥1,234.50 (glossary.md: yuan, two decimals)."""
    if value is None:
        return ""
    return format_decimal(value, format="¥#,##0.00", locale=str(get_locale()))


@bp.before_request
@login_required
def only_admins():
    if "admin" not in current_user.roles:
        raise forbidden()


def _page(unit_code, form=None, error=None, status=200):
    me = principal()
    units = units_within(me, "admin")
    unit_code = unit_code or (units[0].code if units else "")
    fund = service.movements(me, unit_code, 1, LISTED) if unit_code else None
    given = donations(me, unit_code, LISTED) if unit_code else []
    return render_template(
        "funds/index.html",
        units=units,
        unit_code=unit_code,
        fund=fund,
        form=form or {},
        donations=given,
        error=error,
    ), status


@bp.get("")
def index():
    return _page(request.args.get("unit", "").strip())


@bp.post("/<unit>")
def record(unit):
    """收入 or 支出: the same schema and service as POST /api/v1/funds/<unit>/movements."""
    form = {k: request.form.get(k, "").strip() for k in ("kind", "amount", "source", "note")}
    try:
        data = NewMovementSchema().load({k: v for k, v in form.items() if v or k != "note"})
        movement = service.record_movement(
            principal(), unit, data["kind"], data["amount"], data["source"], data.get("note")
        )
    except ValidationError as error:
        return _page(unit, form, friendly(error), 422)
    except PointsError as error:
        if error.code == "insufficient_fund":
            message = _(
                "公益金余额不足：当前 %(balance)s，本次支出 %(amount)s，没有记账。",
                balance=yuan_text(error.details["balance"]),
                amount=yuan_text(error.details["amount"]),
            )
        else:
            message = friendly(error)
        return _page(unit if error.status not in (403, 404) else "", form, message, error.status)
    flash(
        _("已记账，公益金余额 %(balance)s。", balance=yuan_text(movement["balance_after"])),
        "success",
    )
    return redirect(url_for("funds_pages.index", unit=unit))
