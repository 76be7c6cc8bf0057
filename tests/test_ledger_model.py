"""Any sequence of actions by anyone is judged as the contract says, and keeps the books right.

A Hypothesis state machine drives the API with record (one or a batch), approve (one or a
batch), reject, object (staff and residents), revoke, settle at a moved date, redeem, replay
and void, each tried by whoever the draw picks: a recorder, a reviewer, the entry's own
recorder, a reviewer of the other village, a clerk, the county admin, a user linked to a
household (回避), an objector. Its own model of the contract (api.md: Roles and scope, Users,
Entries, Redemptions, Accounts) says before each call which status and error code the call must
get and what it must leave behind (the entry's status, the balance, pending points, the year's
totals, the stock, the postings); the server's answer is only ever compared with that.

Draws lean to actors and entries the model says may act, so most runs reach `posted`,
`disputed` and `revoked`. `HYPOTHESIS_PROFILE=long` runs many more and longer sequences.
"""

import copy
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from conftest import local_today, yesterday
from shop_helpers import add_user

PROFILES = {
    "default": {"max_examples": 8, "stateful_step_count": 30},
    "long": {"max_examples": 200, "stateful_step_count": 60},
}
PROFILE = PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), PROFILES["default"])

# The world's staff and their grants (conftest.World), plus `kin`, who records, reviews and
# serves at the counter in v1 and is linked to each run's first household.
GRANTS = {
    "admin": {("admin", "county")},
    "rec": {("recorder", "v1")},
    "rev1": {("reviewer", "v1"), ("recorder", "v1")},
    "rev2": {("reviewer", "v1")},
    "rev3": {("reviewer", "v1")},
    "rec2": {("recorder", "v2")},
    "rev_v2": {("reviewer", "v2")},
    "rev_v2b": {("reviewer", "v2")},
    "clerk": {("clerk", "v1")},
    "kin": {("recorder", "v1"), ("reviewer", "v1"), ("clerk", "v1")},
}
USERS = sorted(GRANTS)
ABOVE = {
    "g1": {"g1", "v1", "town", "county"},
    "g3": {"g3", "v2", "town", "county"},
    "v1": {"v1", "town", "county"},
}
VILLAGE = {"g1": "v1", "g3": "v2"}
HOLDER_GRIDS = ("g1", "g1", "g3")  # two households of v1, one of v2
SHOP_UNIT = "v1"
NOTICE_DAYS, QUORUM, THRESHOLD = 3, 2, Decimal(10)  # rules/longhua.yaml, read again in the test
OPEN = ("pending", "in_notice", "disputed")
ZERO = Decimal(0)


def may(user, role, unit):
    return any(r == role and u in ABOVE[unit] for r, u in GRANTS[user])


def covers(user, unit):
    return any(u in ABOVE[unit] for _, u in GRANTS[user])


class Refused(Exception):
    """What the contract says the server must answer instead of doing the action."""

    def __init__(self, status, code, holders=None):
        super().__init__(status, code)
        self.status, self.code, self.holders = status, code, holders


@dataclass
class Entry:
    holder: int
    item: str
    points: Decimal
    recorder: str
    status: str = "pending"
    approvals: set = field(default_factory=set)
    objectors: set = field(default_factory=set)  # users
    objecting_holders: set = field(default_factory=set)  # residents, by holder index
    notice_ends_on: object = None


@dataclass
class Account:
    balance: Decimal = ZERO
    pending: Decimal = ZERO
    earned: Decimal = ZERO
    deducted: Decimal = ZERO
    redeemed: Decimal = ZERO
    postings: list = field(default_factory=list)  # (kind, points, balance_after), oldest first

    def post(self, kind, points):
        self.balance += points
        self.postings.append((kind, points, self.balance))
        if kind in ("entry", "revoke"):
            # a reversal lowers what its entry added: earned for a deed, deducted for a deduction
            positive = points > 0 if kind == "entry" else points < 0
            if positive:
                self.earned += points
            else:
                self.deducted -= points
        else:
            self.redeemed -= points


