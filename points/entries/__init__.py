"""Entries (积分记录): record, four-eyes review, public notice, objections, revoke."""
