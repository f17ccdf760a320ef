"""A plan step as a typed value, and the one place where ovhkube's requests get their HTTP method and path.

A step is what the planner decides (its kind), what it is done to (its target) and the exact body sent. The plan
holds steps; apply sends them; the plan shows the reviewer each one as a request (method, path, body) rendered
here. The paths live/ reads are made here too, so no other module of the engine builds or parses an API path
(tests/test_layout.py keeps that rule).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from reconciler import model


class StepKind(StrEnum):
    """What a step does; the JSON strings are the values."""

    CREATE = "create"
    RESET = "reset"
    RENAME = "rename"  # PUT of the cluster itself: the new name, and the update policy it has (never lost)
    DELETE = "delete"  # DELETE of the cluster itself: only where a file says spec.delete and allowDelete
    PUT_CUSTOMIZATION = "put_customization"
    UPDATE_POLICY = "update_policy"
    IP_RESTRICTIONS = "ip_restrictions"
    OIDC_CREATE = "oidc_create"
    OIDC_UPDATE = "oidc_update"
    OIDC_DELETE = "oidc_delete"
    UPGRADE = "upgrade"
    LOAD_BALANCERS_SUBNET = "load_balancers_subnet"  # in place; the cluster is REDEPLOYING meanwhile
    NETWORK_CONFIGURATION = "network_configuration"  # in place; every node is redeployed
    POOL_CREATE = "pool_create"  # a node pool of the file, absent live (or the new pool of a replacement)
    POOL_UPDATE = "pool_update"  # one PUT: only the fields that differ (a template whole)
    POOL_DELETE = "pool_delete"  # a pool marked delete: true (or the old pool of a replacement, once the new is READY)


POOL_KINDS = frozenset({StepKind.POOL_CREATE, StepKind.POOL_UPDATE, StepKind.POOL_DELETE})
NETWORK_KINDS = frozenset({StepKind.LOAD_BALANCERS_SUBNET, StepKind.NETWORK_CONFIGURATION})
OIDC_KINDS = frozenset({StepKind.OIDC_CREATE, StepKind.OIDC_UPDATE, StepKind.OIDC_DELETE})
# The part (a separate GET) each control-plane kind writes: what it depends on, and what verifying it reads.
PART_OF_KIND = {StepKind.IP_RESTRICTIONS: model.IP_RESTRICTIONS} | dict.fromkeys(OIDC_KINDS, model.OPENID_CONNECT)

# The id in the paths of a create's follow-up steps (IP restrictions, OIDC) as the plan shows them: only the create's
# answer gives the real one. Braces and spaces: never a real id (a UUID), and read as a placeholder.
NEW_CLUSTER_ID = "{id of the new cluster}"


@dataclass(frozen=True)
class ClusterTarget:
    """A cluster of a project; `cluster_id` None: the cluster the entry's create makes (or a create's own target)."""

    project: str
    cluster_id: str | None = None

    def with_id(self, cluster_id: str) -> "ClusterTarget":
        return ClusterTarget(self.project, cluster_id)

    @classmethod
    def of(cls, ref: model.ClusterRef) -> "ClusterTarget":
        """What a plan entry's steps are done to (a create's: the cluster it makes, whose id is not known yet)."""
        return cls(ref.project, ref.id)


@dataclass(frozen=True)
class PoolTarget:
    """A node pool of a cluster; `pool_id` None: the pool the step creates."""

    project: str
    cluster_id: str | None
    pool_id: str | None = None

    def with_id(self, cluster_id: str) -> "PoolTarget":
        return PoolTarget(self.project, cluster_id, self.pool_id)


Target = ClusterTarget | PoolTarget  # what a step is done to

# kind -> (method, the path's end after the cluster's path); a create's path is the project's clusters.
_ROUTES: dict[StepKind, tuple[str, str]] = {
    StepKind.CREATE: ("POST", ""),
    StepKind.RESET: ("POST", "/reset"),
    StepKind.RENAME: ("PUT", ""),
    StepKind.DELETE: ("DELETE", ""),
    StepKind.PUT_CUSTOMIZATION: ("PUT", "/customization"),
    StepKind.UPDATE_POLICY: ("PUT", "/updatePolicy"),
    StepKind.IP_RESTRICTIONS: ("PUT", "/" + model.IP_RESTRICTIONS),  # PUT replaces the list (POST would append)
    StepKind.OIDC_CREATE: ("POST", "/" + model.OPENID_CONNECT),
    StepKind.OIDC_UPDATE: ("PUT", "/" + model.OPENID_CONNECT),
    StepKind.OIDC_DELETE: ("DELETE", "/" + model.OPENID_CONNECT),
    StepKind.UPGRADE: ("POST", "/update"),
    StepKind.LOAD_BALANCERS_SUBNET: ("PUT", "/updateLoadBalancersSubnetId"),
    StepKind.NETWORK_CONFIGURATION: ("PUT", "/privateNetworkConfiguration"),
    StepKind.POOL_CREATE: ("POST", "/nodepool"),
    StepKind.POOL_UPDATE: ("PUT", "/nodepool"),
    StepKind.POOL_DELETE: ("DELETE", "/nodepool"),
}


@dataclass(frozen=True)
class Step:
    kind: StepKind
    target: Target
    body: dict[str, Any] | None = None  # exactly what is sent; None: no body (a DELETE)

    @property
    def method(self) -> str:
        return _ROUTES[self.kind][0]

    @property
    def path(self) -> str:
        target, end = self.target, _ROUTES[self.kind][1]
        if self.kind is StepKind.CREATE:
            return clusters_path(target.project)
        if isinstance(target, PoolTarget):
            return pool_path(target.project, target.cluster_id or NEW_CLUSTER_ID, target.pool_id)
        return cluster_path(target.project, target.cluster_id or NEW_CLUSTER_ID) + end

    @property
    def short(self) -> str:
        """`POST reset`, `PUT ipRestrictions`, `POST kube` (a create): the method and the path's last segment."""
        return f"{self.method} {self.path.rsplit('/', 1)[-1]}"

    def to_dict(self) -> dict[str, Any]:
        """The request as the plan shows it and its JSON carries it (a pool step: with the pool's id, or null)."""
        request = {"kind": str(self.kind), "method": self.method, "path": self.path, "body": self.body}
        if isinstance(self.target, PoolTarget):
            request["pool"] = self.target.pool_id
        return request


