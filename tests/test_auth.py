"""Signing in, lockouts across processes, users and grants, scope."""

from conftest import PASSWORD, Api, make_app


def test_sign_in_gives_a_token_and_the_user_with_grants(world):
    answer = world.anonymous.post("/auth/token", json={"username": "rec", "password": PASSWORD})
    assert answer.status == 200
    assert answer.json["user"] == {
        "username": "rec",
        "display_name": "",
        "grants": [{"role": "recorder", "unit": "v1"}],
    }
    assert answer.json["token"] and answer.json["expires_at"]
    me = Api(world.client, answer.json["token"]).get("/me")
    assert me.status == 200 and me.json["username"] == "rec"


def test_wrong_password_and_unknown_user_get_the_same_answer(world):
    wrong = world.anonymous.post("/auth/token", json={"username": "rec", "password": "nope-nope"})
    unknown = world.anonymous.post(
        "/auth/token", json={"username": "ghost", "password": "nope-nope"}
    )
    assert wrong.status == unknown.status == 401
    assert wrong.json == unknown.json and wrong.code == "invalid_credentials"


def test_five_failures_lock_the_username_even_for_the_right_password(world):
    for _ in range(5):
        assert (
            world.anonymous.post(
                "/auth/token", json={"username": "rec", "password": "guess-123"}
            ).status
            == 401
        )
    locked = world.anonymous.post("/auth/token", json={"username": "rec", "password": PASSWORD})
    assert locked.status == 429 and locked.code == "too_many_attempts"
    # Another user is not locked.
    assert (
        world.anonymous.post("/auth/token", json={"username": "rev1", "password": PASSWORD}).status
        == 200
    )


def test_unknown_usernames_are_locked_out_too(world):
    for _ in range(5):
        world.anonymous.post("/auth/token", json={"username": "ghost", "password": "guess-123"})
    assert (
        world.anonymous.post("/auth/token", json={"username": "ghost", "password": "x"}).status
        == 429
    )


def test_the_lockout_holds_across_two_server_processes(world, database_uri, rules_dir):
    other = make_app(database_uri, RULES_DIR=str(rules_dir)).test_client()
    clients = [world.client, other]
    for i in range(5):
        answer = Api(clients[i % 2]).post(
            "/auth/token", json={"username": "rev2", "password": "guess-123"}
        )
        assert answer.status == 401
    for client in clients:
        locked = Api(client).post("/auth/token", json={"username": "rev2", "password": PASSWORD})
        assert locked.status == 429


def test_the_lockout_lifts_when_the_oldest_failure_is_fifteen_minutes_old(world):
    from datetime import timedelta

    from sqlalchemy import update

    from points.extensions import db
    from points.users.models import LoginFailure

    for _ in range(5):
        world.anonymous.post("/auth/token", json={"username": "rec", "password": "guess-123"})
    with world.app.app_context():
        oldest = db.session.query(LoginFailure).order_by(LoginFailure.id).first()
        db.session.execute(
            update(LoginFailure)
            .where(LoginFailure.id == oldest.id)
            .values(at=oldest.at - timedelta(minutes=16))
        )
        db.session.commit()
    assert (
        world.anonymous.post("/auth/token", json={"username": "rec", "password": PASSWORD}).status
        == 200
    )


def test_a_missing_or_bad_token_is_unauthorized(world):
    assert world.anonymous.get("/me").code == "unauthorized"
    bad = Api(world.client, "not-a-token").get("/entries")
    assert bad.status == 401 and bad.code == "unauthorized"


def test_a_disabled_users_tokens_stop_working_at_once(world):
    rec = world.as_("rec")
    assert rec.get("/me").status == 200
    answer = world.as_("admin").post("/users/rec/disable")
    assert answer.status == 200
    assert rec.get("/me").status == 401
    again = world.anonymous.post("/auth/token", json={"username": "rec", "password": PASSWORD})
    assert again.status == 401


def test_admin_creates_a_user_within_its_units_and_never_sees_the_password(world):
    admin = world.as_("admin")
    answer = admin.post(
        "/users",
        json={
            "username": "wang",
            "password": "long-enough",
            "display_name": "王网格",
            "grants": [{"role": "recorder", "unit": "g1"}],
        },
    )
    assert answer.status == 201
    assert answer.json == {
        "username": "wang",
        "display_name": "王网格",
        "grants": [{"role": "recorder", "unit": "g1"}],
    }
    assert "password" not in answer.text
    token = world.anonymous.post(
        "/auth/token", json={"username": "wang", "password": "long-enough"}
    )
    assert token.status == 200


