"""Apply one cluster's plan entry: wait until it can be changed, send its steps in order, wait, verify.

Only the plan is followed: its steps are sent as written (the planner's, or a saved plan's checked whole by
reconciler.plan.planfile), and the verification checks its diff. Every way this can end becomes a ClusterOutcome;
nothing escapes to stop the others.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from reconciler import clock
from reconciler.apply.node_pools import check_pool_targets, send_pool_step, stopped_account
from reconciler.apply.result import ApplyOptions, ClusterOutcome, Result
from reconciler.apply.session import ClusterFailed, ClusterSession, DoneElsewhere, LockLost
from reconciler.apply.verify import PUT_BACK_BY_THE_FILES, failure_reason, put_back, put_back_values, unmet
from reconciler.apply.waiting import Interrupted, pause, poll_intervals, settle_seconds
from reconciler.apply.watch import ProjectWatch
from reconciler.apply.writes import (
    check_before_post,
    delete_cluster,
    post_create,
    post_reset,
    send_setting,
)
from reconciler.escape import quoted
from reconciler.live.api import ApiClient
from reconciler.live.read import ClusterObject
from reconciler.model import RESTORED_AFTER_RESET
from reconciler.plan.data import Action, Change
from reconciler.plan.diff import FieldChange
from reconciler.plan.network import reset_shows
from reconciler.plan.planfile import not_as_read
from reconciler.steps import PART_OF_KIND, POOL_KINDS, Step, StepKind
from reconciler.windows import utc_text

NO_WAIT_NOTE = "not waited for and not verified (--no-wait)"


def apply_change(
    api: ApiClient,
    change: Change,
    options: ApplyOptions,
    stop: threading.Event,
    say: Callable[[str], None],
    watch: ProjectWatch | None = None,
) -> ClusterOutcome:
    started = time.monotonic()
    session = ClusterSession(api, change, options, stop, say, cluster_id=change.cluster.id, watch=watch)

    def outcome(result: Result, reason: str | None = None, **details: Any) -> ClusterOutcome:
        return ClusterOutcome(
            change, result, reason, time.monotonic() - started, session.cluster_id, session.records, **details
        )

    if change.action is Action.ERROR:
        return outcome(Result.FAILED, f"could not be planned: {change.error}")
    if change.action is Action.NOOP:
        return outcome(Result.UNCHANGED)
    deferred = deferral(change, clock.now())
    if deferred:
        say(deferred)
        return outcome(Result.DEFERRED, deferred)
    try:
        if change.action is Action.DELETE:
            return _delete(session, outcome)
        try:
            cluster = _execute(session)
        except DoneElsewhere as exc:  # following it can be interrupted or fail too: the handlers below apply
            say(exc.reason)
            return _done_elsewhere(session, exc.reason, outcome)
        if cluster is None:  # nothing was waited for (--no-wait)
            return outcome(Result.DONE, notes=[NO_WAIT_NOTE])
        misses = _unmet_after_settling(session, cluster, change.diff + put_back(change))
        if misses:
            raise ClusterFailed(failure_reason(change, misses), misses)
        say("done, verified")
        return outcome(Result.DONE, verified=True)
    except ClusterFailed as exc:
        if isinstance(exc, LockLost) and not session.records:
            say(exc.reason)
            return outcome(Result.SKIPPED, exc.reason)
        say(f"failed: {exc.reason}")
        return outcome(Result.FAILED, exc.reason, mismatches=exc.mismatches)
    except Interrupted:
        if change.action is Action.RESET and session.records and len(change.steps) > 1:
            lost = _lost(change, 1)
            return outcome(
                Result.INTERRUPTED, reset_interrupted(change), mismatches=lost, notes=_put_back_notes(session)
            )
        if session.created and len(change.steps) > 1:
            all_sent = len(session.records) == len(change.steps)
            why = "stopped while verifying them" if all_sent else "stopped before they were sent and verified"
            return outcome(Result.INTERRUPTED, created_but(session, why))
        if session.records and any(step.kind in POOL_KINDS for step in change.steps):
            return outcome(Result.INTERRUPTED, stopped_account(session))
        if session.records:
            return outcome(Result.INTERRUPTED, "stopped while waiting: what was sent goes on, but is not verified")
        return outcome(Result.SKIPPED, "stopped before anything was sent")
    except Exception as exc:  # a bug must fail this cluster, not the whole apply
        return outcome(Result.FAILED, f"internal error: {type(exc).__name__}: {exc}")


def deferral(change: Change, at: datetime) -> str | None:
    """Why the entry is not started at `at`: its maintenance window is closed (whether the plan was made outside
    it, or inside it and the window has closed since). None: it may start."""
    window = change.maintenance_window
    if window is None or window.is_open(at):
        return None
    opens = window.next_opening(at)
    return (
        f"deferred until {window.local(opens)} ({utc_text(opens)}): outside its maintenance window "
        f"{window.describe()}; nothing was sent"
    )


def _delete(session: ClusterSession, outcome: Callable[..., ClusterOutcome]) -> ClusterOutcome:
    """DELETE, sent once (writes.delete_cluster), then DELETING until gone: verified by the 404 itself."""
    step = session.change.steps[0]
    session.say(sending(step, 0, 1))
    try:
        delete_cluster(session, step)
    except DoneElsewhere as exc:
        session.say(exc.reason)
        return outcome(Result.DONE_ELSEWHERE, exc.reason, verified=True)
    if not session.options.wait:
        return outcome(Result.DONE, notes=[NO_WAIT_NOTE])
    session.wait_gone()
    session.say("done, verified: the cluster is gone")
    return outcome(Result.DONE, verified=True)


def _done_elsewhere(session: ClusterSession, reason: str, outcome: Callable[..., ClusterOutcome]) -> ClusterOutcome:
    """Someone else's reset or create: it is not sent again; with waiting, follow it to READY and verify the plan's
    diff. After a reset, what the diff shows put back (the files' IP restrictions and OIDC, which that reset wiped:
    an apply stopped before putting them back, planned again) is sent, once the reset is over."""
    put_backs = _put_backs_in_diff(session.change)
    if not session.options.wait and not put_backs:
        return outcome(Result.DONE_ELSEWHERE, reason, notes=[NO_WAIT_NOTE])
    try:
        cluster = session.wait_ready(after_change=False)
        if put_backs:
            cluster = _after_the_reset(session, cluster)
        for index, step in enumerate(put_backs, start=1):
            session.say(f"after the reset: {sending(step, index, len(put_backs) + 1)}")
            _send(session, step, index, cluster)
            cluster = session.wait_ready(after_change=True)
        misses = _unmet_after_settling(session, cluster, session.change.diff)
    except ClusterFailed as exc:
        return outcome(Result.FAILED, f"{reason}; then: {exc.reason}", mismatches=exc.mismatches)
    if misses:
        paths = ", ".join(miss["path"] for miss in misses)
        if session.change.action is Action.CREATE and any(miss["path"] in FOLLOWED_PATHS for miss in misses):
            # Its creator may still be setting them; this apply did not create it and does not guess.
            paths += "; nothing was sent to a cluster this apply did not create: run apply again to set what is missing"
        return outcome(Result.FAILED, f"{reason}; not live after it: {paths}", mismatches=misses)
    if put_backs:
        names = " and ".join(FOLLOW_UP_NAMES[PART_OF_KIND[step.kind]] for step in put_backs)
        reason += f"; put back what it wiped: {names}"
    return outcome(Result.DONE_ELSEWHERE, reason, verified=True)


def _put_backs_in_diff(change: Change) -> list[Step]:
    """A reset entry's put-backs whose setting its diff shows changing: what the reviewed plan sets, whoever reset."""
    if change.action is not Action.RESET:
        return []
    named = {entry.path.split(".")[0] for entry in change.diff}
    return [step for step in change.steps[1:] if PART_OF_KIND.get(step.kind) in named]


