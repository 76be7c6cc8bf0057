"""公益金: /api/v1/funds/<unit>/movements, money in and out of a unit's fund (admin)."""

import marshmallow as ma
from flask.views import MethodView

from points.funds import service
from points.funds.schemas import NewMovementSchema, yuan_field
from points.http import Blueprint, PageArgs, Schema, page_of, principal, protected

blp = protected(
    Blueprint(
        "funds",
        __name__,
        url_prefix="/api/v1",
        description="Public-welfare fund (公益金): money in and out, in yuan",
    )
)


class MovementSchema(Schema):
    id = ma.fields.Integer()
    unit = ma.fields.String()
    kind = ma.fields.String()
    amount = yuan_field()
    balance_after = yuan_field()
    source = ma.fields.String()
    note = ma.fields.String()
    at = ma.fields.DateTime()
    by = ma.fields.String()


class MovementPage(page_of(MovementSchema)):
    unit = ma.fields.String()
    balance = yuan_field()


@blp.route("/funds/<unit>/movements")
class Movements(MethodView):
    @blp.arguments(NewMovementSchema)
    @blp.response(201, MovementSchema)
    def post(self, data, unit):
        """公益金收支 (admin): money in or out of the unit's fund; an append-only row. Money out
        beyond the balance → 409 insufficient_fund."""
        return service.record_movement(
            principal(), unit, data["kind"], data["amount"], data["source"], data.get("note")
        )

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MovementPage)
    def get(self, args, unit):
        """The unit's fund movements, newest first, with its balance (admin)."""
        found = service.movements(principal(), unit, args["page"], args["per_page"])
        return {
            **found,
            "unit": found["unit"].code,
            "page": args["page"],
            "per_page": args["per_page"],
        }
