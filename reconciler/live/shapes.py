"""The shape of every answer ovhkube uses, as OVHcloud's API description gives it, checked before any of it is used.

From the description of Managed Kubernetes (`cloud.kube.Cluster`, `cloud.ProjectKubeCustomization`,
`cloud.kube.OpenIdConnect`, `cloud.kube.NodePool`, `cloud.kube.Flavor` and the paths' answers: ovh/ovhcloud-cli
internal/assets/api-schemas/cloud.json, the API's own `/cloud.json`): types only, so that a value the API adds to
an enum later is still read. A field may be absent; present, it has its type, or null where the description allows
it. A cluster object, and a node pool object, has an id and a name.

An answer of another shape (a gateway that lost the body: `null` or nothing; an object where a list is due; a name
that is a list) is a `MalformedAnswer` naming the call and the field: a read error, never an empty project (creating
a cluster that exists) nor a Python error deep in the engine.
"""

import re
from collections.abc import Callable
from typing import NamedTuple

from reconciler.errors import ApiError
from reconciler.escape import quoted


class Nullable(NamedTuple):
    shape: "Shape"


class MapOf(NamedTuple):
    """An object whose every value has `shape` (labels, annotations)."""

    shape: "Shape"


# "string" | "boolean" | "integer" | "number" | [item] (an array) | {field: shape} (an object; unknown fields pass)
# | Nullable | MapOf
Shape = str | list | dict | Nullable | MapOf

DURATION = Nullable("string")
PLUGINS = Nullable({"enabled": Nullable(["string"]), "disabled": Nullable(["string"])})
CUSTOMIZATION: dict = {
    "apiServer": Nullable({"admissionPlugins": PLUGINS}),
    "kubeProxy": Nullable(
        {
            "iptables": Nullable({"minSyncPeriod": DURATION, "syncPeriod": DURATION}),
            "ipvs": Nullable(
                {
                    "minSyncPeriod": DURATION,
                    "scheduler": Nullable("string"),
                    "syncPeriod": DURATION,
                    "tcpFinTimeout": DURATION,
                    "tcpTimeout": DURATION,
                    "udpTimeout": DURATION,
                }
            ),
        }
    ),
    "cilium": Nullable({}),
}
CLUSTER: dict = {
    **dict.fromkeys(
        ("id", "name", "region", "version", "status", "kubeProxyMode", "updatePolicy", "plan", "url", "nodesUrl"),
        "string",
    ),
    **dict.fromkeys(("createdAt", "updatedAt"), "string"),
    **dict.fromkeys(("isUpToDate", "controlPlaneIsUpToDate", "auditLogsSubscribed"), "boolean"),
    **dict.fromkeys(("privateNetworkId", "nodesSubnetId", "loadBalancersSubnetId"), Nullable("string")),
    "customization": Nullable(CUSTOMIZATION),
    "nextUpgradeVersions": Nullable(["string"]),
    "ipAllocationPolicy": Nullable({"podsIpv4Cidr": Nullable("string"), "servicesIpv4Cidr": Nullable("string")}),
    "privateNetworkConfiguration": Nullable(
        {"defaultVrackGateway": "string", "privateNetworkRoutingAsDefault": Nullable("boolean")}
    ),
}
REQUIRED_OF_AN_ITEM = ("id", "name")
OIDC: dict = {
    "issuerUrl": "string",
    "clientId": "string",
    **dict.fromkeys(("caContent", "groupsPrefix", "usernameClaim", "usernamePrefix"), Nullable("string")),
    **dict.fromkeys(("groupsClaim", "requiredClaim", "signingAlgorithms"), Nullable(["string"])),
}

