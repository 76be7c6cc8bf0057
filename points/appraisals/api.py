"""民主测评: /api/v1/appraisals/rounds (admin) and /api/v1/public/appraisals (residents)."""

import marshmallow as ma
from flask import request
from flask.views import MethodView
from sqlalchemy import select

from points.appraisals import service
from points.appraisals.models import ROUND_STATES, AppraisalRound
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
from points.org.models import Unit
from points.org.service import unit_by_code
from points.public.schemas import PinSchema
from points.public.service import mask
from points.rules.model import period_window
from points.users.service import resident

blp = protected(
    Blueprint(
        "appraisals",
        __name__,
        url_prefix="/api/v1",
        description="Democratic appraisal (民主测评): rounds opened and closed by an admin",
    )
)
public = Blueprint(
    "public_appraisals",
    __name__,
    url_prefix="/api/v1/public",
    description="Democratic appraisal (民主测评): a household rates its grid worker",
)


def _period(value):
    try:
        period_window(value)
    except ValueError as error:
        raise ma.ValidationError(str(error)) from None


class RoundField(ma.fields.Field):
    """A round by its id (a number) or by its period ("2026-H2")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, str))
            or (isinstance(value, str) and not 0 < len(value.strip()) <= 20)
        ):
            raise ma.ValidationError("a round id, or a period like 2026-H2")
        if isinstance(value, int) and not 0 < value < 2**31:
            raise ma.ValidationError("unknown round")
        return value


class NewRoundSchema(Schema):
    scheme = text_field(max_length=64)
    round = ma.fields.String(required=True, validate=_period)
    unit = text_field(max_length=64)


class PlatformSchema(Schema):
    item = ma.fields.String()
    measure = ma.fields.String()
    value = ma.fields.Integer()
    points = points_field(allow_none=True)
    entry = ma.fields.Integer(allow_none=True)


class ResultSchema(Schema):
    subject = ma.fields.String()
    name = ma.fields.String()
    ballots = ma.fields.Integer()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    points = points_field(allow_none=True)
    entries = ma.fields.List(ma.fields.Integer())
    platform = ma.fields.List(ma.fields.Nested(PlatformSchema))


class RoundSchema(Schema):
    id = ma.fields.Integer()
    scheme = ma.fields.String()
    round = ma.fields.String()
    unit = ma.fields.String()
    status = ma.fields.String()
    opened_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    results = ma.fields.List(ma.fields.Nested(ResultSchema))


class PublicResultSchema(Schema):
    subject = ma.fields.String()
    name = ma.fields.String()
    ballots = ma.fields.Integer()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    points = points_field(allow_none=True)


class PublicRoundSchema(Schema):
    id = ma.fields.Integer()
    scheme = ma.fields.String()
    round = ma.fields.String()
    unit = ma.fields.String()
    status = ma.fields.String()
    results = ma.fields.List(ma.fields.Nested(PublicResultSchema))


class RoundQuery(PageArgs):
    scheme = ma.fields.String(validate=ma.validate.Length(max=64))
    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    status = ma.fields.String(validate=ma.validate.OneOf(ROUND_STATES))


class BallotSchema(PinSchema):
    round = RoundField(required=True)
    subject = text_field(max_length=64)
    rating = text_field(max_length=64)


class BallotAnswer(Schema):
    round = ma.fields.Raw()
    id = ma.fields.Integer()
    period = ma.fields.String()
    subject = ma.fields.String()


class PublicResultsQuery(PageArgs):
    unit = text_field(max_length=64)


def round_view(appraisal_round, results=None):
    from points.database import aware

    return {
        "id": appraisal_round.id,
        "scheme": appraisal_round.scheme.code,
        "round": appraisal_round.period,
        "unit": appraisal_round.unit.code,
        "status": appraisal_round.status,
        "opened_at": aware(appraisal_round.opened_at),
        "closed_at": aware(appraisal_round.closed_at),
        "results": results if results is not None else service.results(appraisal_round),
    }


def public_view(appraisal_round):
    """A closed round's counts, names masked as on the notice board."""
    rows = [
        {key: row[key] for key in ("subject", "ballots", "counts", "points")}
        | {"name": mask(row["name"])}
        for row in service.results(appraisal_round)
    ]
    return {
        "id": appraisal_round.id,
        "scheme": appraisal_round.scheme.code,
        "round": appraisal_round.period,
        "unit": appraisal_round.unit.code,
        "status": appraisal_round.status,
        "results": rows,
    }


@blp.route("/appraisals/rounds")
class Rounds(MethodView):
    @blp.arguments(NewRoundSchema)
    @blp.response(201, RoundSchema)
    def post(self, data):
        """Open a round (测评轮次) of a scheme with an appraisal, for a unit and a period."""
        return round_view(
            service.open_round(principal(), data["scheme"], data["round"], data["unit"])
        )

    @blp.arguments(RoundQuery, location="query")
    @blp.response(200, page_of(RoundSchema))
    def get(self, args):
        """Rounds within the caller's admin units, newest first."""
        query = service.rounds_query(
            principal(), args.get("scheme"), args.get("unit"), args.get("status")
        )
        return paginate(query, args, round_view)


@blp.route("/appraisals/rounds/<int:round_id>")
class OneRound(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, round_id):
        """A round: ballots per grid worker while open, counts and points once closed."""
        return round_view(service.get_round(principal(), round_id))


@blp.route("/appraisals/rounds/<int:round_id>/close")
class CloseRound(MethodView):
    @blp.response(200, RoundSchema)
    def post(self, round_id):
        """Close a round: each grid worker's result and platform items become pending entries."""
        appraisal_round, results = service.close_round(principal(), round_id)
        return round_view(appraisal_round, results)


@public.route("/appraisals")
class Ballots(MethodView):
    @public.arguments(BallotSchema)
    @public.response(201, BallotAnswer)
    @public.doc(security=[])
    def post(self, data):
        """民主测评: a household rates a grid worker of its own grid once per round (secret ballot)."""
        rater = resident(data["holder"], data["pin"], request.remote_addr)
        appraisal_round, subject = service.cast(
            rater, data["round"], data["subject"], data["rating"]
        )
        return {
            "round": data["round"],
            "id": appraisal_round.id,
            "period": appraisal_round.period,
            "subject": subject.code,
        }

    @public.arguments(PublicResultsQuery, location="query")
    @public.response(200, page_of(PublicRoundSchema))
    @public.doc(security=[])
    def get(self, args):
        """Closed rounds under a unit (and above it), counts only: never who rated whom how."""
        unit = unit_by_code(args["unit"], "unit")
        query = (
            select(AppraisalRound)
            .join(Unit, AppraisalRound.unit_id == Unit.id)
            .where(AppraisalRound.status == "closed", Unit.path.startswith(unit.path))
            .order_by(AppraisalRound.id.desc())
        )
        return paginate(query, args, public_view)
