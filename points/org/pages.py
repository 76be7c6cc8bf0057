"""Pages: /holders/<code> — a holder's accounts, postings and entries."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from points.database import today
from points.entries import service as entries
from points.entries.api import entry_view
from points.extensions import db
from points.ledger import service as ledger
from points.ledger.api import posting_view
from points.org import service
from points.schemes.service import all_schemes
from points.users.models import User
from points.web import page_errors, principal

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
