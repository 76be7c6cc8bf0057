"""Recording and review at their exact edges: range bounds, dates, caps and their windows, the
scheme's own numbers (quorum, notice, caps), notice's last day, paging and idempotency keys.
Each test fails when one comparison or one number in the code is broken."""

from datetime import date, timedelta

import pytest

from conftest import edited_rules, local_today


def _post(world, by="rec", headers=None, **body):
    body = {
        "scheme": "longhua",
        "holder": "H1",
        "occurred_on": (local_today() - timedelta(days=1)).isoformat(),
        **body,
    }
    body.setdefault("item", world.fixed_item())
    return world.as_(by).post("/entries", json=body, headers=headers or {})


# --- values and dates ----------------------------------------------------------------------


def _range_item(world):
    return world.item_of("range", capped=False)


@pytest.mark.parametrize(
    "edge, step, status", [("min", 0, 201), ("max", 0, 201), ("min", -0.1, 422), ("max", 0.1, 422)]
)
def test_a_range_item_takes_its_min_and_max_and_refuses_a_tenth_outside(world, edge, step, status):
    item = _range_item(world)
    points = float(getattr(item, edge)) + step
    answer = _post(world, item=item.code, points=round(points, 1))
    assert answer.status == status, answer
    if status == 201:
        assert answer.json["points"] == float(getattr(item, edge))


@pytest.mark.parametrize("days_ahead, status", [(0, 201), (1, 422)])
def test_a_deed_of_today_is_recorded_and_one_of_tomorrow_refused(world, days_ahead, status):
    answer = _post(world, occurred_on=(local_today() + timedelta(days=days_ahead)).isoformat())
    assert answer.status == status, answer


@pytest.mark.parametrize("day, status", [("2000-01-01", 201), ("1999-12-31", 422)])
def test_the_year_2000_is_the_earliest_a_deed_may_be_dated(world, day, status):
    assert _post(world, occurred_on=day).status == status


# --- caps and their windows ----------------------------------------------------------------