def _unmet_after_settling(session: ClusterSession, cluster: ClusterObject, expected: list[FieldChange]) -> list[dict]:
    """What of `expected` (the plan's diff, and what a reset put back) is not live, checked on the READY read itself
    (the cluster object carries the customization: no request of its own). A change the API shows late (READY at
    once, then busy, or an object that lags the PUT) is waited for again over the settle window before it counts
    as a failure."""
    misses = unmet(expected, session.verifiable(cluster, expected))
    deadline = time.monotonic() + settle_seconds()
    while misses and time.monotonic() < deadline:
        pause(session.stop, 1.0)
        cluster = session.wait_ready(after_change=False)
        misses = unmet(expected, session.verifiable(cluster, expected))
    return misses


def _execute(session: ClusterSession) -> ClusterObject | None:
    """Send the steps, waiting READY after each; the cluster as last read at READY (None with --no-wait)."""
    change = session.change
    kinds = [step.kind for step in change.steps]  # the planner's, or a saved plan's checked whole
    first = kinds[0]
    if change.status not in (None, "READY") and first is not StepKind.CREATE:
        session.say(f"{change.status} when planned: waiting for READY before changing it")
        session.wait_ready(after_change=False)
    if first not in (StepKind.CREATE, StepKind.RESET):
        # A fresh read right before the write: the plan's listing may be minutes old (a prompt, a saved plan).
        live = session.read(before_writing=True)
        if not session.matches_plan(live):
            raise ClusterFailed("the cluster changed since the plan was made; nothing was sent: run plan again")
        edited = not_as_read(change, live)
        if edited:
            raise ClusterFailed(edited)
        if any(kind in POOL_KINDS for kind in kinds):
            check_pool_targets(session)
    if first in (StepKind.CREATE, StepKind.RESET):
        check_before_post(session, first, change.steps[0])
    cluster = None
    # What follows a create or a reset is waited for even under --no-wait: a create's IP restrictions and OIDC need
    # the new cluster READY, and what a reset puts back must go after it, or the reset wipes it. The plan the
    # reviewer saw is applied whole, not left half-done with the API server open or its settings lost.
    puts_back = first is StepKind.RESET and len(kinds) > 1
    follows = first in (StepKind.CREATE, StepKind.RESET) and len(kinds) > 1
    if follows and not session.options.wait:
        session.say(f"--no-wait: waiting all the same for the {first}, then for each request after it")
    for index, step in enumerate(change.steps):
        if session.stop.is_set():
            session.stopped_at = (index, False)
            raise Interrupted()
        if index and first is StepKind.CREATE:  # done to the new cluster, whose id the create answered
            step = replace(step, target=step.target.with_id(session.known_id))
        session.say(sending(step, index, len(kinds)))
        sent_before = len(session.records)
        try:
            _send(session, step, index, cluster)
            if session.options.wait or follows:
                cluster = session.wait_ready(after_change=True)
                if step.kind is StepKind.RESET:
                    cluster = _after_the_reset(session, cluster)
        except Interrupted:
            session.stopped_at = (index, len(session.records) > sent_before)
            raise
        except ClusterFailed as exc:
            if session.created and len(kinds) > 1:
                raise ClusterFailed(created_but(session, exc.reason, first=max(index, 1)), exc.mismatches) from None
            if puts_back and index:
                raise ClusterFailed(not_put_back(change, index, exc.reason), _lost(change, index)) from None
            raise
    return cluster


