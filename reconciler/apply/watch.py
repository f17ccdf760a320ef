"""Polls of the clusters an apply waits for, by project: one expanded listing per project per round serves every
cluster of that project that is waiting, instead of a GET per cluster per round.

A poll asks for the cluster as listed no earlier than `since`; a listing of its project that started at or after
that moment (done, or still on the wire) serves it, else it starts one. Waiting clusters whose polls fall within
an interval of each other therefore share one request. Where the endpoint answers the listing with ids
only, each poll is a direct GET of its cluster, as before.

A poll's listing waits for its place on the wire behind the writes and the reads before them (budget.polling):
a fleet's writes go out first, and a later listing serves more of the clusters waiting in its project.

The read right before a cluster's first write (`read_now`) goes through the same listings: one that started at most
SHARED_SECONDS before it serves it, never one from before the watch (made once the plan is approved). The listing
asks the API for uncached objects (`Pragma: no-cache`), the same objects the wait for READY verifies against; a
project's clusters starting together then cost one request, not one each.
"""

import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

from reconciler.errors import ApiError, Interrupted, NotFound
from reconciler.live.api import ApiClient
from reconciler.live.budget import polling
from reconciler.live.read import ClusterObject, list_project, read_object


@dataclass
class _Round:
    started: float
    poll: bool  # a wait's listing: sent behind the other requests (budget.polling)
    done: threading.Event = field(default_factory=threading.Event)
    objects: dict[str, ClusterObject] | None = None  # id -> cluster object; None: the endpoint answered ids
    error: ApiError | None = None
    interrupted: bool = False  # the run stopped before the listing was sent: it answers nobody


SHARED_SECONDS = 1.0  # how old a listing that serves the read right before a write may be


class ProjectWatch:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._began = time.monotonic()  # listings from before this moment (the plan's) serve no write
        self._lock = threading.Lock()
        self._rounds: dict[str, _Round] = {}  # project -> its latest listing (done or on the wire)
        self._ids_only: set[str] = set()  # projects whose listing answers ids: poll by direct GET

    def read(self, project: str, cluster_id: str, since: float, poll: bool = True) -> ClusterObject:
        """The cluster as listed at `since` or later; NotFound when the listing does not hold it. `poll`: a wait's
        read, which lets the other requests go first (budget.polling); a read before a write does not wait behind
        a poll's listing that is not answered yet."""
        if project in self._ids_only:
            with polling() if poll else nullcontext():
                return read_object(self.api, project, cluster_id)
        with self._lock:
            current = self._rounds.get(project)
            leader = (
                current is None or current.started < since or (not poll and current.poll and not current.done.is_set())
            )
            if leader:
                current = self._rounds[project] = _Round(time.monotonic(), poll)
        assert current is not None
        if leader:
            self._list(project, current)
        else:
            current.done.wait()
        if current.error is not None:
            raise current.error
        if current.interrupted:
            raise Interrupted()
        if current.objects is None:
            self._ids_only.add(project)
            return read_object(self.api, project, cluster_id)
        if cluster_id not in current.objects:
            raise NotFound(f"cluster {cluster_id} is not in the listing of project {project}")
        return current.objects[cluster_id]

    def read_now(self, project: str, cluster_id: str) -> ClusterObject:
        """The cluster as listed at most SHARED_SECONDS ago (and after the watch began): what a write goes by."""
        return self.read(project, cluster_id, max(self._began, time.monotonic() - SHARED_SECONDS), poll=False)

    def _list(self, project: str, current: _Round) -> None:
        try:
            with polling() if current.poll else nullcontext():
                objects, _ = list_project(self.api, project)
            current.objects = None if objects is None else {str(c.get("id")): c for c in objects}
        except ApiError as exc:
            current.error = exc
        except Interrupted:
            current.interrupted = True
            raise
        finally:
            current.done.set()
