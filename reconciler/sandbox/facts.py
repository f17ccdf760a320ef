"""The sandbox's own copy of the OVHcloud API's facts: enums, defaults and the duration format it accepts.

Kept apart from the engine on purpose (the engine has its own copies, in reconciler.model and
reconciler.durations): a sandbox that checked requests with the client's rules could never catch the client's
mistakes. tests/test_sandbox_independence.py keeps the sandbox from importing the engine. docs/sandbox.md names the
public source of each fact.
"""

import re
from decimal import Decimal

# Enums of the OpenAPI schema of /cloud (cloud.json, as shipped in ovh/ovhcloud-cli).
KUBE_PROXY_MODES = ("iptables", "ipvs")
IPVS_SCHEDULERS = ("dh", "lc", "nq", "rr", "sed", "sh")
ADMISSION_PLUGINS = ("AlwaysPullImages", "NodeRestriction")
WORKER_NODES_POLICIES = ("delete", "reinstall")
VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
UPDATE_POLICIES = ("ALWAYS_UPDATE", "MINIMAL_DOWNTIME", "NEVER_UPDATE")
PLANS = ("free", "standard")
OIDC_SIGNING_ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512")
STATUSES = (
    "READY", "INSTALLING", "UPDATING", "REDEPLOYING", "RESETTING", "REOPENING", "MAINTENANCE", "SUSPENDING",
    "SUSPENDED", "DELETING", "DELETED", "ERROR", "USER_ERROR", "USER_QUOTA_ERROR",
    "USER_WEBHOOK_PREVENTING_OPERATIONS_ERROR", "UNKNOWN",
)  # fmt: skip

TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
# Node pool and node statuses the sandbox shows (cloud.kube.NodePoolStatusEnum, cloud.kube.NodeStatusEnum): a pool
# is INSTALLING when created, UPSCALING or DOWNSCALING while its node count moves, UPDATING when only its settings
# change, DELETING until it is gone; then READY. The description has no RESIZING.
POOL_STATUSES = ("INSTALLING", "UPSCALING", "DOWNSCALING", "UPDATING", "DELETING", "READY")
# The flavors a cluster offers (cloud.kube.Flavor): name, category, vCPUs, RAM (GB), GPUs.
FLAVORS = (
    ("b3-8", "b", 2, 8, 0),
    ("b3-16", "b", 4, 16, 0),
    ("b3-32", "b", 8, 32, 0),
    ("c3-4", "c", 2, 4, 0),
    ("c3-8", "c", 4, 8, 0),
    ("c3-16", "c", 8, 16, 0),
    ("r3-16", "r", 2, 16, 0),
    ("d2-8", "d", 4, 8, 0),
    ("t2-45", "t", 15, 45, 1),
)
POOL_DEFAULTS = {"desiredNodes": 1, "minNodes": 0, "maxNodes": 100}  # the creation body's documented defaults
MAX_ANTI_AFFINITY_NODES = 5

# Statuses the sandbox moves a cluster through; each turns READY after the server's transition time.
TRANSIENT_STATUSES = ("INSTALLING", "UPDATING", "REDEPLOYING", "RESETTING")
MAX_CLUSTERS_PER_PROJECT = 20  # OVHcloud docs, Managed Kubernetes known limits

# The patch level each minor version is answered with, and the version a create without one gets.
PATCH_LEVELS = {"1.31": "1.31.4", "1.32": "1.32.3", "1.33": "1.33.2", "1.34": "1.34.1", "1.35": "1.35.0"}
NEWEST_VERSION = "1.35"

# ovh/docs apiserver-flags-configuration and resetting-a-cluster; ovh/terraform-provider-ovh acceptance test "no
# apiserver customization, should contain default values from API": both plugins on where nothing was asked.
# ovh/docs apiserver-flags-configuration: only AlwaysPullImages can be turned off.
ALWAYS_ENABLED_PLUGINS = ("NodeRestriction",)

# Reset body fields that are cluster fields, with the value a reset gives them when left out (schema; ovh/docs
# resetting-a-cluster: kubeProxyMode ipvs, empty customization, updatePolicy ALWAYS_UPDATE, public network).
RESET_DEFAULTS: dict[str, object] = {
    "kubeProxyMode": "ipvs",
    "customization": {},
    "privateNetworkId": None,
    "privateNetworkConfiguration": None,
    "nodesSubnetId": None,
    "loadBalancersSubnetId": None,
    "updatePolicy": "ALWAYS_UPDATE",
    "ipAllocationPolicy": None,
}
# The Standard plan (OVHcloud's "Standard plan" and "pods and services IP allocation" guides): a private network and
# its nodes subnet at creation, a zone per pool, ranges and Cilium on Standard only, these ranges where none is asked.
STANDARD_PLAN = "standard"
DEFAULT_IP_ALLOCATION = {"podsIpv4Cidr": "10.240.0.0/13", "servicesIpv4Cidr": "10.3.0.0/16"}


def three_zones(region: str) -> bool:
    """A 3-AZ region: named area-direction-city (EU-WEST-PAR, zones eu-west-par-a/b/c; Local Zones carry an LZ)."""
    parts = region.split("-")
    return len(parts) == 3 and all(part.isalpha() for part in parts) and "LZ" not in parts


CREATE_DEFAULT_MODE = "iptables"  # the kube-proxy guide; TF issue #1425 reports ipvs: clients should always send one

# Durations: the schema says "RFC3339 duration", the guide writes PT60S; the API answers P0D for zero. The sandbox
# takes days, hours, minutes and (fractional) seconds, and refuses years, months, weeks, signs and an empty "PT".
_UNITS = (("D", 86400), ("H", 3600), ("M", 60), ("S", 1))
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.ASCII)


def duration_seconds(value: object) -> Decimal | None:
    """The seconds a duration means, or None when the API would not take it as a duration."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable():
        return None
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        return None
    total = Decimal(0)
    for (_, unit_seconds), amount in zip(_UNITS, match.groups(), strict=True):
        if amount:
            total += Decimal(amount) * unit_seconds
    return total
