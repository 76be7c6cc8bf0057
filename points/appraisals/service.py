"""民主测评 and 平台统计: rounds opened and closed by an admin, ballots cast by residents with
code + PIN, and at the close each grid worker's result (and the platform items counted from
the service's own records of their work) recorded as pending entries, reviewed like any other.

Lock order, as in entries: the round first, then entries and accounts (through add_entry).
"""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from points.appraisals.models import AppraisalRound, AppraisalTally, AppraisalVoter
from points.claims.models import Claim
from points.database import (
    end_read,
    aware,
    for_update,
    insert_ignore,
    local_tz,
    today,
    utcnow,
    write,
)
from points.entries.models import Entry
from points.entries.service import add_entry, cap_left
from points.errors import PointsError, forbidden, invalid, invalid_state, not_found
from points.extensions import db
from points.org.models import Holder, Unit, in_scope
from points.org.service import holder_by_code, unit_by_code, units_within
from points.rules.model import CLAIM_DAYS, period_window, platform_points
from points.schemes.service import all_schemes, rules_of, scheme_by_code
from points.users.models import UserLink
from points.users.service import refuse_conflict


RATER_WORDS = {
    "household": "本次测评由网格内农户参加",
    "member": "本次测评由党员参加",
    "both": "本次测评由农户和党员参加",
}


def _round(round_id, field=None):
    found = db.session.get(AppraisalRound, round_id) if isinstance(round_id, int) else None
    if found is None:
        raise invalid({field: ["unknown round"]}) if field else not_found("round")
    return found


def _locked_open(appraisal_round):
    """The round locked for the write (the first lock, as in entries); 409 once it is closed."""
    locked = db.session.execute(
        for_update(
            select(AppraisalRound).where(AppraisalRound.id == appraisal_round.id),
            of=AppraisalRound,
        ).execution_options(populate_existing=True)
    ).scalar_one()
    if locked.status != "open":
        raise invalid_state("本轮测评已结束")
    return locked


def _require_admin(principal, unit):
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以组织民主测评")


def subjects_query(appraisal_round):
    """The grid workers a round assesses: the scheme's subjects within its unit."""
    return (
        select(Holder)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(
            Holder.kind == appraisal_round.scheme.subject,
            Unit.path.startswith(appraisal_round.unit.path),
        )
        .order_by(Holder.code)
    )


# --- opening and reading -------------------------------------------------------------------


def open_round(principal, scheme_code, period, unit_code):
    """测评轮次: 201 the new round; one per scheme, period and unit."""
    scheme = scheme_by_code(scheme_code, "scheme")
    rules = rules_of(scheme.current_version_id)
    unit = unit_by_code(unit_code, "unit")
    _require_admin(principal, unit)
    if rules.appraisal is None:
        raise invalid({"scheme": ["this scheme has no democratic appraisal"]})
    first, _, _ = period_window(period)
    if first > today():
        raise invalid({"round": [f"the period has not begun (it begins on {first.isoformat()})"]})
    end_read()
    with write():
        taken = db.session.execute(
            select(AppraisalRound.id).where(
                AppraisalRound.scheme_id == scheme.id,
                AppraisalRound.period == period,
                AppraisalRound.unit_id == unit.id,
            )
        ).first()
        if taken is not None:
            raise PointsError(
                "conflict", f"{unit.name} {period} 的测评轮次已存在", 409, {"id": taken[0]}
            )
        appraisal_round = AppraisalRound(
            scheme_id=scheme.id,
            scheme_version_id=scheme.current_version_id,
            period=period,
            unit_id=unit.id,
            status="open",
            opened_by_id=principal.user_id,
            opened_at=utcnow(),
        )
        db.session.add(appraisal_round)
    return appraisal_round


def get_round(principal, round_id):
    appraisal_round = _round(round_id)
    _require_admin(principal, appraisal_round.unit)
    return appraisal_round


