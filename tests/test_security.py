"""Hardening (issue 10): no secret in the source, PINs that cannot be sprayed, exports
without formulas, limits instead of 500s, sessions that end, anonymous objectors."""
import ast
import os
import stat
from pathlib import Path

from conftest import PASSWORD, make_app

SOURCE = Path(__file__).resolve().parent.parent / "points"


def _string_literals():
    found = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                found.add(node.value)
    return found | {"development-only-secret"}


def _signed_in_cookie(client):
    from test_pages import sign_in

    assert sign_in(client, "rec").status_code == 302
    return client.get_cookie("session").value


# --- 1. no secret in the source ------------------------------------------------------------

def test_without_secret_key_a_private_key_file_is_made_and_kept_across_restarts(database_uri, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    again = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no drafts left behind


def test_production_without_secret_key_refuses_to_start(database_uri, tmp_path):
    import pytest

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        make_app(database_uri, SECRET_KEY=None, ENV_NAME="production",
                 SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    assert not (tmp_path / "secret_key").exists()


def test_a_session_cookie_signed_with_any_string_of_the_source_is_refused(world, database_uri, tmp_path):
    from flask.sessions import SecureCookieSessionInterface

    app = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    client = app.test_client()
    cookie = _signed_in_cookie(client)
    interface = SecureCookieSessionInterface()
    session = dict(interface.get_signing_serializer(app).loads(cookie))
    assert session.get("_user_id")
    literals = _string_literals()
    assert app.config["SECRET_KEY"] not in literals
    for literal in literals:
        app.secret_key, real = literal, app.secret_key
        try:
            forged = interface.get_signing_serializer(app).dumps(session)
        finally:
            app.secret_key = real
        try:
            interface.get_signing_serializer(app).loads(forged)
        except Exception:
            continue
        raise AssertionError(f"a cookie signed with {literal!r} is accepted")
    # And through the front door: the old development key's cookie is signed out.
    app.secret_key, real = "development-only-secret", app.secret_key
    forged = interface.get_signing_serializer(app).dumps(session)
    app.secret_key = real
    stranger = app.test_client()
    stranger.set_cookie("session", forged)
    answer = stranger.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_demo_warns_and_refuses_production(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0 and "for trying the service only" in result.output
    app.config["ENV_NAME"] = "production"
    refused = app.test_cli_runner().invoke(args=["demo"])
    assert refused.exit_code == 1 and "production" in refused.output


def test_secret_key_command_says_where_the_key_lives(database_uri, tmp_path):
    app = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    result = app.test_cli_runner().invoke(args=["secret-key"])
    assert result.exit_code == 0 and str(tmp_path / "secret_key") in result.output
    assert app.config["SECRET_KEY"] not in result.output
