"""One cluster's apply in progress: the API, the plan entry, the requests sent so far, and the calls they share."""

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.apply.result import ApplyOptions, RequestRecord
from reconciler.apply.waiting import WaitFailed, created_visible_seconds, wait_until_gone, wait_until_ready
from reconciler.apply.watch import ProjectWatch
from reconciler.errors import ApiError, Interrupted
from reconciler.escape import quoted
from reconciler.live.api import ApiClient
from reconciler.live.control_plane import PARTS, read_part, with_parts
from reconciler.live.node_pools import read_pools
from reconciler.live.read import ClusterObject, LiveCluster, read_cluster, read_object
from reconciler.plan.control_plane import parts_depended_on
from reconciler.plan.data import Change
from reconciler.plan.diff import FieldChange
from reconciler.plan.staleness import entry_fingerprint, rests_on
from reconciler.steps import POOL_KINDS, Step

SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")  # a UUID on the real API; any plain token is taken


class ClusterFailed(Exception):
    """This cluster cannot go on; the message is the reason shown to the user."""

    def __init__(self, reason: str, mismatches: list[dict] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mismatches = mismatches or []


class LockLost(ClusterFailed):
    """The apply lock is no longer this apply's: the request was not sent, nor will any other be."""


class DoneElsewhere(Exception):
    """The fresh read before a reset or create found it done already (by another apply): nothing is sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ClusterSession:
    api: ApiClient
    change: Change
    options: ApplyOptions
    stop: threading.Event
    say: Callable[[str], None]  # progress for the person watching: "REDEPLOYING (3.1s elapsed)"
    cluster_id: str | None = None
    records: list[RequestRecord] = field(default_factory=list)
    created: bool = False  # this apply created the cluster: it may answer 404 for a while
    watch: "ProjectWatch | None" = None  # the run's: polls shared by project (None: a GET per poll)
    pool_names: dict[str, str] = field(default_factory=dict)  # pool id -> name, as read before the pool steps
    # Where a stop (Ctrl-C, SIGTERM) came: (the index of the step under way, whether its request was sent).
    stopped_at: tuple[int, bool] | None = None

    @property
    def project(self) -> str:
        return self.change.cluster.project

    @property
    def known_id(self) -> str:
        """The cluster's id, known by the time it is read or waited for (a create learns it from its answer)."""
        if self.cluster_id is None:
            raise ClusterFailed("the cluster's id is not known, so it cannot be read")
        if not SAFE_ID.fullmatch(str(self.cluster_id)):  # it goes into request paths: no '/', '..', '?' or '%'
            shown = quoted(str(self.cluster_id)[:60])
            raise ClusterFailed(f"the API named the cluster by an id that cannot go in a path: {shown}")
        return self.cluster_id

    def call(self, step: Step) -> Any:
        """Send one of the plan's steps exactly as written, and keep it with its answer for the report; nothing once
        the apply lock is lost (another runner may be applying)."""
        lost = self.options.lock.confirm() if self.options.lock else None
        if lost:
            raise LockLost(f"not sent: {lost}")
        method, path = step.method, step.path
        record = RequestRecord(method, path, step.body)
        self.records.append(record)
        try:
            if method == "DELETE":
                record.answer = self.api.delete(path)
            else:
                send = self.api.put if method == "PUT" else self.api.post
                record.answer = send(path, step.body)
        except ApiError as exc:
            record.error = {"status": exc.status, "class": exc.error_class, "message": exc.message}
            raise
        except Interrupted:  # stopped while waiting for its slot in the request budget: never sent
            self.records.remove(record)
            raise
        return record.answer

    def read(self, before_writing: bool = False) -> LiveCluster:
        """The cluster (customization included, by one direct GET) and the separately read parts the plan's
        requests depend on (the same as its fingerprint holds), as they are now; ClusterFailed when unreadable.
        `before_writing`: nothing was sent to it yet, so the project's listing of the last moment (ProjectWatch.
        read_now, shared with the project's other clusters) serves; after a request, only a read after it does."""
        try:
            if before_writing and self.watch and not self.records:
                live = LiveCluster.of(self.watch.read_now(self.project, self.known_id))
            else:
                live = read_cluster(self.api, self.project, self.known_id)
            live = with_parts(self.api, live, self.project, parts_depended_on(self.change.action, self.change.steps))
            if any(step.kind in POOL_KINDS for step in self.change.steps):  # the fingerprint holds them then
                live = replace(live, node_pools=read_pools(self.api, self.project, self.known_id))
            return live
        except ApiError as exc:
            raise ClusterFailed(f"cannot read the cluster: {exc}") from None

    def read_part(self, part: str) -> Any:
        """IP restrictions or OIDC as they are now; ClusterFailed when they cannot be read."""
        try:
            return read_part(self.api, self.project, self.known_id, part)
        except ApiError as exc:
            raise ClusterFailed(f"cannot read the cluster's {part}: {exc}") from None

    def read_object(self) -> ClusterObject:
        """The cluster object alone, by a direct GET."""
        try:
            return read_object(self.api, self.project, self.known_id)
        except ApiError as exc:
            raise ClusterFailed(f"cannot read the cluster: {exc}") from None

    def verifiable(self, cluster: ClusterObject, expected: list[FieldChange]) -> LiveCluster:
        """`cluster` (its READY read: the customization comes with it) and the IP restrictions and OIDC, each read
        only where `expected` (the diff, and what a reset put back) names it (each is one more request)."""
        paths = [change.path.split(".")[0] for change in expected]
        try:
            live = with_parts(self.api, LiveCluster.of(cluster), self.project, [p for p in PARTS if p in paths])
            if "nodePools" in paths:
                live = replace(live, node_pools=read_pools(self.api, self.project, self.known_id))
            return live
        except ApiError as exc:
            raise ClusterFailed(f"cannot read the cluster to verify it: {exc}") from None

    def wait_ready(self, *, after_change: bool) -> ClusterObject:
        """The cluster once READY. `after_change`: a request was just sent; give it a moment to start."""
        try:
            return wait_until_ready(
                self.api,
                self.project,
                self.known_id,
                timeout=self.options.timeout,
                stop=self.stop,
                report=self.say,
                first_delay=after_change,
                not_found_grace=created_visible_seconds() if self.created else 0.0,
                watch=self.watch,
            )
        except WaitFailed as exc:
            raise ClusterFailed(str(exc)) from None

    def wait_gone(self) -> None:
        """Until the deleted cluster answers 404."""
        try:
            wait_until_gone(
                self.api, self.project, self.known_id, timeout=self.options.timeout, stop=self.stop, report=self.say
            )
        except WaitFailed as exc:
            raise ClusterFailed(str(exc)) from None

    def matches_plan(self, live: LiveCluster) -> bool:
        """True when the cluster is still as it was when planned (so the plan's requests still mean the same)."""
        planned, change = self.change.live_fingerprint, self.change
        rests = rests_on(change.action, change.steps)
        return planned is not None and entry_fingerprint(self.project, change.cluster.name, live, rests) == planned