def rounds_query(principal, scheme=None, unit=None, status=None):
    query = (
        select(AppraisalRound)
        .join(Unit, AppraisalRound.unit_id == Unit.id)
        .where(in_scope(Unit.path, principal.paths("admin")))
        .order_by(AppraisalRound.id.desc())
    )
    if scheme:
        query = query.where(AppraisalRound.scheme_id == scheme_by_code(scheme, "scheme").id)
    if unit:
        query = query.where(Unit.path.startswith(unit_by_code(unit, "unit").path))
    if status:
        query = query.where(AppraisalRound.status == status)
    return query


def rounds_page(principal, limit):
    """The /admin/appraisals page: the schemes with an appraisal, the caller's admin units and
    their latest rounds, each with its results."""
    rounds = db.session.execute(rounds_query(principal).limit(limit)).scalars().all()
    return {
        "schemes": [
            s for s in all_schemes() if rules_of(s.current_version_id).appraisal is not None
        ],
        "units": units_within(principal, "admin"),
        "rounds": [(r, results(r)) for r in rounds],
    }


def public_rounds_query(unit_code):
    """The closed rounds of a unit and the units under it, newest first: the public results."""
    unit = unit_by_code(unit_code, "unit")
    return (
        select(AppraisalRound)
        .join(Unit, AppraisalRound.unit_id == Unit.id)
        .where(AppraisalRound.status == "closed", Unit.path.startswith(unit.path))
        .order_by(AppraisalRound.id.desc())
    )


def tallies(appraisal_round):
    """{subject id: {rating: ballots}} for every rating of the round's scheme, 0 when none."""
    ratings = rules_of(appraisal_round.scheme_version_id).appraisal.ratings
    counted = {}
    for subject_id, rating, ballots in db.session.execute(
        select(AppraisalTally.subject_id, AppraisalTally.rating, AppraisalTally.ballots).where(
            AppraisalTally.round_id == appraisal_round.id
        )
    ):
        counted.setdefault(subject_id, {})[rating] = ballots
    return {
        subject_id: {name: found.get(name, 0) for name in ratings}
        for subject_id, found in counted.items()
    }


def results(appraisal_round, subjects=None):
    """Each subject's ballots, counts by rating and the mean as points (counts only: never
    who rated how). While the round is open only the number of ballots is shown, so an
    early count sways nobody."""
    appraisal = rules_of(appraisal_round.scheme_version_id).appraisal
    counts = tallies(appraisal_round)
    subjects = (
        subjects
        if subjects is not None
        else db.session.execute(subjects_query(appraisal_round)).scalars()
    )
    rows = []
    for subject in subjects:
        found = counts.get(subject.id, {name: 0 for name in appraisal.ratings})
        row = {"subject": subject.code, "name": subject.name, "ballots": sum(found.values())}
        if appraisal_round.status == "closed":
            row.update(counts=found, points=appraisal.result(found))
        rows.append(row)
    return rows


# --- ballots -------------------------------------------------------------------------------


