"""What every server-rendered page shares: staff sessions, CSRF, languages, security headers,
how points, dates and states are written on screen, and friendly messages for service errors.

The pages themselves live by capability (points/users/pages.py, points/entries/pages.py, ...)
and call the same service functions as the JSON API.
"""

import time
from datetime import datetime
from decimal import Decimal
from functools import cached_property, wraps
from pathlib import Path
from urllib.parse import urlsplit

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app, render_template, request, send_from_directory, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required, login_user
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from points.database import aware, local_date, local_tz
from points.errors import PointsError, forbidden, handle_http_exception, not_found
from points.extensions import babel, csrf, login_manager

LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# No inline script anywhere; the API docs page alone lets Swagger UI set inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class PagesSession(SecureCookieSessionInterface):
    """The pages' signed cookie (a staff sign-in, a resident's PIN, CSRF); the JSON API signs
    with a bearer token and has no session, so its requests neither verify nor set a cookie."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app):
    app.session_interface = PagesSession()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    # Forms are protected by the check below, not on every path: the JSON API signs with a
    # bearer token (or a PIN in the body), which a foreign site cannot send.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault(
        "WTF_CSRF_TIME_LIMIT", 12 * 3600
    )  # a volunteer's form left open all morning

    login_manager.init_app(app)
    login_manager.login_view = "users_pages.login"
    login_manager.login_message = _l("请先登录")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_staff)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    app.before_request(protect_forms)
    app.after_request(remember_language)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, expired_form)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_template_global(lang_url)
    app.add_template_global(current_lang)
    app.add_template_global(has_page)
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)


# --- staff sessions ------------------------------------------------------------------------


class Staff(UserMixin):
    """A signed-in staff member of a page session, loaded afresh on every request."""

    def __init__(self, user):
        self.id, self.username = user.id, user.username
        self.display_name = user.display_name or user.username

    @cached_property
    def principal(self):
        from points.users.service import principal_for_user

        return principal_for_user(self.id, self.username)

    @cached_property
    def roles(self):
        return {g.role for g in self.principal.grants}


SESSION_VERSION = "session_version"


def load_staff(user_id):
    """The session's user while the session is current: not disabled, not signed out since."""
    from points.users.service import active_user

    version = session.get(SESSION_VERSION)
    if not str(user_id).isdigit() or not isinstance(version, int):
        return None
    user = active_user(int(user_id), version)
    return Staff(user) if user is not None else None


def start_session(user):
    """A new session at sign-in, carrying the user's current session version."""
    session.clear()  # nothing from before survives it
    login_user(Staff(user))
    session[SESSION_VERSION] = user.session_version


def safe_next(target, default):
    """Only a path on this site, never another host (an open redirect) nor a header split:
    no CR, LF or other control character, and no backslash (browsers read "/\\host" as "//host")."""
    if not target or len(target) > 2000:
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def principal():
    return current_user.principal


def role_required(*roles):
    """@role_required("clerk"): a page for signed-in staff holding any of these roles (the
    sign-in page first, else 403). Which units they may act on is the service's to check."""
    wanted = set(roles)

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.roles & wanted:
                raise forbidden()
            return view(*args, **kwargs)

        return login_required(checked)

    return decorate


def form(schema, fields, omit_blank=(), secrets=(), **values):
    """A page's form read by the capability's request schema (the JSON API's own): `fields`
    taken from the form, stripped (names, or {schema field: form field} where a page names its
    inputs otherwise: one reason box per row), and `secrets` (a PIN, a password) as typed, never
    stripped, with `values` over them; a field named in `omit_blank` and left blank is left
    out, as a JSON client leaves out an optional field. A refusal is a ValidationError, as the
    API's."""
    names = fields if isinstance(fields, dict) else {name: name for name in fields}
    data = {field: request.form.get(name, "").strip() for field, name in names.items()}
    data = {field: value for field, value in data.items() if value or field not in omit_blank}
    typed = {name: request.form.get(name, "") for name in secrets}
    return schema().load({**data, **typed, **values})


def form_row_id(name, what):
    """The row a form names by its id (a hidden field: the entry objected to, the redemption to
    void): a number, else there is no such row (404 naming `what`)."""
    text = request.form.get(name, "")
    if not text.isdigit():
        raise not_found(what)
    return int(text)


RESIDENT_MINUTES = 15  # how long a resident's /lookup opens their own printouts


def remember_resident(holder_code):
    """After code + PIN at /lookup, the resident may print their own passbook for a while."""
    session["resident"] = {"holder": holder_code, "until": time.time() + RESIDENT_MINUTES * 60}


def signed_in_resident():
    """The holder code a resident signed in with at /lookup, while it is fresh; else None."""
    found = session.get("resident") or {}
    if not isinstance(found, dict) or found.get("until", 0) < time.time():
        return None
    return found.get("holder")


