"""Wait for a cluster to be READY (or, deleted, gone): poll at intervals that follow the time already spent, within a
deadline, and stop on Ctrl-C.

A poll comes a fifth of the time spent so far after the last one (from 0.25 s, up to a cap): a change on a test
sandbox is seen in a second, a 30 s kube-proxy restart is seen at most some 20% late, and a reset of minutes is not
polled every second (that would only spend the API's rate limit). OVHKUBE_POLL_CAP_SECONDS lowers the cap.
Polls go through the apply's ProjectWatch: one listing per project per round serves every waiting cluster of it.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from reconciler.apply.watch import ProjectWatch
from reconciler.errors import ApiError, Interrupted, NotFound
from reconciler.live.api import ApiClient
from reconciler.live.read import ClusterObject, read_object
from reconciler.model import PASSING_STATUSES

FIRST_POLL_SECONDS = 0.25
POLL_GROWTH = 1.5  # look_again's intervals
POLL_SHARE = 0.2  # a wait polls again after this share of the time it has waited so far
DEFAULT_POLL_CAP_SECONDS = 10.0
HEARTBEAT_SECONDS = 30.0  # a "still waiting" line this often while the status stays the same
# How long the API may take to show a request it accepted. Deciding that a reset or create did not happen (and so
# sending it again), or that a change is not live (and so failing it), waits for the same answer over this window.
SETTLE_SECONDS = 5.0
# A cluster just created may answer 404 for a while (the Terraform provider retries 404 after its create), and may
# be missing from the listing as long (unknown: assumed). Within this bound a 404 means "not visible yet", after it
# "gone"; and a create whose answer was lost is looked for this long before it is sent again (a duplicate cluster
# costs more than two minutes). OVHKUBE_CREATED_VISIBLE_SECONDS sets it.
CREATED_NOT_FOUND_SECONDS = 120.0


def settle_seconds() -> float:
    return float(os.environ.get("OVHKUBE_SETTLE_SECONDS") or SETTLE_SECONDS)


def created_visible_seconds() -> float:
    return float(os.environ.get("OVHKUBE_CREATED_VISIBLE_SECONDS") or CREATED_NOT_FOUND_SECONDS)


class WaitFailed(Exception):
    """The cluster did not become READY: timeout, a failure status, or it cannot be read."""


def poll_cap() -> float:
    return float(os.environ.get("OVHKUBE_POLL_CAP_SECONDS") or DEFAULT_POLL_CAP_SECONDS)


def poll_intervals(cap: float | None = None) -> Iterator[float]:
    cap = cap if cap is not None else poll_cap()
    interval = FIRST_POLL_SECONDS
    while True:
        yield min(interval, cap)
        interval *= POLL_GROWTH


def pause(stop: threading.Event, seconds: float) -> None:
    """Sleep that Ctrl-C cuts short."""
    if stop.wait(seconds):
        raise Interrupted()


def wait_until_ready(
    api: ApiClient,
    project: str,
    cluster_id: str,
    *,
    timeout: float,
    stop: threading.Event,
    report: Callable[[str], None],
    first_delay: bool = True,
    not_found_grace: float = 0.0,
    watch: "ProjectWatch | None" = None,
) -> ClusterObject:
    """Poll the cluster until READY and return it as read. `first_delay`: a change was just sent, let it start.
    `not_found_grace`: seconds during which a 404 is waited out (the cluster was just created).
    `watch`: a ProjectWatch that serves the polls of a project's clusters together (else a GET per poll)."""
    started = time.monotonic()
    deadline = started + timeout
    last_status, last_said = None, started
    cap = poll_cap()
    interval = FIRST_POLL_SECONDS
    if first_delay:
        pause(stop, interval)
    while True:
        if stop.is_set():
            raise Interrupted()
        # A listing that started up to an interval ago serves this poll too (a READY is seen at most two intervals
        # late, and a project's waiters need half as many listings, which share the request budget with the writes),
        # but never one from before the wait began (it could show the cluster READY from before the change).
        since = max(started, time.monotonic() - interval)
        try:
            cluster = watch.read(project, cluster_id, since) if watch else read_object(api, project, cluster_id)
        except NotFound:
            if time.monotonic() - started >= not_found_grace:
                raise WaitFailed(f"cluster {cluster_id} disappeared while waiting for READY") from None
            if last_status != "not visible yet":
                report("not visible yet (404 right after its creation): waiting")
                last_status = "not visible yet"
            interval = min(cap, max(FIRST_POLL_SECONDS, (time.monotonic() - started) * POLL_SHARE))
            pause(stop, interval)
            continue
        except ApiError as exc:
            raise WaitFailed(f"cannot read the cluster while waiting for READY: {exc}") from None
        status = cluster.get("status", "UNKNOWN")
        now = time.monotonic()
        elapsed = now - started
        if status != last_status or now - last_said >= HEARTBEAT_SECONDS:
            report(f"{status} ({format_seconds(elapsed)} elapsed)")
            last_status, last_said = status, now
        if status == "READY":
            return cluster
        if status not in PASSING_STATUSES:
            raise WaitFailed(f"the cluster is {status}: it will not become READY on its own")
        remaining = deadline - now
        if remaining <= 0:
            raise WaitFailed(f"still {status} after {format_seconds(timeout)} (--timeout)")
        interval = min(cap, max(FIRST_POLL_SECONDS, elapsed * POLL_SHARE))
        pause(stop, min(interval, remaining))


