"""The sandbox's own checks beside the contract, as lists of problems (`path: message`); empty means accepted.

Request bodies are held to OVHcloud's API description by reconciler.sandbox.contract first; here are what it takes
that the API refuses all the same (`customization_rules`: a zero syncPeriod, an IPVS tcpTimeout strictly between 0
and 5 seconds, NodeRestriction disabled), the node pool bodies' whole-template rules, and the checkers seed files
are read with. The enums and the duration format are the sandbox's own (reconciler.sandbox.facts), never the
client's; tests/test_contract.py holds those enums to the description.
"""

import ipaddress
import json
from collections.abc import Callable

from reconciler.sandbox.facts import (
    ADMISSION_PLUGINS,
    ALWAYS_ENABLED_PLUGINS,
    IPVS_SCHEDULERS,
    KUBE_PROXY_MODES,
    STANDARD_PLAN,
    TAINT_EFFECTS,
    UPDATE_POLICIES,
    VERSIONS,
    duration_seconds,
    three_zones,
)

Checker = Callable[[object, str, list], None]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def string(value, path, problems) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: expected a string, got {_type_name(value)}")


def shown(value) -> str:
    """A value in a message as JSON writes it ("nft", null, [1]), not as Python's repr ('nft', None)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def boolean(value, path, problems) -> None:
    if not isinstance(value, bool):
        problems.append(f"{path}: expected a boolean, got {_type_name(value)}")


def any_object(value, path, problems) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object, got {_type_name(value)}")


def enum(values: tuple[str, ...]) -> Checker:
    def check(value, path, problems) -> None:
        if value not in values:
            problems.append(f"{path}: {shown(value)} is not one of {', '.join(values)}")

    return check


def duration(value, path, problems) -> None:
    if duration_seconds(value) is None:
        problems.append(f"{path}: {shown(value)} is not an ISO 8601 duration such as PT30S")


def list_of(item: Checker) -> Checker:
    def check(value, path, problems) -> None:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {_type_name(value)}")
            return
        for index, element in enumerate(value):
            item(element, f"{path}[{index}]", problems)

    return check


def obj(
    fields: dict[str, Checker], required: tuple[str, ...] = (), then: Checker | None = None, nullable: bool = True
) -> Checker:
    """An object with known fields only; `then` runs the meaning rules (on the values that are well typed).
    `nullable`: its fields may be null (the schema says which bodies allow it)."""

    def check(value, path, problems) -> None:
        if not isinstance(value, dict):
            problems.append(f"{path or '(top level)'}: expected an object, got {_type_name(value)}")
            return
        for name in required:
            if value.get(name) is None:
                problems.append(f"{_join(path, name)}: required")
        for name, field_value in value.items():
            if name not in fields:
                problems.append(f"{_join(path, name)}: unknown field")
            elif field_value is not None:
                fields[name](field_value, _join(path, name), problems)
            elif not nullable:
                problems.append(f"{_join(path, name)}: must not be null")
        if then is not None:
            then(value, path, problems)

    return check


def _sync_period_positive(block, path, problems) -> None:
    if duration_seconds(block.get("syncPeriod")) == 0:
        problems.append(f"{_join(path, 'syncPeriod')}: must be greater than 0")


def _ipvs_rules(block, path, problems) -> None:
    _sync_period_positive(block, path, problems)
    tcp_timeout = duration_seconds(block.get("tcpTimeout"))
    if tcp_timeout is not None and 0 < tcp_timeout < 5:
        problems.append(f"{_join(path, 'tcpTimeout')}: cannot be set between PT0S and PT5S")


IPTABLES = obj({"minSyncPeriod": duration, "syncPeriod": duration}, then=_sync_period_positive)
IPVS = obj(
    {name: duration for name in ("minSyncPeriod", "syncPeriod", "tcpFinTimeout", "tcpTimeout", "udpTimeout")}
    | {"scheduler": enum(IPVS_SCHEDULERS)},
    then=_ipvs_rules,
)


def _plugins_rules(plugins, path, problems) -> None:
    # The real answer to this is undocumented (ovh/docs apiserver-flags-configuration only says NodeRestriction stays
    # enabled); the sandbox takes the conservative guess, a 400, so a client that sends it is caught.
    disabled = plugins.get("disabled")
    for plugin in disabled if isinstance(disabled, list) else ():
        if plugin in ALWAYS_ENABLED_PLUGINS:
            problems.append(f"{_join(path, 'disabled')}: {plugin} cannot be disabled")


PLUGINS = list_of(enum(ADMISSION_PLUGINS))


def _customization(plugin_rules: Checker | None) -> Checker:
    plugins = obj({"enabled": PLUGINS, "disabled": PLUGINS}, then=plugin_rules)
    return obj(
        {
            "apiServer": obj({"admissionPlugins": plugins}),
            "kubeProxy": obj({"iptables": IPTABLES, "ipvs": IPVS}),
            "cilium": any_object,  # newer block: kept as it is, never interpreted
        }
    )


STORED_CUSTOMIZATION = _customization(None)  # what a cluster may hold (a seed may show any well-typed state)
PRIVATE_NETWORK_CONFIGURATION = obj({"defaultVrackGateway": string, "privateNetworkRoutingAsDefault": boolean})
IP_ALLOCATION_POLICY = obj({"podsIpv4Cidr": string, "servicesIpv4Cidr": string})

# Fields shared by the create and reset bodies.
CLUSTER_SETTINGS = {
    "name": string,
    "version": enum(VERSIONS),
    "kubeProxyMode": enum(KUBE_PROXY_MODES),
    "customization": STORED_CUSTOMIZATION,
    "privateNetworkId": string,
    "privateNetworkConfiguration": PRIVATE_NETWORK_CONFIGURATION,
    "nodesSubnetId": string,
    "loadBalancersSubnetId": string,
    "updatePolicy": enum(UPDATE_POLICIES),
    "ipAllocationPolicy": IP_ALLOCATION_POLICY,
}


def integer(value, path, problems) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{path}: expected an integer, got {_type_name(value)}")


def number(value, path, problems) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        problems.append(f"{path}: expected a number, got {_type_name(value)}")


def string_map(value, path, problems) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object, got {_type_name(value)}")
        return
    for key, item in value.items():
        string(item, f"{path}.{key}", problems)


# Node pools (cloud.ProjectKubeNodePoolCreation / ...Update, cloud.kube.NodePoolTemplate): a template, when sent, is
# whole (metadata with annotations, finalizers and labels; spec with taints and unschedulable; each taint whole).
TAINT = obj(
    {"effect": enum(TAINT_EFFECTS), "key": string, "value": string}, required=("effect", "key", "value"), nullable=False
)
TEMPLATE = obj(
    {
        "metadata": obj(
            {"annotations": string_map, "finalizers": list_of(string), "labels": string_map},
            required=("annotations", "finalizers", "labels"),
            nullable=False,
        ),
        "spec": obj({"taints": list_of(TAINT), "unschedulable": boolean}, required=("taints", "unschedulable")),
    },
    required=("metadata", "spec"),
    nullable=False,
)
AUTOSCALING = obj(
    {
        "scaleDownUnneededTimeSeconds": integer,
        "scaleDownUnreadyTimeSeconds": integer,
        "scaleDownUtilizationThreshold": number,
    },
    nullable=False,
)
_POOL_SETTINGS = {
    "attachFloatingIps": obj({"enabled": boolean}, nullable=False),
    "autoscale": boolean,
    "autoscaling": AUTOSCALING,
    "desiredNodes": integer,
    "maxNodes": integer,
    "minNodes": integer,
    "template": TEMPLATE,
}
POOL_CREATE = obj(
    _POOL_SETTINGS
    | {
        "antiAffinity": boolean,
        "availabilityZones": list_of(string),
        "flavorName": string,
        "monthlyBilled": boolean,
        "name": string,
    },
    required=("flavorName",),
)
POOL_UPDATE = obj(_POOL_SETTINGS | {"nodesToRemove": list_of(string)})


def customization_rules(customization: object, path: str = "") -> list[str]:
    """What the API refuses in a customization the description's schema takes (its prose says so, or kube-proxy
    would): a zero syncPeriod, an IPVS tcpTimeout between 0 and 5 s, NodeRestriction disabled. The customization's
    shape is the contract's business (reconciler.sandbox.contract), checked first."""
    problems: list[str] = []
    if not isinstance(customization, dict):
        return problems
    kube_proxy = customization.get("kubeProxy") or {}
    rules: tuple[tuple[str, object, Checker], ...] = (
        ("kubeProxy.iptables", kube_proxy.get("iptables"), _sync_period_positive),
        ("kubeProxy.ipvs", kube_proxy.get("ipvs"), _ipvs_rules),
        ("apiServer.admissionPlugins", (customization.get("apiServer") or {}).get("admissionPlugins"), _plugins_rules),
    )
    for where, block, rule in rules:
        if isinstance(block, dict):
            rule(block, _join(path, where), problems)
    return problems