def _send(session: ClusterSession, step: Step, index: int, cluster: ClusterObject | None) -> None:
    if step.kind in POOL_KINDS:
        send_pool_step(session, step)
    elif step.kind is StepKind.CREATE:
        post_create(session, step)
    elif step.kind is StepKind.RESET:
        post_reset(session, step)
    else:
        send_setting(session, step, first=index == 0, before=cluster)


def _follow_up_names(change: Change, first: int = 1) -> str:
    """`IP restrictions and OIDC`: what the create's or the reset's steps from `first` on set."""
    return " and ".join(FOLLOW_UP_NAMES[PART_OF_KIND[step.kind]] for step in change.steps[first:])


def created_but(session: ClusterSession, reason: str, first: int = 1) -> str:
    """A failure after the create went through: the cluster exists, without what was to follow it (the create's
    requests from `first` on: those before it were sent and waited for)."""
    names = _follow_up_names(session.change, first)
    return (
        f"the cluster was created{_id_note(session)}, but its {names} may not be set: {reason}; run apply again to "
        f"set them"
    )


def not_put_back(change: Change, first: int, reason: str) -> str:
    """A setting a reset wiped could not be put back (its request and those after it): the reset went through."""
    names = _follow_up_names(change, first)
    return (
        f"the reset went through, but its {names} may not be put back: {reason}; the reset wiped them (the values "
        f"are below): {PUT_BACK_BY_THE_FILES}"
    )


