"""What residents see without a token: their balance, what is open about their household
(nothing happens behind its back), and the masked notice board."""

from sqlalchemy import case, select

from points.claims import service as claims
from points.database import today
from points.entries.models import OPEN_STATES, Entry
from points.entries.service import notices_query, object_as_resident
from points.extensions import db
from points.ledger import service as ledger
from points.ledger.api import posting_view
from points.ledger.models import Account, Posting
from points.org.service import get_holder, unit_by_code, village_of
from points.users.service import resident
from points.schemes.models import Scheme
from points.schemes.service import rules_of

RECENT = 10
OPEN_LISTED = 50


def mask(name):
    """张三明 → 张*明, 李四 → 李*, 欧阳小明 → 欧**明: first and (from three) last character kept."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def notice_view(entry):
    item = rules_of(entry.scheme_version_id).item(entry.item)
    return {
        "id": entry.id,
        "holder_name": mask(entry.holder.name),
        "item": entry.item,
        "item_name": item.name if item else entry.item,
        "points": entry.points,
        "occurred_on": entry.occurred_on,
        "notice_ends_on": entry.notice_ends_on,
    }


def object_to_entry(holder_code, pin, address, entry_id, text):
    """提出异议 from the notice board: the resident signs with code and PIN (and its lockouts),
    objects within their own village; the entry's id and its status now (disputed)."""
    holder = resident(holder_code, pin, address)
    object_as_resident(holder, entry_id, text)
    return {"id": entry_id, "status": db.session.get(Entry, entry_id).status}


def notice_board(unit_code, limit):
    """公示栏 of a unit: (the unit, its first `limit` entries in notice, names masked)."""
    unit = unit_by_code(unit_code)
    rows = db.session.execute(notices_query(unit.code).limit(limit)).scalars()
    return unit, [notice_view(e) for e in rows]


def balance_page(holder_code, pin, address):
    """/lookup: the resident signs in with code and PIN (the lockouts of POST
    /api/v1/public/balance), then sees the balance, their village (for its notice board) and
    the year."""
    holder = resident(holder_code, pin, address)
    return dict(balance=balance_view(holder), village=village_of(holder.unit), year=today().year)


def balance_view(holder):
    """A resident's balance and pending points in every scheme of their kind, and recent history."""
    schemes = (
        db.session.execute(
            select(Scheme).where(Scheme.subject == holder.kind).order_by(Scheme.code)
        )
        .scalars()
        .all()
    )
    year = today().year
    accounts = []
    for scheme in schemes:
        view = ledger.account_view(scheme, holder, year)
        accounts.append(
            {
                "scheme": scheme.code,
                "scheme_name": scheme.name,
                "balance": view["balance"],
                "pending": view["pending"],
            }
        )
    account_ids = select(Account.id).where(Account.holder_id == holder.id)
    recent = db.session.execute(
        select(Posting)
        .where(Posting.account_id.in_(account_ids))
        .order_by(Posting.id.desc())
        .limit(RECENT)
    ).scalars()
    return {
        "holder": holder.code,
        "name": holder.name,
        "accounts": accounts,
        "recent": [posting_view(p) for p in recent],
        "open_entries": open_entries(holder),
        "claims": [
            {
                "id": c.id,
                "item": c.item,
                "item_name": _item_name(c.scheme, c.item),
                "status": c.status,
                "reason": c.reason,
                "occurred_on": c.occurred_on,
            }
            for c in claims.recent_of(holder)
        ],
    }


def _item_name(scheme, code):
    item = rules_of(scheme.current_version_id).item(code)
    return item.name if item else code


def slip_page(principal, holder_code):
    """积分告知单 of a holder in the caller's scope: the holder, its village and its open
    entries, printed today."""
    holder = get_holder(principal, holder_code)
    village = village_of(holder.unit)
    return dict(holder=holder, village=village, entries=open_entries(holder), printed=today())


def open_entries(holder):
    """The household's own entries still pending, in notice or disputed, deductions first: a
    household learns of a deduction before it is final, and may object while it is in notice."""
    rows = db.session.execute(
        select(Entry)
        .where(Entry.holder_id == holder.id, Entry.status.in_(OPEN_STATES))
        .order_by(case((Entry.points < 0, 0), else_=1), Entry.id.desc())
        .limit(OPEN_LISTED)
    ).scalars()
    views = []
    for entry in rows:
        item = rules_of(entry.scheme_version_id).item(entry.item)
        views.append(
            {
                "id": entry.id,
                "scheme": entry.scheme.code,
                "item": entry.item,
                "item_name": item.name if item else entry.item,
                "points": entry.points,
                "status": entry.status,
                "occurred_on": entry.occurred_on,
                "note": entry.note,
                "notice_ends_on": entry.notice_ends_on,
            }
        )
    return views
