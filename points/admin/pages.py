"""Pages under /admin (管理员): units, holders (with CSV import of a village's household list),
users and grants, shops and goods, schemes (read only), and the year-end close with a preview.

Every form goes through the same schemas and service functions as the JSON API.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from points.database import today
from points.errors import PointsError
from points.org import service as org
from points.org.schemas import HolderSchema, UnitSchema
from points.org.models import HOLDER_KINDS, UNIT_KINDS
from points.reports import oversight as reports_oversight, service as reports
from points.reports.schemas import CloseSchema
from points.schemes.service import all_schemes, comparison, rules_of
from points.schemes.service import versions as scheme_versions
from points.shop import service as shop
from points.shop.schemas import GoodsChangeSchema, NewGoodsSchema, NewShopSchema, RestockSchema
from points.users import service as users
from points.users.schemas import GrantSchema, NewUserSchema
from points.web import (
    form as read_form,
    friendly,
    page_errors,
    points_text,
    principal,
    reason_text,
    role_required,
    status_of,
)

bp = page_errors(Blueprint("admin_pages", __name__, url_prefix="/admin"))

LISTED = 200  # rows on one admin list
IMPORT_ROWS = 5000  # the most lines one household list may have
ROLES = ("admin", "recorder", "reviewer", "clerk")


@bp.before_request
@role_required("admin")
def only_admins():
    """Every admin page is for admins (of some unit: the services check which)."""


def _form(**extra):
    return {**request.form.to_dict(), **extra}


@bp.get("/", strict_slashes=False)  # /admin and /admin/ (the README's link) alike
def index():
    short = reports_oversight.liability_warnings(principal())  # 积分兑付能力 not enough
    return render_template("admin/index.html", short=short)


# --- units ---------------------------------------------------------------------------------


def _units_page(form=None, error=None, status=200):
    units = org.units_within(principal(), "admin")
    depth = {u.id: u.path.count("/") for u in units}
    top = min(depth.values(), default=0)
    rows = [(u, depth[u.id] - top) for u in units]
    return render_template(
        "admin/units.html", rows=rows, units=units, kinds=UNIT_KINDS, form=form or {}, error=error
    ), status


@bp.get("/units")
def units():
    return _units_page()


@bp.post("/units")
def create_unit():
    try:
        data = read_form(UnitSchema, ["code", "name", "kind", "parent"])
        unit = org.create_unit(
            principal(), data["code"], data["name"], data["kind"], data["parent"] or None
        )
    except (PointsError, ValidationError) as error:
        return _units_page(_form(), friendly(error), status_of(error))
    flash(_("已创建单位 %(name)s。", name=unit.name), "success")
    return redirect(url_for("admin_pages.units"))


# --- holders -------------------------------------------------------------------------------


def _holders_page(form=None, error=None, status=200, problems=None, csv_text=""):
    me = principal()
    unit, q = request.args.get("unit", "").strip(), request.args.get("q", "").strip()
    try:
        holders = org.holders_within(me, LISTED, unit_code=unit or None, q=q or None)
    except PointsError as failure:  # a unit searched for that is not theirs, or none such
        if error is not None:
            raise
        holders, unit, q, error, status = [], "", "", friendly(failure), failure.status
    return render_template(
        "admin/holders.html",
        holders=holders,
        units=org.units_within(me, "admin"),
        kinds=HOLDER_KINDS,
        unit=unit,
        q=q,
        form=form or {},
        error=error,
        problems=problems,
        csv_text=csv_text,
        listed=LISTED,
    ), status


@bp.get("/holders")
def holders():
    return _holders_page()


@bp.post("/holders")
def create_holder():
    try:
        data = read_form(HolderSchema, ["code", "name", "kind", "unit", "pin"], ["pin"])
        pin_hash = users.hash_pin(data["pin"]) if data.get("pin") else None
        holder = org.create_holder(
            principal(), data["code"], data["name"], data["kind"], data["unit"], pin_hash
        )
    except (PointsError, ValidationError) as error:
        return _holders_page(_form(pin=""), friendly(error), status_of(error))
    flash(_("已登记 %(code)s %(name)s。", code=holder.code, name=holder.name), "success")
    return redirect(url_for("admin_pages.holders", unit=holder.unit.code))


def _problems(error):
    """{"3": ["unknown unit"]} → [(3, "找不到这个单位")], in the user's language."""
    return [
        (int(line), "；".join(reason_text(r) for r in reasons))
        for line, reasons in sorted(
            error.details.get("lines", {}).items(), key=lambda item: int(item[0])
        )
    ]


def _import_refused(error, pasted):
    """The list again, with what is wrong with it line by line, or the one reason."""
    if error.code == "validation_error" and "lines" in (error.details or {}):
        return _holders_page(
            error=_("名单有错误，没有导入任何一户。请改正后重新导入："),
            problems=_problems(error),
            status=422,
            csv_text=pasted,
        )
    if error.code == "too_many_rows":
        message = _("一次最多导入 %(n)s 行。", n=IMPORT_ROWS)
    else:
        message = friendly(error)
    return _holders_page(error=message, status=error.status, csv_text=pasted)


