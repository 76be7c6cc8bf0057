"""统计: running entry counts per unit (and every unit above it) and month, kept by the entries
service in the transaction of each change, read by the statistics report."""

from decimal import Decimal

from sqlalchemy import bindparam

from points.database import Points, binds, is_sqlite
from points.entries.models import EntryStat
from points.extensions import db

ZERO = Decimal(0)
_COLUMNS = ("recorded", "posted", "rejected", "revoked", "granted", "deducted")


def count(entry, event):
    """Move the month's figures for one change of an entry (record, post, reject, revoke) on
    the holder's unit and on every unit above it, so any unit's statistics read its own rows."""
    count_many([entry], event)


def count_many(entries, event):
    """`count` for many entries of one change at once (a batch)."""
    count_rows(
        (
            (e.holder.unit.path, e.scheme_id, e.occurred_on, e.item, e.category, e.points)
            for e in entries
        ),
        event,
    )


def count_rows(rows, event):
    """`count` for (unit path, scheme id, day, item, category, points) rows: the figures are
    summed per unit, month and item in Python and written by one INSERT .. ON CONFLICT DO
    UPDATE that adds them to the rows already there, however many entries and units."""
    figures = {}
    for path, scheme_id, day, item, category, points in rows:
        change = _change(event, points)
        for unit_id in (int(i) for i in path.strip("/").split("/")):
            key = (unit_id, scheme_id, day.year, day.month, item)
            row = figures.get(key)
            if row is None:
                row = figures[key] = dict(
                    unit_id=unit_id,
                    scheme_id=scheme_id,
                    year=day.year,
                    month=day.month,
                    item=item,
                    category=category,
                    **dict.fromkeys(_COLUMNS[:4], 0),
                    granted=ZERO,
                    deducted=ZERO,
                )
            for column, amount in change.items():
                row[column] += amount
    if figures:
        db.session.connection().execute(_upsert(), list(figures.values()))


def _change(event, points):
    """What one entry's change adds to its month's row."""
    change = {}
    if event in ("record", "post", "reject"):
        change[{"record": "recorded", "post": "posted", "reject": "rejected"}[event]] = 1
    if event in ("post", "revoke_posted"):
        sign = 1 if event == "post" else -1
        if points >= 0:
            change["granted"] = points * sign
        else:
            change["deducted"] = -points * sign
    if event in ("revoke", "revoke_posted"):
        change["revoked"] = 1
    return change


_UPSERTS = {}


def _upsert():
    """INSERT the month's rows, or add to the rows there (the category of a row stays)."""
    dialect = "sqlite" if is_sqlite() else "postgresql"
    statement = _UPSERTS.get(dialect)
    if statement is None:
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        values = insert(EntryStat).values(
            **binds("unit_id", "scheme_id", "year", "month", "item", "category", *_COLUMNS[:4]),
            granted=bindparam("granted", type_=Points()),
            deducted=bindparam("deducted", type_=Points()),
        )
        statement = _UPSERTS[dialect] = values.on_conflict_do_update(
            index_elements=[
                EntryStat.unit_id,
                EntryStat.scheme_id,
                EntryStat.year,
                EntryStat.month,
                EntryStat.item,
            ],
            set_={c: getattr(EntryStat, c) + values.excluded[c] for c in _COLUMNS},
        )
    return statement
