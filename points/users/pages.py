"""Pages: /login and logout. Home (/) is drawn from several capabilities: points/desk/pages.py."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from points.errors import PointsError
from points.users import service
from points.web import friendly, page_errors, safe_next, start_session

bp = page_errors(Blueprint("users_pages", __name__))


def _login_page(form, error, status):
    return render_template(
        "users/login.html", form=form, next=request.form.get("next", ""), error=error
    ), status


@bp.get("/login")
def login():
    """登录: the username and password form."""
    return render_template(
        "users/login.html", form={"username": ""}, next=request.args.get("next", "")
    )


@bp.post("/login")
def sign_in():
    """Username and password, with the same lockout as the API's token."""
    form = {"username": request.form.get("username", "").strip()}
    password = request.form.get("password", "")
    if not form["username"] or not password:
        return _login_page(form, _("请填写用户名和密码。"), 422)
    try:
        user = service.sign_in(form["username"], password)
    except PointsError as error:
        return _login_page(form, friendly(error), error.status)
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
