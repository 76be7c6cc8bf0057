"""参与度 (participation) and 积分兑付能力 (liability): whether households take part, and
whether the points they hold are worth anything. Every query of these reports is here, so a
report-reading engine (a standby) can be put under all of them at once.

Both reports give one row per village or community at or under the asked unit: a holder, a
shop or a fund belongs to the nearest village or community above it (or the asked unit itself
when there is none in between, e.g. a township's own shop, or a grid asked for on its own).
"""

from datetime import date
from decimal import ROUND_DOWN, Decimal

from flask import current_app
from sqlalchemy import BigInteger, case, distinct, exists, func, select, type_coerce

from points.database import TENTH, reading
from points.entries.models import Entry, EntryEvent
from points.funds import service as funds
from points.funds.models import FEN, Fund, FundMovement
from points.ledger.models import Account, HolderYear
from points.org.models import VILLAGE_KINDS, Holder, Unit
from points.org.service import unit_by_code, units_within
from points.reports.service import _require_admin
from points.schemes.service import scheme_by_code
from points.shop.models import Goods, Shop, StockMovement, shop_schemes
from points.extensions import db

# Who takes part: households and party members. Organisations (a 村党组织 graded as a whole)
# and staff (grid workers assessed in rounds) are assessed, not participants.
PARTICIPANT_KINDS = ("household", "member")
SHARE = Decimal("0.001")


def _rows_by_village(unit):
    """({unit id: row unit id} for every unit at or under `unit`, {row unit id: (code, name,
    kind, path)}), parents before children so each unit inherits its parent's row."""
    units = db.session.execute(
        select(Unit.id, Unit.parent_id, Unit.code, Unit.name, Unit.kind, Unit.path)
        .where(Unit.path.startswith(unit.path))
        .order_by(func.length(Unit.path), Unit.id)
    ).all()
    row_of, rows = {}, {unit.id: (unit.code, unit.name, unit.kind, unit.path)}
    for unit_id, parent_id, code, name, kind, path in units:
        inherited = row_of.get(parent_id)
        if unit_id == unit.id:
            row_of[unit_id] = unit.id
        elif inherited is not None and inherited != unit.id:
            row_of[unit_id] = inherited  # inside a village already
        elif kind in VILLAGE_KINDS:
            row_of[unit_id], rows[unit_id] = unit_id, (code, name, kind, path)
        else:
            row_of[unit_id] = unit.id
    return row_of, rows


def _fold(row_of, pairs):
    """Sum per-unit figures ((unit id, figure, ...)) into their rows."""
    totals = {}
    for unit_id, *figures in pairs:
        row = row_of.get(unit_id)
        if row is None:
            continue
        have = totals.setdefault(row, [0] * len(figures))
        for i, figure in enumerate(figures):
            have[i] += int(figure or 0)
    return totals


def _in(unit):
    return Unit.path.startswith(unit.path)


def _ordered(unit, rows, keep_own):
    """Villages in tree order; the asked unit's own row only when it is a village, holds
    something itself, or has no village under it."""
    villages = [r for r in rows if r != unit.id]
    own = [unit.id] if unit.kind in VILLAGE_KINDS or keep_own or not villages else []
    return sorted(own + villages, key=lambda r: rows[r][3])


# --- 参与度 -----------------------------------------------------------------------------------