# --- forms, languages, headers -------------------------------------------------------------


def protect_forms():
    """CSRF on every form a page handles; the JSON API, and requests no route accepts (they get
    their 404 or 405), are left alone."""
    if (
        request.method in UNSAFE_METHODS
        and request.routing_exception is None
        and not request.path.startswith("/api/")
    ):
        csrf.protect()


def expired_form(error):
    if request.path.startswith("/api/"):
        return handle_http_exception(error)
    return render_template("error.html", message=_("页面已过期，请返回上一页刷新后重新提交。")), 400


def select_locale():
    for value in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    return "zh"


def remember_language(response):
    if not request.query_string:  # no ?lang= (nearly every request): no query to parse
        return response
    lang = request.args.get("lang")
    if lang in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


# Only the site's own static files may be kept by a browser or a proxy; every other answer (the
# JSON API, staff pages, a resident's balance) is private to the moment it was asked for.
CACHEABLE = ("/static/", "/favicon.ico")


def security_headers(response):
    """The headers every answer carries, unless the view set its own (setdefault's semantics,
    without its KeyError per missing header: this runs on every request)."""
    headers = response.headers
    if not request.path.startswith(CACHEABLE):
        headers["Cache-Control"] = "no-store"
    present = {key.lower() for key in headers.keys()}
    wanted = _HSTS if current_app.config.get("ENV_NAME") == "production" else ()
    docs = request.path.startswith("/api/v1/docs")
    for key, value in (*wanted, ("Content-Security-Policy", DOCS_CSP if docs else CSP), *_FIXED):
        if key.lower() not in present:
            headers.add(key, value)
    return response


_HSTS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)
_FIXED = (
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
)


def favicon():
    """Browsers ask for /favicon.ico on pages without an icon link (the API docs)."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


def current_lang():
    return str(get_locale())


def lang_url(lang):
    """This page in another language (the choice is then remembered)."""
    args = request.args.to_dict()
    args["lang"] = lang
    return url_for(request.endpoint or "users_pages.home", **(request.view_args or {}), **args)


def has_page(path):
    """Whether a page exists yet at this path (e.g. /counter, built by the shop)."""
    path = path.rstrip("/")
    return any(
        rule.rule.rstrip("/") == path for rule in current_app.url_map.iter_rules()
    )  # /admin/ too


# --- how things are written on screen (glossary.md) ----------------------------------------


def points_text(value, signed=False):
    """12.5, 15, -3 (never 12.50): the number only; templates add 分."""
    if value is None:
        return ""
    value = Decimal(value)
    text = format_decimal(value, format="#,##0.#", locale=str(get_locale()))
    return f"+{text}" if signed and value > 0 else text


def date_text(value):
    """2026年11月23日 (zh) / 23 Nov 2026 (en)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    pattern = "y年M月d日" if str(get_locale()) == "zh" else "d MMM y"
    return format_date(value, pattern, locale=str(get_locale()))


def short_date_text(value):
    """11月26日 / 26 Nov: a notice's last day."""
    pattern = "M月d日" if str(get_locale()) == "zh" else "d MMM"
    return format_date(value, pattern, locale=str(get_locale())) if value else ""


def datetime_text(value):
    if value is None:
        return ""
    moment = aware(value).astimezone(local_tz())
    return f"{date_text(moment.date())} {moment:%H:%M}"


STATES = {
    "pending": _l("待审核"),
    "in_notice": _l("公示中"),
    "disputed": _l("有异议"),
    "posted": _l("已入账"),
    "rejected": _l("未通过"),
    "revoked": _l("已撤销"),
}
POSTING_KINDS = {
    "entry": _l("记分入账"),
    "revoke": _l("撤销"),
    "redemption": _l("兑换"),
    "void": _l("作废"),
    "expiry": _l("清零"),
    "carry": _l("结转"),
}
ROLES = {
    "admin": _l("管理员"),
    "recorder": _l("记分员"),
    "reviewer": _l("审核员"),
    "clerk": _l("超市店员"),
}
UNIT_KINDS = {
    "county": _l("县"),
    "township": _l("乡镇"),
    "village": _l("村"),
    "community": _l("社区"),
    "grid": _l("网格"),
    "branch": _l("党支部"),
}
HOLDER_KINDS = {
    "household": _l("农户"),
    "member": _l("党员"),
    "organisation": _l("村党组织"),
    "staff": _l("网格员"),
}


def state_text(entry):
    """公示中 (至 11月26日), 未通过, ... from an entry view (a dict)."""
    label = str(STATES.get(entry["status"], entry["status"]))
    if entry["status"] == "in_notice" and entry.get("notice_ends_on"):
        return _(
            "%(state)s（至 %(day)s）", state=label, day=short_date_text(entry["notice_ends_on"])
        )
    return label


