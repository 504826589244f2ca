"""Promotion windows: parsing, inside or not, when the next one opens (across DST)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jx_mlops.config.node import ConfigNode
from jx_mlops.config.windows import next_open, read_windows
from jx_mlops.environments.records import Freeze
from jx_mlops.errors import ConfigError
from jx_mlops.promote.freezes import in_force, parse_until


def windows(*items: dict[str, str]):
    return read_windows(ConfigNode(list(items), "environments[0].windows", "mlops.yaml"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


MADRID = windows({"allow": "Mon-Thu 09:00-16:00", "timezone": "Europe/Madrid"})


@pytest.mark.parametrize(("at", "opens"), [
    ("2026-12-07T08:30", "2026-12-07T08:30"),  # Mon 09:30 CET: inside
    ("2026-12-07T15:30", "2026-12-08T08:00"),  # Mon 16:30 CET: Tue 09:00
    ("2026-12-11T10:00", "2026-12-14T08:00"),  # Fri: next Monday
    ("2026-06-01T07:30", "2026-06-01T07:30"),  # Mon 09:30 CEST: inside
    ("2026-03-26T17:00", "2026-03-30T07:00"),  # Thu evening; DST began on Sunday
])
def test_next_open_follows_the_zone(at: str, opens: str) -> None:
    assert next_open(MADRID, utc(at)) == utc(opens)


def test_days_wrap_and_lists() -> None:
    [weekend] = windows({"allow": "Fri-Mon 00:00-23:59"})
    assert weekend.days == frozenset({4, 5, 6, 0})
    [some] = windows({"allow": "Mon,Wed 10:00-11:00"})
    assert some.days == frozenset({0, 2}) and some.zone == "UTC"
    assert next_open((), utc("2026-12-07T08:30")) == utc("2026-12-07T08:30")


@pytest.mark.parametrize(("item", "message"), [
    ({"allow": "Mon-Thu 9-16"},
     "environments[0].windows[0].allow: expected days and hours such as 'Mon-Thu 09:00-16:00'"),
    ({"allow": "Mon-Thu 16:00-09:00"},
     "environments[0].windows[0].allow: expected a window that ends after it starts"),
    ({"allow": "Mon-Thu 09:00-16:00", "timezone": "Europe/Nowhere"},
     "environments[0].windows[0].timezone: expected an IANA time zone such as Europe/Madrid"),
    ({"allow": "Mon-Thu 09:00-16:00", "zone": "UTC"},
     "environments[0].windows[0].zone: unknown key"),
])
def test_bad_windows_are_one_line_errors(item: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        windows(item)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_until_accepts_offsets_and_durations_and_a_freeze_expires() -> None:
    now = utc("2026-12-07T10:00").timestamp()
    assert parse_until("2h", now) == "2026-12-07T12:00:00Z"
    assert parse_until("2026-12-24T09:00+01:00", now) == "2026-12-24T08:00:00Z"
    with pytest.raises(ConfigError, match="--until: expected a time with its offset"):
        parse_until("2026-12-24 09:00", now)
    with pytest.raises(ConfigError, match="is in the past"):
        parse_until("2026-12-01T00:00Z", now)
    freeze = Freeze("production", "year end", "ana", "2026-12-07T10:00:00Z",
                    "2026-12-07T12:00:00Z")
    assert in_force(freeze, now) == freeze
    assert in_force(freeze, utc("2026-12-07T12:00").timestamp()) is None
