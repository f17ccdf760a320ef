"""The desired model: what one desired-state document asks for, after validation.

`customization` holds only the top-level blocks the file manages (`apiServer`, `kubeProxy`), exactly as
written; a block that is absent is not managed and is never sent. `customization: {}` manages both blocks
as empty. Comparison goes through reconciler.plan.normalize, never through these raw values.
"""

from dataclasses import dataclass, field
from typing import Protocol

MANAGED_BLOCKS = ("apiServer", "kubeProxy")
KUBE_PROXY_MODES = ("iptables", "ipvs")
IPVS_SCHEDULERS = ("dh", "lc", "nq", "rr", "sed", "sh")
ADMISSION_PLUGINS = ("AlwaysPullImages", "NodeRestriction")  # both enabled where nothing else is asked (API default)
ALWAYS_ENABLED_PLUGINS = ("NodeRestriction",)  # OVHcloud keeps it on: only AlwaysPullImages can be turned off
WORKER_NODES_POLICIES = ("delete", "reinstall")
# The status enum of the cluster object (OpenAPI schema of /cloud).
CLUSTER_STATUSES = frozenset((
    "READY", "INSTALLING", "UPDATING", "REDEPLOYING", "RESETTING", "REOPENING", "MAINTENANCE", "SUSPENDING",
    "SUSPENDED", "DELETING", "DELETED", "ERROR", "USER_ERROR", "USER_QUOTA_ERROR",
    "USER_WEBHOOK_PREVENTING_OPERATIONS_ERROR", "UNKNOWN",
))  # fmt: skip
# Cluster settings a reset puts back to their defaults unless its body repeats them. The one list: the planner's
# reset body repeats each, the plan's fingerprint covers each (a change to one makes a saved plan stale), and a
# saved plan's reset body may carry each. A setting a reset would lose is added here, once.
KEPT_ON_RESET = (
    "privateNetworkId",
    "privateNetworkConfiguration",
    "nodesSubnetId",
    "loadBalancersSubnetId",
    "updatePolicy",
    "ipAllocationPolicy",
)
# Cluster statuses that turn READY by themselves (apply waits them out); any other status but READY needs a person.
PASSING_STATUSES = frozenset(
    {
        "INSTALLING",
        "UPDATING",
        "REDEPLOYING",
        "RESETTING",
        "REOPENING",
        "MAINTENANCE",
        "UNKNOWN",
    }
)


@dataclass(frozen=True)
class Lifecycle:
    allow_reset: bool = False
    worker_nodes_policy: str | None = None  # None: the API's default (delete)


@dataclass(frozen=True)
class ValueSource:
    """Where an effective value was written: the cluster's own document, or a ClusterDefaults document."""

    source: str  # "FILE:LINE" of the value
    defaults: str | None = None  # the ClusterDefaults document's name; None: the cluster's own document


class Provenance(Protocol):
    def source_of(self, path: str) -> ValueSource:
        """The source of the value at a dotted spec path ("customization.kubeProxy.iptables.syncPeriod")."""
        ...


@dataclass(frozen=True)
class DefaultsRef:
    """A ClusterDefaults document that selects a cluster."""

    name: str
    source: str  # "FILE:LINE" of the document

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source}


@dataclass(frozen=True)
class DesiredCluster:
    project: str
    name: str
    source: str  # "FILE:LINE" of the document, for messages and the plan's `source`
    region: str | None = None
    id: str | None = None
    version: str | None = None
    kube_proxy_mode: str | None = None  # None: not managed, never causes a reset
    customization: dict = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    defaults: tuple[DefaultsRef, ...] = ()  # the ClusterDefaults documents that select this cluster
    provenance: Provenance | None = field(default=None, compare=False, repr=False)  # None: all from `source`

    def source_of(self, path: str) -> ValueSource:
        return self.provenance.source_of(path) if self.provenance else ValueSource(self.source)

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.name)
