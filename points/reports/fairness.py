"""人情分: who watches the scorers. Per recorder, how their positive points spread over the
holders of a unit in a year; per reviewer, how often they reject. The flags point a township
at the few people to look at before the village notices; thresholds are settings.

Counted over the entries of the unit's holders (the unit and every unit under it) whose deed
occurred in the year, in every state: favour shows in what is recorded, approved or not.
"""

from decimal import Decimal

from flask import current_app
from sqlalchemy import case, func, select

from points.database import reading
from points.entries.models import Approval, Entry
from points.extensions import db
from points.org.models import Holder, Unit
from points.org.service import unit_by_code
from points.reports.service import _require_admin
from points.users.models import User


def _in_unit_and_year(query, unit, year):
    return (
        query.join(Holder, Holder.id == Entry.holder_id)
        .join(Unit, Unit.id == Holder.unit_id)
        .where(Unit.path.startswith(unit.path), func.extract("year", Entry.occurred_on) == year)
    )


@reading()
def fairness(principal, unit_code, year):
    """{"recorders": [...], "reviewers": [...]}, flagged people first."""
    unit = unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    config = current_app.config
    return {
        "recorders": _recorders(
            unit, year, Decimal(str(config["FAIRNESS_TOP_SHARE"])), config["FAIRNESS_MIN_ENTRIES"]
        ),
        "reviewers": _reviewers(unit, year, config["FAIRNESS_MIN_REVIEWS"]),
    }


def _flagged_first(rows):
    def order(row):
        return not row["flags"], -row.get("entries", row.get("reviewed", 0)), row["username"]

    return sorted(rows, key=order)


def _recorders(unit, year, top_share, min_entries):
    """top_share: the largest share of the recorder's positive points that went to one holder;
    `top_holder` when it is over the setting across at least the setting's positive entries."""
    positive = case((Entry.points > 0, Entry.points), else_=0)
    per_holder = db.session.execute(
        _in_unit_and_year(
            select(
                Entry.recorded_by_id,
                Entry.holder_id,
                func.count(Entry.id),
                func.sum(case((Entry.points > 0, 1), else_=0)),
                func.sum(positive),
            ),
            unit,
            year,
        ).group_by(Entry.recorded_by_id, Entry.holder_id)
    ).all()
    people = {}
    for user_id, holder_id, entries, positive_entries, points in per_holder:
        points = Decimal(points or 0)
        person = people.setdefault(
            user_id,
            {
                "entries": 0,
                "positive": 0,
                "households": 0,
                "points": Decimal(0),
                "top": Decimal(0),
                "top_id": None,
            },
        )
        person["entries"] += entries
        person["positive"] += int(positive_entries or 0)
        person["households"] += 1
        person["points"] += points
        if person["top_id"] is None or points > person["top"]:
            person["top"], person["top_id"] = points, holder_id
    names = _usernames(people)
    holders = _holder_codes(p["top_id"] for p in people.values())
    rows = []
    for user_id, person in people.items():
        share = person["top"] / person["points"] if person["points"] else Decimal(0)
        flags = ["top_holder"] if share > top_share and person["positive"] >= min_entries else []
        rows.append(
            {
                "username": names[user_id],
                "entries": person["entries"],
                "households": person["households"],
                "points": person["points"].quantize(Decimal("0.1")),
                "top_share": share.quantize(Decimal("0.001")),
                "flags": flags,
                "top_holder": holders.get(person["top_id"]),
            }
        )  # for the page's link only
    return _flagged_first(rows)


def _reviewers(unit, year, min_reviews):
    """Approvals given and rejections made on the unit's entries of the year; `never_rejects`
    for a reviewer with at least the setting's reviews and no rejection."""
    approved = dict(
        db.session.execute(
            _in_unit_and_year(
                select(Approval.user_id, func.count(Approval.id)).join(
                    Entry, Entry.id == Approval.entry_id
                ),
                unit,
                year,
            ).group_by(Approval.user_id)
        ).all()
    )
    rejected = dict(
        db.session.execute(
            _in_unit_and_year(select(Entry.reviewed_by_id, func.count(Entry.id)), unit, year)
            .where(Entry.status == "rejected", Entry.reviewed_by_id.is_not(None))
            .group_by(Entry.reviewed_by_id)
        ).all()
    )
    people = set(approved) | set(rejected)
    names = _usernames(people)
    rows = []
    for user_id in people:
        yes, no = approved.get(user_id, 0), rejected.get(user_id, 0)
        flags = ["never_rejects"] if yes + no >= min_reviews and no == 0 else []
        rows.append(
            {
                "username": names[user_id],
                "reviewed": yes + no,
                "approved": yes,
                "rejected": no,
                "flags": flags,
            }
        )
    return _flagged_first(rows)


def _holder_codes(holder_ids):
    ids = [i for i in holder_ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(select(Holder.id, Holder.code).where(Holder.id.in_(ids))).all())


def _usernames(user_ids):
    if not user_ids:
        return {}
    query = select(User.id, User.username).where(User.id.in_(list(user_ids)))
    return dict(db.session.execute(query).all())
