"""What each API call does to the clusters: the semantics the reconciler must cope with.

- PUT customization keeps a top-level block left out and replaces a block sent (with `put_replaces_customization`,
  the other reading of the API: it replaces the whole customization, so a block left out is gone); the cluster goes
  REDEPLOYING (kube-proxy restarts) or UPDATING (API server only).
- Reset resets every field left out of its body to the default (kubeProxyMode ipvs, EMPTY customization, version
  kept) and shows `reset_status` (REDEPLOYING, as in the reset guide's example, or RESETTING); create defaults the
  mode to iptables and goes INSTALLING, and the new cluster may answer 404 for `create_hidden_seconds`. When the
  real API shows a reset's new settings is not documented: with `reset_shows_late` (the default) the cluster shows
  the old ones until it is READY again, so a client must learn that a reset started from the status alone.
- With `show_late_seconds`, a change (PUT, POST or DELETE on a cluster, a reset included; not a create) shows that
  late: until then reads answer the cluster (and its IP restrictions and OIDC) as they were before it, READY. An API
  may show an accepted change late (TF issue #959: the object lags a PUT; OIDC changes show some 20 s late).
- With `reset_delay_seconds`, a reset starts that long after it is accepted: until then the cluster reads as
  before it, READY in its old mode, and takes changes, which the reset then wipes as it would any (when the real
  API starts a reset is not documented; the harder answer for a client).
- With `null_customization`, a cluster with nothing customized answers `customization: null` (the schema's cluster
  object has it nullable; null means {}).
- A transient status turns READY `transition_seconds` after it began, computed from timestamps in the state, so
  every process serving the same state agrees. A change while not READY is a 409 ServiceNotReady.
- A reset also wipes the IP restrictions and OIDC, which no reset field can carry (reconciler.sandbox.control_plane).
  With `workerNodesPolicy: delete` (the default) it deletes every node pool too: the cluster comes back empty, as
  OVHcloud's reset guide says of "Delete nodes"; `reinstall` keeps the pools.
- Durations are stored as sent, but a zero duration is answered as `P0D`, as the real API does. Admission plugins
  are answered as each plugin's state: both enabled where nothing was asked, NodeRestriction always.
- The project listing answers ids, or (expanded) the full cluster objects a page at a time; a project holds at most
  `max_clusters_per_project` clusters (20 on the real API): a create beyond it is refused.
- A project marked expired answers 460 to every call.
"""

import copy
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox import bodies
from reconciler.sandbox.facts import (
    ADMISSION_PLUGINS,
    CREATE_DEFAULT_MODE,
    DEFAULT_IP_ALLOCATION,
    MAX_CLUSTERS_PER_PROJECT,
    NEWEST_VERSION,
    PATCH_LEVELS,
    RESET_DEFAULTS,
    STANDARD_PLAN,
    TRANSIENT_STATUSES,
    duration_seconds,
)
from reconciler.sandbox.state import State, StoredCluster

DELETING = "DELETING"  # a deleted cluster's status until it is gone
# How many times the cluster's kubeconfig was reset: its API server takes only the newest credentials.
CREDENTIALS_KEY = "_kubeconfigResets"
# Where a reset keeps the settings it replaced, shown until the reset is over (`reset_shows_late`).
PREVIOUS = "_beforeReset"
# With `reset_delay_seconds`: a reset accepted but not started yet ({"at", "body", "status"}).
PENDING_RESET = "_pendingReset"
# With `show_late_seconds`: the cluster as reads answer it until the latest change shows ({"until", "data"}).
SHOWN_BEFORE = "_shownBefore"
# Stored with the cluster, served by their own calls (reconciler.sandbox.control_plane), never in the object.
IPS_KEY, OIDC_KEY = BESIDE_KEYS = ("_ipRestrictions", "_openIdConnect")
# The cluster's node pools, served by their own calls (reconciler.sandbox.node_pools).
POOLS_KEY = "_nodePools"
# An upgrade the fault `failed_upgrades` made fail: the cluster reads ERROR while the sandbox is served with it.
FAILED_UPGRADE = "_failedUpgrade"
# Where the sandbox serves each cluster's Kubernetes API server (its /readyz only), outside the OVHcloud API.
API_SERVER_PREFIX = "/apiserver"


class ApiFailure(Exception):
    """An answer other than success, with OVH's error class."""

    def __init__(
        self, status: int, error_class: str, message: str, retry_after: int | None = None, details: dict | None = None
    ):
        super().__init__(message)
        self.status, self.error_class, self.message = status, error_class, message
        self.retry_after = retry_after
        self.details = details


