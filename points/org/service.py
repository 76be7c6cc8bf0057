"""Units and holders: create, read, and the scope every other capability checks against."""

import csv
import io
from collections import namedtuple

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError

from points.database import end_read, write
from points.errors import PointsError, forbidden, invalid, not_found, reason
from points.extensions import db
from points.org.models import VILLAGE_KINDS, Holder, Unit, in_scope

UNKNOWN_HOLDER = reason("unknown_holder", "unknown holder")
UNKNOWN_UNIT = reason("unknown_unit", "unknown unit")


def unit_by_code(code, field=None):
    """The unit; a 404 for a path parameter, a 422 naming the field for a body value."""
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise (invalid({field: [UNKNOWN_UNIT]}) if field else not_found("unit"))
    return unit


def holder_by_code(code, field=None):
    holder = db.session.execute(select(Holder).where(Holder.code == code)).scalar_one_or_none()
    if holder is None:
        raise invalid({field: [UNKNOWN_HOLDER]}) if field else not_found("holder")
    return holder


def insert_unit(code, name, kind, parent):
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def create_unit(principal, code, name, kind, parent_code):
    if parent_code is None:
        # A new root is made from the command line by whoever installs the service.
        raise forbidden("只能在已有单位之下创建单位")
    parent = unit_by_code(parent_code, "parent")
    if not principal.allows("admin", parent.path):
        raise forbidden("只有上级单位的管理员可以创建单位")
    return _create_unit(code, name, kind, parent)


def create_unit_cli(code, name, kind, parent_code=None):
    parent = unit_by_code(parent_code, "parent") if parent_code else None
    return _create_unit(code, name, kind, parent)


def _create_unit(code, name, kind, parent):
    end_read()
    try:
        with write():
            unit = insert_unit(code, name, kind, parent)
    except IntegrityError:
        raise PointsError("conflict", f"单位代码 {code} 已存在", 409) from None
    return unit


def get_unit(principal, code):
    unit = unit_by_code(code)
    # Staff see their own units, what lies below them, and the units above them.
    if not any(unit.path.startswith(p) or p.startswith(unit.path) for p in principal.paths()):
        raise forbidden()
    return unit


def children_codes(unit):
    return list(
        db.session.execute(
            select(Unit.code).where(Unit.parent_id == unit.id).order_by(Unit.id)
        ).scalars()
    )


def village_of(unit):
    """The village (or community) a unit lies in: residents object within their own."""
    ids = [int(i) for i in unit.path.strip("/").split("/")]
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    for unit_id in reversed(ids):
        if units[unit_id].kind in VILLAGE_KINDS:
            return units[unit_id]
    return units[ids[0]]


def holder_by_code_or_name(principal, text, field="holder"):
    """The holder a person typed: its code, or else a name that only one holder within the
    caller's units bears (a page's "pick a household by code or name")."""
    text = (text or "").strip()
    holder = db.session.execute(select(Holder).where(Holder.code == text)).scalar_one_or_none()
    if holder is not None:
        return holder
    named = (
        db.session.execute(
            select(Holder)
            .join(Unit, Holder.unit_id == Unit.id)
            .where(Holder.name == text, in_scope(Unit.path, principal.paths()))
            .order_by(Holder.code)
            .limit(10)
        )
        .scalars()
        .all()
    )
    if len(named) == 1:
        return named[0]
    if named:
        codes = ", ".join(h.code for h in named)
        raise invalid(
            {field: [reason("same_name", "several holders have this name: {codes}", codes=codes)]}
        )
    raise invalid({field: [UNKNOWN_HOLDER]})


# A holder just registered, as plain values kept before the commit: the commit expires the
# ORM objects, and reading the holder and its unit back for the answer cost two statements.
NewHolder = namedtuple("NewHolder", "id code name kind unit")
UnitRef = namedtuple("UnitRef", "id code path")  # what a view reads of the new holder's unit


