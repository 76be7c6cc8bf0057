"""申领: a resident declares a deed with code and PIN and up to three photos; a recorder in
scope accepts it into an ordinary pending entry with the photos as evidence, or declines it
with a reason the resident then sees."""

import io
from pathlib import Path

from conftest import local_today, yesterday
from test_evidence import photo_with_gps


def claim_body(world, **fields):
    return {
        "holder": "H1",
        "pin": "1234",
        "scheme": "longhua",
        "item": world.fixed_item(),
        "occurred_on": yesterday(),
        "note": "帮五保户打扫院子",
        **fields,
    }


def claim(world, **fields):
    answer = world.anonymous.post("/public/claims", json=claim_body(world, **fields))
    assert answer.status == 201, answer
    return answer.json


def with_photos(world, count, bad=False, **fields):
    body = claim_body(world, **fields)
    files = [
        (
            io.BytesIO(b"not a photo" if bad and n == count - 1 else photo_with_gps((300, 200))),
            f"p{n}.jpg",
        )
        for n in range(count)
    ]
    return world.anonymous.post(
        "/public/claims", data={**body, "photo": files}, content_type="multipart/form-data"
    )


def evidence_files(world):
    folder = Path(world.app.config["EVIDENCE_DIR"])
    return sorted(p.name for p in folder.rglob("*.jpg")) if folder.exists() else []


def test_a_claim_with_a_photo_is_accepted_into_a_pending_entry_with_the_photo_as_evidence(world):
    made = with_photos(world, 1)
    assert made.status == 201 and made.json["status"] == "open" and len(made.json["photos"]) == 1
    listed = world.as_("rec").get("/claims?status=open").json
    assert [c["id"] for c in listed["items"]] == [made.json["id"]]
    entry = world.as_("rec").post(f"/claims/{made.json['id']}/accept", json={})
    assert entry.status == 201, entry
    assert entry.json["status"] == "pending" and entry.json["recorded_by"] == "rec"
    assert entry.json["claim"] == made.json["id"] and entry.json["holder"] == "H1"
    assert [e["id"] for e in entry.json["evidence"]] == made.json["photos"]
    assert world.as_("rec").get(f"/claims/{made.json['id']}").json["entry"] == entry.json["id"]
    assert world.balance()["pending"] == entry.json["points"]
    world.approve_all(entry.json["id"])  # reviewed like any other
    assert world.as_("rec").get(f"/entries/{entry.json['id']}").json["status"] == "in_notice"


def test_a_declined_claim_shows_its_reason_to_the_resident(world):
    made = claim(world)
    assert world.as_("rec").post(f"/claims/{made['id']}/decline", json={"reason": ""}).status == 422
    answer = world.as_("rec").post(
        f"/claims/{made['id']}/decline", json={"reason": "当天没有这项活动"}
    )
    assert answer.status == 200 and answer.json["status"] == "declined"
    mine = world.anonymous.post("/public/balance", json={"holder": "H1", "pin": "1234"}).json[
        "claims"
    ]
    assert mine[0]["id"] == made["id"] and mine[0]["reason"] == "当天没有这项活动"
    again = world.as_("rec").post(f"/claims/{made['id']}/accept", json={})
    assert again.status == 409 and again.code == "invalid_state"


def test_a_claim_is_accepted_once(world):
    made = claim(world)
    assert world.as_("rec").post(f"/claims/{made['id']}/accept", json={}).status == 201
    again = world.as_("rev1").post(f"/claims/{made['id']}/accept", json={})
    assert again.status == 409 and again.code == "invalid_state"
    assert world.as_("admin").get("/entries").json["total"] == 1


def test_five_open_claims_then_409_and_a_decided_one_makes_room(world):
    ids = [claim(world)["id"] for _ in range(5)]
    sixth = world.anonymous.post("/public/claims", json=claim_body(world))
    assert sixth.status == 409 and sixth.code == "too_many_open_claims"
    world.as_("rec").post(f"/claims/{ids[0]}/decline", json={"reason": "重复"})
    assert world.anonymous.post("/public/claims", json=claim_body(world)).status == 201


def test_a_wrong_pin_is_401_and_locks_out_as_the_public_balance(world):
    for _ in range(5):
        assert (
            world.anonymous.post("/public/claims", json=claim_body(world, pin="0000")).status == 401
        )
    locked = world.anonymous.post("/public/claims", json=claim_body(world))
    assert locked.status == 429 and locked.code == "too_many_attempts"
    assert world.as_("rec").get("/claims").json["total"] == 0


def test_bad_claims_get_the_entry_rules_422_and_leave_nothing(world):
    tomorrow = local_today().toordinal() + 1
    from datetime import date

    cases = [
        claim_body(world, item="NOPE"),
        claim_body(world, occurred_on=date.fromordinal(tomorrow).isoformat()),
        claim_body(world, scheme="shita"),
        claim_body(world, note=""),
    ]
    for body in cases:
        answer = world.anonymous.post("/public/claims", json=body)
        assert answer.status == 422 and answer.code == "validation_error", (body, answer)
    assert world.as_("rec").get("/claims").json["total"] == 0


