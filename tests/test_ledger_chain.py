"""Tamper evidence: every posting is chained to its account's previous one by SHA-256, and
`ledger verify` names the first posting whose hash does not hold."""

import hashlib
import json
from datetime import timezone

import pytest
from sqlalchemy import select, text

from points.extensions import db
from shop_helpers import give_points, open_shop, redeem


@pytest.fixture
def books(world):
    """H1 earns points, spends twice at the counter, and H2 earns some too."""
    open_shop(world, goods=[("soap", "肥皂", 5, 10)])
    give_points(world, ["H1", "H2"], 30)
    for _ in range(2):
        assert redeem(world, [("soap", 1)]).status == 201
    return world


def postings(world, holder="H1"):
    from points.ledger.models import Account, Posting
    from points.org.models import Holder

    with world.app.app_context():
        rows = (
            db.session.execute(
                select(Posting)
                .join(Account, Account.id == Posting.account_id)
                .join(Holder, Holder.id == Account.holder_id)
                .where(Holder.code == holder)
                .order_by(Posting.id)
            )
            .scalars()
            .all()
        )
        db.session.expunge_all()
    return rows


def tamper(world, sql, **params):
    with world.app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def ledger_verify(world):
    return world.app.test_cli_runner().invoke(args=["ledger", "verify"])


def test_each_posting_carries_the_sha256_of_the_previous_hash_and_its_own_fields(books):
    first, second = postings(books)[:2]
    for posting, previous in ((first, "0" * 64), (second, first.hash)):
        at = posting.at.replace(tzinfo=posting.at.tzinfo or timezone.utc).astimezone(timezone.utc)
        fields = [
            previous,
            posting.account_id,
            posting.kind,
            int(posting.points * 10),
            int(posting.balance_after * 10),
            posting.ref,
            posting.user_id,
            at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ]
        canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        assert posting.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_a_clean_ledger_verifies(books):
    clean = ledger_verify(books)
    assert clean.exit_code == 0, clean.output
    count = len(postings(books)) + len(postings(books, "H2"))
    assert "all agree" in clean.output and f"{count} postings" in clean.output


@pytest.mark.parametrize(
    "change",
    [
        "ref = 'entry:999'",
        "user_id = (SELECT min(id) FROM users WHERE id <> coalesce(postings.user_id, 0))",
    ],
)
def test_a_posting_edited_behind_the_services_back_is_named(books, change):
    """ref and user_id are held by no running figure: only the chain can tell."""
    edited = postings(books)[1]
    tamper(books, f"UPDATE postings SET {change} WHERE id = :id", id=edited.id)
    broken = ledger_verify(books)
    assert broken.exit_code == 1
    named = [line for line in broken.output.splitlines() if line.startswith("posting ")]
    assert len(named) == 1 and named[0].startswith(f"posting {edited.id} ("), broken.output


def test_an_edit_that_keeps_every_figure_right_is_still_named(books):
    """A point moved from one posting to the next: the balance and last balance_after stay right."""
    a, b = postings(books)[:2]
    tamper(
        books,
        "UPDATE postings SET points = points + 10, balance_after = balance_after + 10 "
        "WHERE id = :id",
        id=a.id,
    )
    tamper(books, "UPDATE postings SET points = points - 10 WHERE id = :id", id=b.id)
    broken = ledger_verify(books)
    assert broken.exit_code == 1 and f"posting {a.id} (" in broken.output


def test_a_deleted_middle_posting_is_found_at_the_one_after_it(books):
    rows = postings(books)
    middle, after = rows[len(rows) // 2], rows[len(rows) // 2 + 1]
    tamper(books, "DELETE FROM postings WHERE id = :id", id=middle.id)
    broken = ledger_verify(books)
    assert broken.exit_code == 1 and f"posting {after.id} (" in broken.output


def test_a_deleted_last_posting_is_found_by_the_accounts_last_hash(books):
    last = postings(books)[-1]
    tamper(books, "DELETE FROM postings WHERE id = :id", id=last.id)
    broken = ledger_verify(books)
    assert broken.exit_code == 1 and f"account {last.account_id} " in broken.output
    assert "last_hash" in broken.output


def test_an_inserted_posting_is_found(books):
    last = postings(books)[-1]
    tamper(
        books,
        "INSERT INTO postings (account_id, kind, points, balance_after, at, ref, user_id,"
        " hash) SELECT account_id, 'entry', 0, balance_after, at, 'entry:1', NULL, hash "
        "FROM postings WHERE id = :id",
        id=last.id,
    )
    broken = ledger_verify(books)
    inserted = postings(books)[-1]
    assert broken.exit_code == 1 and f"posting {inserted.id} (" in broken.output


def test_a_tampered_account_elsewhere_leaves_other_chains_unnamed(books):
    h2 = postings(books, "H2")[0]
    tamper(books, "UPDATE postings SET ref = 'x' WHERE id = :id", id=h2.id)
    output = ledger_verify(books).output
    named = [line for line in output.splitlines() if line.startswith("posting ")]
    assert len(named) == 1 and named[0].startswith(f"posting {h2.id} (")


def test_verify_counts_every_posting_it_hashes(books):
    from points.verify import verify

    seen = []
    with books.app.app_context():
        verify(progress=seen.append)
    assert sum(seen) == len(postings(books)) + len(postings(books, "H2"))
