"""防篡改: each account's postings form a hash chain, so a row edited, inserted or deleted
behind the service's back is found by `ledger verify`.

A posting's `hash` is SHA-256 over the account's previous posting's hash (GENESIS for the
first) and the posting's own fields as canonical text: a JSON array of the account id, kind,
points and balance after in whole tenths, ref, user id (null for none) and the time in UTC
ISO with microseconds. The posting's own id is left out, so a restore that renumbers rows
still verifies. Plain Python, no database: `ledger.post`, `ledger verify` and the migration
that chains the rows already there all hash the same text.
"""

import hashlib
import json
from datetime import timezone

GENESIS = "0" * 64


def canonical_at(moment):
    """UTC ISO with microseconds; SQLite hands back naive datetimes, which are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def posting_hash(previous, account_id, kind, points_tenths, balance_tenths, ref, user_id, at):
    """The hash of one posting given its account's previous hash (points as whole tenths)."""
    text = json.dumps(
        [previous, account_id, kind, points_tenths, balance_tenths, ref, user_id, canonical_at(at)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tenths(points):
    """Decimal points → whole tenths, as the Points column stores them."""
    return int(points * 10)
