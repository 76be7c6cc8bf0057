"""ledger.post is the one door through which points move.

Each posting is written in the same transaction as the account's running balance and its
year totals, so a balance is read in one row however long the history is, and
`verify` can recompute every running figure from the rows it summarises.
"""
from collections import namedtuple
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, bindparam, cast, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from points.database import Points, as_points, for_update, insert_ignore, local_date, local_tz, utcnow
from points.errors import PointsError
from points.extensions import db
from points.ledger.models import Account, AccountYear, HolderYear, Posting
from points.org.models import Holder, Unit
from points.schemes.models import Scheme

ZERO = Decimal(0)

Totals = namedtuple("Totals", "earned deducted redeemed")


def account_for(scheme_id, holder_id, lock=False):
    """The account, made on first use. With lock=True it is locked for this transaction
    (an account that has no row yet cannot be locked, so the row is made first, then locked)."""
    query = select(Account).where(Account.scheme_id == scheme_id, Account.holder_id == holder_id)
    if lock:
        query = for_update(query)
    query = query.execution_options(populate_existing=True)
    account = db.session.execute(query).scalar_one_or_none()
    if account is None:
        insert_ignore(Account, scheme_id=scheme_id, holder_id=holder_id, balance=ZERO, pending=ZERO)
        account = db.session.execute(query).scalar_one()
    return account


class AccountRef:
    """An account's id and balance as the write section holds it (for `post` without the ORM)."""

    __slots__ = ("id", "balance")

    def __init__(self, id, balance):
        self.id, self.balance = id, balance


_LOCK_ACCOUNT = (select(Account.id, Account.balance)
                 .where(Account.scheme_id == bindparam("scheme_id"), Account.holder_id == bindparam("holder_id")))
_LOCK_ACCOUNT_FOR_UPDATE = _LOCK_ACCOUNT.with_for_update()


def lock_account(scheme_id, holder_id):
    """account_for(..., lock=True) for a write section that only needs the id and balance."""
    connection = db.session.connection()
    query = _LOCK_ACCOUNT if connection.dialect.name == "sqlite" else _LOCK_ACCOUNT_FOR_UPDATE
    params = {"scheme_id": scheme_id, "holder_id": holder_id}
    row = connection.execute(query, params).first()
    if row is None:
        insert_ignore(Account, scheme_id=scheme_id, holder_id=holder_id, balance=ZERO, pending=ZERO)
        row = connection.execute(query, params).one()
    return AccountRef(row[0], row[1])


def find_account(scheme_id, holder_id):
    return db.session.execute(
        select(Account).where(Account.scheme_id == scheme_id, Account.holder_id == holder_id)
    ).scalar_one_or_none()


def post(account, kind, points, ref, user_id=None, floor=None):
    """Move `points` on the account and write the posting, in the caller's transaction.

    With `floor` set, the debit is refused (insufficient_balance) when it would take the
    balance below it; the check and the update are one conditional statement, so two
    spenders at once cannot both pass it.
    """
    points = Decimal(points)
    db.session.flush()  # as the ORM's execute would: what the caller changed goes first
    connection = db.session.connection()
    if floor is None:
        balance = connection.execute(_MOVE, {"account_id": account.id, "points": points}).scalar_one_or_none()
    else:
        balance = connection.execute(
            _MOVE_ABOVE_FLOOR, {"account_id": account.id, "points": points, "floor": Decimal(floor)}
        ).scalar_one_or_none()
    if balance is None:
        current = db.session.execute(select(Account.balance).where(Account.id == account.id)).scalar_one()
        raise PointsError("insufficient_balance", f"余额不足：当前 {current} 分，本次需 {-points} 分",
                          409, {"balance": current, "total": -points})
    now = utcnow()
    connection.execute(_INSERT_POSTING, {
        "account_id": account.id, "kind": kind, "points": points, "balance_after": balance, "at": now, "ref": ref,
        "user_id": user_id})
    _move_year_totals(account.id, kind, points, local_date(now).year, connection)
    if isinstance(account, Account):  # the row already holds it: no UPDATE at the next flush
        set_committed_value(account, "balance", balance)
    else:
        account.balance = balance
    return Posted(account.id, kind, points, balance, now, ref, user_id)


