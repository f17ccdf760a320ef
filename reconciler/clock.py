"""What time it is, for the one decision that reads a wall clock: whether a maintenance window is open.

`OVHKUBE_NOW` (an ISO 8601 time with its zone, e.g. 2026-12-12T02:30:00+01:00) replaces the machine's clock there.
It is for tests only: a plan and an apply of the same test can stand at chosen instants inside and outside a window.
Durations and waits never read it (they use time.monotonic).
"""

import os
from datetime import UTC, datetime

from reconciler.errors import UserError

NOW_VARIABLE = "OVHKUBE_NOW"


def now() -> datetime:
    """The current instant, in UTC."""
    written = os.environ.get(NOW_VARIABLE)
    if not written:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(written.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    # A window's next opening is looked for up to eight days around the instant: year 1 or 9999 would overflow.
    if parsed is None or parsed.tzinfo is None or not 1970 <= parsed.year <= 9000:
        raise UserError(
            f"{NOW_VARIABLE} must be an ISO 8601 time with its zone (2026-12-12T02:30:00Z), from 1970 to 9000, "
            "for tests"
        )
    return parsed.astimezone(UTC)
