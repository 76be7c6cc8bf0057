"""`flask demo`: villages, a party branch and a township to try the service with, a year of
history on them, and who can log in.

The history goes through the same service functions as the pages (record, approve, object,
settle, redeem, close), so every figure on every page is one the service itself produced.
"""

from datetime import date, timedelta

from sqlalchemy import select

from points.database import end_read, today, utcnow, write
from points.extensions import db
from points.org.models import Holder, Unit
from points.org.service import insert_unit
from points.schemes.models import Scheme
from points.users.models import Grant, User, UserLink
from points.users.service import hash_pin, hash_secret, principal_for_user

PASSWORD = "demo-pass-1"
PIN = "1234"
WARNING = (
    "WARNING: the demo users and their shared password are for trying the service only; "
    "an install that keeps them is open to anyone who has read this README."
)

# Names as a village register has them: common surnames, given names of several generations.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程"
    "曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
)
GIVEN = [
    "建军",
    "秀英",
    "志强",
    "桂兰",
    "海峰",
    "明辉",
    "丽娟",
    "德胜",
    "玉梅",
    "红霞",
    "文博",
    "春生",
    "淑珍",
    "国庆",
    "凤英",
    "永刚",
    "晓燕",
    "立新",
    "金花",
    "振华",
    "雪梅",
    "宏伟",
    "翠萍",
    "长山",
    "美玲",
    "宝军",
    "素芬",
    "树林",
    "艳红",
    "福来",
    "慧敏",
    "春雷",
    "俊杰",
    "桂芝",
    "克勤",
    "月娥",
    "天佑",
    "彩霞",
    "广田",
    "子涵",
    "雨桐",
    "浩然",
    "思远",
    "一鸣",
    "秋菊",
    "铁柱",
    "兰英",
    "继先",
    "瑞芳",
    "占奎",
]
GRIDS = ("汤头沟村第一网格", "汤头沟村第二网格", "汤头沟村第三网格")
HOUSEHOLDS_PER_GRID = 12  # 和谐十二家: twelve households to a grid, with its 网格员 and 网格长
MEMBERS = 30
PINGQUAN_VILLAGES = ("卧龙村", "大营子村", "二道沟村", "石门沟村", "东山村")


