"""What every JSON API v1 blueprint shares: JSON parsing, sign-in, paging."""

import json

import flask_smorest
import marshmallow as ma
from flask import g, request
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, NotFound

from points.database import offset_of
from points.errors import PointsError, invalid, reason
from points.extensions import db

MAX_TEXT = 2000
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_DEPTH = 32  # JSON nested deeper is refused (api.md, Conventions: limits)
MAX_ROW_ID = 2**63 - 1  # what the database stores: a page or id beyond it names nothing
MAX_QUANTITY = 100_000  # a per-unit item's quantity: far beyond any real deed, far below overflow


class JsonParser(FlaskParser):
    """A body is JSON whatever its Content-Type says; a body that is not JSON is a 400."""

    def _raw_load_json(self, req):
        if req.mimetype in FORM_TYPES:  # a form (a claim with photos): webargs reads it as one
            return ma.missing
        raw = req.get_data(cache=True)
        if not raw:
            return ma.missing
        too_deep = False
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:  # nested far deeper than MAX_DEPTH
            data, too_deep = None, True
        except (ValueError, UnicodeError) as error:
            raise PointsError(
                "bad_request", f"the request body is not valid JSON text: {error}", 400
            ) from None
        # Only an array or object opens a level: a body with few brackets needs no walk.
        if too_deep or (
            raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH)
        ):
            raise PointsError(
                "bad_request", f"the request body nests deeper than {MAX_DEPTH} levels", 400
            )
        if b"\\u" not in raw:  # NUL and lone surrogates can only come in as \u escapes
            return data
        try:
            # Text a database cannot store (a lone surrogate, NUL) is refused here, not at COMMIT.
            if any("\x00" in text for text in _texts(data)):
                raise ValueError("a NUL character")
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, UnicodeError) as error:
            raise PointsError(
                "bad_request", f"the request body is not valid JSON text: {error}", 400
            ) from None
        return data


def _deeper_than(value, limit):
    """Whether arrays and objects nest more than `limit` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return False


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


NUL = "\x00"


def refuse_nul():
    """A NUL character (%00) in the path, a query value or a form field names nothing and is
    stored nowhere (PostgreSQL refuses it in text): refused before any view looks it up, for
    every request. The API answers 404 for the path and 422 naming the field for a value; a
    page its 404 or 400 page. A JSON body is the parser's (400, above)."""
    if NUL in request.path:
        raise NotFound()
    if request.routing_exception is not None:
        return  # its own 404 or 405
    values = request.args.items(multi=True) if request.query_string else []
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in FORM_TYPES:
        values = [*values, *request.form.items(multi=True)]
    bad = list(dict.fromkeys(name for name, value in values if NUL in name or NUL in value))
    if not bad:
        return
    if not request.path.startswith("/api/"):
        raise BadRequest()
    raise invalid(
        {
            name.replace(NUL, ""): [reason("nul_character", "contains a NUL character")]
            for name in bad
        }
    )


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonParser()
    # "json_or_form": JSON, or the same fields as a multipart form with files (a claim's photos).
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json",
    }

    def arguments(self, schema, **kwargs):
        """A schema class is made once, here, not on every request (webargs makes one per call
        when handed the class: fields deep-copied, nested schemas built again). Our request
        schemas keep no state between loads, so one instance serves every request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)


def protected(blp):
    """Every path of the blueprint needs `Authorization: Bearer <token>`."""
    blp.before_request(authenticate)
    return blp


def authenticate():
    from points.users.service import principal_for_token  # users' own API imports this module

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PointsError("unauthorized", "请先登录：缺少令牌", 401)
    g.principal = principal_for_token(token.strip())


def principal():
    return g.principal


class Schema(ma.Schema):
    class Meta:
        ordered = True


def page_field():
    return ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_ROW_ID))


def per_page_field():
    return ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


def row_id_field(**kwargs):
    """An id in a query or body: beyond what the database stores is a 422, never an overflow."""
    return ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=1, max=MAX_ROW_ID), **kwargs
    )


class PageArgs(Schema):
    page = page_field()
    per_page = per_page_field()


def page_of(item_schema):
    """The contract's list shape: {"items", "total", "page", "per_page"}."""
    return type(
        f"{item_schema.__name__}Page",
        (Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "total": ma.fields.Integer(),
            "page": ma.fields.Integer(),
            "per_page": ma.fields.Integer(),
        },
    )


def paginate(query, args, view=lambda row: row):
    """One page of a select(), newest first as the query orders it, with the total."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    offset = offset_of(page, per_page, total)
    rows = (
        []
        if offset is None
        else db.session.execute(query.limit(per_page).offset(offset)).unique().scalars().all()
    )
    return {
        "items": [view(row) for row in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def text_field(required=True, max_length=MAX_TEXT, **kwargs):
    validate = ma.validate.Length(min=1 if required else 0, max=max_length)
    return ma.fields.String(required=required, validate=validate, **kwargs)


def points_field(**kwargs):
    return ma.fields.Decimal(as_string=False, allow_nan=False, **kwargs)
