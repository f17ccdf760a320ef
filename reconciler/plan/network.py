"""The network settings of a cluster (spec.plan, spec.privateNetwork, spec.ipAllocationPolicy) against live, and the
steps that change them.

Each difference is classified by what the API can do (OpenAPI description of /cloud; OVHcloud's guides "Standard
plan" and "configuring pods and services IP allocation"): the plan never changes (no migration: an error before any
request); privateNetworkId, nodesSubnetId and ipAllocationPolicy change only through a reset, whose body carries
them; loadBalancersSubnetId changes in place (PUT updateLoadBalancersSubnetId, REDEPLOYING), and so does
privateNetworkConfiguration (PUT privateNetworkConfiguration, the nodes redeployed). Diff paths are the file's
(`privateNetwork.gateway`); the API's fields are named here only.
"""

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.live.read import LiveCluster
from reconciler.model import (
    CILIUM,
    FREE_PLAN,
    IP_ALLOCATION_FIELDS,
    IP_ALLOCATION_POLICY,
    NETWORK_CONFIGURATION,
    NETWORK_IDS,
    NETWORK_RESET_ONLY,
    NETWORK_ROUTING,
    STANDARD_PLAN,
    DesiredCluster,
    ErrorReason,
)
from reconciler.plan.diff import FieldChange
from reconciler.steps import ClusterTarget, Step, StepKind

PLAN = "plan"
NETWORK = "privateNetwork"
# The ranges a Standard cluster gets where none is asked (OVHcloud's IP allocation guide): what live means by none.
DEFAULT_IP_ALLOCATION = {"podsIpv4Cidr": "10.240.0.0/13", "servicesIpv4Cidr": "10.3.0.0/16"}
NETWORK_PATHS = (PLAN, NETWORK + ".", IP_ALLOCATION_POLICY + ".")
RESET_PATHS = tuple(f"{NETWORK}.{name}" for name in NETWORK_RESET_ONLY) + (IP_ALLOCATION_POLICY + ".",)
REDEPLOYS_NODES = (
    "the private network configuration changes (PUT privateNetworkConfiguration): every node is redeployed, "
    "its pods rescheduled"
)
LOAD_BALANCERS_MOVE = (
    "the load balancers' subnet changes (PUT updateLoadBalancersSubnetId): the cluster is REDEPLOYING meanwhile"
)


def is_network_path(path: str) -> bool:
    return path == PLAN or path.startswith(NETWORK_PATHS[1:])


# --- the step builders (the planner's and the saved-plan check's) ---


def load_balancers_subnet_step(target: ClusterTarget, subnet: str) -> Step:
    return Step(StepKind.LOAD_BALANCERS_SUBNET, target, {"loadBalancersSubnetId": subnet})


def network_configuration_step(target: ClusterTarget, configuration: dict) -> Step:
    """The whole configuration (both fields): what the file does not manage, as read."""
    return Step(StepKind.NETWORK_CONFIGURATION, target, dict(configuration))


def network_steps(target: ClusterTarget, subnet: str | None, configuration: dict | None) -> list[Step]:
    steps = [load_balancers_subnet_step(target, subnet)] if subnet is not None else []
    if configuration is not None:
        steps.append(network_configuration_step(target, configuration))
    return steps


# --- the creation body ---


def written_fields(desired: DesiredCluster) -> list[tuple[str, Any]]:
    """(diff path, value) of every network setting the file writes: what a create shows and sends."""
    fields: list[tuple[str, Any]] = []
    if desired.plan is not None:
        fields.append((PLAN, desired.plan))
    for name, value in (desired.private_network or {}).items():
        fields.append((f"{NETWORK}.{name}", value))
    for name, value in (desired.ip_allocation_policy or {}).items():
        fields.append((f"{IP_ALLOCATION_POLICY}.{name}", value))
    return fields


def body_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The create or reset body's fields for these (diff path, value)s."""
    body: dict[str, Any] = {}
    if PLAN in fields:
        body[PLAN] = fields[PLAN]
    for name, api_name in NETWORK_IDS.items():
        if f"{NETWORK}.{name}" in fields:
            body[api_name] = fields[f"{NETWORK}.{name}"]
    routing = {
        api: fields[f"{NETWORK}.{name}"] for name, api in NETWORK_ROUTING.items() if f"{NETWORK}.{name}" in fields
    }
    if routing:
        body[NETWORK_CONFIGURATION] = routing
    ranges = {
        name: fields[path] for name in IP_ALLOCATION_FIELDS if (path := f"{IP_ALLOCATION_POLICY}.{name}") in fields
    }
    if ranges:
        body[IP_ALLOCATION_POLICY] = ranges
    return body


