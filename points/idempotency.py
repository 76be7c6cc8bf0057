"""Idempotency-Key: a retried or double-clicked request is answered, never done twice.

The key is claimed by inserting its row inside the very transaction that does the work, so
the row and the work commit or vanish together: a retry of a request that died finds nothing
and runs as new, a concurrent retry waits on the row (the unique index on PostgreSQL, the
write lock on SQLite) and then replays the first answer.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import simplejson
from flask import Response, request
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from points.database import Prepared, binds, end_read, unit_connection, utcnow, write
from points.errors import PointsError
from points.extensions import db

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=48)  # the contract promises at least 24 hours


class IdempotentRequest(db.Model):
    """A client-chosen key, a fingerprint of its request, and the answer it got."""

    __tablename__ = "idempotent_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotent_requests_user_key"),)


def header_key(required):
    key = request.headers.get(HEADER)
    if key is None and not required:
        return None
    if not key or len(key) > 255:
        raise PointsError(
            "validation_error",
            "Idempotency-Key 必须是 1 到 255 个字符",
            422,
            {HEADER: ["required, 1 to 255 characters"]},
        )
    return key


@dataclass(frozen=True)
class Answer:
    """What a key's request was answered, as plain values: the status and the JSON text sent."""

    status: int
    body: str

    def data(self):
        """The answer's body; a refusal kept for this key is raised again as the error it was."""
        found = simplejson.loads(self.body, use_decimal=True)
        if self.status >= 400:
            error = found["error"]
            raise PointsError(error["code"], error["message"], self.status, error["details"])
        return found


def respond(answer):
    """An Answer as the JSON API's response."""
    return Response(answer.body, status=answer.status, mimetype="application/json")


def _fingerprint(where, payload):
    text = simplejson.dumps({"path": where, "body": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _answer(status, body_text):
    return Answer(status, body_text)


_REPLAY = Prepared(
    select(IdempotentRequest.fingerprint, IdempotentRequest.status, IdempotentRequest.body).where(
        IdempotentRequest.user_id == bindparam("user_id"),
        IdempotentRequest.key == bindparam("key"),
    )
)


def _replay(user_id, key, fingerprint):
    row = _REPLAY.first(unit_connection(), {"user_id": user_id, "key": key})
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise PointsError(
            "idempotency_key_reused",
            "这个 Idempotency-Key 已用于另一个请求",
            422,
            {HEADER: ["already used with another request body"]},
        )
    return _answer(row.status, row.body)


def run(user_id, key, payload, work, status=201):
    """`once` for a JSON API view: the answer as its response, for this request's path."""
    return respond(once(user_id, key, request.path, payload, work, status))


def once(user_id, key, where, payload, work, status=201, direct=False):
    """Answer `work()` (which returns the response body) once per key; replay it after.

    Plain values in and out: the user, their key (None: no key, just do it), where the
    request was sent and what it asked (the fingerprint: the same key with another request
    is refused), and an Answer. Refusals that the state of things caused (409: insufficient
    balance, out of stock, cap exceeded) are kept and replayed too, as the first answer;
    malformed requests are not. With `direct`, the unit of work is a direct one
    (`write(direct=True)`): `work` runs its statements on `unit_connection()` and never
    touches the session.
    """
    if key is None:
        return _answer(status, simplejson.dumps(work(), use_decimal=True, ensure_ascii=False))
    fingerprint = _fingerprint(where, payload)
    end_read()
    try:
        with write(direct=direct):
            connection = unit_connection()
            # A key seen before fails here, and its first answer is replayed below: no read
            # first, so a new key (nearly every request) costs no statement for it. Waits here
            # while the same key's first request is in flight (PostgreSQL's unique index;
            # SQLite's write lock is already held), then fails once it has committed.
            claim = _CLAIM.scalar(
                connection,
                {
                    "user_id": user_id,
                    "key": key,
                    "fingerprint": fingerprint,
                    "status": 0,
                    "body": "",
                    "created_at": utcnow(),
                },
            )
            body = simplejson.dumps(work(), use_decimal=True, ensure_ascii=False)
            _ANSWER.run(connection, {"claim_id": claim, "status": status, "body": body})
    except IntegrityError:  # write() has rolled the unit back, the claim with it
        replay = _replay(user_id, key, fingerprint)
        if replay is None:
            raise _in_progress() from None
        return replay
    except PointsError as error:
        if error.status != 409:
            raise
        _keep_refusal(user_id, key, fingerprint, error)
        raise
    return _answer(status, body)


_CLAIM = Prepared(
    insert(IdempotentRequest)
    .values(binds("user_id", "key", "fingerprint", "status", "body", "created_at"))
    .returning(IdempotentRequest.id)
)
_ANSWER = Prepared(
    update(IdempotentRequest)
    .where(IdempotentRequest.id == bindparam("claim_id"))
    .values(status=bindparam("status"), body=bindparam("body"))
)


def _keep_refusal(user_id, key, fingerprint, error):
    body = simplejson.dumps(
        {"error": {"code": error.code, "message": error.message, "details": error.details}},
        use_decimal=True,
        ensure_ascii=False,
    )
    end_read()
    try:
        with write():
            db.session.add(
                IdempotentRequest(
                    user_id=user_id,
                    key=key,
                    fingerprint=fingerprint,
                    status=error.status,
                    body=body,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        db.session.rollback()


def _in_progress():
    return PointsError("idempotency_in_progress", "同一请求正在处理中，请稍后重试", 409)


def forget_old():
    """Keys are kept at least 24 hours; older ones are dropped when the service settles."""
    with write():
        db.session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - KEEP)
        )
