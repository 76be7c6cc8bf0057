"""Reports and periods: /api/v1/reports/ranking, /api/v1/periods/close."""

import marshmallow as ma
from flask.views import MethodView

from points.database import today
from points.http import (
    Blueprint,
    Schema,
    page_field,
    page_of,
    per_page_field,
    points_field,
    principal,
    protected,
    text_field,
)
from points.reports import service
from points.funds.schemas import yuan_field
from points.reports import oversight
from points.reports.fairness import fairness
from points.reports.exports import ranking_csv, ranking_xlsx
from points.reports.schemas import YEAR, CloseSchema, GradesQuery, RankingQuery

blp = protected(
    Blueprint(
        "reports", __name__, url_prefix="/api/v1", description="Rankings and the year-end close"
    )
)


class RankSchema(Schema):
    rank = ma.fields.Integer()
    holder = ma.fields.String()
    name = ma.fields.String()
    points = points_field()
    stars = ma.fields.Integer()
    grade = ma.fields.String(allow_none=True)  # when the scheme has grades (评档定级)


class RankingPage(page_of(RankSchema)):
    period = ma.fields.String()


class AwardSchema(Schema):
    holder = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String()
    points = points_field()
    rank = ma.fields.Integer()


class PeriodSchema(Schema):
    scheme = ma.fields.String()
    year = ma.fields.Integer()
    awards = ma.fields.List(ma.fields.String())
    award_details = ma.fields.List(ma.fields.Nested(AwardSchema))
    expired = points_field()
    carried = points_field()
    closed_at = ma.fields.DateTime()


@blp.route("/reports/ranking")
class Ranking(MethodView):
    @blp.arguments(RankingQuery, location="query")
    @blp.response(200, RankingPage)
    def get(self, args):
        """积分排名: net posted points of the year, ties sharing a rank, stars; JSON, CSV or
        XLSX."""
        year, period = args.get("year") or today().year, args.get("period")
        if args["format"] == "json":
            report = service.ranking(
                principal(),
                args["scheme"],
                args["unit"],
                year,
                args["page"],
                args["per_page"],
                period=period,
            )
            return {
                "items": report["items"],
                "total": report["total"],
                "page": args["page"],
                "per_page": args["per_page"],
                "period": report["period"],
            }
        report = service.ranking(principal(), args["scheme"], args["unit"], year, period=period)
        return ranking_csv(report) if args["format"] == "csv" else ranking_xlsx(report)


class GradeRankSchema(Schema):
    rank = ma.fields.Integer()
    holder = ma.fields.String()
    name = ma.fields.String()
    points = points_field()
    grade = ma.fields.String(allow_none=True)


class GradeBoundSchema(Schema):
    grade = ma.fields.String()
    min = points_field()


class GradesSchema(Schema):
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    items = ma.fields.List(ma.fields.Nested(GradeRankSchema))
    period = ma.fields.String()
    # beyond api.md: the bounds of the period (the table × scale, the scheme's periods in it)
    bounds = ma.fields.List(ma.fields.Nested(GradeBoundSchema))
    scale = ma.fields.Integer()


@blp.route("/reports/grades")
class Grades(MethodView):
    @blp.arguments(GradesQuery, location="query")
    @blp.response(200, GradesSchema)
    def get(self, args):
        """评档定级: how many of a unit's holders are in each grade of the period, and whose."""
        return service.grades(principal(), args["scheme"], args["unit"], args.get("period"))


class StatsQuery(Schema):
    unit = text_field(max_length=64)
    year = ma.fields.Integer(validate=YEAR)
    scheme = ma.fields.String(validate=ma.validate.Length(max=64))


class MonthSchema(Schema):
    month = ma.fields.Integer()
    recorded = ma.fields.Integer()
    posted = ma.fields.Integer()
    rejected = ma.fields.Integer()
    revoked = ma.fields.Integer()
    granted = points_field()
    deducted = points_field()
    redemptions = ma.fields.Integer()
    spent = points_field()


class HeadingSchema(Schema):
    scheme = ma.fields.String()
    category = ma.fields.String()
    name = ma.fields.String()
    granted = points_field()
    deducted = points_field()


class ShopFiguresSchema(Schema):
    shop = ma.fields.String()
    name = ma.fields.String()
    redemptions = ma.fields.Integer()
    spent = points_field()


class TopItemSchema(Schema):
    scheme = ma.fields.String()
    item = ma.fields.String()
    name = ma.fields.String()
    count = ma.fields.Integer()
    points = points_field()


class StatsSchema(Schema):
    unit = ma.fields.String()
    unit_name = ma.fields.String()
    year = ma.fields.Integer()
    months = ma.fields.List(ma.fields.Nested(MonthSchema))
    categories = ma.fields.List(ma.fields.Nested(HeadingSchema))
    shops = ma.fields.List(ma.fields.Nested(ShopFiguresSchema))
    top_items = ma.fields.List(ma.fields.Nested(TopItemSchema))


