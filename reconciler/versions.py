"""Kubernetes versions as the API and the files write them ("1.31", or "1.31.4" with the patch): the one parser."""

import re
from functools import lru_cache

# A minor as the file format writes it (schemas/cluster.schema.json), the API's patch level allowed after it. Bounded,
# so that no version read from a saved plan or an answer makes a count of upgrade steps out of reach.
_MINOR = re.compile(r"([1-9])\.(0|[1-9][0-9]?)(?:\.[0-9A-Za-z.+-]*)?")


def major_minor(version: object) -> str:
    """`1.31.4` -> `1.31`: the part a file writes and an upgrade moves (text that is no version is cut the same)."""
    return ".".join(str(version if version is not None else "").split(".")[:2])


def minor_of(version: object) -> tuple[int, int] | None:
    """`1.31.4` -> (1, 31); None when it is not a version of that form."""
    return _minor_of(str(version))  # as text: whatever a saved plan holds can be a key of the cache


@lru_cache(maxsize=256)  # a fleet holds a handful of versions, parsed several times per cluster
def _minor_of(version: str) -> tuple[int, int] | None:
    found = _MINOR.fullmatch(version)
    return (int(found[1]), int(found[2])) if found else None
