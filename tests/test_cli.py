"""The command line of a new install: rules, units, users, demo."""

import shutil

from conftest import PASSWORD, Api, local_today


def test_rules_check_passes_on_the_shipped_schemes(app):
    result = app.test_cli_runner().invoke(args=["rules", "check"])
    assert result.exit_code == 0, result.output


def test_rules_check_names_the_file_the_item_and_the_reason(app, tmp_path):
    shutil.copytree(app.config["RULES_DIR"], tmp_path / "rules")
    path = tmp_path / "rules" / "longhua.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("cap: {per: year, count: 1}", "cap: {per: year, count: -1}", 1),
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["rules", "check", str(tmp_path / "rules")])
    assert result.exit_code == 1
    assert "longhua.yaml" in result.output and "cap" in result.output and "LH" in result.output


def test_the_service_refuses_to_start_on_an_invalid_scheme(database_uri, tmp_path):
    import pytest

    from conftest import make_app
    from points.rules import RuleError

    shutil.copytree(make_app(database_uri).config["RULES_DIR"], tmp_path / "rules")
    (tmp_path / "rules" / "broken.yaml").write_text("code: broken\nname: x\n", encoding="utf-8")
    with pytest.raises(RuleError):
        make_app(database_uri, RULES_DIR=str(tmp_path / "rules"))


def test_a_new_install_from_the_command_line(app):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(
            args=["units", "create", "c1", "--name", "隆化县", "--kind", "county"]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            args=["units", "create", "t1", "--name", "镇", "--kind", "township", "--parent", "c1"]
        ).exit_code
        == 0
    )
    made = runner.invoke(
        args=["users", "create", "boss", "--password", PASSWORD, "--role", "admin", "--unit", "c1"]
    )
    assert made.exit_code == 0, made.output
    assert (
        runner.invoke(
            args=["users", "grant", "boss", "--role", "reviewer", "--unit", "t1"]
        ).exit_code
        == 0
    )
    token = Api(app.test_client()).post(
        "/auth/token", json={"username": "boss", "password": PASSWORD}
    )
    assert {"role": "reviewer", "unit": "t1"} in token.json["user"]["grants"]
    again = runner.invoke(
        args=["users", "create", "boss", "--password", PASSWORD, "--role", "admin", "--unit", "c1"]
    )
    assert again.exit_code == 1


def test_demo_makes_a_village_a_branch_and_a_user_per_role(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "demo-pass-1" in result.output
    client = app.test_client()
    for username in ("admin", "recorder", "reviewer1", "reviewer2", "clerk"):
        answer = Api(client).post(
            "/auth/token", json={"username": username, "password": "demo-pass-1"}
        )
        assert answer.status == 200, username
    admin = Api(
        client,
        Api(client)
        .post("/auth/token", json={"username": "admin", "password": "demo-pass-1"})
        .json["token"],
    )
    households = admin.get("/holders?kind=household&per_page=500").json
    assert households["total"] == 36 + 9  # Longhua's three grids, and Linxia's 阳洼村网格
    assert admin.get("/holders?kind=member").json["total"] == 30
    everyone = [
        h["name"]
        for kind in ("household", "member", "organisation", "staff")
        for h in admin.get(f"/holders?kind={kind}&per_page=500").json["items"]
    ]
    assert len(everyone) == len(set(everyone))  # no two holders share a name
    for grid in (
        "lh-v1-g1",
        "lh-v1-g2",
        "lh-v1-g3",
    ):  # each grid's 网格员 and 网格长 stand back from their own
        worker, steward = (
            admin.get(f"/users/{grid[-2:]}-{role}").json for role in ("worker", "steward")
        )
        assert worker["links"] and steward["links"] and worker["links"] != steward["links"]
    shita_reviewers = {
        u: admin.get(f"/users/{u}").json for u in ("st-secretary", "st-committee1", "st-committee2")
    }
    assert all(
        {"role": "reviewer", "unit": "st-branch"} in u["grants"] for u in shita_reviewers.values()
    )
    assert {"role": "reviewer", "unit": "st-branch"} not in admin.get("/users/reviewer1").json[
        "grants"
    ]
    states = {e["status"] for e in admin.get("/entries?per_page=500").json["items"]}
    assert {"pending", "in_notice", "disputed", "posted", "rejected", "revoked"} <= states
    last_year = local_today().year - 1
    assert admin.get(f"/periods/longhua/{last_year}").json["awards"]
    grades = admin.get("/reports/grades?scheme=pingquan&unit=pq-wolong").json["counts"]
    assert sum(grades.values()) == 5 and all(grades[g] for g in ("A", "B", "C", "D"))
    assert "already" in runner.invoke(args=["demo"]).output
