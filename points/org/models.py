from sqlalchemy import ForeignKey, Index, String, false, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from points.extensions import db

UNIT_KINDS = ("county", "township", "village", "community", "grid", "branch")
HOLDER_KINDS = ("household", "member", "organisation", "staff")
# The unit a resident belongs to for objections: the nearest of these above their grid.
VILLAGE_KINDS = ("village", "community")


class Unit(db.Model):
    """县/乡镇/村/社区/网格/党支部: one node of the organisation tree."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Materialised path of ids, "/1/4/9/": a grant on a unit covers every path under it.
    path: Mapped[str] = mapped_column(String(1000), index=True, default="")

    parent: Mapped["Unit | None"] = relationship(remote_side=[id])


class Holder(db.Model):
    """户 / 党员: who holds points."""

    __tablename__ = "holders"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    pin_hash: Mapped[str | None] = mapped_column(String(300))

    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (Index("ix_holders_unit_kind", "unit_id", "kind"),)


def in_scope(path_column, paths):
    """A SQL condition: the unit path lies under one of these paths (none → nothing)."""
    if not paths:
        return false()
    return or_(*(path_column.startswith(p, autoescape=True) for p in paths))
