"""Meaning rules of `spec.nodePools`, checked offline: what the schema's shapes cannot say.

Node counts in order (min <= desired <= max), autoscaler tuning in range, Kubernetes syntax for label, annotation,
taint and finalizer names and for label values, one taint per key and effect, one zone per pool and in the cluster's
region, a `delete: true` pool that writes nothing else, and the ownership warnings (desiredNodes pinned against the
autoscaler). Each problem is yielded as (path below the pool, message, severity).
"""

import re
from collections.abc import Iterator

from reconciler.files.problem import ERROR, WARNING, shown

Found = tuple[tuple, str, str]  # (path from the pool, message, severity)

_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(_NAME)
_LABEL_VALUE = re.compile(f"(?:{_NAME})?")
MAX_PREFIX = 253
MAX_ANTI_AFFINITY_NODES = 5  # OVHcloud: an anti-affinity pool holds at most 5 nodes
KEY_SYNTAX = (
    "must be a Kubernetes key: an optional DNS prefix and /, then 63 characters at most of letters, digits, "
    "-, _ and ., a letter or digit first and last"
)


def key_problem(key: str) -> str | None:
    """Why `key` is not a Kubernetes qualified name (labels, annotations, taints, finalizers); None when it is one."""
    prefix, slash, name = key.rpartition("/")
    bad_prefix = slash and (len(prefix) > MAX_PREFIX or not _DNS_SUBDOMAIN.fullmatch(prefix))
    if bad_prefix or not _QUALIFIED_NAME.fullmatch(name):
        return f"{KEY_SYNTAX}; got {shown(key)}"
    return None


def label_value_problem(value: str) -> str | None:
    if _LABEL_VALUE.fullmatch(value):
        return None
    return (
        "must be a Kubernetes label value: empty, or 63 characters at most of letters, digits, -, _ and ., "
        f"a letter or digit first and last; got {shown(value)}"
    )


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _whole_number_problem(value: object) -> str | None:
    """JSON Schema takes 2.0 as an integer; the API's counts are written without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return f"must be a whole number written without a decimal point: {int(value)}, not {value}"
    return None


MAX_LONG = 2**63 - 1  # a 64-bit integer: no API integer holds more (nor the sandbox's store)


def pool_problems(pool: dict, region: object) -> Iterator[Found]:
    """The problems of one well-shaped (or partly well-shaped) pool; `region` is the cluster's spec.region."""
    if pool.get("delete") is True:
        for name in pool:
            if name != "delete":
                yield (name,), "nothing else may be written in a pool marked delete: true", ERROR
        return
    yield from _count_problems(pool)
    yield from _autoscaling_problems(pool)
    yield from _zone_problems(pool.get("availabilityZones"), region)
    template = _mapping(pool.get("template"))
    metadata = _mapping(template.get("metadata"))
    for kind in ("labels", "annotations"):
        for key, value in _mapping(metadata.get(kind)).items():
            where = ("template", "metadata", kind, key)
            message = key_problem(str(key))
            if message:
                yield where, message, ERROR
            elif kind == "labels" and isinstance(value, str):
                message = label_value_problem(value)
                if message:
                    yield where, message, ERROR
    finalizers = metadata.get("finalizers")
    for index, finalizer in enumerate(finalizers if isinstance(finalizers, list) else []):
        message = key_problem(finalizer) if isinstance(finalizer, str) else None
        if message:
            yield ("template", "metadata", "finalizers", index), message, ERROR
    yield from _taint_problems(_mapping(template.get("spec")).get("taints"))


def _count_problems(pool: dict) -> Iterator[Found]:
    counts = {name: _count(pool.get(name)) for name in ("minNodes", "desiredNodes", "maxNodes")}
    for name in counts:
        message = _whole_number_problem(pool.get(name))
        if message:
            yield (name,), message, ERROR
    for name, value in counts.items():
        message = _range_problem(value)
        if message:
            yield (name,), message, ERROR
    low, desired, high = counts["minNodes"], counts["desiredNodes"], counts["maxNodes"]
    if low is not None and high is not None and low > high:
        yield ("minNodes",), f"must not be above maxNodes ({high}); got {low}", ERROR
    elif desired is not None and low is not None and desired < low:
        yield ("desiredNodes",), f"must not be below minNodes ({low}); got {desired}", ERROR
    elif desired is not None and high is not None and desired > high:
        yield ("desiredNodes",), f"must not be above maxNodes ({high}); got {desired}", ERROR
    if pool.get("antiAffinity") is True and desired is not None and desired > MAX_ANTI_AFFINITY_NODES:
        message = f"an anti-affinity pool holds at most {MAX_ANTI_AFFINITY_NODES} nodes; got {desired}"
        yield ("desiredNodes",), message, ERROR
    autoscale = pool.get("autoscale")
    if pool.get("pinDesiredNodes") is True:
        if autoscale is not True:
            yield ("pinDesiredNodes",), "has no effect unless autoscale is true", WARNING
        elif desired is None:
            yield ("pinDesiredNodes",), "has no effect without desiredNodes", WARNING
        else:
            message = "is pinned while autoscale is true: every apply will move it back, fighting the autoscaler"
            yield ("desiredNodes",), message, WARNING


def _range_problem(value: int | None) -> str | None:
    if value is not None and value < 0:
        return f"must be 0 or more; got {value}"
    if value is not None and value > MAX_LONG:
        return f"must be at most {MAX_LONG} (a 64-bit integer); got {value}"
    return None


def _autoscaling_problems(pool: dict) -> Iterator[Found]:
    tuning = _mapping(pool.get("autoscaling"))
    for name in ("scaleDownUnneededTimeSeconds", "scaleDownUnreadyTimeSeconds"):
        message = _whole_number_problem(tuning.get(name))
        if message:
            yield ("autoscaling", name), message, ERROR
        message = _range_problem(_count(tuning.get(name)))
        if message:
            yield ("autoscaling", name), message, ERROR
    threshold = tuning.get("scaleDownUtilizationThreshold")
    if isinstance(threshold, int | float) and not isinstance(threshold, bool) and not 0 <= threshold <= 1:
        yield ("autoscaling", "scaleDownUtilizationThreshold"), f"must be between 0 and 1; got {threshold}", ERROR


def _zone_problems(zones: object, region: object) -> Iterator[Found]:
    if not isinstance(zones, list):
        return
    if len(zones) > 1:
        yield ("availabilityZones",), f"one zone per pool (the API takes only one); got {len(zones)}", ERROR
    for index, zone in enumerate(zones):
        if isinstance(zone, str) and isinstance(region, str) and not zone.startswith(region.lower() + "-"):
            message = f"is not a zone of region {region} (its zones are {region.lower()}-a, -b, ...); got {shown(zone)}"
            yield ("availabilityZones", index), message, ERROR


def _taint_problems(taints: object) -> Iterator[Found]:
    seen: set[tuple] = set()
    for index, taint in enumerate(taints if isinstance(taints, list) else []):
        if not isinstance(taint, dict):
            continue
        key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
        where = ("template", "spec", "taints", index)
        message = key_problem(key) if isinstance(key, str) else None
        if message:
            yield (*where, "key"), message, ERROR
        message = label_value_problem(value) if isinstance(value, str) else None
        if message:
            yield (*where, "value"), message, ERROR
        if not (isinstance(key, str) and isinstance(effect, str)):
            continue
        if (key, effect) in seen:
            yield where, f"a taint with key {shown(key)} and effect {effect} is already listed", ERROR
        seen.add((key, effect))