@reading()
def participation(principal, unit_code, year):
    """Per village or community: holders (households and members), active holders (at least
    one entry of a deed that year now posted), their share, posted deductions (count and
    points) and objections raised against entries of that year. Outcomes, never clicks.
    Read from the holders' year figures (holder_years), not from the year's entries."""
    unit = unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    row_of, rows = _rows_by_village(unit)
    in_year = (Entry.occurred_on >= date(year, 1, 1)) & (Entry.occurred_on < date(year + 1, 1, 1))
    people = Holder.kind.in_(PARTICIPANT_KINDS)
    holders = _fold(
        row_of,
        db.session.execute(
            select(Holder.unit_id, func.count(Holder.id))
            .join(Unit, Unit.id == Holder.unit_id)
            .where(_in(unit), people)
            .group_by(Holder.unit_id)
        ),
    )
    posted = _fold(
        row_of,
        db.session.execute(  # the running figures ledger.count_for_year keeps
            select(
                Holder.unit_id,
                func.count(distinct(HolderYear.holder_id)),
                func.sum(HolderYear.deductions),
                func.sum(type_coerce(HolderYear.deducted, BigInteger)),
            )
            .select_from(HolderYear)
            .join(Holder, Holder.id == HolderYear.holder_id)
            .join(Unit, Unit.id == Holder.unit_id)
            .where(_in(unit), people, HolderYear.year == year, HolderYear.entries > 0)
            .group_by(Holder.unit_id)
        ),
    )
    objections = _fold(
        row_of,
        db.session.execute(
            select(Holder.unit_id, func.count(EntryEvent.id))
            .select_from(EntryEvent)
            .join(Entry, Entry.id == EntryEvent.entry_id)
            .join(Holder, Holder.id == Entry.holder_id)
            .join(Unit, Unit.id == Holder.unit_id)
            .where(_in(unit), people, in_year, EntryEvent.action == "object")
            .group_by(Holder.unit_id)
        ),
    )

    def figures(row):
        count = holders.get(row, [0])[0]
        active, deductions, deducted = posted.get(row, [0, 0, 0])
        return {
            "holders": count,
            "active": active,
            "share": _share(active, count),
            "deductions": deductions,
            "deducted": _points(deducted),
            "objections": objections.get(row, [0])[0],
        }

    own = unit.id in holders or unit.id in posted or unit.id in objections
    items = [
        {"unit": rows[r][0], "name": rows[r][1], **figures(r)} for r in _ordered(unit, rows, own)
    ]
    summary = {
        key: sum(i[key] for i in items) for key in ("holders", "active", "deductions", "objections")
    }
    summary.update(
        unit=unit.code,
        name=unit.name,
        share=_share(summary["active"], summary["holders"]),
        deducted=sum((i["deducted"] for i in items), _points(0)),
    )
    return {"unit": unit, "year": year, "items": items, "summary": summary}


def _share(part, whole):
    return (Decimal(part) / Decimal(whole)).quantize(SHARE) if whole else Decimal(0).quantize(SHARE)


def _points(tenths):
    return (Decimal(int(tenths or 0)) / 10).quantize(TENTH)


def _yuan(fen):
    return (Decimal(int(fen or 0)) / 100).quantize(FEN)


# --- 积分兑付能力 -------------------------------------------------------------------------------


def yuan_per_point():
    return Decimal(str(current_app.config["YUAN_PER_POINT"]))


@reading()
def liability(principal, unit_code, scheme_code=None):
    """Outstanding points (the positive balances of the unit's holders) against what can cover
    them: the points the unit's shops' active goods would absorb (Σ stock × price) and the
    fund's balance in points (yuan ÷ YUAN_PER_POINT, rounded down to a tenth); in total and per
    village. Without a scheme, the points of every scheme that some shop takes (a scheme no
    shop takes, such as an organisation's grading, is not exchanged for goods)."""
    unit = unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    scheme = scheme_by_code(scheme_code, "scheme") if scheme_code else None
    row_of, rows = _rows_by_village(unit)
    balance = type_coerce(Account.balance, BigInteger)
    accounts = (
        select(Holder.unit_id, func.sum(case((balance > 0, balance), else_=0)))
        .select_from(Account)
        .join(Holder, Holder.id == Account.holder_id)
        .join(Unit, Unit.id == Holder.unit_id)
        .where(_in(unit))
        .group_by(Holder.unit_id)
    )
    goods = (
        select(Shop.unit_id, func.sum(Goods.stock * type_coerce(Goods.price, BigInteger)))
        .select_from(Goods)
        .join(Shop, Shop.id == Goods.shop_id)
        .join(Unit, Unit.id == Shop.unit_id)
        .where(_in(unit), Goods.active)
        .group_by(Shop.unit_id)
    )
    if scheme is not None:
        accounts = accounts.where(Account.scheme_id == scheme.id)
        goods = goods.where(
            exists().where(shop_schemes.c.shop_id == Shop.id, shop_schemes.c.scheme_id == scheme.id)
        )
    else:
        accounts = accounts.where(Account.scheme_id.in_(select(shop_schemes.c.scheme_id)))
    fen = type_coerce(FundMovement.amount, BigInteger)
    funds = (
        select(
            Fund.unit_id,
            func.sum(case((FundMovement.kind == "in", fen), else_=0)),
            func.sum(case((FundMovement.kind == "out", fen), else_=0)),
        )
        .select_from(FundMovement)
        .join(Fund, Fund.id == FundMovement.fund_id)
        .join(Unit, Unit.id == Fund.unit_id)
        .where(_in(unit))
        .group_by(Fund.unit_id)
    )
    outstanding = _fold(row_of, db.session.execute(accounts))
    stock = _fold(row_of, db.session.execute(goods))
    money = _fold(row_of, db.session.execute(funds))
    rate = yuan_per_point()

    def figures(row):
        received, spent = money.get(row, [0, 0])
        return _cover(
            _points(outstanding.get(row, [0])[0]),
            _points(stock.get(row, [0])[0]),
            _yuan(received),
            _yuan(spent),
            rate,
        )

    own = unit.id in outstanding or unit.id in stock or unit.id in money
    units = [
        {"unit": rows[r][0], "name": rows[r][1], **figures(r)} for r in _ordered(unit, rows, own)
    ]
    total = _cover(
        sum((u["outstanding"] for u in units), _points(0)),
        sum((u["stock_value"] for u in units), _points(0)),
        sum((u["fund"]["in"] for u in units), _yuan(0)),
        sum((u["fund"]["out"] for u in units), _yuan(0)),
        rate,
    )
    return {
        "unit": unit.code,
        "name": unit.name,
        "scheme": scheme.code if scheme else None,
        "yuan_per_point": rate,
        **total,
        "units": units,
    }


