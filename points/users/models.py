from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import utcnow
from points.extensions import db
from points.org.models import Holder, Unit

ROLES = ("admin", "recorder", "reviewer", "clerk")


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept in each page session at sign-in; bumped by logout and disabling, so that every
    # session cookie issued before no longer signs anyone in (api.md, Auth: logout).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    grants: Mapped[list["Grant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Grant.id"
    )


class Grant(db.Model):
    """A (role, unit) pair: the role over that unit and every unit below it."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("user_id", "role", "unit_id", name="uq_grants_user_role_unit"),
    )


class UserLink(db.Model):
    """回避: a holder this user stands back from (their own household or member record, or a
    close kin's household): they never move that holder's points."""

    __tablename__ = "user_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    holder: Mapped[Holder] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "holder_id", name="uq_user_links_user_holder"),)


class Token(db.Model):
    """An API token, kept only as its SHA-256 digest."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(db.Model):
    """A failed sign-in (staff password or resident PIN), counted across all processes."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "user" | "holder"
    name: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_login_failures_scope_name_at", "scope", "name", "at"),)