@blp.route("/reports/stats")
class Stats(MethodView):
    @blp.arguments(StatsQuery, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):
        """统计: entries recorded, posted, rejected and revoked, points by heading, redemptions by
        shop, month by month, and the most used items, for a unit and year."""
        return service.statistics(
            principal(), args["unit"], args.get("year") or today().year, args.get("scheme")
        )


class FairnessQuery(Schema):
    unit = text_field(max_length=64)
    year = ma.fields.Integer(validate=YEAR)


class RecorderFairnessSchema(Schema):
    username = ma.fields.String()
    entries = ma.fields.Integer()
    households = ma.fields.Integer()
    points = points_field()
    top_share = points_field()
    flags = ma.fields.List(ma.fields.String())


class ReviewerFairnessSchema(Schema):
    username = ma.fields.String()
    reviewed = ma.fields.Integer()
    approved = ma.fields.Integer()
    rejected = ma.fields.Integer()
    flags = ma.fields.List(ma.fields.String())


class FairnessSchema(Schema):
    recorders = ma.fields.List(ma.fields.Nested(RecorderFairnessSchema))
    reviewers = ma.fields.List(ma.fields.Nested(ReviewerFairnessSchema))


@blp.route("/reports/fairness")
class Fairness(MethodView):
    @blp.arguments(FairnessQuery, location="query")
    @blp.response(200, FairnessSchema)
    def get(self, args):
        """人情分: per recorder and reviewer of a unit's year, flagged (top_holder,
        never_rejects)."""
        return fairness(principal(), args["unit"], args.get("year") or today().year)


class ParticipationQuery(Schema):
    unit = text_field(max_length=64)
    year = ma.fields.Integer(validate=YEAR)
    page = page_field()
    per_page = per_page_field()


class ParticipationRowSchema(Schema):
    unit = ma.fields.String()
    name = ma.fields.String()
    holders = ma.fields.Integer()
    active = ma.fields.Integer()
    share = points_field()
    deductions = ma.fields.Integer()
    deducted = points_field()
    objections = ma.fields.Integer()


class ParticipationSchema(page_of(ParticipationRowSchema)):
    unit = ma.fields.String()
    year = ma.fields.Integer()
    summary = ma.fields.Nested(ParticipationRowSchema)


@blp.route("/reports/participation")
class Participation(MethodView):
    @blp.arguments(ParticipationQuery, location="query")
    @blp.response(200, ParticipationSchema)
    def get(self, args):
        """参与度 (admin): per village or community under the unit, holders, active holders (a
        posted entry that year), their share, deductions and objections; `summary` for the unit."""
        year = args.get("year") or today().year
        report = oversight.participation(principal(), args["unit"], year)
        page, per_page = args["page"], args["per_page"]
        start = (page - 1) * per_page
        return {
            "items": report["items"][start : start + per_page],
            "total": len(report["items"]),
            "page": page,
            "per_page": per_page,
            "unit": report["unit"].code,
            "year": year,
            "summary": report["summary"],
        }


class LiabilityQuery(Schema):
    unit = text_field(max_length=64)
    scheme = ma.fields.String(validate=ma.validate.Length(max=64))


FundSchema = Schema.from_dict(
    {"in": yuan_field(), "out": yuan_field(), "balance": yuan_field()}, name="FundFiguresSchema"
)


class CoverSchema(Schema):
    unit = ma.fields.String()
    name = ma.fields.String()
    outstanding = points_field()
    stock_value = points_field()
    fund = ma.fields.Nested(FundSchema)
    fund_points = points_field()
    cover = points_field()
    shortfall = points_field()
    covered = ma.fields.Boolean()


class LiabilitySchema(CoverSchema):
    scheme = ma.fields.String(allow_none=True)
    yuan_per_point = points_field()
    units = ma.fields.List(ma.fields.Nested(CoverSchema))


@blp.route("/reports/liability")
class Liability(MethodView):
    @blp.arguments(LiabilityQuery, location="query")
    @blp.response(200, LiabilitySchema)
    def get(self, args):
        """积分兑付能力 (admin): outstanding points against the shops' stock value and the fund
        (公益金, in points at YUAN_PER_POINT yuan a point), in total and per village."""
        return oversight.liability(principal(), args["unit"], args.get("scheme") or None)


@blp.route("/periods/close")
class Close(MethodView):
    @blp.arguments(CloseSchema)
    @blp.response(200, PeriodSchema)
    def post(self, data):
        """年度结算: awards, expiry and carry-over; the year is closed afterwards."""
        return service.close_year(principal(), data["scheme"], data["year"])


@blp.route("/periods/<scheme>/<int:year>")
class OnePeriod(MethodView):
    @blp.response(200, PeriodSchema)
    def get(self, scheme, year):
        """A closed year's awards and totals, readable for ever."""
        return service.get_period(principal(), scheme, year)
