"""Seed files in, `sandbox show` out: both in the same shape, so a `show` can be seeded back.

```yaml
projects:
  - serviceName: 0123456789abcdef0123456789abcdef
    clusters:
      - {name: my-super-cluster, region: GRA5, version: "1.31", kubeProxyMode: iptables, status: READY,
         customization: {kubeProxy: {iptables: {syncPeriod: PT30S}}}}      # id generated where absent
```
A cluster may carry any field of the API's cluster object (`plan: standard` included), `resets`, and what the API
serves beside the object: `ipRestrictions` (a list of ranges) and `openIdConnect` (the OIDC settings, or null);
`status` defaults to READY. A project may say `expired: true`: every call on it then answers 460. Seeding
replaces every cluster of the projects it names; a cluster seeded in a transient status (INSTALLING, UPDATING,
REDEPLOYING, RESETTING) turns READY the serving sandbox's transition time after the seeding.
"""

import re
import time
import uuid
from pathlib import Path

import yaml

from reconciler.sandbox import bodies
from reconciler.sandbox.bodies import shown
from reconciler.sandbox.clusters import Behaviour, Clusters, new_cluster, next_versions, with_patch
from reconciler.sandbox.control_plane import IPS_KEY, OIDC_KEY
from reconciler.sandbox.facts import KUBE_PROXY_MODES, PLANS, POOL_STATUSES, STATUSES
from reconciler.sandbox.node_pools import POOLS_KEY, NodePools, new_pool
from reconciler.sandbox.state import State, StoredCluster

# Seed and `show` fields kept beside the cluster object, by the key the state stores them under.
BESIDE = {"ipRestrictions": IPS_KEY, "openIdConnect": OIDC_KEY, "nodePools": POOLS_KEY}


class SeedError(Exception):
    """A seed that cannot be loaded; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _version(value, path, problems) -> None:
    # Any minor, not only those the API installs (its version enum): a cluster may run one OVHcloud has dropped.
    if not (isinstance(value, str) and re.fullmatch(r"\d+\.\d+(\.\d+)?", value)):
        problems.append(f"{path}: {shown(value)} is not a version such as 1.31 or 1.31.4")


def _count(value, path, problems) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        problems.append(f"{path}: expected a whole number >= 0")


def _uuid(value, path, problems) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        problems.append(f"{path}: {shown(value)} is not a UUID")


# A pool as `show` prints it (cloud.kube.NodePool) or as a creation body names it (flavorName); the counts and dates
# the sandbox computes are taken and recomputed.
POOL = bodies.obj(
    {
        "id": _uuid,
        "name": bodies.string,
        "flavor": bodies.string,
        "flavorName": bodies.string,
        "status": bodies.enum(POOL_STATUSES),
        "desiredNodes": _count,
        "minNodes": _count,
        "maxNodes": _count,
        "autoscale": bodies.boolean,
        "autoscaling": bodies.AUTOSCALING,
        "antiAffinity": bodies.boolean,
        "monthlyBilled": bodies.boolean,
        "availabilityZones": bodies.list_of(bodies.string),
        "attachFloatingIps": bodies.obj({"enabled": bodies.boolean}),
        "template": bodies.TEMPLATE,
        "projectId": bodies.string,
        "createdAt": bodies.string,
        "updatedAt": bodies.string,
        "currentNodes": _count,
        "availableNodes": _count,
        "upToDateNodes": _count,
        "sizeStatus": bodies.string,
    },
    required=("name",),
)
CLUSTER = bodies.obj(
    bodies.CLUSTER_SETTINGS
    | {
        "id": _uuid,
        "region": bodies.string,
        "status": bodies.enum(STATUSES),
        "version": _version,
        "kubeProxyMode": bodies.enum(KUBE_PROXY_MODES),
        "plan": bodies.enum(PLANS),
        "url": bodies.string,
        "nodesUrl": bodies.string,
        "isUpToDate": bodies.boolean,
        "controlPlaneIsUpToDate": bodies.boolean,
        "nextUpgradeVersions": bodies.list_of(bodies.string),
        "auditLogsSubscribed": bodies.boolean,
        "createdAt": bodies.string,
        "updatedAt": bodies.string,
        "resets": _count,
        "customization": bodies.STORED_CUSTOMIZATION,
        "ipRestrictions": bodies.list_of(bodies.string),
        "openIdConnect": bodies.any_object,
        "nodePools": bodies.list_of(POOL),
    },
    required=("name", "region"),
)
PROJECT = bodies.obj(
    {
        "serviceName": bodies.string,
        "description": bodies.string,
        "expired": bodies.boolean,
        "clusters": bodies.list_of(CLUSTER),
    },
    required=("serviceName",),
)
SEED = bodies.obj({"projects": bodies.list_of(PROJECT)}, required=("projects",))


def read_seed(source: dict | str | Path) -> dict:
    """The seed as data, checked; raises SeedError with every problem, each prefixed by the file's name."""
    if isinstance(source, dict):
        data, label = source, "seed"
    else:
        label = str(source)
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SeedError([f"{label}: cannot read: {exc.strerror or exc}"]) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
            reason = " ".join(f"{exc.context or ''} {exc.problem or ''}".split()) or "invalid YAML"
            raise SeedError([f"{where}: not valid YAML: {reason}"]) from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SeedError([f"{label}: not valid YAML: {' '.join(str(exc).split())}"]) from None
    problems = bodies.problems_in(SEED, data)
    if not problems:
        problems = _duplicate_ids(data)
    if problems:
        raise SeedError([f"{label}: {problem}" for problem in problems])
    return data


