"""What the combined pages show, gathered from each capability's own service."""

from points.database import today
from points.entries import service as entries
from points.entries.api import entry_view
from points.ledger import service as ledger
from points.ledger.api import posting_view
from points.org import service as org
from points.schemes.models import FIRST_YEAR, LAST_YEAR
from points.schemes.service import all_schemes, scheme_by_code
from points.errors import not_found
from points.users.service import usernames
from points.reports.oversight import liability_warnings

HISTORY = 50  # postings and entries on a holder's page
RECENT = 10  # a recorder's own entries on home


def holder_page(principal, code):
    """户 / 党员: balance and pending points per scheme, every posting and who did it, entries."""
    holder = org.get_holder(principal, code)
    year = today().year
    accounts = []
    for scheme in all_schemes():
        if scheme.subject != holder.kind:
            continue
        view = ledger.account_view(scheme, holder, year)
        account = ledger.find_account(scheme.id, holder.id)
        postings = []
        if account is not None:
            rows = ledger.recent_postings(account.id, HISTORY)
            names = usernames({p.user_id for p in rows})
            postings = [{**posting_view(p), "by": names.get(p.user_id, "")} for p in rows]
        accounts.append({"scheme_name": scheme.name, **view, "postings": postings})
    recent = [
        entry_view(e, detail=False)
        for e in entries.entries_of(principal, HISTORY, holder=holder.code)
    ]
    return {"holder": holder, "accounts": accounts, "entries": recent}


def passbook_page(principal, resident_code, code, year_text, scheme_code=None):
    """积分存折 of holder `code` for staff in scope (`principal`, None when nobody is signed
    in) or for the resident who has just signed in at /lookup as `resident_code`; None for
    anyone else (they sign in first). The year asked for, or this one when it is none or
    outside the years a scheme keeps."""
    if principal is not None:
        holder = org.get_holder(principal, code)
    elif resident_code == code:
        holder = org.holder_by_code(code)
    else:
        return None
    year = int(year_text) if year_text.isdigit() else None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        year = today().year
    return statement_page(holder, year, scheme_code)


def statement_page(holder, year, scheme_code=None):
    """积分存折: the year's passbook of one of the holder's schemes (the first by default)."""
    schemes = [s for s in all_schemes() if s.subject == holder.kind]
    scheme = scheme_by_code(scheme_code or (schemes[0].code if schemes else ""))
    if scheme.subject != holder.kind:
        raise not_found("account")
    found = ledger.statement(scheme, holder, year)
    return {
        "s": found,
        "holder": holder,
        "village": org.village_of(holder.unit),
        "postings": [posting_view(p) for p in found["postings"]],
        "printed": today(),
    }


def home_page(principal):
    """首页: how many entries await this reviewer (and how many are their own), the recorder's
    recent entries."""
    roles = {g.role for g in principal.grants}
    queue = recent = None
    if "reviewer" in roles:
        waiting = entries.review_queue(principal)
        queue = {
            "count": len(waiting),
            "mine": sum(e.recorded_by.username == principal.username for e in waiting),
        }
    if "recorder" in roles:
        recent = [
            entry_view(e, detail=False)
            for e in entries.entries_of(principal, RECENT, recorded_by=principal.username)
        ]
    short = liability_warnings(principal) if "admin" in roles else None  # 积分兑付能力 not enough
    return {
        "roles": roles,
        "grants": principal.grants,
        "queue": queue,
        "recent": recent,
        "short": short,
    }
