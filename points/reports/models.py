from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from points.database import Points, utcnow
from points.extensions import db


class Period(db.Model):
    """A closed year of one scheme: its awards are fixed and its entries can no longer change."""

    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    year: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    awards: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{"holder", "unit", "points", "rank"}]
    expired: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    carried: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))

    __table_args__ = (UniqueConstraint("scheme_id", "year", name="uq_periods_scheme_year"),)


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
        UniqueConstraint("unit_id", "scheme_id", "year", "month", "item", name="uq_entry_stats_key"),
        Index("ix_entry_stats_year_unit", "year", "unit_id"),  # the report reads one unit's year
    )
