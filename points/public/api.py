"""/api/v1/public/...: no token; residents sign each request with holder code and PIN."""
import marshmallow as ma
from flask import request
from flask.views import MethodView
from sqlalchemy import select

from points.database import today
from points.entries import service as entries
from points.entries.models import Entry
from points.extensions import db
from points.http import Blueprint, PageArgs, Schema, page_of, paginate, points_field, text_field
from points.ledger import service as ledger
from points.ledger.api import PostingSchema, posting_view
from points.ledger.models import Account, Posting
from points.org.service import resident
from points.schemes.models import Scheme
from points.schemes.service import rules_of

blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                description="For residents and notice boards, no token")

RECENT = 10


class PinSchema(Schema):
    holder = text_field(max_length=64)
    pin = ma.fields.String(required=True, validate=ma.validate.Length(max=64))


class PublicObjectionSchema(PinSchema):
    text = text_field()


class PublicAccountSchema(Schema):
    scheme = ma.fields.String()
    scheme_name = ma.fields.String()
    balance = points_field()
    pending = points_field()


class BalanceSchema(Schema):
    holder = ma.fields.String()
    name = ma.fields.String()
    accounts = ma.fields.List(ma.fields.Nested(PublicAccountSchema))
    recent = ma.fields.List(ma.fields.Nested(PostingSchema))


class NoticeQuery(PageArgs):
    unit = text_field(max_length=64)


class NoticeSchema(Schema):
    id = ma.fields.Integer()
    holder_name = ma.fields.String()
    item = ma.fields.String()
    item_name = ma.fields.String()
    points = points_field()
    occurred_on = ma.fields.Date()
    notice_ends_on = ma.fields.Date()


class ObjectionAnswer(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()


def mask(name):
    """张三明 → 张*明, 李四 → 李*, 欧阳小明 → 欧**明: first and (from three) last character kept."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def notice_view(entry):
    item = rules_of(entry.scheme_version_id).item(entry.item)
    return {"id": entry.id, "holder_name": mask(entry.holder.name), "item": entry.item,
            "item_name": item.name if item else entry.item, "points": entry.points,
            "occurred_on": entry.occurred_on, "notice_ends_on": entry.notice_ends_on}


def balance_view(holder):
    """A resident's balance and pending points in every scheme of their kind, and recent history."""
    schemes = db.session.execute(
        select(Scheme).where(Scheme.subject == holder.kind).order_by(Scheme.code)).scalars().all()
    year = today().year
    accounts = []
    for scheme in schemes:
        view = ledger.account_view(scheme, holder, year)
        accounts.append({"scheme": scheme.code, "scheme_name": scheme.name,
                         "balance": view["balance"], "pending": view["pending"]})
    account_ids = select(Account.id).where(Account.holder_id == holder.id)
    recent = db.session.execute(
        select(Posting).where(Posting.account_id.in_(account_ids))
        .order_by(Posting.id.desc()).limit(RECENT)).scalars()
    return {"holder": holder.code, "name": holder.name, "accounts": accounts,
            "recent": [posting_view(p) for p in recent]}


@blp.route("/balance")
class Balance(MethodView):
    @blp.arguments(PinSchema)
    @blp.response(200, BalanceSchema)
    @blp.doc(security=[])
    def post(self, data):
        """A resident's balance and pending points in every scheme, and recent history."""
        return balance_view(resident(data["holder"], data["pin"], request.remote_addr))


@blp.route("/notices")
class Notices(MethodView):
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, page_of(NoticeSchema))
    @blp.doc(security=[])
    def get(self, args):
        """公示栏: entries now in notice under a unit, names masked."""
        return paginate(entries.notices_query(args["unit"]), args, notice_view)


@blp.route("/entries/<int:entry_id>/objections")
class PublicObjection(MethodView):
    @blp.arguments(PublicObjectionSchema)
    @blp.response(201, ObjectionAnswer)
    @blp.doc(security=[])
    def post(self, data, entry_id):
        """A resident of the same village objects to an entry in notice."""
        holder = resident(data["holder"], data["pin"], request.remote_addr)
        entries.object_as_resident(holder, entry_id, data["text"])
        entry = db.session.get(Entry, entry_id)
        return {"id": entry.id, "status": entry.status}
