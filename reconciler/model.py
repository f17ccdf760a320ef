"""The desired model: what one desired-state document asks for, after validation.

Control-plane settings follow the same rule as customization blocks: None is "not managed, never touched";
any other value, "none" included (`ip_restrictions == ()`, `openid_connect == {}`), is enforced.

`customization` holds only the top-level blocks the file manages (`apiServer`, `kubeProxy`), exactly as
written; a block that is absent is not managed and is never sent. `customization: {}` manages both blocks
as empty. Comparison goes through reconciler.plan.normalize, never through these raw values.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from reconciler.windows import MaintenanceWindow

MANAGED_BLOCKS = ("apiServer", "kubeProxy")  # what `customization: {}` manages, as empty
CILIUM = "cilium"  # Standard plan only: written or not managed (never managed by `customization: {}`)
CUSTOMIZATION_BLOCKS = MANAGED_BLOCKS + (CILIUM,)  # the blocks a file can write
KUBE_PROXY_MODES = ("iptables", "ipvs")
DEFAULT_SYNC_PERIOD_SECONDS = 30  # kube-proxy's sync period when none is set, in both modes
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
# What a reset loses and no reset field can carry (ovh/public-cloud-roadmap#356): each has its own GET, read before a
# reset and put back after it (reconciler.plan.planner.restore_after_reset); the fingerprint covers each where read.
IP_RESTRICTIONS, OPENID_CONNECT = RESTORED_AFTER_RESET = ("ipRestrictions", "openIdConnect")
# The cluster's plan (the cluster object's `plan`). Standard runs Cilium, not kube-proxy, needs a private network and a
# zone per pool; a cluster's plan never changes (no migration: back up and restore into a new cluster).
FREE_PLAN, STANDARD_PLAN = PLANS = ("free", "standard")
# spec.privateNetwork's fields, by the cluster object's (and the create and reset bodies') field they stand for.
NETWORK_IDS = {
    "id": "privateNetworkId",
    "nodesSubnetId": "nodesSubnetId",
    "loadBalancersSubnetId": "loadBalancersSubnetId",
}
NETWORK_CONFIGURATION = "privateNetworkConfiguration"  # {defaultVrackGateway, privateNetworkRoutingAsDefault}
NETWORK_ROUTING = {"gateway": "defaultVrackGateway", "routingAsDefault": "privateNetworkRoutingAsDefault"}
NETWORK_RESET_ONLY = ("id", "nodesSubnetId")  # the API changes them only by a reset; the others in place
IP_ALLOCATION_POLICY = "ipAllocationPolicy"  # Standard plan only; changed only by a reset
IP_ALLOCATION_FIELDS = ("podsIpv4Cidr", "servicesIpv4Cidr")


def is_three_az(region: str | None) -> bool:
    """Whether a region spans three availability zones. OVHcloud names them area-direction-city (EU-WEST-PAR, zones
    eu-west-par-a/b/c; EU-SOUTH-MIL), one-zone regions by a city and a number (GRA7), Local Zones with an LZ part
    (EU-SOUTH-LZ-MAD): only the first need a private network and a zone per pool."""
    parts = (region or "").split("-")
    return len(parts) == 3 and all(part.isalpha() for part in parts) and "LZ" not in parts


UPDATE_POLICIES = ("ALWAYS_UPDATE", "MINIMAL_DOWNTIME", "NEVER_UPDATE")
# The Kubernetes minors the API describes (cloud.kube.VersionEnum); a cluster's own nextUpgradeVersions may offer a
# newer one, which is then taken too.
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
OIDC_SIGNING_ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512")
# OIDC fields as the API names them; the lists compare as sets (claims and algorithms carry no order).
OIDC_FIELDS = (
    "issuerUrl",
    "clientId",
    "caContent",
    "groupsClaim",
    "groupsPrefix",
    "requiredClaim",
    "signingAlgorithms",
    "usernameClaim",
    "usernamePrefix",
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
# Node pools (cloud.kube.NodePool, cloud.ProjectKubeNodePoolCreation/Update in OVHcloud's API description). A pool
# field is managed only when the file writes it; these are the fields a file may write, by how the API changes them.
POOL_IN_PLACE = ("desiredNodes", "minNodes", "maxNodes", "autoscale", "autoscaling", "template", "attachFloatingIps")
POOL_CREATE_ONLY = ("flavorName", "antiAffinity", "availabilityZones")  # a change replaces the pool
POOL_FIELDS = POOL_CREATE_ONLY + ("monthlyBilled",) + POOL_IN_PLACE  # monthlyBilled: false -> true only
POOL_AUTOSCALING_FIELDS = (
    "scaleDownUnneededTimeSeconds",
    "scaleDownUnreadyTimeSeconds",
    "scaleDownUtilizationThreshold",
)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# The node pool status enum (cloud.kube.NodePoolStatusEnum): statuses that end by themselves, and READY.
POOL_PASSING_STATUSES = frozenset(
    {"INSTALLING", "UPDATING", "UPSCALING", "DOWNSCALING", "REDEPLOYING", "RESETTING", "REOPENING", "MAINTENANCE"}
)


@dataclass(frozen=True)
class DesiredPool:
    """One pool of `spec.nodePools`: `fields` holds what the file writes, in the API's names, as written."""

    name: str
    fields: dict = field(default_factory=dict)
    delete: bool = False  # `delete: true`: the pool must not exist (gated by lifecycle.allowPoolDelete)
    pin_desired_nodes: bool = False  # with autoscale on, desiredNodes is managed only when pinned


