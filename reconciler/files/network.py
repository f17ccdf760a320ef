"""Meaning rules of the network settings (plan, privateNetwork, ipAllocationPolicy, customization.cilium), offline.

What the plan asks of a file (OVHcloud's Standard plan and 3-AZ guides): a Standard cluster, or any in a 3-AZ
region, needs a private network and its nodes subnet, and every node pool names its zone; pod and service ranges and
Cilium settings exist on Standard only. Ranges are IPv4 CIDRs that overlap neither each other nor the gateway's
network address. Each problem is yielded as (path under spec, message, severity).
"""

import ipaddress
from collections.abc import Iterator

from reconciler.files.problem import ERROR, WARNING, shown
from reconciler.model import CILIUM, FREE_PLAN, IP_ALLOCATION_FIELDS, STANDARD_PLAN, is_three_az

Found = tuple[tuple, str, str]


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def range_problem(text: str) -> str | None:
    """Why `text` is not an IPv4 range the API takes for pods or services; None when it is one."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"not an IPv4 range in CIDR notation (e.g. 10.240.0.0/13); got {shown(text)}"
    if network.version != 4:
        return f"must be an IPv4 range (the API takes no IPv6 here); got {shown(text)}"
    if "/" not in text:
        return f"must be a range with its prefix length (e.g. {network.with_prefixlen}); got {shown(text)}"
    if network.with_prefixlen != text:
        return f"has host bits set: the range {text} is {network.with_prefixlen}; write that"
    return None


def gateway_problem(text: str) -> str | None:
    if text == "":
        return None  # the API's "no default gateway"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return f'must be an IPv4 address in the private network, or "" for none; got {shown(text)}'
    if address.version != 4:
        return f"must be an IPv4 address; got {shown(text)}"
    return None


def _allowed(address: str, ranges: list) -> bool:
    for entry in ranges:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(str(entry), strict=False):
                return True
        except ValueError:
            continue  # a malformed range is reported on its own
    return False


def network_problems(spec: dict) -> Iterator[Found]:
    plan, region = spec.get("plan"), spec.get("region")
    network = _mapping(spec.get("privateNetwork"))
    policy = _mapping(spec.get("ipAllocationPolicy"))
    cilium_written = CILIUM in _mapping(spec.get("customization"))
    gateway = network.get("gateway")
    if isinstance(gateway, str):
        message = gateway_problem(gateway)
        if message:
            yield ("privateNetwork", "gateway"), message, ERROR
    ranges = {}
    for name in IP_ALLOCATION_FIELDS:
        value = policy.get(name)
        message = range_problem(value) if isinstance(value, str) else None
        if message:
            yield ("ipAllocationPolicy", name), message, ERROR
        elif isinstance(value, str):
            ranges[name] = ipaddress.IPv4Network(value)
    pods, services = ranges.get("podsIpv4Cidr"), ranges.get("servicesIpv4Cidr")
    if pods and services and pods.overlaps(services):
        yield (
            ("ipAllocationPolicy", "servicesIpv4Cidr"),
            f"overlaps podsIpv4Cidr ({pods}): they must not collide",
            ERROR,
        )
    if isinstance(gateway, str) and gateway and gateway_problem(gateway) is None:
        for name, network_range in ranges.items():
            if ipaddress.ip_address(gateway) in network_range:
                message = f"holds the gateway {gateway}, an address of the private network: they must not collide"
                yield ("ipAllocationPolicy", name), message, ERROR

    restrictions = spec.get("ipRestrictions")
    restricted = isinstance(restrictions, list) and bool(restrictions)
    routed = isinstance(gateway, str) and bool(gateway) and gateway_problem(str(gateway)) is None
    if plan == STANDARD_PLAN and restricted and routed and not _allowed(str(gateway), list(restrictions or ())):
        message = (
            f"does not allow the gateway {gateway}: on the Standard plan the nodes reach the API server through "
            f"it, so the allow-list must include it (OVHcloud's Standard plan guide)"
        )
        yield ("ipRestrictions",), message, WARNING
    if plan == FREE_PLAN:
        if policy:
            yield ("ipAllocationPolicy",), "pod and service ranges can be chosen on the Standard plan only", ERROR
        if cilium_written:
            yield ("customization", CILIUM), "Cilium runs on the Standard plan only (Free runs kube-proxy)", ERROR
    needs = "a Standard-plan cluster" if plan == STANDARD_PLAN else None
    if needs is None and isinstance(region, str) and is_three_az(region):
        needs = f"a cluster in a 3-AZ region ({region})"
    if needs is None:
        return
    where = ("plan",) if plan == STANDARD_PLAN else ("region",)
    missing = [name for name in ("id", "nodesSubnetId") if not network.get(name)]
    if missing:
        fields = " and ".join(f"privateNetwork.{name}" for name in missing)
        yield where, f"{needs} needs a private network: write {fields}", ERROR
    for name, pool in _mapping(spec.get("nodePools")).items():
        pool = _mapping(pool)
        if pool.get("delete") is not True and not pool.get("availabilityZones"):
            zone = f"{region.lower()}-a" if isinstance(region, str) else "eu-west-par-a"
            message = f"{needs} needs each node pool to name its zone: write availabilityZones: [{zone}] (or -b, -c)"
            yield ("nodePools", name), message, ERROR
