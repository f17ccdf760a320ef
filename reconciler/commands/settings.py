"""Global options shared by every command (set once by the CLI callback, read by the commands)."""

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    endpoint: str | None = None  # None: python-ovh's own lookup (ovh.conf), then ovh-eu
    verbose: bool = False
    color: bool = True
    max_requests_per_second: float | None = None  # None: no client-side limit until the API answers 429

    @staticmethod
    def color_wanted(no_color_flag: bool) -> bool:
        # https://no-color.org: any non-empty NO_COLOR turns colour off.
        return not no_color_flag and not os.environ.get("NO_COLOR")


def is_terminal(stream=None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()
