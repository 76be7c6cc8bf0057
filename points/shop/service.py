"""Shops, goods, stock and redemptions.

Lock order, the same in every writer so two counters never wait on each other in a circle:
the holder's account first, then goods rows by id. Everything that only reads (codes, scope,
prices) is looked up before the write section, which holds only the conditional updates.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.exc import IntegrityError

from points import idempotency, metrics
from points.database import (
    Prepared,
    binds,
    end_read,
    for_update,
    local_tz,
    today,
    unit_connection,
    utcnow,
    write,
)
from points.errors import PointsError, forbidden, invalid, invalid_state, not_found, reason
from points.extensions import db
from points.ledger import service as ledger
from points.org.models import Holder, Unit
from points.org.service import (
    UNKNOWN_HOLDER,
    get_holder,
    holder_by_code,
    holders_within,
    in_scope,
    unit_by_code,
)
from points.schemes.models import Scheme
from points.schemes.service import UNKNOWN_SCHEME, rules_of, wrong_kind
from points.shop.models import Goods, Redemption, RedemptionLine, Shop, StockMovement, shop_schemes
from points.users.models import UserLink
from points.users.service import refuse_conflict, refuse_linked


# --- shops and goods -----------------------------------------------------------------------

UNKNOWN_SHOP = reason("unknown_shop", "unknown shop")


FOUND = 20  # households listed for one search at the counter
DAY_LIST = 100  # the day's redemptions listed at the counter


def _pick(options, code):
    return next((o for o in options if o.code == code), None)


def counter(principal, shop_code, q, holder_code, scheme_code):
    """爱心超市 counter: the clerk's shops and the chosen one, the households a search finds (or
    the one it names), that household's schemes, account, threshold and goods, and the day's
    redemptions at the shop."""
    shops = clerk_shops(principal)
    shop = _pick(shops, shop_code) or (shops[0] if shops else None)
    context = dict(
        shops=shops,
        shop=shop,
        q=q,
        found=None,
        holder=None,
        scheme=None,
        schemes=[],
        account=None,
        threshold=None,
        goods=[],
        today_list=[],
    )
    if shop is None:
        return context
    kinds = {s.subject for s in shop.schemes}
    code = holder_code
    if q and not code:
        found = [h for h in holders_within(principal, FOUND, q=q) if h.kind in kinds]
        exact = [h for h in found if h.code.lower() == q.lower()]
        if len(exact) == 1 or len(found) == 1:
            code = (exact or found)[0].code
        else:
            context["found"] = found
    if code:
        holder = get_holder(principal, code)
        schemes = [s for s in shop.schemes if s.subject == holder.kind]
        scheme = _pick(schemes, scheme_code) or (schemes[0] if schemes else None)
        context.update(holder=holder, schemes=schemes, scheme=scheme)
        if scheme is not None:
            context["account"] = ledger.account_view(scheme, holder, today().year)
            context["threshold"] = rules_of(scheme.current_version_id).redeem_threshold
            goods = db.session.execute(goods_query(shop)).scalars().all()
            context["goods"] = sorted((g for g in goods if g.active), key=lambda g: g.code)
    context["today_list"] = (
        db.session.execute(redemptions_query(principal, shop=shop.code, on=today()).limit(DAY_LIST))
        .scalars()
        .all()
    )
    return context


def goods_names(shop_code):
    """{goods code: name} of a shop (none for an unknown one): the counter's refusals name goods."""
    return dict(
        db.session.execute(
            select(Goods.code, Goods.name)
            .join(Shop, Goods.shop_id == Shop.id)
            .where(Shop.code == shop_code)
        ).all()
    )


def clerk_shops(principal):
    """The shops at which this clerk may redeem: those in (or below) the clerk's units."""
    return (
        db.session.execute(
            select(Shop)
            .join(Unit, Shop.unit_id == Unit.id)
            .where(in_scope(Unit.path, principal.paths("clerk")))
            .order_by(Shop.code)
        )
        .scalars()
        .all()
    )


def shop_by_code(code, field=None):
    shop = db.session.execute(select(Shop).where(Shop.code == code)).scalar_one_or_none()
    if shop is None:
        raise invalid({field: [UNKNOWN_SHOP]}) if field else not_found("shop")
    return shop


