"""Node pools and their nodes: `/kube/{kubeId}/nodepool`, `/nodepool/{nodePoolId}`, `/nodepool/{nodePoolId}/nodes`,
the cluster's `/flavors` and the project's `/capabilities/kube/flavors?region=`, in the shapes of OVHcloud's API
description (cloud.kube.NodePool, cloud.kube.Node, cloud.kube.Flavor; bodies cloud.ProjectKubeNodePoolCreation and
...Update).

- A pool is stored with its cluster (under POOLS_KEY, never shown in the cluster object); its status and its nodes'
  are computed from timestamps in the state, so every process serving the state agrees.
- Create: INSTALLING, its nodes INSTALLING, then READY `transition_seconds` later. A PUT that moves desiredNodes:
  UPSCALING (new nodes INSTALLING) or DOWNSCALING (the nodes removed DELETING, then gone); any other PUT: UPDATING.
  DELETE: DELETING with its nodes, then gone from every listing.
- A change to a pool while its cluster or the pool itself is not READY is a 409 ServiceNotReady; a pool named like
  another of the cluster, a flavor the cluster does not offer, or an anti-affinity pool beyond 5 nodes is a 400.
- The listing answers full objects (the description's array of cloud.kube.NodePool); asked with `X-Pagination-Mode:
  CachedObjectList-Pages` (the expanded form), a page at a time with `X-Pagination-Elements`.
- With the `autoscaler_nodes` behaviour, an autoscaled pool reads as the cluster autoscaler left it: desiredNodes
  moved to that many nodes (within minNodes..maxNodes), its nodes following, whatever was last sent.
- A template is kept whole, as sent (a PUT replaces it); a pool created without one gets the empty template.
"""

import copy
import uuid
from typing import Any

from reconciler.sandbox import bodies
from reconciler.sandbox.clusters import POOLS_KEY, ApiFailure, Clusters, bad_request, iso, not_found
from reconciler.sandbox.facts import FLAVORS, MAX_ANTI_AFFINITY_NODES, POOL_DEFAULTS, STANDARD_PLAN, three_zones
from reconciler.sandbox.state import State, StoredCluster

EMPTY_TEMPLATE = {
    "metadata": {"annotations": {}, "finalizers": [], "labels": {}},
    "spec": {"taints": [], "unschedulable": False},
}
_PRIVATE = ("_status", "_since", "_until", "_nodes")


def flavor_objects() -> list[dict]:
    return [
        {"name": name, "category": category, "vCPUs": cpus, "ram": ram, "gpus": gpus, "state": "available"}
        for name, category, cpus, ram, gpus in FLAVORS
    ]


FLAVOR_NAMES = frozenset(flavor[0] for flavor in FLAVORS)


def new_pool(project: str, body: dict, now: float, until: float | None) -> dict:
    """A stored pool from a creation body (checked) or a seed; what is left out gets the API's defaults. `until`:
    when its status ends; None (seeded) the serving sandbox's transition time after `now`."""
    pool_id = body.get("id") or str(uuid.uuid4())
    pool: dict[str, Any] = {
        "id": pool_id,
        "projectId": project,
        "name": body.get("name") or f"nodepool-{pool_id[:8]}",
        "flavor": body.get("flavorName") or body.get("flavor"),
        "desiredNodes": POOL_DEFAULTS["desiredNodes"],
        "minNodes": POOL_DEFAULTS["minNodes"],
        "maxNodes": POOL_DEFAULTS["maxNodes"],
        "autoscale": bool(body.get("autoscale")),
        "autoscaling": {
            "scaleDownUnneededTimeSeconds": 600,
            "scaleDownUnreadyTimeSeconds": 1200,
            "scaleDownUtilizationThreshold": 0.5,
        },
        "antiAffinity": bool(body.get("antiAffinity")),
        "monthlyBilled": bool(body.get("monthlyBilled")),
        "availabilityZones": body.get("availabilityZones") or [],
        "attachFloatingIps": body.get("attachFloatingIps") or {"enabled": False},
        "template": copy.deepcopy(body.get("template") or EMPTY_TEMPLATE),
        "createdAt": iso(now),
        "updatedAt": iso(now),
        "_status": body.get("status") or "INSTALLING",
        "_since": now,
        "_until": until,
        "_nodes": [],
    }
    for key in POOL_DEFAULTS:
        if body.get(key) is not None:
            pool[key] = body[key]
    pool["autoscaling"] |= body.get("autoscaling") or {}
    # The nodes of a pool seeded READY are READY at once; the others, when the pool's status ends.
    _resize(pool, pool["desiredNodes"], now, now if pool["_status"] == "READY" else until)
    return pool