FILTERS = {
    "points": points_text,
    "date": date_text,
    "datetime": datetime_text,
    "state": state_text,
    "posting_kind": lambda kind: POSTING_KINDS.get(kind, kind),
    "role": lambda role: ROLES.get(role, role),
    "unit_kind": lambda kind: UNIT_KINDS.get(kind, kind),
    "holder_kind": lambda kind: HOLDER_KINDS.get(kind, kind),
}


# --- friendly messages for service errors --------------------------------------------------

FIELDS = {
    "holder": _l("编号"),
    "holders": _l("编号"),
    "item": _l("积分项目"),
    "occurred_on": _l("日期"),
    "points": _l("积分"),
    "quantity": _l("数量"),
    "grade": _l("等级"),
    "reason": _l("驳回原因"),
    "text": _l("异议内容"),
    "pin": _l("查询密码"),
    "scheme": _l("积分方案"),
    "unit": _l("村（社区）"),
    "note": _l("备注"),
    "username": _l("用户名"),
    "password": _l("密码"),
    "ids": _l("积分记录"),
    "code": _l("代码"),
    "name": _l("名称"),
    "kind": _l("类型"),
    "parent": _l("上级单位"),
    "price": _l("所需积分"),
    "stock": _l("库存"),
    "schemes": _l("积分方案"),
    "display_name": _l("姓名"),
    "grants": _l("权限"),
    "role": _l("角色"),
    "year": _l("年度"),
    "lines": _l("商品"),
    "shop": _l("爱心超市"),
    "goods": _l("商品"),
    "amount": _l("金额"),
    "source": _l("来源或用途"),
    "donor": _l("捐赠人"),
    "photo": _l("照片"),
}
PERIODS = {
    "day": _l("每天"),
    "week": _l("每周"),
    "month": _l("每月"),
    "quarter": _l("每季度"),
    "year": _l("每年"),
}


# The words for each named reason (points.errors.Reason) a service or a schema gives in details.
REASONS = {
    "unknown_holder": lambda p: _("找不到这个编号"),
    "unknown_item": lambda p: _("请选择积分项目"),
    "unknown_scheme": lambda p: _("请选择积分方案"),
    "unknown_unit": lambda p: _("找不到这个单位"),
    "unknown_shop": lambda p: _("找不到这个超市"),
    "future_date": lambda p: _("日期不能晚于今天"),
    "not_positive": lambda p: _("必须大于 0"),
    "required_for_item": lambda p: _("这个项目必须填写"),
    "not_for_item": lambda p: _("这个项目不用填写"),
    "required": lambda p: _("必须填写"),
    "length_min": lambda p: _("必须填写") if p.get("min") == 1 else None,
    "not_a_number": lambda p: _("请填写数字"),
    "not_a_date": lambda p: _("日期格式不对"),
    "not_an_integer": lambda p: _("请填写整数"),
    "not_a_boolean": lambda p: _("请选择是或否"),
    "code_chars": lambda p: _("只能用字母、数字和 _ . -，最多 64 个字符"),
    "username_chars": lambda p: _("只能用字母、数字和 _ . @ -，最多 64 个字符"),
    "pin_digits": lambda p: _("应为 4 到 8 位数字"),
    "password_length": lambda p: _("至少 8 个字符"),
    "one_decimal": lambda p: _("最多一位小数"),
    "two_decimals": lambda p: _("最多两位小数"),
    "between": lambda p: _(
        "必须在 %(min)s 到 %(max)s 之间", min=points_text(p["min"]), max=points_text(p["max"])
    ),
    "one_of": lambda p: _("请选择：%(choices)s", choices=p["choices"]),
    "wrong_kind": lambda p: _("这个编号不属于本积分方案（农户或党员）"),
    # a household list's lines (admin, 导入农户名单)
    "import_code_chars": lambda p: _("编号只能用字母、数字和 _ . -，最多 64 个字符"),
    "code_taken": lambda p: _("编号已存在"),
    "name_required": lambda p: _("请填写姓名"),
    "code_twice": lambda p: _("编号重复（第 %(n)s 行）", n=p["line"]),
    "holder_kind": lambda p: _(
        "类型应为 household（户）、member（党员）、organisation（村党组织）或 staff（网格员）"
    ),
    "unit_outside": lambda p: _("单位不在您管理的范围内"),
    "import_pin_digits": lambda p: _("查询密码应为 4 到 8 位数字"),
    "no_rows": lambda p: _("文件里没有名单"),
    "unknown_user": lambda p: _("找不到这个用户（第 6 列：该户的工作人员用户名）"),
    "too_many_photos": lambda p: _("最多 %(n)s 张", n=p["n"]),
}


