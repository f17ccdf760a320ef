"""The network's classification as a table: desired x live -> action, reason and steps, with no sandbox and no
process. Each difference is in place, a reset gated by allowReset, or impossible; the end-to-end tests prove the same
over HTTP."""

import pytest
from apply_helpers import PROJECT, live

from reconciler.live.read import LiveCluster, LiveResult
from reconciler.model import DesiredCluster, ErrorReason, Lifecycle
from reconciler.plan.data import Action
from reconciler.plan.planner import plan_cluster
from reconciler.steps import StepKind

NETWORK, NODES = "pn-1", "6f3c1e2a-2222-4ccc-9ddd-000000000001"
BALANCERS, OTHER = "7a4c2e9f-3333-4eee-afff-000000000001", "7a4c2e9f-3333-4eee-afff-000000000002"
OTHER_NODES = "6f3c1e2a-2222-4ccc-9ddd-000000000002"
STANDARD = live(1, "alpha") | {
    "plan": "standard",
    "privateNetworkId": NETWORK,
    "nodesSubnetId": NODES,
    "loadBalancersSubnetId": BALANCERS,
    "privateNetworkConfiguration": {"defaultVrackGateway": "192.168.0.1", "privateNetworkRoutingAsDefault": False},
    "ipAllocationPolicy": None,  # none read: OVHcloud's defaults
}


def desired(**fields) -> DesiredCluster:
    return DesiredCluster(project=PROJECT, name="alpha", source="fleet.yaml:1", **fields)


def found(**changed) -> LiveResult:
    cluster = STANDARD | changed
    return LiveResult(found=LiveCluster(cluster, cluster["customization"], [], {}))