def _resize(pool: dict, wanted: int, now: float, until: float | None) -> None:
    """New nodes INSTALLING until `until`; the newest nodes beyond `wanted` DELETING until then."""
    alive = [node for node in pool["_nodes"] if node.get("_goneAt") is None]
    for _ in range(len(alive), wanted):
        node_id = str(uuid.uuid4())
        name = f"{pool['name']}-node-{node_id[:5]}"
        pool["_nodes"].append({"id": node_id, "name": name, "createdAt": iso(now), "_readyAt": until})
    for node in alive[wanted:]:
        node["_goneAt"] = until


def check_pool(pool: dict, problems: list[str], path: str = "") -> None:
    """What the API refuses beyond the body's shape: an unknown flavor, counts out of order, anti-affinity > 5."""
    where = f"{path}." if path else ""
    if pool.get("flavorName") is not None and pool.get("flavorName") not in FLAVOR_NAMES:
        problems.append(f"{where}flavorName: {bodies.shown(pool['flavorName'])} is not an available flavor")
    low, desired, high = (pool.get(key) for key in ("minNodes", "desiredNodes", "maxNodes"))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(f"{where}minNodes: must not be above maxNodes")
    if isinstance(desired, int) and not (
        (low if isinstance(low, int) else 0) <= desired <= (high if isinstance(high, int) else 100)
    ):
        problems.append(f"{where}desiredNodes: must be between minNodes and maxNodes")
    if pool.get("antiAffinity") and isinstance(desired, int) and desired > MAX_ANTI_AFFINITY_NODES:
        problems.append(f"{where}desiredNodes: an anti-affinity pool holds at most {MAX_ANTI_AFFINITY_NODES} nodes")


