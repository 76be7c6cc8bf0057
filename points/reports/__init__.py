"""Rankings (积分排名), exports, statistics and the year-end close (年度结算)."""
