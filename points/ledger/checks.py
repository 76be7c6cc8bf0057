"""`ledger verify`: recompute every running figure from the rows it summarises, and every
posting's hash from the chain, so that an insider's edit behind the service's back shows.

At county scale (millions of postings) nothing here loads the postings into Python but the
hash chains, which are streamed in (account, id) order. Every running figure is compared in
SQL: an aggregate of the rows joined to the figure, returning only the rows that disagree.
"""
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (BigInteger, Integer, and_, case, cast, exists, func, literal_column, or_,
                        select, type_coerce)
from sqlalchemy.orm import aliased

from points.database import aware, local_date, local_tz
from points.extensions import db
from points.ledger.chain import GENESIS, posting_hash
from points.ledger.models import Account, AccountYear, HolderYear, Posting

STREAM = 10_000  # postings fetched at a time while checking the chains


def verify(progress=None):
    """(what was checked, [lines naming each account, posting, goods, statistics row or fund
    that disagrees]). `progress(n)` is told each time n more postings have been hashed."""
    from points.funds.service import fund_count, verify_funds
    from points.shop.service import goods_count, verify_stock  # the shop imports the ledger

    lines = [f"account {a} (scheme {s}, holder {h}): {what} is {have}, postings say {want}"
             for (a, s, h), what, have, want in verify_accounts()]
    lines += verify_chains(progress)
    lines += [f"goods {g.id} ({g.code}, shop {g.shop_id}): {what} is {have}, "
              f"stock movements say {want}" for g, what, have, want in verify_stock()]
    lines += verify_entry_stats()
    lines += verify_funds()
    count = db.session.execute(select(func.count(Account.id))).scalar_one()
    return (f"{count} accounts, {posting_count()} postings, {goods_count()} goods, "
            f"{fund_count()} funds"), lines


def posting_count():
    return db.session.execute(select(func.count(Posting.id))).scalar_one()


def _points(tenths):
    """A sum of raw tenths read back from SQL, as points."""
    return (Decimal(int(tenths or 0)) / 10).quantize(Decimal("0.1"))


# --- running figures on accounts -----------------------------------------------------------

def verify_accounts():
    """[((account, scheme, holder), what, recorded, recomputed)] for every figure that disagrees:
    the balance, the last posting's balance_after, 待入账, rankings' year points, year totals."""
    key = (Account.id, Account.scheme_id, Account.holder_id)
    problems = []
    sums = (select(Posting.account_id, func.sum(Posting.points).label("total"))
            .group_by(Posting.account_id).subquery())
    for *account, have, want in db.session.execute(
            select(*key, Account.balance, sums.c.total)
            .outerjoin(sums, sums.c.account_id == Account.id)
            .where(Account.balance != func.coalesce(sums.c.total, 0)).order_by(Account.id)):
        problems.append((tuple(account), "balance", have, want if want is not None else _points(0)))
    last = (select(Posting.account_id, func.max(Posting.id).label("last_id"))
            .group_by(Posting.account_id).subquery())
    for *account, balance, head, last_id, balance_after, last_hash in db.session.execute(
            select(*key, Account.balance, Account.last_hash, Posting.id, Posting.balance_after,
                   Posting.hash)
            .outerjoin(last, last.c.account_id == Account.id)
            .outerjoin(Posting, Posting.id == last.c.last_id)
            .where(or_(and_(Posting.id.is_(None), Account.last_hash != GENESIS),
                       Posting.balance_after != Account.balance, Posting.hash != Account.last_hash))
            .order_by(Account.id)):
        if last_id is not None and balance_after != balance:
            problems.append((tuple(account), "last balance_after", balance, balance_after))
        if head != (last_hash or GENESIS):
            problems.append((tuple(account), "last_hash", head[:12],
                             f"{(last_hash or GENESIS)[:12]} (posting {last_id}); a posting "
                             "after it was deleted, or the account row edited"))
    problems.extend(_verify_pending(key))
    problems.extend(_verify_holder_years())
    problems.extend(_verify_holder_year_counts())
    problems.extend(_verify_year_totals(key))
    return problems