def _duplicate_ids(data: dict) -> list[str]:
    seen, problems = set(), []
    for p, project in enumerate(data["projects"]):
        for c, cluster in enumerate(project.get("clusters") or []):
            if cluster.get("id") in seen:
                problems.append(f"projects[{p}].clusters[{c}].id: {cluster['id']} appears twice")
            if cluster.get("id"):
                seen.add(cluster["id"])
    return problems


def seeded_cluster(project: str, fields: dict, now: float) -> StoredCluster:
    data = new_cluster(project, fields, now, fields.get("id"))
    data.update({key: value for key, value in fields.items() if key not in ("id", "resets", *BESIDE)})
    for name, key in BESIDE.items():
        data[key] = fields.get(name)
    # Seeded pools: READY unless seeded in a passing status, which ends the serving sandbox's transition time later.
    data[POOLS_KEY] = [
        new_pool(project, pool | {"status": pool.get("status") or "READY"}, now, None)
        for pool in fields.get("nodePools") or []
    ]
    data["status"] = fields.get("status") or "READY"
    data["version"] = with_patch(data["version"])
    if "nextUpgradeVersions" not in fields:
        data["nextUpgradeVersions"] = next_versions(data["version"])
    return StoredCluster(data["id"], project, data, status_since=now, ready_at=None, resets=fields.get("resets", 0))


def load_seed(state: State, source: dict | str | Path) -> int:
    """Write a seed into a state, replacing the clusters of the projects it names. Returns the clusters written."""
    data = read_seed(source)
    now = time.time()
    written = 0
    with state.write() as conn:
        for project in data["projects"]:
            service_name = project["serviceName"]
            State.add_project(conn, service_name)
            State.remove_project_clusters(conn, service_name)
            State.set_project_expired(conn, service_name, bool(project.get("expired")))
            State.set_project_description(conn, service_name, project.get("description"))
            for fields in project.get("clusters") or []:
                stored = seeded_cluster(service_name, fields, now)
                if conn.execute("SELECT 1 FROM clusters WHERE id = ?", (stored.id,)).fetchone():
                    raise SeedError([f"cluster id {stored.id} already exists in another project of the state"])
                State.save_cluster(conn, stored)
                written += 1
    return written


def _beside(cluster: StoredCluster, pools: NodePools, now: float) -> dict:
    """What `show` adds to the cluster object: its resets, IP restrictions, OIDC and node pools (each has its own
    GET)."""
    shown = {"resets": cluster.resets} | {name: cluster.data.get(key) or None for name, key in BESIDE.items()}
    shown["nodePools"] = [pools.shown(pool, now) for pool in pools.pools_of(cluster, now)]
    return shown


def show(state: State, transition_seconds: float = 0.0) -> dict:
    """The whole state in the seed's shape, each cluster as the API shows it plus `resets`."""
    clusters = Clusters(state, Behaviour(transition_seconds=transition_seconds))
    pools = NodePools(clusters)
    now = time.time()
    return {
        "projects": [
            {
                "serviceName": project,
                **({"description": state.project_description(project)} if state.project_description(project) else {}),
                **({"expired": True} if state.project_expired(project) else {}),
                "clusters": [clusters.shown(c, now) | _beside(c, pools, now) for c in clusters.current(project, now)],
            }
            for project in state.projects()
        ]
    }
