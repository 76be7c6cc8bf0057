"""What residents and notice boards reach without a token: balance by PIN, notices, objections."""
