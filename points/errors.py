"""One error type for the service, and the one envelope every error is answered in."""
import logging

import flask_smorest
import marshmallow as ma
from flask import jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "too_many_attempts",
    500: "internal_error", 503: "unavailable",
}


class PointsError(Exception):
    """A refusal the caller can act on: a code from the contract, a message, a status."""

    def __init__(self, code, message, status=400, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


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
