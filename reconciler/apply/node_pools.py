"""Send one node pool step and wait it out: a new pool until READY with every node READY, an update until the pool
is READY again, a deletion until the pool is gone.

The steps of one cluster go one at a time, each waited for, whatever --no-wait says: a replacement's old pool is
deleted only once the new one's nodes are READY (never the other way round), and the API refuses a change to a
pool that is still busy. A busy answer (409) is waited out and the step sent again, never fought. A create or
delete without a clear answer is never sent again on a guess: the pool listing is read back over the settle window;
only when it shows that nothing happened is the step sent once more, and at most once (pool names are unique in a
cluster, so even a create the API showed later than that could not make a second pool). A pool is deleted only once
every newer generation of it (its replacement) is READY with all its nodes.
"""

import time

from reconciler.apply.session import ClusterFailed, ClusterSession
from reconciler.apply.waiting import look_again, pause, poll_intervals, settle_seconds
from reconciler.apply.writes import MAX_BUSY_RETRIES, _busy, _busy_name
from reconciler.errors import ApiError
from reconciler.live.node_pools import read_pools
from reconciler.live.read import PoolObject
from reconciler.model import POOL_PASSING_STATUSES
from reconciler.plan.node_pools import generations
from reconciler.steps import PoolTarget, Step, StepKind

WHAT = {StepKind.POOL_CREATE: "node pool create", StepKind.POOL_UPDATE: "node pool update"}
WHAT[StepKind.POOL_DELETE] = "node pool delete"


def _named(session: ClusterSession) -> set[str]:
    """The file's pools the entry's diff names (`nodePools.NAME...`)."""
    return {entry.path.split(".")[1] for entry in session.change.diff if entry.path.startswith("nodePools.")}


def check_pool_targets(session: ClusterSession) -> None:
    """Before anything is sent: each pool an update or delete names by id is a live pool the entry's diff names
    (`nodePools.NAME...`: the pool NAME or a replacement `NAME-rN` ovhkube made of it). A pool id is a live value a
    saved plan carries; a pool the files do not declare (Karpenter's, the console's) is never reached through an
    edited plan."""
    pools = _pools(session)
    session.pool_names = {str(pool.get("id")): str(pool.get("name")) for pool in pools}
    reachable = {id(member) for name in _named(session) for _, member in generations(name, pools)}
    by_id = {pool.get("id"): pool for pool in pools}
    for step in session.change.steps:
        if step.kind in (StepKind.POOL_UPDATE, StepKind.POOL_DELETE) and id(by_id.get(_pool_id(step))) not in reachable:
            raise ClusterFailed(
                f"the plan's {WHAT[step.kind]} names a pool its diff does not show (not as ovhkube wrote it); "
                "nothing was sent: run plan again"
            )


def send_pool_step(session: ClusterSession, step: Step) -> None:
    """Send `step` (a pool step of this cluster), then wait until it is over."""
    what = WHAT[step.kind]
    if step.kind is StepKind.POOL_DELETE:
        _wait_for_newer(session, step)
    busy, resent = 0, False
    while True:
        try:
            answer = session.call(step)
            break
        except ApiError as exc:
            if exc.ambiguous and step.kind is not StepKind.POOL_UPDATE:
                found = _read_back(session, step)
                if found is not None:
                    session.say(f"the {what} got no clear answer ({exc}), and the pool listing shows it went through")
                    answer = found
                    break
                if resent:
                    raise ClusterFailed(
                        f"the {what} got no clear answer twice ({exc}) and the pool listing does not show it after "
                        f"{settle_seconds():g} s: nothing more was sent; look at the cluster's pools, then run plan "
                        "again"
                    ) from None
                resent = True
                session.say(
                    f"the {what} got no clear answer ({exc}) and the pool listing shows it did not happen: sending it "
                    "once more"
                )
                continue
            if resent and not _busy(exc):  # the first one may have gone through after all, shown late
                found = _made(session, step)
                if found is not None:
                    session.say(f"the {what} went through (the pool listing shows it)")
                    answer = found
                    break
            if exc.ambiguous:
                raise ClusterFailed(f"the {what} got no clear answer: {exc}") from None
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


def _wait_for_newer(session: ClusterSession, step: Step) -> None:
    """Before a pool is deleted: the newest generation of the same file pool that is not going (the pool replacing
    it) READY with all its nodes. A replacement's old pool never goes before its new one can take its pods, also
    when an earlier apply stopped between the two."""
    pools = _pools(session)
    for name in _named(session):
        family = [member for _, member in generations(name, pools)]
        ids = [member.get("id") for member in family]
        if _pool_id(step) in ids:
            newer = [p for p in family[ids.index(_pool_id(step)) + 1 :] if p.get("status") != "DELETING"]
            if newer:
                _wait_pool_ready(session, str(newer[-1].get("id")), step)
            return


def described(session: ClusterSession, step: Step) -> str:
    """A step as the account names it: `node pool create NAME`, `node pool delete NAME (ID)`, `PUT customization`."""
    if step.kind is StepKind.POOL_CREATE:
        return f"node pool create {(step.body or {}).get('name')}"
    if step.kind in (StepKind.POOL_UPDATE, StepKind.POOL_DELETE):
        pool_id = str(_pool_id(step))
        return f"{WHAT[step.kind]} {session.pool_names.get(pool_id, 'of id')} ({pool_id})"
    return step.short


def stopped_account(session: ClusterSession) -> str:
    """What a stop (Ctrl-C, SIGTERM) during an entry with pool steps left: done, sent and going on, not sent."""
    index, sent = session.stopped_at or (0, False)
    steps = session.change.steps
    said = [f"done: {', '.join(described(session, step) for step in steps[:index])}"] if index else []
    left = [described(session, step) for step in steps[index + 1 :]]
    if sent:
        said.append(f"{described(session, steps[index])} sent, not verified (it goes on)")
    else:
        left.insert(0, described(session, steps[index]))
    if left:
        said.append(f"not sent: {', '.join(left)}")
    return f"stopped while waiting; {'; '.join(said)}; run plan again to see what is left"


def _pool_id(step: Step) -> str | None:
    return step.target.pool_id if isinstance(step.target, PoolTarget) else None


def _pools(session: ClusterSession) -> list[PoolObject]:
    try:
        return read_pools(session.api, session.project, session.known_id)
    except ApiError as exc:
        raise ClusterFailed(f"cannot read the cluster's node pools: {exc}") from None


def _made(session: ClusterSession, step: Step) -> PoolObject | None:
    """What the pool listing shows of `step`: the pool a create made (by its name), or {} once the deleted one is
    going or gone; None when it shows nothing of it."""
    pools = _pools(session)
    if step.kind is StepKind.POOL_CREATE:
        name = (step.body or {}).get("name")
        return next((pool for pool in pools if pool.get("name") == name), None)
    old = next((pool for pool in pools if pool.get("id") == _pool_id(step)), None)
    return {} if old is None or old.get("status") == "DELETING" else None


def _read_back(session: ClusterSession, step: Step) -> PoolObject | None:
    """After no clear answer to a create or delete: what the listing shows of it, looked at again over the settle
    window (the API may show a change late) before it counts as not done."""
    found = _made(session, step)
    return found if found is not None else look_again(session.stop, lambda: _made(session, step), None)


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