Posted = namedtuple("Posted", "account_id kind points balance_after at ref user_id")
_MOVE = (update(Account).where(Account.id == bindparam("account_id"))
         .values(balance=Account.balance + bindparam("points", type_=Points())).returning(Account.balance))
_MOVE_ABOVE_FLOOR = _MOVE.where(
    Account.balance + bindparam("points", type_=Points()) >= bindparam("floor", type_=Points()))
_INSERT_POSTING = insert(Posting).values(
    account_id=bindparam("account_id"), kind=bindparam("kind"), points=bindparam("points"),
    balance_after=bindparam("balance_after"), at=bindparam("at"), ref=bindparam("ref"),
    user_id=bindparam("user_id"))


def _year_delta(kind, points):
    """(column, amount) that a posting adds to its year's totals, or None."""
    if kind == "entry":
        return ("earned", points) if points > 0 else ("deducted", -points)
    if kind == "revoke":  # reverses an entry: revoking a good deed lowers what was earned
        return ("earned", points) if points < 0 else ("deducted", -points)
    if kind in ("redemption", "void"):
        return ("redeemed", -points)
    return None


def _move_year_totals(account_id, kind, points, year, connection):
    delta = _year_delta(kind, points)
    if delta is None:
        return
    column, amount = delta
    values = {"account_id": account_id, "year": year, "earned": ZERO, "deducted": ZERO, "redeemed": ZERO}
    values[column] = amount
    connection.execute(_year_upsert(connection.dialect.name, column), values)


_YEAR_UPSERTS = {}


def _year_upsert(dialect, column):
    """INSERT the year's row with this amount, or add the amount to the row that is there: one
    statement (ON CONFLICT DO UPDATE) on SQLite and PostgreSQL alike."""
    statement = _YEAR_UPSERTS.get((dialect, column))
    if statement is None:
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        values = dialect_insert(AccountYear).values(
            account_id=bindparam("account_id"), year=bindparam("year"), earned=bindparam("earned", type_=Points()),
            deducted=bindparam("deducted", type_=Points()), redeemed=bindparam("redeemed", type_=Points()))
        statement = _YEAR_UPSERTS[(dialect, column)] = values.on_conflict_do_update(
            index_elements=[AccountYear.account_id, AccountYear.year],
            set_={column: getattr(AccountYear, column) + values.excluded[column]})
    return statement


def move_pending(account, points):
    """待入账: points that are recorded but not yet spendable (in review, notice or dispute)."""
    db.session.execute(
        update(Account).where(Account.id == account.id)
        .values(pending=Account.pending + Decimal(points)).execution_options(synchronize_session=False))


def count_for_year(scheme_id, holder_id, year, points, veto, undo=False):
    """Keep the holder's net points of the year its deeds occurred in (rankings read this row)."""
    insert_ignore(HolderYear, scheme_id=scheme_id, holder_id=holder_id, year=year, points=ZERO, vetoes=0)
    db.session.execute(
        update(HolderYear).where(HolderYear.scheme_id == scheme_id, HolderYear.holder_id == holder_id,
                                 HolderYear.year == year)
        .values(points=HolderYear.points + Decimal(points),
                vetoes=HolderYear.vetoes + ((-1 if undo else 1) if veto else 0))
        .execution_options(synchronize_session=False))


def year_totals(account_id, year):
    row = db.session.execute(
        select(AccountYear).where(AccountYear.account_id == account_id, AccountYear.year == year)
    ).scalar_one_or_none()
    if row is None:
        return Totals(as_points(0), as_points(0), as_points(0))
    return Totals(row.earned, row.deducted, row.redeemed)


def postings_query(account_id):
    return select(Posting).where(Posting.account_id == account_id).order_by(Posting.id.desc())


