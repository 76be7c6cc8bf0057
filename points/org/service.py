"""Units and holders: create, read, and the scope every other capability checks against."""
import csv
import io
import re

from flask import current_app
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from points.database import utcnow, write
from points.errors import PointsError, forbidden, invalid, not_found
from points.extensions import db
from points.org.models import VILLAGE_KINDS, Holder, Unit, in_scope
from points.users.models import User, UserLink
from points.users.service import begin_attempt, check_dummy, forgive, hash_pins


def unit_by_code(code, field=None):
    """The unit; a 404 for a path parameter, a 422 naming the field for a body value."""
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise invalid({field: ["unknown unit"]}) if field else not_found("unit")
    return unit


def holder_by_code(code, field=None):
    holder = db.session.execute(select(Holder).where(Holder.code == code)).scalar_one_or_none()
    if holder is None:
        raise invalid({field: ["unknown holder"]}) if field else not_found("holder")
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
    return list(db.session.execute(
        select(Unit.code).where(Unit.parent_id == unit.id).order_by(Unit.id)).scalars())


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
    named = db.session.execute(
        select(Holder).join(Unit, Holder.unit_id == Unit.id)
        .where(Holder.name == text, in_scope(Unit.path, principal.paths())).order_by(Holder.code).limit(10)
    ).scalars().all()
    if len(named) == 1:
        return named[0]
    if named:
        raise invalid({field: [f"several holders have this name: {', '.join(h.code for h in named)}"]})
    raise invalid({field: ["unknown holder"]})


def create_holder(principal, code, name, kind, unit_code, pin_hash):
    unit = unit_by_code(unit_code, "unit")
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以登记农户或党员")
    try:
        with write():
            holder = Holder(code=code, name=name, kind=kind, unit_id=unit.id, pin_hash=pin_hash)
            db.session.add(holder)
    except IntegrityError:
        raise PointsError("conflict", f"编号 {code} 已存在", 409) from None
    return holder


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


def units_with_holders(principal, kind, role=None, limit=500):
    """The units within the caller's grants (for a role) that hold holders of this kind:
    the grids and branches a recorder ticks households from, in tree order."""
    holding = select(Holder.unit_id).where(Holder.kind == kind)
    return db.session.execute(
        select(Unit).where(in_scope(Unit.path, principal.paths(role)), Unit.id.in_(holding))
        .order_by(Unit.path).limit(limit)).scalars().all()


def villages():
    """The villages and communities, whose notice boards anyone may read."""
    return db.session.execute(
        select(Unit).where(Unit.kind.in_(VILLAGE_KINDS)).order_by(Unit.path)).scalars().all()


def resident(holder_code, pin, address):
    """A resident signed in with household (or member) code and PIN, with the contract's
    lockouts: five failures per holder, and PIN_ADDRESS_FAILURES per client address over all
    holders (one client trying 1234 on every household). Both count before the check; an
    unknown code costs a hash check too, so it answers in the time a wrong PIN takes."""
    per_address = begin_attempt("address", address or "-",
                                current_app.config["PIN_ADDRESS_FAILURES"])
    per_holder = begin_attempt("holder", holder_code)
    holder = db.session.execute(select(Holder).where(Holder.code == holder_code)).scalar_one_or_none()
    if holder is None or not holder.pin_hash:
        check_dummy(pin)
        holder = None
    elif not check_password_hash(holder.pin_hash, pin):
        holder = None
    if holder is None:
        raise PointsError("invalid_credentials", "编号或密码错误", 401)
    with write():
        forgive(per_address, per_holder)
    return holder


def units_within(principal, role=None, limit=1000):
    """The units within the caller's grants (for a role, e.g. "admin"), in tree order: the
    pickers of the admin and report pages."""
    return db.session.execute(
        select(Unit).where(in_scope(Unit.path, principal.paths(role))).order_by(Unit.path).limit(limit)
    ).scalars().all()


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


KIND_WORDS = {"household": "household", "户": "household", "农户": "household", "member": "member",
              "党员": "member"}
_CODE_OK = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PIN_OK = re.compile(r"[0-9]{4,8}")


def import_holders(principal, rows, progress=None):
    """导入农户名单: rows are (line number, {"code", "name", "kind", "unit", "pin"?, "user"?})
    from a village's list; `user` names the staff user the household belongs to (a link, 回避);
    principal None: the command line, any unit. Every row is checked first; on any error nothing is imported and the validation error names
    each line ({"lines": {"3": ["unknown unit"]}}). The PINs are then hashed in parallel,
    before the write section (`progress(n)` is told of each), and all rows are inserted by two
    set-based statements in one write. Returns the number imported."""
    codes = [row.get("code", "").strip() for _, row in rows]
    taken = set()
    for first in range(0, len(codes), 500):
        chunk = [c for c in codes[first:first + 500] if c]
        taken |= set(db.session.execute(select(Holder.code).where(Holder.code.in_(chunk))).scalars())
    unit_codes = {row.get("unit", "").strip() for _, row in rows}
    units = {u.code: u for u in db.session.execute(select(Unit).where(Unit.code.in_(unit_codes))).scalars()}
    usernames = {(row.get("user") or "").strip() for _, row in rows} - {""}
    staff = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    errors, seen, ready = {}, {}, []
    for line, row in rows:
        problems = []
        code, name = row.get("code", "").strip(), row.get("name", "").strip()
        kind = KIND_WORDS.get(row.get("kind", "").strip().lower())
        unit, pin = units.get(row.get("unit", "").strip()), (row.get("pin") or "").strip()
        username = (row.get("user") or "").strip()
        if not _CODE_OK.match(code):
            problems.append("code: letters, digits and _ . - only, at most 64")
        elif code in taken:
            problems.append("code already exists")
        elif code in seen:
            problems.append(f"code listed twice (line {seen[code]})")
        if not name or len(name) > 200:
            problems.append("name required")
        if kind is None:
            problems.append("kind must be household or member")
        if unit is None:
            problems.append("unknown unit")
        elif principal is not None and not principal.allows("admin", unit.path):
            problems.append("unit outside your units")
        if pin and not _PIN_OK.fullmatch(pin):
            problems.append("pin: 4 to 8 digits")
        if username and username not in staff:
            problems.append("unknown user")
        seen.setdefault(code, line)
        if problems:
            errors[str(line)] = problems
        else:
            ready.append((code, name, kind, unit.id, pin, staff.get(username)))
    if not rows:
        raise invalid({"lines": {"1": ["no rows"]}})
    if errors:
        raise invalid({"lines": errors})
    hashes = hash_pins([pin for *_, pin, _ in ready], progress)  # outside the write section
    try:
        with write():
            ids = db.session.execute(insert(Holder).returning(Holder.id, sort_by_parameter_order=True), [
                {"code": code, "name": name, "kind": kind, "unit_id": unit_id, "pin_hash": pin_hash}
                for (code, name, kind, unit_id, _, _), pin_hash in zip(ready, hashes)]).scalars().all()
            links = [{"user_id": user_id, "holder_id": holder_id, "created_at": utcnow(),
                      "created_by_id": principal.user_id if principal else None}
                     for holder_id, (*_, user_id) in zip(ids, ready) if user_id is not None]
            if links:
                db.session.execute(insert(UserLink), links)
    except IntegrityError:
        raise PointsError("conflict", "编号已存在", 409) from None
    return len(ready)
