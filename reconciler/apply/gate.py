"""A rollout's health gate: what a cluster must show before the next wave starts.

READY, its version the planned one, every node pool READY with all its desired nodes available, and, with
`gate.apiServer`, its API server answering /readyz through a fresh kubeconfig (reconciler/live/api_server.py). A
status that does not pass by itself (ERROR, USER_*_ERROR, ...) fails at once; anything else is looked at again, at
growing intervals, until it passes or the gate's timeout is over. The reads are a GET of the cluster (through the
apply's project watch, one listing per project per round) and one pool listing per look; the kubeconfig is asked
for once per gate, when the rest passes.
"""

import threading
import time
from collections.abc import Callable

from reconciler.apply.waiting import format_seconds, pause, poll_intervals
from reconciler.apply.watch import ProjectWatch
from reconciler.errors import ApiError
from reconciler.live.api import ApiClient
from reconciler.live.api_server import api_server_of, readyz_problem
from reconciler.live.kubeconfig import KubeconfigError, fresh_kubeconfig
from reconciler.live.node_pools import read_pools
from reconciler.live.read import PoolObject, read_object
from reconciler.model import PASSING_STATUSES, POOL_PASSING_STATUSES
from reconciler.plan.data import Change
from reconciler.versions import major_minor


def planned_version(change: Change) -> str | None:
    """The minor the plan moves the cluster to (None: the plan does not move its version)."""
    for entry in change.diff:
        if entry.path == "version" and isinstance(entry.after, str):
            return major_minor(entry.after)
    return None


def health_problems(cluster: dict, pools: list[PoolObject], version: str | None) -> tuple[list[str], bool]:
    """What keeps the cluster from passing the gate, and whether it may pass later by itself (False: a status that
    needs a person)."""
    problems, may_pass = [], True
    status = cluster.get("status")
    if status != "READY":
        problems.append(f"status {status}")
        may_pass = status in PASSING_STATUSES
    live = cluster.get("version")
    if version is not None and (not isinstance(live, str) or major_minor(live) != version):
        problems.append(f"version {live} (planned {version})")
    for pool in pools:
        name, pool_status = pool.get("name"), pool.get("status")
        if pool_status != "READY":
            problems.append(f"node pool {name} {pool_status}")
            may_pass = may_pass and pool_status in POOL_PASSING_STATUSES
        desired, available = pool.get("desiredNodes"), pool.get("availableNodes")
        if isinstance(desired, int) and isinstance(available, int) and available < desired:
            problems.append(f"node pool {name}: {available} of {desired} nodes available")
    return problems, may_pass


def gate_problem(
    api: ApiClient,
    change: Change,
    cluster_id: str,
    timeout: float,
    stop: threading.Event,
    say: Callable[[str], None],
    watch: "ProjectWatch | None" = None,
    api_server: bool = False,
) -> str | None:
    """None once the cluster passes the gate; else why it does not, after `timeout` seconds at most. `api_server`:
    its API server must answer /readyz too."""
    project, version = change.cluster.project, planned_version(change)
    started = time.monotonic()
    intervals = poll_intervals()
    said = None
    server = None
    while True:
        look = time.monotonic()
        try:
            cluster = watch.read(project, cluster_id, look) if watch else read_object(api, project, cluster_id)
            pools = read_pools(api, project, cluster_id)
        except ApiError as exc:
            return f"cannot read the cluster: {exc}"
        problems, may_pass = health_problems(dict(cluster), pools, version)
        if not problems and api_server:
            try:
                server = server or api_server_of(fresh_kubeconfig(api, project, cluster_id))
            except ApiError as exc:
                return f"cannot get a kubeconfig to reach its API server: {exc}"
            except KubeconfigError as exc:
                return f"cannot reach its API server: {exc}"
            asked = readyz_problem(server)
            problems = [asked] if asked else []
        if not problems:
            say("passed the health gate")
            return None
        text = "; ".join(problems)
        if not may_pass:
            return f"{text}: it will not pass by itself"
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            return f"{text}, still after {format_seconds(timeout)} (the gate's timeout)"
        if text != said:
            say(f"health gate: waiting ({text})")
            said = text
        pause(stop, min(next(intervals), max(0.0, timeout - elapsed)))
