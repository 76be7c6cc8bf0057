"""Hardening (issue 10): no secret in the source, PINs that cannot be sprayed, exports
without formulas, limits instead of 500s, sessions that end, anonymous objectors."""

import ast
import os
import stat
from pathlib import Path

import pytest

from conftest import PASSWORD, make_app

SOURCE = Path(__file__).resolve().parent.parent / "points"
JSON = {"Content-Type": "application/json"}


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


def test_without_secret_key_a_private_key_file_is_made_and_kept(database_uri, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    again = make_app(database_uri, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no drafts left behind


def test_production_without_secret_key_refuses_to_start(database_uri, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        make_app(
            database_uri,
            SECRET_KEY=None,
            ENV_NAME="production",
            SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        )
    assert not (tmp_path / "secret_key").exists()


def test_a_cookie_signed_with_any_string_of_the_source_is_refused(world, database_uri, tmp_path):
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


# --- 2. PIN guesses limited per client address ---------------------------------------------

SPRAY = [("H1", "0000"), ("H2", "0000"), ("H3", "0000"), ("H9", "0000"), ("NOBODY", "1234")] * 4


def _pin(world, holder, pin, address="10.0.0.1", path="/public/balance", **body):
    return world.anonymous.post(
        path, json={"holder": holder, "pin": pin, **body}, environ_base={"REMOTE_ADDR": address}
    )


def test_twenty_failed_pins_from_one_address_lock_it_for_every_holder(world):
    answers = [_pin(world, holder, pin) for holder, pin in SPRAY]
    assert [a.status for a in answers] == [401] * 20  # the 20th failure is still only a 401
    locked = _pin(world, "M2", "1234")  # the right PIN of a holder never tried
    assert locked.status == 429 and locked.code == "too_many_attempts"
    objection = _pin(world, "M2", "1234", path="/public/entries/1/objections", text="不对")
    assert objection.status == 429
    assert _pin(world, "M2", "1234", address="10.0.0.2").status == 200


def test_a_right_pin_forgives_its_own_attempt_and_the_lock_lifts_after_fifteen_minutes(world):
    from datetime import timedelta

    from sqlalchemy import select, update

    from points.extensions import db
    from points.users.models import LoginFailure

    for _ in range(30):
        assert _pin(world, "M1", "1234").status == 200  # successes never count
    for holder, pin in SPRAY:
        _pin(world, holder, pin)
    assert _pin(world, "M2", "1234").status == 429
    with world.app.app_context():
        oldest = (
            db.session.execute(
                select(LoginFailure)
                .where(LoginFailure.scope == "address")
                .order_by(LoginFailure.id)
            )
            .scalars()
            .first()
        )
        db.session.execute(
            update(LoginFailure)
            .where(LoginFailure.id == oldest.id)
            .values(at=oldest.at - timedelta(minutes=16))
        )
        db.session.commit()
    assert _pin(world, "M2", "1234").status == 200


def test_the_lookup_page_counts_against_the_same_address(world, client):
    from test_pages import TOKEN, html

    for holder, pin in SPRAY:
        _pin(world, holder, pin, address="10.0.0.7")
    page = client.get("/lookup", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    token = TOKEN.search(html(page)).group(1)
    answer = client.post(
        "/lookup",
        data={"csrf_token": token, "holder": "M2", "pin": "1234"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert answer.status_code == 429 and "尝试次数过多" in html(answer)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(world, database_uri, rules_dir):
    from conftest import Api

    def spray(client, forwarded):
        for holder, pin in SPRAY:
            Api(client).post(
                "/public/balance",
                json={"holder": holder, "pin": pin},
                headers={"X-Forwarded-For": forwarded},
            )
        return (
            Api(client)
            .post(
                "/public/balance",
                json={"holder": "M2", "pin": "1234"},
                headers={"X-Forwarded-For": forwarded},
            )
            .status
        )

    proxied = make_app(database_uri, RULES_DIR=str(rules_dir), PROXIES=1).test_client()
    assert spray(proxied, "198.51.100.1") == 429
    assert (
        Api(proxied)
        .post(
            "/public/balance",
            json={"holder": "M2", "pin": "1234"},
            headers={"X-Forwarded-For": "198.51.100.2"},
        )
        .status
        == 200
    )
    # Without POINTS_PROXIES the header is not believed: a client cannot pick a fresh address.
    for n, (holder, pin) in enumerate(SPRAY):
        world.anonymous.post(
            "/public/balance",
            json={"holder": holder, "pin": pin},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    assert (
        world.anonymous.post(
            "/public/balance",
            json={"holder": "M2", "pin": "1234"},
            headers={"X-Forwarded-For": "203.0.113.99"},
        ).status
        == 429
    )


def test_old_failures_are_purged_when_the_service_settles(world):
    from datetime import timedelta

    from sqlalchemy import func, select

    from points.database import utcnow, write
    from points.extensions import db
    from points.users.models import LoginFailure

    with world.app.app_context():
        with write():
            for minutes in (16, 60, 1):
                db.session.add(
                    LoginFailure(
                        scope="address", name="10.9.9.9", at=utcnow() - timedelta(minutes=minutes)
                    )
                )
        db.session.remove()
    assert world.app.test_cli_runner().invoke(args=["settle"]).exit_code == 0
    with world.app.app_context():
        left = db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one()
    assert left == 1


# --- 3. exports without formulas -----------------------------------------------------------

FORMULA_NAMES = ["=1+1", "@SUM(1)", "+1", "-1+1", "\tx", '=HYPERLINK("http://x")']


def _holders_named_like_formulas(world):
    from points.database import end_read, write
    from points.extensions import db
    from points.org.models import Holder

    with world.app.app_context():
        unit_id = world._unit_id("g3")
        end_read()
        with write():
            for n, name in enumerate(FORMULA_NAMES):
                db.session.add(Holder(code=f"F{n}", name=name, kind="household", unit_id=unit_id))
        db.session.remove()


def test_the_csv_export_holds_no_formula(world):
    import csv
    import io

    _holders_named_like_formulas(world)
    answer = world.as_("admin").get("/reports/ranking?scheme=longhua&unit=v2&format=csv")
    rows = list(csv.reader(io.StringIO(answer.response.get_data().decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + name for name in FORMULA_NAMES} | {"赵西沟"}
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {row[3] for row in rows[1:]} == {"0.0"}  # points stay plain numbers


def test_the_xlsx_export_holds_text_cells_never_formulas(world):
    import io

    from openpyxl import load_workbook

    _holders_named_like_formulas(world)
    answer = world.as_("admin").get("/reports/ranking?scheme=longhua&unit=v2&format=xlsx")
    sheet = load_workbook(io.BytesIO(answer.response.get_data())).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    names = {row[2].value for row in sheet.iter_rows(min_row=3)}
    assert names == set(FORMULA_NAMES) | {"赵西沟"}
    for row in sheet.iter_rows(min_row=3):
        assert row[2].data_type == "s" and isinstance(row[0].value, int) and row[3].data_type == "n"


# --- 4. limits in the envelope, never a 500 ------------------------------------------------


def _nothing_recorded(world):
    return world.as_("admin").get("/entries").json["total"] == 0


def test_a_json_body_over_one_mebibyte_is_413_in_the_envelope(world):
    body = b'{"note": "' + b"x" * (1024 * 1024) + b'"}'
    answer = world.as_("rec").post("/entries", data=body, headers=JSON)
    assert answer.status == 413 and answer.code == "payload_too_large"
    assert answer.json["error"]["details"] == {}
    anonymous = world.anonymous.post("/public/balance", data=body, headers=JSON)
    assert anonymous.status == 413 and anonymous.code == "payload_too_large"
    assert _nothing_recorded(world)


def test_a_form_over_one_mebibyte_gets_a_friendly_page(world, client):
    answer = client.post("/lookup", data={"holder": "H1", "pin": "x" * (1024 * 1024)})
    assert answer.status_code == 413 and "太大" in answer.get_data(as_text=True)


@pytest.mark.parametrize("depth", [33, 100, 100_000])
def test_json_nested_deeper_than_32_is_a_400(world, depth):
    body = '{"note": ' + "[" * depth + "]" * depth + "}"
    answer = world.as_("rec").post("/entries", data=body, headers=JSON)
    assert answer.status == 400 and answer.code == "bad_request", answer


def test_json_nested_32_deep_is_parsed(world):
    body = '{"note": ' + "[" * 31 + "]" * 31 + "}"
    answer = world.as_("rec").post("/entries", data=body, headers=JSON)
    assert answer.status == 422 and "note" in answer.json["error"]["details"]


@pytest.mark.parametrize(
    "query",
    [
        "page=9223372036854775808",
        "page=100000000000000000000000000000",
        "per_page=9223372036854775808",
    ],
)
def test_a_page_beyond_what_the_database_stores_is_422(world, query):
    for path in (
        "/holders",
        "/entries",
        "/public/notices?unit=v1",
        "/accounts/longhua/H1/postings",
        "/reports/ranking?scheme=longhua&unit=v1",
    ):
        answer = world.as_("admin").get(path + ("&" if "?" in path else "?") + query)
        assert answer.status == 422 and answer.code == "validation_error", (path, answer)


def test_a_huge_page_past_the_last_is_an_empty_page(world):
    for path in (
        "/holders",
        "/entries",
        "/reports/ranking?scheme=longhua&unit=v1",
        "/accounts/longhua/H1/postings",
    ):
        answer = world.as_("admin").get(
            path + ("&" if "?" in path else "?") + "page=9223372036854775807"
        )
        assert answer.status == 200 and answer.json["items"] == [], (path, answer)
        assert answer.json["page"] == 9223372036854775807


def test_fuzzing_found_huge_pages_of_postings_and_goods(world):
    """500s schemathesis found before the limits: page=2.1e29 of postings, 3.9e37 of goods."""
    from shop_helpers import open_shop

    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    for path in (
        "/accounts/longhua/H1/postings?per_page=157&page=212771481619549677434821410816",
        "/shops/lh-shop/goods?page=39763021098638089047362017762111127552",
    ):
        answer = world.as_("admin").get(path)
        assert answer.status == 422 and "page" in answer.json["error"]["details"], (path, answer)


def test_ids_and_quantities_beyond_what_is_stored_are_422(world):
    entry = world.record()
    approve = world.as_("rev1").post("/entries/batch/approve", json={"ids": [entry["id"], 10**30]})
    assert approve.status == 422 and "ids" in approve.json["error"]["details"]
    item = world.item_of("per_unit")
    body = {"scheme": "longhua", "holder": "H1", "item": item.code, "occurred_on": "2026-01-05"}
    for quantity in (10**30, 100_001, "1e999999"):
        answer = world.as_("rec").post("/entries", json={**body, "quantity": quantity})
        assert answer.status == 422 and "quantity" in answer.json["error"]["details"], answer
    assert world.as_("admin").get("/entries").json["total"] == 1


def test_a_method_override_is_not_honoured(world):
    entry = world.record()
    for header in ({}, {"X-HTTP-Method-Override": "DELETE"}):
        answer = world.as_("admin").post(
            f"/entries/{entry['id']}?_method=DELETE", json={}, headers=header
        )
        assert answer.status == 405 and answer.code == "method_not_allowed"
    assert world.as_("admin").get(f"/entries/{entry['id']}").status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/review\r\nSet-Cookie: x=1",
        "/review\nx",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\tx",
    ],
)
def test_login_goes_only_to_a_local_path_without_cr_lf_or_backslash(world, client, target):
    from test_pages import form_token

    token = form_token(client, "/login")
    answer = client.post(
        "/login",
        data={"username": "rec", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_login_goes_to_a_local_next_path(world, client):
    from test_pages import form_token

    token = form_token(client, "/login")
    answer = client.post(
        "/login",
        data={"username": "rec", "password": PASSWORD, "csrf_token": token, "next": "/review?x=1"},
    )
    assert answer.headers["Location"] == "/review?x=1"


# --- 5. sessions that end ------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_signed_out_afterwards(world, client):
    from test_pages import form_token, sign_in

    assert sign_in(client, "rec").status_code == 302
    copied = client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": form_token(client, "/")}).status_code == 302
    thief = world.app.test_client()
    thief.set_cookie("session", copied)
    answer = thief.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    # Signing in again works, with a fresh session.
    assert sign_in(client, "rec").status_code == 302 and client.get("/").status_code == 200


def test_logout_ends_every_session_of_that_user_and_disabling_too(world):
    from test_pages import form_token, sign_in

    first, second = world.app.test_client(), world.app.test_client()
    for browser in (first, second):
        assert sign_in(browser, "rev1").status_code == 302
    assert first.post("/logout", data={"csrf_token": form_token(first, "/")}).status_code == 302
    assert second.get("/").status_code == 302
    other = world.app.test_client()
    assert sign_in(other, "rec").status_code == 302
    kept = other.get_cookie("session").value
    assert world.as_("admin").post("/users/rec/disable").status == 200
    with world.app.app_context():
        from points.extensions import db
        from points.users.models import User

        db.session.query(User).filter_by(username="rec").update({"disabled": False})
        db.session.commit()
    again = world.app.test_client()
    again.set_cookie("session", kept)
    assert again.get("/").status_code == 302  # re-enabled, but that old session stays ended


def test_api_answers_and_staff_pages_are_never_cached(world):
    from test_pages import sign_in

    for path in ("/api/v1/schemes", "/api/v1/nothing", "/api/v1/openapi.json"):
        assert world.client.get(path).headers["Cache-Control"] == "no-store", path
    assert world.as_("rec").get("/me").response.headers["Cache-Control"] == "no-store"
    client = world.app.test_client()
    assert sign_in(client, "admin").status_code == 302
    for path in ("/", "/holders/H1", "/reports/ranking", "/admin/users", "/login", "/lookup"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in world.client.get("/static/site.css").headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in world.client.get("/login").headers


def test_production_sends_hsts(database_uri, rules_dir):
    app = make_app(database_uri, RULES_DIR=str(rules_dir), ENV_NAME="production")
    answer = app.test_client().get("/api/v1/schemes")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


# --- 6. objectors stay anonymous to staff --------------------------------------------------


def test_a_resident_objector_is_named_by_village_and_the_text_shown_to_settlers(world):
    entry = world.record()
    world.approve_all(entry["id"])
    objection = world.anonymous.post(
        f"/public/entries/{entry['id']}/objections",
        json={"holder": "H3", "pin": "1234", "text": "那天他不在村里"},
    )
    assert objection.status == 201
    seen = {}
    for user in ("rec", "admin", "rev1", "rev3"):
        answer = world.as_(user).get(f"/entries/{entry['id']}")
        assert "H3" not in answer.text and "王小五" not in answer.text, user
        event = next(h for h in answer.json["history"] if h["action"] == "object")
        assert event["by"] == "a resident of 汤头沟村" and event["status"] == "disputed"
        seen[user] = event["note"]
    # The recorder and an admin see that someone objected, not what was said; reviewers in
    # scope who may settle it (an earlier approver included) read the text.
    assert seen == {"rec": "", "admin": "", "rev1": "那天他不在村里", "rev3": "那天他不在村里"}


def test_a_staff_objector_cannot_read_the_text_as_a_settling_reviewer(world):
    entry = world.record(by="rev1")  # rev1 also records; rev2 and rev3 approve
    world.approve_all(entry["id"], reviewers=("rev2", "rev3"))
    assert (
        world.as_("rev2")
        .post(f"/entries/{entry['id']}/objections", json={"text": "分值不对"})
        .status
        == 201
    )
    notes = {
        user: next(
            h
            for h in world.as_(user).get(f"/entries/{entry['id']}").json["history"]
            if h["action"] == "object"
        )["note"]
        for user in ("rev1", "rev2", "rev3")
    }
    assert notes == {"rev1": "", "rev2": "", "rev3": "分值不对"}
