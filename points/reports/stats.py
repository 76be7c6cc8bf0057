"""统计: the running entry counts are kept by the entries (points/entries/stats.py)."""
from points.entries.stats import count

__all__ = ["count"]
