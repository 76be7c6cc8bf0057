"""Record, review, notice, objections, revoke and settle: the life of an entry.

Lock order, the same everywhere so two writers never wait on each other in a circle:
entries (by id) first, then accounts.
"""

from collections import namedtuple
from datetime import timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import aliased

from points import metrics
from points.database import aware, end_read, for_update, lock_key, today, utcnow, write
from points.errors import PointsError, Reason, forbidden, invalid, invalid_state, not_found, reason
from points.extensions import db
from points.entries import stats
from points.entries.models import Approval, Entry, EntryEvent
from points.evidence.models import Evidence
from points.ledger import service as ledger
from points.notices import service as notices
from points.org.models import Holder, Unit
from points.org.service import holder_by_code, in_scope, unit_by_code, village_of
from points.rules import InvalidValue, cap_window
from points.schemes.models import FIRST_YEAR, Period, Scheme
from points.schemes.service import rules_of, scheme_by_code, wrong_kind
from points.users.models import User, UserLink
from points.users.service import refuse_conflict


# --- recording -----------------------------------------------------------------------------


def check_holder(principal, scheme, holder, field="holder"):
    if holder.kind != scheme.subject:
        raise invalid({field: [wrong_kind(scheme, holder)]})
    if not principal.allows("recorder", holder.unit.path):
        raise forbidden("你不是该户所在单位的记分员")


def compute(rules, item_code, occurred_on, values):
    """The item and its points for this entry, or 422 with every field that is wrong."""
    details = {}
    item = rules.item(item_code)
    if item is None:
        details["item"] = [reason("unknown_item", "unknown item")]
    elif rules.appraisal is not None and item.code == rules.appraisal.item:
        details["item"] = [
            reason(
                "appraisal_item",
                "recorded by the service when an appraisal round closes, never by hand",
            )
        ]
        item = None
    if occurred_on > today():
        details["occurred_on"] = [reason("future_date", "the date is in the future")]
    elif occurred_on.year < FIRST_YEAR:
        details["occurred_on"] = [
            reason("date_before", "the date is before {year}", year=FIRST_YEAR)
        ]
    points = None
    if item is not None and "occurred_on" not in details and not item.recordable_on(occurred_on):
        details["occurred_on"] = [
            "this item (全年…) is recorded only in December, the last month of the year"
        ]
    if item is not None:
        try:
            points = item.compute_points(**values)
        except InvalidValue as error:
            details[error.field] = [
                Reason(error.reason, error.message, **error.params)
                if error.reason
                else error.message
            ]
    if details:
        raise invalid(details)
    return item, points


def _check_cap(item, holder, scheme, occurred_on, points):
    """Refuse whole an entry that would go past the item's cap for this holder (never trimmed)."""
    if item.cap is None:
        return
    first, last, count, total = _cap_usage(item, holder, scheme, occurred_on)
    _refuse_past_cap(item, first, last, count, total, points)


def cap_left(item, holder, scheme, occurred_on, points):
    """The part of `points` that still fits the item's cap for this holder: all of it when the
    item has no cap or it fits, the room left when only the cap's points are short, None when
    no entry fits (the count is full, or the points already are). For a caller that trims to
    the cap rather than refusing (an appraisal's result); the one rule is `Cap.admits`."""
    cap = item.cap
    if cap is None:
        return points
    _first, _last, count, used = _cap_usage(item, holder, scheme, occurred_on)
    if cap.admits(count, used, points):
        return points
    if cap.points is None or not cap.admits(count, used, 0):
        return None
    room = (cap.points if points > 0 else -cap.points) - used
    return room if room * points > 0 and cap.admits(count, used, room) else None


def _cap_usage(item, holder, scheme, occurred_on):
    """The cap's period around `occurred_on` and what this holder's entries of the item used of
    it: (first day, last day, entries, points), rejected and revoked entries not counted."""
    first, last = cap_window(item.cap.per, occurred_on)
    count, total = db.session.execute(
        select(func.count(Entry.id), func.sum(Entry.points)).where(
            Entry.holder_id == holder.id,
            Entry.scheme_id == scheme.id,
            Entry.item == item.code,
            Entry.occurred_on.between(first, last),
            Entry.status.not_in(("rejected", "revoked")),
        )
    ).one()
    return first, last, count, total or 0


def _refuse_past_cap(item, first, last, count, total, points):
    cap = item.cap
    if not cap.admits(count, total, points):
        raise PointsError(
            "cap_exceeded",
            f"超过 {item.code} 的上限：{_describe_cap(cap)}",
            409,
            {
                "item": item.code,
                "per": cap.per,
                "cap_count": cap.count,
                "cap_points": cap.points,
                "count": count,
                "points": total,
                "from": first.isoformat(),
                "to": last.isoformat(),
            },
        )


def _describe_cap(cap):
    words = {"day": "每天", "week": "每周", "month": "每月", "quarter": "每季度", "year": "每年"}[
        cap.per
    ]
    parts = ([f"最多 {cap.count} 次"] if cap.count is not None else []) + (
        [f"最多 {cap.points} 分"] if cap.points is not None else []
    )
    return words + "，".join(parts)