def test_user_creation_refusals(world):
    admin = world.as_("admin")
    short = admin.post("/users", json={"username": "a1", "password": "short", "grants": []})
    assert short.status == 422 and "password" in short.json["error"]["details"]
    dup = admin.post(
        "/users",
        json={
            "username": "rec",
            "password": "long-enough",
            "grants": [{"role": "clerk", "unit": "v1"}],
        },
    )
    assert dup.status == 409 and dup.code == "conflict"
    outside = admin.post(
        "/users",
        json={
            "username": "b1",
            "password": "long-enough",
            "grants": [{"role": "clerk", "unit": "branch"}],
        },
    )
    assert outside.status == 403
    bad_role = admin.post(
        "/users",
        json={
            "username": "c1",
            "password": "long-enough",
            "grants": [{"role": "king", "unit": "v1"}],
        },
    )
    assert bad_role.status == 422
    not_admin = world.as_("rec").post(
        "/users",
        json={
            "username": "d1",
            "password": "long-enough",
            "grants": [{"role": "recorder", "unit": "g1"}],
        },
    )
    assert not_admin.status == 403


def test_grants_are_added_and_removed(world):
    admin = world.as_("admin")
    added = admin.post("/users/rec/grants", json={"role": "clerk", "unit": "v1"})
    assert {"role": "clerk", "unit": "v1"} in added.json["grants"]
    removed = admin.delete("/users/rec/grants", json={"role": "clerk", "unit": "v1"})
    assert removed.json["grants"] == [{"role": "recorder", "unit": "v1"}]
    assert (
        world.as_("zadmin").post("/users/rec/grants", json={"role": "clerk", "unit": "v1"}).status
        == 403
    )
    assert admin.get("/users/nobody").status == 404


def test_units_form_a_tree_that_admins_extend(world):
    admin = world.as_("admin")
    made = admin.post(
        "/units", json={"code": "g4", "name": "第四网格", "kind": "grid", "parent": "v2"}
    )
    assert made.status == 201 and made.json == {
        "code": "g4",
        "name": "第四网格",
        "kind": "grid",
        "parent": "v2",
        "children": [],
    }
    assert admin.get("/units/v2").json["children"] == ["g3", "g4"]
    dup = admin.post("/units", json={"code": "g4", "name": "x", "kind": "grid", "parent": "v2"})
    assert dup.status == 409 and dup.code == "conflict"
    assert (
        admin.post(
            "/units", json={"code": "g5", "name": "x", "kind": "planet", "parent": "v2"}
        ).status
        == 422
    )
    assert (
        admin.post(
            "/units", json={"code": "g5", "name": "x", "kind": "grid", "parent": "nowhere"}
        ).status
        == 422
    )
    assert (
        world.as_("zadmin")
        .post("/units", json={"code": "g5", "name": "x", "kind": "grid", "parent": "v2"})
        .status
        == 403
    )
    assert admin.get("/units/none").status == 404


def test_holders_are_registered_found_and_never_echo_the_pin(world):
    admin = world.as_("admin")
    made = admin.post(
        "/holders",
        json={"code": "H50", "name": "刘德福", "kind": "household", "unit": "g2", "pin": "4321"},
    )
    assert made.status == 201 and made.json == {
        "code": "H50",
        "name": "刘德福",
        "kind": "household",
        "unit": "g2",
    }
    assert admin.get("/holders/H50").json["name"] == "刘德福"
    found = admin.get("/holders?q=德福")
    assert [h["code"] for h in found.json["items"]] == ["H50"]
    assert admin.get("/holders?unit=g1&kind=household").json["total"] == 2
    bad_pin = admin.post(
        "/holders",
        json={"code": "H51", "name": "x", "kind": "household", "unit": "g2", "pin": "12ab"},
    )
    assert bad_pin.status == 422 and "pin" in bad_pin.json["error"]["details"]
    assert world.as_("rec2").get("/holders/H50").status == 403
    assert (
        admin.post(
            "/holders", json={"code": "H50", "name": "x", "kind": "household", "unit": "g2"}
        ).status
        == 409
    )


def test_registering_a_holder_answers_from_what_it_wrote_without_reading_it_back(world):
    """POST /holders: the caller and the unit read before the write lock, one INSERT inside it;
    the answer is built from those values, not from the holder and its unit read again."""
    from sqlalchemy import event

    from points.extensions import db

    admin = world.as_("zadmin")
    with world.app.app_context():
        engine = db.engine
    statements = []

    def seen(_connection, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        made = admin.post(
            "/holders",
            json={"code": "H52", "name": "孙丽", "kind": "member", "unit": "branch", "pin": "2468"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert made.status == 201 and made.json == {
        "code": "H52",
        "name": "孙丽",
        "kind": "member",
        "unit": "branch",
    }
    reads = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(reads) == 2 and not any("FROM holders" in s for s in reads), reads
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO holders"), writes
    assert admin.get("/holders/H52").json == made.json
    balance = world.anonymous.post("/public/balance", json={"holder": "H52", "pin": "2468"})
    assert balance.status == 200, balance
