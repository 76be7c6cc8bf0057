"""The entries' part of `ledger verify` (composed in points/verify.py): the account figures
that entries move and the statistics counts they keep, recomputed from the entries themselves."""

from sqlalchemy import BigInteger, Integer, case, cast, exists, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from points.database import as_points
from points.entries.models import OPEN_STATES, Entry, EntryEvent, EntryStat
from points.extensions import db
from points.ledger.checks import tenths_to_points
from points.ledger.models import Account, HolderYear
from points.org.models import Holder, Unit


def verify_accounts():
    """[((account, scheme, holder), what, recorded, recomputed)] for 待入账 and rankings' year
    points that disagree with the entries."""
    key = (Account.id, Account.scheme_id, Account.holder_id)
    return _verify_pending(key) + _verify_holder_years() + _verify_holder_year_counts()


def _verify_pending(key):
    """待入账 must equal the points of the holder's entries still in review, notice or dispute."""
    open_points = (
        select(Entry.scheme_id, Entry.holder_id, func.sum(Entry.points).label("total"))
        .where(Entry.status.in_(OPEN_STATES))
        .group_by(Entry.scheme_id, Entry.holder_id)
        .subquery()
    )
    rows = db.session.execute(
        select(*key, Account.pending, open_points.c.total)
        .outerjoin(
            open_points,
            (open_points.c.scheme_id == Account.scheme_id)
            & (open_points.c.holder_id == Account.holder_id),
        )
        .where(Account.pending != func.coalesce(open_points.c.total, 0))
        .order_by(Account.id)
    )
    return [
        (tuple(account), "pending", have, want or as_points(0)) for *account, have, want in rows
    ]


def _verify_holder_years():
    """Rankings' running figures must equal the posted entries of each year they occurred in."""
    year = func.extract("year", Entry.occurred_on)
    posted = (
        select(
            Entry.scheme_id,
            Entry.holder_id,
            year.label("year"),
            func.sum(Entry.points).label("points"),
            func.sum(cast(Entry.veto, Integer)).label("vetoes"),
        )
        .where(Entry.status == "posted")
        .group_by(Entry.scheme_id, Entry.holder_id, year)
        .subquery()
    )
    joined = (
        (posted.c.scheme_id == HolderYear.scheme_id)
        & (posted.c.holder_id == HolderYear.holder_id)
        & (posted.c.year == HolderYear.year)
    )
    account = (
        select(Account.id)
        .where(Account.scheme_id == HolderYear.scheme_id, Account.holder_id == HolderYear.holder_id)
        .scalar_subquery()
    )
    differ = (
        select(
            account,
            HolderYear.scheme_id,
            HolderYear.holder_id,
            HolderYear.year,
            HolderYear.points,
            HolderYear.vetoes,
            posted.c.points,
            posted.c.vetoes,
        )
        .outerjoin(posted, joined)
        .where(
            or_(
                HolderYear.points != func.coalesce(posted.c.points, 0),
                HolderYear.vetoes != func.coalesce(posted.c.vetoes, 0),
            )
        )
        .order_by(HolderYear.id)
    )
    problems = []
    for (
        account_id,
        scheme_id,
        holder_id,
        y,
        points,
        vetoes,
        want_points,
        want_vetoes,
    ) in db.session.execute(differ):
        problems.append(
            (
                (account_id, scheme_id, holder_id),
                f"ranking points {y}",
                (points, vetoes),
                (want_points or as_points(0), int(want_vetoes or 0)),
            )
        )
    account = (
        select(Account.id)
        .where(Account.scheme_id == posted.c.scheme_id, Account.holder_id == posted.c.holder_id)
        .scalar_subquery()
    )
    for account_id, scheme_id, holder_id, y, want_points, want_vetoes in db.session.execute(
        select(
            account,
            posted.c.scheme_id,
            posted.c.holder_id,
            posted.c.year,
            posted.c.points,
            posted.c.vetoes,
        )
        .outerjoin(HolderYear, joined)
        .where(HolderYear.id.is_(None))
    ):
        problems.append(
            (
                (account_id, scheme_id, holder_id),
                f"ranking points {int(y)}",
                None,
                (want_points, int(want_vetoes or 0)),
            )
        )
    return problems


# --- statistics ------------------------------------------------------------------------------

STAT_COUNTS = ("recorded", "posted", "rejected", "revoked", "granted", "deducted")


