"""Who is calling and what they may do: passwords, tokens, lockouts, grants and scope."""

import hashlib
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from points.database import Prepared, end_read, lock_key, unit_connection, utcnow, write
from points.errors import PointsError, forbidden, invalid, not_found, reason
from points.extensions import db
from points.org.models import Holder, Unit, in_scope
from points.org.service import UNKNOWN_HOLDER, UNKNOWN_UNIT, unit_by_code
from points.users.models import Grant, LoginFailure, Token, User, UserLink

# Checked against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = None


@dataclass(frozen=True)
class GrantView:
    role: str
    unit_id: int
    unit: str  # code
    path: str


@dataclass(frozen=True)
class Principal:
    """The caller of one request and their (role, unit) grants."""

    user_id: int
    username: str
    grants: tuple

    def allows(self, role, path):
        """The role over a unit (by its path) through any grant on it or above it."""
        return any(g.role == role and path.startswith(g.path) for g in self.grants)

    def covers(self, path):
        return any(path.startswith(g.path) for g in self.grants)

    def paths(self, role=None):
        return [g.path for g in self.grants if role is None or g.role == role]

    def admin_of_root(self):
        """An admin grant on a root unit (a path of one id): the whole tree is theirs."""
        return any(g.role == "admin" and g.path.count("/") == 2 for g in self.grants)


def hash_secret(secret):
    return generate_password_hash(secret, method=current_app.config["PASSWORD_HASH_METHOD"])


def hash_pin(pin):
    """A household's or member's PIN, at the PIN cost (PIN_HASH_METHOD, see config.py)."""
    return generate_password_hash(pin, method=current_app.config["PIN_HASH_METHOD"])


def hash_pins(pins, progress=None):
    """Many PINs hashed at once, one thread per core (hashlib's scrypt releases the GIL), in
    order; an empty PIN gives None. `progress(n)` is called as each n more are done."""
    method = current_app.config["PIN_HASH_METHOD"]
    hashed = [None] * len(pins)
    todo = [i for i, pin in enumerate(pins) if pin]
    if progress is not None and len(todo) < len(pins):
        progress(len(pins) - len(todo))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for i, digest in zip(
            todo, pool.map(lambda i: generate_password_hash(pins[i], method=method), todo)
        ):
            hashed[i] = digest
            if progress is not None:
                progress(1)
    return hashed


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


# --- lockout -------------------------------------------------------------------------------


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])


def begin_attempt(scope, name, limit=None):
    """Count this sign-in attempt as a failure before checking it, so that parallel guesses
    cannot slip past the limit; refuse with 429 while `limit` failures (the contract's five
    unless told) are in the window.

    Returns the failure row's id: `forgive` it when the secret was right.
    """
    limit = current_app.config["LOCKOUT_FAILURES"] if limit is None else limit
    end_read()
    with write():
        lock_key(f"login:{scope}:{name}")
        attempt = LoginFailure(scope=scope, name=name, at=utcnow())
        db.session.add(attempt)
        db.session.flush()
        failures = db.session.execute(
            select(func.count())
            .select_from(LoginFailure)
            .where(
                LoginFailure.scope == scope,
                LoginFailure.name == name,
                LoginFailure.at > _window_start(),
            )
        ).scalar_one()
        if failures > limit:
            db.session.delete(attempt)
            locked = True
        else:
            locked = False
        attempt_id = attempt.id
    if locked:
        raise PointsError("too_many_attempts", "尝试次数过多，请 15 分钟后再试", 429)
    return attempt_id


def forgive(*attempt_ids):
    db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(attempt_ids)))


def forget_old_failures():
    """Failures older than the window count for nothing: dropped when the service settles."""
    with write():
        db.session.execute(delete(LoginFailure).where(LoginFailure.at <= _window_start()))


def check_dummy(secret):
    """Spend the time a real check takes, for an unknown name: both answers take as long."""
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or hash_secret(secrets.token_hex(8))
    check_password_hash(_DUMMY_HASH, secret)


# --- sign-in and tokens --------------------------------------------------------------------