def test_more_than_three_photos_or_one_fake_leaves_no_rows_and_no_files(world):
    assert with_photos(world, 4).status == 422
    fake = with_photos(world, 3, bad=True)
    assert fake.status == 422 and "photo" in fake.json["error"]["details"]
    assert world.as_("rec").get("/claims").json["total"] == 0
    assert evidence_files(world) == []
    assert with_photos(world, 3).status == 201


def test_accepting_keeps_every_entry_rule_and_a_refusal_leaves_the_claim_open(world):
    capped = world.item_of("fixed", capped="year")
    world.record(item=capped.code)
    made = claim(world, item=capped.code)
    refused = world.as_("rec").post(f"/claims/{made['id']}/accept", json={})
    assert refused.status == 409 and refused.code == "cap_exceeded"
    assert world.as_("rec").get(f"/claims/{made['id']}").json["status"] == "open"
    world.as_("admin").post("/users/rec2/links", json={"holder": "H9"})
    other = claim(world, holder="H9")
    linked = world.as_("rec2").post(f"/claims/{other['id']}/accept", json={})
    assert linked.status == 403 and linked.code == "conflict_of_interest"


def test_only_recorders_and_reviewers_in_scope_see_and_decide_claims(world):
    made = claim(world)
    assert world.as_("rec2").get(f"/claims/{made['id']}").status == 403
    assert world.as_("rec2").get("/claims").json["total"] == 0
    assert world.as_("clerk").get(f"/claims/{made['id']}").status == 403
    assert world.as_("rev1").get(f"/claims/{made['id']}").status == 200
    assert (
        world.as_("rev2").post(f"/claims/{made['id']}/accept", json={}).status == 403
    )  # not a recorder
    assert (
        world.as_("rec2").post(f"/claims/{made['id']}/decline", json={"reason": "x"}).status == 403
    )
    assert world.as_("rec").get(f"/claims/{made['id']}").json["status"] == "open"


# --- the pages -----------------------------------------------------------------------------


def test_a_resident_claims_on_the_phone_page_and_a_recorder_accepts_it_from_the_queue(
    world, client
):
    from test_pages import form_token, html, sign_in

    token = form_token(client, "/lookup/claim")
    item = world.fixed_item()
    answer = client.post(
        "/lookup/claim",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "holder": "H1",
            "pin": "1234",
            "item": f"longhua:{item}",
            "occurred_on": yesterday(),
            "note": "扫雪",
            "photo": [(io.BytesIO(photo_with_gps((300, 200))), "a.jpg"), (io.BytesIO(b""), "")],
        },
    )
    assert answer.status_code == 302, html(answer)
    [made] = world.as_("rec").get("/claims").json["items"]
    assert made["note"] == "扫雪" and len(made["photos"]) == 1
    sign_in(client, "rec")
    queue = html(client.get("/claims"))
    assert f'id="claim-{made["id"]}"' in queue and f"/evidence/{made['photos'][0]}" in queue
    done = client.post(
        "/claims", data={"csrf_token": form_token(client, "/claims"), "accept": made["id"]}
    )
    assert done.status_code == 302
    assert world.as_("rec").get(f"/claims/{made['id']}").json["status"] == "accepted"


def test_a_wrong_pin_on_the_claim_page_is_friendly_and_leaves_nothing(world, client):
    from test_pages import form_token, html

    token = form_token(client, "/lookup/claim?lang=en")
    answer = client.post(
        "/lookup/claim?lang=en",
        data={
            "csrf_token": token,
            "holder": "H1",
            "pin": "9999",
            "item": f"longhua:{world.fixed_item()}",
            "occurred_on": yesterday(),
            "note": "扫雪",
        },
    )
    assert answer.status_code == 401 and "PIN" in html(answer)
    assert world.as_("rec").get("/claims").json["total"] == 0


def test_declining_on_the_queue_needs_a_reason_and_the_resident_sees_it_at_lookup(world, client):
    from test_pages import form_token, html, sign_in

    made = claim(world)
    sign_in(client, "rec")
    token = form_token(client, "/claims")
    assert (
        client.post("/claims", data={"csrf_token": token, "decline": made["id"]}).status_code == 422
    )
    assert (
        client.post(
            "/claims",
            data={"csrf_token": token, "decline": made["id"], f"reason_{made['id']}": "照片看不清"},
        ).status_code
        == 302
    )
    client.delete_cookie("session")
    page = html(
        client.post(
            "/lookup",
            data={"csrf_token": form_token(client, "/lookup"), "holder": "H1", "pin": "1234"},
        )
    )
    assert "照片看不清" in page


def test_three_phone_photos_over_a_mebibyte_in_all_are_taken_while_a_json_body_that_big_is_not(
    world,
):
    import os

    from PIL import Image

    def noisy():
        out = io.BytesIO()
        Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3)).save(
            out, "JPEG", quality=95
        )
        return out.getvalue()

    photos = [noisy() for _ in range(3)]
    assert sum(map(len, photos)) > 1024 * 1024
    answer = world.anonymous.post(
        "/public/claims",
        content_type="multipart/form-data",
        data={
            **claim_body(world),
            "photo": [(io.BytesIO(p), f"{n}.jpg") for n, p in enumerate(photos)],
        },
    )
    assert answer.status == 201 and len(answer.json["photos"]) == 3
    big = world.anonymous.post("/public/claims", json=claim_body(world, note="好" * (600 * 1024)))
    assert big.status == 413 and big.code == "payload_too_large"