def statement(scheme, holder, year):
    """积分存折: a year of one account, oldest first, between its opening balance (the last
    balance before the year began, local time) and its closing balance."""
    start, end = (datetime(y, 1, 1, tzinfo=local_tz()) for y in (year, year + 1))
    account = find_account(scheme.id, holder.id)
    postings, opening = [], ZERO
    if account is not None:
        opening = db.session.execute(
            select(Posting.balance_after).where(Posting.account_id == account.id, Posting.at < start)
            .order_by(Posting.id.desc()).limit(1)).scalar() or ZERO
        postings = db.session.execute(
            select(Posting).where(Posting.account_id == account.id, Posting.at >= start, Posting.at < end)
            .order_by(Posting.id)).scalars().all()
    closing = postings[-1].balance_after if postings else opening
    return {"scheme": scheme.code, "scheme_name": scheme.name, "holder": holder.code, "name": holder.name,
            "year": year, "opening": as_points(opening), "closing": as_points(closing), "postings": postings}


def verify():
    """(what was checked, [lines naming each account or goods that disagrees])."""
    problems = verify_accounts()
    lines = [f"account {a.id} (scheme {a.scheme_id}, holder {a.holder_id}): {what} is {have}, postings say {want}"
             for a, what, have, want in problems]
    accounts = db.session.execute(select(func.count(Account.id))).scalar_one()
    from points.shop.service import goods_count, verify_stock  # the shop imports the ledger

    lines += [f"goods {g.id} ({g.code}, shop {g.shop_id}): {what} is {have}, stock movements say {want}"
              for g, what, have, want in verify_stock()]
    return f"{accounts} accounts, {goods_count()} goods", lines


def verify_accounts():
    """Recompute every account's balance and year totals from its postings.

    Returns a list of (account, what, recorded, recomputed) for every figure that disagrees.
    """
    problems = []
    sums = dict(db.session.execute(
        select(Posting.account_id, func.sum(Posting.points)).group_by(Posting.account_id)).all())
    last = dict(db.session.execute(
        select(Posting.account_id, Posting.balance_after)
        .where(Posting.id.in_(select(func.max(Posting.id)).group_by(Posting.account_id)))).all())
    for account in db.session.execute(select(Account)).scalars():
        recomputed = as_points(sums.get(account.id))
        if recomputed != account.balance:
            problems.append((account, "balance", account.balance, recomputed))
        if account.id in last and last[account.id] != account.balance:
            problems.append((account, "last balance_after", account.balance, last[account.id]))
    problems.extend(_verify_pending())
    problems.extend(_verify_holder_years())
    problems.extend(_verify_year_totals())
    return problems


def _verify_pending():
    """待入账 must equal the points of the holder's entries still in review, notice or dispute."""
    from points.entries.models import OPEN_STATES, Entry  # entries post through the ledger

    open_points = dict(((scheme_id, holder_id), total) for scheme_id, holder_id, total in db.session.execute(
        select(Entry.scheme_id, Entry.holder_id, func.sum(Entry.points))
        .where(Entry.status.in_(OPEN_STATES)).group_by(Entry.scheme_id, Entry.holder_id)))
    problems = []
    for account in db.session.execute(select(Account)).scalars():
        want = as_points(open_points.get((account.scheme_id, account.holder_id)))
        if want != account.pending:
            problems.append((account, "pending", account.pending, want))
    return problems


def _verify_holder_years():
    """Rankings' running figures must equal the posted entries of each year they occurred in."""
    from points.entries.models import Entry  # entries post through the ledger

    year = func.extract("year", Entry.occurred_on)
    expected = {(s, h, int(y)): (as_points(p), int(v or 0)) for s, h, y, p, v in db.session.execute(
        select(Entry.scheme_id, Entry.holder_id, year, func.sum(Entry.points),
               func.sum(cast(Entry.veto, Integer)))
        .where(Entry.status == "posted").group_by(Entry.scheme_id, Entry.holder_id, year))}
    problems = []
    for row in db.session.execute(select(HolderYear)).scalars():
        want = expected.pop((row.scheme_id, row.holder_id, row.year), (as_points(0), 0))
        if (row.points, row.vetoes) != want:
            problems.append((find_account(row.scheme_id, row.holder_id), f"ranking points {row.year}",
                             (row.points, row.vetoes), want))
    for (scheme_id, holder_id, y), want in expected.items():
        problems.append((find_account(scheme_id, holder_id), f"ranking points {y}", None, want))
    return problems