def reset_interrupted(change: Change) -> str:
    """Stopped between a reset and the end of its put-backs: what the reset wiped, said with the values."""
    names = _follow_up_names(change)
    return (
        f"stopped after the reset, before the {names} it wiped were put back and verified (the values are below): "
        f"{PUT_BACK_BY_THE_FILES}"
    )


def _put_back_notes(session: ClusterSession) -> list[str]:
    """Each setting a reset wiped, with its value: sent (answered, not verified), or still to put back."""
    answered = {(record.method, record.path) for record in session.records if record.error is None}
    notes = []
    for step, (part, value) in zip(session.change.steps[1:], put_back_values(session.change), strict=True):
        state = "put back, not verified" if (step.method, step.path) in answered else "still to put back"
        notes.append(f"{state}: {part} {quoted(value, ascii=True)}")
    return notes


def _lost(change: Change, first: int) -> list[dict]:
    """The values of the put-back requests from `first` on, as mismatches whose live value is not known."""
    return [{"path": part, "expected": value, "live": None} for part, value in put_back_values(change, first)]


def _id_note(session: ClusterSession) -> str:
    return f" (id {session.cluster_id})" if session.cluster_id else ""


def _after_the_reset(session: ClusterSession, cluster: ClusterObject) -> ClusterObject:
    """READY right after a reset may still be the cluster before it, on an API that shows the reset late: what is
    put back after it (IP restrictions, OIDC) would then be wiped by it. What the reset changes (the mode, the
    network's reset-only fields) showing says it is over. Usually it shows at once, and this costs no request."""
    deadline = time.monotonic() + session.options.timeout
    intervals = poll_intervals()  # growing, as every wait: a late reset must not cost a read a second
    while not reset_shows(session.change.diff, cluster):
        if time.monotonic() > deadline:
            raise ClusterFailed("READY but what the reset changes does not show yet: nothing was put back")
        pause(session.stop, next(intervals))
        cluster = session.wait_ready(after_change=False)
    return cluster


SENDING = {
    StepKind.CREATE: "creating the cluster (POST)",
    StepKind.RESET: "resetting the cluster (POST reset: all Kubernetes data is erased)",
    StepKind.RENAME: "renaming the cluster (PUT: the same cluster, its id kept)",
    StepKind.DELETE: "deleting the cluster (DELETE: its nodes and all Kubernetes data go), waiting until it is gone",
    StepKind.PUT_CUSTOMIZATION: "updating the customization (PUT)",
    StepKind.UPDATE_POLICY: "setting the update policy (PUT updatePolicy)",
    StepKind.IP_RESTRICTIONS: "setting the API server's IP restrictions (PUT ipRestrictions)",
    StepKind.OIDC_CREATE: "setting OIDC (POST openIdConnect)",
    StepKind.OIDC_UPDATE: "setting OIDC (PUT openIdConnect)",
    StepKind.OIDC_DELETE: "setting OIDC (DELETE openIdConnect)",
    StepKind.LOAD_BALANCERS_SUBNET: "moving the load balancers to another subnet (PUT updateLoadBalancersSubnetId)",
    StepKind.NETWORK_CONFIGURATION: "setting the private network's gateway and routing (PUT "
    "privateNetworkConfiguration: every node is redeployed)",
    StepKind.UPGRADE: "upgrading (POST update {strategy}: nodes are drained and replaced one by one)",
    StepKind.POOL_CREATE: "creating node pool {pool} (POST nodepool), waiting for its nodes to be READY",
    StepKind.POOL_UPDATE: "updating a node pool (PUT nodepool)",
    StepKind.POOL_DELETE: "deleting a node pool (DELETE nodepool: its nodes go, their pods are evicted)",
}
FOLLOW_UP_NAMES = {RESTORED_AFTER_RESET[0]: "IP restrictions", RESTORED_AFTER_RESET[1]: "OIDC"}
FOLLOWED_PATHS = RESTORED_AFTER_RESET  # their diff paths: what a reset wipes is what a create may set after it


def sending(step: Step, index: int, count: int) -> str:
    body = step.body or {}
    text = SENDING[step.kind].format(strategy=body.get("strategy", ""), pool=body.get("name", ""))
    return f"step {index + 1}/{count}: {text}" if count > 1 else text