def resolve_round(value, subject):
    """A round given by its id, or by its period (the open round of that period whose unit
    holds the subject; more than one → name it by id)."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return _round(int(value), "round")
    try:
        period_window(value)
    except ValueError as error:
        raise invalid({"round": [f"a round id, or {error}"]}) from None
    found = [
        r
        for r in db.session.execute(
            select(AppraisalRound).where(AppraisalRound.period == value.strip())
        ).scalars()
        if subject.unit.path.startswith(r.unit.path)
    ]
    if not found:
        raise invalid({"round": ["unknown round"]})
    if len(found) > 1:
        raise invalid({"round": ["several rounds have this period: give the round's id"]})
    return found[0]


def cast(rater, round_value, subject_code, rating):
    """One household rates its grid worker once per round (api.md, public/appraisals)."""
    subject = holder_by_code(subject_code, "subject")
    appraisal_round = resolve_round(round_value, subject)
    appraisal = rules_of(appraisal_round.scheme_version_id).appraisal
    if subject.kind != appraisal_round.scheme.subject or not subject.unit.path.startswith(
        appraisal_round.unit.path
    ):
        raise invalid({"subject": ["not assessed in this round"]})
    if not isinstance(rating, str) or rating.strip() not in appraisal.ratings:
        raise invalid({"rating": [f"must be one of {', '.join(appraisal.ratings)}"]})
    rating = rating.strip()
    if rater.kind not in appraisal.rater_kinds:
        raise forbidden(RATER_WORDS[appraisal.raters])
    if not rater.unit.path.startswith(subject.unit.path):
        raise forbidden("只能评议本网格（本村、社区）的网格员")
    _refuse_own_kin(rater, subject)
    end_read()
    with write():
        locked = _locked_open(appraisal_round)
        voted = db.session.execute(
            select(AppraisalVoter).where(
                AppraisalVoter.round_id == locked.id,
                AppraisalVoter.subject_id == subject.id,
                AppraisalVoter.holder_id == rater.id,
            )
        ).first()
        if voted is not None:
            raise PointsError("already_voted", "您已经评议过这位网格员，每轮只能评议一次", 409)
        db.session.add(
            AppraisalVoter(round_id=locked.id, subject_id=subject.id, holder_id=rater.id)
        )
        insert_ignore(
            AppraisalTally, round_id=locked.id, subject_id=subject.id, rating=rating, ballots=0
        )
        db.session.execute(
            update(AppraisalTally)
            .where(
                AppraisalTally.round_id == locked.id,
                AppraisalTally.subject_id == subject.id,
                AppraisalTally.rating == rating,
            )
            .values(ballots=AppraisalTally.ballots + 1)
        )
    return appraisal_round, subject


def _refuse_own_kin(rater, subject):
    """回避: a household linked to the same user as the grid worker (their own family) does
    not rate them."""
    mine, theirs = aliased(UserLink), aliased(UserLink)
    shared = db.session.execute(
        select(mine.user_id)
        .join(theirs, theirs.user_id == mine.user_id)
        .where(mine.holder_id == rater.id, theirs.holder_id == subject.id)
        .limit(1)
    ).first()
    if shared is not None:
        raise PointsError(
            "conflict_of_interest",
            "网格员本人或亲属户不参加对其本人的评议",
            403,
            {"holders": {subject.code: ["conflict of interest"]}},
        )


def open_rounds_for(rater):
    """The open rounds a resident may vote in, each with the grid workers they may rate and
    whether they already did: the /appraise page."""
    rounds = [
        r
        for r in db.session.execute(
            select(AppraisalRound)
            .where(AppraisalRound.status == "open")
            .order_by(AppraisalRound.id)
        ).scalars()
        if rater.unit.path.startswith(r.unit.path)
    ]
    listed = []
    for appraisal_round in rounds:
        appraisal = rules_of(appraisal_round.scheme_version_id).appraisal
        if rater.kind not in appraisal.rater_kinds:
            continue
        subjects = [
            s
            for s in db.session.execute(subjects_query(appraisal_round)).scalars()
            if rater.unit.path.startswith(s.unit.path)
        ]
        done = set(
            db.session.execute(
                select(AppraisalVoter.subject_id).where(
                    AppraisalVoter.round_id == appraisal_round.id,
                    AppraisalVoter.holder_id == rater.id,
                )
            ).scalars()
        )
        if subjects:
            listed.append(
                {
                    "round": appraisal_round,
                    "ratings": list(appraisal.ratings),
                    "subjects": [{"holder": s, "voted": s.id in done} for s in subjects],
                }
            )
    return listed


# --- closing: the results and the platform items as pending entries ------------------------


def close_round(principal, round_id):
    """Close a round: each grid worker's appraisal result, and every platform item of the
    scheme counted for the period, recorded as one pending entry each (by the closing admin,
    so two other reviewers approve them); returns the results."""
    appraisal_round = _round(round_id)
    _require_admin(principal, appraisal_round.unit)
    subjects = db.session.execute(subjects_query(appraisal_round)).scalars().all()
    refuse_conflict(principal, {s.code: s.id for s in subjects})
    scheme = appraisal_round.scheme
    rules = rules_of(scheme.current_version_id)
    appraisal = rules_of(appraisal_round.scheme_version_id).appraisal
    first, last, _ = period_window(appraisal_round.period)
    day = min(last, today())
    end_read()
    with write():
        locked = _locked_open(appraisal_round)
        locked.status, locked.closed_by_id, locked.closed_at = "closed", principal.user_id, utcnow()
        rows = results(locked, subjects)
        note = f"民主测评 {locked.period}（{locked.unit.name}）"
        for subject, row in zip(subjects, rows):
            row["entries"] = []
            item = rules.item(appraisal.item)
            if row["points"] is not None and item is not None:
                entry = add_entry(
                    principal,
                    scheme,
                    rules,
                    item,
                    subject,
                    row["points"],
                    day,
                    f"{note}：{row['ballots']} 票",
                    {},
                )
                row["entries"].append(entry.id)
            row["platform"] = _platform_entries(
                principal, scheme, rules, subject, first, last, day, locked.period
            )
            row["entries"] += [p["entry"] for p in row["platform"] if p["entry"] is not None]
    return locked, rows


def _platform_entries(principal, scheme, rules, subject, first, last, day, period):
    """平台统计: each platform item's count of the subject's own work in the period, as an entry
    of count × per, trimmed to what the item's cap still allows (a count is not a claim)."""
    done = []
    users = select(UserLink.user_id).where(UserLink.holder_id == subject.id)
    for item in (i for i in rules.items if i.type == "platform"):
        value = MEASURES[item.measure](users, first, last)
        points = (
            cap_left(item, subject, scheme, day, platform_points(item, value)) if value else None
        )
        entry = None
        if points is not None:
            entry = add_entry(
                principal,
                scheme,
                rules,
                item,
                subject,
                points,
                day,
                f"平台统计 {period}：{value}",
                {"quantity": value},
            ).id
        done.append(
            {
                "item": item.code,
                "measure": item.measure,
                "value": value,
                "points": points,
                "entry": entry,
            }
        )
    return done


