"""民主测评: /api/v1/appraisals/rounds (admin) and /api/v1/public/appraisals (residents)."""

import marshmallow as ma
from flask import request
from flask.views import MethodView

from points.appraisals import service
from points.appraisals.schemas import (
    BallotSchema,
    NewRoundSchema,
    PublicResultsQuery,
    RoundQuery,
)
from points.database import aware
from points.http import Blueprint, Schema, page_of, paginate, points_field, principal, protected
from points.public.service import mask
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


class PlatformSchema(Schema):
    item = ma.fields.String()
    measure = ma.fields.String()
    value = ma.fields.Integer()
    points = points_field(allow_none=True)
    entry = ma.fields.Integer(allow_none=True)


class PublicResultSchema(Schema):
    subject = ma.fields.String()
    name = ma.fields.String()
    ballots = ma.fields.Integer()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    points = points_field(allow_none=True)


class ResultSchema(PublicResultSchema):
    entries = ma.fields.List(ma.fields.Integer())
    platform = ma.fields.List(ma.fields.Nested(PlatformSchema))


class PublicRoundSchema(Schema):
    id = ma.fields.Integer()
    scheme = ma.fields.String()
    round = ma.fields.String()
    unit = ma.fields.String()
    status = ma.fields.String()
    results = ma.fields.List(ma.fields.Nested(PublicResultSchema))


class RoundSchema(PublicRoundSchema):
    opened_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    results = ma.fields.List(ma.fields.Nested(ResultSchema))


class BallotAnswer(Schema):
    round = ma.fields.Raw()
    id = ma.fields.Integer()
    period = ma.fields.String()
    subject = ma.fields.String()


def _round_fields(appraisal_round):
    return {
        "id": appraisal_round.id,
        "scheme": appraisal_round.scheme.code,
        "round": appraisal_round.period,
        "unit": appraisal_round.unit.code,
        "status": appraisal_round.status,
    }


def round_view(appraisal_round, results=None):
    return _round_fields(appraisal_round) | {
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
    return _round_fields(appraisal_round) | {"results": rows}


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
        """民主测评: a household rates a grid worker of its own grid once per round
        (secret ballot)."""
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
        return paginate(service.public_rounds_query(args["unit"]), args, public_view)
