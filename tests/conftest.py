"""A fresh app on a freshly migrated database for every test.

SQLite by default; PostgreSQL when POINTS_TEST_DATABASE_URL is set. The schema is made once
per run by the migrations (never create_all); each test then gets a copy of that SQLite
file, or the PostgreSQL tables emptied. A test that asks for `world` with the shipped rules
gets a copy of the world built once per test process instead (`world_snapshot`).
"""

import os
import re
import shutil
import threading
import time
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from points import create_app
from points.config import TestConfig, database_url
from points.extensions import db


def _worker_database(url):
    """Under pytest-xdist (`make test` runs two workers) each worker gets a PostgreSQL database
    of its own beside the one named, made here when missing: the tests empty their tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    named = make_url(database_url(url))
    name = f"{named.database}_{worker}"
    server = create_engine(named, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return named.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("POINTS_TEST_DATABASE_URL"))
# pgbouncer in transaction pooling mode in front of PG_URL's server (.ci/pgbouncer): the schema is
# made and emptied through PG_URL, the service under test reaches the same database through it.
PGBOUNCER_URL = os.environ.get("POINTS_TEST_PGBOUNCER_URL")
PASSWORD = "secret-pass-1"


def make_app(uri, **overrides):
    if PGBOUNCER_URL and uri == database_url(PG_URL):
        bouncer = make_url(database_url(PGBOUNCER_URL))
        uri = (
            make_url(uri)
            .set(host=bouncer.host, port=bouncer.port)
            .render_as_string(hide_password=False)
        )
        overrides["PGBOUNCER"] = True
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, **overrides)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    if PG_URL:
        uri = database_url(PG_URL)
        engine = create_engine(uri)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('template') / 'points.db'}"
    app = make_app(uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return uri


def _fresh_database(template_uri, tmp_path, snapshot=None):
    """A database of this test's own: the migrated template's copy, or the world's with
    `snapshot`. On PostgreSQL, the worker's one database, emptied (and the world's rows put
    back) by DELETE, which takes milliseconds where TRUNCATE of every table took 0.2 s."""
    if not PG_URL:
        path = tmp_path / "points.db"
        shutil.copy(snapshot.source if snapshot else template_uri.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    engine = create_engine(template_uri)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        tables = [table.name for table in db.metadata.sorted_tables]
        # children before parents, so no foreign key is ever left pointing nowhere
        cursor.execute("; ".join(f"DELETE FROM {name}" for name in reversed(tables)))
        sequences = snapshot.sequences if snapshot else {}
        cursor.execute(
            "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public'"
        )
        starts = cursor.fetchall()
        values = {name: sequences.get(name, (start, False)) for name, start in starts}
        cursor.execute(
            "SELECT "
            + ", ".join(
                f"setval('{name}', {value}, {called})" for name, (value, called) in values.items()
            )
        )
        for name, rows in snapshot.rows if snapshot else ():
            with cursor.copy(f"COPY {name} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(rows)
        connection.commit()
    finally:
        connection.close()
        engine.dispose()
    return template_uri


def _capture_postgresql(uri):
    """Each table's rows (COPY, binary) in the order they may be put back, and where each
    sequence stands: the world as built, to be restored into each test's emptied tables."""
    engine = create_engine(uri)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        rows = []
        for table in db.metadata.sorted_tables:
            cursor.execute(f"SELECT count(*) FROM {table.name}")
            if not cursor.fetchone()[0]:
                continue  # nothing to put back
            with cursor.copy(f"COPY {table.name} TO STDOUT (FORMAT BINARY)") as copy:
                rows.append((table.name, b"".join(bytes(block) for block in copy)))
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "AND last_value IS NOT NULL"
        )
        sequences = {name: (value, True) for name, value in cursor.fetchall()}
        connection.rollback()
    finally:
        connection.close()
        engine.dispose()
    return rows, sequences


def _sync_rules(app):
    """`rules sync` of the app's RULES_DIR into its database."""
    from points.schemes.service import sync

    with app.app_context():
        sync(app.config["RULES_DIR"])
        db.session.remove()


class WorldSnapshot:
    """The `World` built once: its database (a SQLite file, or PostgreSQL rows and sequences)
    and the token each of its staff signed in with."""

    def __init__(self, source, tokens, rows=(), sequences=None):
        self.source, self.tokens, self.rows, self.sequences = source, tokens, rows, sequences


@pytest.fixture(scope="session")
def world_snapshot(template_db, tmp_path_factory):
    """The world of `World`, built through the service layer once per test process, with a
    token for each of its staff: building it was most of a test's set-up."""
    folder = tmp_path_factory.mktemp("world")
    uri = _fresh_database(template_db, folder)
    app = make_app(uri, EVIDENCE_DIR=str(folder / "evidence"))
    _sync_rules(app)
    world = World(app, app.test_client())
    for username, _, _ in World.STAFF:
        world.token(username)
    with app.app_context():
        db.engine.dispose()
    if not PG_URL:
        return WorldSnapshot(uri.removeprefix("sqlite:///"), world._tokens)
    return WorldSnapshot(None, world._tokens, *_capture_postgresql(uri))


