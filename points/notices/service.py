"""The outbox of notices to households, and the seam where a deployment plugs in SMS.

An entry that touches a holder puts a row in the outbox in the same transaction that records
it (`recorded`) and that puts it on the notice board (`in_notice`), so no notice is lost and
none is sent for an entry that was never written. `points notices send` drains the outbox
through the sender named by POINTS_NOTICE_SENDER: by default SlipSender, which needs no
network (villages and tests are offline) and marks the notices as told by the slip
(积分告知单) the grid worker prints at /holders/<code>/slip.

A deployment with an SMS gateway writes a Sender of its own, e.g. in a package `village_sms`:

    from points.notices.service import Sender

    class Sms(Sender):
        channel = "sms"

        def send(self, message):
            phone = my_directory.phone_of(message.holder)  # holders carry no phone number
            if phone is None:
                raise LookupError("no phone number")      # kept queued, tried again later
            my_gateway.send(phone, message.text)          # raise on any failure

and sets POINTS_NOTICE_SENDER=village_sms:Sms. A send that raises is tried again on the next
run, MAX_ATTEMPTS times in all, then the notice is `failed` with the error kept; the slip and
/lookup still tell the household.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import insert, select, update
from werkzeug.utils import import_string

from points.database import end_read, utcnow, write
from points.extensions import db
from points.notices.models import Notice
from points.org.service import village_of
from points.schemes.service import rules_of

MAX_ATTEMPTS = 5
STALE = timedelta(minutes=10)  # a notice claimed this long ago by a run that died is sent again
BATCH = 100


def enqueue(entry, event):
    """Inside the caller's write(): the household is to be told of this entry's `event`."""
    db.session.add(
        Notice(
            entry_id=entry.id,
            holder_id=entry.holder_id,
            event=event,
            status="queued",
            created_at=utcnow(),
        )
    )


def enqueue_many(entries, event, at):
    """`enqueue` for a batch of (entry id, holder id), by one INSERT inside the caller's write()."""
    rows = [
        dict(entry_id=i, holder_id=h, event=event, status="queued", created_at=at)
        for i, h in entries
    ]
    if rows:
        db.session.execute(insert(Notice), rows)


@dataclass(frozen=True)
class Message:
    """What a sender gets: plain values, and the text a household would read."""

    notice: int
    event: str
    holder: str
    name: str
    village: str
    entry: int
    item_name: str
    points: Decimal
    notice_ends_on: date | None
    text: str


class Sender:
    """Delivers one message, or raises. `channel` names it on the notice ("slip", "sms")."""

    channel = "none"

    def send(self, message):
        raise NotImplementedError


class SlipSender(Sender):
    """The default: nothing leaves the machine. The household is told by the printed slip
    (and sees the entry at /lookup), so the notice is marked as told by the slip."""

    channel = "slip"

    def send(self, message):
        return None


def sender_from_settings():
    return import_string(current_app.config["NOTICE_SENDER"])()


def message_of(notice):
    entry = notice.entry
    item = rules_of(entry.scheme_version_id).item(entry.item)
    item_name = item.name if item else entry.item
    village = village_of(entry.holder.unit).name
    sign = "+" if entry.points > 0 else ""
    if notice.event == "in_notice":
        text = (
            f"【{village}】{entry.holder.code}户：{item_name} {sign}{entry.points}分 公示至"
            f"{entry.notice_ends_on.month}月{entry.notice_ends_on.day}日，有异议请在公示期内到公示栏或“查询积分”提出。"
        )
    else:
        text = (
            f"【{village}】{entry.holder.code}户："
            f"记分员记录了 {item_name} {sign}{entry.points}分，待审核。"
        )
    return Message(
        notice=notice.id,
        event=notice.event,
        holder=entry.holder.code,
        name=entry.holder.name,
        village=village,
        entry=entry.id,
        item_name=item_name,
        points=entry.points,
        notice_ends_on=entry.notice_ends_on,
        text=text,
    )


def _claim(batch, after):
    """Take up to `batch` notices due for sending (queued, or claimed by a run that died) past
    id `after`, so that one run tries each notice once: (the ids this run now holds, the last
    id looked at or None when there are no more). Of two runs at once only one takes a notice:
    the update re-checks that it is still due."""
    now = utcnow()
    due = (Notice.status == "queued") | (
        (Notice.status == "sending") & (Notice.claimed_at < now - STALE)
    )
    end_read()
    with write():
        ids = (
            db.session.execute(
                select(Notice.id).where(due, Notice.id > after).order_by(Notice.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not ids:
            return [], None
        taken = (
            db.session.execute(
                update(Notice)
                .where(Notice.id.in_(ids), due)
                .values(status="sending", claimed_at=now)
                .returning(Notice.id)
            )
            .scalars()
            .all()
        )
    return sorted(taken), (ids[-1] if len(ids) == batch else None)


def send_queued(sender=None, batch=BATCH):
    """Drain the outbox through the sender: {"sent": n, "failed": n, "channel": name}. Each
    message is sent outside any transaction (a gateway may be slow), then its row marked."""
    sender = sender or sender_from_settings()
    sent = failed = 0
    last = 0
    while last is not None:
        ids, last = _claim(batch, last)
        for notice_id in ids:
            notice = db.session.get(Notice, notice_id, populate_existing=True)
            try:
                message = message_of(notice)
                db.session.commit()  # the reads are done: no transaction is held while sending
                sender.send(message)
            except Exception as error:  # any failure of a sender: kept, and tried again later
                db.session.rollback()
                _mark_failed(notice_id, error)
                failed += 1
            else:
                _mark_sent(notice_id, sender.channel)
                sent += 1
    return {"sent": sent, "failed": failed, "channel": sender.channel}


def _mark_sent(notice_id, channel):
    end_read()
    with write():
        db.session.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(
                status="sent",
                channel=channel,
                sent_at=utcnow(),
                error=None,
                attempts=Notice.attempts + 1,
            )
        )


def _mark_failed(notice_id, error):
    end_read()
    with write():
        notice = db.session.get(Notice, notice_id, populate_existing=True)
        notice.attempts += 1
        notice.error = f"{type(error).__name__}: {error}"[:2000]
        notice.status = "failed" if notice.attempts >= MAX_ATTEMPTS else "queued"
