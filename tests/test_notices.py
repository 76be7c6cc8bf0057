"""Nothing about a household happens behind its back: every entry that touches a holder puts a
notice in the outbox when it is recorded and when it enters notice, `points notices send`
drains it through the configured sender (by default marked for the slip, no network), and
/holders/<code>/slip prints the notice slip (积分告知单) a grid worker hands the household."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import local_today
from points.extensions import db
from points.notices.models import Notice
from points.notices.service import MAX_ATTEMPTS, Sender
from test_migration_chain import old_database  # noqa: F401 (a fixture)
from test_pages import html, staff  # noqa: F401 (a fixture)

OUTBOX = "f11a00000001"


def before_outbox():
    """The revision the outbox migration follows, whatever it is re-chained onto."""
    from alembic.script import ScriptDirectory

    from points import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_revision(OUTBOX).down_revision


class Recording(Sender):
    """A deployment's sender (an SMS gateway, say), as POINTS_NOTICE_SENDER names it."""

    channel = "sms"
    sent = []

    def send(self, message):
        Recording.sent.append(message)


class Unreachable(Sender):
    channel = "sms"

    def send(self, message):
        raise ConnectionError("gateway down")


@pytest.fixture(autouse=True)
def _no_messages_yet():
    Recording.sent.clear()


def outbox(world, holder=None):
    with world.app.app_context():
        query = select(Notice).order_by(Notice.id)
        rows = [
            (n.entry_id, n.event, n.status, n.channel, n.attempts, n.error)
            for n in db.session.execute(query).scalars()
            if holder is None or n.entry.holder.code == holder
        ]
        db.session.remove()
    return rows


def send(world, sender=None):
    if sender:
        world.app.config["NOTICE_SENDER"] = sender
    return world.app.test_cli_runner().invoke(args=["notices", "send"])


def deduction(world):
    return world.item_of("fixed", positive=False).code


# --- the outbox ----------------------------------------------------------------------------


def test_an_entry_tells_its_household_when_recorded_and_again_when_it_enters_notice(world):
    entry = world.record(holder="H1")
    assert [(e, ev, st) for e, ev, st, *_ in outbox(world)] == [(entry["id"], "recorded", "queued")]
    world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={})
    assert [ev for _e, ev, *_ in outbox(world)] == ["recorded"]  # one approval: not in notice yet
    world.as_("rev2").post(f"/entries/{entry['id']}/approve", json={})
    assert [(e, ev) for e, ev, *_ in outbox(world)] == [
        (entry["id"], "recorded"),
        (entry["id"], "in_notice"),
    ]
    world.settle(local_today() + timedelta(days=30))
    assert len(outbox(world)) == 2  # posting after notice tells nothing new


def test_a_batch_tells_each_household_and_a_refused_entry_tells_nobody(world):
    answer = world.as_("rec").post(
        "/entries/batch",
        json={
            "scheme": "longhua",
            "item": world.fixed_item(),
            "holders": ["H1", "H2"],
            "occurred_on": local_today().isoformat(),
        },
    )
    assert answer.status == 201
    assert sorted(h for h in ("H1", "H2") if outbox(world, h)) == ["H1", "H2"]
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    refused = world.as_("rec").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H3",
            "item": world.fixed_item(),
            "occurred_on": tomorrow,
        },
    )
    outside = world.as_("rec2").post(
        "/entries",
        json={
            "scheme": "longhua",
            "holder": "H3",
            "item": world.fixed_item(),
            "occurred_on": local_today().isoformat(),
        },
    )
    assert (refused.status, outside.status) == (422, 403) and outbox(world, "H3") == []


def test_a_residents_claim_tells_the_household_once_a_recorder_accepts_it(world):
    from test_claims import claim

    made = claim(world)
    assert outbox(world) == []  # the resident's own claim: nothing to tell yet
    entry = world.as_("rec").post(f"/claims/{made['id']}/accept", json={}).json
    assert [(e, ev) for e, ev, *_ in outbox(world, "H1")] == [(entry["id"], "recorded")]


def test_notices_send_marks_them_for_the_slip_by_default_and_sends_each_once(world):
    world.approve_all(world.record(holder="H1")["id"])
    result = send(world)
    assert result.exit_code == 0 and "sent 2 notices by slip, 0 failed" in result.output
    assert {(st, ch, n) for _e, _ev, st, ch, n, _err in outbox(world)} == {("sent", "slip", 1)}
    again = send(world)
    assert again.exit_code == 0 and "sent 0 notices" in again.output