def create_holder(principal, code, name, kind, unit_code, pin_hash):
    """Register a household or a party member in a unit the caller administers: one read of
    the unit before the write lock, one INSERT inside it."""
    unit = db.session.execute(
        select(Unit.id, Unit.code, Unit.path).where(Unit.code == unit_code)
    ).one_or_none()
    if unit is None:
        raise invalid({"unit": [UNKNOWN_UNIT]})
    unit = UnitRef(*unit)
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以登记农户或党员")
    end_read()
    try:
        with write():
            holder_id = db.session.execute(
                insert(Holder)
                .values(code=code, name=name, kind=kind, unit_id=unit.id, pin_hash=pin_hash)
                .returning(Holder.id)
            ).scalar_one()
    except IntegrityError:
        raise PointsError("conflict", f"编号 {code} 已存在", 409) from None
    return NewHolder(holder_id, code, name, kind, unit)


def get_holder(principal, code):
    holder = holder_by_code(code)
    if not principal.covers(holder.unit.path):
        raise forbidden()
    return holder


def holders_query(principal, unit_code=None, kind=None, q=None):
    query = select(Holder).join(Unit, Holder.unit_id == Unit.id).order_by(Holder.code)
    query = query.where(in_scope(Unit.path, principal.paths()))
    if unit_code:
        query = query.where(Unit.path.startswith(unit_by_code(unit_code, "unit").path))
    if kind:
        query = query.where(Holder.kind == kind)
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(Holder.code.ilike(pattern), Holder.name.like(pattern)))
    return query


def holders_within(principal, limit, **filters):
    """The first `limit` holders within the caller's units, by code, filtered as `holders_query`."""
    return db.session.execute(holders_query(principal, **filters).limit(limit)).scalars().all()


def units_with_holders(principal, kind, role=None, limit=500):
    """The units within the caller's grants (for a role) that hold holders of this kind:
    the grids and branches a recorder ticks households from, in tree order."""
    holding = select(Holder.unit_id).where(Holder.kind == kind)
    return (
        db.session.execute(
            select(Unit)
            .where(in_scope(Unit.path, principal.paths(role)), Unit.id.in_(holding))
            .order_by(Unit.path)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def villages():
    """The villages and communities, whose notice boards anyone may read."""
    return (
        db.session.execute(select(Unit).where(Unit.kind.in_(VILLAGE_KINDS)).order_by(Unit.path))
        .scalars()
        .all()
    )


def units_within(principal, role=None, limit=1000):
    """The units within the caller's grants (for a role, e.g. "admin"), in tree order: the
    pickers of the admin and report pages."""
    return (
        db.session.execute(
            select(Unit)
            .where(in_scope(Unit.path, principal.paths(role)))
            .order_by(Unit.path)
            .limit(limit)
        )
        .scalars()
        .all()
    )


IMPORT_ROWS = 5000  # the most households one list may have
COLUMNS = ("code", "name", "kind", "unit", "pin", "user")
HEADER_WORDS = {"code", "编号", "户号"}


def _bad_list(line, reason):
    return invalid({"lines": {str(line): [reason]}})


def read_holder_list(data, limit=IMPORT_ROWS):
    """A household list as (line number, row) pairs: UTF-8 (with or without BOM) or GBK, as
    Excel saves it; a first line of headers is skipped. A file in neither encoding, one that
    is not CSV text (NUL bytes, a spreadsheet saved as .xlsx) or one of more than `limit`
    rows is refused whole, with the validation error naming the line."""
    failed_at = 0  # the furthest either encoding read: the line to correct
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as error:
            failed_at = max(failed_at, error.start)
    else:
        raise _bad_list(data[:failed_at].count(b"\n") + 1, "not UTF-8 or GBK text")
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        for fields in reader:
            number = reader.line_num
            if "\x00" in "".join(fields):
                raise csv.Error("a NUL character")
            if not any(f.strip() for f in fields):
                continue
            if not rows and fields[0].strip().lower() in HEADER_WORDS:
                continue
            if len(rows) == limit:
                raise _bad_list(number, f"more than {limit} rows: import the list in parts")
            rows.append((number, dict(zip(COLUMNS, (f.strip() for f in fields)))))
    except csv.Error as error:
        raise _bad_list(reader.line_num, f"not CSV text: {error}") from None
    return rows