DELETE_STARTED = ("DELETING", "DELETED")


def wait_until_gone(
    api: ApiClient,
    project: str,
    cluster_id: str,
    *,
    timeout: float,
    stop: threading.Event,
    report: Callable[[str], None],
) -> None:
    """Poll a deleted cluster until it answers 404 (DELETING, then gone), at the same growing intervals. A cluster
    still not DELETING once the settle window is over was not deleted, whatever the API answered (a 200 it then
    lost, a 404 for a cluster that is there): that fails at once, not after the whole timeout, and says so."""
    started = time.monotonic()
    deleting = False
    last_status, last_said = None, started
    cap = poll_cap()
    interval = FIRST_POLL_SECONDS
    pause(stop, interval)
    while True:
        try:
            status = read_object(api, project, cluster_id).get("status", "UNKNOWN")
        except NotFound:
            return
        except ApiError as exc:
            raise WaitFailed(f"cannot read the cluster while waiting for it to be gone: {exc}") from None
        now = time.monotonic()
        elapsed = now - started
        if status != last_status or now - last_said >= HEARTBEAT_SECONDS:
            report(f"{status} ({format_seconds(elapsed)} elapsed)")
            last_status, last_said = status, now
        deleting = deleting or status in DELETE_STARTED
        if not deleting and elapsed >= settle_seconds():
            raise WaitFailed(
                f"the API answered the delete, but the cluster is still {status}, not DELETING, after "
                f"{format_seconds(elapsed)}: it was not deleted, and the delete was not sent again; look at the "
                "cluster, then run plan again"
            )
        remaining = started + timeout - now
        if remaining <= 0:
            raise WaitFailed(f"still {status} after {format_seconds(timeout)} (--timeout): not gone yet")
        interval = min(cap, max(FIRST_POLL_SECONDS, elapsed * POLL_SHARE))
        pause(stop, min(interval, remaining))


Seen = TypeVar("Seen")


def look_again(stop: threading.Event, look: Callable[[], Seen], seen: Seen, window: float | None = None) -> Seen:
    """`look()` again over `window` seconds (the settle window) while it keeps answering `seen`; the first other
    answer, or `seen`."""
    window = settle_seconds() if window is None else window
    deadline = time.monotonic() + window
    # About a dozen looks whatever the window: the 120 s one for a lost create or reset must not cost 120 reads.
    for interval in poll_intervals(cap=max(1.0, window / 12)):
        if time.monotonic() + interval > deadline:
            return seen
        pause(stop, interval)
        answer = look()
        if answer != seen:
            return answer
    return seen  # poll_intervals never ends: for the type checker


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"
