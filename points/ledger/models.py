from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from points.database import Points, utcnow
from points.extensions import db
from points.ledger.chain import GENESIS

POSTING_KINDS = ("entry", "revoke", "redemption", "void", "expiry", "carry")


class Account(db.Model):
    """One holder's points in one scheme, with running figures kept by ledger.post."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    balance: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))  # 可用积分
    pending: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))  # 待入账积分
    # The hash of the account's last posting (GENESIS before the first), kept by ledger.post
    # under the account's lock, so a posting is chained without reading the one before it.
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)

    __table_args__ = (UniqueConstraint("scheme_id", "holder_id", name="uq_accounts_scheme_holder"),)


class AccountYear(db.Model):
    """本年获得 / 本年扣减 / 本年兑换: an account's totals for one calendar year of postings."""

    __tablename__ = "account_years"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    year: Mapped[int] = mapped_column(Integer)
    earned: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    deducted: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    redeemed: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))

    __table_args__ = (UniqueConstraint("account_id", "year", name="uq_account_years_account_year"),)


class Posting(db.Model):
    """积分明细: one movement of points. Rows are only ever inserted."""

    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(Points)
    balance_after: Mapped[Decimal] = mapped_column(Points)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ref: Mapped[str] = mapped_column(String(64))  # "entry:12", "redemption:7"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hash: Mapped[str] = mapped_column(String(64))  # points/ledger/chain.py: tamper evidence

    __table_args__ = (
        Index("ix_postings_account_id", "account_id", "id"),
        Index("ix_postings_ref", "ref"),
    )


class HolderYear(db.Model):
    """A holder's net posted points in one scheme for the year the deeds occurred in (for
    rankings, stars and awards), and how many veto items (一票否决) were posted that year."""

    __tablename__ = "holder_years"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    year: Mapped[int] = mapped_column(Integer)
    points: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    vetoes: Mapped[int] = mapped_column(Integer, default=0)
    # 参与度: how many of the year's entries are posted now, how many of them are deductions and
    # their points (positive), so participation never counts millions of entries.
    entries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deductions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deducted: Mapped[Decimal] = mapped_column(Points, default=Decimal(0), server_default="0")

    __table_args__ = (
        UniqueConstraint(
            "scheme_id", "holder_id", "year", name="uq_holder_years_scheme_holder_year"
        ),
        Index("ix_holder_years_scheme_year_points", "scheme_id", "year", "points"),
    )
