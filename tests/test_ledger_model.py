"""Any sequence of record / approve / reject / object / revoke / settle keeps the books right.

A Hypothesis state machine drives the API and keeps its own simple model: a holder's balance
is the points of its entries that are posted, its pending points those still open.
"""
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from conftest import local_today

REVIEWERS = ("rev1", "rev2", "rev3")
OPEN = ("pending", "in_notice", "disputed")


def test_the_books_stay_right_under_any_sequence_of_actions(world):
    items = [world.item_of("fixed", capped=False).code, world.item_of("fixed", positive=False, capped=False).code]
    runs = iter(range(1000))

    class Books(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.entries = {}  # id → {"holder", "points", "status"}
            self.day = 0
            # Fresh households for every run, so the model starts from zero as they do.
            run = next(runs)
            self.holders = [f"S{run}-{i}" for i in range(3)]
            for code in self.holders:
                made = world.as_("admin").post("/holders", json={"code": code, "name": "测试户", "kind": "household",
                                                                 "unit": "g1"})
                assert made.status == 201, made

        def _pick(self, data):
            ids = sorted(self.entries)
            return ids[data.draw(st.integers(min_value=0, max_value=len(ids) - 1))]

        def _update(self, answer):
            if answer.status in (200, 201) and "status" in answer.json:
                self.entries[answer.json["id"]]["status"] = answer.json["status"]

        @rule(holder=st.integers(min_value=0, max_value=2), item=st.sampled_from(items),
              by=st.sampled_from(("rec", "rev1")))
        def record(self, holder, item, by):
            holder = self.holders[holder]
            entry = world.record(holder=holder, item=item, by=by)
            self.entries[entry["id"]] = {"holder": holder, "points": Decimal(str(entry["points"])),
                                         "status": "pending"}

        @precondition(lambda self: self.entries)
        @rule(data=st.data(), reviewer=st.sampled_from(REVIEWERS))
        def approve(self, data, reviewer):
            entry_id = self._pick(data)
            answer = world.as_(reviewer).post(f"/entries/{entry_id}/approve", json={})
            assert answer.status in (200, 403, 409), answer
            self._update(answer)

        @precondition(lambda self: self.entries)
        @rule(data=st.data(), reviewer=st.sampled_from(REVIEWERS))
        def reject(self, data, reviewer):
            entry_id = self._pick(data)
            answer = world.as_(reviewer).post(f"/entries/{entry_id}/reject", json={"reason": "核实不符"})
            assert answer.status in (200, 403, 409), answer
            self._update(answer)

        @precondition(lambda self: self.entries)
        @rule(data=st.data(), reviewer=st.sampled_from(REVIEWERS))
        def revoke(self, data, reviewer):
            entry_id = self._pick(data)
            answer = world.as_(reviewer).post(f"/entries/{entry_id}/revoke", json={"reason": "撤销"})
            assert answer.status in (200, 403, 409), answer
            self._update(answer)

        @precondition(lambda self: self.entries)
        @rule(data=st.data())
        def object(self, data):
            entry_id = self._pick(data)
            answer = world.as_("admin").post(f"/entries/{entry_id}/objections", json={"text": "有异议"})
            assert answer.status in (201, 409), answer
            self._update(answer)

        @rule(days=st.integers(min_value=1, max_value=5))
        def settle(self, days):
            self.day += days
            world.settle(local_today() + timedelta(days=self.day))
            for entry_id, entry in self.entries.items():
                if entry["status"] == "in_notice":
                    self._update(world.as_("admin").get(f"/entries/{entry_id}"))

        @invariant()
        def balances_match_the_model(self):
            for holder in self.holders:
                account = world.balance(holder)
                mine = [e for e in self.entries.values() if e["holder"] == holder]
                assert Decimal(str(account["balance"])) == sum(
                    (e["points"] for e in mine if e["status"] == "posted"), Decimal(0))
                assert Decimal(str(account["pending"])) == sum(
                    (e["points"] for e in mine if e["status"] in OPEN), Decimal(0))

        @invariant()
        def the_ledger_verifies_and_nobody_approved_their_own_entry(self):
            from points.entries.models import Approval, Entry
            from points.extensions import db
            from points.verify import verify

            with world.app.app_context():
                assert verify()[1] == []
                own = db.session.execute(select(Approval.id).join(Entry, Entry.id == Approval.entry_id)
                                         .where(Approval.user_id == Entry.recorded_by_id)).first()
                db.session.remove()
            assert own is None

    run_state_machine_as_test(Books, settings=settings(
        max_examples=8, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
