from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.database import Points, utcnow
from points.extensions import db
from points.org.models import Holder, Unit
from points.schemes.models import Scheme

MOVEMENT_KINDS = ("initial", "restock", "sale", "void")
REDEMPTION_STATES = ("completed", "voided")

shop_schemes = Table(
    "shop_schemes",
    db.Model.metadata,
    Column("shop_id", ForeignKey("shops.id"), primary_key=True),
    Column("scheme_id", ForeignKey("schemes.id"), primary_key=True),
)


class Shop(db.Model):
    """爱心超市: a shop in a unit that takes the points of one or more schemes."""

    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)

    unit: Mapped[Unit] = relationship(lazy="joined")
    schemes: Mapped[list[Scheme]] = relationship(
        secondary=shop_schemes, order_by=Scheme.code, lazy="selectin"
    )


class Goods(db.Model):
    """商品: what a shop gives for points. `stock` is a running figure kept with each movement."""

    __tablename__ = "goods"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Points)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("shop_id", "code", name="uq_goods_shop_code"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class StockMovement(db.Model):
    """库存流水: one change of a goods' stock. Rows are only ever inserted."""

    __tablename__ = "stock_movements"
    id: Mapped[int] = mapped_column(primary_key=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)  # signed: a sale is negative
    stock_after: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(String(64), default="")  # "redemption:7"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(String(2000), default="")
    donor: Mapped[str | None] = mapped_column(String(200))  # donated goods (捐赠): who gave them

    __table_args__ = (Index("ix_stock_movements_goods_id", "goods_id", "id"),)


class Redemption(db.Model):
    """兑换: points exchanged for goods at a shop, by a clerk."""

    __tablename__ = "redemptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    total: Mapped[Decimal] = mapped_column(Points)
    balance_after: Mapped[Decimal] = mapped_column(Points)
    status: Mapped[str] = mapped_column(String(20), default="completed")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    void_reason: Mapped[str | None] = mapped_column(String(2000))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    shop: Mapped[Shop] = relationship()
    scheme: Mapped[Scheme] = relationship()
    holder: Mapped[Holder] = relationship()
    lines: Mapped[list["RedemptionLine"]] = relationship(
        order_by="RedemptionLine.id", lazy="selectin"
    )

    __table_args__ = (
        Index("ix_redemptions_shop_id", "shop_id", "id"),
        Index("ix_redemptions_holder_id", "holder_id", "id"),
    )


class RedemptionLine(db.Model):
    __tablename__ = "redemption_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Points)
    points: Mapped[Decimal] = mapped_column(Points)

    goods: Mapped[Goods] = relationship(lazy="joined")
