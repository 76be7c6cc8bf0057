"""ledger.post is the one door through which points move.

Each posting is written in the same transaction as the account's running balance and its
year totals, so a balance is read in one row however long the history is, and
`verify` can recompute every running figure from the rows it summarises.
"""

from collections import namedtuple
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from points.database import (
    Points,
    Prepared,
    binds,
    as_points,
    for_update,
    insert_ignore,
    local_date,
    local_tz,
    unit_connection,
    utcnow,
)
from points.errors import PointsError, forbidden, not_found
from points.extensions import db
from points.ledger.chain import GENESIS, posting_hash, tenths
from points.ledger.models import Account, AccountYear, HolderYear, Posting
from points.org.models import Holder, Unit
from points.org.service import get_holder
from points.schemes.models import Scheme
from points.schemes.service import scheme_by_code

ZERO = Decimal(0)


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
    """An account as the write section holds it (for `post` without the ORM): its id, balance
    and last hash, read under its lock."""

    __slots__ = ("id", "balance", "last_hash")

    def __init__(self, id, balance, last_hash):
        self.id, self.balance, self.last_hash = id, balance, last_hash


# FOR UPDATE on PostgreSQL; SQLite compiles it away (its write lock is already held).
_LOCK_ACCOUNT = Prepared(
    select(Account.id, Account.balance, Account.last_hash)
    .where(Account.scheme_id == bindparam("scheme_id"), Account.holder_id == bindparam("holder_id"))
    .with_for_update()
)


def lock_account(scheme_id, holder_id):
    """account_for(..., lock=True) for a write section that only needs the id, balance and hash
    (on the unit's connection: a direct unit's, or the session's)."""
    connection = unit_connection()
    params = {"scheme_id": scheme_id, "holder_id": holder_id}
    row = _LOCK_ACCOUNT.first(connection, params)
    if row is None:
        _make_account(connection.dialect.name).run(connection, params)
        row = _LOCK_ACCOUNT.first(connection, params)
    return AccountRef(*row)


_MAKE_ACCOUNT = {}


def _make_account(dialect):
    """INSERT the account at zero, or nothing when another writer made it first."""
    statement = _MAKE_ACCOUNT.get(dialect)
    if statement is None:
        statement = _MAKE_ACCOUNT[dialect] = Prepared(
            _dialect_insert(dialect)(Account)
            .values(
                scheme_id=bindparam("scheme_id"),
                holder_id=bindparam("holder_id"),
                balance=bindparam("balance", ZERO, type_=Points()),
                pending=bindparam("pending", ZERO, type_=Points()),
                last_hash=bindparam("last_hash", GENESIS),  # every value named (Prepared)
            )
            .on_conflict_do_nothing()
        )
    return statement


def find_account(scheme_id, holder_id):
    return db.session.execute(
        select(Account).where(Account.scheme_id == scheme_id, Account.holder_id == holder_id)
    ).scalar_one_or_none()


def post(account, kind, points, ref, user_id=None, floor=None):
    """Move `points` on the account and write the posting, chained to the account's last one,
    in the caller's transaction. The caller holds the account's lock (`account_for(...,
    lock=True)` or `lock_account`), so the balance and last hash it read are current.

    The posting's hash is computed from what the account row holds, so the previous posting
    is never read. The update is conditional on that balance and hash: should the account
    have moved since it was read (a caller that did not lock it), nothing is written and
    the row is locked and read again, so a chain can never fork. With `floor` set, a debit
    that would take the balance below it is refused (insufficient_balance).
    """
    points = Decimal(points)
    connection = unit_connection()  # the session's flushed first, as the ORM's execute would
    before, previous = account.balance, account.last_hash
    for _ in range(2):
        balance = before + points
        if floor is not None and balance < Decimal(floor):
            raise insufficient_balance(before, -points)
        now = utcnow()
        row = _posting_row(previous, account.id, kind, points, balance, ref, user_id, now)
        digest = row["hash"]
        moved = _MOVE.run(
            connection,
            {
                "account_id": account.id,
                "before": before,
                "previous": previous,
                "balance": balance,
                "hash": digest,
            },
        )
        if moved == 1:
            break
        before, previous = _READ_LOCKED.first(connection, {"account_id": account.id})
    else:
        raise RuntimeError(f"account {account.id} moved under its lock")
    _INSERT_POSTING.run(connection, row)
    _move_year_totals(account.id, kind, points, local_date(now).year, connection)
    if isinstance(account, Account):  # the row already holds it: no UPDATE at the next flush
        set_committed_value(account, "balance", balance)
        set_committed_value(account, "last_hash", digest)
    else:
        account.balance, account.last_hash = balance, digest
    return Posted(account.id, kind, points, balance, now, ref, user_id)


