"""One error type for the service, and the one envelope every error is answered in."""

import logging

import flask_smorest
import marshmallow as ma
from flask import jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_attempts",
    500: "internal_error",
    503: "unavailable",
}


class PointsError(Exception):
    """A refusal the caller can act on: a code from the contract, a message, a status."""

    def __init__(self, code, message, status=400, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


class Reason(str):
    """A detail message with a name: the API shows its English text (the string itself), a page
    words it by its name (points/web.py, REASONS, translated in the Babel catalogs), so no code
    ever matches message text. `params` are the values the words need ({"min": 1})."""

    def __new__(cls, name, text, **params):
        self = super().__new__(cls, text)
        self.name, self.params = name, params
        return self

    def format(self, *args, **kwargs):
        """marshmallow formats its messages ({min}, {input}): the name survives it."""
        return Reason(self.name, str.format(self, *args, **kwargs), **{**self.params, **kwargs})

    def __reduce__(self):
        return (_reason, (self.name, str(self), self.params))


def _reason(name, text, params):
    return Reason(name, text, **params)


def reason(name, text, **params):
    """reason("unknown_holder", "unknown holder"); with params, `text` is formatted with them."""
    return Reason(name, text.format(**params) if params else text, **params)


def _name_marshmallow_messages():
    """marshmallow's own messages (required, not a number, too short, ...) as named reasons,
    with their English text unchanged."""
    fields, validate = ma.fields, ma.validate
    for cls, key, name in [
        (fields.Field, "required", "required"),
        (fields.Number, "invalid", "not_a_number"),
        (fields.Decimal, "special", "not_a_number"),
        (fields.Integer, "invalid", "not_an_integer"),
        (fields.Date, "invalid", "not_a_date"),
        (fields.Boolean, "invalid", "not_a_boolean"),
    ]:
        cls.default_error_messages[key] = Reason(name, cls.default_error_messages[key])
    for attribute in ("message_min", "message_max", "message_all", "message_equal"):
        setattr(
            validate.Length,
            attribute,
            Reason(f"length_{attribute[8:]}", getattr(validate.Length, attribute)),
        )
    for attribute in ("message_min", "message_max", "message_all"):
        setattr(
            validate.Range,
            attribute,
            Reason(f"range_{attribute[8:]}", getattr(validate.Range, attribute)),
        )
    validate.OneOf.default_message = Reason("one_of", validate.OneOf.default_message)


_name_marshmallow_messages()
REQUIRED = ma.fields.Field.default_error_messages["required"]  # for a field a page checks itself


def not_found(what):
    return PointsError("not_found", f"{what} not found", 404)


def forbidden(message="not allowed for your role or units"):
    return PointsError("forbidden", message, 403)


def invalid(details, message="some fields are not valid"):
    """422 with per-field messages: invalid({"item": ["unknown item"]})."""
    return PointsError("validation_error", message, 422, details)


def invalid_state(message, details=None):
    return PointsError("invalid_state", message, 409, details)


def envelope(code, message, status, details=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _webargs_details(error):
    """webargs nests messages by location ({"json": {"item": [...]}}); the contract does not."""
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    details = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            details.update(fields)
        else:
            details[location] = fields
    return details


def handle_points_error(error):
    return envelope(error.code, error.message, error.status, error.details)


def handle_http_exception(error):
    status = error.code or 500
    code = HTTP_CODES.get(status, "error")
    details = _webargs_details(error)
    if status == 422:
        return envelope(code, "some fields are not valid", 422, details)
    if status == 400 and details:
        return envelope(code, "the request body is not valid JSON", 400, details)
    return envelope(code, error.description or code, status, {})


def handle_unexpected(error):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error", exc_info=error)
    return envelope("internal_error", InternalServerError.description, 500)


def register(app):
    app.register_error_handler(PointsError, handle_points_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


class ErrorBody(ma.Schema):
    code = ma.fields.String(metadata={"example": "validation_error"})
    message = ma.fields.String()
    details = ma.fields.Dict(metadata={"example": {"item": ["unknown item"]}})


class ErrorEnvelope(ma.Schema):
    """The one error shape, as the OpenAPI document describes it."""

    error = ma.fields.Nested(ErrorBody)


class Api(flask_smorest.Api):
    """flask-smorest configured to the contract: its documented error shape is ours."""

    ERROR_SCHEMA = ErrorEnvelope
