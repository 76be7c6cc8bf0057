"""The points ledger: accounts and append-only postings, the only code that moves points."""