def not_found(message: str) -> ApiFailure:
    return ApiFailure(404, "Client::NotFound", message)


def bad_request(problems: list[str]) -> ApiFailure:
    return ApiFailure(400, "Client::BadRequest", "Invalid body: " + "; ".join(problems))


def with_patch(version: str) -> str:
    return PATCH_LEVELS.get(version, version)


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_name(cluster_id: str) -> str:
    return f"kube-{cluster_id[:8]}"


def new_cluster(project: str, fields: dict, now: float, cluster_id: str | None = None) -> dict:
    """A complete cluster object from creation (or seed) fields; fields left out get the creation defaults."""
    cluster_id = cluster_id or str(uuid.uuid4())
    region = fields["region"]
    version = with_patch(fields.get("version") or NEWEST_VERSION)
    host = f"{cluster_id[:6]}.c1.{region.lower()}.k8s.ovh.net"
    cluster = {
        "id": cluster_id,
        "name": fields.get("name") or default_name(cluster_id),
        "region": region,
        "status": "INSTALLING",
        "version": version,
        "kubeProxyMode": fields.get("kubeProxyMode") or CREATE_DEFAULT_MODE,
        "customization": fields.get("customization"),
        "updatePolicy": fields.get("updatePolicy") or "ALWAYS_UPDATE",
        "privateNetworkId": fields.get("privateNetworkId"),
        "privateNetworkConfiguration": fields.get("privateNetworkConfiguration"),
        "nodesSubnetId": fields.get("nodesSubnetId"),
        "loadBalancersSubnetId": fields.get("loadBalancersSubnetId"),
        "ipAllocationPolicy": _ranges(fields.get("plan"), fields.get("ipAllocationPolicy")),
        "plan": fields.get("plan") or "free",
        "url": host,
        "nodesUrl": f"{cluster_id[:6]}.nodes.c1.{region.lower()}.k8s.ovh.net",
        "isUpToDate": True,
        "controlPlaneIsUpToDate": True,
        "nextUpgradeVersions": next_versions(version),
        "auditLogsSubscribed": False,
        "createdAt": iso(now),
        "updatedAt": iso(now),
    }
    return cluster


def _ranges(plan: object, asked: dict | None) -> dict | None:
    """A Standard cluster's pod and service ranges: those asked, the defaults for the others; Free has none."""
    if plan != STANDARD_PLAN:
        return copy.deepcopy(asked)
    return DEFAULT_IP_ALLOCATION | {key: value for key, value in (asked or {}).items() if value is not None}


def next_versions(version: str) -> list[str]:
    minors = list(PATCH_LEVELS)
    current = minor(version)
    return minors[minors.index(current) + 1 :][:1] if current in minors else []


def answered_plugins(plugins: dict | None) -> dict:
    """Each plugin's state, both lists full: a plugin not disabled is enabled (the API's default for both)."""
    disabled = set((plugins or {}).get("disabled") or ())
    return {
        "enabled": [plugin for plugin in ADMISSION_PLUGINS if plugin not in disabled],
        "disabled": [plugin for plugin in ADMISSION_PLUGINS if plugin in disabled],
    }


def answered_customization(customization: dict | None) -> dict:
    """The customization as the API answers it: zero durations as P0D, the admission plugins' state always there."""
    shown = copy.deepcopy(customization or {})
    api_server = shown.get("apiServer") or {}
    shown["apiServer"] = api_server | {"admissionPlugins": answered_plugins(api_server.get("admissionPlugins"))}
    for mode in ("iptables", "ipvs"):
        block = (shown.get("kubeProxy") or {}).get(mode) or {}
        for key, value in block.items():
            if duration_seconds(value) == 0:
                block[key] = "P0D"
    return shown


@dataclass(frozen=True)
class Behaviour:
    """How the emulated API behaves where the real one takes time, varies or is undocumented: one `sandbox serve`
    option each (docs/sandbox.md says which public source, or which unknown, each stands for)."""

    transition_seconds: float = 0.0  # how long a change keeps the cluster busy
    max_clusters_per_project: int = MAX_CLUSTERS_PER_PROJECT
    reset_status: str = "REDEPLOYING"  # what a reset shows while it runs
    create_hidden_seconds: float = 0.0  # a new cluster answers 404 this long
    reset_shows_late: bool = True  # a reset shows its old settings until it is over
    show_late_seconds: float = 0.0  # reads answer a cluster as before a change this long
    null_customization: bool = False  # nothing customized answers customization: null
    reset_delay_seconds: float = 0.0  # a reset starts this long after it is accepted
    autoscaler_nodes: int | None = None  # the cluster autoscaler moves every autoscaled pool to this many nodes
    put_replaces_customization: bool = False  # a customization PUT replaces the whole customization


