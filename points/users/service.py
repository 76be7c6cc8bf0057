"""Who is calling and what they may do: passwords, tokens, lockouts, grants and scope."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from points.database import lock_key, utcnow, write
from points.errors import PointsError, forbidden, invalid, not_found
from points.extensions import db
from points.org.models import Unit
from points.users.models import Grant, LoginFailure, Token, User

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


def hash_secret(secret):
    return generate_password_hash(secret, method=current_app.config["PASSWORD_HASH_METHOD"])


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
    with write():
        lock_key(f"login:{scope}:{name}")
        attempt = LoginFailure(scope=scope, name=name, at=utcnow())
        db.session.add(attempt)
        db.session.flush()
        failures = db.session.execute(
            select(func.count()).select_from(LoginFailure)
            .where(LoginFailure.scope == scope, LoginFailure.name == name,
                   LoginFailure.at > _window_start())).scalar_one()
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
    with write():
        forgive(attempt)
        db.session.add(Token(digest=_digest(token), user_id=user.id, expires_at=expires_at))
    return {"token": token, "expires_at": expires_at, "user": user_view(user)}


def sign_in(username, password):
    """登录 for a page session: the user when the password is right, with the same lockout
    as the API's token; the failure counted before the check is forgiven on success."""
    user, attempt = check_password(username, password)
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
    with write():
        db.session.execute(update(User).where(User.id == user_id)
                           .values(session_version=User.session_version + 1))


# One statement per request: the token (unexpired, of a user not disabled) and every grant of
# its user with the unit's path, in grant order. Built once; a user without grants gives one
# row with NULLs. Nothing is cached across requests, so a disabled user or a removed grant
# counts from the very next request, in every process.
_PRINCIPAL_BY_TOKEN = (
    select(User.id, User.username, Grant.role, Unit.id.label("unit_id"), Unit.code, Unit.path)
    .select_from(Token)
    .join(User, Token.user_id == User.id)
    .outerjoin(Grant, Grant.user_id == User.id)
    .outerjoin(Unit, Grant.unit_id == Unit.id)
    .where(Token.digest == bindparam("digest"), Token.expires_at > bindparam("now", type_=Token.expires_at.type),
           User.disabled.is_(False))
    .order_by(Grant.id))
_GRANTS_OF_USER = (
    select(Grant.role, Unit.id, Unit.code, Unit.path).join(Unit, Grant.unit_id == Unit.id)
    .where(Grant.user_id == bindparam("user_id")).order_by(Grant.id))


def principal_for_token(token):
    rows = db.session.connection().execute(
        _PRINCIPAL_BY_TOKEN, {"digest": _digest(token), "now": utcnow()}).all()
    if not rows:
        raise PointsError("unauthorized", "请先登录：令牌缺失、无效或已过期", 401)
    return Principal(rows[0][0], rows[0][1], tuple(
        GrantView(role, unit_id, code, path) for _, _, role, unit_id, code, path in rows if role is not None))


def principal_for_user(user_id, username):
    grants = db.session.connection().execute(_GRANTS_OF_USER, {"user_id": user_id}).all()
    return Principal(user_id, username, tuple(GrantView(r, uid, code, path) for r, uid, code, path in grants))


# --- users and grants ----------------------------------------------------------------------

def user_view(user):
    return {"username": user.username, "display_name": user.display_name,
            "grants": [{"role": g.role, "unit": g.unit.code} for g in user.grants]}


def _unit(code, field="unit"):
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise invalid({field: ["unknown unit"]})
    return unit


def _require_admin_over(principal, unit):
    if not principal.allows("admin", unit.path):
        raise forbidden("只有该单位的管理员可以这样做")


def _managed_user(principal, username):
    """A user the caller administers: every grant the user holds lies within the caller's."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    if user.id != principal.user_id and not all(principal.allows("admin", g.unit.path) for g in user.grants):
        raise forbidden("这个用户不在你管理的单位内")
    if not user.grants and not principal.paths("admin"):
        raise forbidden()
    return user


def create_user(principal, username, password, display_name, grants):
    units = [(g["role"], _unit(g["unit"], "grants")) for g in grants]
    for _, unit in units:
        _require_admin_over(principal, unit)
    if not units and not principal.paths("admin"):
        raise forbidden()
    password_hash = hash_secret(password)
    try:
        with write():
            user = User(username=username, password_hash=password_hash, display_name=display_name or "")
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
    unit = _unit(unit_code)
    _require_admin_over(principal, unit)
    with write():
        user = _managed_user(principal, username)
        if not any(g.role == role and g.unit_id == unit.id for g in user.grants):
            user.grants.append(Grant(role=role, unit_id=unit.id))
    return db.session.get(User, user.id)


def remove_grant(principal, username, role, unit_code):
    unit = _unit(unit_code)
    _require_admin_over(principal, unit)
    with write():
        user = _managed_user(principal, username)
        user.grants = [g for g in user.grants if not (g.role == role and g.unit_id == unit.id)]
    return db.session.get(User, user.id)


def disable_user(principal, username):
    """A disabled user's tokens stop working at once: they are deleted with it."""
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
    unit = _unit(unit_code)
    with write():
        user = User(username=username, password_hash=hash_secret(password), display_name=display_name)
        db.session.add(user)
        db.session.flush()
        db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
    return user


def grant_cli(username, role, unit_code):
    unit = _unit(unit_code)
    with write():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise not_found("user")
        if not any(g.role == role and g.unit_id == unit.id for g in user.grants):
            db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
    return user
