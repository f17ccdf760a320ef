"""ISO 8601 durations as the OVHcloud API uses them: days, hours, minutes and seconds only.

Both sides of every comparison go through `to_seconds`, so `PT60S`, `PT1M` and `PT0H1M0S` are one value,
and the API's `P0D` equals `PT0S`.
"""

import re
from decimal import Decimal, localcontext
from functools import lru_cache

# No years, months or weeks (their length is not fixed), no sign, no bare "P" or "PT".
# schemas/cluster.schema.json carries the same pattern without the group names. `(?!.*\n)` refuses a
# trailing newline, which `$` lets through in Python (the schema is checked with Python's re too); [0-9], not
# \d, which in Python also matches other scripts' digits (PT٣٠S).
_REGEX = re.compile(
    r"^(?!.*\n)P(?!$)(?:(?P<d>[0-9]+)D)?(?:T(?=[0-9])(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+(?:\.[0-9]+)?)S)?)?$"
)


def is_duration(text: object) -> bool:
    return isinstance(text, str) and _REGEX.fullmatch(text) is not None


def to_seconds(text: str) -> Decimal:
    """Seconds in a duration; raises ValueError on anything that is not a days-to-seconds ISO 8601 duration."""
    seconds = _seconds(text) if isinstance(text, str) else None
    if seconds is None:
        raise ValueError(f"not an ISO 8601 duration of days, hours, minutes and seconds: {text!r}")
    return seconds


@lru_cache(maxsize=1024)  # a fleet spells its durations a few ways; a plan of 1,000 clusters reads them 2,000 times
def _seconds(text: str) -> Decimal | None:
    match = _REGEX.fullmatch(text)
    if match is None:
        return None
    parts = {key: Decimal(value) if value else Decimal(0) for key, value in match.groupdict().items()}
    with localcontext() as exact:  # the default 28 digits would round PT4.999...S (29 nines) up to 5 s
        exact.prec = len(text) + 10
        total = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
        return total.normalize() if total else Decimal(0)


def canonical(seconds: Decimal | int | float) -> str:
    """The one spelling ovhkube writes: whole seconds as the OVHcloud guide does (`PT30S`, `PT0S`)."""
    with localcontext() as exact:
        exact.prec = len(str(seconds)) + 10
        value = Decimal(str(seconds)).normalize()
    text = format(value, "f")
    return f"PT{text}S"