def network_rules(cluster: dict, pools: list, path: str = "") -> list[str]:
    """What the API refuses of a cluster's network as a create or reset would leave it (`cluster`: its fields after
    the body; `pools`: the pools it creates): the subnets' order, a Standard or 3-AZ cluster without a private network
    or with a pool that names no zone, pod and service ranges or Cilium on Free, ranges that collide."""
    problems: list[str] = []
    standard = cluster.get("plan") == STANDARD_PLAN
    if cluster.get("nodesSubnetId") and not cluster.get("privateNetworkId"):
        problems.append(f"{_join(path, 'nodesSubnetId')}: can only be set if privateNetworkId is also set")
    if cluster.get("loadBalancersSubnetId") and not (cluster.get("privateNetworkId") and cluster.get("nodesSubnetId")):
        problems.append(
            f"{_join(path, 'loadBalancersSubnetId')}: can only be set if privateNetworkId and nodesSubnetId are "
            "also set"
        )
    needs = "the Standard plan" if standard else None
    if not standard and three_zones(str(cluster.get("region"))):
        needs = "a 3-AZ region"
    if needs and not (cluster.get("privateNetworkId") and cluster.get("nodesSubnetId")):
        problems.append(f"{_join(path, 'privateNetworkId')}: {needs} needs a private network and a nodes subnet")
    for index, pool in enumerate(pools):
        if needs and isinstance(pool, dict) and not pool.get("availabilityZones"):
            problems.append(f"nodepools[{index}].availabilityZones: {needs} needs each node pool's zone")
    if not standard:
        if cluster.get("ipAllocationPolicy"):
            problems.append(f"{_join(path, 'ipAllocationPolicy')}: only on the Standard plan")
        if (cluster.get("customization") or {}).get("cilium"):
            problems.append(f"{_join(path, 'customization.cilium')}: only on the Standard plan")
    ranges = []
    for name, value in (cluster.get("ipAllocationPolicy") or {}).items():
        try:
            ranges.append(ipaddress.IPv4Network(value))
        except (ValueError, TypeError):
            problems.append(f"{_join(path, 'ipAllocationPolicy.' + name)}: {shown(value)} is not an IPv4 block")
    if len(ranges) == 2 and ranges[0].overlaps(ranges[1]):
        problems.append(f"{_join(path, 'ipAllocationPolicy')}: the pods and services blocks collide")
    return problems


def problems_in(checker: Checker, body: object, path: str = "") -> list[str]:
    problems: list[str] = []
    checker(body, path, problems)
    return problems