def check_password(username, password):
    """The user when the password is right; counts failures and locks out as the contract says."""
    attempt = begin_attempt("user", username)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or user.disabled:
        check_dummy(password)
        user = None
    elif not check_password_hash(user.password_hash, password):
        user = None
    if user is None:
        raise PointsError("invalid_credentials", "用户名或密码错误", 401)
    return user, attempt


def issue_token(username, password):
    user, attempt = check_password(username, password)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=current_app.config["TOKEN_HOURS"])
    end_read()
    with write():
        forgive(attempt)
        db.session.add(Token(digest=_digest(token), user_id=user.id, expires_at=expires_at))
    return {"token": token, "expires_at": expires_at, "user": user_view(user)}


def sign_in(username, password):
    """登录 for a page session: the user when the password is right, with the same lockout
    as the API's token; the failure counted before the check is forgiven on success."""
    user, attempt = check_password(username, password)
    end_read()
    with write():
        forgive(attempt)
    return user


def active_user(user_id, session_version=None):
    """The user a page session belongs to, or None once disabled or signed out (out at once):
    a session made before the user's last logout carries an older session version."""
    user = db.session.get(User, user_id)
    if user is None or user.disabled:
        return None
    if session_version is not None and user.session_version != session_version:
        return None
    return user


def end_sessions(user_id):
    """登出: every page session of this user made so far stops signing them in."""
    end_read()
    with write():
        db.session.execute(
            update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
        )


# One statement per request: the token (unexpired, of a user not disabled) and every grant of
# its user with the unit's path, in grant order. Built once; a user without grants gives one
# row with NULLs. Nothing is cached across requests, so a disabled user or a removed grant
# counts from the very next request, in every process.
_PRINCIPAL_BY_TOKEN = Prepared(
    select(User.id, User.username, Grant.role, Unit.id.label("unit_id"), Unit.code, Unit.path)
    .select_from(Token)
    .join(User, Token.user_id == User.id)
    .outerjoin(Grant, Grant.user_id == User.id)
    .outerjoin(Unit, Grant.unit_id == Unit.id)
    .where(
        Token.digest == bindparam("digest"),
        Token.expires_at > bindparam("now", type_=Token.expires_at.type),
        User.disabled.is_(False),
    )
    .order_by(Grant.id)
)
_GRANTS_OF_USER = (
    select(Grant.role, Unit.id, Unit.code, Unit.path)
    .join(Unit, Grant.unit_id == Unit.id)
    .where(Grant.user_id == bindparam("user_id"))
    .order_by(Grant.id)
)


def principal_for_token(token):
    rows = _PRINCIPAL_BY_TOKEN.all(unit_connection(), {"digest": _digest(token), "now": utcnow()})
    if not rows:
        raise PointsError("unauthorized", "请先登录：令牌缺失、无效或已过期", 401)
    return Principal(
        rows[0][0],
        rows[0][1],
        tuple(
            GrantView(role, unit_id, code, path)
            for _, _, role, unit_id, code, path in rows
            if role is not None
        ),
    )


def principal_for_user(user_id, username):
    grants = db.session.connection().execute(_GRANTS_OF_USER, {"user_id": user_id}).all()
    return Principal(
        user_id, username, tuple(GrantView(r, uid, code, path) for r, uid, code, path in grants)
    )


# --- users and grants ----------------------------------------------------------------------


