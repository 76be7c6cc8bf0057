"""Pages: /holders/<code> — a holder's accounts, postings and entries."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from points.database import today
from points.entries import service as entries
from points.entries.api import entry_view
from points.extensions import db
from points.ledger import service as ledger
from points.ledger.api import posting_view
from points.org import service
from points.schemes.service import all_schemes, scheme_by_code
from points.users.models import User
from points.errors import not_found
from points.web import page_errors, principal, signed_in_resident

bp = page_errors(Blueprint("org_pages", __name__))

HISTORY = 50


@bp.get("/holders")
@login_required
def find_holder():
    """The search box on home: to the holder's page by code."""
    code = request.args.get("code", "").strip()
    return redirect(url_for("org_pages.holder", code=code) if code else url_for("users_pages.home"))


@bp.get("/holders/<code>")
@login_required
def holder(code):
    """户 / 党员: balance and pending points per scheme, every posting and who did it, entries."""
    holder = service.get_holder(principal(), code)
    year = today().year
    accounts = []
    for scheme in all_schemes():
        if scheme.subject != holder.kind:
            continue
        view = ledger.account_view(scheme, holder, year)
        account = ledger.find_account(scheme.id, holder.id)
        postings = []
        if account is not None:
            rows = db.session.execute(ledger.postings_query(account.id).limit(HISTORY)).scalars().all()
            users = _usernames({p.user_id for p in rows})
            postings = [{**posting_view(p), "by": users.get(p.user_id, "")} for p in rows]
        accounts.append({"scheme_name": scheme.name, **view, "postings": postings})
    query = entries.entries_query(principal(), holder=holder.code).limit(HISTORY)
    recent = [entry_view(e, detail=False) for e in db.session.execute(query).scalars()]
    return render_template("org/holder.html", holder=holder, accounts=accounts, entries=recent)


def _usernames(ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(User.id, User.username).where(User.id.in_(ids))).all())


@bp.get("/holders/<code>/statement")
def statement(code):
    """积分存折: a year's passbook to print (A5 or A4), for staff in scope and for the resident
    who has just signed in at /lookup with code and PIN."""
    if current_user.is_authenticated:
        holder = service.get_holder(principal(), code)
    elif signed_in_resident() == code:
        holder = service.holder_by_code(code)
    else:
        return redirect(url_for("public_pages.lookup"))
    year = request.args.get("year", "")
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today().year
    schemes = [s for s in all_schemes() if s.subject == holder.kind]
    wanted = request.args.get("scheme") or (schemes[0].code if schemes else "")
    scheme = scheme_by_code(wanted)
    if scheme.subject != holder.kind:
        raise not_found("account")
    found = ledger.statement(scheme, holder, year)
    paper = "a4" if request.args.get("paper") == "a4" else "a5"
    return render_template("org/statement.html", s=found, holder=holder, village=service.village_of(holder.unit),
                           postings=[posting_view(p) for p in found["postings"]], paper=paper, printed=today())