def _verify_pending(key):
    """待入账 must equal the points of the holder's entries still in review, notice or dispute."""
    from points.entries.models import OPEN_STATES, Entry  # entries post through the ledger

    open_points = (select(Entry.scheme_id, Entry.holder_id, func.sum(Entry.points).label("total"))
                   .where(Entry.status.in_(OPEN_STATES))
                   .group_by(Entry.scheme_id, Entry.holder_id).subquery())
    rows = db.session.execute(
        select(*key, Account.pending, open_points.c.total)
        .outerjoin(open_points, (open_points.c.scheme_id == Account.scheme_id)
                   & (open_points.c.holder_id == Account.holder_id))
        .where(Account.pending != func.coalesce(open_points.c.total, 0)).order_by(Account.id))
    return [(tuple(account), "pending", have, want or _points(0)) for *account, have, want in rows]


def _verify_holder_years():
    """Rankings' running figures must equal the posted entries of each year they occurred in."""
    from points.entries.models import Entry  # entries post through the ledger

    year = func.extract("year", Entry.occurred_on)
    posted = (select(Entry.scheme_id, Entry.holder_id, year.label("year"),
                     func.sum(Entry.points).label("points"),
                     func.sum(cast(Entry.veto, Integer)).label("vetoes"))
              .where(Entry.status == "posted")
              .group_by(Entry.scheme_id, Entry.holder_id, year).subquery())
    joined = ((posted.c.scheme_id == HolderYear.scheme_id)
              & (posted.c.holder_id == HolderYear.holder_id) & (posted.c.year == HolderYear.year))
    account = (select(Account.id)
               .where(Account.scheme_id == HolderYear.scheme_id,
                      Account.holder_id == HolderYear.holder_id).scalar_subquery())
    differ = (select(account, HolderYear.scheme_id, HolderYear.holder_id, HolderYear.year,
                     HolderYear.points, HolderYear.vetoes, posted.c.points, posted.c.vetoes)
              .outerjoin(posted, joined)
              .where(or_(HolderYear.points != func.coalesce(posted.c.points, 0),
                         HolderYear.vetoes != func.coalesce(posted.c.vetoes, 0)))
              .order_by(HolderYear.id))
    problems = []
    for account_id, scheme_id, holder_id, y, points, vetoes, want_points, want_vetoes in (
            db.session.execute(differ)):
        problems.append(((account_id, scheme_id, holder_id), f"ranking points {y}",
                         (points, vetoes), (want_points or _points(0), int(want_vetoes or 0))))
    account = (select(Account.id).where(Account.scheme_id == posted.c.scheme_id,
                                        Account.holder_id == posted.c.holder_id).scalar_subquery())
    for account_id, scheme_id, holder_id, y, want_points, want_vetoes in db.session.execute(
            select(account, posted.c.scheme_id, posted.c.holder_id, posted.c.year, posted.c.points,
                   posted.c.vetoes).outerjoin(HolderYear, joined).where(HolderYear.id.is_(None))):
        problems.append(((account_id, scheme_id, holder_id), f"ranking points {int(y)}", None,
                         (want_points, int(want_vetoes or 0))))
    return problems


def _verify_holder_year_counts():
    """参与度's running figures must equal the posted entries of each year: how many, how many
    deductions, and the deductions' points."""
    from points.entries.models import Entry  # entries post through the ledger

    year = func.extract("year", Entry.occurred_on)
    tenths = type_coerce(Entry.points, BigInteger)
    posted = (select(Entry.scheme_id, Entry.holder_id, year.label("year"),
                     func.count().label("entries"),
                     func.sum(case((tenths < 0, 1), else_=0)).label("deductions"),
                     func.sum(case((tenths < 0, -tenths), else_=0)).label("deducted"))
              .where(Entry.status == "posted")
              .group_by(Entry.scheme_id, Entry.holder_id, year).subquery())
    columns = ("entries", "deductions", "deducted")
    stored = [type_coerce(getattr(HolderYear, c), BigInteger) for c in columns]
    account = (select(Account.id)
               .where(Account.scheme_id == HolderYear.scheme_id,
                      Account.holder_id == HolderYear.holder_id).scalar_subquery())
    differ = (select(account, HolderYear.scheme_id, HolderYear.holder_id, HolderYear.year, *stored,
                     *(posted.c[c] for c in columns))
              .outerjoin(posted, (posted.c.scheme_id == HolderYear.scheme_id)
                         & (posted.c.holder_id == HolderYear.holder_id)
                         & (posted.c.year == HolderYear.year))
              .where(or_(*(s != func.coalesce(posted.c[c], 0) for s, c in zip(stored, columns))))
              .order_by(HolderYear.id))
    problems = []
    for account_id, scheme_id, holder_id, y, *figures in db.session.execute(differ):
        have, want = ("{} ({} deductions, {} deducted)".format(int(e or 0), int(d or 0), _points(x))
                      for e, d, x in (figures[:3], figures[3:]))
        problems.append(((account_id, scheme_id, holder_id), f"posted entries {int(y)}", have,
                         want))
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
    whens = [(column < datetime(y + 1, 1, 1, tzinfo=zone).astimezone(timezone.utc),
              literal_column(str(y))) for y in range(first, last)]
    return case(*whens, else_=literal_column(str(last))) if whens else literal_column(str(last))