class NodePools:
    def __init__(self, clusters: Clusters):
        self.clusters = clusters
        self.state = clusters.state
        clusters.on_create = self._pools_of_create

    def _pools_of_create(self, cluster: StoredCluster, body: dict, now: float) -> None:
        """The pools a create body asks (`nodepools`; checked with the body), INSTALLING with the cluster."""
        problems: list[str] = []
        for index, pool in enumerate(body.get("nodepools") or []):
            check_pool(pool, problems, f"nodepools[{index}]")
        if problems:
            raise bad_request(problems)
        until = now + self.clusters.behaviour.transition_seconds
        cluster.data[POOLS_KEY] = [new_pool(cluster.project, pool, now, until) for pool in body.get("nodepools") or []]

    # reading

    def _ends(self, pool: dict, until: float | None) -> float:
        """When a status ends (the pool's, or a node's INSTALLING): a seeded one, the transition time after the
        seeding."""
        return pool["_since"] + self.clusters.behaviour.transition_seconds if until is None else until

    def _status(self, pool: dict, now: float) -> str:
        return pool["_status"] if now < self._ends(pool, pool["_until"]) else "READY"

    def _gone(self, pool: dict, now: float) -> bool:
        return pool["_status"] == "DELETING" and now >= self._ends(pool, pool["_until"])

    def _nodes(self, pool: dict, now: float) -> list[dict]:
        """The nodes as the API shows them now: INSTALLING until ready, DELETING until gone."""
        shown = []
        for node in pool["_nodes"]:
            gone_at = node.get("_goneAt")
            if gone_at is not None and now >= gone_at:
                continue
            if gone_at is not None or self._status(pool, now) == "DELETING":
                status = "DELETING"
            else:
                status = "INSTALLING" if now < self._ends(pool, node["_readyAt"]) else "READY"
            shown.append(
                {
                    "id": node["id"],
                    "name": node["name"],
                    "nodePoolId": pool["id"],
                    "projectId": pool["projectId"],
                    "flavor": pool["flavor"],
                    "status": status,
                    "version": "",
                    "isUpToDate": True,
                    "instanceId": node["id"],
                    "createdAt": node["createdAt"],
                    "updatedAt": node["createdAt"],
                    "deployedAt": None if status == "INSTALLING" else node["createdAt"],
                    "deletedAt": None,
                }
            )
        return shown

    def _autoscaled(self, pool: dict, now: float) -> dict:
        """The pool as the cluster autoscaler (the `autoscaler_nodes` behaviour) left it."""
        wanted = self.clusters.behaviour.autoscaler_nodes
        if wanted is None or not pool["autoscale"] or self._status(pool, now) != "READY":
            return pool
        moved = copy.deepcopy(pool)
        moved["desiredNodes"] = max(pool["minNodes"], min(pool["maxNodes"], wanted))
        ready = [node for node in moved["_nodes"] if node.get("_goneAt") is None]
        moved["_nodes"] = ready[: moved["desiredNodes"]]
        for _ in range(len(moved["_nodes"]), moved["desiredNodes"]):  # nodes the autoscaler added, READY
            node_id = str(uuid.uuid5(uuid.UUID(pool["id"]), str(len(moved["_nodes"]))))
            name = f"{pool['name']}-node-{node_id[:5]}"
            moved["_nodes"].append({"id": node_id, "name": name, "createdAt": pool["updatedAt"], "_readyAt": 0})
        return moved

    def shown(self, pool: dict, now: float) -> dict:
        pool = self._autoscaled(pool, now)
        nodes = self._nodes(pool, now)
        data = {key: copy.deepcopy(value) for key, value in pool.items() if key not in _PRIVATE}
        data["status"] = self._status(pool, now)
        data["currentNodes"] = len(nodes)
        data["availableNodes"] = sum(node["status"] == "READY" for node in nodes)
        data["upToDateNodes"] = data["availableNodes"]
        desired = data["desiredNodes"]
        data["sizeStatus"] = (
            "CAPACITY_OK"
            if data["availableNodes"] == desired
            else "UNDER_CAPACITY"
            if data["availableNodes"] < desired
            else "OVER_CAPACITY"
        )
        return data

    def pools_of(self, cluster: StoredCluster, now: float) -> list[dict]:
        return [pool for pool in cluster.data.get(POOLS_KEY) or [] if not self._gone(pool, now)]

    def list_pools(self, project: str, cluster_id: str, page_size: int | None = None, page_number: int = 1):
        cluster = self.clusters._cluster(project, cluster_id)
        now = self.clusters.clock()
        pools = self.pools_of(cluster, now)
        first = 0 if page_size is None else (page_number - 1) * page_size
        last = len(pools) if page_size is None else first + page_size
        return [self.shown(pool, now) for pool in pools[first:last]], len(pools)

    def _pool(self, cluster: StoredCluster, pool_id: str, now: float) -> dict:
        for pool in self.pools_of(cluster, now):
            if pool["id"] == pool_id:
                return pool
        raise not_found(f"The requested object (nodePoolId = {pool_id}) does not exist")

    def get_pool(self, project: str, cluster_id: str, pool_id: str) -> dict:
        cluster = self.clusters._cluster(project, cluster_id)
        now = self.clusters.clock()
        return self.shown(self._pool(cluster, pool_id, now), now)

    def get_nodes(self, project: str, cluster_id: str, pool_id: str) -> list[dict]:
        cluster = self.clusters._cluster(project, cluster_id)
        now = self.clusters.clock()
        return self._nodes(self._autoscaled(self._pool(cluster, pool_id, now), now), now)

    def get_flavors(self, project: str, cluster_id: str) -> list[dict]:
        self.clusters._cluster(project, cluster_id)
        return flavor_objects()

    def get_region_flavors(self, project: str, region: str | None) -> list[dict]:
        """`GET /cloud/project/{sn}/capabilities/kube/flavors?region=`: the same flavors in every region (the
        sandbox takes any region string, as it does for a create)."""
        self.clusters._project(project)
        return flavor_objects()

    # changing

    def _ready_pool(self, cluster: StoredCluster, pool_id: str, now: float) -> dict:
        pool = self._pool(cluster, pool_id, now)
        status = self._status(pool, now)
        if status != "READY":
            raise ApiFailure(409, "Client::Conflict::ServiceNotReady", f"Node pool is not ready (status {status})")
        return pool

    def create_pool(self, project: str, cluster_id: str, body: Any) -> dict:
        problems = bodies.problems_in(bodies.POOL_CREATE, body)
        if not problems:
            check_pool(body, problems)
        if problems:
            raise bad_request(problems)
        with self.state.write() as conn:
            cluster, now = self.clusters._ready_cluster(conn, project, cluster_id)
            zoned = cluster.data.get("plan") == STANDARD_PLAN or three_zones(str(cluster.data.get("region")))
            if zoned and not body.get("availabilityZones"):
                raise bad_request(["availabilityZones: a Standard or 3-AZ cluster needs each node pool's zone"])
            pools = [pool for pool in cluster.data.get(POOLS_KEY) or [] if not self._gone(pool, now)]
            if body.get("name") and any(pool["name"] == body["name"] for pool in pools):
                raise bad_request([f"name: a node pool named {bodies.shown(body['name'])} already exists"])
            pool = new_pool(project, body, now, now + self.clusters.behaviour.transition_seconds)
            cluster.data[POOLS_KEY] = [*pools, pool]
            State.save_cluster(conn, cluster)
        return self.shown(pool, now)

    def put_pool(self, project: str, cluster_id: str, pool_id: str, body: Any) -> None:
        body = {} if body is None else body
        problems = bodies.problems_in(bodies.POOL_UPDATE, body)
        with self.state.write() as conn:
            cluster, now = self.clusters._ready_cluster(conn, project, cluster_id)
            pool = self._ready_pool(cluster, pool_id, now)
            if not problems:  # the counts are checked as they will be once merged
                merged = {key: body.get(key, pool[key]) for key in POOL_DEFAULTS} | {
                    "antiAffinity": pool["antiAffinity"]
                }
                check_pool({key: value for key, value in merged.items() if value is not None}, problems)
            if problems:
                raise bad_request(problems)
            until = now + self.clusters.behaviour.transition_seconds
            before = pool["desiredNodes"]
            for key, value in body.items():
                if key == "autoscaling" and value is not None:
                    pool["autoscaling"] |= value
                elif key != "nodesToRemove" and value is not None:
                    pool[key] = copy.deepcopy(value)
            after = pool["desiredNodes"]
            pool["_status"] = "UPSCALING" if after > before else "DOWNSCALING" if after < before else "UPDATING"
            pool["_until"], pool["updatedAt"] = until, iso(now)
            _resize(pool, after, now, until)
            State.save_cluster(conn, cluster)

    def delete_pool(self, project: str, cluster_id: str, pool_id: str, body: Any = None) -> None:
        with self.state.write() as conn:
            cluster, now = self.clusters._ready_cluster(conn, project, cluster_id)
            pool = self._ready_pool(cluster, pool_id, now)
            pool["_status"], pool["updatedAt"] = "DELETING", iso(now)
            pool["_until"] = now + self.clusters.behaviour.transition_seconds
            State.save_cluster(conn, cluster)
