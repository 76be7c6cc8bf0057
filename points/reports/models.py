"""The reports read models kept by the capabilities below them: a scheme's closed years
(points/schemes/models.py) and the entries' running statistics (points/entries/models.py)."""

from points.entries.models import EntryStat
from points.schemes.models import Period

__all__ = ["EntryStat", "Period"]
