"""Rankings read from the running per-year figures; the year-end close posts through the ledger."""

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from points.database import (
    as_points,
    aware,
    end_read,
    for_update,
    local_date,
    local_tz,
    lock_key,
    offset_of,
    reading,
    today,
    write,
)
from points.entries.models import OPEN_STATES, Entry
from points.errors import PointsError, forbidden, invalid, invalid_state
from points.extensions import db
from points.ledger import service as ledger
from points.ledger.models import Account, HolderYear, Posting
from points.org.models import Holder, Unit
from points.org.service import in_scope, unit_by_code
from points.reports.models import EntryStat, Period
from points.reports.schemas import period_errors
from points.schemes.models import Scheme
from points.rules.model import period_window
from points.schemes.service import rules_of, scheme_by_code


def _require_admin(principal, unit):
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以查看报表")


def ranking_query(scheme, unit, year):
    """Every holder of the unit that the scheme's subject allows, with the year's net posted
    points (0 when none), ranked with ties sharing a rank (1, 1, 3)."""
    return _ranked(
        scheme,
        unit,
        HolderYear,
        HolderYear.points,
        (HolderYear.holder_id == Holder.id)
        & (HolderYear.scheme_id == scheme.id)
        & (HolderYear.year == year),
    )


def period_ranking_query(scheme, unit, first, last):
    """The ranking of a half, quarter or month (月考, 季考, 半年考): the net points of `posted`
    entries that occurred in it, summed from the entries (the running figures are per year)."""
    posted = (
        select(Entry.holder_id, func.sum(Entry.points).label("points"))
        .where(
            Entry.scheme_id == scheme.id,
            Entry.status == "posted",
            Entry.occurred_on.between(first, last),
        )
        .group_by(Entry.holder_id)
        .subquery()
    )
    return _ranked(scheme, unit, posted, posted.c.points, posted.c.holder_id == Holder.id)


def _ranked(scheme, unit, figures, figure, joined):
    """The unit's holders of the scheme's subject, each with `figure` of `figures` (outer
    joined on `joined`; 0 when none), ranked with ties sharing a rank (1, 1, 3)."""
    points = func.coalesce(figure, 0)
    return (
        select(
            func.rank().over(order_by=points.desc()).label("rank"),
            Holder.code,
            Holder.name,
            points.label("points"),
        )
        .join(Unit, Holder.unit_id == Unit.id)
        .outerjoin(figures, joined)
        .where(Holder.kind == scheme.subject, Unit.path.startswith(unit.path))
        .order_by(points.desc(), Holder.code)
    )


def _window(period):
    """The first and last day and the kind of a period the reports take (the API's check,
    points.reports.schemas.check_period); 422 naming `period` otherwise."""
    errors = period_errors(period)
    if errors:
        raise invalid(errors)
    return period_window(period)


@reading()
def ranking(principal, scheme_code, unit_code, year, page=None, per_page=None, period=None):
    """{"items": [{rank, holder, name, points, stars}], "total"}, one page or all rows.

    `period` ("2026-H1", "2026-Q3", "2026-07" or "2026") replaces `year` when given; stars
    are a year's (星级文明户), so a shorter period's rows have none."""
    scheme, unit = scheme_by_code(scheme_code, "scheme"), unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    rules = rules_of(scheme.current_version_id)
    first, last, kind = _window(period) if period else (None, None, "year")
    year = first.year if first else year
    if kind == "year":
        query = ranking_query(scheme, unit, year)
    else:
        query = period_ranking_query(scheme, unit, first, last)
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = []
    if page is None:
        rows = db.session.execute(query)
    elif (offset := offset_of(page, per_page, total)) is not None:
        rows = db.session.execute(query.limit(per_page).offset(offset))
    items = [
        {
            "rank": rank,
            "holder": code,
            "name": name,
            "points": as_points(points),
            "stars": rules.stars_for(as_points(points)) if kind == "year" else 0,
        }
        for rank, code, name, points in rows
    ]
    _veto_takes_stars(scheme, year, items)
    _add_grades(rules, items, grade_scale(rules, kind))
    return {
        "scheme": scheme,
        "unit": unit,
        "year": year,
        "items": items,
        "total": total,
        "period": period if kind != "year" else str(year),
    }


