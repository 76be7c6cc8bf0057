"""Pages: /holders/<code>/card and /admin/cards?unit= — household cards (一户一码) to print,
10 to an A4 sheet, for staff whose grants cover the households."""

from flask import Blueprint, render_template, request
from flask_login import login_required

from points.cards import service
from points.org.models import HOLDER_KINDS
from points.org.service import get_holder, units_within
from points.web import page_errors, principal

bp = page_errors(Blueprint("cards_pages", __name__))


@bp.get("/holders/<code>/card")
@login_required
def card(code):
    """One household's card (to replace a lost one)."""
    holder = get_holder(principal(), code)
    cards = service.card_views([holder])
    return render_template(
        "cards/sheet.html",
        sheets=service.sheets(cards),
        one=holder,
        units=[],
        unit="",
        kind="",
        more=False,
    )


@bp.get("/admin/cards")
@login_required
def unit_cards():
    """The cards of every household (or party member) under a unit, in code order."""
    me = principal()
    unit = request.args.get("unit", "").strip()
    kind = request.args.get("kind", "").strip()
    kind = kind if kind in HOLDER_KINDS else ""
    cards, more = service.unit_cards(me, unit, kind or None) if unit else ([], False)
    return render_template(
        "cards/sheet.html",
        sheets=service.sheets(cards),
        one=None,
        units=units_within(me),
        unit=unit,
        kind=kind,
        more=more,
        most=service.MOST,
    )