def test_notices_are_sent_in_rounds_and_two_runs_at_once_send_each_once(world):
    from points.notices.service import send_queued

    for holder in ("H1", "H2", "H3"):
        world.record(holder=holder)
    assert (
        "sent 3 notices"
        in world.app.test_cli_runner().invoke(args=["notices", "send", "--batch", "1"]).output
    )
    for holder in ("H1", "H2", "H3"):
        world.record(holder=holder)

    class Impatient(Recording):
        """While the first run sends its first message, a second run starts (cron overlapping)."""

        def send(self, message):
            if not Recording.sent:
                Recording.sent.append(message)
                Recording.sent.append(("second run", send_queued(Recording(), batch=1)))
                return
            Recording.sent.append(message)

    with world.app.app_context():
        first = send_queued(Impatient(), batch=2)
        db.session.remove()
    ((_label, second),) = [m for m in Recording.sent if isinstance(m, tuple)]
    told = [m.notice for m in Recording.sent if not isinstance(m, tuple)]
    assert sorted(told) == sorted(set(told)) and len(told) == 3  # each once, none twice
    assert (
        first["sent"] + second["sent"] == 3 and second["sent"] == 1
    )  # it took the one not yet claimed
    assert {st for _e, _ev, st, *_ in outbox(world)} == {"sent"}


def test_a_deployments_sender_gets_what_to_tell_the_household(world):
    entry = world.record(holder="H2", item=deduction(world), note="乱堆柴草")
    world.approve_all(entry["id"])
    notice_ends = world.as_("rec").get(f"/entries/{entry['id']}").json["notice_ends_on"]
    result = send(world, "test_notices:Recording")
    assert result.exit_code == 0 and "by sms" in result.output
    recorded, noticed = Recording.sent
    assert (recorded.holder, recorded.event, noticed.event) == ("H2", "recorded", "in_notice")
    assert recorded.points == entry["points"] < 0 and recorded.village == "汤头沟村"
    day = noticed.notice_ends_on
    assert day.isoformat() == notice_ends and f"公示至{day.month}月{day.day}日" in noticed.text
    assert f"{entry['points']}分" in noticed.text and recorded.item_name in recorded.text


def test_a_failed_send_stays_queued_with_its_error_and_is_given_up_after_the_last_attempt(world):
    world.record(holder="H1")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = send(world, "test_notices:Unreachable")
        assert result.exit_code == 1 and "1 failed" in result.output  # tried once per run
        ((_e, _ev, status, channel, attempts, error),) = outbox(world)
        assert attempts == attempt and error == "ConnectionError: gateway down" and channel is None
        assert status == ("failed" if attempt == MAX_ATTEMPTS else "queued")
    assert "sent 0 notices by sms, 0 failed" in send(world, "test_notices:Recording").output
    assert Recording.sent == []


def test_a_sender_setting_that_names_nothing_is_a_clear_error(world):
    world.record(holder="H1")
    result = send(world, "nowhere:Sender")
    assert result.exit_code != 0 and "nowhere" in str(result.exception)
    assert [st for _e, _ev, st, *_ in outbox(world)] == ["queued"]


# --- the slip ------------------------------------------------------------------------------


def test_the_slip_lists_open_entries_deductions_first_with_reason_and_last_day(world, staff):
    good = world.record(holder="H1", note="打扫村道")
    bad = world.record(holder="H1", item=deduction(world), note="乱堆柴草")
    world.approve_all(bad["id"])
    done = world.record(holder="H1")
    world.as_("rev1").post(f"/entries/{done['id']}/reject", json={"reason": "重复"})
    world.record(holder="H2", item=deduction(world))
    page = html(staff("rec").get("/holders/H1/slip"))
    rows = page.split('<tr id="slip-')[1:]
    assert [int(r.split('"')[0]) for r in rows] == [bad["id"], good["id"]]
    day = world.as_("rec").get(f"/entries/{bad['id']}").json["notice_ends_on"]
    y, m, d = (int(x) for x in day.split("-"))
    assert (
        "乱堆柴草" in rows[0] and f"公示中，最后一天 {y}年{m}月{d}日" in rows[0] and "-" in rows[0]
    )
    assert "打扫村道" in rows[1] and "待审核" in rows[1]
    assert "汤头沟村 · 第一网格" in page and "H1 张三明" in page
    assert "http://localhost/lookup" in page and "/notices?unit=v1" in page


def test_a_household_with_nothing_open_gets_a_slip_saying_so(world, staff):
    assert 'id="slip-none"' in html(staff("rec").get("/holders/H3/slip"))


def test_the_slip_is_for_staff_in_scope_only(world, staff, client):
    answer = client.get("/holders/H1/slip")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    other = staff("rec2")
    assert other.get("/holders/H1/slip").status_code == 403
    assert other.get("/holders/NOPE/slip").status_code == 404
    english = html(staff("admin").get("/holders/H1/slip?lang=en"))
    assert "Notice slip" in english and "How to object" in english


# --- the migration -------------------------------------------------------------------------


def test_the_outbox_migration_upgrades_a_database_of_the_previous_head_and_back(old_database):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from conftest import make_app

    app = make_app(old_database)
    previous = before_outbox()
    with app.app_context():
        upgrade(revision=previous)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO units (id, code, name, kind, parent_id, path) "
                    "VALUES (1, 'v', '村', 'village', NULL, '/1/')"
                )
            )
        upgrade()
        assert db.session.execute(text("SELECT count(*) FROM notices")).scalar_one() == 0
        db.session.remove()
        downgrade(revision=previous)
        assert "notices" not in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT count(*) FROM units")).scalar_one() == 1
        db.session.remove()
        db.engine.dispose()
