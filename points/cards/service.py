"""一户一码: what a household card shows. The QR holds the holder code and nothing else (never
the PIN); the name is masked as on the public board."""

import segno
from markupsafe import Markup
from sqlalchemy import select

from points.extensions import db
from points.org.models import HOLDER_KINDS, VILLAGE_KINDS, Unit
from points.org.service import get_holder, holders_query, units_within
from points.public.service import mask

PER_SHEET = 10  # cards on one A4 sheet: 2 across, 5 down
MOST = 500  # cards one print may hold (50 sheets); a bigger unit is printed grid by grid


def qr_svg(code):
    """The holder code as an inline SVG QR code, drawn by the server (no script needed). Never a
    Micro QR, which segno picks for short data and which phones' readers and jsQR cannot read."""
    qr = segno.make_qr(code, error="m")
    return Markup(qr.svg_inline(scale=1, border=2, omitsize=True, title=code))


def card_views(holders):
    """The cards of these holders, in order: code, masked name, village, grid, QR. The units
    above all of them are read in one query, not once per card."""
    ids = {int(i) for h in holders for i in h.unit.path.strip("/").split("/")}
    units = (
        {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
        if ids
        else {}
    )
    views = []
    for holder in holders:
        village = _village(holder.unit, units)
        views.append(
            {
                "code": holder.code,
                "name": mask(holder.name),
                "kind": holder.kind,
                "village": village.name if village is not None else "",
                "grid": holder.unit.name if village is None or holder.unit.id != village.id else "",
                "qr": qr_svg(holder.code),
            }
        )
    return views


def _village(unit, units):
    """The nearest village or community above (or at) the unit, as org.service.village_of."""
    for unit_id in reversed(unit.path.strip("/").split("/")):
        found = units.get(int(unit_id))
        if found is not None and found.kind in VILLAGE_KINDS:
            return found
    return None


def unit_cards(principal, unit_code, kind=None):
    """The cards of the holders under a unit, within the caller's grants: at most MOST, and
    whether there were more."""
    query = holders_query(principal, unit_code=unit_code, kind=kind).limit(MOST + 1)
    holders = db.session.execute(query).scalars().all()
    return card_views(holders[:MOST]), len(holders) > MOST


def sheets(cards):
    """The cards in sheets of PER_SHEET, one printed A4 page each."""
    return [cards[i : i + PER_SHEET] for i in range(0, len(cards), PER_SHEET)]


def card_page(principal, holder_code):
    """/holders/<code>/card: one household's card, to replace a lost one."""
    holder = get_holder(principal, holder_code)
    return dict(
        sheets=sheets(card_views([holder])), one=holder, units=[], unit="", kind="", more=False
    )


def unit_cards_page(principal, unit_code, kind):
    """/admin/cards: the cards under a unit (none until one is chosen), of one holder kind or
    all (an unknown kind is all)."""
    kind = kind if kind in HOLDER_KINDS else ""
    cards, more = unit_cards(principal, unit_code, kind or None) if unit_code else ([], False)
    return dict(
        sheets=sheets(cards),
        one=None,
        units=units_within(principal),
        unit=unit_code,
        kind=kind,
        more=more,
        most=MOST,
    )