@bp.post("/holders/import")
def import_holders():
    """导入农户名单: code,name,kind,unit[,pin[,user]]; errors line by line, nothing imported on
    any error."""
    upload = request.files.get("file")
    pasted = request.form.get("text", "")
    data = upload.read() if upload is not None and upload.filename else pasted.encode("utf-8")
    try:
        count = users.import_holders(principal(), org.read_holder_list(data, IMPORT_ROWS))
    except PointsError as error:
        return _import_refused(error, pasted)
    flash(_("已导入 %(n)s 户。", n=count), "success")
    return redirect(url_for("admin_pages.holders"))


# --- users and grants ----------------------------------------------------------------------


def _users_page(form=None, error=None, status=200):
    me = principal()
    listed = users.managed_users(me, LISTED)
    return render_template(
        "admin/users.html",
        users=listed,
        links=users.links_of([u.id for u in listed]),
        units=org.units_within(me, "admin"),
        roles=ROLES,
        form=form or {},
        error=error,
    ), status


@bp.get("/users")
def users_list():
    return _users_page()


@bp.post("/users")
def create_user():
    try:
        user = users.create_user(principal(), **_user_asked())
    except (PointsError, ValidationError) as error:
        return _users_page(_form(password=""), friendly(error), status_of(error))
    flash(_("已创建用户 %(name)s。", name=user.username), "success")
    return redirect(url_for("admin_pages.users_list"))


def _user_asked():
    """A new user: username, name (blank: none), the password as typed and one grant."""
    fields = ["username", "display_name"]
    return read_form(NewUserSchema, fields, secrets=["password"], grants=[_grant_asked()])


def _grant_asked():
    return {"role": request.form.get("role", ""), "unit": request.form.get("unit", "")}


def _link(me, username):
    holder = org.holder_by_code_or_name(me, request.form.get("holder", ""))
    users.add_link(me, username, holder.code)
    return _("已登记 %(name)s 与 %(holder)s 的回避关系。", name=username, holder=holder.name)


def _unlink(me, username):
    holder = org.holder_by_code_or_name(me, request.form.get("holder", ""))
    users.remove_link(me, username, holder.code)
    return _("已解除 %(name)s 与 %(holder)s 的回避关系。", name=username, holder=holder.name)


def _disable(me, username):
    users.disable_user(me, username)
    return _("已停用 %(name)s，其登录立即失效。", name=username)


def _remove_grant(me, username):
    grant = GrantSchema().load(_grant_asked())
    users.remove_grant(me, username, grant["role"], grant["unit"])
    return _("已取消 %(name)s 的一项权限。", name=username)


def _add_grant(me, username):
    grant = GrantSchema().load(_grant_asked())
    users.add_grant(me, username, grant["role"], grant["unit"])
    return _("已给 %(name)s 增加权限。", name=username)


USER_ACTIONS = {"link": _link, "unlink": _unlink, "disable": _disable, "remove": _remove_grant}


@bp.post("/users/<username>")
def change_user(username):
    """Add or remove a grant or a link (回避), or disable the user (停用)."""
    change = USER_ACTIONS.get(request.form.get("action", ""), _add_grant)
    try:
        message = change(principal(), username)
    except (PointsError, ValidationError) as error:
        return _users_page(error=friendly(error), status=status_of(error))
    flash(message, "success")
    return redirect(url_for("admin_pages.users_list"))


# --- shops and goods -----------------------------------------------------------------------


def _shops_page(form=None, error=None, status=200):
    me = principal()
    return render_template(
        "admin/shops.html",
        shops=shop.admin_shops(me, LISTED),
        units=org.units_within(me, "admin"),
        schemes=all_schemes(),
        form=form or {},
        error=error,
    ), status


@bp.get("/shops")
def shops():
    return _shops_page()


def _shop_asked():
    """A new shop: code, name, unit and the schemes ticked."""
    schemes = request.form.getlist("schemes")
    return read_form(NewShopSchema, ["code", "name", "unit"], schemes=schemes)


@bp.post("/shops")
def create_shop():
    try:
        data = _shop_asked()
        created = shop.create_shop(
            principal(), data["code"], data["name"], data["unit"], data["schemes"]
        )
    except (PointsError, ValidationError) as error:
        return _shops_page(_form(), friendly(error), status_of(error))
    flash(_("已开设爱心超市 %(name)s。", name=created.name), "success")
    return redirect(url_for("admin_pages.one_shop", code=created.code))


def _shop_page(code, form=None, error=None, status=200):
    found, goods = shop.shop_with_goods(principal(), code)
    return render_template(
        "admin/shop.html", shop=found, goods=goods, form=form or {}, error=error
    ), status


@bp.get("/shops/<code>")
def one_shop(code):
    return _shop_page(code)


