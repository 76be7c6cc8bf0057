"""Accounts: /api/v1/accounts/<scheme>/<holder> and its postings."""

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from points.database import aware, today
from points.http import (
    Blueprint,
    PageArgs,
    Schema,
    page_of,
    paginate,
    points_field,
    principal,
    protected,
)
from points.ledger import service
from points.schemes.models import FIRST_YEAR, LAST_YEAR

blp = protected(
    Blueprint(
        "accounts", __name__, url_prefix="/api/v1", description="Accounts and postings (积分明细)"
    )
)


class AccountSchema(Schema):
    scheme = ma.fields.String()
    holder = ma.fields.String()
    balance = points_field()
    pending = points_field()
    earned = points_field()
    deducted = points_field()
    redeemed = points_field()


class PostingSchema(Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    points = points_field()
    balance_after = points_field()
    at = ma.fields.DateTime()
    ref = ma.fields.String()


class StatementQuery(Schema):
    year = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=FIRST_YEAR, max=LAST_YEAR)
    )


class StatementSchema(Schema):
    scheme = ma.fields.String()
    holder = ma.fields.String()
    name = ma.fields.String()
    year = ma.fields.Integer()
    opening = points_field()
    closing = points_field()
    postings = ma.fields.List(ma.fields.Nested(PostingSchema))


def posting_view(posting):
    return {
        "id": posting.id,
        "kind": posting.kind,
        "points": posting.points,
        "balance_after": posting.balance_after,
        "at": aware(posting.at),
        "ref": posting.ref,
    }


@blp.route("/accounts/<scheme>/<holder>")
class Account(MethodView):
    @blp.response(200, AccountSchema)
    def get(self, scheme, holder):
        """Balance (可用积分), pending points (待入账) and this year's totals."""
        view = service.visible_account(principal(), scheme, holder, today().year)
        return current_app.json.response(view)


@blp.route("/accounts/<scheme>/<holder>/postings")
class Postings(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(PostingSchema))
    def get(self, args, scheme, holder):
        """Every movement of the account, newest first."""
        scheme, holder = service.scheme_and_holder(principal(), scheme, holder)
        account = service.find_account(scheme.id, holder.id)
        if account is None:
            return {"items": [], "total": 0, "page": args["page"], "per_page": args["per_page"]}
        return paginate(service.postings_query(account.id), args, posting_view)


@blp.route("/accounts/<scheme>/<holder>/statement")
class Statement(MethodView):
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementSchema)
    def get(self, args, scheme, holder):
        """积分存折: the year's postings oldest first, between the opening and closing balance."""
        scheme, holder = service.scheme_and_holder(principal(), scheme, holder)
        found = service.statement(scheme, holder, args["year"])
        return {**found, "postings": [posting_view(p) for p in found["postings"]]}
