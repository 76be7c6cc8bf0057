from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import utcnow
from points.extensions import db

# event: "recorded" (an entry about the holder was recorded) or "in_notice" (it went on notice).
# status: queued → sending → sent; a failed try goes back to queued, to failed after MAX_ATTEMPTS.


class Notice(db.Model):
    """告知: one thing a household is to be told about one of its entries (the outbox)."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    channel: Mapped[str | None] = mapped_column(String(40))  # the sender's: "slip", "sms", ...
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    entry = relationship("Entry", lazy="joined")

    __table_args__ = (
        UniqueConstraint("entry_id", "event", name="uq_notices_entry_event"),
        Index("ix_notices_status", "status", "id"),
        Index("ix_notices_holder", "holder_id"),
    )
