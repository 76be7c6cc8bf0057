"""Stories in a real headless Chromium at phone size, against a real server in a thread.

Debian's chromium drives the pages (`apt-get install chromium`; `make test` installs it
when it is missing). Any console error or uncaught script error fails the story.
"""

import shutil
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from conftest import PASSWORD, local_today

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(world):
    """The test app served on a free port of 127.0.0.1 until the story ends."""
    httpd = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the test server did not stop"


class Phone:
    """A page at 390x844 that records every console error and uncaught script error."""

    def __init__(self, browser, base):
        self.context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on(
            "console", lambda message: message.type == "error" and self.errors.append(message.text)
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 400 and self.errors.append(f"{response.status} {response.url}")
            ),
        )

    def sign_in(self, username):
        page = self.page
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")

    def sign_out(self):
        self.page.get_by_role("button", name="退出").click()
        self.page.wait_for_url("**/login")

    def close(self):
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def phone(browser, server):
    phones = []

    def open_phone():
        phones.append(Phone(browser, server))
        return phones[-1]

    yield open_phone
    for each in phones:
        each.close()


def status_of(world, entry_id, by="admin"):
    return world.as_(by).get(f"/entries/{entry_id}").json["status"]


def test_a_recorder_records_a_deed_for_two_households_of_a_grid_at_once(world, phone):
    item = world.fixed_item()
    points = world.rules().item(item).points
    me = phone()
    me.sign_in("rec")
    page = me.page
    page.get_by_role("link", name="记分").first.click()
    page.select_option("#pick-unit", "g1")  # the page reloads with the grid's households
    page.wait_for_url("**unit=g1**")
    page.select_option("#item", item)
    assert page.inner_text("#preview") == f"本次积分： +{points:g} 分"
    page.check("input[name=holders][value=H1]")
    page.check("input[name=holders][value=H2]")
    page.locator("#entry-form button[type=submit]").dblclick()  # a double tap records once
    page.wait_for_selector(".flash.success")
    assert "已记分 2 条" in page.inner_text(".flash.success")
    recorded = world.as_("admin").get("/entries?recorded_by=rec").json["items"]
    assert sorted(e["holder"] for e in recorded) == ["H1", "H2"]
    assert {e["status"] for e in recorded} == {"pending"}


def test_two_reviewers_approve_a_shita_entry(world, phone):
    entry = world.record(holder="M1", by="srec", scheme="shita")
    for reviewer in ("srev1", "srev2"):
        me = phone()
        me.sign_in(reviewer)
        page = me.page
        page.goto("/review")
        card = page.locator(f"#entry-{entry['id']}")
        assert "党员1号" in card.inner_text()
        card.get_by_role("button", name="通过").click()
        page.wait_for_selector(".flash.success")
        me.sign_out()
    assert status_of(world, entry["id"], by="zadmin") == "in_notice"


def test_a_resident_looks_up_a_balance_and_objects_on_the_notice_board(world, phone):
    earned = world.record(holder="H1")
    world.approve_all(earned["id"])
    world.settle(local_today() + timedelta(days=10))
    neighbour = world.record(holder="H2")
    world.approve_all(neighbour["id"])

    me = phone()
    page = me.page
    page.goto("/lookup")
    page.fill("#holder", "H1")
    page.fill("#pin", "1234")
    page.get_by_role("button", name="查询积分").click()
    assert page.inner_text("[data-balance=longhua]") == f"{earned['points']:g} 分"

    page.goto("/notices")
    page.select_option("#unit", "v1")
    page.wait_for_url("**unit=v1**")
    row = page.locator(f"#notice-{neighbour['id']}")
    assert "李*" in row.inner_text()
    objection = page.locator(f"form:has(input[name=entry][value='{neighbour['id']}'])")
    page.locator(f"#notice-{neighbour['id']} + tr summary").click()
    objection.locator("input[name=holder]").fill("H1")
    objection.locator("input[name=pin]").fill("1234")
    objection.locator("textarea[name=text]").fill("那天他家没有参加")
    objection.get_by_role("button", name="提出异议").click()
    page.wait_for_selector(".flash.success")
    assert status_of(world, neighbour["id"]) == "disputed"


def test_the_pages_in_english_and_the_api_docs_have_no_console_errors(world, phone):
    me = phone()
    page = me.page
    for path in ("/lookup?lang=en", "/notices?unit=v1", "/login"):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)


def test_a_clerk_redeems_two_goods_for_a_household_prints_and_voids(world, phone):
    from shop_helpers import give_points, open_shop

    open_shop(world, goods=(("soap", "肥皂", 5, 10), ("towel", "毛巾", 8, 3)))
    give_points(world, "H1", 30)
    me = phone()
    me.sign_in("clerk")
    page = me.page
    page.get_by_role("link", name="爱心超市").first.click()
    page.fill("#q", "张三")
    page.get_by_role("button", name="查找").click()
    assert page.inner_text("#balance") == "30 分"
    soap = page.locator(".goods-line:has(#qty-soap)")
    soap.get_by_role("button", name="增加 肥皂").click()
    soap.get_by_role("button", name="增加 肥皂").click()
    page.locator(".goods-line:has(#qty-towel)").get_by_role("button", name="增加 毛巾").click()
    assert page.inner_text("#total") == "18" and page.inner_text("#left") == "12"
    page.get_by_role("button", name="确认兑换").dblclick()  # a double tap charges once
    page.wait_for_url("**/counter/receipts/**")
    assert "兑换小票" in page.inner_text("#receipt") and "18 分" in page.inner_text("#receipt")
    assert world.balance("H1")["balance"] == 12
    assert len(world.as_("admin").get("/redemptions").json["items"]) == 1

    page.get_by_role("link", name="继续兑换").click()
    row = page.locator("#today .redemption").first
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("拿错了")
    row.get_by_role("button", name="作废").click()
    page.wait_for_selector(".flash.success")
    assert world.balance("H1")["balance"] == 30
    stock = {
        g["code"]: g["stock"] for g in world.as_("admin").get("/shops/lh-shop/goods").json["items"]
    }
    assert stock == {"soap": 10, "towel": 3}


def test_an_admin_closes_a_year_after_seeing_the_preview(world, phone):
    last_year = local_today().year - 1
    entry = world.record(holder="H1", occurred_on=f"{last_year}-05-01")
    world.approve_all(entry["id"])
    world.settle(local_today() + timedelta(days=10))
    me = phone()
    me.sign_in("admin")
    page = me.page
    page.get_by_role("link", name="管理").first.click()
    page.get_by_role("link", name="年度结算").click()
    page.select_option("#c-scheme", "longhua")
    page.select_option("#c-year", str(last_year))
    page.get_by_role("button", name="预览结算").click()
    assert "张三明" in page.inner_text("#awards")
    page.get_by_role("button", name="确认结算").click()
    page.wait_for_selector(".flash.success")
    assert "年度已结算" in page.inner_text(".flash.success")
    assert world.as_("admin").get(f"/periods/longhua/{last_year}").json["awards"] == ["H1"]