def _veto_takes_stars(scheme, year, items):
    """一票否决: a holder with a veto item posted in the year has no stars that year."""
    codes = [item["holder"] for item in items if item["stars"]]
    if not codes:
        return
    vetoed = set(
        db.session.execute(
            select(Holder.code)
            .join(HolderYear, HolderYear.holder_id == Holder.id)
            .where(
                HolderYear.scheme_id == scheme.id,
                HolderYear.year == year,
                HolderYear.vetoes > 0,
                Holder.code.in_(codes),
            )
        ).scalars()
    )
    for item in items:
        if item["holder"] in vetoed:
            item["stars"] = 0


MONTHS_OF = {"year": 12, "half": 6, "quarter": 3, "month": 1}


def grade_scale(rules, kind):
    """How many of the scheme's own periods a report's period holds: a grade table is written
    for one period of the scheme (Linxia's `period: month`: a month's points), so a quarter
    compares its points with the bounds × 3, a half × 6, a year × 12. A period no longer than
    the scheme's own (Pingquan's year, or any shorter part of it) reads the bounds as written."""
    return max(1, MONTHS_OF[kind] // MONTHS_OF[rules.period])


def grade_bounds(rules, scale=1):
    """The grade table for a period holding `scale` of the scheme's periods, highest min first."""
    return [{"grade": row.grade, "min": row.min * scale} for row in rules.grades]


def _add_grades(rules, items, scale=1):
    """评档定级: each row's grade by its points, when the scheme has a grade table (bounds
    scaled to the period, `grade_scale`); None below every row."""
    if rules.grades:
        bounds = grade_bounds(rules, scale)
        for item in items:
            item["grade"] = next(
                (row["grade"] for row in bounds if item["points"] >= row["min"]), None
            )


@reading()
def grades(principal, scheme_code, unit_code, period=None):
    """评档定级: how many holders of the unit fall in each grade of the period (`YYYY`, the
    default this year, `YYYY-H1`, `YYYY-Q3` or `YYYY-MM`), by the net points posted in it, and
    each one's grade, from the same ranking (every holder of the unit, ties sharing a rank).
    `bounds` are the table scaled to the period (`grade_scale`), `scale` the factor."""
    period = period or str(today().year)
    report = ranking(principal, scheme_code, unit_code, None, period=period)
    rules = rules_of(report["scheme"].current_version_id)
    if not rules.grades:
        raise invalid({"scheme": ["this scheme has no grades"]})
    scale = grade_scale(rules, period_window(period)[2])
    counts = {row.grade: 0 for row in rules.grades}
    for item in report["items"]:
        if item["grade"] is not None:
            counts[item["grade"]] += 1
    return dict(
        report,
        counts=counts,
        bounds=grade_bounds(rules, scale),
        scale=scale,
    )


# --- year-end close ------------------------------------------------------------------------


def _award_units(per):
    """Units of the award kind ('village', 'branch', ...) by id."""
    return {u.id: u for u in db.session.execute(select(Unit).where(Unit.kind == per)).scalars()}


def awards_for(scheme, rules, year):
    """Top N per unit by the year's points, ties at the last place all awarded, holders with
    a veto item that year left out, and only holders who earned points."""
    award = rules.year_end.awards
    if not award:
        return []
    units = _award_units(award["per"])
    rows = db.session.execute(
        select(Holder.code, Holder.name, Unit.path, HolderYear.points)
        .join(Holder, HolderYear.holder_id == Holder.id)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(
            HolderYear.scheme_id == scheme.id,
            HolderYear.year == year,
            HolderYear.vetoes == 0,
            HolderYear.points > 0,
        )
        .order_by(HolderYear.points.desc(), Holder.code)
    ).all()
    by_unit = {}
    for code, name, path, points in rows:
        unit_id = next(
            (int(i) for i in reversed(path.strip("/").split("/")) if int(i) in units), None
        )
        if unit_id is not None:
            by_unit.setdefault(unit_id, []).append((code, name, points))
    awards = []
    for unit_id, holders in by_unit.items():
        rank, previous = 0, None
        for position, (code, name, points) in enumerate(holders, start=1):
            if points != previous:
                rank, previous = position, points
            if rank > award["top"]:
                break
            awards.append(
                {
                    "holder": code,
                    "name": name,
                    "unit": units[unit_id].code,
                    "points": points,
                    "rank": rank,
                }
            )
    return sorted(awards, key=lambda a: (a["unit"], a["rank"], a["holder"]))


def _kept(carry, balance):
    """What of a balance moves into the next year (结转); a debt always stays."""
    if carry == "all" or balance <= 0:
        return balance
    if carry == "none":
        return Decimal(0)
    return min(balance, Decimal(carry["max"]))


def _year_end_balances(scheme, year):
    """Each account's balance when the year ended (local time): points earned since are not
    the closed year's to expire."""
    end = datetime(year + 1, 1, 1, tzinfo=local_tz())
    last = (
        select(func.max(Posting.id))
        .join(Account, Posting.account_id == Account.id)
        .where(Account.scheme_id == scheme.id, Posting.at < end)
        .group_by(Posting.account_id)
    )
    return dict(
        db.session.execute(
            select(Posting.account_id, Posting.balance_after).where(Posting.id.in_(last))
        ).all()
    )


def _to_expire(carry, year_end_balance, balance_now):
    """清零: what of the year-end balance does not carry, never more than is there now."""
    return max(Decimal(0), min(year_end_balance - _kept(carry, year_end_balance), balance_now))


def _open_entries(scheme, year):
    """How many of the year's entries are still in review, notice or dispute."""
    return db.session.execute(
        select(func.count(Entry.id)).where(
            Entry.scheme_id == scheme.id,
            Entry.status.in_(OPEN_STATES),
            Entry.occurred_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
    ).scalar_one()


def _refuse_unfinished(year):
    if date(year, 12, 31) > today():
        raise invalid_state(f"{year} 年度尚未结束，最早在 {year} 年 12 月 31 日结算")


def _holders_outside(principal, scheme):
    """How many holders of the scheme's subject lie outside the caller's admin grants (every
    holder, with an account or not yet: a village admin cannot close a county's year)."""
    return db.session.execute(
        select(func.count(Holder.id))
        .join(Unit, Holder.unit_id == Unit.id)
        .where(Holder.kind == scheme.subject, ~in_scope(Unit.path, principal.paths("admin")))
    ).scalar_one()


def _check_admin_of_scheme(principal, scheme):
    """Closing a year touches every account of the scheme: the caller must administer them all."""
    if not principal.paths("admin") or _holders_outside(principal, scheme):
        raise forbidden("只有管辖该方案全部单位的管理员可以进行年度结算")


def close_year(principal, scheme_code, year):
    """年度结算: awards, then an expiry and a carry posting for every account, in one
    transaction."""
    scheme = scheme_by_code(scheme_code, "scheme")
    _check_admin_of_scheme(principal, scheme)
    rules = rules_of(scheme.current_version_id)
    ref = f"period:{scheme.code}:{year}"
    _refuse_unfinished(year)
    end_read()
    with write():
        lock_key(f"period:{scheme.id}:{year}")
        if db.session.execute(
            select(Period.id).where(Period.scheme_id == scheme.id, Period.year == year)
        ).first():
            raise invalid_state(f"{year} 年度已经结算过了")
        still_open = _open_entries(scheme, year)
        if still_open:
            raise invalid_state(
                f"还有 {still_open} 条 {year} 年的积分记录未审核或在公示中", {"open": still_open}
            )
        awards = awards_for(scheme, rules, year)
        expired = carried = Decimal(0)
        accounts = (
            db.session.execute(
                for_update(
                    select(Account).where(Account.scheme_id == scheme.id).order_by(Account.id),
                    of=Account,
                ).execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
        year_end = _year_end_balances(scheme, year)
        for account in accounts:
            expire = _to_expire(
                rules.year_end.carry, year_end.get(account.id, Decimal(0)), account.balance
            )
            ledger.post(account, "expiry", -expire, ref, principal.user_id)
            ledger.post(account, "carry", Decimal(0), ref, principal.user_id)
            expired += expire
            carried += account.balance
        period = Period(
            scheme_id=scheme.id,
            year=year,
            closed_by_id=principal.user_id,
            awards=json.dumps(awards, ensure_ascii=False, default=str),
            expired=as_points(expired),
            carried=as_points(carried),
        )
        db.session.add(period)
    return period_view(scheme, period)


def period_view(scheme, period):
    awards = json.loads(period.awards)
    return {
        "scheme": scheme.code,
        "year": period.year,
        "awards": [a["holder"] for a in awards],
        "award_details": awards,
        "expired": period.expired,
        "carried": period.carried,
        "closed_at": aware(period.closed_at),
    }


def get_period(principal, scheme_code, year):
    """A closed year: its totals, and the awards of holders within the caller's units only."""
    scheme = scheme_by_code(scheme_code)
    if not principal.paths("admin"):
        raise forbidden()
    period = db.session.execute(
        select(Period).where(Period.scheme_id == scheme.id, Period.year == year)
    ).scalar_one_or_none()
    if period is None:
        raise PointsError("not_found", f"{year} 年度尚未结算", 404)
    view = period_view(scheme, period)
    codes = [award["holder"] for award in view["award_details"]]
    visible = set(
        db.session.execute(
            select(Holder.code)
            .join(Unit, Holder.unit_id == Unit.id)
            .where(Holder.code.in_(codes), in_scope(Unit.path, principal.paths("admin")))
        ).scalars()
    )
    view["award_details"] = [award for award in view["award_details"] if award["holder"] in visible]
    view["awards"] = [award["holder"] for award in view["award_details"]]
    return view


# --- statistics ----------------------------------------------------------------------------


@reading()
def statistics(principal, unit_code, year, scheme_code=None):
    """统计: a unit's year month by month (the running entry counts), its shops' redemptions."""
    unit = unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    scheme = scheme_by_code(scheme_code, "scheme") if scheme_code else None
    figures = ("recorded", "posted", "rejected", "revoked", "granted", "deducted")
    query = (
        select(
            EntryStat.month,
            EntryStat.scheme_id,
            EntryStat.category,
            EntryStat.item,
            *(func.sum(getattr(EntryStat, f)).label(f) for f in figures),
        )
        .where(EntryStat.year == year, EntryStat.unit_id == unit.id)
        .group_by(EntryStat.month, EntryStat.scheme_id, EntryStat.category, EntryStat.item)
    )
    if scheme is not None:
        query = query.where(EntryStat.scheme_id == scheme.id)
    months = {
        m: dict(
            month=m,
            recorded=0,
            posted=0,
            rejected=0,
            revoked=0,
            granted=Decimal(0),
            deducted=Decimal(0),
            redemptions=0,
            spent=Decimal(0),
        )
        for m in range(1, 13)
    }
    categories, items = {}, {}
    for row in db.session.execute(query):
        month = months[row.month]
        for field in figures:
            month[field] += getattr(row, field)
        heading = categories.setdefault(
            (row.scheme_id, row.category), {"granted": Decimal(0), "deducted": Decimal(0)}
        )
        heading["granted"] += row.granted
        heading["deducted"] += row.deducted
        item = items.setdefault((row.scheme_id, row.item), {"count": 0, "points": Decimal(0)})
        item["count"] += row.posted
        item["points"] += row.granted - row.deducted
    shops = _redemptions_by_shop(unit, year, months, scheme)
    names = _names(categories, items)
    return {
        "unit": unit.code,
        "unit_name": unit.name,
        "year": year,
        "months": [_pointed(m) for m in months.values()],
        "categories": [
            {
                "scheme": names["schemes"][s],
                "category": c,
                "name": names["categories"].get((s, c), c),
                **_pointed(v),
            }
            for (s, c), v in sorted(categories.items())
        ],
        "shops": shops,
        "top_items": sorted(
            (
                {
                    "scheme": names["schemes"][s],
                    "item": i,
                    "name": names["items"].get((s, i), i),
                    **_pointed(v),
                }
                for (s, i), v in items.items()
                if v["count"]
            ),
            key=lambda row: (-row["count"], row["item"]),
        )[:10],
    }


def _pointed(figures):
    return {k: as_points(v) if isinstance(v, Decimal) else v for k, v in figures.items()}


def _names(categories, items):
    """Scheme codes and the Chinese names of headings and items, from each scheme's rules."""
    scheme_ids = {s for s, _ in categories} | {s for s, _ in items}
    schemes = {
        s.id: s
        for s in db.session.execute(select(Scheme).where(Scheme.id.in_(scheme_ids))).scalars()
    }
    names = {"schemes": {i: s.code for i, s in schemes.items()}, "categories": {}, "items": {}}
    for scheme_id, scheme in schemes.items():
        rules = rules_of(scheme.current_version_id)
        for category in rules.categories:
            names["categories"][(scheme_id, category.code)] = category.name
            for item in category.items:
                names["items"][(scheme_id, item.code)] = item.name
    return names


def _redemptions_by_shop(unit, year, months, scheme):
    from points.shop.models import Redemption, Shop  # the shop builds on the ledger, not on reports

    start = datetime(year, 1, 1, tzinfo=local_tz())
    end = datetime(year + 1, 1, 1, tzinfo=local_tz())
    query = (
        select(Shop.code, Shop.name, Redemption.at, Redemption.total)
        .join(Shop, Redemption.shop_id == Shop.id)
        .join(Unit, Shop.unit_id == Unit.id)
        .where(
            Redemption.status == "completed",
            Redemption.at >= start,
            Redemption.at < end,
            Unit.path.startswith(unit.path),
        )
    )
    if scheme is not None:
        query = query.where(Redemption.scheme_id == scheme.id)
    shops = {}
    for code, name, at, total in db.session.execute(query):
        month = months[local_date(at).month]
        month["redemptions"] += 1
        month["spent"] += total
        shop = shops.setdefault(
            code, {"shop": code, "name": name, "redemptions": 0, "spent": Decimal(0)}
        )
        shop["redemptions"] += 1
        shop["spent"] += total
    return [_pointed(s) for s in sorted(shops.values(), key=lambda s: s["shop"])]


def close_preview_if_any(principal, scheme_code, year):
    """The preview beside a refused close, or None where there is none to show."""
    try:
        return close_preview(principal, scheme_code, year)
    except PointsError:
        return None


def close_preview(principal, scheme_code, year, limit=500):
    """What closing the year would do, done nowhere: the awards, what each account would lose
    (清零) and carry (结转), the entries of that year still open, and whether it is closed."""
    scheme = scheme_by_code(scheme_code, "scheme")
    if not principal.paths("admin"):
        raise forbidden()
    outside = _holders_outside(principal, scheme)
    if outside:  # the page says who may close, and shows nothing of units beyond the caller's
        return {"scheme": scheme, "year": year, "allowed": False, "outside": outside}
    rules = rules_of(scheme.current_version_id)
    closed = (
        db.session.execute(
            select(Period.id).where(Period.scheme_id == scheme.id, Period.year == year)
        ).first()
        is not None
    )
    still_open = _open_entries(scheme, year)
    rows = db.session.execute(
        select(Account.id, Holder.code, Holder.name, Account.balance)
        .join(Holder, Account.holder_id == Holder.id)
        .where(Account.scheme_id == scheme.id)
        .order_by(Holder.code)
    ).all()
    year_end = _year_end_balances(scheme, year)
    expired = carried = Decimal(0)
    losing = []
    for account_id, code, name, balance in rows:
        expire = _to_expire(rules.year_end.carry, year_end.get(account_id, Decimal(0)), balance)
        keep = balance - expire
        expired += expire
        carried += keep
        if expire and len(losing) < limit:
            losing.append(
                {
                    "holder": code,
                    "name": name,
                    "balance": balance,
                    "expired": expire,
                    "carried": keep,
                }
            )
    return {
        "scheme": scheme,
        "year": year,
        "allowed": True,
        "closed": closed,
        "open": still_open,
        "awards": awards_for(scheme, rules, year),
        "accounts": losing,
        "count": len(rows),
        "expired": as_points(expired),
        "carried": as_points(carried),
        "carry": rules.year_end.carry,
    }
