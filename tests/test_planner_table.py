"""The planner as a table: desired x live -> action and steps (kind, body), with no sandbox and no process. The
end-to-end tests prove the same steps go over HTTP; these prove the choice of steps, case by case."""

from dataclasses import replace

import pytest
from apply_helpers import IPTABLES_30S, IPTABLES_60S, PLUGINS, PROJECT, cluster_id, live

from reconciler.live.read import LiveCluster, LiveResult
from reconciler.model import DesiredCluster, ErrorReason, Lifecycle
from reconciler.plan.data import Action
from reconciler.plan.planner import plan_cluster
from reconciler.steps import NEW_CLUSTER_ID, POOL_KINDS, ClusterTarget, PoolTarget, Step, StepKind

ID = cluster_id(1)
OIDC = {"issuerUrl": "https://id.example.com", "clientId": "kube"}
CLUSTER = live(1, "alpha")
UPGRADES = Lifecycle(allow_upgrade=True)
RESETS = Lifecycle(allow_reset=True)


def desired(**fields) -> DesiredCluster:
    return DesiredCluster(project=PROJECT, name="alpha", source="fleet.yaml:1", **fields)


def found(ip_restrictions=None, openid_connect=None, **changed) -> LiveResult:
    cluster = CLUSTER | changed
    return LiveResult(found=LiveCluster(cluster, cluster["customization"], ip_restrictions, openid_connect))


ABSENT = LiveResult()
HERE = ClusterTarget(PROJECT, ID)

