"""spec.plan, spec.privateNetwork, spec.ipAllocationPolicy and customization.cilium offline: the plan's rules (Standard
and 3-AZ regions need a private network and a zone per pool; ranges and Cilium on Standard only), ranges that parse
and do not collide, each problem at its FILE:LINE; ClusterDefaults may give them; the desired model."""

import pytest

from reconciler.files.validate import load_desired
from reconciler.model import is_three_az

PROJECT = "0123456789abcdef0123456789abcdef"
NET = "  privateNetwork:\n    id: pn-123456\n    nodesSubnetId: 6f3c1e2a-0000-4000-8000-000000000001\n"


def cluster_text(extra: str, region: str = "EU-WEST-PAR") -> str:
    return (
        "apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: web\nspec:\n"
        f"  project: {PROJECT}\n  region: {region}\n{extra}"
    )


def problems_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    loaded = load_desired([str(path)])
    return [str(problem).removeprefix(f"{path}:") for problem in loaded.problems + loaded.warnings]


ZONED = "  nodePools:\n    a: {flavorName: b3-8, availabilityZones: [eu-west-par-a]}\n"


@pytest.mark.parametrize(
    ("extra", "region", "expected"),
    [
        ("  plan: standard\n" + NET + ZONED, "EU-WEST-PAR", []),
        (
            "  plan: standard\n",
            "GRA7",
            [
                "8:9: spec.plan: a Standard-plan cluster needs a private network: write privateNetwork.id and "
                "privateNetwork.nodesSubnetId"
            ],
        ),
        (
            "  plan: standard\n" + NET + "  nodePools:\n    a: {flavorName: b3-8}\n    old: {delete: true}\n",
            "GRA7",
            [
                "13:8: spec.nodePools.a: a Standard-plan cluster needs each node pool to name its zone: write "
                "availabilityZones: [gra7-a] (or -b, -c)"
            ],
        ),
        (
            "  nodePools:\n    a: {flavorName: b3-8}\n",
            "EU-WEST-PAR",
            [
                "7:11: spec.region: a cluster in a 3-AZ region (EU-WEST-PAR) needs a private network: write "
                "privateNetwork.id and privateNetwork.nodesSubnetId",
                "9:8: spec.nodePools.a: a cluster in a 3-AZ region (EU-WEST-PAR) needs each node pool to name its "
                "zone: write availabilityZones: [eu-west-par-a] (or -b, -c)",
            ],
        ),
        ("  plan: free\n  nodePools:\n    a: {flavorName: b3-8}\n", "GRA7", []),
        (
            "  plan: free\n  ipAllocationPolicy: {podsIpv4Cidr: 10.0.0.0/16}\n  customization:\n    cilium: {}\n",
            "GRA7",
            [
                "9:23: spec.ipAllocationPolicy: pod and service ranges can be chosen on the Standard plan only",
                "11:13: spec.customization.cilium: Cilium runs on the Standard plan only (Free runs kube-proxy)",
            ],
        ),
        (
            "  plan: standard\n" + NET + "    gateway: 10.100.0.1\n  ipAllocationPolicy:\n"
            "    podsIpv4Cidr: 10.100.0.0/16\n    servicesIpv4Cidr: 10.100.128.0/17\n",
            "GRA7",
            [
                "14:19: spec.ipAllocationPolicy.podsIpv4Cidr: holds the gateway 10.100.0.1, an address of the private "
                "network: they must not collide",
                "15:23: spec.ipAllocationPolicy.servicesIpv4Cidr: overlaps podsIpv4Cidr (10.100.0.0/16): they must not "
                "collide",
            ],
        ),
        (
            "  ipAllocationPolicy:\n    podsIpv4Cidr: 10.240.0.1/13\n    servicesIpv4Cidr: fd00::/64\n",
            "GRA7",
            [
                "9:19: spec.ipAllocationPolicy.podsIpv4Cidr: has host bits set: the range 10.240.0.1/13 is "
                "10.240.0.0/13; write that",
                "10:23: spec.ipAllocationPolicy.servicesIpv4Cidr: must be an IPv4 range (the API takes no IPv6 here); "
                'got "fd00::/64"',
            ],
        ),
        (
            "  privateNetwork: {gateway: gw, routingAsDefault: yes}\n",
            "GRA7",
            [
                '8:29: spec.privateNetwork.gateway: must be an IPv4 address in the private network, or "" for none; '
                'got "gw"',
                '8:51: spec.privateNetwork.routingAsDefault: expected true or false, got a string ("yes"); YAML 1.2 '
                "reads yes/no/on/off/y/n as strings: write true or false",
            ],
        ),
        ('  privateNetwork: {gateway: ""}\n', "GRA7", []),
        (
            "  plan: standard\n" + NET + "    gateway: 10.0.0.1\n  ipRestrictions: [203.0.113.0/24]\n",
            "GRA7",
            [
                "13:19: warning: spec.ipRestrictions: does not allow the gateway 10.0.0.1: on the Standard plan the "
                "nodes reach the API server through it, so the allow-list must include it (OVHcloud's Standard plan "
                "guide)"
            ],
        ),
        ("  plan: standard\n" + NET + "    gateway: 10.0.0.1\n  ipRestrictions: [10.0.0.0/24]\n", "GRA7", []),
        (
            "  customization:\n    cilium:\n      clusterMesh: {apiServer: {serviceType: ClusterIP}}\n",
            "GRA7",
            [
                "10:46: spec.customization.cilium.clusterMesh.apiServer.serviceType: must be one of: LoadBalancer, "
                'NodePort; got "ClusterIP"'
            ],
        ),
    ],
)
def test_network_rules_each_at_its_line(tmp_path, extra, region, expected):
    assert problems_of(tmp_path, cluster_text(extra, region)) == expected


