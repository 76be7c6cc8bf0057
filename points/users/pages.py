"""Pages: /login, logout and / (home: what this user has to do now, by role)."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from points.entries import service as entries
from points.entries.api import entry_view
from points.errors import PointsError
from points.extensions import db
from points.reports.oversight import liability_warnings
from points.users import service
from points.web import friendly, page_errors, principal, safe_next, start_session

bp = page_errors(Blueprint("users_pages", __name__))

RECENT = 10


@bp.route("/login", methods=["GET", "POST"])
def login():
    """登录: username and password, the same lockout as the API's token."""
    form = {"username": request.form.get("username", "").strip()}
    if request.method == "GET":
        return render_template("users/login.html", form=form, next=request.args.get("next", ""))
    password = request.form.get("password", "")
    if not form["username"] or not password:
        return render_template("users/login.html", form=form, next=request.form.get("next", ""),
                               error=_("请填写用户名和密码。")), 422
    try:
        user = service.sign_in(form["username"], password)
    except PointsError as error:
        return render_template("users/login.html", form=form, next=request.form.get("next", ""),
                               error=friendly(error)), error.status
    start_session(user)
    return redirect(safe_next(request.form.get("next"), url_for("users_pages.home")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        service.end_sessions(current_user.id)  # a copy of this cookie is signed out too
    logout_user()
    session.clear()
    flash(_("您已退出。"), "info")
    return redirect(url_for("users_pages.login"))


@bp.get("/")
@login_required
def home():
    """首页: entries awaiting this reviewer, the recorder's recent entries, links."""
    me = principal()
    roles = {g.role for g in me.grants}
    queue = recent = None
    if "reviewer" in roles:
        queue = [entry_view(e, detail=False) for e in entries.review_queue(me)]
        queue = {"count": len(queue), "mine": sum(e["recorded_by"] == me.username for e in queue)}
    if "recorder" in roles:
        query = entries.entries_query(me, recorded_by=me.username).limit(RECENT)
        recent = [entry_view(e, detail=False) for e in db.session.execute(query).scalars()]
    short = liability_warnings(me) if "admin" in roles else None  # 积分兑付能力 not enough
    return render_template("users/home.html", roles=roles, grants=me.grants, queue=queue,
                           recent=recent, short=short)
