"""The ``windows:`` of an environment in mlops.yaml: when it accepts promotions.

```yaml
windows:                        # any one open window lets a promotion through
  - allow: "Mon-Thu 09:00-16:00"  # days (a range, wrapping allowed, or a comma list)
    timezone: Europe/Madrid       # an IANA zone (default UTC), read offline by zoneinfo
```

Times are wall-clock times in the zone, so a window follows daylight saving time; the
arithmetic is done in UTC. Outside every window a promotion, a canary step or `ci release`
waits (its ``window`` gate is pending and says when the next window opens); emergency
rollbacks and verify's automatic rollbacks pass. No ``windows:``: always open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jx_mlops.config.node import ConfigNode

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALLOW = re.compile(r"^\s*([A-Za-z,-]+)\s+(\d\d:\d\d)-(\d\d:\d\d)\s*$")
_EXAMPLE = "days and hours such as 'Mon-Thu 09:00-16:00'"


@dataclass(frozen=True)
class Window:
    """Days of the week (0 = Monday) and a wall-clock span [start, end) in ``zone``."""

    text: str
    days: frozenset[int]
    start: time
    end: time
    zone: str

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self._zone())
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, at: datetime) -> datetime:
        """When it next opens at or after ``at`` (``at`` when open), in UTC."""
        if self.contains(at):
            return at.astimezone(timezone.utc)
        zone = self._zone()
        local = at.astimezone(zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opens = datetime.combine(day, self.start, tzinfo=zone)
            if day.weekday() in self.days and opens >= at:
                return opens.astimezone(timezone.utc)
        raise AssertionError("a window with a day opens within a week")

    def describe(self) -> str:
        return f"{self.text} {self.zone}"


def _days(text: str) -> frozenset[int] | None:
    found: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            return None
        i, j = DAYS.index(first), DAYS.index(last or first)
        found.update(k % 7 for k in range(i, i + (j - i) % 7 + 1))
    return frozenset(found)


def _window(node: ConfigNode) -> Window:
    node.mapping(("allow", "timezone"), required=("allow",))
    allow = node.child("allow")
    text = allow.string(what=_EXAMPLE, limit=100)
    match = _ALLOW.match(text)
    days = _days(match[1]) if match else None
    try:
        start, end = (time.fromisoformat(match[k]) for k in (2, 3)) if match else (None, None)
    except ValueError:
        start = end = None
    if days is None or start is None or end is None:
        raise allow.fail(_EXAMPLE)
    if end <= start:
        raise allow.fail("a window that ends after it starts, such as 'Mon-Thu 09:00-16:00'")
    zone_node = node.child("timezone")
    zone = zone_node.optional(lambda n: n.string(what="an IANA time zone such as "
                                                   "Europe/Madrid", limit=64), "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise zone_node.fail("an IANA time zone such as Europe/Madrid (none of that name is "
                             "installed)") from None
    return Window(" ".join(text.split()), days, start, end, zone)


def read_windows(node: ConfigNode) -> tuple[Window, ...]:
    """The validated ``windows:`` of an environment (empty: always open)."""
    if node.value is None:
        return ()
    return tuple(_window(item) for item in node.sequence("a non-empty list of windows",
                                                         non_empty=True))


def next_open(windows: tuple[Window, ...], at: datetime) -> datetime:
    """``at`` when a window is open (or there is none), else when the first one opens."""
    if not windows:
        return at
    return min(w.next_open(at) for w in windows)
