"""`ledger verify`, composed from each capability's own checks: the ledger knows no caller, so
the entries and the shop each check the figures they keep."""

from points.entries import checks as entries
from points.funds.service import fund_count, verify_funds
from points.ledger import checks as ledger
from points.shop.service import goods_count, verify_stock


def verify(progress=None):
    """(what was checked, [lines naming each account, posting, goods, statistics row or
    fund that disagrees]). `progress(n)` is told each time n more postings have been hashed."""
    lines = ledger.account_lines(ledger.verify_accounts() + entries.verify_accounts())
    lines += ledger.verify_chains(progress)
    lines += [
        f"goods {g.id} ({g.code}, shop {g.shop_id}): {what} is {have}, stock movements say {want}"
        for g, what, have, want in verify_stock()
    ]
    lines += entries.verify_entry_stats()
    lines += verify_funds()
    return (
        f"{ledger.account_count()} accounts, {ledger.posting_count()} postings, "
        f"{goods_count()} goods, {fund_count()} funds"
    ), lines
