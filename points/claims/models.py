from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import Points, utcnow
from points.extensions import db
from points.org.models import Holder
from points.schemes.models import Scheme

# open → accepted | declined
CLAIM_STATES = ("open", "accepted", "declined")


class Claim(db.Model):
    """申领: a deed a resident declares for their own household, waiting for a recorder."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    item: Mapped[str] = mapped_column(String(64))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[Decimal | None] = mapped_column(Points)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    grade: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    holder: Mapped[Holder] = relationship(lazy="joined")
    scheme: Mapped[Scheme] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_claims_holder_status", "holder_id", "status"),
        Index("ix_claims_status", "status", "id"),
    )