def spec_fields(body: dict) -> dict[str, Any]:
    """A create or reset body's network fields as the spec a file writes (for the saved-plan check's rules)."""
    spec: dict[str, Any] = {}
    if body.get(PLAN) is not None:
        spec[PLAN] = body[PLAN]
    network = {name: body[api] for name, api in NETWORK_IDS.items() if body.get(api) is not None}
    routing = body.get(NETWORK_CONFIGURATION)
    if isinstance(routing, dict):
        network |= {name: routing[api] for name, api in NETWORK_ROUTING.items() if routing.get(api) is not None}
    if network:
        spec[NETWORK] = network
    if body.get(IP_ALLOCATION_POLICY) is not None:
        spec[IP_ALLOCATION_POLICY] = body[IP_ALLOCATION_POLICY]
    return spec


Problem = tuple[str, str]  # (the spec path it is about, so that the plan names its file line; the message)


def creation_problem(desired: DesiredCluster) -> Problem | None:
    """Why the API would refuse to create the cluster as written; None when it would not (as far as a file tells)."""
    plan = desired.plan or FREE_PLAN
    if plan != STANDARD_PLAN and desired.ip_allocation_policy:
        message = "ipAllocationPolicy needs the Standard plan, and a new cluster without spec.plan is free: write plan"
        return "ipAllocationPolicy", message
    if plan != STANDARD_PLAN and CILIUM in desired.customization:
        message = "needs the Standard plan, and a new cluster without spec.plan is free: write plan"
        return "customization.cilium", f"customization.cilium {message}"
    return _subnet_order((desired.private_network or {}).get)


def _subnet_order(value: Any) -> Problem | None:
    """The API's rule: a nodes subnet needs a network, a load balancers' subnet needs both."""
    if value("nodesSubnetId") and not value("id"):
        message = "privateNetwork.nodesSubnetId needs privateNetwork.id (the network the subnet belongs to)"
        return f"{NETWORK}.nodesSubnetId", message
    if value("loadBalancersSubnetId") and not (value("id") and value("nodesSubnetId")):
        message = "privateNetwork.loadBalancersSubnetId needs privateNetwork.id and privateNetwork.nodesSubnetId"
        return f"{NETWORK}.loadBalancersSubnetId", message
    return None


# --- an existing cluster ---


def live_value(cluster: Mapping[str, Any], path: str) -> Any:
    """The live value at a network diff path, as the API answers it (None: not set)."""
    if path == PLAN:
        return cluster.get(PLAN) or FREE_PLAN
    name = path.split(".", 1)[1]
    if path.startswith(NETWORK + "."):
        if name in NETWORK_IDS:
            return cluster.get(NETWORK_IDS[name]) or None
        return (cluster.get(NETWORK_CONFIGURATION) or {}).get(NETWORK_ROUTING[name])
    ranges = cluster.get(IP_ALLOCATION_POLICY) or {}
    default = DEFAULT_IP_ALLOCATION[name] if cluster.get(PLAN) == STANDARD_PLAN else None
    return ranges.get(name) or default


def same(path: str, wanted: Any, live: Any) -> bool:
    """By meaning: "" and no gateway are one; routing false and unset are one; ranges as networks."""
    if path == f"{NETWORK}.gateway":
        return (wanted or "") == (live or "")
    if path == f"{NETWORK}.routingAsDefault":
        return bool(wanted) == bool(live)
    if path.startswith(IP_ALLOCATION_POLICY + ".") and isinstance(wanted, str) and isinstance(live, str):
        try:
            return ipaddress.ip_network(wanted, strict=False) == ipaddress.ip_network(live, strict=False)
        except ValueError:
            return wanted == live
    return (wanted or None) == (live or None)


@dataclass
class NetworkPlan:
    diff: list[FieldChange] = field(default_factory=list)
    resets: bool = False  # a difference only a reset makes
    subnet: str | None = None  # the load balancers' subnet to set in place; None: unchanged
    configuration: dict | None = None  # the privateNetworkConfiguration to set in place; None: unchanged
    error: tuple[ErrorReason, str, str] | None = None  # (reason, the spec path it is about, message)
    warnings: list[str] = field(default_factory=list)