@dataclass(frozen=True)
class Lifecycle:
    allow_reset: bool = False
    worker_nodes_policy: str | None = None  # None: the API's default (delete)
    allow_upgrade: bool = False  # upgrades drain every node and cannot be undone: opt-in, like resets
    latest_patch: bool = False  # `patch: latest`: also move to the newest patch of the current minor
    allow_pool_replace: bool = False  # a pool whose create-only field changes is replaced (new first, then old)
    allow_pool_delete: bool = False  # pools marked `delete: true` are deleted
    maintenance_window: MaintenanceWindow | None = None  # when a disruptive change may start; None: any time
    allow_delete: bool = False  # a cluster marked `spec.delete: true` is deleted


@dataclass(frozen=True)
class ValueSource:
    """Where an effective value was written: the cluster's own document, or a ClusterDefaults document."""

    source: str  # "FILE:LINE" of the value
    defaults: str | None = None  # the ClusterDefaults document's name; None: the cluster's own document


class Provenance(Protocol):
    def source_of(self, path: str) -> ValueSource:
        """The source of the value at a dotted spec path ("customization.kubeProxy.iptables.syncPeriod"), or of the
        cluster's name ("metadata.name")."""
        ...


@dataclass(frozen=True)
class DefaultsRef:
    """A ClusterDefaults document that selects a cluster."""

    name: str
    source: str  # "FILE:LINE" of the document

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source}


# A wave's pause and a cluster's gate are waits inside one running apply: a week at most (P99999D would overflow the
# clock half-way through a rollout, after the first wave's changes were made).
MAX_ROLLOUT_WAIT = "P7D"
MAX_ROLLOUT_WAIT_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class WaveSpec:
    """One wave of a Rollout document: the clusters its selector picks (held by each DesiredCluster's `wave`)."""

    name: str
    max_in_flight: str  # "3" (a count) or "25%" (of the wave's clusters): as written, resolved by plan/waves.py
    pause_after: float = 0.0  # seconds, once the wave passed its gate, before the next one starts
    source: str = ""  # "FILE:LINE" of the wave


@dataclass(frozen=True)
class RolloutSpec:
    """A Rollout document: the order in which disruptive changes reach the fleet (reconciler/files/rollout.py)."""

    name: str
    source: str  # "FILE:LINE" of the document
    waves: tuple[WaveSpec, ...]
    all_changes: bool = False  # `changes: all`: every change waits for its wave, not only the disruptive ones
    gate_timeout: float = 900.0  # seconds a cluster may take to pass the gate once its change is done
    gate_api_server: bool = False  # also ask the API server /readyz through a fresh kubeconfig