def insufficient_balance(balance, total):
    """The 409 of a debit of `total` that the balance cannot pay."""
    return PointsError(
        "insufficient_balance",
        f"余额不足：当前 {balance} 分，本次需 {total} 分",
        409,
        {"balance": balance, "total": total},
    )


Posted = namedtuple("Posted", "account_id kind points balance_after at ref user_id")
_MOVE = Prepared(
    update(Account)
    .where(
        Account.id == bindparam("account_id"),
        Account.balance == bindparam("before", type_=Points()),
        Account.last_hash == bindparam("previous"),
    )
    .values(balance=bindparam("balance", type_=Points()), last_hash=bindparam("hash"))
)
_READ_LOCKED = Prepared(
    select(Account.balance, Account.last_hash)
    .where(Account.id == bindparam("account_id"))
    .with_for_update()
)
_INSERT_POSTING = Prepared(
    insert(Posting).values(
        binds("account_id", "kind", "points", "balance_after", "at", "ref", "user_id", "hash")
    )
)


def _posting_row(previous, account_id, kind, points, balance, ref, user_id, at):
    """A posting's row, its hash chained to the account's `previous` one (`post`, `post_many`)."""
    return {
        "account_id": account_id,
        "kind": kind,
        "points": points,
        "balance_after": balance,
        "at": at,
        "ref": ref,
        "user_id": user_id,
        "hash": posting_hash(
            previous, account_id, kind, tenths(points), tenths(balance), ref, user_id, at
        ),
    }


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
    values = {
        "account_id": account_id,
        "year": year,
        "earned": ZERO,
        "deducted": ZERO,
        "redeemed": ZERO,
    }
    values[column] = amount
    _year_upsert(connection.dialect.name, column).run(connection, values)


_YEAR_UPSERTS = {}


def _dialect_insert(dialect):
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    return dialect_insert


def _year_upsert(dialect, column):
    """INSERT the year's row with this amount, or add the amount to the row that is there: one
    statement (ON CONFLICT DO UPDATE) on SQLite and PostgreSQL alike. Column None adds all three
    (a batch's postings summed per account)."""
    statement = _YEAR_UPSERTS.get((dialect, column))
    if statement is None:
        values = _dialect_insert(dialect)(AccountYear).values(
            account_id=bindparam("account_id"),
            year=bindparam("year"),
            earned=bindparam("earned", type_=Points()),
            deducted=bindparam("deducted", type_=Points()),
            redeemed=bindparam("redeemed", type_=Points()),
        )
        statement = _YEAR_UPSERTS[(dialect, column)] = Prepared(
            values.on_conflict_do_update(
                index_elements=[AccountYear.account_id, AccountYear.year],
                set_={
                    c: getattr(AccountYear, c) + values.excluded[c]
                    for c in ((column,) if column else ("earned", "deducted", "redeemed"))
                },
            )
        )
    return statement


def move_pending(account, points):
    """待入账: points that are recorded but not yet spendable (in review, notice or dispute)."""
    db.session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(pending=Account.pending + Decimal(points))
        .execution_options(synchronize_session=False)
    )


