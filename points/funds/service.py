"""公益金: money in (the co-operative's second distribution, donors) and out (purchases) of a
unit's fund, as append-only movements; the fund row keeps the running balance.

A movement locks its fund row (made first if the unit has none yet, so that two first
movements cannot both pass the check), then writes the movement and the new balance in one
write unit. Money out beyond the balance is refused: the fund cannot spend what it has not had.
"""

from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from points.database import end_read, aware, for_update, insert_ignore, offset_of, utcnow, write
from points.errors import PointsError, forbidden
from points.extensions import db
from points.funds.models import Fund, FundMovement
from points.org.service import unit_by_code
from points.users.models import User


def _admin_unit(principal, unit_code):
    unit = unit_by_code(unit_code)
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以管理公益金")
    return unit


def record_movement(principal, unit_code, kind, amount, source, note=None):
    """One movement of the unit's fund: `kind` "in" or "out", `amount` in yuan (> 0, two
    decimals at most, checked by the schema). Out beyond the balance → 409 insufficient_fund."""
    unit = _admin_unit(principal, unit_code)
    amount = Decimal(amount)
    end_read()
    with write():
        insert_ignore(Fund, unit_id=unit.id, balance=0)
        fund = db.session.execute(
            for_update(select(Fund).where(Fund.unit_id == unit.id)).execution_options(
                populate_existing=True
            )
        ).scalar_one()
        if kind == "out" and amount > fund.balance:
            raise PointsError(
                "insufficient_fund",
                f"公益金余额不足：当前 ¥{fund.balance:,.2f}，本次支出 ¥{amount:,.2f}",
                409,
                {"balance": fund.balance, "amount": amount},
            )
        fund.balance = fund.balance + amount if kind == "in" else fund.balance - amount
        movement = FundMovement(
            fund_id=fund.id,
            kind=kind,
            amount=amount,
            balance_after=fund.balance,
            source=source,
            note=note or "",
            user_id=principal.user_id,
            at=utcnow(),
        )
        db.session.add(movement)
        db.session.flush()
    return movement_view(movement, unit, principal.username)


def movement_view(movement, unit, username=None):
    return {
        "id": movement.id,
        "unit": unit.code,
        "kind": movement.kind,
        "amount": movement.amount,
        "balance_after": movement.balance_after,
        "source": movement.source,
        "note": movement.note,
        "at": aware(movement.at),
        "by": username,
    }


def movements(principal, unit_code, page, per_page):
    """The unit's own fund movements, newest first: {"unit", "balance", "items", "total"}."""
    unit = _admin_unit(principal, unit_code)
    fund = db.session.execute(select(Fund).where(Fund.unit_id == unit.id)).scalar_one_or_none()
    if fund is None:
        return {"unit": unit, "balance": Decimal("0.00"), "items": [], "total": 0}
    total = db.session.execute(
        select(func.count(FundMovement.id)).where(FundMovement.fund_id == fund.id)
    ).scalar_one()
    rows = []
    if (offset := offset_of(page, per_page, total)) is not None:
        rows = db.session.execute(
            select(FundMovement, User.username)
            .outerjoin(User, User.id == FundMovement.user_id)
            .where(FundMovement.fund_id == fund.id)
            .order_by(FundMovement.id.desc())
            .limit(per_page)
            .offset(offset)
        ).all()
    return {
        "unit": unit,
        "balance": fund.balance,
        "total": total,
        "items": [movement_view(m, unit, username) for m, username in rows],
    }


def fund_count():
    return db.session.execute(select(func.count(Fund.id))).scalar_one()


def verify_funds():
    """`ledger verify`: every fund's balance must equal its money in less its money out, and
    its last movement's balance_after; lines naming each fund that disagrees."""
    fen = type_coerce(FundMovement.amount, BigInteger)
    sums = (
        select(
            FundMovement.fund_id,
            func.sum(case((FundMovement.kind == "in", fen), else_=-fen)).label("net"),
            func.max(FundMovement.id).label("last_id"),
        )
        .group_by(FundMovement.fund_id)
        .subquery()
    )
    last = aliased(FundMovement)
    balance = type_coerce(Fund.balance, BigInteger)
    last_after = type_coerce(last.balance_after, BigInteger)
    rows = db.session.execute(
        select(Fund.id, Fund.unit_id, balance, sums.c.net, last_after)
        .outerjoin(sums, sums.c.fund_id == Fund.id)
        .outerjoin(last, last.id == sums.c.last_id)
        .where(
            or_(
                balance != func.coalesce(sums.c.net, 0),
                and_(last.id.is_not(None), last_after != balance),
            )
        )
        .order_by(Fund.id)
    )
    lines = []
    for fund_id, unit_id, have, net, after in rows:
        have, net = _yuan(have), _yuan(net)
        if have != net:
            lines.append(f"fund {fund_id} (unit {unit_id}): balance is {have}, movements say {net}")
        if after is not None and _yuan(after) != have:
            lines.append(
                f"fund {fund_id} (unit {unit_id}): balance is {have}, "
                f"last balance_after is {_yuan(after)}"
            )
    return lines


def _yuan(fen):
    return (Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01"))
