"""Send one node pool step and wait it out: a new pool until READY with every node READY, an update until the pool
is READY again, a deletion until the pool is gone.

The steps of one cluster go one at a time, each waited for, whatever --no-wait says: a replacement's old pool is
deleted only once the new one's nodes are READY (never the other way round), and the API refuses a change to a
pool that is still busy. A busy answer (409) is waited out and the step sent again, never fought. A create or
delete without a clear answer is never sent again on a guess: the pools are read back over the settle window.
"""

import time

from reconciler.apply.session import ClusterFailed, ClusterSession
from reconciler.apply.waiting import look_again, pause, poll_intervals, settle_seconds
from reconciler.apply.writes import MAX_BUSY_RETRIES, _busy, _busy_name
from reconciler.errors import ApiError
from reconciler.live.node_pools import read_pools
from reconciler.model import POOL_PASSING_STATUSES
from reconciler.steps import PoolTarget, Step, StepKind

WHAT = {StepKind.POOL_CREATE: "node pool create", StepKind.POOL_UPDATE: "node pool update"}
WHAT[StepKind.POOL_DELETE] = "node pool delete"


def check_pool_targets(session: ClusterSession) -> None:
    """Before anything is sent: each pool an update or delete names by id is a live pool the entry's diff names
    (`nodePools.NAME...`; a replacement's old pool by its own name). A pool id is a live value a saved plan carries;
    a pool the files do not declare (Karpenter's, the console's) is never reached through an edited plan."""
    named = {entry.path.split(".")[1] for entry in session.change.diff if entry.path.startswith("nodePools.")}
    names = {pool.get("id"): pool.get("name") for pool in _pools(session)}
    for step in session.change.steps:
        if step.kind in (StepKind.POOL_UPDATE, StepKind.POOL_DELETE) and names.get(_pool_id(step)) not in named:
            raise ClusterFailed(
                f"the plan's {WHAT[step.kind]} names a pool its diff does not show (not as ovhkube wrote it); "
                "nothing was sent: run plan again"
            )


def send_pool_step(session: ClusterSession, step: Step) -> None:
    """Send `step` (a pool step of this cluster), then wait until it is over."""
    what = WHAT[step.kind]
    busy = 0
    while True:
        try:
            answer = session.call(step)
            break
        except ApiError as exc:
            if exc.ambiguous and step.kind is not StepKind.POOL_UPDATE:
                answer = _read_back(session, step, what, exc)
                break
            if not _busy(exc):
                raise ClusterFailed(f"the API refused the {what}: {exc}") from None
            busy += 1
            if busy > MAX_BUSY_RETRIES:
                raise ClusterFailed(f"still busy after {MAX_BUSY_RETRIES} waits: {exc}") from None
            session.say(f"busy (409 {_busy_name(exc)}): waiting before sending the {what} again")
            session.wait_ready(after_change=False)
            pause(session.stop, 0.5 * 2 ** (busy - 1))
    if step.kind is StepKind.POOL_DELETE:
        _wait_gone(session, step)
    else:
        pool_id = (answer or {}).get("id") if step.kind is StepKind.POOL_CREATE else _pool_id(step)
        _wait_pool_ready(session, str(pool_id), step)


def _pool_id(step: Step) -> str | None:
    return step.target.pool_id if isinstance(step.target, PoolTarget) else None


def _pools(session: ClusterSession) -> list[dict]:
    try:
        return read_pools(session.api, session.project, session.known_id)
    except ApiError as exc:
        raise ClusterFailed(f"cannot read the cluster's node pools: {exc}") from None


def _read_back(session: ClusterSession, step: Step, what: str, exc: ApiError) -> dict | None:
    """After no clear answer to a create or delete: the pool it made, or None once the deleted one is going."""
    name = (step.body or {}).get("name")

    def made() -> dict | None:
        pools = _pools(session)
        if step.kind is StepKind.POOL_CREATE:
            return next((pool for pool in pools if pool.get("name") == name), None)
        old = next((pool for pool in pools if pool.get("id") == _pool_id(step)), None)
        return {} if old is None or old.get("status") == "DELETING" else None

    found = made() or look_again(session.stop, made, None)
    if found is None:
        raise ClusterFailed(
            f"the {what} got no clear answer ({exc}) and does not show after {settle_seconds():g} s: it may or may "
            "not have been applied, and was not sent again; run plan again to see what is left"
        )
    session.say("it went through (read back after no clear answer)")
    return found


def _wait_pool_ready(session: ClusterSession, pool_id: str, step: Step) -> None:
    """Until the pool is READY and as many of its nodes are READY as it wants."""
    deadline = time.monotonic() + session.options.timeout
    intervals = poll_intervals()
    last = None
    while True:
        pause(session.stop, next(intervals))
        pool = next((p for p in _pools(session) if str(p.get("id")) == pool_id), None)
        if pool is None:
            raise ClusterFailed(f"the node pool {pool_id} is gone while waiting for it to be READY")
        status, ready, wanted = pool.get("status"), pool.get("availableNodes"), pool.get("desiredNodes")
        seen = f"node pool {pool.get('name')}: {status}, {ready}/{wanted} node(s) READY"
        if seen != last:
            session.say(seen)
            last = seen
        if status == "READY" and ready == wanted:
            return
        if status != "READY" and status not in POOL_PASSING_STATUSES:
            raise ClusterFailed(f"node pool {pool.get('name')} is {status}: it will not become READY by itself")
        if time.monotonic() > deadline:
            raise ClusterFailed(f"node pool {pool.get('name')} not READY after {session.options.timeout:g} s ({seen})")


def _wait_gone(session: ClusterSession, step: Step) -> None:
    deadline = time.monotonic() + session.options.timeout
    intervals = poll_intervals()
    while True:
        pause(session.stop, next(intervals))
        pool = next((p for p in _pools(session) if p.get("id") == _pool_id(step)), None)
        if pool is None:
            session.say("node pool deleted")
            return
        if time.monotonic() > deadline:
            raise ClusterFailed(f"node pool {pool.get('name')} still {pool.get('status')} after the delete")
