"""The ledger's part of `ledger verify` (composed in points/verify.py): recompute every running
figure of the accounts from their postings, and every posting's hash from the chain, so that an
insider's edit behind the service's back shows.

At county scale (millions of postings) nothing here loads the postings into Python but the
hash chains, which are streamed in (account, id) order. Every running figure is compared in
SQL: an aggregate of the rows joined to the figure, returning only the rows that disagree.
"""

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, literal_column, or_, select, type_coerce

from points.database import aware, local_date, local_tz
from points.extensions import db
from points.ledger.chain import GENESIS, posting_hash
from points.ledger.models import Account, AccountYear, Posting

STREAM = 10_000  # postings fetched at a time while checking the chains


def account_lines(problems):
    """The lines `ledger verify` prints for [((account, scheme, holder), what, have, want)]."""
    return [
        f"account {a} (scheme {s}, holder {h}): {what} is {have}, postings say {want}"
        for (a, s, h), what, have, want in problems
    ]


def account_count():
    return db.session.execute(select(func.count(Account.id))).scalar_one()


def posting_count():
    return db.session.execute(select(func.count(Posting.id))).scalar_one()


def tenths_to_points(tenths):
    """A sum of raw tenths read back from SQL, as points."""
    return (Decimal(int(tenths or 0)) / 10).quantize(Decimal("0.1"))


# --- running figures on accounts -----------------------------------------------------------


