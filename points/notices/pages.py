"""Pages: /holders/<code>/slip — the notice slip (积分告知单) a grid worker prints and hands the
household: its open entries, deductions first, with the reason, the last day of notice and
how to object. Staff in scope only."""

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from points.public.service import slip_page
from points.web import page_errors, principal

bp = page_errors(Blueprint("notices_pages", __name__))


@bp.get("/holders/<code>/slip")
@login_required
def slip(code):
    shown = slip_page(principal(), code)
    return render_template(
        "notices/slip.html",
        **shown,
        lookup=url_for("public_pages.lookup", _external=True),
        board=url_for("public_pages.notices", unit=shown["village"].code, _external=True),
    )
