from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import Points, utcnow
from points.extensions import db
from points.org.models import Holder
from points.schemes.models import Scheme
from points.users.models import User

# pending → in_notice → posted; pending → posted; pending → rejected;
# in_notice → disputed → posted | rejected; posted | in_notice → revoked.
OPEN_STATES = ("pending", "in_notice", "disputed")
STATES = OPEN_STATES + ("posted", "rejected", "revoked")


class Entry(db.Model):
    """积分记录: one deed or deduction for one holder under one item."""

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    item: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    veto: Mapped[bool] = mapped_column(default=False)
    points: Mapped[Decimal] = mapped_column(Points)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    grade: Mapped[str | None] = mapped_column(String(64))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    holder: Mapped[Holder] = relationship(lazy="joined")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], lazy="joined")
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id], lazy="joined")

    __table_args__ = (
        Index("ix_entries_status_notice", "status", "notice_ends_on"),
        Index("ix_entries_holder_item_day", "holder_id", "scheme_id", "item", "occurred_on"),
        Index("ix_entries_scheme_status", "scheme_id", "status"),
        Index("ix_entries_recorded_by", "recorded_by_id"),
    )


class Approval(db.Model):
    """One reviewer's approval towards the scheme's quorum; one per reviewer per entry."""

    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    grade: Mapped[str | None] = mapped_column(
        String(64)
    )  # hours_graded: the quality this reviewer named

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("entry_id", "user_id", name="uq_approvals_entry_user"),)


class EntryEvent(db.Model):
    """The audit trail of an entry: who did what, when. Never updated, never deleted."""

    __tablename__ = "entry_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # the entry's status after the action
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")
    holder: Mapped[Holder | None] = relationship(lazy="joined")

    # The participation report counts objections: a few rows among millions of events.
    __table_args__ = (Index("ix_entry_events_action_entry", "action", "entry_id"),)


class EntryStat(db.Model):
    """Running counts of entries per unit (the holder's and each above it), scheme, month of the
    deed and item, kept in the transaction of every change, so statistics never sum millions
    of entries: any unit's year is at most 12 × items rows."""

    __tablename__ = "entry_stats"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    recorded: Mapped[int] = mapped_column(Integer, default=0)
    posted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    revoked: Mapped[int] = mapped_column(Integer, default=0)
    granted: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    deducted: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))

    __table_args__ = (
        UniqueConstraint(
            "unit_id", "scheme_id", "year", "month", "item", name="uq_entry_stats_key"
        ),
        Index("ix_entry_stats_year_unit", "year", "unit_id"),  # the report reads one unit's year
    )