# id: (desired, live, action, steps as (kind, body))
CASES = {
    "nothing differs": (desired(customization={"kubeProxy": IPTABLES_30S}), found(), Action.NOOP, []),
    "a leaf sends its whole block, and every other block as read": (
        desired(customization={"kubeProxy": IPTABLES_60S}),
        found(),
        Action.UPDATE,
        [(StepKind.PUT_CUSTOMIZATION, {"apiServer": PLUGINS, "kubeProxy": IPTABLES_60S})],
    ),
    "a policy leaving NEVER_UPDATE goes before the upgrades, one per minor": (
        desired(version="1.33", update_policy="ALWAYS_UPDATE", lifecycle=UPGRADES),
        found(updatePolicy="NEVER_UPDATE"),
        Action.UPGRADE,
        [
            (StepKind.UPDATE_POLICY, {"updatePolicy": "ALWAYS_UPDATE"}),
            (StepKind.UPGRADE, {"strategy": "NEXT_MINOR"}),
            (StepKind.UPGRADE, {"strategy": "NEXT_MINOR"}),
        ],
    ),
    "a policy entering NEVER_UPDATE goes last": (
        desired(update_policy="NEVER_UPDATE", customization={"kubeProxy": IPTABLES_60S}),
        found(),
        Action.UPDATE,
        [
            (StepKind.PUT_CUSTOMIZATION, {"apiServer": PLUGINS, "kubeProxy": IPTABLES_60S}),
            (StepKind.UPDATE_POLICY, {"updatePolicy": "NEVER_UPDATE"}),
        ],
    ),
    "IP restrictions, then a new OIDC": (
        desired(ip_restrictions=("203.0.113.0/24",), openid_connect=OIDC),
        found(ip_restrictions=[], openid_connect={}),
        Action.UPDATE,
        [(StepKind.IP_RESTRICTIONS, {"ips": ["203.0.113.0/24"]}), (StepKind.OIDC_CREATE, OIDC)],
    ),
    "the same ranges in another order: nothing": (
        desired(ip_restrictions=("198.51.100.7/32", "203.0.113.0/24")),
        found(ip_restrictions=["203.0.113.0/24", "198.51.100.7/32"]),
        Action.NOOP,
        [],
    ),
    "OIDC {} removes it": (
        desired(openid_connect={}),
        found(openid_connect=OIDC),
        Action.UPDATE,
        [(StepKind.OIDC_DELETE, None)],
    ),
    "a changed OIDC field replaces it whole": (
        desired(openid_connect=OIDC | {"clientId": "other"}),
        found(openid_connect=OIDC),
        Action.UPDATE,
        [(StepKind.OIDC_UPDATE, OIDC | {"clientId": "other"})],
    ),
    "the latest patch": (
        desired(lifecycle=replace(UPGRADES, latest_patch=True)),
        found(isUpToDate=False),
        Action.UPGRADE,
        [(StepKind.UPGRADE, {"strategy": "LATEST_PATCH"})],
    ),
    "a reset keeps what it would lose, its version too, and puts back the file's IP restrictions": (
        desired(kube_proxy_mode="ipvs", ip_restrictions=("203.0.113.0/24",), lifecycle=RESETS),
        found(ip_restrictions=["203.0.113.0/24"], openid_connect={}),
        Action.RESET,
        [
            (
                StepKind.RESET,
                {
                    "name": "alpha",
                    "kubeProxyMode": "ipvs",
                    "customization": {"apiServer": PLUGINS, "kubeProxy": IPTABLES_30S},
                    "updatePolicy": "MINIMAL_DOWNTIME",
                },
            ),
            (StepKind.IP_RESTRICTIONS, {"ips": ["203.0.113.0/24"]}),
        ],
    ),
    "a reset not allowed": (desired(kube_proxy_mode="ipvs"), found(), ErrorReason.RESET_NOT_ALLOWED, []),
    "an upgrade not allowed": (desired(version="1.32"), found(), ErrorReason.UPGRADE_NOT_ALLOWED, []),
    "a cluster that will not turn READY": (
        desired(customization={"kubeProxy": IPTABLES_60S}),
        found(status="ERROR"),
        ErrorReason.NOT_READY,
        [],
    ),
    "absent without a region": (desired(), ABSENT, ErrorReason.REGION_REQUIRED, []),
    "a rename carries the live policy, then the file's policy": (
        desired(renamed_from="alpha-old", update_policy="NEVER_UPDATE"),
        found(name="alpha-old"),
        Action.UPDATE,
        [
            (StepKind.RENAME, {"name": "alpha", "updatePolicy": "MINIMAL_DOWNTIME"}),
            (StepKind.UPDATE_POLICY, {"updatePolicy": "NEVER_UPDATE"}),
        ],
    ),
    "renamed already: the former name is harmless": (desired(renamed_from="alpha-old"), found(), Action.NOOP, []),
    "a rename with a mode change: the reset body carries the name": (
        desired(renamed_from="alpha-old", kube_proxy_mode="ipvs", lifecycle=RESETS),
        found(name="alpha-old", ip_restrictions=[], openid_connect={}),
        Action.RESET,
        [
            (
                StepKind.RESET,
                {
                    "name": "alpha",
                    "kubeProxyMode": "ipvs",
                    "customization": {"apiServer": PLUGINS, "kubeProxy": IPTABLES_30S},
                    "updatePolicy": "MINIMAL_DOWNTIME",
                },
            )
        ],
    ),
    "a delete allowed": (
        desired(delete=True, lifecycle=Lifecycle(allow_delete=True)),
        found(),
        Action.DELETE,
        [(StepKind.DELETE, None)],
    ),
    "a delete not allowed": (desired(delete=True), found(), ErrorReason.DELETE_NOT_ALLOWED, []),
    "a delete of a cluster in ERROR is allowed": (
        desired(delete=True, lifecycle=Lifecycle(allow_delete=True)),
        found(status="ERROR"),
        Action.DELETE,
        [(StepKind.DELETE, None)],
    ),
    "a delete of a cluster gone: nothing": (desired(delete=True), ABSENT, Action.NOOP, []),
    "a delete of a pinned id gone: nothing": (
        desired(delete=True, id=ID),
        LiveResult(error="spec.id is not a cluster of the project", reason=ErrorReason.ID_NOT_FOUND),
        Action.NOOP,
        [],
    ),
}


