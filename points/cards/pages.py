"""Pages: /holders/<code>/card and /admin/cards?unit= — household cards (一户一码) to print,
10 to an A4 sheet, for staff whose grants cover the households."""

from flask import Blueprint, render_template, request
from flask_login import login_required

from points.cards import service
from points.web import page_errors, principal

bp = page_errors(Blueprint("cards_pages", __name__))


@bp.get("/holders/<code>/card")
@login_required
def card(code):
    """One household's card (to replace a lost one)."""
    return render_template("cards/sheet.html", **service.card_page(principal(), code))


@bp.get("/admin/cards")
@login_required
def unit_cards():
    """The cards of every household (or party member) under a unit, in code order."""
    unit, kind = (request.args.get(name, "").strip() for name in ("unit", "kind"))
    return render_template("cards/sheet.html", **service.unit_cards_page(principal(), unit, kind))
