"""照片佐证: a recorder attaches photos to a pending entry; they are judged by content, stored
re-encoded without EXIF or GPS and with their hash, shown only to staff in scope, and an item
with `evidence: required` is not approved without one."""

import hashlib
import io

import pytest
from PIL import Image

from conftest import edited_rules
from test_pages import form_token, html, staff  # noqa: F401 (a fixture)

GPS_IFD = 0x8825


def photo_with_gps(size=(3000, 2000), fmt="JPEG"):
    image = Image.new("RGB", size, (200, 120, 40))
    exif = image.getexif()
    exif[0x010F] = "VillageCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes()) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def upload(world, entry_id, data, by="rec", name="photo.jpg"):
    return world.as_(by).post(
        f"/entries/{entry_id}/evidence",
        data={"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def entry_evidence(world, entry_id):
    return world.as_("admin").get(f"/entries/{entry_id}").json["evidence"]


def test_a_photo_with_gps_comes_back_without_it_smaller_and_with_its_stated_hash(world):
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo has GPS
    entry = world.record()
    answer = upload(world, entry["id"], original)
    assert answer.status == 201, answer
    assert (answer.json["width"], answer.json["height"]) == (1600, 1067)
    stored = world.as_("rev1").get(f"/evidence/{answer.json['id']}")
    assert stored.status == 200 and stored.response.mimetype == "image/jpeg"
    body = stored.response.get_data()
    assert (
        hashlib.sha256(body).hexdigest() == answer.json["sha256"]
        and len(body) == answer.json["bytes"]
    )
    kept = Image.open(io.BytesIO(body))
    assert not kept.getexif() and not kept.getexif().get_ifd(GPS_IFD)
    assert entry_evidence(world, entry["id"]) == [
        {"id": answer.json["id"], "sha256": answer.json["sha256"]}
    ]


def test_a_png_is_taken_and_stored_as_jpeg(world):
    entry = world.record()
    answer = upload(world, entry["id"], photo_with_gps((800, 600), "PNG"), name="x.png")
    assert answer.status == 201 and (answer.json["width"], answer.json["height"]) == (800, 600)


@pytest.mark.parametrize(
    "data,name",
    [
        (b"not a picture at all", "photo.jpg"),
        (b"GIF89a" + b"\x00" * 40, "photo.gif"),
        (b"", "empty.jpg"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(world, data, name):
    entry = world.record()
    answer = upload(world, entry["id"], data, name=name)
    assert (
        answer.status == 422
        and answer.code == "validation_error"
        and "photo" in answer.json["error"]["details"]
    )
    assert entry_evidence(world, entry["id"]) == []


def test_a_photo_over_five_mebibytes_is_413_in_the_envelope(world):
    entry = world.record()
    answer = upload(world, entry["id"], b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024))
    assert answer.status == 413 and answer.code == "payload_too_large"
    assert entry_evidence(world, entry["id"]) == []


def test_only_the_recorder_adds_photos_and_only_while_pending(world):
    entry = world.record()
    data = photo_with_gps((400, 300))
    assert upload(world, entry["id"], data, by="rev1").status == 403
    assert upload(world, entry["id"], data, by="rec2").status == 403
    assert upload(world, 999999, data).status == 404
    world.approve_all(entry["id"])
    answer = upload(world, entry["id"], data)
    assert answer.status == 409 and answer.code == "invalid_state"
    assert entry_evidence(world, entry["id"]) == []


def test_photos_are_for_staff_in_scope_only(world):
    entry = world.record()
    evidence_id = upload(world, entry["id"], photo_with_gps((400, 300))).json["id"]
    assert world.as_("rev_v2").get(f"/evidence/{evidence_id}").status == 403
    assert world.anonymous.get(f"/evidence/{evidence_id}").status == 401
    assert world.as_("rev1").get("/evidence/424242").status == 404


@pytest.fixture
def rules_dir(tmp_path):
    """Longhua whose first item needs a photo."""
    return edited_rules(
        tmp_path,
        "longhua",
        "      - code: LH02\n",
        "      - code: LH02\n        evidence: required\n",
    )


def test_an_item_that_needs_a_photo_is_not_approved_without_one(world):
    entry = world.record(item="LH02")
    refused = world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={})
    assert refused.status == 409 and refused.code == "evidence_required"
    assert world.as_("admin").get(f"/entries/{entry['id']}").json["approvals"] == []
    other = world.record(item=world.item_of("fixed", capped=False).code)
    assert world.as_("rev1").post(f"/entries/{other['id']}/approve", json={}).status == 200
    assert upload(world, entry["id"], photo_with_gps((400, 300))).status == 201
    assert world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={}).status == 200


def test_the_recorder_uploads_from_the_holder_page_and_reviewers_see_it_in_the_queue(world, staff):
    entry = world.record()
    client = staff("rec")
    token = form_token(client, "/holders/H1")
    answer = client.post(
        f"/entries/{entry['id']}/photos",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "holder": "H1",
            "photo": (io.BytesIO(photo_with_gps((400, 300))), "p.jpg"),
        },
    )
    assert answer.status_code == 302, html(answer)
    [evidence] = entry_evidence(world, entry["id"])
    queue = html(staff("rev1").get("/review"))
    assert f"/evidence/{evidence['id']}" in queue
    assert staff("rev1").get(f"/evidence/{evidence['id']}").status_code == 200
    assert staff("rec2").get(f"/evidence/{evidence['id']}").status_code == 403


def test_a_scheme_that_names_evidence_wrongly_is_refused_naming_the_item(tmp_path):
    from points.rules import check_dir

    path = edited_rules(
        tmp_path / "bad",
        "longhua",
        "      - code: LH01\n",
        "      - code: LH01\n        evidence: maybe\n",
    )
    problems = [str(p) for p in check_dir(str(path))]
    assert any("LH01" in p and "evidence" in p for p in problems), problems