class _Names:
    """Distinct names, the same on every run: a name is never given twice."""

    def __init__(self):
        self.used, self.index = set(), 0

    def next(self):
        while True:
            i = self.index
            self.index += 1
            name = (
                SURNAMES[(i * 7) % len(SURNAMES)]
                + GIVEN[(i * 11 + i // len(SURNAMES)) % len(GIVEN)]
            )
            if name not in self.used:
                self.used.add(name)
                return name


def load():
    """Make the demo once; a database that already has units is left as it is."""
    if db.session.execute(select(Unit.id).limit(1)).first() is not None:
        return ["the database already has units: demo not loaded"]
    pin_hash, password_hash = hash_pin(PIN), hash_secret(PASSWORD)
    names = _Names()
    end_read()
    with write():
        places = _places(names, pin_hash)
        users = _users(places, password_hash)
        shops = _open_shops(places["village"], places["shita"])
    lines = [
        f"demo loaded: 隆化县 汤头沟村 ({len(GRIDS)} grids × {HOUSEHOLDS_PER_GRID} households), "
        f"石塔社区党支部 ({MEMBERS} members), 平泉市 卧龙镇 ({len(PINGQUAN_VILLAGES)} 村党组织)",
        f"staff users (password {PASSWORD}): " + ", ".join(users),
        f"residents: household LH-101 … LH-{len(GRIDS)}{HOUSEHOLDS_PER_GRID:02d}, member ST-01 … "
        f"ST-{MEMBERS:02d}, PIN {PIN}",
        shops,
    ]
    lines += _linxia_grid(names, pin_hash, password_hash)
    lines += _history()
    return lines


def _add_households(unit, prefix, count, names, pin_hash, kind="household"):
    """`count` holders of `unit` (households, or a branch's members), coded prefix + 01, 02, ...
    (LH-101, LX-101, ST-01), each named from the register, all with the demo PIN."""
    for n in range(1, count + 1):
        db.session.add(
            Holder(
                code=f"{prefix}{n:02d}",
                name=names.next(),
                kind=kind,
                unit_id=unit.id,
                pin_hash=pin_hash,
            )
        )


def _places(names, pin_hash):
    county = insert_unit("longhua", "隆化县", "county", None)
    township = insert_unit("lh-tangtou", "汤头沟镇", "township", county)
    village = insert_unit("lh-tangtou-v1", "汤头沟村", "village", township)
    grids = []
    for g, grid_name in enumerate(GRIDS, start=1):
        grid = insert_unit(f"lh-v1-g{g}", grid_name, "grid", village)
        grids.append(grid)
        _add_households(grid, f"LH-{g}", HOUSEHOLDS_PER_GRID, names, pin_hash)
    zhao = insert_unit("zhaoxian", "赵县", "county", None)
    shita = insert_unit("st-shita", "石塔社区", "community", zhao)
    branch = insert_unit("st-branch", "石塔社区党支部", "branch", shita)
    _add_households(branch, "ST-", MEMBERS, names, pin_hash, kind="member")
    city = insert_unit("pingquan", "平泉市", "county", None)
    wolong = insert_unit("pq-wolong", "卧龙镇", "township", city)
    for n, village_name in enumerate(PINGQUAN_VILLAGES, start=1):
        unit = insert_unit(f"pq-wolong-v{n}", village_name, "village", wolong)
        db.session.add(
            Holder(
                code=f"PQ-{n:02d}",
                name=f"{village_name}党支部",
                kind="organisation",
                unit_id=unit.id,
            )
        )
    db.session.flush()
    return {
        "county": county,
        "village": village,
        "grids": grids,
        "zhao": zhao,
        "shita": shita,
        "branch": branch,
        "city": city,
        "wolong": wolong,
    }


def _users(places, password_hash):
    """One user per role, each grid's 网格员 and 网格长 (standing back from their own households),
    Shita's evaluation group (支部书记 and 支委), and Pingquan's township assessment group."""
    village, branch, wolong = places["village"], places["branch"], places["wolong"]
    users = [
        (
            "admin",
            "管理员",
            [("admin", places["county"]), ("admin", places["zhao"]), ("admin", places["city"])],
            None,
        ),
        ("recorder", "记分员 道德评议会", [("recorder", village), ("recorder", branch)], None),
        ("reviewer1", "监督小组 组长", [("reviewer", village)], None),
        ("reviewer2", "监督小组 成员", [("reviewer", village)], None),
        ("clerk", "爱心超市 店员", [("clerk", village), ("clerk", places["shita"])], None),
        ("st-secretary", "石塔社区党支部 书记", [("reviewer", branch)], "ST-01"),
        ("st-committee1", "石塔社区党支部 组织委员", [("reviewer", branch)], "ST-02"),
        ("st-committee2", "石塔社区党支部 宣传委员", [("reviewer", branch)], "ST-03"),
        ("pq-recorder", "卧龙镇考评组 记分", [("recorder", wolong)], None),
        ("pq-reviewer1", "卧龙镇考评组 组长", [("reviewer", wolong)], None),
        ("pq-reviewer2", "卧龙镇考评组 成员", [("reviewer", wolong)], None),
    ]
    for g, grid in enumerate(places["grids"], start=1):
        users.append((f"g{g}-worker", f"{grid.name} 网格员", [("recorder", grid)], f"LH-{g}01"))
        users.append((f"g{g}-steward", f"{grid.name} 网格长", [("recorder", grid)], f"LH-{g}02"))
    holders = dict(db.session.execute(select(Holder.code, Holder.id)).all())
    for username, display, grants, own in users:
        user = User(username=username, display_name=display, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        for role, unit in grants:
            db.session.add(Grant(user_id=user.id, role=role, unit_id=unit.id))
        if own is not None:  # 回避: their own household (or membership) is scored by others
            db.session.add(
                UserLink(
                    user_id=user.id, holder_id=holders[own], created_at=utcnow(), created_by_id=None
                )
            )
    return [username for username, _, _, _ in users]


LINXIA_GRID = "阳洼村网格"
LINXIA_HOUSEHOLDS = 9
# 网格员 of the grid: 专职 and 兼职, strong to weak (each month's deeds follow the profile).
LINXIA_WORKERS = (
    ("LX-S1", "lx-worker1", "专职网格员"),
    ("LX-S2", "lx-worker2", "兼职网格员"),
    ("LX-S3", "lx-worker3", "兼职网格员"),
)


def _linxia_grid(names, pin_hash, password_hash):
    """Linxia (临夏州网格员"五考"): 临夏县 韩集镇 阳洼村, one grid with its households (PINs, to
    rate their grid workers) and three grid workers, staff holders each linked to their own
    user; the township's 网格管理办公室 records (lx-supervisor) and two review (lx-reviewer1/2);
    the demo admin administers the county. Their year of scoring is in `_linxia_year`."""
    with write():
        county = insert_unit("linxia", "临夏县", "county", None)
        township = insert_unit("lx-hanji", "韩集镇", "township", county)
        village = insert_unit("lx-hanji-v1", "阳洼村", "village", township)
        grid = insert_unit("lx-v1-g1", LINXIA_GRID, "grid", village)
        _add_households(grid, "LX-1", LINXIA_HOUSEHOLDS, names, pin_hash)
        workers = []
        for code, username, post in LINXIA_WORKERS:
            holder = Holder(code=code, name=names.next(), kind="staff", unit_id=grid.id)
            db.session.add(holder)
            db.session.flush()
            user = User(
                username=username,
                display_name=f"{LINXIA_GRID} {post} {holder.name}",
                password_hash=password_hash,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                UserLink(
                    user_id=user.id, holder_id=holder.id, created_at=utcnow(), created_by_id=None
                )
            )
            workers.append(username)
        staff = [
            ("lx-supervisor", "韩集镇网格管理办公室 记分", "recorder"),
            ("lx-reviewer1", "韩集镇网格管理办公室 主任", "reviewer"),
            ("lx-reviewer2", "韩集镇纪委 审核", "reviewer"),
        ]
        for username, display, role in staff:
            user = User(username=username, display_name=display, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            db.session.add(Grant(user_id=user.id, role=role, unit_id=township.id))
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        db.session.add(Grant(user_id=admin.id, role="admin", unit_id=county.id))
    return [
        f"Linxia: 临夏县 韩集镇 阳洼村 {LINXIA_GRID} ({LINXIA_HOUSEHOLDS} households LX-101 … "
        f"LX-1{LINXIA_HOUSEHOLDS:02d}, PIN {PIN}; grid workers LX-S1 … LX-S{len(LINXIA_WORKERS)}, "
        f"users {', '.join(workers)}; lx-supervisor records, lx-reviewer1/2 review)"
    ]


LOVE_SUPERMARKETS = [
    (
        "lh-shop",
        "汤头沟村爱心超市",
        "longhua",
        [
            ("soap", "肥皂", 5, 100),
            ("tissue", "卫生纸", 20, 60),
            ("toothpaste", "牙膏", 60, 30),
            ("rice", "大米", 50, 40),
            ("oil", "食用油", 80, 20),
        ],
    ),
    (
        "st-shop",
        "石塔社区爱心超市",
        "shita",
        [("cup", "水杯", 20, 50), ("towel", "毛巾", 15, 50), ("care-kit", "防疫包", 30, 30)],
    ),
]


def _open_shops(village, community):
    """爱心超市: one in the Longhua village, one in the Shita community (once the schemes are
    synced)."""
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


# --- a year of history -----------------------------------------------------------------------


class _Story:
    """Staff acting through the service layer, as they would through the pages."""

    def __init__(self):
        from points.schemes.service import rules_of

        self.schemes = {s.code: s for s in db.session.execute(select(Scheme)).scalars()}
        self.rules = {code: rules_of(s.current_version_id) for code, s in self.schemes.items()}
        users = db.session.execute(select(User.id, User.username)).all()
        self.people = {name: principal_for_user(user_id, name) for user_id, name in users}

    def item(self, scheme, code):
        """The item if this scheme still has it (a village may have edited its file)."""
        rules = self.rules.get(scheme)
        return rules.item(code) if rules is not None else None

    def record(self, by, scheme, code, holders, day, **values):
        from points.entries.service import record_batch

        if self.item(scheme, code) is None or not holders:
            return []
        return record_batch(self.people[by], scheme, code, holders, day, **values)

    def approve(self, ids, reviewers, grade=None):
        from points.entries.service import approve_batch

        for reviewer in reviewers:
            if ids:
                approve_batch(self.people[reviewer], ids, None, grade)


def _history():
    """Last year scored, reviewed, posted and closed with its awards; this year's entries in every
    state (posted, in notice, objected to, pending, rejected, revoked), a township graded, and
    redemptions at the love supermarkets."""
    if "longhua" not in _Story().schemes:
        return ["no history: run `rules sync` before `demo` to have it"]
    from points.entries.service import settle
    from points.reports.service import close_year

    story = _Story()
    last, now = today().year - 1, today()
    posted = _longhua_year(story, last, 12) + _shita_year(story, last, 12)
    settle(now + timedelta(days=30))
    closed = [code for code in ("longhua", "shita") if code in story.schemes]
    for code in closed:
        close_year(story.people["admin"], code, last)
    posted += _longhua_year(story, now.year, now.month) + _shita_year(story, now.year, now.month)
    posted += _pingquan_year(story, now.year)
    linxia = _linxia_year(story, now)
    posted += linxia["posted"]
    settle(now + timedelta(days=30))
    states = _open_states(story, now)
    linxia_states = _linxia_open(story, now, linxia)
    redeemed = _redemptions(story)
    return [
        f"history: {posted} entries posted; {last} closed with awards for {', '.join(closed)}; "
        f"this year {states}; {redeemed} redemptions",
        f"Linxia: {linxia_states}",
    ]


def _day(year, month, day):
    """A day of that month, never after today."""
    return min(date(year, month, day), today())


def _households(grid):
    return [f"LH-{grid}{n:02d}" for n in range(1, HOUSEHOLDS_PER_GRID + 1)]


def _longhua_year(story, year, months):
    """Each grid's 网格员 records the grid's deeds (never their own household: the 网格长 does
    that), and the supervision group approves them."""
    ids = []
    for g in range(1, len(GRIDS) + 1):
        worker, steward = f"g{g}-worker", f"g{g}-steward"
        others = _households(g)[1:]
        for month in (4, 10):
            if month <= months:
                ids += story.record(
                    worker, "longhua", "LH02", others[g : g + 4], _day(year, month, 8 + g)
                )
        if months >= 5:
            ids += story.record(
                worker, "longhua", "LH13", others[3:8], _day(year, 5, 10 + g), quantity=1
            )
        if months >= 9:
            ids += story.record(
                worker, "longhua", "LH21", others[6:9], _day(year, 9, 12), quantity=2 + g
            )
        ids += story.record(
            worker, "longhua", "LH09", [others[(year + g) % 10]], _day(year, min(months, 3), 6)
        )
        ids += story.record(
            steward, "longhua", "LH02", [f"LH-{g}01"], _day(year, min(months, 4), 8 + g)
        )
        ids += story.record(
            worker, "longhua", "LH05", [f"LH-{g}1{g - 1}"], _day(year, min(months, 3), 15)
        )
        if months == 12:  # a full year: a brave deed, a gambler, and the 全年… items in December
            ids += story.record(worker, "longhua", "LH10", [f"LH-{g}0{3 + g}"], _day(year, 7, 20))
            if g == 2:
                ids += story.record(worker, "longhua", "LH12", ["LH-207"], _day(year, 6, 18))
            ids += story.record(worker, "longhua", "LH16", others[:4], _day(year, 12, 1))
            ids += story.record(
                worker,
                "longhua",
                "LH01",
                [c for c in others[:7] if c != "LH-207"],
                _day(year, 12, 1),
            )
    story.approve(ids, ("reviewer1", "reviewer2"))
    return len(ids)


def _shita_members(exclude=()):
    return [f"ST-{n:02d}" for n in range(4, MEMBERS + 1) if f"ST-{n:02d}" not in exclude]


def _shita_year(story, year, months):
    """The branch's recorder scores the members; two of the evaluation group approve, naming the
    quality of the hours of volunteer work."""
    ids, graded = [], []
    members = _shita_members()
    for month in (4, 10):
        if month <= months:
            ids += story.record(
                "recorder", "shita", "ST02", members[month % 3 :: 3], _day(year, month, 12)
            )
    if months >= 6:
        ids += story.record("recorder", "shita", "ST05", members[:6], _day(year, 6, 28))
    if months >= 9:
        graded += story.record(
            "recorder", "shita", "ST10", members[2:7], _day(year, 9, 5), quantity=3
        )
    graded += story.record(
        "recorder", "shita", "ST14", members[10:14], _day(year, min(months, 4), 20), quantity=4
    )
    ids += story.record("recorder", "shita", "ST02", ["ST-01", "ST-02", "ST-03"], _day(year, 1, 12))
    ids += story.record(
        "recorder", "shita", "ST04", [members[(year % 7) + 5]], _day(year, min(months, 2), 12)
    )
    _approve_shita(story, ids, graded)
    return len(ids) + len(graded)


def _approve_shita(story, ids, graded):
    """ST-01..03 are the evaluation group's own: each is approved by the two others."""
    from points.entries.models import Entry

    own = {
        "ST-01": ("st-committee1", "st-committee2"),
        "ST-02": ("st-secretary", "st-committee2"),
        "ST-03": ("st-secretary", "st-committee1"),
    }
    holders = dict(
        db.session.execute(
            select(Entry.id, Holder.code)
            .join(Holder, Entry.holder_id == Holder.id)
            .where(Entry.id.in_(ids + graded))
        ).all()
    )
    for code, pair in own.items():
        story.approve([i for i in ids if holders[i] == code], pair)
    rest = [i for i in ids if holders[i] not in own]
    story.approve(rest, ("st-secretary", "st-committee1"))
    story.approve([i for i in graded if holders[i] not in own], ("st-secretary",), grade="优")
    story.approve([i for i in graded if holders[i] not in own], ("st-committee1",), grade="良")


# Each 村党组织's share of the full marks, so the township's grades spread as the seed's did.
PINGQUAN_SHARES = (0.94, 0.85, 0.78, 0.68, 0.52)  # A, B, B, C, D


def _pingquan_year(story, year):
    """The township's assessment group scores each 村党组织 on every standard; two approve."""
    rules = story.rules.get("pingquan")
    if rules is None:
        return 0
    from decimal import ROUND_HALF_UP, Decimal

    ids, day = [], _day(year, max(today().month - 1, 1), 20)
    for n, share in enumerate(PINGQUAN_SHARES[: len(PINGQUAN_VILLAGES)], start=1):
        holder = f"PQ-{n:02d}"
        for item in rules.items:
            if item.type == "range" and item.max > 0:
                points = (item.max * Decimal(str(share))).quantize(
                    Decimal("0.1"), rounding=ROUND_HALF_UP
                )
                ids += story.record(
                    "pq-recorder", "pingquan", item.code, [holder], day, points=points
                )
            elif item.type == "graded":
                grade = min(
                    item.grades,
                    key=lambda g: abs(
                        item.grades[g] - max(item.grades.values()) * Decimal(str(share))
                    ),
                )
                ids += story.record(
                    "pq-recorder", "pingquan", item.code, [holder], day, grade=grade
                )
            elif item.type == "fixed" and item.points > 0 and share > 0.6:
                ids += story.record("pq-recorder", "pingquan", item.code, [holder], day)
    story.approve(ids, ("pq-reviewer1", "pq-reviewer2"))
    return len(ids)


# Each grid worker's month, strong to weak: LX01 meetings, LX03 days on patrol, LX08 disputes
# settled (points each), LX09 grade of the grid's records, LX11 talks given.
LINXIA_MONTH = (
    {"LX01": 4, "LX03": 22, "LX08": (5, 5, 5), "LX09": "优", "LX11": 2},
    {"LX01": 3, "LX03": 22, "LX08": (5, 5), "LX09": "良", "LX11": 2},
    {"LX01": 2, "LX03": 16, "LX08": (4,), "LX09": "良", "LX11": 1},
)
LINXIA_RATINGS = ("满意", "满意", "基本满意", "满意", "不满意", "基本满意", "满意", "满意", "满意")


def _linxia_months(now):
    """The last six months of this year already over (none in January): enough for a half,
    its quarters and its months, and few enough entries to keep the demo quick."""
    return list(range(max(1, now.month - 6), now.month))


def _last_month(now):
    """The month before this one, as a period: the appraisal round's."""
    first = now.replace(day=1) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def _alike(pairs):
    """(value, [holders]) for the holders given the same value, in first-seen order."""
    groups = {}
    for holder, value in pairs:
        groups.setdefault(value, []).append(holder)
    return list(groups.items())


def _linxia_year(story, now):
    """The township's 网格管理办公室 scores each grid worker month by month (考勤, 考绩, 考能,
    考德, 考廉); two reviewers approve. Then the last month's democratic appraisal round: the
    grid's households rate their grid workers, the admin closes it, and its results become
    entries (two approved with the rest, the third left pending)."""
    if "linxia" not in story.schemes:
        return {"posted": 0, "round": None, "left": []}
    from points.appraisals.service import cast, close_round, open_round

    year, by = now.year, "lx-supervisor"
    workers = [code for code, _, _ in LINXIA_WORKERS]
    ids = []

    def record(code, holders, day, **values):
        ids.extend(story.record(by, "linxia", code, holders, day, **values))

    for month in _linxia_months(now):
        for count in range(1, 5):  # meetings and talks: one entry each, up to the cap
            for code in ("LX01", "LX11"):
                holders = [w for w, p in zip(workers, LINXIA_MONTH) if p[code] >= count]
                record(code, holders, _day(year, month, 2 + 6 * (count - 1)))
        # one batch for the grid workers who did the same (a batch takes one value for all)
        for field, code, day in (("quantity", "LX03", 27), ("grade", "LX09", 25)):
            for value, holders in _alike([(w, p[code]) for w, p in zip(workers, LINXIA_MONTH)]):
                record(code, holders, _day(year, month, day), **{field: value})
        for n in range(3):
            pairs = [(w, p["LX08"][n]) for w, p in zip(workers, LINXIA_MONTH) if n < len(p["LX08"])]
            for points, holders in _alike(pairs):
                record("LX08", holders, _day(year, month, 5 + 7 * n), points=points)
        if month % 2 == 0:
            record("LX14", workers[:2], _day(year, month, 18))
        if month % 3 == 1:
            record("LX02", workers[2:], _day(year, month, 9))  # missed a meeting
        if month % 3 == 0:  # the quarter's knowledge test and 如实填报
            for worker, grade in zip(workers, ("优", "良", "中")):
                record("LX12", [worker], _day(year, month, 28), grade=grade)
            record("LX16", workers[:2], _day(year, month, 28))
    if now.month > 5:
        record("LX10", workers[1:2], _day(year, 5, 21))  # a flood warning passed on late
    if now.month > 6:
        record("LX13", workers[:1], _day(year, 6, 30))  # the grid's ledger shown at the county
    period = _last_month(now)
    admin = story.people["admin"]
    appraisal = open_round(admin, "linxia", period, "lx-hanji-v1")
    households = (
        db.session.execute(select(Holder).where(Holder.code.like("LX-1%")).order_by(Holder.code))
        .scalars()
        .all()
    )
    for n, household in enumerate(households):
        for w, worker in enumerate(workers):
            cast(household, appraisal.id, worker, LINXIA_RATINGS[(n + 2 * w) % len(LINXIA_RATINGS)])
    _, results = close_round(admin, appraisal.id)
    results = [entry for row in results for entry in row["entries"]]
    story.approve(ids + results[:-1], ("lx-reviewer1", "lx-reviewer2"))
    return {"posted": len(ids) + len(results) - 1, "round": period, "left": results[-1:]}


def _linxia_open(story, now, linxia):
    """This month's Linxia entries not yet final, and the appraisal result left pending."""
    if "linxia" not in story.schemes:
        return "no Linxia scheme synced"
    from points.entries import service as entries

    day = now - timedelta(days=1) if now.day > 1 else now
    by, reviewers = "lx-supervisor", ("lx-reviewer1", "lx-reviewer2")
    in_notice = story.record(by, "linxia", "LX01", ["LX-S1", "LX-S2"], day)
    story.approve(in_notice, reviewers)
    half_reviewed = story.record(by, "linxia", "LX08", ["LX-S1"], day, points=4)
    story.approve(half_reviewed, reviewers[:1])
    pending = story.record(by, "linxia", "LX09", ["LX-S3"], day, grade="良")
    rejected = story.record(by, "linxia", "LX04", ["LX-S2"], day)
    for entry_id in rejected:
        entries.reject(
            story.people["lx-reviewer1"], entry_id, "经核实当天在村委会调解纠纷，不属于脱岗。"
        )
    waiting = len(half_reviewed) + len(pending) + len(linxia["left"])
    return (
        f"appraisal round {linxia['round']} closed; this month {len(in_notice)} in notice, "
        f"{waiting} pending (one the appraisal's), {len(rejected)} rejected; the grid workers "
        "recorded nothing on the platform, so their 考绩 平台统计 items (up to 40 a month) are "
        "empty: their grades come from the township's scores and the appraisal alone"
    )


def _open_states(story, now):
    """This month's entries not yet final: pending, in notice, objected to, rejected, revoked."""
    from points.entries import service as entries

    day = now - timedelta(days=1) if now.day > 1 else now
    revoked = story.record("g3-worker", "longhua", "LH09", ["LH-310"], day)
    story.approve(revoked, ("reviewer1", "reviewer2"))
    entries.settle(now + timedelta(days=30))
    for entry_id in revoked:
        entries.revoke(story.people["reviewer2"], entry_id, "重复记分：同一件事已按孝老爱亲记过。")
    in_notice = story.record("g1-worker", "longhua", "LH09", ["LH-103", "LH-104", "LH-105"], day)
    story.approve(in_notice, ("reviewer1", "reviewer2"))
    objected = story.record("g2-worker", "longhua", "LH15", ["LH-209"], day, points=-2)
    story.approve(objected, ("reviewer1", "reviewer2"))
    neighbour = db.session.execute(select(Holder).where(Holder.code == "LH-210")).scalar_one()
    for entry_id in objected:
        entries.object_as_resident(
            neighbour, entry_id, "门前堆的是邻居家的柴草，不是我家的，请核实。"
        )
    pending = story.record(
        "g3-worker", "longhua", "LH02", ["LH-303", "LH-304", "LH-305", "LH-306"], day
    )
    pending += story.record("recorder", "shita", "ST07", ["ST-12"], day)
    first_review = story.record("recorder", "shita", "ST13", ["ST-15", "ST-16"], day, quantity=5)
    story.approve(first_review, ("st-secretary",), grade="优")
    rejected = story.record("g1-worker", "longhua", "LH10", ["LH-108"], day)
    for entry_id in rejected:
        entries.reject(
            story.people["reviewer1"], entry_id, "经核实，当天没有发生见义勇为的事，不予记分。"
        )
    in_notice += story.record("g2-worker", "longhua", "LH21", ["LH-203", "LH-204"], day, quantity=3)
    story.approve(in_notice[3:], ("reviewer1", "reviewer2"))
    return (
        f"{len(in_notice)} in notice, {len(objected)} objected to, "
        f"{len(pending) + len(first_review)} pending, "
        f"{len(rejected)} rejected, {len(revoked)} revoked"
    )


def _redemptions(story):
    """Households and members exchange points at the love supermarkets."""
    from points.errors import PointsError
    from points.shop.service import plan_redemption, redeem

    from points.ledger.models import Account

    def richest(scheme, count):
        return (
            db.session.execute(
                select(Holder.code)
                .join(Account, Account.holder_id == Holder.id)
                .where(Account.scheme_id == story.schemes[scheme].id)
                .order_by(Account.balance.desc(), Holder.code)
                .limit(count)
            )
            .scalars()
            .all()
        )

    longhua = [[("soap", 2), ("tissue", 1)], [("toothpaste", 1)], [("rice", 1)], [("soap", 1)]]
    shita = [[("towel", 1), ("cup", 1)], [("care-kit", 1)]]
    baskets = [
        ("lh-shop", "longhua", holder, lines)
        for holder, lines in zip(richest("longhua", 4), longhua)
    ]
    if "shita" in story.schemes:
        baskets += [
            ("st-shop", "shita", holder, lines) for holder, lines in zip(richest("shita", 2), shita)
        ]
    done = 0
    for shop, scheme, holder, lines in baskets:
        try:
            plan = plan_redemption(
                story.people["clerk"],
                shop,
                scheme,
                holder,
                [{"goods": goods, "quantity": quantity} for goods, quantity in lines],
            )
            redeem(story.people["clerk"], plan)
            done += 1
        except PointsError:
            continue  # a household that has too few points this time simply does not redeem
    return done