@bp.post("/shops/<code>/goods")
def add_goods(code):
    try:
        stock = _whole(request.form.get("stock", ""))
        data = read_form(NewGoodsSchema, ["code", "name", "price"], stock=stock)
        goods = shop.add_goods(
            principal(), code, data["code"], data["name"], data["price"], data["stock"]
        )
    except (PointsError, ValidationError) as error:
        return _shop_page(code, _form(), friendly(error), status_of(error))
    flash(_("已上架 %(name)s。", name=goods.name), "success")
    return redirect(url_for("admin_pages.one_shop", code=code))


def _whole(text):
    """A form's whole number as the schema's strict integer takes it (else as typed: refused)."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def _restock(me, code, goods):
    data = read_form(
        RestockSchema, ["note", "donor"], quantity=_whole(request.form.get("quantity", ""))
    )
    changed = shop.restock(
        me, code, goods, data["quantity"], data.get("note") or None, data.get("donor") or None
    )
    return _("%(name)s 已入库，库存 %(n)s。", name=changed.name, n=changed.stock)


def _change_goods(me, code, goods):
    data = read_form(
        GoodsChangeSchema, ["price", "name"], ["name"], active=request.form.get("active") == "1"
    )
    changed = shop.change_goods(me, code, goods, **data)
    return _("已保存 %(name)s。", name=changed.name)


@bp.post("/shops/<code>/goods/<goods>")
def change_goods(code, goods):
    """Change price or name, take off or back on the shelf, or restock (入库)."""
    change = _restock if request.form.get("action") == "restock" else _change_goods
    try:
        message = change(principal(), code, goods)
    except (PointsError, ValidationError) as error:
        return _shop_page(code, error=friendly(error), status=status_of(error))
    flash(message, "success")
    return redirect(url_for("admin_pages.one_shop", code=code))


# --- schemes (read only) -------------------------------------------------------------------


@bp.get("/schemes")
def schemes():
    listed = [(s, rules_of(s.current_version_id)) for s in all_schemes()]
    return render_template(
        "admin/schemes.html",
        schemes=listed,
        versions={s.code: scheme_versions(s) for s in all_schemes()},
    )


@bp.get("/schemes/<code>/changes")
def scheme_changes(code):
    """A version beside the one before it, item by item, printable for the villagers' meeting."""
    version = request.args.get("version", "")
    return render_template(
        "admin/scheme_changes.html",
        **comparison(code, int(version) if version.isdigit() else None),
        printed_on=today(),
    )


# --- year-end close ------------------------------------------------------------------------


def _close_args(source):
    schemes = all_schemes()
    code = source.get("scheme") or (schemes[0].code if schemes else "")
    year = source.get("year", "")
    return schemes, code, int(year) if year.isdigit() else today().year - 1


def _close_page(source, preview=None, error=None, status=200):
    schemes, code, year = _close_args(source)
    return render_template(
        "admin/close.html",
        schemes=schemes,
        code=code,
        year=year,
        preview=preview,
        error=error,
        years=list(range(today().year, today().year - 5, -1)),
    ), status


@bp.get("/close")
def close():
    """年度结算, step one: pick scheme and year, see who gets awards and what would expire."""
    code, year = _close_args(request.args)[1:]
    if not request.args.get("scheme"):
        return _close_page(request.args)
    try:
        CloseSchema().load({"scheme": code, "year": year})
        return _close_page(request.args, reports.close_preview(principal(), code, year))
    except (PointsError, ValidationError) as failure:
        return _close_page(request.args, error=friendly(failure), status=status_of(failure))


def _close_refusal(error, preview, year):
    """Why a year was not closed: already closed, or entries still open, in the page's words."""
    if not (
        isinstance(error, PointsError) and error.code == "invalid_state" and preview is not None
    ):
        return friendly(error)
    if preview["closed"]:
        return _("%(year)s 年度已经结算过了。", year=year)
    return _(
        "还有 %(n)s 条 %(year)s 年的积分记录未审核或在公示中，请先处理完再结算。",
        n=preview["open"],
        year=year,
    )


def _closed_words(done, year):
    return _(
        "%(year)s 年度已结算：评优 %(n)s 户，清零 %(expired)s 分，结转 %(carried)s 分。",
        year=year,
        n=len(done["awards"]),
        expired=points_text(done["expired"]),
        carried=points_text(done["carried"]),
    )


@bp.post("/close")
def close_confirm():
    """年度结算, step two: close_year, after the preview."""
    code, year = _close_args(request.form)[1:]
    try:
        data = CloseSchema().load({"scheme": code, "year": year})
        done = reports.close_year(principal(), data["scheme"], data["year"])
    except (PointsError, ValidationError) as error:
        preview = reports.close_preview_if_any(principal(), code, year)
        refusal = _close_refusal(error, preview, year)
        return _close_page(request.form, preview, refusal, status_of(error))
    flash(_closed_words(done, year), "success")
    return redirect(url_for("admin_pages.close", scheme=code, year=year))
