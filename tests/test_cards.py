"""一户一码: household cards to print, 10 to an A4 sheet, whose QR reads as the holder code and
which carry the masked name, village and grid, never the PIN; for staff in scope only."""

import io
import re

import segno
import zxingcpp
from PIL import Image

from points.extensions import db
from test_pages import html, staff  # noqa: F401 (a fixture)

CARD = re.compile(r'<article class="hcard" id="card-([^"]+)">(.*?)</article>', re.S)
SVG = re.compile(r"<svg.*?</svg>", re.S)


def cards_of(page):
    return {code: body for code, body in CARD.findall(page)}


def decoded(code_svg_from, code):
    """The holder code the served QR holds: the served SVG is segno's drawing of `code`, and
    that drawing, rasterised by segno and read back by zxing-cpp, gives the code."""
    served = SVG.search(code_svg_from).group(0)
    qr = segno.make_qr(code, error="m")
    assert served == qr.svg_inline(scale=1, border=2, omitsize=True, title=code)
    png = io.BytesIO()
    qr.save(png, kind="png", scale=8, border=4)
    png.seek(0)
    return [
        r.text
        for r in zxingcpp.read_barcodes(Image.open(png))
        if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def add_households(world, n, grid="g1"):
    from points.database import write
    from points.org.models import Holder
    from points.org.service import unit_by_code

    with world.app.app_context():
        with write():
            unit_id = unit_by_code(grid).id
            db.session.add_all(
                Holder(code=f"C{i:02d}", name=f"欧阳小{i}", kind="household", unit_id=unit_id)
                for i in range(n)
            )
        db.session.remove()


def test_a_households_card_reads_as_its_code_with_the_masked_name_village_and_grid(world, staff):
    page = html(staff("rec").get("/holders/H1/card"))
    card = cards_of(page)["H1"]
    assert decoded(card, "H1") == ["H1"]
    assert '<p class="hcard-code">H1</p>' in card
    assert "张*明" in card and "张三明" not in page
    assert "汤头沟村" in card and "第一网格" in card
    assert "1234" not in re.sub(
        r"<svg.*?</svg>", "", page, flags=re.S
    )  # the demo PIN is never printed


def test_a_units_cards_come_ten_to_a_sheet_in_code_order(world, staff):
    add_households(world, 9)  # 12 households under v1 with H1, H2, H3
    page = html(staff("admin").get("/admin/cards?unit=v1"))
    sheets = page.split('<section class="sheet">')[1:]
    assert [len(CARD.findall(s)) for s in sheets] == [10, 2]
    assert list(cards_of(page)) == [f"C{i:02d}" for i in range(9)] + ["H1", "H2", "H3"]
    assert "欧**8" in page and "H9" not in cards_of(
        page
    )  # another village's household is not there


def test_a_unit_of_party_members_prints_member_cards(world, staff):
    page = html(staff("srec").get("/admin/cards?unit=branch&kind=member"))
    assert list(cards_of(page)) == ["M1", "M2", "M3"] and "党员 党**号" in page
    assert decoded(cards_of(page)["M2"], "M2") == ["M2"]


def test_staff_outside_the_unit_get_no_cards_and_no_card(world, staff):
    client = staff("rec2")  # a recorder of the other village
    assert client.get("/holders/H1/card").status_code == 403
    assert cards_of(html(client.get("/admin/cards?unit=v1"))) == {}
    assert list(cards_of(html(client.get("/admin/cards?unit=v2")))) == ["H9"]
    assert client.get("/holders/NOPE/card").status_code == 404
    unknown = client.get("/admin/cards?unit=nowhere")
    assert unknown.status_code == 422 and "找不到这个单位" in html(unknown)


def test_cards_need_a_signed_in_staff_member(world, client):
    for path in ("/holders/H1/card", "/admin/cards?unit=v1"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_cards_page_reads_in_english_too_without_inline_script(world, staff):
    from test_pages import INLINE_HANDLER, INLINE_SCRIPT, STYLE_ATTRIBUTE

    client = staff("admin")
    for path in (
        "/admin/cards?lang=en",
        "/admin/cards?unit=g1&lang=en",
        "/holders/H1/card?lang=en",
    ):
        page = html(client.get(path))
        assert "Household points card" in page and '<html lang="en">' in page
        assert (
            not INLINE_SCRIPT.search(page)
            and not INLINE_HANDLER.search(page)
            and not STYLE_ATTRIBUTE.search(page)
        )


# --- the counter reads a card ---------------------------------------------------------------


def test_the_counter_offers_the_camera_with_a_decoder_the_service_serves_itself(world, staff):
    from shop_helpers import open_shop

    open_shop(world)
    client = staff("clerk")
    page = html(client.get("/counter"))
    decoder = re.search(r'id="scan"[^>]*data-decoder="([^"]+)"', page).group(1)
    assert decoder == "/static/vendor/jsQR.js" and '<script src="/static/scan.js" defer>' in page
    served = client.get(decoder)
    assert served.status_code == 200 and b"jsQR" in served.data[:2000]
    assert b"Apache License" in client.get("/static/vendor/jsQR.LICENSE").data
    assert "H1 张三明" in html(
        client.get("/counter?holder=H1")
    )  # where a scan (or a typed code) lands