def count_for_year(scheme_id, holder_id, year, points, veto, undo=False):
    """Keep the holder's net points of the year its deeds occurred in (rankings read this row),
    and its posted entries and deductions of that year (participation reads them). `points`
    are the posting's: an undone deduction comes in positive."""
    insert_ignore(
        HolderYear, scheme_id=scheme_id, holder_id=holder_id, year=year, points=ZERO, vetoes=0
    )
    step = -1 if undo else 1
    deduction = Decimal(points) * step < 0
    db.session.execute(
        update(HolderYear)
        .where(
            HolderYear.scheme_id == scheme_id,
            HolderYear.holder_id == holder_id,
            HolderYear.year == year,
        )
        .values(
            points=HolderYear.points + Decimal(points),
            vetoes=HolderYear.vetoes + (step if veto else 0),
            entries=HolderYear.entries + step,
            deductions=HolderYear.deductions + (step if deduction else 0),
            deducted=HolderYear.deducted - (Decimal(points) if deduction else ZERO),
        )
        .execution_options(synchronize_session=False)
    )


# --- many accounts at once: a batch's postings in a few statements ---------------------------


def lock_accounts(pairs):
    """`lock_account` for many (scheme id, holder id) pairs: read and locked by one SELECT (FOR
    UPDATE on PostgreSQL, in id order, so two batches that share accounts lock them in the same
    order); the accounts not there yet are made by one INSERT .. ON CONFLICT DO NOTHING and
    read again. Returns {(scheme id, holder id): AccountRef}."""
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return {}
    connection = db.session.connection()
    found = _read_accounts(connection, pairs)
    missing = [pair for pair in pairs if pair not in found]
    if missing:
        connection.execute(
            _dialect_insert(connection.dialect.name)(Account).on_conflict_do_nothing(),
            [
                {"scheme_id": s, "holder_id": h, "balance": ZERO, "pending": ZERO}
                for s, h in missing
            ],
        )
        found = _read_accounts(connection, pairs)
    return found


def _read_accounts(connection, pairs):
    query = (
        select(Account.scheme_id, Account.holder_id, Account.id, Account.balance, Account.last_hash)
        .where(tuple_(Account.scheme_id, Account.holder_id).in_(pairs))
        .order_by(Account.id)
    )
    if connection.dialect.name != "sqlite":
        query = query.with_for_update()
    return {(s, h): AccountRef(*rest) for s, h, *rest in connection.execute(query)}


_MOVE_PENDING = (
    update(Account)
    .where(Account.id == bindparam("account_id"))
    .values(pending=Account.pending + bindparam("points", type_=Points()))
)


def move_pending_many(moves):
    """`move_pending` for many accounts: {account id: points}, one executemany."""
    moves = {account_id: points for account_id, points in moves.items() if points}
    if moves:
        db.session.connection().execute(
            _MOVE_PENDING,
            [{"account_id": a, "points": Decimal(p)} for a, p in moves.items()],
        )


