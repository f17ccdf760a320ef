"""Maintenance windows (`spec.lifecycle.maintenanceWindow`): when a disruptive change may start.

A window opens on each of its days at `start`, wall-clock time in its time zone, and stays open for `duration` of
real time (so a window that spans a daylight-saving change is still `duration` long). A window may run past
midnight: Saturday 23:00 for PT4H is open until Sunday 03:00. Pure functions of a given instant: the caller says
what time it is (reconciler.clock).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from reconciler.durations import is_duration, to_seconds
from reconciler.escape import quoted

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # as datetime.weekday() numbers them
MAX_DURATION = timedelta(days=7)
DEFAULT_TIME_ZONE = "UTC"


# The machine's own zone under a file name of the zone folder: a window in it would open at another hour on a
# laptop than on the CI runner.
_MACHINE_ZONES = frozenset({"localtime", "posixrules"})


@cache
def _known_zones() -> frozenset[str]:
    # A name is looked up in the list, never opened as a path: "Europe" is a folder, a long name is past the file
    # system's limit, "zone.tab" is no zone file.
    return frozenset(available_timezones()) - _MACHINE_ZONES


def time_zone_problem(name: str) -> str | None:
    """Why `name` is no time zone this machine knows (IANA names: Europe/Paris, UTC), or None."""
    if name not in _known_zones():
        return f"unknown time zone {quoted(name, 80)}: an IANA name such as Europe/Paris or UTC"
    return None


def window_problem(window: "MaintenanceWindow") -> str | None:
    """Why a window read back from a saved plan is not one a file could write, or None."""
    if not window.days or any(day not in DAYS for day in window.days):
        return f"days must be some of {', '.join(DAYS)}"
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", window.start):
        return f"start {quoted(window.start)} is no HH:MM"
    if not is_duration(window.duration) or not 60 <= to_seconds(window.duration) <= MAX_DURATION.total_seconds():
        return f"duration {quoted(window.duration)} is not from PT1M to P7D"
    return time_zone_problem(window.time_zone)


@dataclass(frozen=True)
class MaintenanceWindow:
    days: tuple[str, ...]  # of DAYS
    start: str  # "HH:MM", wall-clock time in time_zone
    duration: str  # ISO 8601 (PT4H)
    time_zone: str = DEFAULT_TIME_ZONE

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _length(self) -> timedelta:
        return timedelta(seconds=float(to_seconds(self.duration)))

    def _openings_around(self, at: datetime) -> list[tuple[datetime, datetime]]:
        """Each opening (start, end) that starts from eight days before `at` to eight days after, in order."""
        local_day = at.astimezone(self._zone).date()
        hour, minute = (int(part) for part in self.start.split(":"))
        openings = []
        for offset in range(-8, 9):
            day: date = local_day + timedelta(days=offset)
            if DAYS[day.weekday()] in self.days:
                begins = datetime.combine(day, time(hour, minute), self._zone).astimezone(UTC)
                openings.append((begins, begins + self._length))
        return openings

    def opening_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The opening `at` falls in (start, end), or None when the window is closed at `at`."""
        return next(((start, end) for start, end in self._openings_around(at) if start <= at < end), None)

    def is_open(self, at: datetime) -> bool:
        return self.opening_at(at) is not None

    def next_opening(self, at: datetime) -> datetime:
        """When the window next opens after `at` (UTC)."""
        return next(start for start, _ in self._openings_around(at) if start > at)

    def local(self, instant: datetime) -> str:
        """`Sat 2026-12-12 02:00 Europe/Paris`: an instant as the window's own clock shows it."""
        shown = instant.astimezone(self._zone)
        return f"{DAYS[shown.weekday()]} {shown:%Y-%m-%d %H:%M} {self.time_zone}"

    def describe(self) -> str:
        """`Sat,Sun 02:00 for PT4H (Europe/Paris)`: the window as the file writes it."""
        return f"{','.join(self.days)} {self.start} for {self.duration} ({self.time_zone})"

    def to_dict(self) -> dict:
        return {"days": list(self.days), "start": self.start, "duration": self.duration, "timeZone": self.time_zone}

    @classmethod
    def from_dict(cls, data: Any) -> "MaintenanceWindow":
        """As the file (and the plan JSON) writes it; a saved plan's is checked by window_problem."""
        if not isinstance(data, dict) or not isinstance(data.get("days"), list):
            return cls((), "", "", "")
        fields = [data.get(key) for key in ("start", "duration")] + [data.get("timeZone", DEFAULT_TIME_ZONE)]
        start, duration, zone = (value if isinstance(value, str) else "" for value in fields)
        days = tuple(data["days"]) if all(isinstance(day, str) for day in data["days"]) else ()
        return cls(days, start, duration, zone)


def utc_text(instant: datetime) -> str:
    """The plan JSON's spelling of an instant, as `created_at`: 2026-12-12T01:00:00Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """An instant as utc_text writes it (or any ISO 8601 time with a zone); ValueError otherwise."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{quoted(text)} has no time zone")
    return parsed.astimezone(UTC)
