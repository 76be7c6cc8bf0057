"""统计: running entry counts per unit (and every unit above it) and month, kept by the entries
service in the transaction of each change, read by the statistics report."""

from decimal import Decimal

from sqlalchemy import update

from points.database import insert_ignore
from points.extensions import db
from points.entries.models import EntryStat


def count(entry, event):
    """Move the month's figures for one change of an entry (record, post, reject, revoke) on
    the holder's unit and on every unit above it, so any unit's statistics read its own rows."""
    unit_ids = [int(i) for i in entry.holder.unit.path.strip("/").split("/")]
    key = dict(
        scheme_id=entry.scheme_id,
        year=entry.occurred_on.year,
        month=entry.occurred_on.month,
        item=entry.item,
    )
    for unit_id in unit_ids:
        insert_ignore(
            EntryStat,
            unit_id=unit_id,
            **key,
            category=entry.category,
            recorded=0,
            posted=0,
            rejected=0,
            revoked=0,
            granted=Decimal(0),
            deducted=Decimal(0),
        )
    changes = {}
    if event in ("record", "post", "reject"):
        column = {"record": "recorded", "post": "posted", "reject": "rejected"}[event]
        changes[column] = getattr(EntryStat, column) + 1
    if event in ("post", "revoke_posted"):
        sign = 1 if event == "post" else -1
        if entry.points >= 0:
            changes["granted"] = EntryStat.granted + entry.points * sign
        else:
            changes["deducted"] = EntryStat.deducted - entry.points * sign
    if event in ("revoke", "revoke_posted"):
        changes["revoked"] = EntryStat.revoked + 1
    db.session.execute(
        update(EntryStat)
        .filter_by(**key)
        .where(EntryStat.unit_id.in_(unit_ids))
        .values(changes)
        .execution_options(synchronize_session=False)
    )


def count_many(entries, event):
    """`count` for many entries of one change at once (a batch): one set of statements per
    unit path, month and item, however many entries share it."""
    groups = {}
    for entry in entries:
        key = (
            entry.holder.unit.path,
            entry.scheme_id,
            entry.occurred_on.year,
            entry.occurred_on.month,
            entry.item,
            entry.category,
        )
        groups.setdefault(key, []).append(entry)
    for (path, scheme_id, year, month, item, category), group in groups.items():
        unit_ids = [int(i) for i in path.strip("/").split("/")]
        key = dict(scheme_id=scheme_id, year=year, month=month, item=item)
        for unit_id in unit_ids:
            insert_ignore(
                EntryStat,
                unit_id=unit_id,
                **key,
                category=category,
                recorded=0,
                posted=0,
                rejected=0,
                revoked=0,
                granted=Decimal(0),
                deducted=Decimal(0),
            )
        changes = {}
        if event in ("record", "post", "reject"):
            column = {"record": "recorded", "post": "posted", "reject": "rejected"}[event]
            changes[column] = getattr(EntryStat, column) + len(group)
        if event in ("post", "revoke_posted"):
            sign = 1 if event == "post" else -1
            granted = sum((e.points for e in group if e.points >= 0), Decimal(0))
            deducted = sum((-e.points for e in group if e.points < 0), Decimal(0))
            changes["granted"] = EntryStat.granted + granted * sign
            changes["deducted"] = EntryStat.deducted + deducted * sign
        if event in ("revoke", "revoke_posted"):
            changes["revoked"] = EntryStat.revoked + len(group)
        db.session.execute(
            update(EntryStat)
            .filter_by(**key)
            .where(EntryStat.unit_id.in_(unit_ids))
            .values(changes)
            .execution_options(synchronize_session=False)
        )
