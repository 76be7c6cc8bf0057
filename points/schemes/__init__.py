"""Schemes (积分方案) as stored: every version of every rules/*.yaml that was synced."""