def _verify_year_totals():
    expected = {}
    for posting in db.session.execute(select(Posting)).scalars():
        delta = _year_delta(posting.kind, posting.points)
        if delta is None:
            continue
        column, amount = delta
        key = (posting.account_id, local_date(posting.at).year)
        totals = expected.setdefault(key, {"earned": ZERO, "deducted": ZERO, "redeemed": ZERO})
        totals[column] += amount
    problems = []
    rows = {(r.account_id, r.year): r for r in db.session.execute(select(AccountYear)).scalars()}
    for key in set(expected) | set(rows):
        row = rows.get(key)
        for column in ("earned", "deducted", "redeemed"):
            want = as_points(expected.get(key, {}).get(column))
            have = as_points(getattr(row, column) if row else None)
            if want != have:
                account = db.session.get(Account, key[0])
                problems.append((account, f"{column} {key[1]}", have, want))
    return problems


# The account's row and its year's totals in one statement (both may not exist yet).
_ACCOUNT_AND_YEAR = (
    select(Account.balance, Account.pending, AccountYear.earned, AccountYear.deducted, AccountYear.redeemed)
    .outerjoin(AccountYear, (AccountYear.account_id == Account.id) & (AccountYear.year == bindparam("year")))
    .where(Account.scheme_id == bindparam("scheme_id"), Account.holder_id == bindparam("holder_id")))

# What GET /accounts/<scheme>/<holder> needs, by codes, in one statement: the scheme, the
# holder with its unit's path (for the caller's scope), the account and its year's totals.
_ACCOUNT_BY_CODES = (
    select(Scheme.code, Scheme.subject, Holder.code, Holder.kind, Unit.path, Account.balance, Account.pending,
           AccountYear.earned, AccountYear.deducted, AccountYear.redeemed)
    .select_from(Scheme)
    .join(Holder, Holder.code == bindparam("holder"))
    .join(Unit, Holder.unit_id == Unit.id)
    .outerjoin(Account, (Account.scheme_id == Scheme.id) & (Account.holder_id == Holder.id))
    .outerjoin(AccountYear, (AccountYear.account_id == Account.id) & (AccountYear.year == bindparam("year")))
    .where(Scheme.code == bindparam("scheme")))

AccountRead = namedtuple("AccountRead", "subject kind path view")


def _view(scheme_code, holder_code, balance, pending, earned, deducted, redeemed):
    zero = as_points(0)
    if balance is None:  # no account yet
        balance = pending = zero
    return {"scheme": scheme_code, "holder": holder_code, "balance": balance, "pending": pending,
            "earned": zero if earned is None else earned, "deducted": zero if deducted is None else deducted,
            "redeemed": zero if redeemed is None else redeemed}


def account_view(scheme, holder, year):
    """{scheme, holder, balance, pending, earned, deducted, redeemed}: one row each, never a sum."""
    row = db.session.connection().execute(
        _ACCOUNT_AND_YEAR, {"year": year, "scheme_id": scheme.id, "holder_id": holder.id}).first()
    return _view(scheme.code, holder.code, *(row or (None,) * 5))


def read_account(scheme_code, holder_code, year):
    """The account view by codes with what the caller's checks need (the scheme's subject, the
    holder's kind and unit path), or None when the scheme or the holder is unknown."""
    row = db.session.connection().execute(
        _ACCOUNT_BY_CODES, {"scheme": scheme_code, "holder": holder_code, "year": year}).first()
    if row is None:
        return None
    scheme, subject, holder, kind, path = row[:5]
    return AccountRead(subject, kind, path, _view(scheme, holder, *row[5:]))