def _verify_holder_year_counts():
    """参与度's running figures must equal the posted entries of each year: how many, how many
    deductions, and the deductions' points."""
    year = func.extract("year", Entry.occurred_on)
    tenths = type_coerce(Entry.points, BigInteger)
    posted = (
        select(
            Entry.scheme_id,
            Entry.holder_id,
            year.label("year"),
            func.count().label("entries"),
            func.sum(case((tenths < 0, 1), else_=0)).label("deductions"),
            func.sum(case((tenths < 0, -tenths), else_=0)).label("deducted"),
        )
        .where(Entry.status == "posted")
        .group_by(Entry.scheme_id, Entry.holder_id, year)
        .subquery()
    )
    columns = ("entries", "deductions", "deducted")
    stored = [type_coerce(getattr(HolderYear, c), BigInteger) for c in columns]
    account = (
        select(Account.id)
        .where(Account.scheme_id == HolderYear.scheme_id, Account.holder_id == HolderYear.holder_id)
        .scalar_subquery()
    )
    differ = (
        select(
            account,
            HolderYear.scheme_id,
            HolderYear.holder_id,
            HolderYear.year,
            *stored,
            *(posted.c[c] for c in columns),
        )
        .outerjoin(
            posted,
            (posted.c.scheme_id == HolderYear.scheme_id)
            & (posted.c.holder_id == HolderYear.holder_id)
            & (posted.c.year == HolderYear.year),
        )
        .where(or_(*(s != func.coalesce(posted.c[c], 0) for s, c in zip(stored, columns))))
        .order_by(HolderYear.id)
    )
    problems = []
    for account_id, scheme_id, holder_id, y, *figures in db.session.execute(differ):
        have, want = (
            "{} ({} deductions, {} deducted)".format(int(e or 0), int(d or 0), tenths_to_points(x))
            for e, d, x in (figures[:3], figures[3:])
        )
        problems.append(
            ((account_id, scheme_id, holder_id), f"posted entries {int(y)}", have, want)
        )
    return problems


def verify_entry_stats():
    """统计: every entry_stats row must equal the entries it counts, recomputed as
    points/entries/stats.py keeps them: per holder's unit and each unit above it, scheme,
    month of the deed and item. An entry counts as posted once it ever was (its events say
    so), and its points stay granted or deducted only while it is still posted."""
    year, month = func.extract("year", Entry.occurred_on), func.extract("month", Entry.occurred_on)
    points = type_coerce(Entry.points, BigInteger)
    ever_posted = exists().where(EntryEvent.entry_id == Entry.id, EntryEvent.status == "posted")
    still_posted = Entry.status == "posted"
    per_unit = (
        select(
            Holder.unit_id,
            Entry.scheme_id,
            year.label("year"),
            month.label("month"),
            Entry.item,
            func.count().label("recorded"),
            func.sum(case((ever_posted, 1), else_=0)).label("posted"),
            func.sum(case((Entry.status == "rejected", 1), else_=0)).label("rejected"),
            func.sum(case((Entry.status == "revoked", 1), else_=0)).label("revoked"),
            func.sum(case((still_posted & (points >= 0), points), else_=0)).label("granted"),
            func.sum(case((still_posted & (points < 0), -points), else_=0)).label("deducted"),
        )
        .join(Holder, Holder.id == Entry.holder_id)
        .group_by(Holder.unit_id, Entry.scheme_id, year, month, Entry.item)
        .subquery()
    )
    own, above = aliased(Unit), aliased(Unit)
    key = (per_unit.c.scheme_id, per_unit.c.year, per_unit.c.month, per_unit.c.item)
    expected = (
        select(
            above.id.label("unit_id"),
            *key,
            *(func.sum(per_unit.c[c]).label(c) for c in STAT_COUNTS),
        )
        .select_from(per_unit)
        .join(own, own.id == per_unit.c.unit_id)
        .join(above, own.path.startswith(above.path))
        .group_by(above.id, *key)
        .subquery()
    )
    stored = {c: type_coerce(getattr(EntryStat, c), BigInteger) for c in STAT_COUNTS}
    joined = (
        (expected.c.unit_id == EntryStat.unit_id)
        & (expected.c.scheme_id == EntryStat.scheme_id)
        & (expected.c.year == EntryStat.year)
        & (expected.c.month == EntryStat.month)
        & (expected.c.item == EntryStat.item)
    )
    lines = []
    for row_id, unit_id, scheme_id, y, m, item, *figures in db.session.execute(
        select(
            EntryStat.id,
            EntryStat.unit_id,
            EntryStat.scheme_id,
            EntryStat.year,
            EntryStat.month,
            EntryStat.item,
            *stored.values(),
            *(expected.c[c] for c in STAT_COUNTS),
        )
        .outerjoin(expected, joined)
        .where(or_(*(stored[c] != func.coalesce(expected.c[c], 0) for c in STAT_COUNTS)))
        .order_by(EntryStat.id)
    ):
        lines.append(
            f"entry_stats {row_id} (unit {unit_id}, scheme {scheme_id}, "
            f"{int(y)}-{int(m):02d}, item {item}): {_stat_differences(figures)}"
        )
    for unit_id, scheme_id, y, m, item, *want in db.session.execute(
        select(expected).outerjoin(EntryStat, joined).where(EntryStat.id.is_(None))
    ):
        lines.append(
            f"entry_stats (unit {unit_id}, scheme {scheme_id}, {int(y)}-{int(m):02d}, "
            f"item {item}): no row, "
            f"{_stat_differences([0] * len(STAT_COUNTS) + want)}"
        )
    return lines


def _stat_differences(figures):
    have, want = figures[: len(STAT_COUNTS)], figures[len(STAT_COUNTS) :]
    parts = []
    for column, h, w in zip(STAT_COUNTS, have, want):
        h, w = int(h or 0), int(w or 0)
        if h != w:
            if column in ("granted", "deducted"):
                h, w = tenths_to_points(h), tenths_to_points(w)
            parts.append(f"{column} is {h}, entries say {w}")
    return "; ".join(parts)
