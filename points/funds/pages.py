"""Page: /admin/funds (公益金) — a unit's fund: its balance, money in and out, the movements."""

from babel.numbers import format_decimal
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from marshmallow import ValidationError

from points.errors import PointsError
from points.funds import service
from points.funds.schemas import NewMovementSchema
from points.reports.oversight import fund_page
from points.web import (
    form as read_form,
    friendly,
    page_errors,
    principal,
    role_required,
    status_of,
)

bp = page_errors(Blueprint("funds_pages", __name__, url_prefix="/admin/funds"))

LISTED = 50  # movements on the page


@bp.app_template_filter("yuan")
def yuan_text(value):
    """¥1,234.50 (glossary.md: yuan, two decimals)."""
    if value is None:
        return ""
    return format_decimal(value, format="¥#,##0.00", locale=str(get_locale()))


def _page(unit_code, form=None, error=None, status=200):
    return render_template(
        "funds/index.html",
        **fund_page(principal(), unit_code, LISTED),
        form=form or {},
        error=error,
    ), status


@bp.get("")
@role_required("admin")
def index():
    return _page(request.args.get("unit", "").strip())


def _refusal(error):
    """A refusal in the page's words: money out beyond the balance names both sums."""
    if isinstance(error, PointsError) and error.code == "insufficient_fund":
        return _(
            "公益金余额不足：当前 %(balance)s，本次支出 %(amount)s，没有记账。",
            balance=yuan_text(error.details["balance"]),
            amount=yuan_text(error.details["amount"]),
        )
    return friendly(error)


def _refused(unit_code, error):
    """The page again, with the form as sent and why (of no unit when it is not theirs)."""
    shown = "" if status_of(error) in (403, 404) else unit_code
    return _page(shown, request.form, _refusal(error), status_of(error))


@bp.post("/<unit>")
@role_required("admin")
def record(unit):
    """收入 or 支出: the same schema and service as POST /api/v1/funds/<unit>/movements."""
    try:
        data = read_form(NewMovementSchema, ["kind", "amount", "source", "note"], ["note"])
        movement = service.record_movement(principal(), unit, **data)
    except (PointsError, ValidationError) as error:
        return _refused(unit, error)
    balance = yuan_text(movement["balance_after"])
    flash(_("已记账，公益金余额 %(balance)s。", balance=balance), "success")
    return redirect(url_for("funds_pages.index", unit=unit))
