"""The love supermarket: /api/v1/shops, goods, stock, and /api/v1/redemptions."""

import marshmallow as ma
from flask import request
from flask.views import MethodView

from points import idempotency
from points.database import aware
from points.extensions import db
from points.http import (
    Blueprint,
    PageArgs,
    Schema,
    page_of,
    paginate,
    points_field,
    principal,
    protected,
    text_field,
)
from points.shop import service
from points.users.models import User
from points.shop.schemas import (
    CODE,
    GoodsChangeSchema,
    NewGoodsSchema,
    NewShopSchema,
    RestockSchema,
    VoidSchema,
)

blp = protected(
    Blueprint(
        "shop",
        __name__,
        url_prefix="/api/v1",
        description="Love supermarket (爱心超市): shops, goods, stock, redemptions",
    )
)


class ShopSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String()
    schemes = ma.fields.List(ma.fields.String())


class GoodsSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    shop = ma.fields.String()
    price = points_field()
    stock = ma.fields.Integer()
    active = ma.fields.Boolean()


class LineSchema(Schema):
    goods = text_field(**CODE)
    quantity = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**6)
    )


class NewRedemptionSchema(Schema):
    shop = text_field(**CODE)
    scheme = text_field(**CODE)
    holder = text_field(**CODE)
    lines = ma.fields.List(
        ma.fields.Nested(LineSchema), required=True, validate=ma.validate.Length(min=1, max=100)
    )


class RedemptionLineSchema(Schema):
    goods = ma.fields.String()
    name = ma.fields.String()
    quantity = ma.fields.Integer()
    price = points_field()
    points = points_field()


class RedemptionSchema(Schema):
    id = ma.fields.Integer()
    shop = ma.fields.String()
    scheme = ma.fields.String()
    holder = ma.fields.String()
    holder_name = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(RedemptionLineSchema))
    total = points_field()
    balance_after = points_field()
    status = ma.fields.String()
    at = ma.fields.DateTime()
    clerk = ma.fields.String()
    void_reason = ma.fields.String()
    voided_by = ma.fields.String()
    voided_at = ma.fields.DateTime()


class RedemptionQuery(PageArgs):
    shop = ma.fields.String(validate=ma.validate.Length(max=64))
    holder = ma.fields.String(validate=ma.validate.Length(max=64))
    date = ma.fields.Date()


def shop_view(shop):
    return {
        "code": shop.code,
        "name": shop.name,
        "unit": shop.unit.code,
        "schemes": [s.code for s in shop.schemes],
    }


def goods_view(goods, shop_code):
    return {
        "code": goods.code,
        "name": goods.name,
        "shop": shop_code,
        "price": goods.price,
        "stock": goods.stock,
        "active": goods.active,
    }


def redemption_view(redemption):
    view = {
        "id": redemption.id,
        "shop": redemption.shop.code,
        "scheme": redemption.scheme.code,
        "holder": redemption.holder.code,
        "holder_name": redemption.holder.name,
        "lines": [
            {
                "goods": line.goods.code,
                "name": line.goods.name,
                "quantity": line.quantity,
                "price": line.price,
                "points": line.points,
            }
            for line in redemption.lines
        ],
        "total": redemption.total,
        "balance_after": redemption.balance_after,
        "status": redemption.status,
        "at": aware(redemption.at),
        "clerk": db.session.get(User, redemption.user_id).username,
    }
    if redemption.status == "voided":
        view.update(
            void_reason=redemption.void_reason,
            voided_at=aware(redemption.voided_at),
            voided_by=db.session.get(User, redemption.voided_by_id).username,
        )
    return view


def redemption_body(view):
    """What RedemptionSchema().dump gives for a new redemption's view (tests/test_speed_paths.py
    holds them equal), without marshmallow's cost inside the write section."""
    return {**view, "at": view["at"].isoformat()}


@blp.route("/shops")
class Shops(MethodView):
    @blp.arguments(NewShopSchema)
    @blp.response(201, ShopSchema)
    def post(self, data):
        """Open a shop (admin over its unit) taking the points of these schemes."""
        return shop_view(
            service.create_shop(
                principal(), data["code"], data["name"], data["unit"], data["schemes"]
            )
        )


@blp.route("/shops/<shop>")
class OneShop(MethodView):
    @blp.response(200, ShopSchema)
    def get(self, shop):
        """A shop, its unit and the schemes it takes."""
        return shop_view(service.get_shop(principal(), shop))


@blp.route("/shops/<shop>/goods")
class ShopGoods(MethodView):
    @blp.arguments(NewGoodsSchema)
    @blp.response(201, GoodsSchema)
    def post(self, data, shop):
        """Put goods on the shelf (admin): price in points, opening stock."""
        goods = service.add_goods(
            principal(), shop, data["code"], data["name"], data["price"], data["stock"]
        )
        return goods_view(goods, shop)

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(GoodsSchema))
    def get(self, args, shop):
        """The shop's goods with price, stock and whether they are offered, newest first."""
        shop = service.get_shop(principal(), shop)
        return paginate(service.goods_query(shop), args, lambda g: goods_view(g, shop.code))


@blp.route("/shops/<shop>/goods/<goods>")
class OneGoods(MethodView):
    @blp.arguments(GoodsChangeSchema)
    @blp.response(200, GoodsSchema)
    def patch(self, data, shop, goods):
        """Rename, reprice, or take goods off (active false) and back on the shelf (admin)."""
        return goods_view(service.change_goods(principal(), shop, goods, **data), shop)


@blp.route("/shops/<shop>/goods/<goods>/restock")
class Restock(MethodView):
    @blp.arguments(RestockSchema)
    @blp.response(200, GoodsSchema)
    def post(self, data, shop, goods):
        """补货 (admin): adds to the stock and writes a stock movement; `donor` for donated
        goods."""
        return goods_view(
            service.restock(
                principal(), shop, goods, data["quantity"], data.get("note"), data.get("donor")
            ),
            shop,
        )


@blp.route("/redemptions")
class Redemptions(MethodView):
    @blp.arguments(NewRedemptionSchema)
    @blp.response(201, RedemptionSchema)
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": True,
                "schema": {"type": "string"},
            }
        ]
    )
    def post(self, data):
        """Redeem points for goods (clerk). Idempotency-Key required; a retry gets the first
        answer."""
        key = idempotency.header_key(required=True)
        answer = service.redeem_once(principal(), key, request.path, data, redemption_body)
        return idempotency.respond(answer)

    @blp.arguments(RedemptionQuery, location="query")
    @blp.response(200, page_of(RedemptionSchema))
    def get(self, args):
        """Redemptions at shops within the caller's units, newest first."""
        query = service.redemptions_query(
            principal(), args.get("shop"), args.get("holder"), args.get("date")
        )
        return paginate(query, args, redemption_view)


@blp.route("/redemptions/<int:redemption_id>")
class OneRedemption(MethodView):
    @blp.response(200, RedemptionSchema)
    def get(self, redemption_id):
        """One redemption with its lines."""
        return redemption_view(service.get_redemption(principal(), redemption_id))


@blp.route("/redemptions/<int:redemption_id>/void")
class Void(MethodView):
    @blp.arguments(VoidSchema)
    @blp.response(200, RedemptionSchema)
    def post(self, data, redemption_id):
        """作废: points and stock go back; a voided redemption cannot be voided again."""
        service.void(principal(), redemption_id, data["reason"])
        return redemption_view(service.get_redemption(principal(), redemption_id))
