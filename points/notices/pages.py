"""Pages: /holders/<code>/slip — the notice slip (积分告知单) a grid worker prints and hands the
household: its open entries, deductions first, with the reason, the last day of notice and
how to object. Staff in scope only."""

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from points.database import today
from points.org.service import get_holder, village_of
from points.public.service import open_entries
from points.web import page_errors, principal

bp = page_errors(Blueprint("notices_pages", __name__))


@bp.get("/holders/<code>/slip")
@login_required
def slip(code):
    holder = get_holder(principal(), code)
    village = village_of(holder.unit)
    return render_template(
        "notices/slip.html",
        holder=holder,
        village=village,
        entries=open_entries(holder),
        printed=today(),
        lookup=url_for("public_pages.lookup", _external=True),
        board=url_for("public_pages.notices", unit=village.code, _external=True),
    )
