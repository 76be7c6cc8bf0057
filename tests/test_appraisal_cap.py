"""A platform item's points are trimmed to what the item's cap still allows, by the same rule
that refuses a recorded entry past the cap (entries' check, Cap.admits)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from conftest import yesterday
from test_linxia import grid_workers

from points.entries.service import cap_left
from points.extensions import db
from points.org.models import Holder
from points.rules.model import Cap
from points.schemes.models import Scheme


def post_lx08(world, points):
    """The recorder records LX08 for S1 yesterday: the answer, whatever it is."""
    return world.as_("rec").post(
        "/entries",
        json={
            "scheme": "linxia",
            "holder": "S1",
            "item": "LX08",
            "occurred_on": yesterday(),
            "points": points,
        },
    )


def record(world, points):
    made = post_lx08(world, points)
    assert made.status == 201, made
    return made


def fits(world, points, cap=None):
    """What cap_left (the appraisals' trim) lets S1 have under LX08 (cap: month, 15 points)
    or `cap` in its place."""
    with world.app.app_context():
        item = world.rules("linxia").item("LX08")
        if cap is not None:
            item = replace(item, cap=cap)
        holder = db.session.query(Holder).filter_by(code="S1").one()
        scheme = db.session.query(Scheme).filter_by(code="linxia").one()
        return cap_left(item, holder, scheme, date.fromisoformat(yesterday()), Decimal(points))


def test_platform_points_are_trimmed_to_the_room_left_under_the_cap(world):
    grid_workers(world)
    assert fits(world, 5) == 5  # nothing yet: all of it
    for points in (5, 5, 4):
        record(world, points)
    assert fits(world, 1) == 1  # 14 of 15: one more point fits whole
    assert fits(world, 5) == 1  # trimmed to the room, not refused
    record(world, 1)
    assert fits(world, 1) is None  # 15 of 15: nothing fits
    # the entries' own check refuses the 16th point as before
    refused = post_lx08(world, 1)
    assert refused.status == 409 and refused.json["error"]["code"] == "cap_exceeded"


def test_a_count_cap_gives_nothing_once_full_and_all_before(world):
    grid_workers(world)
    record(world, 2)
    assert fits(world, 3, Cap(per="month", count=2)) == 3
    record(world, 2)
    assert fits(world, 3, Cap(per="month", count=2)) is None
    assert fits(world, 3, Cap(per="month", count=3, points=Decimal(5))) == 1
