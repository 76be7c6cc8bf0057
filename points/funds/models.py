from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from points.database import utcnow
from points.extensions import db
from points.org.models import Unit  # noqa: F401  (funds.unit_id refers to it)

FEN = Decimal("0.01")
MOVEMENT_KINDS = ("in", "out")


class Yuan(TypeDecorator):
    """元: money with two decimals, stored as whole fen (分) so no float ever sums it."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        fen = Decimal(value) * 100
        if fen != fen.to_integral_value():
            raise ValueError(f"yuan have at most two decimals: {value}")
        return int(fen)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(FEN)

    def coerce_compared_value(self, op, value):
        return self


class Fund(db.Model):
    """公益金: one unit's fund. `balance` is a running figure kept with each movement, so that
    money out is checked against it under the fund row's lock."""

    __tablename__ = "funds"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    balance: Mapped[Decimal] = mapped_column(Yuan, default=Decimal(0))

    __table_args__ = (CheckConstraint("balance >= 0", name="fund_not_negative"),)


class FundMovement(db.Model):
    """公益金收支: money in (the co-operative's second distribution, a donor) or out (a
    purchase). Rows are only ever inserted; `amount` is positive, `kind` says which way."""

    __tablename__ = "fund_movements"
    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Yuan)
    balance_after: Mapped[Decimal] = mapped_column(Yuan)
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(2000), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_fund_movements_fund_id", "fund_id", "id"),
        CheckConstraint("amount > 0", name="fund_amount_positive"),
    )
