"""Read the live state of the clusters a plan is about, in parallel, through reconciler.live.client.

Each project is read once, however many files name it, with one expanded listing: the cluster objects themselves,
customization included (`X-Pagination-Mode: CachedObjectList-Pages`). Where an endpoint answers ids instead, each
cluster needed is read by a GET of its own (said once under -v). A cluster that cannot be read becomes an error for
the cluster asked about, never a guess: if any cluster of a project could not be read, a name that was not found
cannot be called absent (creating it could make a duplicate).
"""

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict

from reconciler.errors import ApiError
from reconciler.escape import quoted
from reconciler.live.api import ApiClient
from reconciler.live.shapes import MalformedAnswer
from reconciler.model import ClusterRef, ErrorReason
from reconciler.steps import cluster_path, clusters_path
from reconciler.workers import Workers


class ClusterObject(TypedDict, total=False):
    """The cluster object as the API answers it (cloud.kube.Cluster): the fields ovhkube reads."""

    id: str
    name: str
    region: str
    version: str
    status: str
    plan: str  # free | standard
    kubeProxyMode: str
    updatePolicy: str
    isUpToDate: bool
    nextUpgradeVersions: list[str]
    customization: dict | None
    privateNetworkId: str | None
    privateNetworkConfiguration: dict | None
    nodesSubnetId: str | None
    loadBalancersSubnetId: str | None
    ipAllocationPolicy: dict | None


class PoolObject(TypedDict, total=False):
    """A node pool as the API answers it (cloud.kube.NodePool): the fields ovhkube reads."""

    id: str
    name: str
    flavor: str
    status: str
    antiAffinity: bool
    autoscale: bool
    monthlyBilled: bool
    availableNodes: int
    currentNodes: int
    desiredNodes: int
    maxNodes: int
    minNodes: int
    availabilityZones: list[str] | None
    attachFloatingIps: dict | None
    autoscaling: dict
    template: dict


@dataclass(frozen=True)
class LiveCluster:
    cluster: ClusterObject  # the cluster object (GET /cloud/project/{sn}/kube/{id}, or an item of the expanded listing)
    customization: dict  # its customization ({} where the API answers null)
    # Separate GETs, made only for the clusters whose plan needs them (reconciler.live.control_plane):
    ip_restrictions: list | None = None  # GET .../ipRestrictions; None: not read
    openid_connect: dict | None = None  # GET .../openIdConnect; {}: none configured; None: not read
    node_pools: list[PoolObject] | None = None  # GET .../nodepool (expanded), where a file declares pools; None: unread
    flavors: frozenset[str] | None = None  # GET .../flavors, where the plan creates or replaces a pool; None: not read

    @property
    def status(self) -> str:
        return self.cluster.get("status", "UNKNOWN")

    @classmethod
    def of(cls, cluster: ClusterObject) -> "LiveCluster":
        """The cluster object carries the customization, of the same type as GET .../customization; null means {}."""
        return cls(cluster, cluster.get("customization") or {})


def read_cluster(api: ApiClient, project: str, cluster_id: str) -> LiveCluster:
    """One cluster as it is now, by a direct GET: what apply reads once it has sent a request to the cluster (a
    listing shared by the project's clusters may have started before that request). Raises the Api's errors
    (NotFound, ApiError)."""
    return LiveCluster.of(read_object(api, project, cluster_id))


def read_object(api: ApiClient, project: str, cluster_id: str) -> ClusterObject:
    """The cluster object alone, by a direct GET; raises the Api's errors (NotFound, ApiError)."""
    return api.get(cluster_path(project, cluster_id))


@dataclass(frozen=True)
class LiveResult:
    found: LiveCluster | None = None
    error: str | None = None
    reason: ErrorReason | None = None  # set with `error`
    # Not found, to be created with pools: the flavors its region offers (GET .../capabilities/kube/flavors?region=);
    # None: not read.
    region_flavors: frozenset[str] | None = None


@dataclass
class LiveView:
    results: dict[tuple[str, str], LiveResult] = field(default_factory=dict)
    clusters_by_project: dict[str, list[ClusterObject]] = field(
        default_factory=dict
    )  # projects read whole: every cluster
    project_errors: dict[str, str] = field(default_factory=dict)
    project_failures: dict[str, ApiError] = field(default_factory=dict)  # the errors behind project_errors
    read_errors: dict[tuple[str, str], str] = field(default_factory=dict)  # (project, id) listed but not readable
    listed: dict[str, list[str]] = field(default_factory=dict)  # the ids of every project listed