def _cover(outstanding, stock_value, received, spent, rate):
    fund_points = ((received - spent) / rate).quantize(TENTH, rounding=ROUND_DOWN)
    cover = stock_value + fund_points
    return {
        "outstanding": outstanding,
        "stock_value": stock_value,
        "fund": {"in": received, "out": spent, "balance": received - spent},
        "fund_points": fund_points,
        "cover": cover,
        "shortfall": max(outstanding - cover, _points(0)),
        "covered": outstanding <= cover,
    }


@reading()
def liability_warnings(principal, limit=10):
    """For the admin's home page: the villages under the admin's units whose outstanding points
    exceed what their shops and fund can cover, the largest shortfall first."""
    paths = sorted(set(principal.paths("admin")), key=len)
    tops = [p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i])]
    short = []
    for code in db.session.execute(select(Unit.code).where(Unit.path.in_(tops))).scalars():
        report = liability(principal, code)
        short += [u for u in report["units"] if not u["covered"]]
    short.sort(key=lambda u: (-u["shortfall"], u["unit"]))
    return {"count": len(short), "units": short[:limit]}


@reading()
def donations(principal, unit_code, limit=50):
    """捐赠物品: the latest restocks with a donor at the shops of the unit and under it, with
    the points they add to the shelf (quantity × today's price)."""
    unit = unit_by_code(unit_code)
    _require_admin(principal, unit)
    rows = db.session.execute(
        select(
            StockMovement.at,
            Shop.name,
            Goods.name,
            StockMovement.quantity,
            Goods.price,
            StockMovement.donor,
            StockMovement.note,
        )
        .select_from(StockMovement)
        .join(Goods, Goods.id == StockMovement.goods_id)
        .join(Shop, Shop.id == Goods.shop_id)
        .join(Unit, Unit.id == Shop.unit_id)
        .where(_in(unit), StockMovement.donor.is_not(None))
        .order_by(StockMovement.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "at": at,
            "shop": shop,
            "goods": goods,
            "quantity": quantity,
            "points": price * quantity,
            "donor": donor,
            "note": note,
        }
        for at, shop, goods, quantity, price, donor, note in rows
    ]


def fund_page(principal, unit_code, limit):
    """The /admin/funds page: the caller's admin units, and of the one chosen (the first when
    none is) its fund's latest movements and the donations to its shops."""
    units = units_within(principal, "admin")
    unit_code = unit_code or (units[0].code if units else "")
    return {
        "units": units,
        "unit_code": unit_code,
        "fund": funds.movements(principal, unit_code, 1, limit) if unit_code else None,
        "donations": donations(principal, unit_code, limit) if unit_code else [],
    }
