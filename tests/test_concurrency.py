"""Races a village would meet: double-clicks, two recorders at once, guessing in parallel."""

from conftest import PASSWORD, Api, at_once, own_clients, yesterday


def test_a_form_sent_many_times_at_once_with_one_key_records_one_entry(world):
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "item": world.fixed_item(),
        "occurred_on": yesterday(),
    }
    apis = own_clients(world, "rec", 8)
    answers = at_once(
        [
            lambda a=a: a.post("/entries", json=body, headers={"Idempotency-Key": "k-1"})
            for a in apis
        ]
    )
    assert {a.status for a in answers} <= {201, 409}, answers
    created = [a for a in answers if a.status == 201]
    assert created and len({a.json["id"] for a in created}) == 1
    assert world.as_("admin").get("/entries").json["total"] == 1


def test_two_recorders_at_once_cannot_both_pass_a_once_a_year_cap(world):
    item = world.item_of("fixed", capped="year").code
    body = {"scheme": "longhua", "holder": "H1", "item": item, "occurred_on": yesterday()}
    apis = own_clients(world, "rec", 3) + own_clients(world, "rev1", 3)  # rev1 records too
    answers = at_once([lambda a=a: a.post("/entries", json=body) for a in apis])
    assert sorted(a.status for a in answers) == [201] + [409] * 5, answers
    assert {a.code for a in answers if a.status == 409} == {"cap_exceeded"}
    assert world.as_("admin").get("/entries?holder=H1").json["total"] == 1


def test_guessing_a_password_in_parallel_gets_no_more_than_five_tries(world):
    apis = [Api(world.app.test_client()) for _ in range(12)]
    answers = at_once(
        [
            lambda a=a: a.post("/auth/token", json={"username": "rec", "password": "guess-123"})
            for a in apis
        ]
    )
    assert {a.status for a in answers} <= {401, 429}
    assert sum(a.status == 401 for a in answers) <= 5
    locked = Api(world.client).post("/auth/token", json={"username": "rec", "password": PASSWORD})
    assert locked.status == 429
