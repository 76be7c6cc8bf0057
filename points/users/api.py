"""Auth, users and grants: /api/v1/auth/token, /api/v1/users, /api/v1/me."""

import marshmallow as ma
from flask.views import MethodView

from points.http import Blueprint, Schema, principal, protected, text_field
from points.users import service
from points.users.schemas import GrantSchema, NewUserSchema

auth = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Sign in for an API token"
)
blp = protected(
    Blueprint(
        "users", __name__, url_prefix="/api/v1", description="Users and their (role, unit) grants"
    )
)


class UserSchema(Schema):
    username = ma.fields.String()
    display_name = ma.fields.String()
    grants = ma.fields.List(ma.fields.Nested(GrantSchema))
    links = ma.fields.List(
        ma.fields.String(), metadata={"description": "holders this user stands back from"}
    )


class LinkSchema(Schema):
    holder = text_field(max_length=64)


class LinkAnswer(Schema):
    holder = ma.fields.String()
    name = ma.fields.String()


class CredentialsSchema(Schema):
    username = text_field(max_length=200)
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))


class TokenSchema(Schema):
    token = ma.fields.String()
    expires_at = ma.fields.DateTime()
    user = ma.fields.Nested(UserSchema)


@auth.route("/token")
class TokenResource(MethodView):
    @auth.arguments(CredentialsSchema)
    @auth.response(200, TokenSchema)
    @auth.doc(security=[])
    def post(self, data):
        """Sign in: a bearer token for the other endpoints."""
        return service.issue_token(data["username"], data["password"])


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(NewUserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user with grants on units within the caller's own admin grants."""
        user = service.create_user(
            principal(),
            data["username"],
            data["password"],
            data.get("display_name"),
            data["grants"],
        )
        return service.user_view(user)


@blp.route("/users/<username>")
class OneUser(MethodView):
    @blp.response(200, UserSchema)
    def get(self, username):
        return service.user_view(service.get_user(principal(), username), links=True)


@blp.route("/users/<username>/grants")
class Grants(MethodView):
    @blp.arguments(GrantSchema)
    @blp.response(200, UserSchema)
    def post(self, data, username):
        return service.user_view(
            service.add_grant(principal(), username, data["role"], data["unit"])
        )

    @blp.arguments(GrantSchema)
    @blp.response(200, UserSchema)
    def delete(self, data, username):
        return service.user_view(
            service.remove_grant(principal(), username, data["role"], data["unit"])
        )


@blp.route("/users/<username>/links")
class Links(MethodView):
    @blp.arguments(LinkSchema)
    @blp.response(201, LinkAnswer)
    def post(self, data, username):
        """回避: link the user to a holder they must never score (own household or close kin)."""
        holder = service.add_link(principal(), username, data["holder"])
        return {"holder": holder.code, "name": holder.name}

    @blp.arguments(LinkSchema)
    @blp.response(200, LinkAnswer)
    def delete(self, data, username):
        """Remove a link (never one's own)."""
        holder = service.remove_link(principal(), username, data["holder"])
        return {"holder": holder.code, "name": holder.name}


@blp.route("/users/<username>/disable")
class Disable(MethodView):
    @blp.response(200, UserSchema)
    def post(self, username):
        """Disable a user: their tokens stop working at once."""
        return service.user_view(service.disable_user(principal(), username))


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        return service.user_view(service.get_user(principal(), principal().username), links=True)