# A window of each kind, all in the past: (per, first day, last day).
WINDOWS = [
    ("day", date(2026, 11, 10), date(2026, 11, 10)),
    ("week", date(2026, 11, 9), date(2026, 11, 15)),  # ISO week: Monday to Sunday
    ("month", date(2026, 10, 1), date(2026, 10, 31)),
    ("quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ("year", date(2025, 1, 1), date(2025, 12, 31)),
]


def _fill(world, item, day, holder="H1"):
    for _ in range(item.cap.count):
        assert (
            _post(world, item=item.code, holder=holder, occurred_on=day.isoformat()).status == 201
        )


def _one_more(world, item, day, holder):
    return _post(world, item=item.code, holder=holder, occurred_on=day.isoformat()).status


@pytest.mark.parametrize("per, first, last", WINDOWS)
def test_a_count_cap_counts_the_windows_first_and_last_day_together(world, per, first, last):
    item = world.item_of("fixed", capped=per)
    _fill(world, item, first, "H1")
    _fill(world, item, last, "H2")
    assert [_one_more(world, item, last, "H1"), _one_more(world, item, first, "H2")] == [409, 409]


@pytest.mark.parametrize("per, first, last", WINDOWS)
def test_entries_a_day_outside_the_window_do_not_count_against_it(world, per, first, last):
    item = world.item_of("fixed", capped=per)
    _fill(world, item, first - timedelta(days=1), "H1")
    _fill(world, item, last + timedelta(days=1), "H2")
    assert [_one_more(world, item, first, "H1"), _one_more(world, item, last, "H2")] == [201, 201]


def _points_capped_item(world):
    return next(
        i
        for i in world.rules().items
        if i.type == "fixed"
        and i.points > 0
        and i.cap is not None
        and i.cap.points is not None
        and i.cap.points % i.points == 0
    )


def test_a_points_cap_admits_an_entry_that_reaches_it_and_refuses_the_next(world):
    item = _points_capped_item(world)
    day = date(2026, 10, 15)
    for _ in range(int(item.cap.points / item.points)):
        assert _post(world, item=item.code, occurred_on=day.isoformat()).status == 201
    answer = _post(world, item=item.code, occurred_on=day.isoformat())
    assert (answer.status, answer.code) == (409, "cap_exceeded")


class TestACapOfTheSchemesOwnNumber:
    """A cap raised in the scheme's file is the cap the service applies."""

    @pytest.fixture
    def rules_dir(self, tmp_path):
        return edited_rules(
            tmp_path, "longhua", "cap: {per: month, count: 1}", "cap: {per: month, count: 3}"
        )

    def test_three_entries_fit_a_monthly_cap_of_three_and_the_fourth_does_not(self, world):
        item = next(
            i
            for i in world.rules().items
            if i.cap is not None and i.cap.per == "month" and i.cap.count == 3
        )
        statuses = [_post(world, item=item.code, occurred_on="2026-10-05").status for _ in range(4)]
        assert statuses == [201, 201, 201, 409]


# --- the scheme's quorum and notice --------------------------------------------------------


class TestAQuorumOfThree:
    @pytest.fixture
    def rules_dir(self, tmp_path):
        return edited_rules(tmp_path, "longhua", "reviewers_required: 2", "reviewers_required: 3")

    def test_two_approvals_leave_it_pending_and_the_third_puts_it_in_notice(self, world):
        entry = world.record()
        statuses = [
            world.as_(r).post(f"/entries/{entry['id']}/approve", json={}).json["status"]
            for r in ("rev1", "rev2", "rev3")
        ]
        assert statuses == ["pending", "pending", "in_notice"]


class TestAOneReviewerScheme:
    @pytest.fixture
    def rules_dir(self, tmp_path):
        return edited_rules(tmp_path, "longhua", "reviewers_required: 2", "reviewers_required: 1")

    def test_one_approval_puts_it_in_notice(self, world):
        entry = world.record()
        assert (
            world.as_("rev1").post(f"/entries/{entry['id']}/approve", json={}).json["status"]
            == "in_notice"
        )


class TestAFiveDayNotice:
    @pytest.fixture
    def rules_dir(self, tmp_path):
        return edited_rules(tmp_path, "longhua", "notice_days: 3", "notice_days: 5")

    def test_notice_ends_five_days_after_approval(self, world):
        entry = world.record()
        assert (
            world.approve_all(entry["id"])["notice_ends_on"]
            == (local_today() + timedelta(days=5)).isoformat()
        )

    def test_settling_on_the_last_day_leaves_it_in_notice_and_the_next_day_posts_it(self, world):
        entry = world.record()
        world.approve_all(entry["id"])
        last_day = local_today() + timedelta(days=5)
        assert (world.settle(last_day), world.settle(last_day + timedelta(days=1))) == (0, 1)


# --- paging and idempotency ----------------------------------------------------------------


@pytest.mark.parametrize("per_page, status", [(500, 200), (501, 422)])
def test_a_page_holds_at_most_500(world, per_page, status):
    assert world.as_("rec").get(f"/entries?per_page={per_page}").status == status


def test_the_same_key_with_the_same_body_replays_the_first_entry(world):
    first = _post(world, headers={"Idempotency-Key": "form-1"})
    again = _post(world, headers={"Idempotency-Key": "form-1"})
    assert (again.status, again.json) == (201, first.json)


def test_the_same_key_with_another_body_records_nothing(world):
    assert _post(world, headers={"Idempotency-Key": "form-1"}).status == 201
    answer = _post(world, holder="H2", headers={"Idempotency-Key": "form-1"})
    assert (answer.status, answer.code) == (422, "idempotency_key_reused")
    assert world.as_("rec").get("/entries?holder=H2").json["total"] == 0


def test_another_users_same_key_is_a_new_entry(world):
    first = _post(world, headers={"Idempotency-Key": "form-1"})
    other = _post(world, by="rev1", headers={"Idempotency-Key": "form-1"})  # rev1 also records
    assert other.status == 201 and other.json["id"] != first.json["id"]


def test_an_entry_key_over_255_characters_is_refused(world):
    answer = _post(world, headers={"Idempotency-Key": "k" * 256})
    assert (answer.status, answer.code) == (422, "validation_error")