@dataclass(frozen=True)
class DesiredCluster:
    project: str
    name: str
    source: str  # "FILE:LINE" of the document, for messages and the plan's `source`
    renamed_from: str | None = None  # metadata.renamedFrom: the former name, renamed in place to `name`
    region: str | None = None
    id: str | None = None
    version: str | None = None
    kube_proxy_mode: str | None = None  # None: not managed, never causes a reset
    customization: dict = field(default_factory=dict)
    update_policy: str | None = None  # None: not managed
    plan: str | None = None  # free | standard; None: not managed (a create gets the API's default, free)
    private_network: dict | None = None  # spec.privateNetwork as written (file names); None: not managed
    ip_allocation_policy: dict | None = None  # {podsIpv4Cidr?, servicesIpv4Cidr?} as written; None: not managed
    ip_restrictions: tuple[str, ...] | None = None  # None: not managed; (): no restriction, enforced
    openid_connect: dict | None = None  # None: not managed; {}: no OIDC, enforced; else the API's fields
    node_pools: tuple[DesiredPool, ...] = ()  # only the pools the file declares; the others are never touched
    delete: bool = False  # `spec.delete: true`: the cluster must not exist (gated by lifecycle.allowDelete)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    defaults: tuple[DefaultsRef, ...] = ()  # the ClusterDefaults documents that select this cluster
    labels: dict[str, str] = field(default_factory=dict)  # metadata.labels: for selectors, and in the plan for policies
    provenance: Provenance | None = field(default=None, compare=False, repr=False)  # None: all from `source`
    rollout: RolloutSpec | None = None  # the Rollout that orders this cluster's changes, if any
    wave: str | None = None  # the name of its wave in that rollout

    def source_of(self, path: str) -> ValueSource:
        return self.provenance.source_of(path) if self.provenance else ValueSource(self.source)

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.name)


class ErrorReason(StrEnum):
    """Why a cluster's action is `error`, for programs (drift, scripts reading the JSON); `error` says it to people."""

    READ_FAILED = "read_failed"  # the cluster, or its project's listing, could not be read
    UNKNOWN_IF_EXISTS = "unknown_if_exists"  # not found, but some cluster of the project could not be read
    NAME_TAKEN_TWICE = "name_taken_twice"  # several clusters of the project have the name: spec.id must pick one
    ID_NOT_FOUND = "id_not_found"  # spec.id names no cluster of the project
    ID_NAME_MISMATCH = "id_name_mismatch"  # spec.id is a cluster of another name
    REGION_REQUIRED = "region_required"  # absent, and spec.region is needed to create it
    REGION_MISMATCH = "region_mismatch"  # a region never changes
    RESET_NOT_ALLOWED = "reset_not_allowed"  # a kubeProxyMode change needs lifecycle.allowReset: true
    RESET_WOULD_LOSE = "reset_would_lose"  # the reset wipes IP restrictions or OIDC that no file holds
    MODE_WITHOUT_EFFECT = "mode_without_effect"  # a kubeProxyMode change on a Standard-plan (Cilium) cluster
    NOT_READY = "not_ready"  # a change is due, but the status will not turn READY by itself
    UPGRADE_NOT_ALLOWED = "upgrade_not_allowed"  # spec.version above live needs lifecycle.allowUpgrade: true
    UPGRADE_REFUSED_BY_POLICY = "upgrade_refused_by_policy"  # the API refuses upgrades under NEVER_UPDATE
    POOL_NOT_ALLOWED = "pool_not_allowed"  # a pool replacement or deletion needs lifecycle.allowPool{Replace,Delete}
    POOL_INVALID = "pool_invalid"  # a pool cannot be made as written: a flavor the cluster lacks, or none to create
    PLAN_CHANGE = "plan_change"  # spec.plan differs from the cluster's: no migration exists (a new cluster is needed)
    NETWORK_INVALID = "network_invalid"  # the network settings cannot be made as written (Cilium on Free, ...)
    DELETE_NOT_ALLOWED = "delete_not_allowed"  # spec.delete: true needs lifecycle.allowDelete: true
    VERSION_NOT_OFFERED = "version_not_offered"  # spec.version above live is not a minor the cluster can go to


@dataclass(frozen=True)
class ClusterRef:
    project: str
    name: str
    id: str | None = None
    region: str | None = None
    renamed_from: str | None = None  # the former name the cluster is found by where none bears `name` yet

    @property
    def label(self) -> str:
        return f"{self.name} ({self.project[:8]}…/{self.id or 'new'})"

    def to_dict(self) -> dict:
        ref = {"project": self.project, "name": self.name, "id": self.id, "region": self.region}
        if self.renamed_from is not None:  # only on a renaming entry, as Terraform's previous_address
            ref["renamed_from"] = self.renamed_from
        return ref