NODE_POOL: dict = {
    **dict.fromkeys(("id", "name", "flavor", "projectId", "status", "sizeStatus", "createdAt", "updatedAt"), "string"),
    **dict.fromkeys(("antiAffinity", "autoscale", "monthlyBilled"), "boolean"),
    **dict.fromkeys(
        ("availableNodes", "currentNodes", "desiredNodes", "maxNodes", "minNodes", "upToDateNodes"), "integer"
    ),
    "availabilityZones": Nullable(["string"]),
    "attachFloatingIps": Nullable({"enabled": "boolean"}),
    "autoscaling": {
        "scaleDownUnneededTimeSeconds": "integer",
        "scaleDownUnreadyTimeSeconds": "integer",
        "scaleDownUtilizationThreshold": "number",
    },
    "template": {
        "metadata": {"annotations": MapOf("string"), "finalizers": ["string"], "labels": MapOf("string")},
        "spec": {"taints": [{"effect": "string", "key": "string", "value": "string"}], "unschedulable": "boolean"},
    },
}
FLAVOR: dict = {
    **dict.fromkeys(("name", "category", "state"), "string"),
    **dict.fromkeys(("gpus", "ram", "vCPUs"), "integer"),
}

_PROJECT = r"/cloud/project/[^/]+/kube"
_CLUSTER = _PROJECT + r"/[^/]+"
# (method, path) -> what the answer must be; a call not listed here is not used beyond its status.
ANSWERS: list[tuple[str, re.Pattern, str]] = [
    ("GET", re.compile(_PROJECT), "listing"),
    ("POST", re.compile(_PROJECT), "cluster"),  # a create answers the new cluster
    ("GET", re.compile(_CLUSTER), "cluster"),
    ("GET", re.compile(_CLUSTER + "/customization"), "customization"),
    ("GET", re.compile(_CLUSTER + "/ipRestrictions"), "ipRestrictions"),
    ("GET", re.compile(_CLUSTER + "/openIdConnect"), "openIdConnect"),
    ("GET", re.compile(r"/auth/time"), "time"),
    ("GET", re.compile(_CLUSTER + "/nodepool"), "nodePools"),
    ("GET", re.compile(_CLUSTER + "/nodepool/[^/]+"), "nodePool"),
    ("POST", re.compile(_CLUSTER + "/nodepool"), "nodePool"),
    ("GET", re.compile(_CLUSTER + "/flavors"), "flavors"),
    ("GET", re.compile(r"/cloud/project/[^/]+/capabilities/kube/flavors"), "flavors"),
]
SHAPES: dict[str, Shape] = {
    "cluster": CLUSTER,
    "customization": CUSTOMIZATION,
    "ipRestrictions": ["string"],
    "openIdConnect": OIDC,
    "time": "integer",
    "nodePools": [NODE_POOL],
    "nodePool": NODE_POOL,
    "flavors": [FLAVOR],
}
SHOWN_CHARS = 60


class MalformedAnswer(ApiError):
    """A 2xx answer that is not what the API describes: not used. Never retried (an API that answers the wrong shape
    answers it again), but `ambiguous` as any 2xx that cannot be read: a create may have happened."""


def check_answer(method: str, path: str, answer: object, status: int) -> None:
    """Raise MalformedAnswer when `answer` (decoded JSON; None for an empty body) is not what `method path` answers."""
    bare = path.split("?", 1)[0]  # a query (`?region=`) does not change what the call answers
    kind = next((kind for m, pattern, kind in ANSWERS if m == method and pattern.fullmatch(bare)), None)
    if kind is None:
        return
    if _FITS[kind](answer):
        return
    # Walked again, to name what is wrong (and where), only when the quick check says something is.
    problem = _listing_problem(answer) if kind == "listing" else _problem(answer, SHAPES[kind], "")
    if problem is None and kind in ("cluster", "nodePool"):
        problem = _missing(answer, "", "a cluster" if kind == "cluster" else "a node pool")
    if problem is None and kind == "nodePools":
        assert isinstance(answer, list)  # checked against its shape first
        problem = next(filter(None, (_missing(pool, f"[{i}]", "a node pool") for i, pool in enumerate(answer))), None)
    if problem is not None:
        raise MalformedAnswer(
            f"the answer is not what the API describes: {problem}", status=status, method=method, path=path
        )


def _listing_problem(answer: object) -> str | None:
    """A project's clusters: a list of ids, or (expanded) of cluster objects, each with an id and a name."""
    if not isinstance(answer, list):
        return f"expected a list of clusters, got {_shown(answer)}"
    if all(isinstance(item, str) for item in answer):
        empty = next((index for index, item in enumerate(answer) if not item), None)
        return None if empty is None else f"[{empty}]: an empty cluster id"
    for index, item in enumerate(answer):
        where = f"[{index}]"
        problem = _problem(item, CLUSTER, where) or _missing(item, where)
        if problem:
            return problem
    return None


