"""No writes on a read: a tour of every GET endpoint and page leaves every table as it was,
even with entries due to settle (settling runs outside requests: points/settling.py)."""

import re
import uuid
from datetime import timedelta

from sqlalchemy import func, select, text

from conftest import local_today
from shop_helpers import give_points, open_shop
from test_pages import sign_in

PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _row_counts(app):
    from points.extensions import db

    with app.app_context():
        counts = {
            table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return counts


def _story(world):
    """Something of everything: points posted and spent, an entry in notice that is due to
    settle."""
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, "H1", 20)
    sold = world.as_("clerk").post(
        "/redemptions",
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={
            "shop": "lh-shop",
            "scheme": "longhua",
            "holder": "H1",
            "lines": [{"goods": "soap", "quantity": 1}],
        },
    )
    assert sold.status == 201, sold
    due = world.record(holder="H2")
    world.approve_all(due["id"])
    from points.extensions import db

    with world.app.app_context():
        db.session.execute(
            text("UPDATE entries SET notice_ends_on = :d WHERE id = :id"),
            {"d": local_today() - timedelta(days=1), "id": due["id"]},
        )
        db.session.commit()
    return {
        "code": "H1",
        "holder": "H1",
        "scheme": "longhua",
        "shop": "lh-shop",
        "goods": "soap",
        "username": "rec",
        "entry_id": due["id"],
        "redemption_id": sold.json["id"],
        "village": "v1",
        "unit": "v1",
        "year": local_today().year,
        "filename": "swagger-ui.css",
    }


def _paths(app, values):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = PARAM.sub(lambda m: str(values.get(m[1], 1)), rule.rule)
        yield path
        yield f"{path}?unit=v1&scheme=longhua&holder=H1&year={values['year']}"


def test_a_tour_of_every_read_endpoint_and_page_writes_nothing(world, client):
    values = _story(world)
    token = world.token("admin")
    assert sign_in(client, "admin").status_code == 302
    anonymous = world.app.test_client()
    before = _row_counts(world.app)
    answers = {}
    for path in _paths(world.app, values):
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
        answers[path] = client.get(path, headers=headers).status_code
        anonymous.get(path)
    assert _row_counts(world.app) == before
    assert not [path for path, status in answers.items() if status >= 500]
    assert answers["/"] == 200 and answers["/api/v1/entries"] == 200  # the tour was signed in
    assert (
        answers["/admin/"] == 200 and client.get("/admin").status_code == 200
    )  # the README's link
    # What was due is posted by the next settling run, not by any of those requests.
    assert world.settle(local_today()) == 1