# The expanded form of a listing: full objects instead of ids, a page at a time (the real API and the control panel
# use it; headers are not signed). A project holds at most 20 clusters, so one page of 5000 holds them all; the
# listing is "Cached" by name, so no-cache asks for what is true now.
EXPANDED_HEADERS = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "5000", "Pragma": "no-cache"}
# 100,000 objects: far past any project (20 clusters at most) or cluster; a listing of more pages does not end.
MAX_PAGES = 20
IDS_ONLY_NOTE = "note: the API answered cluster ids, not cluster objects, to an expanded listing: reading each cluster"


def list_project(api: ApiClient, project: str) -> tuple[list[ClusterObject] | None, list[str]]:
    """(the project's cluster objects, their ids) with one expanded list call (more only past 5000 clusters).
    Objects is None when the endpoint answers ids only: the caller reads the clusters it needs one by one."""
    objects: list[ClusterObject] = []
    page = 1
    while True:
        page_headers = EXPANDED_HEADERS | {"X-Pagination-Number": str(page)}
        answer, headers = api.get_with_headers(clusters_path(project), page_headers)
        answer = list(answer or [])
        if any(not isinstance(item, dict) for item in answer):
            api.note_once(IDS_ONLY_NOTE)
            return None, [str(item) for item in answer]
        objects += answer
        if not more_pages(clusters_path(project), page, objects, answer, headers):
            return objects, [str(item.get("id")) for item in objects]
        page += 1


def more_pages(path: str, page: int, items: list, answer: list, headers: Any) -> bool:
    """Whether an expanded listing goes on past `page`, whose answer was `answer` (`items`: every page's so far), as
    its answer header X-Pagination-Elements counts them (no count: the page is the whole listing). Raises
    MalformedAnswer where the pages hold fewer than they count, or do not end: an object left out would read as
    absent, and be created again."""
    total = str(headers.get("X-Pagination-Elements") or "")
    if not (total.isascii() and total.isdigit()) or len(items) >= int(total[:12]):
        return False
    if not answer or page >= MAX_PAGES:
        said = "but its pages hold" if not answer else f"and {MAX_PAGES} pages, still coming, hold"
        raise MalformedAnswer(
            f"the answer is not what the API describes: X-Pagination-Elements counts {quoted(total, 20)} {said} "
            f"{len(items)}",
            status=200,
            method="GET",
            path=path,
        )
    return True


def read_live(
    api: ApiClient,
    refs: list[ClusterRef],
    parallelism: int = 10,
    on_progress: Callable[[int, int], None] | None = None,
    projects: Iterable[str] = (),
    whole_projects: bool = False,
    on_result: Callable[[tuple[str, str], LiveResult], None] | None = None,
) -> LiveView:
    """Read what `refs` name (by id where pinned, else by name): one expanded listing per project.

    `projects`: list these too, even where no ref names them (export reads a whole project). Where the endpoint
    answers ids only, each cluster is read by a GET of its own: only the pinned ones when every ref of the project
    pins its id and no one needs the whole project (`whole_projects`, `projects`); then the project is not in
    `clusters_by_project`.
    `on_result(key, result)`: called in the caller's thread for each ref as soon as its result is known, a project
    listed whole while the others are still awaited (plan uses that wait to plan the project's clusters).
    """
    whole = set(projects)
    by_name = {ref.project for ref in refs if not ref.id}
    pinned = {(ref.project, ref.id) for ref in refs if ref.id}
    counter = _Counter(on_progress)
    view = LiveView()
    listed = view.listed
    objects: dict[tuple[str, str], ClusterObject] = {}
    complete: set[str] = set()
    unresolved: dict[str, list[ClusterRef]] = {}
    for ref in refs:
        unresolved.setdefault(ref.project, []).append(ref)

    def resolve(project: str) -> None:
        """The results of the project's refs, once every cluster of it that will be read is in."""
        named: dict[tuple[str, str | None], list[str]] = {}  # (project, name): ids; a cluster may come without a name
        for cluster_id in listed.get(project, []):
            if (project, cluster_id) in objects:
                cluster = objects[(project, cluster_id)]
                named.setdefault((project, cluster.get("name")), []).append(str(cluster.get("id")))
        for ref in unresolved.pop(project, []):
            result = view.results[(ref.project, ref.name)] = _resolve(ref, listed, objects, named, view)
            if on_result:
                on_result((ref.project, ref.name), result)

    def read_one(project: str, cluster_id: str) -> None:
        try:
            objects[(project, cluster_id)] = counter.counted(read_object, api, project, cluster_id)
        except ApiError as exc:
            view.read_errors[(project, cluster_id)] = str(exc)

    with reading_pool(api, parallelism) as pool:
        names = sorted({ref.project for ref in refs} | whole)
        counter.expect(len(names))
        listings = {pool.submit(counter.counted, list_project, api, project): project for project in names}
        fallback_reads = []
        for future in as_completed(listings):
            project = listings[future]
            try:
                found, listed[project] = future.result()
            except ApiError as exc:
                view.project_errors[project] = str(exc)
                view.project_failures[project] = exc
                continue
            if found is not None:
                objects.update(((project, str(c.get("id"))), c) for c in found)
                complete.add(project)
                resolve(project)
                continue
            needed = listed[project]
            if not (whole_projects or project in whole or project in by_name):
                needed = [i for i in needed if (project, i) in pinned]
            else:
                complete.add(project)
            counter.expect(len(needed))
            fallback_reads += [pool.submit(read_one, project, cluster_id) for cluster_id in needed]
        for future in fallback_reads:
            future.result()

    for project in sorted(listed):
        if project in complete:
            view.clusters_by_project[project] = [
                objects[(project, i)] for i in listed[project] if (project, i) in objects
            ]
    for project in list(unresolved):  # listed id by id, or not listed at all
        resolve(project)
    return view