def reason_text(message):
    """A detail message in the user's language: by its name when it has one (points.errors.Reason),
    else as given (a message a page wrote itself, already in words)."""
    words = REASONS.get(getattr(message, "name", None))
    text = words(message.params) if words else None
    return text if text is not None else str(message)


def _details_text(details):
    parts = []
    for field, messages in (details or {}).items():
        label = str(FIELDS.get(field, field))
        if isinstance(messages, dict):  # a batch: {"holders": {"H9": ["reason"]}}
            for code, reasons in messages.items():
                parts.append(f"{label} {code}：" + "；".join(reason_text(r) for r in reasons))
        else:
            parts.append(f"{label}：" + "；".join(reason_text(m) for m in messages))
    return "；".join(parts)


def _cap_text(details):
    limits = []
    if details.get("cap_count") is not None:
        limits.append(_("最多 %(n)s 次", n=details["cap_count"]))
    if details.get("cap_points") is not None:
        limits.append(_("最多 %(n)s 分", n=points_text(details["cap_points"])))
    return _(
        "超过该项目的上限（%(per)s%(limits)s），这次没有记分。",
        per=PERIODS.get(details.get("per"), ""),
        limits="，".join(limits),
    )


def friendly(error, resident=False):
    """One short, polite sentence for a refusal: what happened and what to do next."""
    if isinstance(error, ValidationError):
        return _("请检查：%(what)s", what=_details_text(error.messages))
    code, details = error.code, error.details or {}
    if code == "validation_error":
        text = _details_text(details)
        return _("请检查：%(what)s", what=text) if text else _("请检查填写的内容。")
    if code == "invalid_credentials":
        return (
            _("编号或查询密码不对，请重新输入。")
            if resident
            else _("用户名或密码不对，请重新输入。")
        )
    if code == "cap_exceeded":
        return _cap_text(details)
    messages = {
        "too_many_attempts": _("尝试次数过多，请 15 分钟后再试。"),
        "forbidden": _("您没有权限做这件事：不在您负责的单位内。"),
        "self_review": _("不能审核自己记录的积分，请由其他审核员审核。"),
        "conflict_of_interest": _(
            "您与该户是本人或近亲属关系（或对这条记录提出过异议），须回避，这次没有办理。请由其他工作人员办理。"
        ),
        "already_reviewed": _("您已经审核过这条记录，请等待其他审核员。"),
        "invalid_state": _("这条记录的状态已经变了，请刷新后再看。"),
        "period_closed": _("这个日期所在的年度已经结算，不能再记分。"),
        "not_found": _("没有找到，请检查编号。"),
        "idempotency_in_progress": _("上一次提交还在处理，请稍候刷新页面。"),
        "idempotency_key_reused": _("这份表单已经提交过，请重新填写。"),
        "unauthorized": _("请先登录。"),
        "conflict": _("这个代码（或用户名）已经有了，请换一个。"),
        "too_many_open_claims": _(
            "您已有 %(n)s 条申领在等待处理，请等记分员处理后再申领。", n=details.get("open", "")
        ),
    }
    text = messages.get(code)
    if text is None:
        text = error.message if str(get_locale()) == "zh" else _("没有成功，请检查后重试。")
    holders = details.get("holders") if isinstance(details, dict) else None
    if holders and code != "validation_error":
        text += " " + _("涉及编号：%(codes)s", codes="、".join(holders))
    return text


def status_of(error):
    """The status a page answers a refusal with: a PointsError's own, a ValidationError's 422."""
    return error.status if isinstance(error, PointsError) else 422


def page_errors(blueprint):
    """A page never answers a raw 500 or a JSON envelope: a friendly page instead."""

    @blueprint.errorhandler(PointsError)
    def points_error(error):
        return render_template("error.html", message=friendly(error)), error.status

    @blueprint.errorhandler(HTTPException)
    def http_error(error):
        if isinstance(error, CSRFError):
            return expired_form(error)
        messages = {
            404: _("没有这个页面。"),
            405: _("不能这样打开这个页面。"),
            413: _("提交的内容太大，请减少后重试。"),
        }
        return render_template(
            "error.html", message=messages.get(error.code, _("请求有误，请返回重试。"))
        ), error.code

    @blueprint.errorhandler(Exception)
    def unexpected(error):
        import logging

        logging.getLogger(__name__).exception("page failed", exc_info=error)
        message = _("出了点问题，请稍后再试。")
        try:
            return render_template("error.html", message=message), 500
        except Exception:  # the layout itself failed: a bare page, never a traceback
            return f"<!DOCTYPE html><meta charset=utf-8><p>{message}</p>", 500

    return blueprint