def verify_accounts():
    """[((account, scheme, holder), what, recorded, recomputed)] for every figure that disagrees:
    the balance, the last posting's balance_after, the year totals. (待入账 and rankings' year
    points are checked by the entries that move them: points/entries/checks.py.)"""
    key = (Account.id, Account.scheme_id, Account.holder_id)
    problems = []
    sums = (
        select(Posting.account_id, func.sum(Posting.points).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    for *account, have, want in db.session.execute(
        select(*key, Account.balance, sums.c.total)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance != func.coalesce(sums.c.total, 0))
        .order_by(Account.id)
    ):
        problems.append(
            (tuple(account), "balance", have, want if want is not None else tenths_to_points(0))
        )
    last = (
        select(Posting.account_id, func.max(Posting.id).label("last_id"))
        .group_by(Posting.account_id)
        .subquery()
    )
    for *account, balance, head, last_id, balance_after, last_hash in db.session.execute(
        select(
            *key,
            Account.balance,
            Account.last_hash,
            Posting.id,
            Posting.balance_after,
            Posting.hash,
        )
        .outerjoin(last, last.c.account_id == Account.id)
        .outerjoin(Posting, Posting.id == last.c.last_id)
        .where(
            or_(
                and_(Posting.id.is_(None), Account.last_hash != GENESIS),
                Posting.balance_after != Account.balance,
                Posting.hash != Account.last_hash,
            )
        )
        .order_by(Account.id)
    ):
        if last_id is not None and balance_after != balance:
            problems.append((tuple(account), "last balance_after", balance, balance_after))
        if head != (last_hash or GENESIS):
            problems.append(
                (
                    tuple(account),
                    "last_hash",
                    head[:12],
                    f"{(last_hash or GENESIS)[:12]} (posting {last_id}); a posting "
                    "after it was deleted, or the account row edited",
                )
            )
    problems.extend(_verify_year_totals(key))
    return problems


def _local_year(column):
    """The calendar year of a UTC timestamp column in the configured zone, as a CASE over the
    UTC instants the years begin at (the same SQL on SQLite, which knows no time zones, and
    PostgreSQL); None when there are no postings."""
    first, last = db.session.execute(select(func.min(column), func.max(column))).one()
    if first is None:
        return None
    first, last = local_date(aware(first)).year, local_date(aware(last)).year
    zone = local_tz()
    whens = [
        (
            column < datetime(y + 1, 1, 1, tzinfo=zone).astimezone(timezone.utc),
            literal_column(str(y)),
        )
        for y in range(first, last)
    ]
    return case(*whens, else_=literal_column(str(last))) if whens else literal_column(str(last))


def _verify_year_totals(key):
    """本年获得 / 扣减 / 兑换 must equal the year's postings, summed in SQL as ledger.post adds
    them."""
    year = _local_year(Posting.at)
    if year is None:
        year = literal_column("0")
    tenths = type_coerce(Posting.points, BigInteger)
    rows = (
        select(Posting.account_id, year.label("year"), Posting.kind, tenths.label("p"))
        .where(Posting.kind.in_(("entry", "revoke", "redemption", "void")))
        .subquery()
    )
    earning = ((rows.c.kind == "entry") & (rows.c.p > 0)) | (
        (rows.c.kind == "revoke") & (rows.c.p < 0)
    )
    totals = (
        select(
            rows.c.account_id,
            rows.c.year,
            func.sum(case((earning, rows.c.p), else_=0)).label("earned"),
            func.sum(
                case((rows.c.kind.in_(("entry", "revoke")) & ~earning, -rows.c.p), else_=0)
            ).label("deducted"),
            func.sum(case((rows.c.kind.in_(("redemption", "void")), -rows.c.p), else_=0)).label(
                "redeemed"
            ),
        )
        .group_by(rows.c.account_id, rows.c.year)
        .subquery()
    )
    columns = ("earned", "deducted", "redeemed")
    stored = {c: type_coerce(getattr(AccountYear, c), BigInteger) for c in columns}
    joined = (totals.c.account_id == AccountYear.account_id) & (totals.c.year == AccountYear.year)
    differ = (
        select(*key, AccountYear.year, *stored.values(), *(totals.c[c] for c in columns))
        .select_from(AccountYear)
        .join(Account, Account.id == AccountYear.account_id)
        .outerjoin(totals, joined)
        .where(or_(*(stored[c] != func.coalesce(totals.c[c], 0) for c in columns)))
    )
    none = (literal_column("0").label(f"have_{c}") for c in columns)
    missing = (
        select(*key, totals.c.year, *none, *(totals.c[c] for c in columns))
        .select_from(totals)
        .join(Account, Account.id == totals.c.account_id)
        .outerjoin(AccountYear, joined)
        .where(AccountYear.id.is_(None), or_(*(totals.c[c] != 0 for c in columns)))
    )
    problems = []
    for query in (differ, missing):
        for a, s, h, y, *figures in db.session.execute(query):
            for column, have, want in zip(columns, figures[:3], figures[3:]):
                if int(have or 0) != int(want or 0):
                    problems.append(
                        (
                            (a, s, h),
                            f"{column} {int(y)}",
                            tenths_to_points(have),
                            tenths_to_points(want),
                        )
                    )
    return problems


# --- hash chains -----------------------------------------------------------------------------


def verify_chains(progress=None):
    """Rehash every account's postings in id order; name the first posting of each account whose
    hash does not hold: it, or a row before it, was edited, inserted or deleted."""
    p = Posting.__table__
    query = (
        select(
            p.c.id,
            p.c.account_id,
            p.c.kind,
            type_coerce(p.c.points, BigInteger),
            type_coerce(p.c.balance_after, BigInteger),
            p.c.ref,
            p.c.user_id,
            p.c.at,
            p.c.hash,
        )
        .order_by(p.c.account_id, p.c.id)
        .execution_options(yield_per=STREAM)
    )
    lines, current, previous, broken = [], None, GENESIS, False
    result = db.session.connection().execute(query)
    for batch in result.partitions():
        for posting_id, account_id, kind, points, balance_after, ref, user_id, at, stored in batch:
            if account_id != current:
                current, previous, broken = account_id, GENESIS, False
            elif broken:
                continue
            previous = posting_hash(
                previous, account_id, kind, points, balance_after, ref, user_id, at
            )
            if previous != stored:
                broken = True
                lines.append(
                    f"posting {posting_id} (account {account_id}, {kind} {ref}): its hash "
                    "does not hold; it or a posting before it was edited, inserted or "
                    "deleted"
                )
        if progress is not None:
            progress(len(batch))
    return lines
