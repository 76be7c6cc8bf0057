"""Units and holders: /api/v1/units, /api/v1/holders."""

import marshmallow as ma
from flask.views import MethodView

from points.http import Blueprint, PageArgs, page_of, paginate, principal, protected
from points.org import service
from points.org.models import HOLDER_KINDS
from points.users.service import hash_pin
from points.org.schemas import UnitSchema, HolderSchema

blp = protected(Blueprint("org", __name__, url_prefix="/api/v1", description="Units and holders"))


class HolderQuery(PageArgs):
    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    kind = ma.fields.String(validate=ma.validate.OneOf(HOLDER_KINDS))
    q = ma.fields.String(validate=ma.validate.Length(max=200))


def unit_view(unit):
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent else None,
        "children": service.children_codes(unit),
    }


def holder_view(holder):
    return {"code": holder.code, "name": holder.name, "kind": holder.kind, "unit": holder.unit.code}


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitSchema)
    @blp.response(201, UnitSchema)
    def post(self, data):
        """Create a unit under one the caller administers."""
        unit = service.create_unit(
            principal(), data["code"], data["name"], data["kind"], data["parent"]
        )
        return unit_view(unit)


@blp.route("/units/<code>")
class OneUnit(MethodView):
    @blp.response(200, UnitSchema)
    def get(self, code):
        return unit_view(service.get_unit(principal(), code))


@blp.route("/holders")
class Holders(MethodView):
    @blp.arguments(HolderSchema)
    @blp.response(201, HolderSchema)
    def post(self, data):
        """Register a household or a party member; the PIN lets them check their balance."""
        pin_hash = hash_pin(data["pin"]) if data.get("pin") else None
        holder = service.create_holder(
            principal(), data["code"], data["name"], data["kind"], data["unit"], pin_hash
        )
        return holder_view(holder)

    @blp.arguments(HolderQuery, location="query")
    @blp.response(200, page_of(HolderSchema))
    def get(self, args):
        """Holders within the caller's units; q matches code or name."""
        query = service.holders_query(
            principal(), args.get("unit"), args.get("kind"), args.get("q")
        )
        return paginate(query, args, holder_view)


@blp.route("/holders/<code>")
class OneHolder(MethodView):
    @blp.response(200, HolderSchema)
    def get(self, code):
        return holder_view(service.get_holder(principal(), code))
