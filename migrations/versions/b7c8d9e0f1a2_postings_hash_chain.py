"""ledger: a hash chain over each account's postings (postings.hash, accounts.last_hash)

Revision ID: b7c8d9e0f1a2
Revises: e8a3c1f5b9d2
Create Date: 2026-12-02 09:30:00.000000

The postings already there are chained here, account by account in id order, in batches
read by key (account_id, id) so a county's millions of rows never sit in memory at once.
The hash is copied from points/ledger/chain.py as it was when this migration was written:
a migration must compute the same thing however the code changes later.
"""
import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c8d9e0f1a2'
down_revision = 'e8a3c1f5b9d2'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 5000


def _hash(previous, account_id, kind, points, balance_after, ref, user_id, at):
    if at.tzinfo is None:  # SQLite hands back naive datetimes, which are UTC
        at = at.replace(tzinfo=timezone.utc)
    moment = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps([previous, account_id, kind, points, balance_after, ref, user_id, moment],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_postings = sa.table(
    "postings", sa.column("id", sa.Integer), sa.column("account_id", sa.Integer),
    sa.column("kind", sa.String), sa.column("points", sa.BigInteger),
    sa.column("balance_after", sa.BigInteger), sa.column("at", sa.DateTime(timezone=True)),
    sa.column("ref", sa.String), sa.column("user_id", sa.Integer), sa.column("hash", sa.String))
_accounts = sa.table("accounts", sa.column("id", sa.Integer), sa.column("last_hash", sa.String))


def _chain_existing_postings(connection):
    p = _postings
    columns = (p.c.id, p.c.account_id, p.c.kind, p.c.points, p.c.balance_after, p.c.ref,
               p.c.user_id, p.c.at)
    set_hash = (sa.update(p).where(p.c.id == sa.bindparam("posting_id"))
                .values(hash=sa.bindparam("new_hash")))
    set_head = (sa.update(_accounts).where(_accounts.c.id == sa.bindparam("acct"))
                .values(last_hash=sa.bindparam("head")))
    after_account, after_id, previous = -1, -1, GENESIS
    while True:
        rows = connection.execute(
            sa.select(*columns)
            .where(sa.or_(p.c.account_id > after_account,
                          sa.and_(p.c.account_id == after_account, p.c.id > after_id)))
            .order_by(p.c.account_id, p.c.id).limit(BATCH)).all()
        if not rows:
            break
        hashes, heads = [], {}
        for posting_id, account_id, kind, points, balance_after, ref, user_id, at in rows:
            if account_id != after_account:
                previous = GENESIS
            previous = _hash(previous, account_id, kind, points, balance_after, ref, user_id, at)
            hashes.append({"posting_id": posting_id, "new_hash": previous})
            heads[account_id] = previous
            after_account, after_id = account_id, posting_id
        connection.execute(set_hash, hashes)
        connection.execute(set_head, [{"acct": a, "head": h} for a, h in heads.items()])


def upgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_hash', sa.String(length=64), nullable=False,
                                      server_default=GENESIS))
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    _chain_existing_postings(op.get_bind())

    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_column('hash')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('last_hash')