CASES = {
    "the API's default ranges, written, are no change": (
        desired(ip_allocation_policy={"podsIpv4Cidr": "10.240.0.0/13", "servicesIpv4Cidr": "10.3.0.0/16"}),
        found(),
        Action.NOOP,
        None,
        [],
    ),
    'a gateway of "" and none are one': (
        desired(private_network={"gateway": ""}),
        found(privateNetworkConfiguration=None),
        Action.NOOP,
        None,
        [],
    ),
    "the load balancers' subnet is changed in place": (
        desired(private_network={"loadBalancersSubnetId": OTHER}),
        found(),
        Action.UPDATE,
        None,
        [(StepKind.LOAD_BALANCERS_SUBNET, {"loadBalancersSubnetId": OTHER})],
    ),
    "routing is changed in place, the gateway it does not manage sent as read": (
        desired(private_network={"routingAsDefault": True}),
        found(),
        Action.UPDATE,
        None,
        [
            (
                StepKind.NETWORK_CONFIGURATION,
                {"defaultVrackGateway": "192.168.0.1", "privateNetworkRoutingAsDefault": True},
            )
        ],
    ),
    "a new nodes subnet needs allowReset": (
        desired(private_network={"nodesSubnetId": "6f3c1e2a-2222-4ccc-9ddd-000000000002"}),
        found(),
        Action.ERROR,
        ErrorReason.RESET_NOT_ALLOWED,
        [],
    ),
    "a new pod range with allowReset is a reset carrying it and keeping the rest": (
        desired(ip_allocation_policy={"podsIpv4Cidr": "10.200.0.0/16"}, lifecycle=Lifecycle(allow_reset=True)),
        found(),
        Action.RESET,
        None,
        [
            (
                StepKind.RESET,
                {
                    "name": "alpha",
                    "kubeProxyMode": "iptables",
                    "customization": STANDARD["customization"],
                    "privateNetworkId": NETWORK,
                    "privateNetworkConfiguration": STANDARD["privateNetworkConfiguration"],
                    "nodesSubnetId": NODES,
                    "loadBalancersSubnetId": BALANCERS,
                    "updatePolicy": "MINIMAL_DOWNTIME",
                    "ipAllocationPolicy": {"podsIpv4Cidr": "10.200.0.0/16"},
                },
            )
        ],
    ),
    "the plan never changes, whatever allowReset says": (
        desired(plan="free", lifecycle=Lifecycle(allow_reset=True)),
        found(),
        Action.ERROR,
        ErrorReason.PLAN_CHANGE,
        [],
    ),
    "Cilium on a Free cluster is refused": (
        desired(customization={"cilium": {"hubble": {"enabled": True}}}),
        found(plan="free"),
        Action.ERROR,
        ErrorReason.NETWORK_INVALID,
        [],
    ),
    "a new cluster with ranges but no plan would be free: refused": (
        desired(region="GRA7", ip_allocation_policy={"podsIpv4Cidr": "10.200.0.0/16"}),
        LiveResult(),
        Action.ERROR,
        ErrorReason.NETWORK_INVALID,
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_network_difference_is_classified(case):
    wanted, result, action, reason, steps = CASES[case]
    change = plan_cluster(wanted, result)
    assert (change.action, change.reason) == (action, reason), change.error
    assert [(step.kind, step.body) for step in change.steps] == steps


def test_a_reset_for_the_network_says_what_needs_it_and_a_node_redeploy_is_said():
    change = plan_cluster(desired(ip_allocation_policy={"podsIpv4Cidr": "10.200.0.0/16"}), found())
    assert change.error.startswith("ipAllocationPolicy.podsIpv4Cidr 10.240.0.0/13 -> 10.200.0.0/16 needs a reset")
    change = plan_cluster(desired(private_network={"gateway": "192.168.0.9"}), found())
    assert any("every node is redeployed" in warning for warning in change.warnings)
    change = plan_cluster(desired(plan="free"), found())
    assert "no migration exists" in change.error and "back up its workloads" in change.error


def test_a_new_standard_cluster_is_not_asked_for_a_kube_proxy_mode_it_would_not_use():
    network = {"id": NETWORK, "nodesSubnetId": NODES}
    standard = plan_cluster(desired(region="EU-WEST-PAR", plan="standard", private_network=network), LiveResult())
    free = plan_cluster(desired(region="GRA7"), LiveResult())
    assert standard.action is Action.CREATE and not any("kubeProxyMode" in w for w in standard.warnings)
    assert any("kubeProxyMode is not set" in w for w in free.warnings)


@pytest.mark.parametrize(
    ("spec", "live_plan", "line"),
    [
        ("  plan: free\n", "standard", 7),
        ("  ipAllocationPolicy: {podsIpv4Cidr: 10.200.0.0/16}\n", "free", 7),
        ("  customization:\n    cilium: {hubble: {enabled: true}}\n", "free", 8),
        ("  privateNetwork:\n    loadBalancersSubnetId: " + OTHER + "\n", "standard-without-network", 8),
    ],
)
def test_every_network_error_names_the_line_to_edit(tmp_path, spec, live_plan, line):
    from reconciler.files.validate import load_desired

    path = tmp_path / "alpha.yaml"
    path.write_text(
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: alpha\nspec:\n  project: {PROJECT}\n{spec}"
    )
    loaded = load_desired([str(path)])
    (wanted,) = loaded.clusters
    without_network = {"privateNetworkId": None, "nodesSubnetId": None}
    cluster = {"standard": {}, "free": {"plan": "free"}}.get(live_plan, without_network)
    change = plan_cluster(wanted, found(**cluster))
    assert change.action is Action.ERROR, change
    assert change.error.startswith(f"{path}:{line}:"), change.error


def test_a_saved_network_configuration_sending_a_gateway_the_cluster_lacks_is_refused():
    """The routing changes; the gateway the step carries beside it is live's, and an edit of it is caught."""
    from dataclasses import replace

    from reconciler.plan.planfile import not_as_read

    result = found()
    change = plan_cluster(desired(private_network={"routingAsDefault": True}), result)
    (step,) = change.steps
    assert not_as_read(change, result.found) is None
    forged = replace(step, body={**step.body, "defaultVrackGateway": "10.6.6.6"})
    message = not_as_read(replace(change, steps=[forged]), result.found)
    assert message is not None and "privateNetworkConfiguration.defaultVrackGateway" in message


def test_a_saved_network_reset_carries_every_kept_field_as_read():
    """A reset for a new nodes subnet is as planned; the same reset with another network id is an edit."""
    from dataclasses import replace

    from reconciler.plan.planfile import not_as_read

    result = found()
    wanted = desired(private_network={"nodesSubnetId": OTHER_NODES}, lifecycle=Lifecycle(allow_reset=True))
    change = plan_cluster(wanted, result)
    assert change.action is Action.RESET
    assert not_as_read(change, result.found) is None
    reset, *rest = change.steps
    forged = replace(reset, body={**reset.body, "privateNetworkId": "pn-2"})
    message = not_as_read(replace(change, steps=[forged, *rest]), result.found)
    assert message is not None and "privateNetworkId" in message