def usernames(ids):
    """{user id: username} for these ids (None ignored): who made each posting."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def user_view(user, links=False):
    """A user as the API shows them; `links` for reading a user (the token's answer has none)."""
    view = {
        "username": user.username,
        "display_name": user.display_name,
        "grants": [{"role": g.role, "unit": g.unit.code} for g in user.grants],
    }
    if links:
        view["links"] = [holder.code for holder in linked(user.id)]
    return view


def _require_admin_over(principal, unit):
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以这样做")


def _manages(principal, user):
    """Every grant the user holds lies within the caller's admin grants; a user with no grants
    belongs to the admins of a root unit alone (no county can claim them)."""
    if user.id == principal.user_id:
        return True
    if not user.grants:
        return principal.admin_of_root()
    return all(principal.allows("admin", g.unit.path) for g in user.grants)


def _managed_user(principal, username):
    """A user the caller administers (see `_manages`)."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    if not _manages(principal, user):
        raise forbidden("这个用户不在你管理的单位内")
    return user


def managed_users(principal, limit=200):
    """The users the caller administers, by username: the admin pages' list."""
    paths = principal.paths("admin")
    if not paths:
        return []
    within = (
        select(Grant.user_id).join(Unit, Grant.unit_id == Unit.id).where(in_scope(Unit.path, paths))
    )
    query = select(User).where(User.id.in_(within))
    if principal.admin_of_root():
        query = select(User).where(User.id.in_(within) | ~User.id.in_(select(Grant.user_id)))
    found = db.session.execute(query.order_by(User.username).limit(limit)).scalars()
    return [user for user in found if _manages(principal, user)]


def create_user(principal, username, password, display_name, grants):
    units = [(g["role"], unit_by_code(g["unit"], "grants")) for g in grants]
    for _, unit in units:
        _require_admin_over(principal, unit)
    if not units and not principal.admin_of_root():
        raise forbidden("只有最上级单位的管理员可以创建没有权限的用户")
    password_hash = hash_secret(password)
    end_read()
    try:
        with write():
            user = User(
                username=username, password_hash=password_hash, display_name=display_name or ""
            )
            db.session.add(user)
            db.session.flush()
            for role, unit in dict.fromkeys(units):
                db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
    except IntegrityError:
        raise PointsError("conflict", f"用户名 {username} 已存在", 409) from None
    return db.session.get(User, user.id)


def get_user(principal, username):
    return _managed_user(principal, username)


def add_grant(principal, username, role, unit_code):
    unit = unit_by_code(unit_code, "unit")
    _require_admin_over(principal, unit)
    end_read()
    with write():
        user = _managed_user(principal, username)
        if not any(g.role == role and g.unit_id == unit.id for g in user.grants):
            user.grants.append(Grant(role=role, unit_id=unit.id))
    return db.session.get(User, user.id)


def remove_grant(principal, username, role, unit_code):
    unit = unit_by_code(unit_code, "unit")
    _require_admin_over(principal, unit)
    end_read()
    with write():
        user = _managed_user(principal, username)
        user.grants = [g for g in user.grants if not (g.role == role and g.unit_id == unit.id)]
    return db.session.get(User, user.id)


def disable_user(principal, username):
    """A disabled user's tokens stop working at once: they are deleted with it."""
    end_read()
    with write():
        user = _managed_user(principal, username)
        if user.id == principal.user_id:
            raise PointsError("invalid_state", "不能停用自己的账号", 409)
        user.disabled = True
        user.session_version = User.session_version + 1
        db.session.execute(delete(Token).where(Token.user_id == user.id))
    return user


def create_user_cli(username, password, role, unit_code, display_name=""):
    """The first users of a new install, from the command line (no caller to check)."""
    unit = unit_by_code(unit_code, "unit")
    end_read()
    with write():
        user = User(
            username=username, password_hash=hash_secret(password), display_name=display_name
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
    return user


def grant_cli(username, role, unit_code):
    unit = unit_by_code(unit_code, "unit")
    end_read()
    with write():
        user = db.session.execute(
            select(User).where(User.username == username)
        ).scalar_one_or_none()
        if user is None:
            raise not_found("user")
        if not any(g.role == role and g.unit_id == unit.id for g in user.grants):
            db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
    return user


# --- links and conflict of interest (回避) -------------------------------------------------


def linked(user_id):
    """The holders a user stands back from, by code."""
    return links_of([user_id]).get(user_id, [])


def links_of(user_ids):
    """{user id: [holders, by code]} for many users at once (the admin page's list)."""
    rows = db.session.execute(
        select(UserLink.user_id, Holder)
        .join(Holder, UserLink.holder_id == Holder.id)
        .where(UserLink.user_id.in_(user_ids))
        .order_by(Holder.code)
    ).all()
    found = {}
    for user_id, holder in rows:
        found.setdefault(user_id, []).append(holder)
    return found


_LINKED_AMONG = select(UserLink.holder_id).where(
    UserLink.user_id == bindparam("user_id"),
    UserLink.holder_id.in_(bindparam("ids", expanding=True)),
)


def refuse_conflict(principal, holders):
    """回避: the one check every door that moves points goes through (record, review, revoke,
    settle a dispute, redeem, void). `holders` maps code → id; a user linked to any of them is
    refused whole with 403 conflict_of_interest, every linked holder named."""
    if not holders:
        return
    found = set(
        db.session.connection()
        .execute(_LINKED_AMONG, {"user_id": principal.user_id, "ids": list(holders.values())})
        .scalars()
    )
    refuse_linked(holders, found)


def refuse_linked(holders, found):
    """refuse_conflict's rule for a caller that already read the links (the counter's plan reads
    them in its one statement): `found` are the ids among `holders` the user is linked to."""
    if found:
        named = {
            code: ["conflict of interest"]
            for code, holder_id in holders.items()
            if holder_id in found
        }
        raise PointsError(
            "conflict_of_interest",
            "你与该户有关联（本人或近亲属），须回避",
            403,
            {"holders": named},
        )


def _link_target(principal, username, holder_code):
    """The user and the holder of a link: the caller must be an admin covering the holder."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    holder = db.session.execute(
        select(Holder).where(Holder.code == holder_code)
    ).scalar_one_or_none()
    if holder is None:
        raise invalid({"holder": [UNKNOWN_HOLDER]})
    if principal is not None and not principal.allows("admin", holder.unit.path):
        raise forbidden("只有该户所在单位的管理员可以登记回避关系")
    return user, holder


def add_link(principal, username, holder_code):
    """Link a user to a holder they must stand back from; principal None: the command line."""
    user, holder = _link_target(principal, username, holder_code)
    end_read()
    try:
        with write():
            db.session.add(
                UserLink(
                    user_id=user.id,
                    holder_id=holder.id,
                    created_at=utcnow(),
                    created_by_id=principal.user_id if principal else None,
                )
            )
    except IntegrityError:
        raise PointsError("conflict", f"{username} 已与 {holder.code} 关联", 409) from None
    return holder


def remove_link(principal, username, holder_code):
    """Unlink; never one's own link, or a scorer could lift their own standing back."""
    user, holder = _link_target(principal, username, holder_code)
    if principal is not None and user.id == principal.user_id:
        raise forbidden("不能解除自己的回避关系，请由其他管理员办理")
    end_read()
    with write():
        removed = db.session.execute(
            delete(UserLink).where(UserLink.user_id == user.id, UserLink.holder_id == holder.id)
        ).rowcount
    if not removed:
        raise PointsError("not_found", f"{username} 与 {holder.code} 没有关联", 404)
    return holder


# --- residents and holder lists (they sign in with a PIN; a list may link staff, 回避) --------


def resident(holder_code, pin, address):
    """A resident signed in with household (or member) code and PIN, with the contract's
    lockouts: five failures per holder, and PIN_ADDRESS_FAILURES per client address over all
    holders (one client trying 1234 on every household). Both count before the check; an
    unknown code costs a hash check too, so it answers in the time a wrong PIN takes."""
    per_address = begin_attempt(
        "address", address or "-", current_app.config["PIN_ADDRESS_FAILURES"]
    )
    per_holder = begin_attempt("holder", holder_code)
    holder = db.session.execute(
        select(Holder).where(Holder.code == holder_code)
    ).scalar_one_or_none()
    if holder is None or not holder.pin_hash:
        check_dummy(pin)
        holder = None
    elif not check_password_hash(holder.pin_hash, pin):
        holder = None
    if holder is None:
        raise PointsError("invalid_credentials", "编号或密码错误", 401)
    end_read()
    with write():
        forgive(per_address, per_holder)
    return holder


KIND_WORDS = {
    "household": "household",
    "户": "household",
    "农户": "household",
    "member": "member",
    "党员": "member",
    "staff": "staff",
    "网格员": "staff",
    "organisation": "organisation",
    "村党组织": "organisation",
}  # 评档定级


def import_holders(principal, rows, progress=None):
    """导入农户名单: rows are (line number, {"code", "name", "kind", "unit", "pin"?, "user"?})
    from a village's list (org.service.read_holder_list); `user` names the staff user the
    household belongs to (a link, 回避); principal None: the command line, any unit. Every row is
    checked first; on any error nothing is imported and the validation error names each line
    ({"lines": {"3": ["unknown unit"]}}). The PINs are then hashed in parallel, before the write
    section (`progress(n)` is told of each), and all rows are inserted by two set-based
    statements in one write. Returns the number imported."""
    code_ok = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
    codes = [row.get("code", "").strip() for _, row in rows]
    taken = set()
    for first in range(0, len(codes), 500):
        chunk = [c for c in codes[first : first + 500] if c]
        taken |= set(
            db.session.execute(select(Holder.code).where(Holder.code.in_(chunk))).scalars()
        )
    unit_codes = {row.get("unit", "").strip() for _, row in rows}
    units = {
        u.code: u
        for u in db.session.execute(select(Unit).where(Unit.code.in_(unit_codes))).scalars()
    }
    usernames = {(row.get("user") or "").strip() for _, row in rows} - {""}
    staff = dict(
        db.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all()
    )
    errors, seen, ready = {}, {}, []
    for line, row in rows:
        problems = []
        code, name = row.get("code", "").strip(), row.get("name", "").strip()
        kind = KIND_WORDS.get(row.get("kind", "").strip().lower())
        unit, pin = units.get(row.get("unit", "").strip()), (row.get("pin") or "").strip()
        username = (row.get("user") or "").strip()
        if not code_ok.match(code):
            problems.append(
                reason("import_code_chars", "code: letters, digits and _ . - only, at most 64")
            )
        elif code in taken:
            problems.append(reason("code_taken", "code already exists"))
        elif code in seen:
            problems.append(
                reason("code_twice", "code listed twice (line {line})", line=seen[code])
            )
        if not name or len(name) > 200:
            problems.append(reason("name_required", "name required"))
        if kind is None:
            problems.append(
                reason("holder_kind", "kind must be household, member, organisation or staff")
            )
        if unit is None:
            problems.append(UNKNOWN_UNIT)
        elif principal is not None and not principal.allows("admin", unit.path):
            problems.append(reason("unit_outside", "unit outside your units"))
        if pin and not re.fullmatch(r"[0-9]{4,8}", pin):
            problems.append(reason("import_pin_digits", "pin: 4 to 8 digits"))
        if username and username not in staff:
            problems.append(reason("unknown_user", "unknown user"))
        seen.setdefault(code, line)
        if problems:
            errors[str(line)] = problems
        else:
            ready.append((code, name, kind, unit.id, pin, staff.get(username)))
    if not rows:
        raise invalid({"lines": {"1": [reason("no_rows", "no rows")]}})
    if errors:
        raise invalid({"lines": errors})
    hashes = hash_pins([pin for *_, pin, _ in ready], progress)  # outside the write section
    end_read()
    try:
        with write():
            ids = (
                db.session.execute(
                    insert(Holder).returning(Holder.id, sort_by_parameter_order=True),
                    [
                        {
                            "code": code,
                            "name": name,
                            "kind": kind,
                            "unit_id": unit_id,
                            "pin_hash": pin_hash,
                        }
                        for (code, name, kind, unit_id, _, _), pin_hash in zip(ready, hashes)
                    ],
                )
                .scalars()
                .all()
            )
            links = [
                {
                    "user_id": user_id,
                    "holder_id": holder_id,
                    "created_at": utcnow(),
                    "created_by_id": principal.user_id if principal else None,
                }
                for holder_id, (*_, user_id) in zip(ids, ready)
                if user_id is not None
            ]
            if links:
                db.session.execute(insert(UserLink), links)
    except IntegrityError:
        raise PointsError("conflict", "编号已存在", 409) from None
    return len(ready)