def _missing(item: object, where: str, what: str = "a cluster") -> str | None:
    """A cluster or a node pool without its id or name: found by neither, it would be created again."""
    assert isinstance(item, dict)  # checked against its shape first
    for key in REQUIRED_OF_AN_ITEM:
        if not item.get(key):
            return f"{_at(where, key)}: {what} without its {key}"
    return None


def _problem(value: object, shape: Shape, where: str) -> str | None:
    """What in `value` breaks `shape`, at its path (`[2].customization.kubeProxy`); None when nothing does."""
    if isinstance(shape, Nullable):
        return None if value is None else _problem(value, shape.shape, where)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        for key, field in shape.items():
            if key in value:
                problem = _problem(value[key], field, _at(where, key))
                if problem:
                    return problem
        return None
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        for key, item in value.items():
            problem = _problem(item, shape.shape, _at(where, str(key)))
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return _wrong(where, "a list", value)
        for index, item in enumerate(value):
            problem = _problem(item, shape[0], f"{where}[{index}]")
            if problem:
                return problem
        return None
    if shape == "string" and not isinstance(value, str):
        return _wrong(where, "a string", value)
    if shape == "boolean" and not isinstance(value, bool):
        return _wrong(where, "true or false", value)
    if shape == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return _wrong(where, "an integer", value)
    if shape == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return _wrong(where, "a number", value)
    return None


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _wrong(where: str, expected: str, value: object) -> str:
    return f"{where or 'the answer'}: expected {expected}, got {_shown(value)}"


def _shown(value: object) -> str:
    """The value as JSON writes it, cut short: the escape of what the API sent."""
    if value is None:
        return "null (or no answer at all)"
    return quoted(value, SHOWN_CHARS, ascii=True)


# The same rules as _problem and _missing, compiled once into yes/no checks that build no path as they go: every
# answer is checked, and a project's listing holds up to 20 cluster objects of some 40 values each
# (tests/test_answer_shapes.py holds both to the same verdicts).
Check = Callable[[object], bool]


def _fits(shape: Shape) -> Check:
    if isinstance(shape, Nullable):
        inner = _fits(shape.shape)
        return lambda value: value is None or inner(value)
    if isinstance(shape, dict):
        fields = tuple((key, _fits(field)) for key, field in shape.items())

        def fits_object(value: object) -> bool:
            if not isinstance(value, dict):
                return False
            for key, check in fields:  # noqa: SIM110 (a loop: all() of a generator is slower here)
                if key in value and not check(value[key]):
                    return False
            return True

        return fits_object
    if isinstance(shape, MapOf):
        item = _fits(shape.shape)
        return lambda value: isinstance(value, dict) and all(item(child) for child in value.values())
    if isinstance(shape, list):
        element = _fits(shape[0])

        def fits_list(value: object) -> bool:
            if not isinstance(value, list):
                return False
            for child in value:  # noqa: SIM110
                if not element(child):
                    return False
            return True

        return fits_list
    return _SCALARS.get(shape, lambda value: True)


_SCALARS: dict[object, Check] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
}
_CLUSTER_FITS = _fits(CLUSTER)


_POOL_FITS = _fits(NODE_POOL)


def _a_cluster(value: object) -> bool:
    return _CLUSTER_FITS(value) and all(value.get(key) for key in REQUIRED_OF_AN_ITEM)  # type: ignore[attr-defined]


def _a_pool(value: object) -> bool:
    return _POOL_FITS(value) and all(value.get(key) for key in REQUIRED_OF_AN_ITEM)  # type: ignore[attr-defined]


def _pools_fit(answer: object) -> bool:
    return isinstance(answer, list) and all(_a_pool(pool) for pool in answer)


def _listing_fits(answer: object) -> bool:
    if not isinstance(answer, list):
        return False
    if all(isinstance(item, str) for item in answer):
        return all(answer)
    return all(_a_cluster(item) for item in answer)


_FITS: dict[str, Check] = {kind: _fits(shape) for kind, shape in SHAPES.items()} | {
    "cluster": _a_cluster,
    "nodePool": _a_pool,
    "nodePools": _pools_fit,
    "listing": _listing_fits,
}