def _verify_year_totals(key):
    """本年获得 / 扣减 / 兑换 must equal the year's postings, summed in SQL as ledger.post adds them."""
    year = _local_year(Posting.at)
    if year is None:
        year = literal_column("0")
    tenths = type_coerce(Posting.points, BigInteger)
    rows = (select(Posting.account_id, year.label("year"), Posting.kind, tenths.label("p"))
            .where(Posting.kind.in_(("entry", "revoke", "redemption", "void"))).subquery())
    earning = (((rows.c.kind == "entry") & (rows.c.p > 0))
               | ((rows.c.kind == "revoke") & (rows.c.p < 0)))
    totals = (select(rows.c.account_id, rows.c.year,
                     func.sum(case((earning, rows.c.p), else_=0)).label("earned"),
                     func.sum(case((rows.c.kind.in_(("entry", "revoke")) & ~earning, -rows.c.p),
                                   else_=0)).label("deducted"),
                     func.sum(case((rows.c.kind.in_(("redemption", "void")), -rows.c.p), else_=0))
                     .label("redeemed"))
              .group_by(rows.c.account_id, rows.c.year).subquery())
    columns = ("earned", "deducted", "redeemed")
    stored = {c: type_coerce(getattr(AccountYear, c), BigInteger) for c in columns}
    joined = (totals.c.account_id == AccountYear.account_id) & (totals.c.year == AccountYear.year)
    differ = (select(*key, AccountYear.year, *stored.values(), *(totals.c[c] for c in columns))
              .select_from(AccountYear).join(Account, Account.id == AccountYear.account_id)
              .outerjoin(totals, joined)
              .where(or_(*(stored[c] != func.coalesce(totals.c[c], 0) for c in columns))))
    none = (literal_column("0").label(f"have_{c}") for c in columns)
    missing = (select(*key, totals.c.year, *none, *(totals.c[c] for c in columns))
               .select_from(totals).join(Account, Account.id == totals.c.account_id)
               .outerjoin(AccountYear, joined)
               .where(AccountYear.id.is_(None), or_(*(totals.c[c] != 0 for c in columns))))
    problems = []
    for query in (differ, missing):
        for a, s, h, y, *figures in db.session.execute(query):
            for column, have, want in zip(columns, figures[:3], figures[3:]):
                if int(have or 0) != int(want or 0):
                    problems.append(((a, s, h), f"{column} {int(y)}", _points(have), _points(want)))
    return problems


# --- hash chains -----------------------------------------------------------------------------

def verify_chains(progress=None):
    """Rehash every account's postings in id order; name the first posting of each account whose
    hash does not hold: it, or a row before it, was edited, inserted or deleted."""
    p = Posting.__table__
    query = (select(p.c.id, p.c.account_id, p.c.kind, type_coerce(p.c.points, BigInteger),
                    type_coerce(p.c.balance_after, BigInteger), p.c.ref, p.c.user_id, p.c.at,
                    p.c.hash)
             .order_by(p.c.account_id, p.c.id).execution_options(yield_per=STREAM))
    lines, current, previous, broken = [], None, GENESIS, False
    result = db.session.connection().execute(query)
    for batch in result.partitions():
        for posting_id, account_id, kind, points, balance_after, ref, user_id, at, stored in batch:
            if account_id != current:
                current, previous, broken = account_id, GENESIS, False
            elif broken:
                continue
            previous = posting_hash(previous, account_id, kind, points, balance_after, ref,
                                    user_id, at)
            if previous != stored:
                broken = True
                lines.append(f"posting {posting_id} (account {account_id}, {kind} {ref}): its hash "
                             "does not hold; it or a posting before it was edited, inserted or "
                             "deleted")
        if progress is not None:
            progress(len(batch))
    return lines