@pytest.fixture
def snapshot(request, rules_dir):
    """The world's snapshot when this test asks for `world` with the shipped rules (whose
    world it is), else None: the test's database is then only migrated."""
    if "world" in request.fixturenames and str(rules_dir) == str(TestConfig.RULES_DIR):
        return request.getfixturevalue("world_snapshot")
    return None


@pytest.fixture
def database_uri(template_db, tmp_path, snapshot):
    return _fresh_database(template_db, tmp_path, snapshot)


@pytest.fixture
def rules_dir():
    """The shipped rules/; a test may point it at an edited copy (see `edited_rules`)."""
    return TestConfig.RULES_DIR


@pytest.fixture
def app(database_uri, rules_dir, tmp_path, snapshot):
    app = make_app(database_uri, RULES_DIR=str(rules_dir), EVIDENCE_DIR=str(tmp_path / "evidence"))
    if snapshot is None:  # the world's copy holds the synced rules already
        _sync_rules(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A signed-in API caller: `api.post("/entries", json=...)` → (status, json)."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _call(self, method, path, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith(("/api/", "/healthz")) else "/api/v1" + path
        response = getattr(self.client, method)(url, headers=headers, **kwargs)
        return Answer(response)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


class Answer:
    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.json = response.get_json(silent=True)
        self.text = response.get_data().decode("utf-8", errors="replace")

    @property
    def code(self):
        return (self.json or {}).get("error", {}).get("code")

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


class World:
    """The people and places of a story: a Longhua village with two grids, a Shita branch,
    and staff with grants. Built through the service layer, signed in through the API; or,
    given the `tokens` its staff signed in with, the world already in the app's database (a
    copy of `world_snapshot`)."""

    STAFF = [
        ("admin", "admin", "county"),
        ("rec", "recorder", "v1"),
        ("rev1", "reviewer", "v1"),
        ("rev2", "reviewer", "v1"),
        ("rev3", "reviewer", "v1"),
        ("rec2", "recorder", "v2"),
        ("rev_v2", "reviewer", "v2"),
        ("rev_v2b", "reviewer", "v2"),
        ("clerk", "clerk", "v1"),
        ("srec", "recorder", "branch"),
        ("srev1", "reviewer", "branch"),
        ("srev2", "reviewer", "branch"),
        ("zadmin", "admin", "zhao"),
    ]

    def __init__(self, app, client, tokens=None):
        from points.database import write
        from points.org.models import Holder
        from points.org.service import create_unit_cli
        from points.users.service import create_user_cli, grant_cli, hash_secret

        self.app, self.client = app, client
        self._tokens = dict(tokens or {})
        if tokens is not None:
            return
        with app.app_context():
            create_unit_cli("county", "隆化县", "county")
            create_unit_cli("town", "汤头沟镇", "township", "county")
            create_unit_cli("v1", "汤头沟村", "village", "town")
            create_unit_cli("v2", "西沟村", "village", "town")
            create_unit_cli("g1", "第一网格", "grid", "v1")
            create_unit_cli("g2", "第二网格", "grid", "v1")
            create_unit_cli("g3", "西沟网格", "grid", "v2")
            create_unit_cli("zhao", "赵县", "county")
            create_unit_cli("shita", "石塔社区", "community", "zhao")
            create_unit_cli("branch", "石塔社区党支部", "branch", "shita")
            pin = hash_secret("1234")
            with write():
                for code, name, grid in [
                    ("H1", "张三明", "g1"),
                    ("H2", "李四", "g1"),
                    ("H3", "王小五", "g2"),
                    ("H9", "赵西沟", "g3"),
                ]:
                    db.session.add(
                        Holder(
                            code=code,
                            name=name,
                            kind="household",
                            unit_id=self._unit_id(grid),
                            pin_hash=pin,
                        )
                    )
                for n in range(1, 4):
                    db.session.add(
                        Holder(
                            code=f"M{n}",
                            name=f"党员{n}号",
                            kind="member",
                            unit_id=self._unit_id("branch"),
                            pin_hash=pin,
                        )
                    )
            for username, role, unit in self.STAFF:
                create_user_cli(username, PASSWORD, role, unit)
            grant_cli("rev1", "recorder", "v1")  # a reviewer who also records
            db.session.remove()

    @staticmethod
    def _unit_id(code):
        from points.org.service import unit_by_code

        return unit_by_code(code).id

    def token(self, username):
        if username not in self._tokens:
            answer = Api(self.client).post(
                "/auth/token", json={"username": username, "password": PASSWORD}
            )
            assert answer.status == 200, answer
            self._tokens[username] = answer.json["token"]
        return self._tokens[username]

    def as_(self, username):
        return Api(self.client, self.token(username))

    @property
    def anonymous(self):
        return Api(self.client)

    # --- stories' small steps ---

    def record(self, holder="H1", item=None, by="rec", scheme="longhua", **fields):
        body = {
            "scheme": scheme,
            "holder": holder,
            "item": item or self.fixed_item(scheme),
            "occurred_on": fields.pop("occurred_on", yesterday()),
            **fields,
        }
        answer = self.as_(by).post("/entries", json=body)
        assert answer.status == 201, answer
        return answer.json

    def approve_all(self, entry_id, reviewers=("rev1", "rev2")):
        for reviewer in reviewers:
            answer = self.as_(reviewer).post(f"/entries/{entry_id}/approve", json={})
            assert answer.status == 200, answer
        return answer.json

    def settle(self, as_of):
        from points.entries.service import settle

        with self.app.app_context():
            posted = settle(as_of)
            db.session.remove()
        return posted

    def balance(self, holder="H1", scheme="longhua", by="admin"):
        answer = self.as_(by).get(f"/accounts/{scheme}/{holder}")
        assert answer.status == 200, answer
        return answer.json

    def rules(self, scheme="longhua"):
        from points.rules import load_scheme_file

        return load_scheme_file(os.path.join(self.app.config["RULES_DIR"], f"{scheme}.yaml"))

    def item_of(self, type_, scheme="longhua", positive=True, capped=None, veto=False, when=None):
        """An item of the shipped scheme with these traits, so tests never name an item code
        (`when: year_end` items, recordable only in December, only when asked for)."""
        for item in self.rules(scheme).items:
            if item.type != type_ or item.veto != veto or item.when != when:
                continue
            if type_ == "fixed" and (item.points > 0) != positive:
                continue
            if capped is not None and (item.cap is not None) != bool(capped):
                continue
            if capped and capped is not True and item.cap.per != capped:
                continue
            return item
        raise LookupError(f"no {type_} item in {scheme} with those traits")

    def fixed_item(self, scheme="longhua"):
        return self.item_of("fixed", scheme, capped=False).code


def edited_rules(tmp_path, scheme, old, new, points=None):
    """A copy of rules/ with one scheme's text edited (e.g. notice_days: 3 → 0); with
    points=(item code, old, new), that item's points are changed too."""
    target = tmp_path / "rules"
    shutil.copytree(TestConfig.RULES_DIR, target)
    path = target / f"{scheme}.yaml"
    text_ = path.read_text(encoding="utf-8")
    assert old in text_, f"{old!r} not in {scheme}.yaml"
    text_ = text_.replace(old, new, 1)
    if points:
        code, before, after = points
        pattern = rf"(code: {code}\n(?:.*\n)*?\s+points: ){format(before, 'f')}\b"
        text_, count = re.subn(pattern, rf"\g<1>{format(after, 'f')}", text_, count=1)
        assert count == 1
    path.write_text(text_, encoding="utf-8")
    return target


def rechain(app):
    """Hash every account's postings again, after a test rewrote their history on purpose (e.g.
    backdating to last year): what an insider would need to do, so the service never does it."""
    from sqlalchemy import BigInteger, select, type_coerce, update

    from points.ledger.chain import GENESIS, posting_hash
    from points.ledger.models import Account, Posting

    with app.app_context():
        p = Posting.__table__
        rows = db.session.execute(
            select(
                p.c.id,
                p.c.account_id,
                p.c.kind,
                type_coerce(p.c.points, BigInteger),
                type_coerce(p.c.balance_after, BigInteger),
                p.c.ref,
                p.c.user_id,
                p.c.at,
            ).order_by(p.c.account_id, p.c.id)
        ).all()
        heads = {}
        for posting_id, account_id, *fields in rows:
            heads[account_id] = posting_hash(heads.get(account_id, GENESIS), account_id, *fields)
            db.session.execute(
                update(Posting).where(Posting.id == posting_id).values(hash=heads[account_id])
            )
        for account_id, head in heads.items():
            db.session.execute(
                update(Account).where(Account.id == account_id).values(last_hash=head)
            )
        db.session.commit()


JOIN_TIMEOUT = 60  # seconds: a deadlock fails the test instead of hanging CI


def at_once(calls, timeout=JOIN_TIMEOUT):
    """Run the calls in real threads released together by a barrier; their answers in order.
    An exception in a thread fails the test here, not as a thread's stray traceback; a thread
    still running after `timeout` seconds (a deadlock) fails it too, instead of hanging CI."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    answers = [None] * len(calls)
    errors = []

    def run(i, call):
        try:
            barrier.wait()
            answers[i] = call()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {timeout}s (a deadlock?): {stuck}"
    assert errors == []
    return answers


def own_clients(world, username, count):
    """`count` API callers signed in as one user, each with its own client (as separate
    browsers)."""
    token = world.token(username)
    return [Api(world.app.test_client(), token) for _ in range(count)]


def local_today():
    """Today where the villages are (POINTS_TIMEZONE), not on this machine's clock."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(TestConfig.TIMEZONE)).date()


def yesterday():
    return (local_today() - timedelta(days=1)).isoformat()


@pytest.fixture
def world(app, client, snapshot):
    return World(app, client, snapshot.tokens if snapshot else None)
