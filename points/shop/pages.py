"""Pages: /counter (爱心超市 counter: find a household, pick goods, redeem, 兑换小票, 作废).

The counter calls the same service functions, with the same idempotency, as
POST /api/v1/redemptions: a key made for each page render means a double tap never charges
twice, and a refusal (余额不足, 库存不足, 未达到兑换门槛) is a message on the same page.
"""

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from points.errors import PointsError, reason
from points.shop import service
from points.shop.api import redemption_body, redemption_view
from points.shop.schemas import VoidSchema
from points.web import (
    form,
    form_row_id,
    friendly,
    page_errors,
    points_text,
    principal,
    role_required,
    status_of,
)

bp = page_errors(Blueprint("shop_pages", __name__))


def _counter_context(me, args, form=None, error=None):
    """What the counter shows, with this render's idempotency key, the form and any refusal."""
    found = service.counter(
        me,
        args.get("shop", ""),
        args.get("q", "").strip(),
        args.get("holder", "").strip(),
        args.get("scheme", ""),
    )
    return dict(
        found,
        today_list=[redemption_view(r) for r in found["today_list"]],
        form=form or {},
        error=error,
        key=uuid.uuid4().hex,
    )


def _counter_page(me, args, form=None, error=None, status=200):
    return render_template("shop/counter.html", **_counter_context(me, args, form, error)), status


@bp.get("/counter")
@role_required("clerk")
def counter():
    """爱心超市: find a household by code or name, its balance, the goods, the day's list."""
    me = principal()
    try:
        return _counter_page(me, request.args)
    except PointsError as error:  # an unknown or out-of-scope household: say so, keep the counter
        args = {"shop": request.args.get("shop", ""), "q": request.args.get("holder", "")}
        return _counter_page(me, args, error=friendly(error), status=error.status)


def _lines(form):
    """The quantities the clerk tapped, in the page's order: [{"goods", "quantity"}]."""
    lines = []
    for name, value in form.items(multi=True):
        if not name.startswith("qty_") or not value.strip():
            continue
        try:
            quantity = int(value)
        except ValueError:
            raise ValidationError(
                {"quantity": [reason("not_a_number", "Not a valid number.")]}
            ) from None
        if quantity < 0:
            raise ValidationError({"quantity": [reason("not_positive", "must be more than 0")]})
        if quantity:
            lines.append({"goods": name[4:], "quantity": quantity})
    if not lines:
        raise PointsError("no_lines", "no goods picked", 422)
    return lines


def _redeem(me, data, key):
    """As POST /api/v1/redemptions: the key's first answer, whatever happens after."""
    answer = service.redeem_once(me, f"counter:{key}", request.path, data, redemption_body)
    return answer.data()["id"]


def counter_message(error, goods_names=None):
    """The counter's refusals in the clerk's words, with the figures (glossary.md)."""
    details = (error.details or {}) if isinstance(error, PointsError) else {}
    code = getattr(error, "code", None)
    if code == "insufficient_balance":
        return _(
            "余额不足：当前 %(balance)s 分，本次需 %(total)s 分。",
            balance=points_text(details.get("balance")),
            total=points_text(details.get("total")),
        )
    if code == "below_threshold":
        return _(
            "未达到兑换门槛：积分达到 %(threshold)s 分方可兑换，当前 %(balance)s 分。",
            threshold=points_text(details.get("threshold")),
            balance=points_text(details.get("balance")),
        )
    if code == "out_of_stock":
        name = (goods_names or {}).get(details.get("goods"), details.get("goods", ""))
        return _(
            "库存不足：%(goods)s 只剩 %(stock)s 件，请减少数量。",
            goods=name,
            stock=details.get("stock", 0),
        )
    if code == "no_lines":
        return _("请先点选要兑换的商品。")
    if code == "validation_error" and "lines" in details:
        return _("有商品已下架或不在本超市，请刷新页面后重新选择。")
    return friendly(error)


@bp.post("/counter")
@role_required("clerk")
def redeem():
    """确认兑换: one redemption per page render, then its 兑换小票."""
    me = principal()
    try:
        data, key = _read_redemption(request.form)
        redemption_id = _redeem(me, data, key)
    except (PointsError, ValidationError) as error:
        return _redeem_refused(me, request.form, error)
    return redirect(url_for("shop_pages.receipt", redemption_id=redemption_id))


def _read_redemption(sent):
    """The counter's form as POST /api/v1/redemptions' body (shop, scheme, holder, lines), and
    the render's idempotency key (none, or one no render made, is a form sent twice)."""
    key = sent.get("key", "").strip()
    if not key or len(key) > 200:
        raise PointsError("idempotency_key_reused", "no key", 422)
    data = {field: sent.get(field, "") for field in ("shop", "scheme", "holder")}
    return dict(data, lines=_lines(sent)), key


def _redeem_refused(me, sent, error):
    """The counter again for the same household, the form as sent, and why in the clerk's
    words."""
    args = {field: sent.get(field, "") for field in ("shop", "holder", "scheme")}
    message = counter_message(error, service.goods_names(args["shop"]))
    return _counter_page(me, args, form=sent.to_dict(), error=message, status=status_of(error))


@bp.get("/counter/receipts/<int:redemption_id>")
@role_required("clerk")
def receipt(redemption_id):
    """兑换小票: prints on a 58 mm thermal printer, or on A4 with ?paper=a4."""
    redemption = redemption_view(service.get_redemption(principal(), redemption_id))
    shop = service.shop_by_code(redemption["shop"])
    paper = "a4" if request.args.get("paper") == "a4" else "58"
    return render_template("shop/receipt.html", r=redemption, shop=shop, paper=paper)


@bp.post("/counter/void")
@role_required("clerk")
def void():
    """作废 from the day's list, with a reason: points and stock go back."""
    form_id = request.form.get("redemption", "")
    try:
        redemption_id = form_row_id("redemption", "redemption")
        service.void(principal(), redemption_id, form(VoidSchema, ["reason"])["reason"])
    except (PointsError, ValidationError) as error:
        return _void_refused(principal(), request.form, error)
    flash(_("已作废兑换单 %(id)s，积分和库存已退回。", id=form_id), "success")
    return redirect(url_for("shop_pages.counter", shop=request.form.get("shop") or None))


def void_message(error, reason_given):
    """作废's refusals in the clerk's words: a reason left blank, a redemption voided already."""
    if isinstance(error, ValidationError) and not reason_given:
        return _("请填写作废原因。")
    if isinstance(error, PointsError) and error.code == "invalid_state":
        return _("这张兑换单已经作废过了。")
    return friendly(error)


def _void_refused(me, sent, error):
    """The shop's counter again, with the redemption's row marked and why."""
    message = void_message(error, bool(sent.get("reason", "").strip()))
    shown = {"void": sent.get("redemption", "")}
    return _counter_page(
        me, {"shop": sent.get("shop", "")}, form=shown, error=message, status=status_of(error)
    )
