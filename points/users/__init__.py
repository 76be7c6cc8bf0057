"""Users, grants, API tokens, lockouts and scope checks."""
