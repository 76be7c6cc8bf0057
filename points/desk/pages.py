"""Pages: / (home: what this user has to do now, by role), /holders/<code> (a holder's accounts,
postings and entries) and its printable passbook. They keep their endpoint names
(users_pages.home, org_pages.*): the routes are added to those blueprints from here, above
the capabilities they combine."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from points.desk import service
from points.users.pages import bp as users_pages
from points.web import page_errors, principal, signed_in_resident

org_pages = page_errors(Blueprint("org_pages", __name__))


@users_pages.get("/")
@login_required
def home():
    """首页: entries awaiting this reviewer, the recorder's recent entries, links."""
    return render_template("users/home.html", **service.home_page(principal()))


@org_pages.get("/holders")
@login_required
def find_holder():
    """The search box on home: to the holder's page by code."""
    code = request.args.get("code", "").strip()
    return redirect(url_for("org_pages.holder", code=code) if code else url_for("users_pages.home"))


@org_pages.get("/holders/<code>")
@login_required
def holder(code):
    return render_template("org/holder.html", **service.holder_page(principal(), code))


@org_pages.get("/holders/<code>/statement")
def statement(code):
    """积分存折: a year's passbook to print (A5 or A4), for staff in scope and for the resident
    who has just signed in at /lookup with code and PIN."""
    me = principal() if current_user.is_authenticated else None
    args = request.args
    shown = service.passbook_page(
        me, signed_in_resident(), code, args.get("year", ""), args.get("scheme")
    )
    if shown is None:
        return redirect(url_for("public_pages.lookup"))
    paper = "a4" if args.get("paper") == "a4" else "a5"
    return render_template("org/statement.html", paper=paper, **shown)