class Contract:
    """The model: what the contract allows, from which status, by whom, and what it changes."""

    def __init__(self, items, goods):
        self.items = items  # name → (code, points, cap count or None)
        self.entries = {}  # server id → Entry
        self.accounts = [Account() for _ in HOLDER_GRIDS]
        self.stock = {code: stock for code, _, stock in goods}
        self.prices = {code: Decimal(str(price)) for code, price, _ in goods}
        self.goods_order = [code for code, _, _ in goods]  # the order they were made in (by id)
        self.redemptions = {}  # server id → {"holder", "lines", "total", "status"}
        self.linked = {"kin": {0}}  # user → holder indices (回避)

    def unit(self, holder):
        return HOLDER_GRIDS[holder]

    def _linked(self, user, holder):
        return holder in self.linked.get(user, set())

    # --- recording ---

    def check_record(self, user, holders, item):
        """Raise Refused as a batch of these holders would be; a single entry is a batch of one."""
        forbidden = [h for h in holders if not may(user, "recorder", self.unit(h))]
        if forbidden:
            raise Refused(403, "forbidden", forbidden)
        linked = [h for h in holders if self._linked(user, h)]
        if linked:
            raise Refused(403, "conflict_of_interest", linked)
        code, _, cap = self.items[item]
        for h in sorted(holders):  # caps are checked holder by holder in the order they were made
            if (
                cap is not None
                and sum(
                    1
                    for e in self.entries.values()
                    if e.holder == h and e.item == code and e.status not in ("rejected", "revoked")
                )
                + 1
                > cap
            ):
                raise Refused(409, "cap_exceeded", [h])

    def record(self, entry_id, user, holder, item, points):
        self.entries[entry_id] = Entry(holder, self.items[item][0], points, user)
        self.accounts[holder].pending += points

    # --- review ---

    def _check_reviewer(self, user, entry):
        if not may(user, "reviewer", self.unit(entry.holder)):
            raise Refused(403, "forbidden")
        if user == entry.recorder:
            raise Refused(403, "self_review")
        if self._linked(user, entry.holder):
            raise Refused(403, "conflict_of_interest")

    def _objected(self, user, entry):
        return user in entry.objectors or bool(
            entry.objecting_holders & self.linked.get(user, set())
        )

    def approve(self, user, entry_id, today):
        """Judge and apply one approval; Refused leaves everything as it was."""
        entry = self.entries[entry_id]
        self._check_reviewer(user, entry)
        if entry.status == "disputed":  # one reviewer settles: posted, no new quorum or notice
            if self._objected(user, entry):
                raise Refused(403, "conflict_of_interest")
            self._post(entry)
            return
        if entry.status != "pending":
            raise Refused(409, "invalid_state")
        if user in entry.approvals:
            raise Refused(409, "already_reviewed")
        entry.approvals.add(user)
        if len(entry.approvals) >= QUORUM:
            entry.status, entry.notice_ends_on = "in_notice", today + timedelta(days=NOTICE_DAYS)

    def approve_batch(self, user, ids, today):
        """All or nothing: a linked holder anywhere refuses the whole batch first, then each entry
        is judged as one by one, in the order given; the first refusal names its entry."""
        if any(self._linked(user, self.entries[i].holder) for i in ids):
            raise Refused(403, "conflict_of_interest")
        trial = copy.deepcopy(self)
        for entry_id in ids:
            try:
                trial.approve(user, entry_id, today)
            except Refused as refused:
                refused.holders = [entry_id]
                raise
        self.entries, self.accounts = trial.entries, trial.accounts

    def reject(self, user, entry_id):
        entry = self.entries[entry_id]
        self._check_reviewer(user, entry)
        if entry.status not in ("pending", "disputed"):
            raise Refused(409, "invalid_state")
        if entry.status == "disputed" and self._objected(user, entry):
            raise Refused(403, "conflict_of_interest")
        entry.status = "rejected"
        self.accounts[entry.holder].pending -= entry.points

    def revoke(self, user, entry_id):
        entry = self.entries[entry_id]
        self._check_reviewer(user, entry)
        account = self.accounts[entry.holder]
        if entry.status == "posted":
            account.post("revoke", -entry.points)  # taken back even below zero
        elif entry.status == "in_notice":
            account.pending -= entry.points
        else:
            raise Refused(409, "invalid_state")
        entry.status = "revoked"

    def _post(self, entry):
        account = self.accounts[entry.holder]
        account.post("entry", entry.points)
        account.pending -= entry.points
        entry.status = "posted"

    # --- notice ---

    def object_as_user(self, user, entry_id):
        entry = self.entries[entry_id]
        if not covers(user, self.unit(entry.holder)):
            raise Refused(403, "forbidden")
        self._object(entry)
        entry.objectors.add(user)

    def object_as_resident(self, resident, entry_id):
        entry = self.entries[entry_id]
        if VILLAGE[self.unit(resident)] != VILLAGE[self.unit(entry.holder)]:
            raise Refused(403, "forbidden")
        self._object(entry)
        entry.objecting_holders.add(resident)

    @staticmethod
    def _object(entry):
        if entry.status != "in_notice":
            raise Refused(409, "invalid_state")
        entry.status = "disputed"

    def settle(self, as_of):
        """`notice_ends_on` is the last day of notice: posted when settled on a later day."""
        due = [
            i
            for i, e in sorted(self.entries.items())
            if e.status == "in_notice" and e.notice_ends_on < as_of
        ]
        for entry_id in due:
            self._post(self.entries[entry_id])
        return due

    # --- the counter ---

    def redeem(self, user, holder, lines):
        """lines: [(goods, quantity)]; the total, or Refused in the contract's order."""
        if not (may(user, "clerk", SHOP_UNIT) and may(user, "clerk", self.unit(holder))):
            raise Refused(403, "forbidden")
        if self._linked(user, holder):
            raise Refused(403, "conflict_of_interest")
        account = self.accounts[holder]
        total = sum((self.prices[g] * q for g, q in lines), ZERO)
        if account.balance < THRESHOLD:
            raise Refused(409, "below_threshold")
        if account.balance < total:
            raise Refused(409, "insufficient_balance")
        wanted = dict(lines)
        for goods in self.goods_order:  # stock is taken goods by goods, in the order they were made
            if wanted.get(goods, 0) > self.stock[goods]:
                raise Refused(409, "out_of_stock")
        for goods, quantity in lines:
            self.stock[goods] -= quantity
        account.post("redemption", -total)
        return total

    def void(self, user, redemption_id):
        redemption = self.redemptions[redemption_id]
        if not may(user, "clerk", SHOP_UNIT):
            raise Refused(403, "forbidden")
        if self._linked(user, redemption["holder"]):
            raise Refused(403, "conflict_of_interest")
        if redemption["status"] != "completed":
            raise Refused(409, "invalid_state")
        redemption["status"] = "voided"
        for goods, quantity in redemption["lines"]:
            self.stock[goods] += quantity
        self.accounts[redemption["holder"]].post("void", redemption["total"])