def post_many(moves):
    """`post` for many postings at once, in the order given: [(AccountRef, kind, points, ref,
    user_id)], the accounts read and locked by `lock_accounts` (an account may come several
    times: its postings chain one after the other). The hashes are computed in Python, the
    postings written by one INSERT, the accounts moved by one executemany (conditional on the
    balance and hash read under the lock, as `post`), the year totals by one upsert summed per
    account. No floor: entries post in full, even below zero. Returns [Posted]."""
    if not moves:
        return []
    db.session.flush()
    connection = db.session.connection()
    now = utcnow()
    read, rows, totals, posted = {}, [], {}, []
    year = local_date(now).year
    for account, kind, points, ref, user_id in moves:
        points = Decimal(points)
        read.setdefault(account.id, (account, account.balance, account.last_hash))
        balance = account.balance + points
        row = _posting_row(account.last_hash, account.id, kind, points, balance, ref, user_id, now)
        rows.append(row)
        account.balance, account.last_hash = balance, row["hash"]
        delta = _year_delta(kind, points)
        if delta is not None:
            total = totals.setdefault(
                account.id,
                dict(account_id=account.id, year=year, earned=ZERO, deducted=ZERO, redeemed=ZERO),
            )
            total[delta[0]] += delta[1]
        posted.append(Posted(account.id, kind, points, balance, now, ref, user_id))
    moved = connection.execute(
        _MOVE.statement,
        [
            {
                "account_id": account_id,
                "before": before,
                "previous": previous,
                "balance": account.balance,
                "hash": account.last_hash,
            }
            for account_id, (account, before, previous) in sorted(read.items())
        ],
    )
    if connection.dialect.supports_sane_multi_rowcount and moved.rowcount != len(read):
        raise RuntimeError("an account moved under its lock")
    connection.execute(_INSERT_POSTING.statement, rows)
    if totals:
        _year_upsert(connection.dialect.name, None).run_many(
            connection, [totals[a] for a in sorted(totals)]
        )
    return posted


_COUNT_YEAR = (
    update(HolderYear)
    .where(
        HolderYear.scheme_id == bindparam("s"),
        HolderYear.holder_id == bindparam("h"),
        HolderYear.year == bindparam("y"),
    )
    .values(
        points=HolderYear.points + bindparam("points", type_=Points()),
        vetoes=HolderYear.vetoes + bindparam("vetoes"),
        entries=HolderYear.entries + bindparam("entries"),
        deductions=HolderYear.deductions + bindparam("deductions"),
        deducted=HolderYear.deducted + bindparam("deducted", type_=Points()),
    )
)


def count_for_years(rows):
    """`count_for_year` (never undo) for many posted entries: [(scheme id, holder id, year,
    points, veto)], summed per holder and year in Python; the missing rows made by one INSERT
    .. ON CONFLICT DO NOTHING, the figures added by one executemany, in key order."""
    sums = {}
    for scheme_id, holder_id, year, points, veto in rows:
        points = Decimal(points)
        row = sums.setdefault(
            (scheme_id, holder_id, year),
            {"points": ZERO, "vetoes": 0, "entries": 0, "deductions": 0, "deducted": ZERO},
        )
        row["points"] += points
        row["vetoes"] += 1 if veto else 0
        row["entries"] += 1
        if points < 0:
            row["deductions"] += 1
            row["deducted"] -= points
    if not sums:
        return
    connection = db.session.connection()
    keys = sorted(sums)
    connection.execute(
        _dialect_insert(connection.dialect.name)(HolderYear).on_conflict_do_nothing(),
        [
            {"scheme_id": s, "holder_id": h, "year": y, "points": ZERO, "vetoes": 0}
            for s, h, y in keys
        ],
    )
    connection.execute(
        _COUNT_YEAR, [{"s": s, "h": h, "y": y, **sums[(s, h, y)]} for s, h, y in keys]
    )


def postings_query(account_id):
    return select(Posting).where(Posting.account_id == account_id).order_by(Posting.id.desc())


def recent_postings(account_id, limit):
    return db.session.execute(postings_query(account_id).limit(limit)).scalars().all()


def statement(scheme, holder, year):
    """积分存折: a year of one account, oldest first, between its opening balance (the last
    balance before the year began, local time) and its closing balance."""
    start, end = (datetime(y, 1, 1, tzinfo=local_tz()) for y in (year, year + 1))
    account = find_account(scheme.id, holder.id)
    postings, opening = [], ZERO
    if account is not None:
        opening = (
            db.session.execute(
                select(Posting.balance_after)
                .where(Posting.account_id == account.id, Posting.at < start)
                .order_by(Posting.id.desc())
                .limit(1)
            ).scalar()
            or ZERO
        )
        postings = (
            db.session.execute(
                select(Posting)
                .where(Posting.account_id == account.id, Posting.at >= start, Posting.at < end)
                .order_by(Posting.id)
            )
            .scalars()
            .all()
        )
    closing = postings[-1].balance_after if postings else opening
    return {
        "scheme": scheme.code,
        "scheme_name": scheme.name,
        "holder": holder.code,
        "name": holder.name,
        "year": year,
        "opening": as_points(opening),
        "closing": as_points(closing),
        "postings": postings,
    }