class Clusters:
    def __init__(self, state: State, behaviour: Behaviour | None = None, clock=time.time):
        self.state = state
        self.behaviour = behaviour or Behaviour()
        self.clock = clock
        self.failed_upgrades: frozenset[str] = frozenset()  # the fault's cluster names (reconciler.sandbox.faults)
        self.unready_api_servers: frozenset[str] = frozenset()  # the fault's too: their /readyz answers 503
        self.base_url = "http://127.0.0.1"  # the serving sandbox's, for the API servers its kubeconfigs name
        self._token_key = secrets.token_bytes(16)  # the API servers' tokens, per serving process
        # What else a create makes from its body (the node pools of `nodepools`), before the cluster is saved.
        self.on_create: Callable[[StoredCluster, dict, float], None] | None = None

    # reading

    def status(self, cluster: StoredCluster, now: float) -> str:
        status = cluster.data["status"]
        if status in TRANSIENT_STATUSES:
            ready_at = cluster.ready_at
            if ready_at is None:  # seeded: counted from the seeding, with this server's transition time
                ready_at = cluster.status_since + self.behaviour.transition_seconds
            if now >= ready_at:
                failed = cluster.data.get(FAILED_UPGRADE) and cluster.data.get("name") in self.failed_upgrades
                return "ERROR" if failed else "READY"
        return status

    def visible(self, cluster: StoredCluster, now: float) -> tuple[dict, str]:
        """The stored data reads answer now, and its status: as before the latest change while it shows late
        (`sandbox show`, with no `show_late_seconds`, shows the truth)."""
        late = cluster.data.get(SHOWN_BEFORE)
        if self.behaviour.show_late_seconds > 0 and late and now < late["until"]:
            return late["data"], late["data"]["status"]
        return cluster.data, self.status(cluster, now)

    def shown(self, cluster: StoredCluster, now: float | None = None) -> dict:
        now = self.clock() if now is None else now
        stored, status = self.visible(cluster, now)
        # IP restrictions and OIDC are kept beside the cluster: the object never shows them.
        hidden = (*BESIDE_KEYS, POOLS_KEY, SHOWN_BEFORE, PENDING_RESET, FAILED_UPGRADE, CREDENTIALS_KEY)
        data = {key: value for key, value in stored.items() if key not in hidden}
        data["status"] = status
        previous = data.pop(PREVIOUS, None)
        if previous and data["status"] != "READY":
            data.update(previous)  # a reset in progress still shows the settings it replaces
        if self.behaviour.null_customization and not data.get("customization"):
            data["customization"] = None  # nothing customized: null, as the schema allows on the cluster object
        else:
            data["customization"] = answered_customization(data.get("customization"))
        return data

    def shown_beside(self, project: str, cluster_id: str, key: str):
        """The IP restrictions or OIDC (`key`) as reads answer them now."""
        cluster = self._cluster(project, cluster_id)
        return self.visible(cluster, self.clock())[0].get(key)

    def kubeconfig(self, project: str, cluster_id: str, body: Any = None) -> dict:
        """POST kubeconfig: a kubeconfig whose server is this sandbox's stand-in for the cluster's API server."""
        cluster = self._cluster(project, cluster_id)
        name = json.dumps(cluster.data.get("name") or cluster_id)
        server = json.dumps(f"{self.base_url}{API_SERVER_PREFIX}/{project}/{cluster_id}")
        token = json.dumps(self._token(project, cluster_id, cluster.data.get(CREDENTIALS_KEY, 0)))
        content = (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: {name}\n  cluster:\n    server: {server}\n"
            f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
            f"current-context: {name}\n"
            f"users:\n- name: {name}\n  user:\n    token: {token}\n"
        )
        return {"content": content}

    def _token(self, project: str, cluster_id: str, generation: int = 0) -> str:
        """The API server's token: a new one after each kubeconfig reset (`generation`), the old ones refused."""
        suffix = f"/{generation}" if generation else ""
        return hmac.new(self._token_key, f"{project}/{cluster_id}{suffix}".encode(), hashlib.sha256).hexdigest()

    def reset_kubeconfig(self, project: str, cluster_id: str, body: Any = None) -> None:
        """POST kubeconfig/reset: "certificates will be regenerated, nodes will be reinstalled" (the description):
        every kubeconfig given out so far stops working, and the cluster is REDEPLOYING. Not offered on the
        Standard plan (OVHcloud's Standard-plan guide): a 400, as the API refuses what a plan does not offer."""
        with self.state.write() as conn:
            cluster, now = self._ready_cluster(conn, project, cluster_id)
            if cluster.data.get("plan") == "standard":
                message = "The kubeconfig reset is not available for clusters on the Standard plan"
                raise ApiFailure(400, "Client::BadRequest", message)
            self.show_later(cluster, now)
            cluster.data[CREDENTIALS_KEY] = cluster.data.get(CREDENTIALS_KEY, 0) + 1
            self._mark_busy(cluster, "REDEPLOYING", now)
            State.save_cluster(conn, cluster)

    def api_server_ready(self, project: str, cluster_id: str, authorization: str | None) -> tuple[int, str]:
        """GET /readyz of the cluster's API server: 200 once READY, 503 while not (or under the fault), 401 without
        the kubeconfig's token, 404 for no such cluster."""
        cluster = self.state.cluster(project, cluster_id)
        if cluster is None:
            return 404, "not found"
        token = self._token(project, cluster_id, cluster.data.get(CREDENTIALS_KEY, 0))
        if not hmac.compare_digest(authorization or "", f"Bearer {token}"):
            return 401, "Unauthorized"
        if self.status(cluster, self.clock()) != "READY" or cluster.data.get("name") in self.unready_api_servers:
            return 503, "[-]etcd failed: reason withheld\nreadyz check failed"
        return 200, "ok"

    def get_project(self, project: str) -> dict:
        """The project object (GET /cloud/project/{serviceName}), with the fields a reader of it shows."""
        self._project(project)
        return {
            "project_id": project,
            "projectName": None,
            "description": self.state.project_description(project) or "",
            "status": "ok",
        }

    def list_ids(self, project: str) -> list[str]:
        self._project(project)
        now = self.clock()
        return [cluster.id for cluster in self.current(project, now) if not self._hidden(cluster, now)]

    def list_objects(self, project: str, page_size: int | None, page_number: int) -> tuple[list[dict], int]:
        """One page of the project's clusters as full objects (all of them when `page_size` is None), and the total."""
        self._project(project)
        now = self.clock()
        stored = [cluster for cluster in self.current(project, now) if not self._hidden(cluster, now)]
        first = 0 if page_size is None else (page_number - 1) * page_size
        last = len(stored) if page_size is None else first + page_size
        return [self.shown(cluster, now) for cluster in stored[first:last]], len(stored)

    def get(self, project: str, cluster_id: str) -> dict:
        return self.shown(self._cluster(project, cluster_id))

    def get_customization(self, project: str, cluster_id: str) -> dict:
        return self.shown(self._cluster(project, cluster_id))["customization"]

    def check_open(self, project: str) -> None:
        """460 for a project whose service has expired, whatever the call."""
        if self.state.project_expired(project):
            raise ApiFailure(460, "Client::ServiceExpired", f"The service {project} is expired")

    # changing

    def create(self, project: str, body: Any) -> dict:  # JSON, held to the contract before it comes here
        self._project(project)
        problems = bodies.customization_rules(body.get("customization"), "customization")
        if problems:
            raise bad_request(problems)
        now = self.clock()
        data = new_cluster(project, body, now)
        problems = bodies.network_rules(data, body.get("nodepools") or [])
        if problems:
            raise bad_request(problems)
        stored = StoredCluster(data["id"], project, data, now)
        self._mark_busy(stored, "INSTALLING", now)
        if self.on_create is not None:
            self.on_create(stored, body, now)
        with self.state.write() as conn:  # counted in the write transaction: two creates at once cannot both pass
            for gone in [c for c in self.state.clusters(project, conn) if self.gone(c, now)]:
                State.remove_cluster(conn, gone.id)  # deleted: it no longer counts against the limit
            if len(self.state.cluster_ids(project, conn)) >= self.behaviour.max_clusters_per_project:
                limit = self.behaviour.max_clusters_per_project
                message = f"Maximum number of Managed Kubernetes clusters reached for this project ({limit})"
                raise ApiFailure(400, "Client::BadRequest", message)
            State.save_cluster(conn, stored)
        return self.shown(stored, now)

    def put_customization(self, project: str, cluster_id: str, body: Any) -> dict:
        problems = bodies.customization_rules(body)
        if problems:
            raise bad_request(problems)
        sent = {block: value for block, value in (body or {}).items() if value is not None}
        with self.state.write() as conn:
            cluster, now = self._ready_cluster(conn, project, cluster_id)
            if sent.get("cilium") and cluster.data.get("plan") != STANDARD_PLAN:
                raise bad_request(["cilium: only on the Standard plan"])
            self.show_later(cluster, now)
            kept = {} if self.behaviour.put_replaces_customization else (cluster.data.get("customization") or {})
            cluster.data["customization"] = kept | copy.deepcopy(sent)
            self._mark_busy(cluster, "REDEPLOYING" if "kubeProxy" in sent else "UPDATING", now)
            State.save_cluster(conn, cluster)
        return {"message": "The customization is being applied to the cluster"}

    def put_cluster(self, project: str, cluster_id: str, body: Any) -> None:
        """PUT of the cluster (cloud.ProjectKubeUpdate: name, updatePolicy; neither required): a rename in place, the
        id kept, no status change. An updatePolicy left out falls back to ALWAYS_UPDATE, as a reset's does: the API
        does not say, and this is the reading that punishes a client that drops the policy."""
        body = body or {}
        if "name" in body and not str(body["name"]).strip():
            raise bad_request([f"name: {json.dumps(body['name'])} is not a cluster name"])
        with self.state.write() as conn:
            cluster, now = self._ready_cluster(conn, project, cluster_id)
            self.show_later(cluster, now)
            if body.get("name"):
                cluster.data["name"] = body["name"]
            cluster.data["updatePolicy"] = body.get("updatePolicy") or "ALWAYS_UPDATE"
            cluster.data["updatedAt"] = iso(now)
            State.save_cluster(conn, cluster)

    def delete(self, project: str, cluster_id: str, body: Any = None) -> None:
        """DELETE of the cluster: DELETING for `transition_seconds`, then gone (404, out of the listing). Refused
        (409) while the cluster is busy, as every change is; a cluster in an error status can be deleted."""
        with self.state.write() as conn:
            cluster = self._cluster(project, cluster_id, conn)
            now = self.clock()
            status = self.status(cluster, now)
            if status in TRANSIENT_STATUSES or status == DELETING:
                raise ApiFailure(409, "Client::Conflict::ServiceNotReady", f"Cluster is not ready (status {status})")
            self.show_later(cluster, now)
            cluster.data.pop(PREVIOUS, None)
            self._mark_busy(cluster, DELETING, now)
            State.save_cluster(conn, cluster)

    def gone(self, cluster: StoredCluster, now: float) -> bool:
        """A cluster deleted here, once its DELETING time is over: no call finds it any more. A cluster seeded
        DELETING stays so (a state to plan against)."""
        deleting = cluster.data.get("status") == DELETING
        return deleting and cluster.ready_at is not None and now >= cluster.ready_at

    def reset(self, project: str, cluster_id: str, body: Any) -> None:
        body = {} if body is None else body
        problems = bodies.customization_rules(body.get("customization"), "customization")
        if problems:
            raise bad_request(problems)
        with self.state.write() as conn:
            cluster, now = self._ready_cluster(conn, project, cluster_id)
            after = cluster.data | {key: body.get(key) for key in RESET_DEFAULTS}
            problems = bodies.network_rules(after, [])
            if problems:
                raise bad_request(problems)
            if PENDING_RESET in cluster.data:
                message = "You can only ask for one modification at a time (a reset is about to start)"
                raise ApiFailure(409, "Client::Conflict::ServiceOnlyOneModification", message)
            self.show_later(cluster, now)
            delay, status = self.behaviour.reset_delay_seconds, self.behaviour.reset_status
            if delay > 0:  # accepted; until it starts, the cluster reads and takes changes as before
                cluster.data[PENDING_RESET] = {"at": now + delay, "body": copy.deepcopy(body), "status": status}
            else:
                self._reset_now(cluster, body, now, status)
            State.save_cluster(conn, cluster)

    def started(self, cluster: StoredCluster, now: float) -> StoredCluster:
        """`cluster` with a reset accepted `reset_delay_seconds` ago made, once its time has come (from the state
        alone, so every process and `sandbox show` agree; a write saves it so)."""
        pending = cluster.data.get(PENDING_RESET)
        if pending and now >= pending["at"]:
            del cluster.data[PENDING_RESET]
            self._reset_now(cluster, pending["body"], pending["at"], pending["status"])
        return cluster

    def _reset_now(self, cluster: StoredCluster, body: dict, now: float, status: str) -> None:
        data = cluster.data
        if self.behaviour.reset_shows_late:
            data[PREVIOUS] = {key: copy.deepcopy(data.get(key)) for key in (*RESET_DEFAULTS, "name", "version")}
        for field, default in RESET_DEFAULTS.items():
            value = body.get(field)
            data[field] = copy.deepcopy(default if value is None else value)
        data["name"] = body.get("name") or default_name(cluster.id)
        data["ipAllocationPolicy"] = _ranges(data.get("plan"), data.get("ipAllocationPolicy"))
        # No reset field carries them: the API server's allow-list and OIDC are gone (public-cloud-roadmap#356).
        data[IPS_KEY], data[OIDC_KEY] = [], None
        # "Delete nodes" (the default) deletes the nodes and reinitializes the cluster to an empty state: no pools;
        # "reinstall" keeps them (OVHcloud's reset guide).
        if (body.get("workerNodesPolicy") or "delete") == "delete":
            data[POOLS_KEY] = []
        if body.get("version"):
            data["version"] = with_patch(body["version"])
        data["nextUpgradeVersions"] = next_versions(data["version"])
        cluster.resets += 1
        self._mark_busy(cluster, status, now)

    # helpers

    def show_later(self, cluster: StoredCluster, now: float) -> None:
        """Right before a change: with `show_late_seconds`, reads go on answering the cluster as it is now until
        that long after the change (a view already shown stays, until the latest change shows)."""
        if self.behaviour.show_late_seconds <= 0:
            return
        late = cluster.data.get(SHOWN_BEFORE)
        if not (late and now < late["until"]):
            before = {key: copy.deepcopy(value) for key, value in cluster.data.items() if key != SHOWN_BEFORE}
            late = {"data": before | {"status": self.status(cluster, now)}}
        cluster.data[SHOWN_BEFORE] = late | {"until": now + self.behaviour.show_late_seconds}

    def _mark_busy(self, cluster: StoredCluster, status: str, now: float) -> None:
        cluster.data["status"] = status
        cluster.data["updatedAt"] = iso(now)
        cluster.status_since = now
        cluster.ready_at = now + self.behaviour.transition_seconds

    def _project(self, project: str, conn=None) -> None:
        if not self.state.project_exists(project, conn):
            raise not_found(f"This service does not exist: {project}")

    def _hidden(self, cluster: StoredCluster, now: float) -> bool:
        """A cluster the API created moments ago is not readable yet (TF retries 404 after a create)."""
        just_created = cluster.data.get("status") == "INSTALLING" and cluster.ready_at is not None  # not seeded
        return just_created and now < cluster.status_since + self.behaviour.create_hidden_seconds

    def current(self, project: str, now: float) -> list[StoredCluster]:
        """The project's clusters as they are at `now` (a reset whose time has come made, a deleted one gone)."""
        return [self.started(cluster, now) for cluster in self.state.clusters(project) if not self.gone(cluster, now)]

    def _cluster(self, project: str, cluster_id: str, conn=None) -> StoredCluster:
        cluster = self.state.cluster(project, cluster_id, conn)
        if cluster is not None and self.gone(cluster, self.clock()):
            cluster = None
        if cluster is not None:
            cluster = self.started(cluster, self.clock())
        if cluster is not None and self._hidden(cluster, self.clock()):
            cluster = None
        if cluster is None:
            self._project(project, conn)  # which 404: no such project, or no such cluster in it
            raise not_found(f"The requested object (kubeId = {cluster_id}) does not exist")
        return cluster

    def _ready_cluster(self, conn, project: str, cluster_id: str) -> tuple[StoredCluster, float]:
        cluster = self._cluster(project, cluster_id, conn)
        now = self.clock()
        status = self.status(cluster, now)
        if status != "READY":
            raise ApiFailure(409, "Client::Conflict::ServiceNotReady", f"Cluster is not ready (status {status})")
        cluster.data["status"] = status
        cluster.data.pop(PREVIOUS, None)  # READY: a reset is over, and what it replaced shows no more
        return cluster, now
