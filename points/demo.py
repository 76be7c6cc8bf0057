"""`flask demo`: a village and a party branch to try the service with, and who can log in."""
from sqlalchemy import select

from points.database import write
from points.extensions import db
from points.org.models import Holder, Unit
from points.org.service import insert_unit
from points.schemes.models import Scheme
from points.users.models import Grant, User
from points.users.service import hash_pin, hash_secret

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗"
GIVEN = ["建国", "秀英", "志强", "桂兰", "海", "明", "丽", "德福", "玉梅", "小红", "文", "春生", "淑珍", "国庆"]
PASSWORD = "demo-pass-1"
PIN = "1234"
WARNING = ("WARNING: the demo users and their shared password are for trying the service only; "
           "an install that keeps them is open to anyone who has read this README.")


def _name(i):
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]


def load():
    """Make the demo once; a database that already has units is left as it is."""
    if db.session.execute(select(Unit.id).limit(1)).first() is not None:
        return ["the database already has units: demo not loaded"]
    pin_hash = hash_pin(PIN)
    with write():
        county = insert_unit("longhua", "隆化县", "county", None)
        township = insert_unit("lh-tangtou", "汤头沟镇", "township", county)
        village = insert_unit("lh-tangtou-v1", "汤头沟村", "village", township)
        grids = [insert_unit(f"lh-v1-g{n}", f"汤头沟村第{n}红色微网格", "grid", village) for n in (1, 2)]
        for g, grid in enumerate(grids):
            for n in range(1, 15):
                db.session.add(Holder(code=f"LH-{g + 1}{n:02d}", name=_name(g * 14 + n), kind="household",
                                      unit_id=grid.id, pin_hash=pin_hash))
        zhao = insert_unit("zhaoxian", "赵县", "county", None)
        shita = insert_unit("st-shita", "石塔社区", "community", zhao)
        branch = insert_unit("st-branch", "石塔社区党支部", "branch", shita)
        for n in range(1, 31):
            db.session.add(Holder(code=f"ST-{n:02d}", name=_name(100 + n), kind="member",
                                  unit_id=branch.id, pin_hash=pin_hash))
        password_hash = hash_secret(PASSWORD)
        users = [
            ("admin", "管理员", [("admin", county), ("admin", zhao)]),
            ("recorder", "记分员 王网格", [("recorder", village), ("recorder", branch)]),
            ("reviewer1", "监督小组 李一", [("reviewer", village), ("reviewer", branch)]),
            ("reviewer2", "监督小组 赵二", [("reviewer", village), ("reviewer", branch)]),
            ("clerk", "爱心超市 店员", [("clerk", village), ("clerk", shita)]),
        ]
        for username, display, grants in users:
            user = User(username=username, display_name=display, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            for role, unit in grants:
                db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
        shops = _open_shops(village, shita)
    lines = ["demo loaded: 隆化县 汤头沟村 (2 grids × 14 households), 石塔社区党支部 (30 members)",
             f"staff users (password {PASSWORD}): " + ", ".join(u for u, _, _ in users),
             f"residents: household LH-101 … LH-214, member ST-01 … ST-30, PIN {PIN}",
             shops]
    return lines


LOVE_SUPERMARKETS = [
    ("lh-shop", "汤头沟村爱心超市", "longhua", [
        ("soap", "肥皂", 5, 100), ("tissue", "卫生纸", 20, 60), ("toothpaste", "牙膏", 60, 30),
        ("rice", "大米", 50, 40), ("oil", "食用油", 80, 20)]),
    ("st-shop", "石塔社区爱心超市", "shita", [
        ("cup", "水杯", 20, 50), ("towel", "毛巾", 15, 50), ("care-kit", "防疫包", 30, 30)]),
]


def _open_shops(village, community):
    """爱心超市: one in the Longhua village, one in the Shita community (once the schemes are synced)."""
    from points.shop.service import open_stocked_shop

    units = {"longhua": village, "shita": community}
    schemes = {s.code: s for s in db.session.execute(select(Scheme)).scalars()}
    opened = []
    for code, name, scheme_code, goods in LOVE_SUPERMARKETS:
        if scheme_code in schemes:
            open_stocked_shop(code, name, units[scheme_code], [schemes[scheme_code]], goods)
            opened.append(code)
    if not opened:
        return "no love supermarket: run `rules sync` before `demo` to have them"
    return f"love supermarkets: {', '.join(opened)} (clerk: clerk)"
