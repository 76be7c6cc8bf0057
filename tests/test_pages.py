"""The server-rendered pages: each renders for the right role in Chinese and English, forms
are protected, errors are friendly and change nothing, and every answer carries the
security headers."""

import re
from pathlib import Path

import pytest

from conftest import PASSWORD, yesterday

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)


def html(response):
    return response.get_data(as_text=True)


def form_token(client, path):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return TOKEN.search(html(page)).group(1)


def sign_in(client, username, password=PASSWORD):
    token = form_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def staff(world, client):
    """staff("rec") → the test client signed in as that user (a fresh session)."""

    def as_(username):
        client.delete_cookie("session")
        answer = sign_in(client, username)
        assert answer.status_code == 302, html(answer)
        return client

    return as_


def entries(world, by="admin", **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return world.as_(by).get(f"/entries?{query}").json["items"]


# --- sign-in and the session ---------------------------------------------------------------


def test_signing_in_leads_home_and_a_protected_page_asks_to_sign_in_first(world, client):
    answer = client.get("/review")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")
    signed_in = sign_in(client, "rev1")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    assert "审核" in html(client.get("/"))


def test_a_wrong_password_is_a_friendly_message_on_the_same_page(world, client):
    answer = sign_in(client, "rec", "wrong-password")
    assert answer.status_code == 401
    assert "用户名或密码不对" in html(answer) and 'name="username"' in html(answer)
    assert client.get("/").status_code == 302


def test_signing_in_starts_a_new_session(world, client):
    form_token(client, "/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, "rec")
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")


def test_a_disabled_user_is_out_at_once(world, staff):
    client = staff("rec")
    assert client.get("/").status_code == 200
    assert world.as_("admin").post("/users/rec/disable").status == 200
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_signing_out_ends_the_session(world, staff):
    client = staff("rec")
    token = form_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_politely(world, client):
    answer = client.post("/login", data={"username": "rec", "password": PASSWORD})
    assert answer.status_code == 400 and "页面已过期" in html(answer)
    assert client.get("/").status_code == 302  # not signed in


def test_the_json_api_needs_no_csrf_token(world):
    assert world.as_("rec").post("/entries", json={}).status == 422  # schema errors, not CSRF


# --- every page, in both languages ---------------------------------------------------------

PAGES = [
    (None, "/login"),
    (None, "/lookup"),
    (None, "/notices"),
    (None, "/notices?unit=v1"),
    ("rec", "/"),
    ("rec", "/entries/new"),
    ("rec", "/entries/new?scheme=longhua&unit=g1"),
    ("srec", "/entries/new?scheme=shita&unit=branch"),
    ("rev1", "/"),
    ("rev1", "/review"),
    ("admin", "/holders/H1"),
    ("clerk", "/"),
    ("clerk", "/counter"),
    ("clerk", "/counter?q=H1"),
    ("admin", "/reports/ranking"),
    ("admin", "/reports/stats"),
    ("admin", "/reports/ranking/print?scheme=longhua&unit=v1"),
    ("admin", "/admin/holders"),
    ("admin", "/admin/users"),
    ("admin", "/admin/schemes"),
    ("admin", "/admin/close?scheme=longhua"),
    (None, "/lookup/claim"),
    ("rec", "/claims"),
    ("rev1", "/claims"),
    ("admin", "/holders/H1/statement?scheme=longhua"),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user, path", PAGES)
def test_each_page_renders_in_chinese_and_english_without_inline_script(
    world, staff, client, user, path, lang
):
    world.record()  # something in the review queue and the history
    if user:
        staff(user)
    answer = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
    assert answer.status_code == 200, html(answer)
    text = html(answer)
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in text
    assert (
        ("Sign in" in text or "Sign out" in text)
        if lang == "en"
        else ("登录" in text or "退出" in text)
    )
    assert (
        not INLINE_SCRIPT.search(text)
        and not INLINE_HANDLER.search(text)
        and not STYLE_ATTRIBUTE.search(text)
    )


def test_the_language_chosen_is_remembered(client):
    assert "Staff sign-in" in html(client.get("/login?lang=en"))
    assert "Staff sign-in" in html(client.get("/login"))
    assert "工作人员登录" in html(client.get("/login?lang=zh"))
    assert "工作人员登录" in html(client.get("/login"))


def test_a_page_outside_ones_role_is_a_friendly_refusal(world, staff):
    client = staff("rec")
    answer = client.get("/review")
    assert answer.status_code == 403 and "没有权限" in html(answer)


def test_a_holder_outside_ones_units_is_refused_and_an_unknown_one_is_not_found(world, staff):
    client = staff("rec2")
    assert client.get("/holders/H1").status_code == 403
    missing = client.get("/holders/NOPE?lang=en")
    assert missing.status_code == 404 and "Not found" in html(missing)


def test_security_headers_are_on_pages_api_and_static_files(world, client):
    for path in ("/login", "/lookup", "/static/site.css", "/api/v1/schemes", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] and headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_docs_page_still_loads_its_own_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/static/docs.js" in html(page)
    assert (
        "unsafe-inline"
        not in page.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


# --- recording -----------------------------------------------------------------------------


def record_form(client, path="/entries/new?scheme=longhua&unit=g1"):
    page = html(client.get(path))
    return {"csrf_token": TOKEN.search(page).group(1), "key": KEY.search(page).group(1)}


def test_a_recorder_records_one_deed_for_two_households_of_a_grid_once(world, staff):
    client = staff("rec")
    item = world.fixed_item()
    data = {
        **record_form(client),
        "scheme": "longhua",
        "unit": "g1",
        "item": item,
        "holders": ["H1", "H2"],
        "occurred_on": yesterday(),
    }
    first = client.post("/entries/new", data=data)
    assert first.status_code == 302, html(first)
    again = client.post("/entries/new", data=data)  # a double tap: the same form key
    assert again.status_code == 302
    recorded = entries(world, recorded_by="rec")
    assert sorted(e["holder"] for e in recorded) == ["H1", "H2"]
    assert all(e["status"] == "pending" and e["item"] == item for e in recorded)
    assert "已记分 2 条" in html(client.get(again.headers["Location"]))


def test_a_range_item_without_points_is_a_friendly_message_and_nothing_is_recorded(world, staff):
    client = staff("srec")
    item = world.item_of("range", "shita").code
    data = {
        **record_form(client, "/entries/new?scheme=shita&lang=en"),
        "scheme": "shita",
        "item": item,
        "holder": "M1",
        "occurred_on": yesterday(),
    }
    answer = client.post("/entries/new", data=data)
    assert answer.status_code == 422
    assert "Please check" in html(answer) and "required for this item" in html(answer)
    assert entries(world, by="srec") == []


def test_an_unknown_holder_code_is_named_and_nothing_is_recorded(world, staff):
    client = staff("rec")
    data = {
        **record_form(client),
        "scheme": "longhua",
        "item": world.fixed_item(),
        "holder": "H404",
        "occurred_on": yesterday(),
    }
    answer = client.post("/entries/new", data=data)
    assert answer.status_code == 422 and "找不到这个编号" in html(answer)
    assert entries(world, recorded_by="rec") == []


# --- review --------------------------------------------------------------------------------


def test_the_queue_shows_own_entries_without_approve(world, staff):
    own = world.record(by="rev1", holder="H2")
    other = world.record(holder="H1")
    page = html(staff("rev1").get("/review"))
    assert f'name="approve" value="{other["id"]}"' in page
    assert f'name="approve" value="{own["id"]}"' not in page and "这是您自己记录的" in page
    assert page.index(f'id="entry-{other["id"]}"') < page.index(
        f'id="entry-{own["id"]}"'
    )  # newest first


def test_rejecting_without_a_reason_is_refused_and_changes_nothing(world, staff):
    entry = world.record()
    client = staff("rev1")
    token = form_token(client, "/review")
    answer = client.post(
        "/review", data={"csrf_token": token, "reject": entry["id"], f"reason_{entry['id']}": ""}
    )
    assert answer.status_code == 422 and "驳回原因" in html(answer)
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "pending"
    done = client.post(
        "/review",
        data={"csrf_token": token, "reject": entry["id"], f"reason_{entry['id']}": "证据不足"},
    )
    assert done.status_code == 302
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "rejected"


def test_two_reviewers_approve_a_selection_into_notice(world, staff):
    ids = [world.record(holder=h)["id"] for h in ("H1", "H2")]
    for reviewer in ("rev1", "rev2"):
        client = staff(reviewer)
        answer = client.post(
            "/review",
            data={"csrf_token": form_token(client, "/review"), "ids": ids, "approve_selected": "1"},
        )
        assert answer.status_code == 302, html(answer)
    assert {world.as_("rec").get(f"/entries/{i}").json["status"] for i in ids} == {"in_notice"}


def test_approving_twice_is_a_friendly_message(world, staff):
    entry = world.record()
    client = staff("rev1")
    token = form_token(client, "/review")
    client.post("/review", data={"csrf_token": token, "approve": entry["id"]})
    again = client.post("/review", data={"csrf_token": token, "approve": entry["id"]})
    assert again.status_code == 409 and "已经审核过" in html(again)


# --- residents -----------------------------------------------------------------------------


def lookup(client, holder, pin, lang="zh"):
    token = form_token(client, f"/lookup?lang={lang}")
    return client.post("/lookup", data={"csrf_token": token, "holder": holder, "pin": pin})


def test_a_resident_sees_balance_and_pending_with_code_and_pin(world, client):
    world.record(holder="H1")
    answer = lookup(client, "H1", "1234")
    assert answer.status_code == 200
    page = html(answer)
    assert "张三明" in page and "可用积分" in page and "待入账积分" in page


def test_a_wrong_pin_is_a_friendly_message_in_the_residents_language(world, client):
    answer = lookup(client, "H1", "9999")
    assert answer.status_code == 401 and "编号或查询密码不对" in html(answer)
    english = lookup(client, "H1", "9999", lang="en")
    assert "The code or PIN is not right" in html(english)


def test_the_lookup_locks_out_as_the_api_does(world, client):
    for _ in range(5):
        assert lookup(client, "H2", "0000").status_code == 401
    locked = lookup(client, "H2", "1234")
    assert locked.status_code == 429 and "15 分钟" in html(locked)
    assert (
        world.anonymous.post("/public/balance", json={"holder": "H2", "pin": "1234"}).status == 429
    )


def test_the_notice_board_masks_names_and_takes_an_objection(world, client):
    entry = world.record(holder="H1")
    world.approve_all(entry["id"])
    page = html(client.get("/notices?unit=v1"))
    assert "张*明" in page and "张三明" not in page and "@media print" not in page
    token = TOKEN.search(page).group(1)
    answer = client.post(
        "/notices",
        data={
            "csrf_token": token,
            "unit": "v1",
            "entry": entry["id"],
            "holder": "H3",
            "pin": "1234",
            "text": "那天他不在村里",
        },
    )
    assert answer.status_code == 302
    assert "异议已提交" in html(client.get(answer.headers["Location"]))
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "disputed"


def test_a_resident_of_another_village_cannot_object(world, client):
    entry = world.record(holder="H1")
    world.approve_all(entry["id"])
    token = form_token(client, "/notices?unit=v1")
    answer = client.post(
        "/notices",
        data={
            "csrf_token": token,
            "unit": "v1",
            "entry": entry["id"],
            "holder": "H9",
            "pin": "1234",
            "text": "不对",
        },
    )
    assert answer.status_code == 403 and "没有权限" in html(answer)
    assert world.as_("rec").get(f"/entries/{entry['id']}").json["status"] == "in_notice"


def test_an_unknown_village_on_the_notice_board_is_friendly(client):
    answer = client.get("/notices?unit=nowhere")
    assert answer.status_code == 404 and "没有找到" in html(answer)


# --- the catalog ---------------------------------------------------------------------------


def test_every_word_on_the_pages_has_its_english(app):
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(app.root_path).parent
    with open(root / "points/translations/en/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    method_map = [("points/**.py", "python"), ("points/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    missing = {
        message
        for _file, _line, message, _c, _ctx in extract_from_dir(root, method_map, keywords=keywords)
        if not (catalog.get(message) and catalog.get(message).string)
    }
    assert not missing, f"add these to messages.po (make translations): {sorted(missing)}"