def plan_network(desired: DesiredCluster, live: LiveCluster) -> NetworkPlan:
    cluster, planned = dict(live.cluster), NetworkPlan()
    for path, wanted in written_fields(desired):
        actual = live_value(cluster, path)
        if not same(path, wanted, actual):
            planned.diff.append(FieldChange(path, actual, wanted))
    changed = {change.path: change for change in planned.diff}
    live_plan = live_value(cluster, PLAN)
    if PLAN in changed:
        planned.error = (
            ErrorReason.PLAN_CHANGE,
            PLAN,
            f"spec.plan {live_plan} -> {desired.plan}: OVHcloud cannot move a cluster to another plan (no migration "
            f"exists, not even by a reset); back up its workloads (e.g. with Velero), create a new cluster with plan "
            f"{desired.plan} under another name, restore into it, then retire this one; or write plan: {live_plan}",
        )
        return planned
    if live_plan != STANDARD_PLAN:
        standard_only = [
            what
            for what, written in (
                ("ipAllocationPolicy", bool(desired.ip_allocation_policy)),
                ("customization.cilium", CILIUM in desired.customization),
            )
            if written
        ]
        if standard_only:
            written = " and ".join(f"spec.{what}" for what in standard_only)
            planned.error = (
                ErrorReason.NETWORK_INVALID,
                standard_only[0],
                f"{written} need the Standard plan and the cluster is {live_plan}: remove them (a cluster's plan never "
                "changes)",
            )
            return planned
    planned.resets = any(path.startswith(RESET_PATHS) for path in changed)
    subnet_path = f"{NETWORK}.loadBalancersSubnetId"
    if subnet_path in changed:
        planned.subnet = changed[subnet_path].after
        planned.warnings.append(LOAD_BALANCERS_MOVE)
        after = {name: (desired.private_network or {}).get(name) or live_value(cluster, f"{NETWORK}.{name}")
                 for name in NETWORK_IDS}  # fmt: skip
        problem = _subnet_order(after.get)
        if problem:
            planned.error = (ErrorReason.NETWORK_INVALID, *problem)
            return planned
    if any(f"{NETWORK}.{name}" in changed for name in NETWORK_ROUTING):
        planned.configuration = configuration(desired, cluster)
        planned.warnings.append(REDEPLOYS_NODES)
    return planned


def configuration(desired: DesiredCluster, cluster: dict) -> dict:
    """The privateNetworkConfiguration the file asks: its fields as written, the others as read."""
    live = cluster.get(NETWORK_CONFIGURATION) or {}
    written = desired.private_network or {}
    body = {}
    for name, api_name in NETWORK_ROUTING.items():
        value = written[name] if name in written else live.get(api_name)
        if value is not None:
            body[api_name] = value
    body.setdefault("defaultVrackGateway", "")  # not nullable in the description: "" is no gateway
    return body


def reset_fields(desired: DesiredCluster, cluster: dict) -> dict[str, Any]:
    """What a reset body sets of the network beyond the live values it repeats: the file's, over the live ones."""
    wanted = body_fields(dict(written_fields(desired)))
    wanted.pop(PLAN, None)
    if NETWORK_CONFIGURATION in wanted:
        wanted[NETWORK_CONFIGURATION] = configuration(desired, cluster)
    if IP_ALLOCATION_POLICY in wanted:
        wanted[IP_ALLOCATION_POLICY] = (cluster.get(IP_ALLOCATION_POLICY) or {}) | wanted[IP_ALLOCATION_POLICY]
    return wanted


def network_step_live(step: Step, cluster: dict) -> bool:
    """Whether a network step's change shows in the cluster object (it went through)."""
    body = step.body or {}
    if step.kind is StepKind.LOAD_BALANCERS_SUBNET:
        return cluster.get("loadBalancersSubnetId") == body.get("loadBalancersSubnetId")
    live = {name: live_value(cluster, f"{NETWORK}.{name}") for name in NETWORK_ROUTING}
    return all(same(f"{NETWORK}.{name}", body.get(api), live[name]) for name, api in NETWORK_ROUTING.items())


def reset_shows(diff: list[FieldChange], cluster: Mapping[str, Any]) -> bool:
    """Whether the cluster shows what its reset changes: the mode and the reset-only network fields of the diff all
    read as planned. The other settings a reset body carries say nothing: they may equal live before it."""
    own = [change for change in diff if change.path == "kubeProxyMode" or change.path.startswith(RESET_PATHS)]
    return bool(own) and all(
        cluster.get("kubeProxyMode") == change.after
        if change.path == "kubeProxyMode"
        else same(change.path, change.after, live_value(cluster, change.path))
        for change in own
    )


def configuration_not_read(sent: dict, read: dict, in_diff: Callable[[str], bool]) -> list[str]:
    """The privateNetworkConfiguration fields a body sends that its diff does not show and the cluster does not hold."""
    return [
        f"{NETWORK_CONFIGURATION}.{api}"
        for name, api in NETWORK_ROUTING.items()
        if not in_diff(f"{NETWORK}.{name}") and not same(f"{NETWORK}.{name}", sent.get(api), read.get(api))
    ]


# The spec path of each network field a reset body carries under the API's name.
RESET_FIELD_PATHS = {api: f"{NETWORK}.{name}" for name, api in NETWORK_IDS.items()}


def network_spec(step: Step) -> dict | None:
    """A network step's body as the spec fields `validate` checks; None for a step of another kind."""
    body = step.body or {}
    if step.kind is StepKind.LOAD_BALANCERS_SUBNET:
        return {NETWORK: {"loadBalancersSubnetId": body.get("loadBalancersSubnetId")}}
    if step.kind is StepKind.NETWORK_CONFIGURATION:
        return {NETWORK: {name: body[api] for name, api in NETWORK_ROUTING.items() if api in body}}
    return None
