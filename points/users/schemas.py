"""The users' request schemas, shared by the JSON API and the admin pages."""

import marshmallow as ma

from points.errors import reason
from points.http import Schema, text_field
from points.users.models import ROLES


USERNAME = ma.validate.Regexp(
    r"^[A-Za-z0-9_.@-]{1,64}$",
    error=reason("username_chars", "letters, digits and _ . @ - only, at most 64"),
)


class GrantSchema(Schema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    unit = text_field(max_length=64)


class NewUserSchema(Schema):
    username = ma.fields.String(required=True, validate=USERNAME)
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(
            min=8,
            max=200,
            error=reason("password_length", "Length must be between {min} and {max}."),
        ),
    )
    display_name = text_field(required=False, max_length=200)
    grants = ma.fields.List(
        ma.fields.Nested(GrantSchema), required=True, validate=ma.validate.Length(max=50)
    )
