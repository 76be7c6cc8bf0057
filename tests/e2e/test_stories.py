"""Browser stories of residents' own voice and of the household card, in Debian's chromium at
phone size (see test_browser.py): a resident claims with a photo, a recorder accepts, two
reviewers approve; a clerk scans a printed card with the phone's camera.

The camera is Chromium's fake one, fed a Y4M video made from a screenshot of the served card's
QR (--use-file-for-fake-video-capture): the same picture a phone would see of the printed card.
"""

import io
from contextlib import nullcontext

import pytest
from PIL import Image

from test_browser import ARGS, CHROMIUM, Phone, browser, phone, server, status_of  # noqa: F401

zxingcpp = pytest.importorskip("zxingcpp")


def y4m_of(picture, path, width=640, height=480, frames=5):
    """A short video of a picture on white, as the fake camera takes it (YUV 4:2:0)."""
    side = height - 80  # the card held close to the camera
    picture = picture.convert("RGB").resize(
        (side, side * picture.height // picture.width), Image.NEAREST
    )
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    data = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + data)
    return path


def a_photo(path):
    Image.new("RGB", (800, 600), (90, 140, 60)).save(path, "JPEG")
    return path


def test_a_resident_claims_with_a_photo_a_recorder_accepts_and_two_reviewers_approve(
    world, phone, tmp_path
):
    item = world.fixed_item()
    name = world.rules().item(item).name
    resident = phone()
    page = resident.page
    page.goto("/lookup/claim")
    page.fill("#c-holder", "H1")
    page.fill("#c-pin", "1234")
    page.select_option("#c-item", f"longhua:{item}")
    page.fill("#c-note", "帮邻居收玉米")
    page.set_input_files("#c-photo-0", str(a_photo(tmp_path / "deed.jpg")))
    page.get_by_role("button", name="提交申领").click()
    page.wait_for_selector(".flash.success")
    claim = world.as_("rec").get("/claims?status=open").json["items"][0]
    assert claim["holder"] == "H1" and len(claim["photos"]) == 1

    recorder = phone()
    recorder.sign_in("rec")
    page = recorder.page
    page.goto("/claims")
    card = page.locator(f"#claim-{claim['id']}")
    assert "帮邻居收玉米" in card.inner_text() and card.locator("img").count() == 1
    card.get_by_role("button", name="受理，转为积分记录").click()
    page.wait_for_selector(".flash.success")
    entry_id = world.as_("rec").get(f"/claims/{claim['id']}").json["entry"]
    assert status_of(world, entry_id) == "pending"

    for reviewer in ("rev1", "rev2"):
        me = phone()
        me.sign_in(reviewer)
        page = me.page
        page.goto("/review")
        entry = page.locator(f"#entry-{entry_id}")
        assert name in entry.inner_text() and entry.locator(".photos img").count() == 1
        entry.get_by_role("button", name="通过").click()
        page.wait_for_selector(".flash.success")
    assert status_of(world, entry_id) == "in_notice"


def test_a_clerk_scans_a_households_card_with_the_camera_and_lands_on_it(
    world, browser, phone, server, tmp_path
):
    from shop_helpers import give_points, open_shop

    open_shop(world, goods=(("soap", "肥皂", 5, 10),))
    give_points(world, "H2", 12)
    admin = phone()
    admin.sign_in("admin")
    admin.page.goto("/holders/H2/card")
    shot = Image.open(io.BytesIO(admin.page.locator("#card-H2 .hcard-qr").screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [
        "H2"
    ]  # the served card reads as its code
    admin.page.goto("/admin/cards?unit=v1")
    assert admin.page.locator(".hcard").count() == 3

    video = y4m_of(shot, tmp_path / "card.y4m")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=ARGS
        + [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        clerk = Phone(camera, server)
        clerk.context.grant_permissions(["camera"])
        clerk.sign_in("clerk")
        page = clerk.page
        page.goto("/counter")
        native = page.evaluate("'BarcodeDetector' in window")  # Linux Chromium has none: jsQR reads
        with page.expect_response("**/static/vendor/jsQR.js") if not native else nullcontext():
            page.get_by_role("button", name="扫积分卡上的二维码").click()
        page.wait_for_url("**holder=H2**")
        assert "H2 李四" in page.inner_text("#household") and page.inner_text("#balance") == "12 分"
        clerk.close()
    finally:
        camera.close()


def test_without_a_camera_the_clerk_is_told_so_and_types_the_code(world, phone):
    from shop_helpers import open_shop

    open_shop(world)
    clerk = phone()  # this browser has no camera to give
    clerk.sign_in("clerk")
    page = clerk.page
    page.goto("/counter")
    page.get_by_role("button", name="扫积分卡上的二维码").click()
    page.wait_for_selector("#scan-status:has-text('打不开摄像头，请直接输入户号。')")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("H3")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=H3**")
    assert "H3 王小五" in page.inner_text("#household")


def test_a_village_prints_its_cards_ten_to_an_a4_sheet(world, phone):
    import re

    from test_cards import add_households

    add_households(world, 9)
    admin = phone()
    admin.sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="管理").first.click()
    page.get_by_role("link", name="打印积分卡").click()
    page.select_option("#cards-pick-unit", "v1")
    page.get_by_role("button", name="生成积分卡").click()
    page.wait_for_url("**unit=v1**")
    assert page.locator(".hcard").count() == 12
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2  # 10 on the first sheet, 2 on the second


def test_the_new_pages_in_english_have_no_console_errors(world, phone):
    from shop_helpers import open_shop

    open_shop(world)
    world.record(holder="H1")
    me = phone()
    me.sign_in("admin")
    for path in (
        "/admin/cards?lang=en",
        "/admin/cards?unit=g1",
        "/holders/H1/card",
        "/holders/H1/slip",
        "/holders/H1",
    ):
        me.page.goto(path)
        assert me.page.locator("html").get_attribute("lang") == "en"
    clerk = phone()
    clerk.sign_in("clerk")
    clerk.page.goto("/counter?lang=en")
    assert clerk.page.get_by_role("button", name="Scan the QR code on the card").is_visible()