# What GET /accounts/<scheme>/<holder> needs, by codes, in one statement: the scheme, the
# holder with its unit's path (for the caller's scope), the account and its year's totals.
_ACCOUNT_BY_CODES = Prepared(
    select(
        Scheme.code,
        Scheme.subject,
        Holder.code,
        Holder.kind,
        Unit.path,
        Account.balance,
        Account.pending,
        AccountYear.earned,
        AccountYear.deducted,
        AccountYear.redeemed,
    )
    .select_from(Scheme)
    .join(Holder, Holder.code == bindparam("holder"))
    .join(Unit, Holder.unit_id == Unit.id)
    .outerjoin(Account, (Account.scheme_id == Scheme.id) & (Account.holder_id == Holder.id))
    .outerjoin(
        AccountYear,
        (AccountYear.account_id == Account.id) & (AccountYear.year == bindparam("year")),
    )
    .where(Scheme.code == bindparam("scheme"))
)

AccountRead = namedtuple("AccountRead", "subject kind path view")


def _view(scheme_code, holder_code, balance, pending, earned, deducted, redeemed):
    zero = as_points(0)
    if balance is None:  # no account yet
        balance = pending = zero
    return {
        "scheme": scheme_code,
        "holder": holder_code,
        "balance": balance,
        "pending": pending,
        "earned": zero if earned is None else earned,
        "deducted": zero if deducted is None else deducted,
        "redeemed": zero if redeemed is None else redeemed,
    }


def account_view(scheme, holder, year):
    """{scheme, holder, balance, pending, earned, deducted, redeemed}: one row each, never a sum
    (the one account read, `read_account`, for a scheme and holder already in hand)."""
    return read_account(scheme.code, holder.code, year).view


def read_account(scheme_code, holder_code, year):
    """The account view by codes with what the caller's checks need (the scheme's subject, the
    holder's kind and unit path), or None when the scheme or the holder is unknown."""
    row = _ACCOUNT_BY_CODES.first(
        unit_connection(), {"scheme": scheme_code, "holder": holder_code, "year": year}
    )
    if row is None:
        return None
    scheme, subject, holder, kind, path = row[:5]
    return AccountRead(subject, kind, path, _view(scheme, holder, *row[5:]))


def visible_account(principal, scheme_code, holder_code, year):
    """The account view of a holder the caller may see, in one statement when all is well:
    404 naming what is unknown or a holder of another kind than the scheme's, 403 outside the
    caller's units (the same answers as `scheme_and_holder`)."""
    found = read_account(scheme_code, holder_code, year)
    if found is None:
        scheme_and_holder(principal, scheme_code, holder_code)  # raises the 404 naming it
    _check_visible(principal, scheme_code, found.subject, found.kind, found.path)
    return found.view


def scheme_and_holder(principal, scheme_code, holder_code):
    """The scheme and a holder the caller may see, of the kind the scheme is for."""
    scheme, holder = scheme_by_code(scheme_code), get_holder(principal, holder_code)
    if holder.kind != scheme.subject:
        raise _not_for(scheme.code, scheme.subject)
    return scheme, holder


def _check_visible(principal, scheme_code, subject, kind, path):
    if not principal.covers(path):
        raise forbidden()
    if kind != subject:
        raise _not_for(scheme_code, subject)


def _not_for(scheme_code, subject):
    """No account: a holder of another kind than the scheme is for (a 404, as an unknown one)."""
    return not_found(f"account: {scheme_code} is for {subject} holders")
