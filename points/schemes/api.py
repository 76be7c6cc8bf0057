"""Schemes: /api/v1/schemes, as loaded from rules/*.yaml."""

import marshmallow as ma
from flask.views import MethodView

from points.http import Blueprint, Schema, points_field, protected
from points.schemes import service

blp = protected(
    Blueprint("schemes", __name__, url_prefix="/api/v1", description="Scoring schemes (积分方案)")
)


class CapSchema(Schema):
    per = ma.fields.String()
    count = ma.fields.Integer(allow_none=True)
    points = points_field(allow_none=True)


class ItemSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()
    veto = ma.fields.Boolean()
    cap = ma.fields.Nested(CapSchema, allow_none=True)
    points = points_field()
    min = points_field()
    max = points_field()
    per = points_field()
    unit = ma.fields.String()
    grades = ma.fields.Dict(keys=ma.fields.String(), values=points_field())
    when = ma.fields.String()  # second wave: year_end
    lawful_basis = ma.fields.String()


class CategorySchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(ItemSchema))


class StarSchema(Schema):
    min = points_field()
    stars = ma.fields.Integer()


class GradeRowSchema(Schema):
    min = points_field()
    grade = ma.fields.String()


class SchemeSummarySchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    subject = ma.fields.String()
    version = ma.fields.Integer()
    items_count = ma.fields.Integer()


class SchemeSchema(SchemeSummarySchema):
    notice_days = ma.fields.Integer()
    reviewers_required = ma.fields.Integer()
    redeem_threshold = points_field()
    stars = ma.fields.List(ma.fields.Nested(StarSchema))
    year_end = ma.fields.Raw()
    categories = ma.fields.List(ma.fields.Nested(CategorySchema))
    adopted = ma.fields.Raw()  # second wave: the ratification of this version
    grades = ma.fields.List(ma.fields.Nested(GradeRowSchema))  # 评档定级


class SchemeList(Schema):
    items = ma.fields.List(ma.fields.Nested(SchemeSummarySchema))


@blp.route("/schemes")
class Schemes(MethodView):
    @blp.response(200, SchemeList)
    def get(self):
        return {"items": [service.describe(s) for s in service.all_schemes()]}


@blp.route("/schemes/<code>")
class OneScheme(MethodView):
    @blp.response(200, SchemeSchema)
    def get(self, code):
        return service.describe(service.scheme_by_code(code))