def _local_bounds(first, last):
    zone = local_tz()
    return (
        datetime.combine(first, time.min, zone),
        datetime.combine(last + timedelta(days=1), time.min, zone),
    )


def _households_reached(users, first, last):
    return db.session.execute(
        select(func.count(func.distinct(Entry.holder_id)))
        .join(Holder, Entry.holder_id == Holder.id)
        .where(
            Entry.recorded_by_id.in_(users),
            Holder.kind == "household",
            Entry.occurred_on.between(first, last),
            Entry.status.not_in(("rejected", "revoked")),
        )
    ).scalar_one()


def _entries_recorded(users, first, last):
    return db.session.execute(
        select(func.count(Entry.id)).where(
            Entry.recorded_by_id.in_(users),
            Entry.status == "posted",
            Entry.occurred_on.between(first, last),
        )
    ).scalar_one()


def _claims_on_time(users, first, last):
    start, end = _local_bounds(first, last)
    rows = db.session.execute(
        select(Claim.created_at, Claim.decided_at).where(
            Claim.decided_by_id.in_(users),
            Claim.status.in_(("accepted", "declined")),
            Claim.decided_at >= start,
            Claim.decided_at < end,
        )
    ).all()
    return sum(
        1
        for created, decided in rows
        if aware(decided) - aware(created) <= timedelta(days=CLAIM_DAYS)
    )


MEASURES = {
    "households_reached": _households_reached,
    "entries_recorded": _entries_recorded,
    "claims_on_time": _claims_on_time,
}