@contextmanager
def reading_pool(api: ApiClient, parallelism: int) -> Iterator[Workers]:
    """A pool of reader threads that stops with the run: on Ctrl-C or SIGTERM in the caller's thread, no read still
    waiting for its slot in the request budget, nor any read not yet started, goes out, and neither the caller nor
    the process's exit waits for them, nor for a read still on the wire (a slow request budget or a slow API would
    otherwise keep the run going long after the signal)."""
    pool = Workers(max(1, parallelism), "read")
    stopped = False
    try:
        yield pool
    except KeyboardInterrupt:
        stopped = True
        api.budget.close()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if not stopped:
            pool.shutdown(wait=True)


class _Counter:
    """Calls done and calls known so far, for a progress bar; workers report from their threads."""

    def __init__(self, on_progress: Callable[[int, int], None] | None) -> None:
        self.on_progress = on_progress
        self.done = self.total = 0
        self.lock = threading.Lock()

    def expect(self, count: int) -> None:
        with self.lock:
            self.total += count

    def counted(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        finally:
            with self.lock:
                self.done += 1
                done, total = self.done, self.total
            if self.on_progress:
                self.on_progress(done, total)


def _resolve(
    ref: ClusterRef,
    listed: dict[str, list[str]],
    objects: dict[tuple[str, str], ClusterObject],
    named: dict[tuple[str, str | None], list[str]],
    view: LiveView,
) -> LiveResult:
    if ref.project in view.project_errors:
        reason = view.project_errors[ref.project]
        message = f"cannot list the clusters of project {ref.project}: {reason}"
        return LiveResult(error=message, reason=ErrorReason.READ_FAILED)
    ids = listed.get(ref.project, [])
    if ref.id:
        if ref.id not in ids:
            message = f"spec.id {ref.id} is not a cluster of project {ref.project}"
            return LiveResult(error=message, reason=ErrorReason.ID_NOT_FOUND)
        matches = [ref.id]
    else:
        # Renamed already, or still to rename (metadata.renamedFrom): the new name first, then the former one.
        matches = named.get((ref.project, ref.name), [])
        if not matches and ref.renamed_from:
            matches = named.get((ref.project, ref.renamed_from), [])
    if not matches:
        unreadable = [i for i in ids if (ref.project, i) in view.read_errors]
        if unreadable:
            first = view.read_errors[(ref.project, unreadable[0])]
            return LiveResult(
                error=f"cannot tell whether {ref.name} exists: {len(unreadable)} cluster(s) of the project "
                f"could not be read ({first})",
                reason=ErrorReason.UNKNOWN_IF_EXISTS,
            )
        return LiveResult()
    if len(matches) > 1:
        many = f"{len(matches)} clusters ({', '.join(matches)})"
        message = f"metadata.name {quoted(ref.name)} is the name of {many}: pin spec.id"
        return LiveResult(error=message, reason=ErrorReason.NAME_TAKEN_TWICE)
    key = (ref.project, matches[0])
    if key in view.read_errors:
        message = f"cannot read cluster {matches[0]}: {view.read_errors[key]}"
        return LiveResult(error=message, reason=ErrorReason.READ_FAILED)
    cluster = objects[key]
    if cluster.get("name") not in (ref.name, ref.renamed_from):
        live_name = cluster.get("name")
        message = f"spec.id {ref.id} is the cluster named {quoted(live_name)}, not {quoted(ref.name)}"
        if isinstance(live_name, str) and live_name:  # a rename is a reviewed change: the file names the former name
            message += f"; to rename it, write metadata.renamedFrom: {quoted(live_name)}"
        return LiveResult(error=message, reason=ErrorReason.ID_NAME_MISMATCH)
    return LiveResult(found=LiveCluster.of(cluster))
