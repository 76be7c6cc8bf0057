"""统计: the running entry counts are kept by the entries (points/entries/stats.py)."""

from points.entries.stats import count, count_many

__all__ = ["count", "count_many"]
