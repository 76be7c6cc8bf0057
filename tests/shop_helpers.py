"""Small steps of the love-supermarket stories, shared by the shop tests."""

from datetime import timedelta

from conftest import PASSWORD, local_today, yesterday
from points.extensions import db


def _positive_items(world, scheme):
    """Uncapped items that give points: fixed ones by size, and a positive range item for the
    rest."""
    rules = world.rules(scheme)
    fixed = sorted(
        (
            i
            for i in rules.items
            if i.type == "fixed" and i.points > 0 and i.cap is None and not i.veto
        ),
        key=lambda i: -i.points,
    )
    ranged = next(
        i for i in rules.items if i.type == "range" and i.min > 0 and i.cap is None and not i.veto
    )
    return fixed, ranged


def give_points(world, holders, n, scheme="longhua"):
    """Give each holder exactly n spendable points: record as one event, two reviewers, notice
    ends."""
    holders = [holders] if isinstance(holders, str) else list(holders)
    recorder, reviewers = (
        ("rec", ("rev1", "rev2")) if scheme == "longhua" else ("srec", ("srev1", "srev2"))
    )
    fixed, ranged = _positive_items(world, scheme)
    bodies, left = [], n
    for item in fixed:  # big fixed items first, leaving nothing or what the range item can give
        while left - item.points == 0 or left - item.points >= ranged.min:
            bodies.append({"item": item.code})
            left -= item.points
    left, low, high = int(left), int(ranged.min), int(ranged.max)
    chunks = -(-left // high)
    for k in range(chunks):  # even chunks, each within the range item's bounds
        chunk = left // (chunks - k)
        if chunk < low:
            raise ValueError(f"cannot give exactly {n} points")
        bodies.append({"item": ranged.code, "points": chunk})
        left -= chunk
    ids = []
    for body in bodies:
        answer = world.as_(recorder).post(
            "/entries/batch",
            json={"scheme": scheme, "holders": holders, "occurred_on": yesterday(), **body},
        )
        assert answer.status == 201, answer
        ids += [e["id"] for e in answer.json["items"]]
    for reviewer in reviewers:
        for start in range(0, len(ids), 500):
            answer = world.as_(reviewer).post(
                "/entries/batch/approve", json={"ids": ids[start : start + 500]}
            )
            assert answer.status == 200, answer
    world.settle(local_today() + timedelta(days=30))


def add_user(world, username, role, unit):
    from points.users.service import create_user_cli

    with world.app.app_context():
        create_user_cli(username, PASSWORD, role, unit)
        db.session.remove()


def add_households(world, codes, grid="g1"):
    from points.database import end_read, write
    from points.org.models import Holder
    from points.org.service import unit_by_code

    with world.app.app_context():
        unit_id = unit_by_code(grid).id
        end_read()
        with write():
            for code in codes:
                db.session.add(
                    Holder(code=code, name=f"户{code}", kind="household", unit_id=unit_id)
                )
        db.session.remove()


def open_shop(world, code="lh-shop", unit="v1", schemes=("longhua",), goods=()):
    admin = "admin" if unit != "shita" else "zadmin"
    answer = world.as_(admin).post(
        "/shops", json={"code": code, "name": "爱心超市", "unit": unit, "schemes": list(schemes)}
    )
    assert answer.status == 201, answer
    for goods_code, name, price, stock in goods:
        answer = world.as_(admin).post(
            f"/shops/{code}/goods",
            json={"code": goods_code, "name": name, "price": price, "stock": stock},
        )
        assert answer.status == 201, answer
    return answer


def redeem(
    world, lines, holder="H1", by="clerk", key=None, shop="lh-shop", scheme="longhua", client=None
):
    import uuid

    from conftest import Api

    api = world.as_(by) if client is None else Api(client, world.token(by))
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    body = {
        "shop": shop,
        "scheme": scheme,
        "holder": holder,
        "lines": [{"goods": g, "quantity": q} for g, q in lines],
    }
    return api.post("/redemptions", json=body, headers=headers)


def verify(world):
    from points.verify import verify as run

    with world.app.app_context():
        checked, problems = run()
        db.session.remove()
    return checked, problems