def test_defaults_can_give_the_network_and_the_rules_see_the_merged_spec(tmp_path):
    defaults = (
        "apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata:\n  name: paris\nselector:\n  regions: [EU-WEST-PAR]\n"
        "spec:\n  plan: standard\n  privateNetwork: {id: pn-1, nodesSubnetId: 6f3c1e2a-0000-4000-8000-000000000001}\n"
        "  ipAllocationPolicy: {podsIpv4Cidr: 10.200.0.0/16}\n"
    )
    (tmp_path / "defaults.yaml").write_text(defaults)
    (tmp_path / "c.yaml").write_text(cluster_text(ZONED + "  ipAllocationPolicy: {servicesIpv4Cidr: 10.200.1.0/24}\n"))
    loaded = load_desired([str(tmp_path)])
    assert [str(problem) for problem in loaded.problems] == [
        f"{tmp_path / 'c.yaml'}:10:42: spec.ipAllocationPolicy.servicesIpv4Cidr: overlaps podsIpv4Cidr (10.200.0.0/16):"
        " they must not collide"
    ]
    (tmp_path / "c.yaml").write_text(cluster_text(ZONED + "  customization:\n    cilium: {hubble: {enabled: true}}\n"))
    loaded = load_desired([str(tmp_path)])
    assert loaded.ok, loaded.problems
    (cluster,) = loaded.clusters
    assert cluster.plan == "standard"
    assert cluster.private_network == {"id": "pn-1", "nodesSubnetId": "6f3c1e2a-0000-4000-8000-000000000001"}
    assert cluster.ip_allocation_policy == {"podsIpv4Cidr": "10.200.0.0/16"}
    assert cluster.customization == {"cilium": {"hubble": {"enabled": True}}}


def test_an_empty_customization_does_not_manage_cilium(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(cluster_text("  customization: {}\n", "GRA7"))
    (cluster,) = load_desired([str(path)]).clusters
    assert cluster.customization == {"apiServer": {}, "kubeProxy": {}}
    assert (cluster.plan, cluster.private_network, cluster.ip_allocation_policy) == (None, None, None)


@pytest.mark.parametrize(
    ("region", "three"),
    [("EU-WEST-PAR", True), ("EU-SOUTH-MIL", True), ("GRA7", False), ("EU-SOUTH-LZ-MAD", False), ("DE1", False)],
)
def test_three_az_regions_by_their_name(region, three):
    assert is_three_az(region) is three
