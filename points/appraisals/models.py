"""民主测评: appraisal rounds, who has voted, and the tallies of the ballots.

Secrecy (api.md: "no answer ever says who rated whom how"): a ballot is never stored as a
row. It adds one to its rating's tally (`appraisal_tallies`), and the household is marked as
having voted for that grid worker in that round (`appraisal_voters`), in two tables with no
ballot id, no time and no sequence between them, so nothing links a household to its rating.
"""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import utcnow
from points.extensions import db
from points.org.models import Unit
from points.schemes.models import Scheme

ROUND_STATES = ("open", "closed")


class AppraisalRound(db.Model):
    """测评轮次: the democratic appraisal of a unit's grid workers in one period (2026-H2)."""

    __tablename__ = "appraisal_rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    # The ratings and their points are the scheme's as it stood when the round opened.
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    period: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint(
            "scheme_id", "period", "unit_id", name="uq_appraisal_rounds_scheme_period_unit"
        ),
    )


class AppraisalVoter(db.Model):
    """That a household has rated a grid worker in a round: never how."""

    __tablename__ = "appraisal_voters"
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_rounds.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)


class AppraisalTally(db.Model):
    """How many ballots gave a grid worker this rating in a round."""

    __tablename__ = "appraisal_tallies"
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_rounds.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    rating: Mapped[str] = mapped_column(String(64), primary_key=True)
    ballots: Mapped[int] = mapped_column(Integer, default=0)