@pytest.mark.parametrize(("wanted", "live", "outcome", "steps"), CASES.values(), ids=CASES.keys())
def test_desired_and_live_make_these_steps(wanted, live, outcome, steps):
    change = plan_cluster(wanted, live)

    if isinstance(outcome, ErrorReason):
        assert (change.action, change.reason) == (Action.ERROR, outcome), change.error
    else:
        assert change.action is outcome, change.error
    assert [(step.kind, step.body) for step in change.steps] == steps
    assert all(step.target == HERE for step in change.steps)


def test_a_create_and_what_follows_it_target_the_new_cluster():
    wanted = desired(
        region="GRA5", kube_proxy_mode="iptables", ip_restrictions=("203.0.113.0/24",), openid_connect=OIDC
    )

    change = plan_cluster(wanted, ABSENT)

    assert change.action is Action.CREATE
    assert [step.kind for step in change.steps] == [StepKind.CREATE, StepKind.IP_RESTRICTIONS, StepKind.OIDC_CREATE]
    assert change.steps[0].body == {"name": "alpha", "region": "GRA5", "kubeProxyMode": "iptables"}
    assert {step.target for step in change.steps} == {ClusterTarget(PROJECT)}
    assert [step.path for step in change.steps] == [
        f"/cloud/project/{PROJECT}/kube",
        f"/cloud/project/{PROJECT}/kube/{NEW_CLUSTER_ID}/ipRestrictions",
        f"/cloud/project/{PROJECT}/kube/{NEW_CLUSTER_ID}/openIdConnect",
    ]


ROUTES = {
    StepKind.CREATE: ("POST", ""),
    StepKind.RESET: ("POST", f"/{ID}/reset"),
    StepKind.RENAME: ("PUT", f"/{ID}"),
    StepKind.DELETE: ("DELETE", f"/{ID}"),
    StepKind.PUT_CUSTOMIZATION: ("PUT", f"/{ID}/customization"),
    StepKind.UPDATE_POLICY: ("PUT", f"/{ID}/updatePolicy"),
    StepKind.IP_RESTRICTIONS: ("PUT", f"/{ID}/ipRestrictions"),
    StepKind.OIDC_CREATE: ("POST", f"/{ID}/openIdConnect"),
    StepKind.OIDC_UPDATE: ("PUT", f"/{ID}/openIdConnect"),
    StepKind.OIDC_DELETE: ("DELETE", f"/{ID}/openIdConnect"),
    StepKind.UPGRADE: ("POST", f"/{ID}/update"),
    StepKind.LOAD_BALANCERS_SUBNET: ("PUT", f"/{ID}/updateLoadBalancersSubnetId"),
    StepKind.NETWORK_CONFIGURATION: ("PUT", f"/{ID}/privateNetworkConfiguration"),
    StepKind.POOL_CREATE: ("POST", f"/{ID}/nodepool"),
    StepKind.POOL_UPDATE: ("PUT", f"/{ID}/nodepool/pool-1"),
    StepKind.POOL_DELETE: ("DELETE", f"/{ID}/nodepool/pool-1"),
}


def target_of(kind: StepKind) -> ClusterTarget | PoolTarget:
    if kind is StepKind.CREATE:
        return ClusterTarget(PROJECT)
    if kind in POOL_KINDS:
        return PoolTarget(PROJECT, ID, None if kind is StepKind.POOL_CREATE else "pool-1")
    return HERE


@pytest.mark.parametrize("kind", StepKind)
def test_each_step_kind_is_one_method_and_path(kind):
    step = Step(kind, target_of(kind), {"x": 1})
    method, end = ROUTES[kind]

    assert (step.method, step.path) == (method, f"/cloud/project/{PROJECT}/kube{end}")
    shown = {"kind": str(kind), "method": method, "path": step.path, "body": {"x": 1}}
    if kind in POOL_KINDS:
        shown["pool"] = step.target.pool_id
    assert step.to_dict() == shown