# --- statistics ------------------------------------------------------------------------------

STAT_COUNTS = ("recorded", "posted", "rejected", "revoked", "granted", "deducted")


def verify_entry_stats():
    """统计: every entry_stats row must equal the entries it counts, recomputed as
    points/reports/stats.py keeps them: per holder's unit and each unit above it, scheme,
    month of the deed and item. An entry counts as posted once it ever was (its events say
    so), and its points stay granted or deducted only while it is still posted."""
    from points.entries.models import Entry, EntryEvent
    from points.org.models import Holder, Unit
    from points.reports.models import EntryStat

    year, month = func.extract("year", Entry.occurred_on), func.extract("month", Entry.occurred_on)
    points = type_coerce(Entry.points, BigInteger)
    ever_posted = exists().where(EntryEvent.entry_id == Entry.id, EntryEvent.status == "posted")
    still_posted = Entry.status == "posted"
    per_unit = (select(Holder.unit_id, Entry.scheme_id, year.label("year"), month.label("month"),
                       Entry.item, func.count().label("recorded"),
                       func.sum(case((ever_posted, 1), else_=0)).label("posted"),
                       func.sum(case((Entry.status == "rejected", 1), else_=0)).label("rejected"),
                       func.sum(case((Entry.status == "revoked", 1), else_=0)).label("revoked"),
                       func.sum(case((still_posted & (points >= 0), points), else_=0))
                       .label("granted"),
                       func.sum(case((still_posted & (points < 0), -points), else_=0))
                       .label("deducted"))
                .join(Holder, Holder.id == Entry.holder_id)
                .group_by(Holder.unit_id, Entry.scheme_id, year, month, Entry.item).subquery())
    own, above = aliased(Unit), aliased(Unit)
    key = (per_unit.c.scheme_id, per_unit.c.year, per_unit.c.month, per_unit.c.item)
    expected = (select(above.id.label("unit_id"), *key,
                       *(func.sum(per_unit.c[c]).label(c) for c in STAT_COUNTS))
                .select_from(per_unit).join(own, own.id == per_unit.c.unit_id)
                .join(above, own.path.startswith(above.path))
                .group_by(above.id, *key)
                .subquery())
    stored = {c: type_coerce(getattr(EntryStat, c), BigInteger) for c in STAT_COUNTS}
    joined = ((expected.c.unit_id == EntryStat.unit_id)
              & (expected.c.scheme_id == EntryStat.scheme_id)
              & (expected.c.year == EntryStat.year) & (expected.c.month == EntryStat.month)
              & (expected.c.item == EntryStat.item))
    lines = []
    for row_id, unit_id, scheme_id, y, m, item, *figures in db.session.execute(
            select(EntryStat.id, EntryStat.unit_id, EntryStat.scheme_id, EntryStat.year,
                   EntryStat.month, EntryStat.item, *stored.values(),
                   *(expected.c[c] for c in STAT_COUNTS))
            .outerjoin(expected, joined)
            .where(or_(*(stored[c] != func.coalesce(expected.c[c], 0) for c in STAT_COUNTS)))
            .order_by(EntryStat.id)):
        lines.append(f"entry_stats {row_id} (unit {unit_id}, scheme {scheme_id}, "
                     f"{int(y)}-{int(m):02d}, item {item}): {_stat_differences(figures)}")
    for unit_id, scheme_id, y, m, item, *want in db.session.execute(
            select(expected).outerjoin(EntryStat, joined).where(EntryStat.id.is_(None))):
        lines.append(f"entry_stats (unit {unit_id}, scheme {scheme_id}, {int(y)}-{int(m):02d}, "
                     f"item {item}): no row, "
                     f"{_stat_differences([0] * len(STAT_COUNTS) + want)}")
    return lines


def _stat_differences(figures):
    have, want = figures[:len(STAT_COUNTS)], figures[len(STAT_COUNTS):]
    parts = []
    for column, h, w in zip(STAT_COUNTS, have, want):
        h, w = int(h or 0), int(w or 0)
        if h != w:
            if column in ("granted", "deducted"):
                h, w = _points(h), _points(w)
            parts.append(f"{column} is {h}, entries say {w}")
    return "; ".join(parts)