def _schemes_by_code(codes):
    found = {
        s.code: s
        for s in db.session.execute(select(Scheme).where(Scheme.code.in_(codes))).scalars()
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise invalid({"schemes": [f"unknown scheme: {', '.join(unknown)}"]})
    return [found[c] for c in dict.fromkeys(codes)]


def create_shop(principal, code, name, unit_code, scheme_codes):
    unit = unit_by_code(unit_code, "unit")
    schemes = _schemes_by_code(scheme_codes)
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以开设超市")
    end_read()
    try:
        with write():
            shop = Shop(code=code, name=name, unit_id=unit.id)
            shop.schemes = schemes
            db.session.add(shop)
    except IntegrityError:
        raise PointsError("conflict", f"超市代码 {code} 已存在", 409) from None
    return shop


def open_stocked_shop(code, name, unit, schemes, goods):
    """A shop with goods on the shelf, for `flask demo` (no caller to check): goods are
    (code, name, price, stock), each with its opening movement. Joins the caller's write."""
    end_read()
    with write():
        shop = Shop(code=code, name=name, unit_id=unit.id)
        shop.schemes = list(schemes)
        db.session.add(shop)
        db.session.flush()
        for goods_code, goods_name, price, stock in goods:
            row = Goods(
                shop_id=shop.id,
                code=goods_code,
                name=goods_name,
                price=Decimal(price),
                stock=stock,
                active=True,
            )
            db.session.add(row)
            db.session.flush()
            _move(row.id, "initial", stock, stock, None, note="上架")
    return shop


def get_shop(principal, code):
    """A shop the caller may see: any staff whose grants cover its unit (or lie below it)."""
    shop = shop_by_code(code)
    if not any(
        shop.unit.path.startswith(p) or p.startswith(shop.unit.path) for p in principal.paths()
    ):
        raise forbidden()
    return shop


def admin_shops(principal, limit):
    """The shops in (or below) the caller's admin units: the admin page's list."""
    return (
        db.session.execute(
            select(Shop)
            .join(Unit, Shop.unit_id == Unit.id)
            .where(in_scope(Unit.path, principal.paths("admin")))
            .order_by(Shop.code)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def shop_with_goods(principal, code):
    """A shop its admin manages, and its goods by code: the admin page of one shop."""
    shop = get_shop(principal, code)
    if not principal.allows("admin", shop.unit.path):
        raise forbidden()
    goods = db.session.execute(goods_query(shop)).scalars().all()
    return shop, sorted(goods, key=lambda g: g.code)


def _admin_shop(principal, code):
    shop = shop_by_code(code)
    if not principal.allows("admin", shop.unit.path):
        raise forbidden("只有该单位的管理员可以管理超市商品")
    return shop


def goods_by_code(shop, code):
    goods = db.session.execute(
        select(Goods).where(Goods.shop_id == shop.id, Goods.code == code)
    ).scalar_one_or_none()
    if goods is None:
        raise not_found("goods")
    return goods


def goods_query(shop):
    return select(Goods).where(Goods.shop_id == shop.id).order_by(Goods.id.desc())


def _move(goods_id, kind, quantity, stock_after, user_id, ref="", note="", donor=None):
    db.session.add(
        StockMovement(
            goods_id=goods_id,
            kind=kind,
            quantity=quantity,
            stock_after=stock_after,
            ref=ref,
            user_id=user_id,
            note=note or "",
            donor=donor or None,
            at=utcnow(),
        )
    )


def add_goods(principal, shop_code, code, name, price, stock):
    shop = _admin_shop(principal, shop_code)
    end_read()
    try:
        with write():
            goods = Goods(
                shop_id=shop.id,
                code=code,
                name=name,
                price=Decimal(price),
                stock=stock,
                active=True,
            )
            db.session.add(goods)
            db.session.flush()
            _move(goods.id, "initial", stock, stock, principal.user_id, note="上架")
    except IntegrityError:
        raise PointsError("conflict", f"商品代码 {code} 在该超市已存在", 409) from None
    return goods


def change_goods(principal, shop_code, code, **changes):
    """Name, price or active; a new price applies to redemptions from now on."""
    shop = _admin_shop(principal, shop_code)
    goods_id = goods_by_code(shop, code).id
    end_read()
    with write():
        goods = db.session.execute(
            for_update(select(Goods).where(Goods.id == goods_id)).execution_options(
                populate_existing=True
            )
        ).scalar_one()
        for field in ("name", "price", "active"):
            if changes.get(field) is not None:
                setattr(goods, field, changes[field])
    return goods


def restock(principal, shop_code, code, quantity, note=None, donor=None):
    """入库; with a donor, donated goods (捐赠), which the fund did not pay for."""
    shop = _admin_shop(principal, shop_code)
    goods_id = goods_by_code(shop, code).id
    end_read()
    with write():
        stock = _add_stock(goods_id, quantity)
        _move(goods_id, "restock", quantity, stock, principal.user_id, note=note, donor=donor)
    return db.session.get(Goods, goods_id)


def _add_stock(goods_id, quantity):
    return db.session.execute(
        update(Goods)
        .where(Goods.id == goods_id)
        .values(stock=Goods.stock + quantity)
        .returning(Goods.stock)
        .execution_options(synchronize_session=False)
    ).scalar_one()


# --- redemptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A redemption checked against everything that needs no lock: plain values only."""

    shop_id: int
    shop: str
    scheme_id: int
    scheme: str
    holder_id: int
    holder: str
    holder_name: str
    threshold: Decimal
    lines: tuple  # ((goods_id, goods_code, quantity), ...) in the caller's order


_ShopUnit, _HolderUnit = aliased(Unit), aliased(Unit)
# Everything a valid redemption needs checked before the write section, in one statement: the
# shop and its unit's path, the scheme (and whether the shop takes it), the holder and its
# unit's path, and the wanted goods of the shop (one row each; one row of NULLs if none match).
_PLAN = Prepared(
    select(
        Shop.id,
        _ShopUnit.path,
        Scheme.id,
        Scheme.subject,
        Scheme.current_version_id,
        Holder.id,
        Holder.name,
        Holder.kind,
        _HolderUnit.path,
        shop_schemes.c.scheme_id,
        UserLink.holder_id,  # the clerk's own household (回避), read with the rest
        Goods.id,
        Goods.code,
        Goods.active,
    )
    .select_from(Shop)
    .join(_ShopUnit, Shop.unit_id == _ShopUnit.id)
    .join(Scheme, Scheme.code == bindparam("scheme"))
    .join(Holder, Holder.code == bindparam("holder"))
    .join(_HolderUnit, Holder.unit_id == _HolderUnit.id)
    .outerjoin(
        shop_schemes, (shop_schemes.c.shop_id == Shop.id) & (shop_schemes.c.scheme_id == Scheme.id)
    )
    .outerjoin(
        UserLink, (UserLink.user_id == bindparam("user_id")) & (UserLink.holder_id == Holder.id)
    )
    .outerjoin(
        Goods, (Goods.shop_id == Shop.id) & Goods.code.in_(bindparam("goods", expanding=True))
    )
    .where(Shop.code == bindparam("shop"))
)


def redeem_once(principal, key, where, asked, body_of):
    """One redemption per Idempotency-Key, the counter page's and POST /redemptions' alike.

    A retry gets the key's first answer, even if the request would no longer pass; a new key
    is planned (a 422 or 403 stands and is not kept) and redeemed. `asked` is the request
    (shop, scheme, holder, lines), `where` the path it was sent to, `body_of(view)` the
    answer's body. Returns the idempotency.Answer.
    """
    try:
        plan = plan_redemption(
            principal, asked["shop"], asked["scheme"], asked["holder"], asked["lines"]
        )
    except PointsError as error:

        def work(error=error):
            raise error
    else:

        def work():
            return body_of(redeem(principal, plan))

    return idempotency.once(principal.user_id, key, where, asked, work, direct=True)


def plan_redemption(principal, shop_code, scheme_code, holder_code, lines):
    """422 for anything wrong in the request, then 403 for a clerk outside the shop or holder."""
    codes = [line["goods"] for line in lines]
    if codes and len(set(codes)) == len(codes):
        rows = _PLAN.all(
            unit_connection(),
            {
                "shop": shop_code,
                "scheme": scheme_code,
                "holder": holder_code,
                "goods": codes,
                "user_id": principal.user_id,
            },
        )
        if rows:
            (
                shop_id,
                shop_path,
                scheme_id,
                subject,
                version_id,
                holder_id,
                holder_name,
                kind,
                holder_path,
                taken,
                linked,
            ) = rows[0][:11]
            goods = {
                code: (goods_id, active)
                for *_, goods_id, code, active in rows
                if goods_id is not None
            }
            if (
                taken is not None
                and kind == subject
                and len(goods) == len(codes)
                and all(active for _, active in goods.values())
            ):
                if not principal.allows("clerk", shop_path) or not principal.allows(
                    "clerk", holder_path
                ):
                    raise forbidden("你不是该超市或该户所在单位的店员")
                refuse_linked({holder_code: holder_id}, {linked} - {None})
                return Plan(
                    shop_id,
                    shop_code,
                    scheme_id,
                    scheme_code,
                    holder_id,
                    holder_code,
                    holder_name,
                    Decimal(rules_of(version_id).redeem_threshold),
                    tuple((goods[c][0], c, line["quantity"]) for c, line in zip(codes, lines)),
                )
    # Something is wrong (or the request is empty): say exactly what, field by field.
    return _plan_checked(principal, shop_code, scheme_code, holder_code, lines)


def _plan_checked(principal, shop_code, scheme_code, holder_code, lines):
    details = {}
    shop = db.session.execute(select(Shop).where(Shop.code == shop_code)).scalar_one_or_none()
    scheme = db.session.execute(
        select(Scheme).where(Scheme.code == scheme_code)
    ).scalar_one_or_none()
    holder = db.session.execute(
        select(Holder).where(Holder.code == holder_code)
    ).scalar_one_or_none()
    if shop is None:
        details["shop"] = [UNKNOWN_SHOP]
    if scheme is None:
        details["scheme"] = [UNKNOWN_SCHEME]
    elif shop is not None and scheme.id not in {s.id for s in shop.schemes}:
        details["scheme"] = ["this shop does not take this scheme"]
    if holder is None:
        details["holder"] = [UNKNOWN_HOLDER]
    elif scheme is not None and holder.kind != scheme.subject:
        details["holder"] = [wrong_kind(scheme, holder)]
    planned = _plan_lines(shop, lines, details)
    if details:
        raise invalid(details)
    if not principal.allows("clerk", shop.unit.path) or not principal.allows(
        "clerk", holder.unit.path
    ):
        raise forbidden("你不是该超市或该户所在单位的店员")
    refuse_conflict(principal, {holder.code: holder.id})
    return Plan(
        shop.id,
        shop.code,
        scheme.id,
        scheme.code,
        holder.id,
        holder.code,
        holder.name,
        Decimal(rules_of(scheme.current_version_id).redeem_threshold),
        planned,
    )


def _plan_lines(shop, lines, details):
    if not lines:
        details["lines"] = ["at least one line"]
        return ()
    if shop is None:
        return ()
    codes = [line["goods"] for line in lines]
    found = {
        g.code: g
        for g in db.session.execute(
            select(Goods).where(Goods.shop_id == shop.id, Goods.code.in_(codes))
        ).scalars()
    }
    problems, planned = {}, []
    for index, line in enumerate(lines):
        goods = found.get(line["goods"])
        if goods is None:
            problems[str(index)] = {"goods": ["unknown goods in this shop"]}
        elif not goods.active:
            problems[str(index)] = {"goods": ["goods no longer offered"]}
        elif codes.index(line["goods"]) != index:
            problems[str(index)] = {
                "goods": ["goods listed twice: give one line with the whole quantity"]
            }
        else:
            planned.append((goods.id, goods.code, line["quantity"]))
    if problems:
        details["lines"] = problems
    return tuple(planned)


def redeem(principal, plan):
    """The write section: lock the account, then take the goods' stock by id, each by one
    conditional UPDATE that hands back the price, name and what is left; debit the account.

    Returns the redemption as the API shows it, built from what the section already holds, so
    the write lock is not kept while it is read back.
    """
    wanted = {goods_id: quantity for goods_id, _, quantity in plan.lines}
    ids = sorted(wanted)
    end_read()
    with write(direct=True) as connection:  # no Session: the request's own connection
        account = ledger.lock_account(plan.scheme_id, plan.holder_id)
        if account.balance < plan.threshold:
            raise PointsError(
                "below_threshold",
                f"积分达到 {plan.threshold} 分才能兑换，当前 {account.balance} 分",
                409,
                {"balance": account.balance, "threshold": plan.threshold},
            )
        # In id order, as every redemption takes them (PostgreSQL locks each row here).
        taken = {
            goods_id: _TAKE_STOCK.first(
                connection, {"goods_id": goods_id, "quantity": wanted[goods_id]}
            )
            for goods_id in ids
        }
        if None in taken.values():
            _refuse(connection, plan, account, wanted)
        lines = [
            {
                "goods": taken[gid].code,
                "name": taken[gid].name,
                "quantity": q,
                "price": taken[gid].price,
                "points": taken[gid].price * q,
                "goods_id": gid,
            }
            for gid, _, q in plan.lines
        ]
        total = sum((line["points"] for line in lines), Decimal(0))
        now, expected = utcnow(), account.balance - total
        # The account is locked, so the balance after is known before the conditional debit.
        redemption_id = _INSERT_REDEMPTION.scalar(
            connection,
            {
                "shop_id": plan.shop_id,
                "scheme_id": plan.scheme_id,
                "holder_id": plan.holder_id,
                "total": total,
                "balance_after": expected,
                "status": "completed",
                "user_id": principal.user_id,
                "at": now,
            },
        )
        ref = f"redemption:{redemption_id}"
        posting = ledger.post(account, "redemption", -total, ref, principal.user_id, floor=0)
        if posting.balance_after != expected:
            raise RuntimeError(f"account {account.id} moved under its lock")
        _INSERT_MOVEMENT.run_many(
            connection,
            [
                {
                    "goods_id": goods_id,
                    "kind": "sale",
                    "quantity": -wanted[goods_id],
                    "stock_after": taken[goods_id].stock,
                    "ref": ref,
                    "user_id": principal.user_id,
                    "at": now,
                    "note": "",
                }
                for goods_id in ids
            ],
        )
        _INSERT_LINE.run_many(
            connection,
            [
                {
                    "redemption_id": redemption_id,
                    "goods_id": line["goods_id"],
                    "quantity": line["quantity"],
                    "price": line["price"],
                    "points": line["points"],
                }
                for line in lines
            ],
        )
        metrics.counted(metrics.redemptions)
    for line in lines:
        del line["goods_id"]
    return {
        "id": redemption_id,
        "shop": plan.shop,
        "scheme": plan.scheme,
        "holder": plan.holder,
        "holder_name": plan.holder_name,
        "lines": lines,
        "total": total,
        "balance_after": posting.balance_after,
        "status": "completed",
        "at": now,
        "clerk": principal.username,
    }


def _refuse(connection, plan, account, wanted):
    """Some stock could not be taken: say why, in the order the checks have always had (goods
    taken off the shelf since the plan, then the balance, then the stock). The whole write
    section rolls back with the error, the stock already taken with it."""
    goods = {row.id: row for row in _LOCK_GOODS.all(connection, {"ids": list(wanted)})}
    inactive = [str(i) for i, (gid, _, _) in enumerate(plan.lines) if not goods[gid].active]
    if inactive:  # deactivated between the check and the lock
        raise invalid({"lines": {i: {"goods": ["goods no longer offered"]} for i in inactive}})
    total = sum((goods[gid].price * q for gid, _, q in plan.lines), Decimal(0))
    if account.balance < total:
        raise ledger.insufficient_balance(account.balance, total)
    short = next(goods[gid] for gid in sorted(wanted) if goods[gid].stock < wanted[gid])
    raise PointsError(
        "out_of_stock",
        f"{short.name} 库存不足（剩 {short.stock}）",
        409,
        {"goods": short.code, "stock": short.stock},
    )


# FOR UPDATE on PostgreSQL; SQLite compiles it away (its write lock is already held).
_LOCK_GOODS = Prepared(
    select(Goods.id, Goods.code, Goods.name, Goods.price, Goods.stock, Goods.active)
    .where(Goods.id.in_(bindparam("ids", expanding=True)))
    .order_by(Goods.id)
    .with_for_update()
)
_INSERT_REDEMPTION = Prepared(
    insert(Redemption)
    .values(
        binds(
            "shop_id", "scheme_id", "holder_id", "total", "balance_after", "status", "user_id", "at"
        )
    )
    .returning(Redemption.id)
)
# Every column named: Prepared fills in no defaults.
_INSERT_MOVEMENT = Prepared(
    insert(StockMovement).values(
        binds("goods_id", "kind", "quantity", "stock_after", "ref", "user_id", "at", "note")
    )
)
_INSERT_LINE = Prepared(
    insert(RedemptionLine).values(binds("redemption_id", "goods_id", "quantity", "price", "points"))
)
_TAKE_STOCK = Prepared(
    update(Goods)
    .where(
        Goods.id == bindparam("goods_id"),
        Goods.active.is_(True),
        Goods.stock >= bindparam("quantity"),
    )
    .values(stock=Goods.stock - bindparam("quantity"))
    .returning(Goods.stock, Goods.code, Goods.name, Goods.price)
)


def _clerk_redemption(principal, redemption_id):
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        raise not_found("redemption")
    if not principal.covers(redemption.shop.unit.path):
        raise forbidden()
    return redemption


def get_redemption(principal, redemption_id):
    return _clerk_redemption(principal, redemption_id)


def void(principal, redemption_id, reason):
    """作废: points and stock go back, by a `void` posting and `void` movements; once only."""
    redemption = _clerk_redemption(principal, redemption_id)
    if not principal.allows("clerk", redemption.shop.unit.path):
        raise forbidden("只有该超市的店员可以作废兑换")
    scheme_id, holder_id = redemption.scheme_id, redemption.holder_id
    refuse_conflict(principal, {redemption.holder.code: holder_id})
    end_read()
    with write():
        account = ledger.account_for(scheme_id, holder_id, lock=True)
        redemption = db.session.execute(
            for_update(
                select(Redemption).where(Redemption.id == redemption_id), of=Redemption
            ).execution_options(populate_existing=True)
        ).scalar_one()
        if redemption.status != "completed":
            raise invalid_state(f"兑换单当前状态为 {redemption.status}，不能作废")
        ref = f"redemption:{redemption.id}"
        ledger.post(account, "void", redemption.total, ref, principal.user_id)
        back = {}
        for line in redemption.lines:
            back[line.goods_id] = back.get(line.goods_id, 0) + line.quantity
        for goods_id in sorted(back):  # the same order as a redemption takes them
            stock = _add_stock(goods_id, back[goods_id])
            _move(goods_id, "void", back[goods_id], stock, principal.user_id, ref=ref, note=reason)
        redemption.status = "voided"
        redemption.void_reason, redemption.voided_by_id, redemption.voided_at = (
            reason,
            principal.user_id,
            utcnow(),
        )
    return redemption.id


def redemptions_query(principal, shop=None, holder=None, on=None):
    query = (
        select(Redemption)
        .join(Shop, Redemption.shop_id == Shop.id)
        .join(Unit, Shop.unit_id == Unit.id)
        .where(in_scope(Unit.path, principal.paths()))
        .order_by(Redemption.id.desc())
    )
    if shop:
        query = query.where(Redemption.shop_id == shop_by_code(shop, "shop").id)
    if holder:
        query = query.where(Redemption.holder_id == holder_by_code(holder, "holder").id)
    if on:
        start = datetime.combine(on, time.min, tzinfo=local_tz()).astimezone(timezone.utc)
        query = query.where(Redemption.at >= start, Redemption.at < start + timedelta(days=1))
    return query


# --- verify --------------------------------------------------------------------------------


def verify_stock():
    """Recompute every goods' stock from its movements: [(goods, what, recorded, recomputed)]."""
    sums = dict(
        db.session.execute(
            select(StockMovement.goods_id, func.sum(StockMovement.quantity)).group_by(
                StockMovement.goods_id
            )
        ).all()
    )
    last = dict(
        db.session.execute(
            select(StockMovement.goods_id, StockMovement.stock_after).where(
                StockMovement.id.in_(
                    select(func.max(StockMovement.id)).group_by(StockMovement.goods_id)
                )
            )
        ).all()
    )
    problems = []
    for goods in db.session.execute(select(Goods).order_by(Goods.id)).scalars():
        recomputed = int(sums.get(goods.id) or 0)
        if recomputed != goods.stock:
            problems.append((goods, "stock", goods.stock, recomputed))
        if goods.id in last and last[goods.id] != goods.stock:
            problems.append((goods, "last stock_after", goods.stock, last[goods.id]))
    return problems


def goods_count():
    return db.session.execute(select(func.count(Goods.id))).scalar_one()
