"""告知: telling a household what touches it (an outbox of notices and the slip, 积分告知单);
not the public notice board (公示栏), which lives in entries and public."""
