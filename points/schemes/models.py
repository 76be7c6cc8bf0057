from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from points.database import Points, utcnow
from points.extensions import db


class Scheme(db.Model):
    __tablename__ = "schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    current_version_id: Mapped[int | None] = mapped_column(Integer)


class SchemeVersion(db.Model):
    """The scheme exactly as one sync read it; entries keep the version they were recorded under."""

    __tablename__ = "scheme_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)  # JSON of points.rules.Scheme.to_dict()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("scheme_id", "version", name="uq_scheme_versions_scheme_version"),
    )


FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a deed, a period or a report may be in


class Period(db.Model):
    """A closed year of one scheme: its awards are fixed and its entries can no longer change."""

    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    year: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    awards: Mapped[str] = mapped_column(
        Text, default="[]"
    )  # JSON: [{"holder", "unit", "points", "rank"}]
    expired: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    carried: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))

    __table_args__ = (UniqueConstraint("scheme_id", "year", name="uq_periods_scheme_year"),)