def _dec(value):
    return Decimal(str(value))


# (action, weight): the first is what a run of zeros does, so even Hypothesis's simplest runs go
# somewhere.
ACTIONS = [
    ("approve", 4),
    ("settle", 2),
    ("object_as_staff", 4),
    ("revoke", 2),
    ("object_as_resident", 2),
    ("record", 3),
    ("record_batch", 1),
    ("approve_batch", 1),
    ("reject", 2),
    ("redeem", 3),
    ("retry_the_last_sale", 1),
    ("void", 2),
]
REACHED = ("posted", "disputed", "revoked", "rejected", "redeemed", "voided")


def test_every_action_is_judged_as_the_contract_says_and_the_books_stay_right(world):
    rules = world.rules()
    assert (rules.notice_days, rules.reviewers_required, Decimal(rules.redeem_threshold)) == (
        NOTICE_DAYS,
        QUORUM,
        THRESHOLD,
    )
    big, deduction = (
        world.item_of("fixed", capped=False),
        world.item_of("fixed", positive=False, capped=False),
    )
    capped = world.item_of("fixed", capped="year")
    ranged = next(
        i for i in rules.items if i.type == "range" and i.min > 0 and i.cap is None and not i.veto
    )
    assert capped.cap.count == 1 and ranged.min + Decimal("0.5") <= ranged.max
    items = {
        "big": (big.code, big.points, None),
        "deduction": (deduction.code, deduction.points, None),
        "capped": (capped.code, capped.points, capped.cap.count),
        "range": (ranged.code, ranged.min + Decimal("0.5"), None),
    }  # a value with a tenth
    goods = [("soap", 5, 3), ("oil", 12.5, 2)]
    add_user(world, "kin", "recorder", "v1")
    with world.app.app_context():
        from points.extensions import db
        from points.users.service import grant_cli

        grant_cli("kin", "reviewer", "v1")
        grant_cli("kin", "clerk", "v1")
        db.session.remove()
    runs = iter(range(10_000))
    reached = []  # per run, the states it reached

    class Books(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.run = next(runs)
            self.model = Contract(items, goods)
            self.shop = f"shop{self.run}"
            self.reached = set()
            self.last_sale = (
                None  # (user, key, body, answer) of the last redemption kept for replay
            )
            # Fresh households and a fresh shop for every run, so the model starts from zero as
            # they do.
            self.holders = [f"S{self.run}-{i}" for i in range(len(HOLDER_GRIDS))]
            admin = world.as_("admin")
            for code, grid in zip(self.holders, HOLDER_GRIDS):
                made = admin.post(
                    "/holders",
                    json={
                        "code": code,
                        "name": "测试户",
                        "kind": "household",
                        "unit": grid,
                        "pin": "1234",
                    },
                )
                assert made.status == 201, made
            assert admin.post("/users/kin/links", json={"holder": self.holders[0]}).status == 201
            assert (
                admin.post(
                    "/shops",
                    json={
                        "code": self.shop,
                        "name": "爱心超市",
                        "unit": SHOP_UNIT,
                        "schemes": ["longhua"],
                    },
                ).status
                == 201
            )
            for code, price, stock in goods:
                made = admin.post(
                    f"/shops/{self.shop}/goods",
                    json={"code": code, "name": code, "price": price, "stock": stock},
                )
                assert made.status == 201, made

        # --- drawing who acts on what, leaning to what the model allows ---

        def _actor(self, data, allowed):
            """Three draws in four pick someone the model lets try, the fourth someone it refuses
            for who they are (when there are both)."""
            fits = [u for u in USERS if allowed(u)]
            unfit = [u for u in USERS if u not in fits]
            if fits and (not unfit or data.draw(st.integers(0, 3), label="lean") < 3):
                return data.draw(st.sampled_from(fits), label="who")
            return data.draw(st.sampled_from(unfit), label="who")

        def _some(self, *statuses):
            return any(e.status in statuses for e in self.model.entries.values())

        def _entry(self, data, statuses):
            """An entry, most often one in a status where the action may be allowed (and of those,
            one already approved once, so quorums complete)."""
            ids = sorted(self.model.entries)
            wanted = [i for i in ids if self.model.entries[i].status in statuses]
            started = [i for i in wanted if self.model.entries[i].approvals]
            if started and not data.draw(st.booleans(), label="lean"):
                wanted = started
            others = sorted({self.model.entries[i].status for i in ids} - set(statuses))
            if wanted and (not others or data.draw(st.integers(0, 3), label="lean") < 3):
                return data.draw(st.sampled_from(wanted), label="entry")
            # Otherwise one in a status the action is refused from: the status first, then an entry
            # in it, so a rare status (disputed) is tried as often as a common one (pending).
            status = data.draw(st.sampled_from(others), label="status")
            return data.draw(
                st.sampled_from([i for i in ids if self.model.entries[i].status == status]),
                label="entry",
            )

        @staticmethod
        def _would(judge, strict=False):
            """Whether the model lets this user try: allowed, or (unless strict) refused for the
            state of things (409: below the threshold, already reviewed...), not for who they
            are."""

            def allowed(user):
                try:
                    judge(user)
                except Refused as refused:
                    return not strict and refused.status != 403
                return True

            return allowed

        def _trial(self, action, *args):
            """Judge on a copy, so a refused action leaves the model as it was."""
            trial = copy.deepcopy(self.model)
            try:
                result = getattr(trial, action)(*args)
            except Refused as refused:
                return refused, None
            self.model = trial
            return None, result

        def _expect(self, answer, refused, status):
            if refused is None:
                assert answer.status == status, answer
            else:
                assert (answer.status, answer.code) == (refused.status, refused.code), answer
            return refused is None

        def _seen(self, entry_id):
            status = self.model.entries[entry_id].status
            self.reached.add(status)
            event(f"reached {status}")

        # --- recording ---

        @initialize(data=st.data())
        def two_deeds_in_notice(self, data):
            """Every run starts with two deeds recorded and approved into notice, each step by
            someone the model lets act, so settling, objecting and revoking have work at once."""
            item = "big"  # enough, once posted, to pass the counter's threshold
            for holder in (0, 1):
                recorder = data.draw(
                    st.sampled_from(
                        [
                            u
                            for u in USERS
                            if self._would(
                                lambda u: self.model.check_record(u, [holder], item), strict=True
                            )(u)
                        ]
                    )
                )
                entry_id = self._record_as(recorder, holder, item)
                for _ in range(QUORUM):
                    today = local_today()
                    user = data.draw(
                        st.sampled_from(
                            [
                                u
                                for u in USERS
                                if self._would(
                                    lambda u: copy.deepcopy(self.model).approve(u, entry_id, today),
                                    strict=True,
                                )(u)
                            ]
                        )
                    )
                    self._approve_as(user, entry_id, today)

        def _record_as(self, user, holder, item):
            code, points, _ = items[item]
            body = {
                "scheme": "longhua",
                "holder": self.holders[holder],
                "item": code,
                "occurred_on": yesterday(),
            }
            if item == "range":
                body["points"] = float(points)
            refused, _ = self._trial("check_record", user, [holder], item)
            answer = world.as_(user).post("/entries", json=body)
            if self._expect(answer, refused, 201):
                assert (
                    answer.json["status"],
                    _dec(answer.json["points"]),
                    answer.json["recorded_by"],
                ) == ("pending", points, user)
                self.model.record(answer.json["id"], user, holder, item, points)
                return answer.json["id"]
            if refused.code == "conflict_of_interest":
                assert set(answer.json["error"]["details"]["holders"]) == {self.holders[holder]}

        # --- one rule, so that how often each action is tried is ours to weigh (Hypothesis has no
        # rule weights, and switches whole rules off in some runs) ---

        @rule(data=st.data())
        def act(self, data):
            possible = [
                name for name, weight in ACTIONS for _ in range(weight) if self._possible(name)
            ]
            getattr(self, data.draw(st.sampled_from(possible), label="action"))(data)

        def _possible(self, action):
            """Actions with something to act on (the draws inside still pick a wrong one at
            times)."""
            statuses = {
                "approve": ("pending", "disputed"),
                "reject": ("pending", "disputed"),
                "revoke": ("posted", "in_notice"),
                "object_as_staff": ("in_notice",),
                "object_as_resident": ("in_notice",),
                "settle": ("in_notice",),
                "redeem": ("posted",),
                "approve_batch": OPEN,
            }
            if action in ("record", "record_batch"):
                return sum(e.status in OPEN for e in self.model.entries.values()) < 4
            if action == "retry_the_last_sale":
                return self.last_sale is not None
            if action == "void":
                return bool(self.model.redemptions)
            return self._some(*statuses[action])

        def record(self, data):
            holder = data.draw(st.integers(0, len(HOLDER_GRIDS) - 1), label="holder")
            item = data.draw(st.sampled_from(sorted(items)), label="item")
            user = self._actor(
                data, self._would(lambda u: self.model.check_record(u, [holder], item))
            )
            self._record_as(user, holder, item)

        def record_batch(self, data):
            holders = data.draw(
                st.lists(
                    st.integers(0, len(HOLDER_GRIDS) - 1), min_size=1, max_size=3, unique=True
                ),
                label="holders",
            )
            item = data.draw(st.sampled_from(["big", "capped", "deduction"]), label="item")
            user = self._actor(
                data, self._would(lambda u: self.model.check_record(u, holders, item))
            )
            code, points, _ = items[item]
            refused, _ = self._trial("check_record", user, holders, item)
            answer = world.as_(user).post(
                "/entries/batch",
                json={
                    "scheme": "longhua",
                    "item": code,
                    "holders": [self.holders[h] for h in holders],
                    "occurred_on": yesterday(),
                },
            )
            if self._expect(answer, refused, 201):
                made = answer.json["items"]
                assert [e["holder"] for e in made] == [self.holders[h] for h in holders]
                for holder, entry in zip(holders, made):
                    self.model.record(entry["id"], user, holder, item, points)
            else:  # all or nothing, the failing holders named
                assert set(answer.json["error"]["details"]["holders"]) == {
                    self.holders[h] for h in refused.holders
                }

        # --- review ---

        def _check_entry(self, answer, entry_id):
            entry = self.model.entries[entry_id]
            assert answer.json["status"] == entry.status, answer
            if entry.status == "in_notice":
                assert answer.json["notice_ends_on"] == entry.notice_ends_on.isoformat()
            self._seen(entry_id)

        def approve(self, data):
            entry_id = self._entry(data, ("pending", "disputed"))
            today = local_today()
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).approve(u, entry_id, today))
            )
            self._approve_as(user, entry_id, today)

        def _approve_as(self, user, entry_id, today):
            refused, _ = self._trial("approve", user, entry_id, today)
            answer = world.as_(user).post(f"/entries/{entry_id}/approve", json={})
            if self._expect(answer, refused, 200):
                self._check_entry(answer, entry_id)

        def approve_batch(self, data):
            ids = sorted(
                data.draw(
                    st.sets(st.sampled_from(sorted(self.model.entries)), min_size=1, max_size=3),
                    label="ids",
                )
            )
            ids = data.draw(st.permutations(ids), label="order")
            today = local_today()
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).approve_batch(u, ids, today))
            )
            refused, _ = self._trial("approve_batch", user, ids, today)
            answer = world.as_(user).post("/entries/batch/approve", json={"ids": ids})
            if self._expect(answer, refused, 200):
                assert [e["id"] for e in answer.json["items"]] == ids
                for entry_id, entry in zip(ids, answer.json["items"]):
                    assert entry["status"] == self.model.entries[entry_id].status
                    self._seen(entry_id)
            elif refused.holders is not None:  # the first entry refused is named
                assert set(answer.json["error"]["details"]["ids"]) == {
                    str(i) for i in refused.holders
                }

        def reject(self, data):
            reason = data.draw(st.sampled_from(["核实不符", "核实不符", ""]), label="reason")
            entry_id = self._entry(data, ("pending", "disputed"))
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).reject(u, entry_id))
            )
            if reason:
                refused, _ = self._trial("reject", user, entry_id)
            else:
                refused = Refused(422, "validation_error")  # an empty reason, whoever asks
            answer = world.as_(user).post(f"/entries/{entry_id}/reject", json={"reason": reason})
            if self._expect(answer, refused, 200):
                self._check_entry(answer, entry_id)

        def revoke(self, data):
            entry_id = self._entry(data, ("posted", "in_notice"))
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).revoke(u, entry_id))
            )
            refused, _ = self._trial("revoke", user, entry_id)
            answer = world.as_(user).post(f"/entries/{entry_id}/revoke", json={"reason": "撤销"})
            if self._expect(answer, refused, 200):
                self._check_entry(answer, entry_id)

        # --- notice ---

        def object_as_staff(self, data):
            entry_id = self._entry(data, ("in_notice",))
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).object_as_user(u, entry_id))
            )
            refused, _ = self._trial("object_as_user", user, entry_id)
            answer = world.as_(user).post(
                f"/entries/{entry_id}/objections", json={"text": "有异议"}
            )
            if self._expect(answer, refused, 201):
                self._seen(entry_id)

        def object_as_resident(self, data):
            resident = data.draw(st.integers(0, len(HOLDER_GRIDS) - 1), label="resident")
            entry_id = self._entry(data, ("in_notice",))
            refused, _ = self._trial("object_as_resident", resident, entry_id)
            answer = world.anonymous.post(
                f"/public/entries/{entry_id}/objections",
                json={"holder": self.holders[resident], "pin": "1234", "text": "不属实"},
            )
            if self._expect(answer, refused, 201):
                assert answer.json["status"] == "disputed"
                self._seen(entry_id)

        def settle(self, data):
            """The clock moved: settle as of some days after today (the notice's last day, the day
            after...)."""
            days = data.draw(
                st.sampled_from([NOTICE_DAYS + 1, NOTICE_DAYS, NOTICE_DAYS + 1, 0, 9]), label="days"
            )
            as_of = local_today() + timedelta(days=days)
            due = self.model.settle(as_of)
            world.settle(as_of)
            for entry_id in due:
                self._seen(entry_id)
            self._statuses_match()

        # --- the counter ---

        def _lines(self, data):
            wanted = data.draw(
                st.lists(
                    st.sampled_from(sorted(self.model.stock)), min_size=1, max_size=2, unique=True
                ),
                label="goods",
            )
            return [(g, data.draw(st.sampled_from([1, 1, 2, 3]), label="quantity")) for g in wanted]

        def redeem(self, data):
            rich = [h for h, a in enumerate(self.model.accounts) if a.balance >= THRESHOLD]
            if rich and data.draw(st.integers(0, 3), label="lean") < 3:
                holder = data.draw(st.sampled_from(rich), label="holder")
            else:
                holder = data.draw(st.integers(0, len(HOLDER_GRIDS) - 1), label="holder")
            lines = self._lines(data)
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).redeem(u, holder, lines))
            )
            self._sell(user, holder, lines, uuid.uuid4().hex)

        def _sell(self, user, holder, lines, key):
            body = {
                "shop": self.shop,
                "scheme": "longhua",
                "holder": self.holders[holder],
                "lines": [{"goods": g, "quantity": q} for g, q in lines],
            }
            balance = self.model.accounts[holder].balance
            refused, total = self._trial("redeem", user, holder, lines)
            answer = world.as_(user).post(
                "/redemptions", json=body, headers={"Idempotency-Key": key}
            )
            if self._expect(answer, refused, 201):
                assert (
                    _dec(answer.json["total"]),
                    _dec(answer.json["balance_after"]),
                    answer.json["status"],
                ) == (total, balance - total, "completed")
                self.model.redemptions[answer.json["id"]] = {
                    "holder": holder,
                    "lines": lines,
                    "total": total,
                    "status": "completed",
                }
                self.reached.add("redeemed")
                event("reached redeemed")
            elif refused.code == "insufficient_balance":
                assert answer.json["error"]["details"] == {
                    "balance": float(balance),
                    "total": float(sum((self.model.prices[g] * q for g, q in lines), ZERO)),
                }
            if answer.status in (201, 409):  # kept for a retry with the same key
                self.last_sale = (user, key, body, answer)

        def retry_the_last_sale(self, data):
            """The same key with the same body answers the first answer and charges nothing again;
            with another body it is idempotency_key_reused."""
            same = not data.draw(st.booleans(), label="another body")
            user, key, body, first = self.last_sale
            if not same:
                body = {
                    **body,
                    "lines": [{**body["lines"][0], "quantity": body["lines"][0]["quantity"] + 1}],
                }
            answer = world.as_(user).post(
                "/redemptions", json=body, headers={"Idempotency-Key": key}
            )
            if same:
                assert (answer.status, answer.json) == (first.status, first.json)
            else:
                assert (answer.status, answer.code) == (422, "idempotency_key_reused")

        def void(self, data):
            ids = sorted(self.model.redemptions)
            redemption_id = data.draw(st.sampled_from(ids), label="redemption")
            user = self._actor(
                data, self._would(lambda u: copy.deepcopy(self.model).void(u, redemption_id))
            )
            refused, _ = self._trial("void", user, redemption_id)
            answer = world.as_(user).post(
                f"/redemptions/{redemption_id}/void", json={"reason": "退货"}
            )
            if self._expect(answer, refused, 200):
                assert answer.json["status"] == "voided"
                self.reached.add("voided")
                event("reached voided")

        # --- what must always hold ---

        @invariant()
        def accounts_match_the_model(self):
            """After every step, every account of the run as the model has it (read in the service
            layer, cheaply; the API's answer is compared at the end of the run)."""
            from points.extensions import db
            from points.ledger.service import read_account

            with world.app.app_context():
                seen = [
                    read_account("longhua", code, local_today().year).view for code in self.holders
                ]
                db.session.remove()
            assert [self._figures(view) for view in seen] == [
                self._expected(a) for a in self.model.accounts
            ]

        @staticmethod
        def _figures(view):
            return {
                k: _dec(view[k]) for k in ("balance", "pending", "earned", "deducted", "redeemed")
            }

        @staticmethod
        def _expected(account):
            return {
                "balance": account.balance,
                "pending": account.pending,
                "earned": account.earned,
                "deducted": account.deducted,
                "redeemed": account.redeemed,
            }

        def _statuses_match(self):
            for index, code in enumerate(self.holders):
                listed = (
                    world.as_("admin").get(f"/entries?holder={code}&per_page=500").json["items"]
                )
                mine = {i: e.status for i, e in self.model.entries.items() if e.holder == index}
                assert {e["id"]: e["status"] for e in listed} == mine

        def teardown(self):
            from points.entries.models import Approval, Entry as EntryRow
            from points.extensions import db
            from points.verify import verify

            reached.append(self.reached)
            self._statuses_match()
            for code, account in zip(self.holders, self.model.accounts):
                assert self._figures(world.balance(code)) == self._expected(account), code
                postings = (
                    world.as_("admin")
                    .get(f"/accounts/longhua/{code}/postings?per_page=500")
                    .json["items"]
                )
                assert [
                    (p["kind"], _dec(p["points"]), _dec(p["balance_after"]))
                    for p in reversed(postings)
                ] == (account.postings)
            goods_seen = {
                g["code"]: g["stock"]
                for g in world.as_("admin").get(f"/shops/{self.shop}/goods").json["items"]
            }
            assert goods_seen == self.model.stock
            with world.app.app_context():
                assert verify()[1] == []
                own = db.session.execute(
                    select(Approval.id)
                    .join(EntryRow, EntryRow.id == Approval.entry_id)
                    .where(Approval.user_id == EntryRow.recorded_by_id)
                ).first()
                db.session.remove()
            assert own is None

    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=PROFILE["max_examples"],
            stateful_step_count=PROFILE["stateful_step_count"],
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture,
                HealthCheck.filter_too_much,
            ],
        ),
    )
    share = {state: sum(state in r for r in reached) / len(reached) for state in REACHED}
    print(f"\n{len(reached)} runs; share reaching each state: {share}")
    # The machine is only worth its time if it gets somewhere (measured: most runs reach all three).
    assert all(share[state] > 0 for state in ("posted", "disputed", "revoked")), share