def _refuse_closed_year(scheme_id, day):
    """Entries of a closed year cannot change; the close itself waits for writers of that year."""
    lock_key(f"period:{scheme_id}:{day.year}", shared=True)
    closed = db.session.execute(
        select(Period.id).where(Period.scheme_id == scheme_id, Period.year == day.year)
    ).first()
    if closed is not None:
        raise PointsError(
            "period_closed", f"{day.year} 年度已结算，不能再记分或更改", 409, {"year": day.year}
        )


def add_entry(
    principal, scheme, rules, item, holder, points, occurred_on, note, values, batch=False
):
    """A pending entry, inside the caller's write(): closed year, cap and account under lock.
    In a batch the caller has checked the year once and counts the statistics once."""
    if not batch:
        _refuse_closed_year(scheme.id, occurred_on)
    account = ledger.account_for(scheme.id, holder.id, lock=True)
    _check_cap(item, holder, scheme, occurred_on, points)
    entry = Entry(
        scheme_id=scheme.id,
        scheme_version_id=scheme.current_version_id,
        holder_id=holder.id,
        item=item.code,
        category=item.category,
        veto=item.veto,
        points=points,
        quantity=values.get("quantity"),
        grade=values.get("grade"),
        occurred_on=occurred_on,
        note=note or "",
        status="pending",
        recorded_by_id=principal.user_id,
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    _event(entry, "record", principal.user_id, note or "")
    notices.enqueue(entry, "recorded")
    ledger.move_pending(account, points)
    if not batch:
        stats.count(entry, "record")
    return entry


VALUES = ("points", "quantity", "grade")  # the value fields; an item reads at most one


def record_loaded(principal, data):
    """记分 as its request schema loaded it, for the JSON API and the recorder's page alike:
    NewEntrySchema's one `holder` is an entry, BatchSchema's `holders` a batch (all or
    nothing). The ids recorded, in the batch's order."""
    values = {k: data[k] for k in VALUES if k in data}
    scheme, item, day, note = data["scheme"], data["item"], data["occurred_on"], data.get("note")
    if "holders" in data:
        return record_batch(principal, scheme, item, data["holders"], day, note, **values)
    return [record(principal, scheme, data["holder"], item, day, note, **values)]


def record(principal, scheme_code, holder_code, item_code, occurred_on, note=None, **values):
    scheme = scheme_by_code(scheme_code, "scheme")
    holder = holder_by_code(holder_code, "holder")
    check_holder(principal, scheme, holder)
    refuse_conflict(principal, {holder.code: holder.id})
    rules = rules_of(scheme.current_version_id)
    item, points = compute(rules, item_code, occurred_on, values)
    end_read()
    with write():
        entry = add_entry(principal, scheme, rules, item, holder, points, occurred_on, note, values)
    return entry.id


def record_batch(principal, scheme_code, item_code, holder_codes, occurred_on, note=None, **values):
    """One event, many households: all or nothing, each holder checked as a single entry is."""
    scheme = scheme_by_code(scheme_code, "scheme")
    rules = rules_of(scheme.current_version_id)
    item, points = compute(rules, item_code, occurred_on, values)
    codes = list(dict.fromkeys(holder_codes))
    holders = {
        h.code: h
        for h in db.session.execute(select(Holder).where(Holder.code.in_(codes))).scalars()
    }
    _each_holder(
        codes,
        lambda code: check_holder(
            principal, scheme, holders.get(code) or holder_by_code(code, "holder")
        ),
    )
    refuse_conflict(principal, {code: holders[code].id for code in codes})
    # Plain values, read before end_read() expires the holders (each would be read again, one
    # statement per holder, inside the write lock).
    in_order = sorted(
        (_BatchHolder(h.id, h.code, h.unit.path) for h in (holders[c] for c in codes)),
        key=lambda h: h.id,
    )
    end_read()
    with write():
        _refuse_closed_year(scheme.id, occurred_on)  # one year for the whole event
        accounts = ledger.lock_accounts([(scheme.id, h.id) for h in in_order])
        _check_caps(item, scheme, occurred_on, points, in_order)
        now = utcnow()
        # RETURNING without sort_by_parameter_order: SQLite cannot promise the rows' order, so
        # SQLAlchemy would insert them one statement each; a batch's holders are distinct, so
        # each new id is matched to its holder by holder_id instead.
        made = dict(
            db.session.execute(
                insert(Entry).returning(Entry.holder_id, Entry.id),
                [
                    dict(
                        scheme_id=scheme.id,
                        scheme_version_id=scheme.current_version_id,
                        holder_id=h.id,
                        item=item.code,
                        category=item.category,
                        veto=item.veto,
                        points=points,
                        quantity=values.get("quantity"),
                        grade=values.get("grade"),
                        occurred_on=occurred_on,
                        note=note or "",
                        status="pending",
                        recorded_by_id=principal.user_id,
                        created_at=now,
                    )
                    for h in in_order
                ],
            ).all()
        )
        ids = [made[h.id] for h in in_order]
        for _ in ids:  # rows inserted by one statement: the ORM's count of new entries sees none
            metrics.counted(metrics.entries, status="pending")
        _insert_events("record", principal.user_id, now, ((i, "pending", note or "") for i in ids))
        notices.enqueue_many(((made[h.id], h.id) for h in in_order), "recorded", now)
        ledger.move_pending_many({accounts[(scheme.id, h.id)].id: points for h in in_order})
        stats.count_rows(
            ((h.path, scheme.id, occurred_on, item.code, item.category, points) for h in in_order),
            "record",
        )
    by_code = {h.code: made[h.id] for h in in_order}
    return [by_code[code] for code in codes]


_BatchHolder = namedtuple("_BatchHolder", "id code path")  # a batch's holder, as plain values


def _check_caps(item, scheme, occurred_on, points, holders):
    """`_check_cap` for a batch's holders at once, by one grouped query; the first holder (by
    id, as one by one) that would go past the cap refuses the batch, named."""
    if item.cap is None:
        return
    first, last = cap_window(item.cap.per, occurred_on)
    found = {
        holder_id: (count, total)
        for holder_id, count, total in db.session.execute(
            select(Entry.holder_id, func.count(Entry.id), func.sum(Entry.points))
            .where(
                Entry.holder_id.in_([h.id for h in holders]),
                Entry.scheme_id == scheme.id,
                Entry.item == item.code,
                Entry.occurred_on.between(first, last),
                Entry.status.not_in(("rejected", "revoked")),
            )
            .group_by(Entry.holder_id)
        )
    }
    for holder in holders:
        count, total = found.get(holder.id, (0, None))
        try:
            _refuse_past_cap(item, first, last, count, total or 0, points)
        except PointsError as error:
            raise _for_holder(error, holder.code) from None


def _each_holder(codes, check):
    """Run a check per holder; the first failure's status and code, every failing holder named."""
    failures, first = {}, None
    for code in codes:
        try:
            check(code)
        except PointsError as error:
            first = first or error
            failures[code] = [_reason(error)]
    if first is not None:
        raise PointsError(first.code, first.message, first.status, {"holders": failures})


def _reason(error):
    if error.details and error.code == "validation_error":
        return "; ".join(str(m) for messages in error.details.values() for m in messages)
    return error.message


def _for_holder(error, code):
    return PointsError(
        error.code,
        error.message,
        error.status,
        {"holders": {code: [_reason(error)]}, **error.details},
    )


# --- reading -------------------------------------------------------------------------------


def get_entry(principal, entry_id):
    entry = db.session.get(Entry, entry_id)
    if entry is None:
        raise not_found("entry")
    if not principal.covers(entry.holder.unit.path):
        raise forbidden()
    return entry


def entries_query(principal, status=None, scheme=None, unit=None, holder=None, recorded_by=None):
    query = (
        select(Entry)
        .join(Holder, Entry.holder_id == Holder.id)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(in_scope(Unit.path, principal.paths()))
        .order_by(Entry.id.desc())
    )
    if status:
        query = query.where(Entry.status == status)
    if scheme:
        query = query.where(Entry.scheme_id == scheme_by_code(scheme, "scheme").id)
    if unit:
        query = query.where(Unit.path.startswith(unit_by_code(unit, "unit").path))
    if holder:
        query = query.where(Entry.holder_id == holder_by_code(holder, "holder").id)
    if recorded_by:
        query = query.where(
            Entry.recorded_by_id.in_(select(User.id).where(User.username == recorded_by))
        )
    return query


def entries_of(principal, limit, **filters):
    """The newest `limit` entries within the caller's units, filtered as `entries_query`."""
    return db.session.execute(entries_query(principal, **filters).limit(limit)).scalars().all()


def review_queue(principal, limit=200):
    """待审核: entries pending or disputed in the units where the caller is a reviewer,
    newest first (their own entries included: the page shows them without approve)."""
    return (
        db.session.execute(
            select(Entry)
            .join(Holder, Entry.holder_id == Holder.id)
            .join(Unit, Holder.unit_id == Unit.id)
            .where(
                in_scope(Unit.path, principal.paths("reviewer")),
                Entry.status.in_(("pending", "disputed")),
            )
            .order_by(Entry.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def batch_of(principal, ids):
    """A batch's entries for its answer, read after the write by three statements for the whole
    batch (not per entry): ([entries in the order given], {id: [approvals]}, {id: [events]}),
    each entry checked as `get_entry` checks one. Plain values with the attributes the views
    read: ORM entries with their joined holders, units and users cost more to build than the
    batch's whole write."""
    recorder, reviewer = aliased(User), aliased(User)
    found = {
        row.id: _BatchEntry(
            *row[:-7],
            scheme=_Code(row.scheme),
            holder=_EntryHolder(row.holder, row.holder_name, _Path(row.path)),
            recorded_by=_Username(row.recorded_by),
            reviewed_by=_Username(row.reviewed_by) if row.reviewed_by_id is not None else None,
        )
        for row in db.session.execute(
            select(
                *(getattr(Entry, name) for name in _ENTRY_COLUMNS),
                Scheme.code.label("scheme"),
                Holder.code.label("holder"),
                Holder.name.label("holder_name"),
                Unit.path,
                recorder.username.label("recorded_by"),
                Entry.reviewed_by_id,
                reviewer.username.label("reviewed_by"),
            )
            .join(Scheme, Scheme.id == Entry.scheme_id)
            .join(Holder, Holder.id == Entry.holder_id)
            .join(Unit, Unit.id == Holder.unit_id)
            .join(recorder, recorder.id == Entry.recorded_by_id)
            .outerjoin(reviewer, reviewer.id == Entry.reviewed_by_id)
            .where(Entry.id.in_(ids))
        )
    }
    for entry_id in ids:
        entry = found.get(entry_id)
        if entry is None:
            raise not_found("entry")
        if not principal.covers(entry.holder.unit.path):
            raise forbidden()
    approved, events = {}, {}
    if ids:
        for entry_id, username, at, grade in db.session.execute(
            select(Approval.entry_id, User.username, Approval.at, Approval.grade)
            .join(User, User.id == Approval.user_id)
            .where(Approval.entry_id.in_(ids))
            .order_by(Approval.id)
        ):
            approved.setdefault(entry_id, []).append(_BatchApproval(_Username(username), at, grade))
        rows = db.session.execute(
            select(
                EntryEvent.entry_id,
                EntryEvent.action,
                EntryEvent.status,
                EntryEvent.user_id,
                User.username,
                EntryEvent.holder_id,
                EntryEvent.note,
                EntryEvent.at,
            )
            .outerjoin(User, User.id == EntryEvent.user_id)
            .where(EntryEvent.entry_id.in_(ids))
            .order_by(EntryEvent.id)
        ).all()
        # A resident's objection names their village: those few holders read as history() does.
        residents = {}
        if any(row.holder_id is not None for row in rows):
            residents = {
                h.id: h
                for h in db.session.execute(
                    select(Holder).where(
                        Holder.id.in_({r.holder_id for r in rows if r.holder_id is not None})
                    )
                ).scalars()
            }
        for entry_id, action, status, user_id, username, holder_id, note, at in rows:
            events.setdefault(entry_id, []).append(
                _BatchEvent(
                    action,
                    status,
                    user_id,
                    _Username(username) if user_id is not None else None,
                    residents.get(holder_id),
                    note,
                    at,
                )
            )
    return [found[i] for i in ids], approved, events


_ENTRY_COLUMNS = (
    "id scheme_version_id item category points quantity grade status recorded_by_id "
    "occurred_on note created_at review_note notice_ends_on"
).split()
# What entry_view and history_view read of an entry, an approval and an event, as plain values.
_BatchEntry = namedtuple(
    "_BatchEntry", [*_ENTRY_COLUMNS, "scheme", "holder", "recorded_by", "reviewed_by"]
)
_BatchApproval = namedtuple("_BatchApproval", "user at grade")
_BatchEvent = namedtuple("_BatchEvent", "action status user_id user holder note at")
_EntryHolder = namedtuple("_EntryHolder", "code name unit")
_Code, _Path, _Username = (
    namedtuple("_Code", "code"),
    namedtuple("_Path", "path"),
    namedtuple("_Username", "username"),
)


def history(entry):
    return list(
        db.session.execute(
            select(EntryEvent).where(EntryEvent.entry_id == entry.id).order_by(EntryEvent.id)
        ).scalars()
    )


def history_view(principal, entry, events=None):
    """The entry's state changes as this caller may see them. A resident who objected is "a
    resident of <village>", never their code; an objection's text is shown only to a reviewer
    who may settle the dispute (in scope, not its recorder, not one who objected to it).
    `events`: the entry's events, oldest first, when the caller read them already."""
    events = history(entry) if events is None else events
    objectors = {e.user_id for e in events if e.action == "object" and e.user_id is not None}
    may_settle = (
        principal.allows("reviewer", entry.holder.unit.path)
        and principal.user_id != entry.recorded_by_id
        and principal.user_id not in objectors
    )
    view = []
    for event in events:
        if event.user is not None:
            by = event.user.username
        elif event.holder is not None:
            by = f"a resident of {village_of(event.holder.unit).name}"
        else:
            by = None
        note = event.note if event.action != "object" or may_settle else ""
        view.append(
            {
                "action": event.action,
                "status": event.status,
                "at": aware(event.at),
                "note": note,
                "by": by,
            }
        )
    return view


def approvals(entry):
    return list(
        db.session.execute(
            select(Approval).where(Approval.entry_id == entry.id).order_by(Approval.id)
        ).scalars()
    )


# --- review --------------------------------------------------------------------------------


def _insert_events(action, user_id, at, rows):
    """`_event` for a batch: one INSERT of [(entry_id, status, note)], all by one user at once."""
    db.session.execute(
        insert(EntryEvent),
        [
            dict(
                entry_id=i,
                action=action,
                status=status,
                user_id=user_id,
                holder_id=None,
                note=note,
                at=at,
            )
            for i, status, note in rows
        ],
    )


def _event(entry, action, user_id=None, note="", holder_id=None):
    db.session.add(
        EntryEvent(
            entry_id=entry.id,
            action=action,
            status=entry.status,
            user_id=user_id,
            holder_id=holder_id,
            note=note or "",
            at=utcnow(),
        )
    )


def _locked_entries(ids):
    entries = (
        db.session.execute(
            for_update(
                select(Entry).where(Entry.id.in_(ids)).order_by(Entry.id), of=Entry
            ).execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    found = {e.id for e in entries}
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"entry {missing[0]}")
    return {e.id: e for e in entries}


def _check_reviewer(principal, entry, conflicts_checked=False):
    if not principal.allows("reviewer", entry.holder.unit.path):
        raise forbidden("你不是该户所在单位的审核员")
    if entry.recorded_by_id == principal.user_id:
        raise PointsError("self_review", "不能审核自己记录的积分", 403)
    if not conflicts_checked:  # a batch checks every holder at once
        refuse_conflict(principal, {entry.holder.code: entry.holder_id})


def _refuse_objector(principal, entry):
    """Whoever objected to an entry (themselves, or a holder linked to them) never settles
    its dispute: one person could otherwise cut the public notice short alone."""
    objected = db.session.execute(
        select(EntryEvent.id).where(
            EntryEvent.entry_id == entry.id,
            EntryEvent.action == "object",
            (EntryEvent.user_id == principal.user_id)
            | EntryEvent.holder_id.in_(
                select(UserLink.holder_id).where(UserLink.user_id == principal.user_id)
            ),
        )
    ).first()
    if objected is not None:
        raise PointsError(
            "conflict_of_interest",
            "提出异议的人不能处理这条异议，请由其他审核员处理",
            403,
            {"holders": {entry.holder.code: ["objected to this entry"]}},
        )


def _approve_locked(principal, entry, note, grade=None, conflicts_checked=False):
    _check_reviewer(principal, entry, conflicts_checked)
    if entry.status == "disputed" and grade is not None:
        raise invalid({"grade": ["the quality was named when the entry was approved"]})
    if entry.status == "disputed":
        # An objection is settled by one reviewer: posted at once, no new quorum or notice.
        _refuse_objector(principal, entry)
        entry.reviewed_by_id, entry.review_note = principal.user_id, note
        _post(entry, principal.user_id)
        _event(entry, "approve", principal.user_id, note)
        return
    if entry.status != "pending":
        raise invalid_state(f"积分记录当前状态为 {entry.status}，不能通过")
    done = (
        db.session.execute(select(Approval.user_id).where(Approval.entry_id == entry.id))
        .scalars()
        .all()
    )
    if principal.user_id in done:
        raise PointsError("already_reviewed", "你已经审核过这条积分记录", 409)
    rules = rules_of(entry.scheme_version_id)
    _require_evidence(rules, entry)
    item = rules.item(entry.item)
    _check_grade(item, grade)
    db.session.add(Approval(entry_id=entry.id, user_id=principal.user_id, at=utcnow(), grade=grade))
    entry.reviewed_by_id, entry.review_note = principal.user_id, note
    if len(done) + 1 >= rules.reviewers_required:
        if item is not None and item.graded_by_reviewers:
            _grade_hours(entry, item, grade)
        if rules.notice_days == 0:
            _post(entry, principal.user_id)
        else:
            entry.status = "in_notice"
            entry.notice_ends_on = today() + timedelta(days=rules.notice_days)
            notices.enqueue(entry, "in_notice")
    _event(entry, "approve", principal.user_id, note)


def _check_grade(item, grade):
    """hours_graded: each approving reviewer names the quality (优, 良, ...); no other item
    takes one."""
    if item is None or not item.graded_by_reviewers:
        if grade is not None:
            raise invalid(
                {
                    "grade": [
                        "not used by this item: only time-and-quality items are graded at approval"
                    ]
                }
            )
        return
    if grade is None or grade not in item.grades:
        raise invalid(
            {"grade": [f"name the quality of this work: one of {', '.join(item.grades)}"]}
        )


def _grade_hours(entry, item, grade):
    """The quorum is reached: the lowest grade named counts, and the entry's points (held at the
    best grade while pending) become hours × per × that grade's factor."""
    named = (
        db.session.execute(
            select(Approval.grade).where(Approval.entry_id == entry.id, Approval.grade.is_not(None))
        )
        .scalars()
        .all()
    )
    lowest = item.lowest_grade(set(named) | {grade})
    points = item.graded_hours(entry.quantity, lowest)
    ledger.move_pending(ledger.account_for(entry.scheme_id, entry.holder_id), points - entry.points)
    entry.points, entry.grade = points, lowest


def _require_evidence(rules, entry):
    """有图有真相: an item with `evidence: required` is not approved without a photo."""
    item = rules.item(entry.item)
    if (
        item is not None
        and item.evidence == "required"
        and db.session.execute(
            select(Evidence.id).where(Evidence.entry_id == entry.id).limit(1)
        ).first()
        is None
    ):
        raise PointsError(
            "evidence_required",
            "这个项目须附照片佐证，请记分员先上传照片",
            409,
            {"item": entry.item},
        )


def approve(principal, entry_id, note=None, grade=None):
    end_read()
    with write():
        entry = _locked_entries([entry_id])[entry_id]
        _approve_locked(principal, entry, note, grade)
    return entry_id


def approve_batch(principal, ids, note=None, grade=None):
    """A whole event approved at once: all or nothing, each entry as if one by one. `grade`
    is the quality named for the batch's time-and-quality entries (and refused without one).

    Set-based: the entries are locked by one SELECT (by id), every entry is checked in Python
    from a few queries for the whole batch (the first entry, in the order given, that one by
    one would refuse, refuses the batch), then the accounts that move are locked in id order
    and the approvals, status changes, postings, events and notices are written by a few
    statements for the whole batch."""
    ids = list(dict.fromkeys(ids))
    end_read()
    with write():
        rows = _locked_rows(ids)
        refuse_conflict(principal, {r.holder_code: r.holder_id for r in rows.values()})
        graded = {i for i, r in rows.items() if _graded_row(r)}
        if grade is not None and not graded:
            _check_grade(None, grade)
        plan = _plan_approvals(principal, rows, ids, grade, graded)
        _write_approvals(principal, rows, ids, plan, note)
    return ids


_BatchRow = namedtuple(
    "_BatchRow",
    "id status scheme_id scheme_version_id holder_id item category veto points quantity "
    "occurred_on recorded_by_id notice_ends_on holder_code unit_path",
)


def _locked_rows(ids):
    """`_locked_entries` for a batch, without the ORM: the entries (locked, by id) with their
    holder's code and unit path, in one SELECT."""
    query = for_update(
        select(
            Entry.id,
            Entry.status,
            Entry.scheme_id,
            Entry.scheme_version_id,
            Entry.holder_id,
            Entry.item,
            Entry.category,
            Entry.veto,
            Entry.points,
            Entry.quantity,
            Entry.occurred_on,
            Entry.recorded_by_id,
            Entry.notice_ends_on,
            Holder.code,
            Unit.path,
        )
        .join(Holder, Entry.holder_id == Holder.id)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(Entry.id.in_(ids))
        .order_by(Entry.id),
        of=Entry,
    )
    found = {row[0]: _BatchRow(*row) for row in db.session.execute(query)} if ids else {}
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"entry {missing[0]}")
    return found


def _graded_row(row):
    item = rules_of(row.scheme_version_id).item(row.item)
    return row.status == "pending" and item is not None and item.graded_by_reviewers


_Plan = namedtuple("_Plan", "approve post notice grades")


def _plan_approvals(principal, rows, ids, grade, graded):
    """What approving each entry does, checked as `_approve_locked` checks one: approve (entry
    id -> grade named), post (ids in order), notice (id -> last day), grades (id -> (points,
    grade) at the quorum). The first entry that would be refused refuses the batch."""
    pending = [i for i in ids if rows[i].status == "pending"]
    disputed = [i for i in ids if rows[i].status == "disputed"]
    done = {}
    if pending:
        for entry_id, user_id, named in db.session.execute(
            select(Approval.entry_id, Approval.user_id, Approval.grade).where(
                Approval.entry_id.in_(pending)
            )
        ):
            done.setdefault(entry_id, []).append((user_id, named))
    objected = set()
    if disputed:
        objected = set(
            db.session.execute(
                select(EntryEvent.entry_id).where(
                    EntryEvent.entry_id.in_(disputed),
                    EntryEvent.action == "object",
                    (EntryEvent.user_id == principal.user_id)
                    | EntryEvent.holder_id.in_(
                        select(UserLink.holder_id).where(UserLink.user_id == principal.user_id)
                    ),
                )
            ).scalars()
        )
    needs_photo = [
        i
        for i in pending
        if (item := rules_of(rows[i].scheme_version_id).item(rows[i].item)) is not None
        and item.evidence == "required"
    ]
    with_photo = set()
    if needs_photo:
        with_photo = set(
            db.session.execute(
                select(Evidence.entry_id).where(Evidence.entry_id.in_(needs_photo)).distinct()
            ).scalars()
        )
    plan = _Plan({}, [], {}, {})
    for entry_id in ids:
        row = rows[entry_id]
        try:
            photo_missing = entry_id in needs_photo and entry_id not in with_photo
            named = grade if entry_id in graded else None
            _plan_one(principal, row, named, plan, done, objected, photo_missing)
        except PointsError as error:
            raise PointsError(
                error.code,
                f"#{entry_id}: {error.message}",
                error.status,
                {"ids": {str(entry_id): [error.message]}},
            ) from None
    return plan


def _plan_one(principal, row, grade, plan, done, objected, photo_missing):
    if not principal.allows("reviewer", row.unit_path):
        raise forbidden("你不是该户所在单位的审核员")
    if row.recorded_by_id == principal.user_id:
        raise PointsError("self_review", "不能审核自己记录的积分", 403)
    if row.status == "disputed":
        if row.id in objected:
            raise PointsError(
                "conflict_of_interest", "提出异议的人不能处理这条异议，请由其他审核员处理", 403
            )
        plan.post.append(row.id)
        return
    if row.status != "pending":
        raise invalid_state(f"积分记录当前状态为 {row.status}，不能通过")
    approvals = done.get(row.id, [])
    if principal.user_id in {user_id for user_id, _ in approvals}:
        raise PointsError("already_reviewed", "你已经审核过这条积分记录", 409)
    rules = rules_of(row.scheme_version_id)
    item = rules.item(row.item)
    if photo_missing:
        raise PointsError(
            "evidence_required",
            "这个项目须附照片佐证，请记分员先上传照片",
            409,
            {"item": row.item},
        )
    _check_grade(item, grade)
    plan.approve[row.id] = grade
    if len(approvals) + 1 < rules.reviewers_required:
        return
    if item is not None and item.graded_by_reviewers:
        lowest = item.lowest_grade({named for _, named in approvals if named is not None} | {grade})
        plan.grades[row.id] = (item.graded_hours(row.quantity, lowest), lowest)
    if rules.notice_days == 0:
        plan.post.append(row.id)
    else:
        plan.notice[row.id] = today() + timedelta(days=rules.notice_days)


_SET_GRADED = (
    update(Entry.__table__)
    .where(Entry.__table__.c.id == bindparam("entry_id"))
    .values(
        points=bindparam("new_points", type_=Entry.__table__.c.points.type),
        grade=bindparam("lowest"),
    )
)


def _write_approvals(principal, rows, ids, plan, note):
    """The writes of a planned batch approval, in a few statements for the whole batch. Lock
    order as everywhere: the entries are locked already, then the accounts, by id."""
    me, now = principal.user_id, utcnow()
    points = {i: rows[i].points for i in ids}
    points.update({i: new for i, (new, _) in plan.grades.items()})
    posted = set(plan.post)
    status = {
        i: "posted" if i in posted else "in_notice" if i in plan.notice else rows[i].status
        for i in ids
    }
    moving = sorted({rows[i].id for i in (*plan.post, *plan.grades)})
    accounts = ledger.lock_accounts(
        sorted({(rows[i].scheme_id, rows[i].holder_id) for i in moving})
    )

    def account(i):
        return accounts[(rows[i].scheme_id, rows[i].holder_id)]

    if plan.approve:
        db.session.execute(
            insert(Approval),
            [dict(entry_id=i, user_id=me, at=now, grade=g) for i, g in plan.approve.items()],
        )
    groups = {}
    for i in ids:
        groups.setdefault((status[i], plan.notice.get(i)), []).append(i)
    for (new_status, ends), group in groups.items():
        values = dict(reviewed_by_id=me, review_note=note, status=new_status)
        if ends is not None:
            values["notice_ends_on"] = ends
        db.session.execute(
            update(Entry)
            .where(Entry.id.in_(group))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if plan.grades:
        db.session.connection().execute(
            _SET_GRADED,
            [
                {"entry_id": i, "new_points": new, "lowest": lowest}
                for i, (new, lowest) in sorted(plan.grades.items())
            ],
        )
    pending = {}
    for i, (new, _) in plan.grades.items():
        pending[account(i).id] = pending.get(account(i).id, 0) + new - rows[i].points
    for i in plan.post:
        pending[account(i).id] = pending.get(account(i).id, 0) - points[i]
    _post_rows(rows, plan.post, points, pending, me, account)
    _insert_events("approve", me, now, ((i, status[i], note or "") for i in ids))
    notices.enqueue_many(
        ((i, rows[i].holder_id) for i in ids if i in plan.notice), "in_notice", now
    )
    _counted_and_expired(rows, ids, status)


def _post_rows(rows, post, points, pending, user_id, account):
    """`_post` for many entries (in the order given), with the pending moves {account id:
    points} of the batch: postings chained per account, year figures and statistics."""
    ledger.post_many([(account(i), "entry", points[i], f"entry:{i}", user_id) for i in post])
    ledger.move_pending_many(dict(sorted(pending.items())))
    ledger.count_for_years(
        [
            (
                rows[i].scheme_id,
                rows[i].holder_id,
                rows[i].occurred_on.year,
                points[i],
                rows[i].veto,
            )
            for i in post
        ]
    )
    stats.count_rows(
        (
            (r.unit_path, r.scheme_id, r.occurred_on, r.item, r.category, points[r.id])
            for r in (rows[i] for i in post)
        ),
        "post",
    )


def _counted_and_expired(rows, ids, status):
    """The metrics the ORM's flush would have counted, and no stale entry left in the session."""
    for i in ids:
        if status[i] != rows[i].status:
            metrics.counted(metrics.entries, status=status[i])
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Entry) and obj.id in rows:
            db.session.expire(obj)


def grades_to_name(entry):
    """The grades a reviewer chooses from when approving this entry (hours_graded, pending),
    else []."""
    return (
        list(rules_of(entry.scheme_version_id).item(entry.item).grades)
        if _graded_at_approval(entry)
        else []
    )


def _graded_at_approval(entry):
    item = rules_of(entry.scheme_version_id).item(entry.item)
    return entry.status == "pending" and item is not None and item.graded_by_reviewers


def reject(principal, entry_id, reason):
    end_read()
    with write():
        entry = _locked_entries([entry_id])[entry_id]
        _check_reviewer(principal, entry)
        if entry.status not in ("pending", "disputed"):
            raise invalid_state(f"积分记录当前状态为 {entry.status}，不能驳回")
        if entry.status == "disputed":
            _refuse_objector(principal, entry)
        entry.status = "rejected"
        entry.reviewed_by_id, entry.review_note = principal.user_id, reason
        stats.count(entry, "reject")
        ledger.move_pending(ledger.account_for(entry.scheme_id, entry.holder_id), -entry.points)
        _event(entry, "reject", principal.user_id, reason)
    return entry_id


def revoke(principal, entry_id, reason):
    """撤销: a posted entry's points go back by a reversing posting, never by deleting rows."""
    end_read()
    with write():
        entry = _locked_entries([entry_id])[entry_id]
        _check_reviewer(principal, entry)
        account = ledger.account_for(entry.scheme_id, entry.holder_id, lock=True)
        if entry.status == "posted":
            _refuse_closed_year(entry.scheme_id, entry.occurred_on)
            ledger.post(account, "revoke", -entry.points, f"entry:{entry.id}", principal.user_id)
            ledger.count_for_year(
                entry.scheme_id,
                entry.holder_id,
                entry.occurred_on.year,
                -entry.points,
                entry.veto,
                undo=True,
            )
            stats.count(entry, "revoke_posted")
        elif entry.status == "in_notice":
            ledger.move_pending(account, -entry.points)
            stats.count(entry, "revoke")
        else:
            raise invalid_state(f"积分记录当前状态为 {entry.status}，不能撤销")
        entry.status = "revoked"
        _event(entry, "revoke", principal.user_id, reason)
    return entry_id


def _post(entry, user_id=None):
    """已入账: the entry's points become spendable, and count for its year's ranking."""
    account = ledger.account_for(entry.scheme_id, entry.holder_id, lock=True)
    ledger.post(account, "entry", entry.points, f"entry:{entry.id}", user_id)
    ledger.move_pending(account, -entry.points)
    ledger.count_for_year(
        entry.scheme_id, entry.holder_id, entry.occurred_on.year, entry.points, entry.veto
    )
    stats.count(entry, "post")
    entry.status = "posted"


# --- public notice and objections ----------------------------------------------------------


def _object(entry, text, user_id=None, holder_id=None):
    if entry.status != "in_notice":
        raise invalid_state("只有公示中的积分记录可以提出异议")
    entry.status = "disputed"
    _event(entry, "object", user_id, text, holder_id)


def object_as_user(principal, entry_id, text):
    end_read()
    with write():
        entry = _locked_entries([entry_id])[entry_id]
        if not principal.covers(entry.holder.unit.path):
            raise forbidden()
        _object(entry, text, user_id=principal.user_id)
    return entry_id


def object_as_resident(resident, entry_id, text):
    """A resident (already signed in with code and PIN) objects within their own village."""
    entry = db.session.get(Entry, entry_id)
    if entry is None:
        raise not_found("entry")
    if village_of(resident.unit).id != village_of(entry.holder.unit).id:
        raise forbidden("只能对本村（社区）的公示提出异议")
    end_read()
    with write():
        entry = _locked_entries([entry_id])[entry_id]
        _object(entry, text, holder_id=resident.id)
    return entry_id


def notices_query(unit_code):
    unit = unit_by_code(unit_code, "unit")
    return (
        select(Entry)
        .join(Holder, Entry.holder_id == Holder.id)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(Entry.status == "in_notice", Unit.path.startswith(unit.path))
        .order_by(Entry.id.desc())
    )


# --- settling ------------------------------------------------------------------------------


def settle(as_of=None, batch=500):
    """Post the entries whose notice ended before `as_of` (default today) without objection.
    Set-based, `batch` entries a transaction: the entries locked by one SELECT (by id), then
    their accounts (by id), the postings, status changes and events written for all at once."""
    as_of = as_of or today()
    posted = 0
    while True:
        with write():
            ids = (
                db.session.execute(
                    select(Entry.id)
                    .where(Entry.status == "in_notice", Entry.notice_ends_on < as_of)
                    .order_by(Entry.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            rows = _locked_rows(ids)
            due = [i for i in ids if rows[i].status == "in_notice"]  # not revoked meanwhile
            if due:
                _settle_rows(rows, due)
                posted += len(due)
        if len(ids) < batch:
            return posted


def _settle_rows(rows, due):
    accounts = ledger.lock_accounts(sorted({(rows[i].scheme_id, rows[i].holder_id) for i in due}))

    def account(i):
        return accounts[(rows[i].scheme_id, rows[i].holder_id)]

    points = {i: rows[i].points for i in due}
    pending = {}
    for i in due:
        pending[account(i).id] = pending.get(account(i).id, 0) - points[i]
    _post_rows(rows, due, points, pending, None, account)
    db.session.execute(
        update(Entry)
        .where(Entry.id.in_(due))
        .values(status="posted")
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    _insert_events(
        "settle",
        None,
        now,
        ((i, "posted", f"公示期满 {rows[i].notice_ends_on.isoformat()}") for i in due),
    )
    _counted_and_expired(rows, due, dict.fromkeys(due, "posted"))