# --- the paths live/ reads ---


def server_time_path() -> str:
    """The API's clock (GET, unsigned): signatures are made with its time."""
    return "/auth/time"


def projects_path() -> str:
    """The Public Cloud projects the credentials can see."""
    return "/cloud/project"


def clusters_path(project: str) -> str:
    """The project's clusters: listed by GET, created by POST."""
    return f"{projects_path()}/{project}/kube"


def cluster_path(project: str, cluster_id: str) -> str:
    return f"{clusters_path(project)}/{cluster_id}"


def pool_path(project: str, cluster_id: str, pool_id: str | None = None) -> str:
    """The cluster's node pools (listed by GET, created by POST), or one of them."""
    pools = f"{cluster_path(project, cluster_id)}/nodepool"
    return f"{pools}/{pool_id}" if pool_id else pools


def region_flavors_path(project: str, region: str) -> str:
    """The flavors a new cluster of the project may have in `region` (the project's capabilities; no cluster id)."""
    return f"{projects_path()}/{project}/capabilities/kube/flavors?region={quote(region, safe='')}"


def part_path(project: str, cluster_id: str, part: str) -> str:
    """A part of the cluster with its own GET: `customization`, `ipRestrictions`, `openIdConnect`."""
    return f"{cluster_path(project, cluster_id)}/{part}"


def kubeconfig_path(project: str, cluster_id: str) -> str:
    """POST: a fresh kubeconfig of the cluster (a rollout's gate reaches its API server with it; `ovhkube
    kubeconfig` writes it)."""
    return f"{cluster_path(project, cluster_id)}/kubeconfig"


def kubeconfig_reset_path(project: str, cluster_id: str) -> str:
    """POST: new credentials for the cluster (`ovhkube kubeconfig --reset`); every kubeconfig given out stops."""
    return f"{kubeconfig_path(project, cluster_id)}/reset"


def parted_paths(got: str, wanted: str) -> tuple[str, str]:
    """Two paths from the segment where they part (the project id, the placeholder or the end), for a message that
    shows the place that differs: cut at 40 characters, it would not show."""
    common = 0
    for ours, theirs in zip(got.split("/"), wanted.split("/"), strict=False):
        if ours != theirs:
            break
        common += len(ours) + 1
    if common <= 1:
        return got, wanted
    return ".../" + got[common:], ".../" + wanted[common:]
