"""Apply one cluster's plan entry: wait until it can be changed, send its requests in order, wait, verify.

Only the plan is followed: its requests are sent as written (after checking each belongs to this cluster), and the
verification checks its diff. Every way this can end becomes a ClusterOutcome; nothing escapes to stop the others.
"""

import json
import threading
import time
from collections.abc import Callable

from reconciler.apply.carried import not_as_read
from reconciler.apply.result import ApplyOptions, ClusterOutcome
from reconciler.apply.session import ClusterFailed, ClusterSession, DoneElsewhere
from reconciler.apply.verify import PUT_BACK_BY_THE_FILES, failure_reason, put_back, put_back_values, unmet
from reconciler.apply.waiting import Interrupted, pause, poll_intervals, settle_seconds
from reconciler.apply.watch import ProjectWatch
from reconciler.apply.writes import (
    check_before_post,
    post_create,
    post_reset,
    put_customization,
    send_setting,
)
from reconciler.live.read import kube_path
from reconciler.model import RESTORED_AFTER_RESET
from reconciler.plan.data import NEW_CLUSTER_ID, Change, Request
from reconciler.plan.diff import FieldChange

NO_WAIT_NOTE = "not waited for and not verified (--no-wait)"


def apply_change(
    api,
    change: Change,
    options: ApplyOptions,
    stop: threading.Event,
    say: Callable[[str], None],
    watch: ProjectWatch | None = None,
) -> ClusterOutcome:
    started = time.monotonic()
    session = ClusterSession(api, change, options, stop, say, cluster_id=change.cluster.id, watch=watch)

    def outcome(result: str, reason: str | None = None, **details) -> ClusterOutcome:
        return ClusterOutcome(
            change, result, reason, time.monotonic() - started, session.cluster_id, session.records, **details
        )

    if change.action == "error":
        return outcome("failed", f"could not be planned: {change.error}")
    if change.action == "noop":
        return outcome("unchanged")
    try:
        try:
            cluster = _execute(session)
        except DoneElsewhere as exc:  # following it can be interrupted or fail too: the handlers below apply
            say(exc.reason)
            return _done_elsewhere(session, exc.reason, outcome)
        if cluster is None:  # nothing was waited for (--no-wait)
            return outcome("done", notes=[NO_WAIT_NOTE])
        misses = _unmet_after_settling(session, cluster, change.diff + put_back(change))
        if misses:
            raise ClusterFailed(failure_reason(change, misses), misses)
        say("done, verified")
        return outcome("done", verified=True)
    except ClusterFailed as exc:
        say(f"failed: {exc.reason}")
        return outcome("failed", exc.reason, mismatches=exc.mismatches)
    except Interrupted:
        if change.action == "reset" and session.records and len(change.requests) > 1:
            lost = _lost(change, 1)
            return outcome("interrupted", reset_interrupted(change), mismatches=lost, notes=_put_back_notes(session))
        if session.created and len(change.requests) > 1:
            all_sent = len(session.records) == len(change.requests)
            why = "stopped while verifying them" if all_sent else "stopped before they were sent and verified"
            return outcome("interrupted", created_but(session, why))
        if session.records:
            return outcome("interrupted", "stopped while waiting: what was sent goes on, but is not verified")
        return outcome("skipped", "stopped before anything was sent")
    except Exception as exc:  # a bug must fail this cluster, not the whole apply
        return outcome("failed", f"internal error: {type(exc).__name__}: {exc}")


def _done_elsewhere(session: ClusterSession, reason: str, outcome) -> ClusterOutcome:
    """Someone else's reset or create: it is not sent again; with waiting, follow it to READY and verify the plan's
    diff. After a reset, what the diff shows put back (the files' IP restrictions and OIDC, which that reset wiped:
    an apply stopped before putting them back, planned again) is sent, once the reset is over."""
    put_backs = _put_backs_in_diff(session.change)
    if not session.options.wait and not put_backs:
        return outcome("done_elsewhere", reason, notes=[NO_WAIT_NOTE])
    try:
        cluster = session.wait_ready(after_change=False)
        if put_backs:
            cluster = _after_the_reset(session, session.change.requests[0], cluster)
        for index, request in enumerate(put_backs, start=1):
            kind = request_kind(session.change, request)
            session.say(f"after the reset: {sending(kind, request, index, len(put_backs) + 1)}")
            _send(session, kind, request, index, cluster)
            cluster = session.wait_ready(after_change=True)
        misses = _unmet_after_settling(session, cluster, session.change.diff)
    except ClusterFailed as exc:
        return outcome("failed", f"{reason}; then: {exc.reason}", mismatches=exc.mismatches)
    if misses:
        paths = ", ".join(miss["path"] for miss in misses)
        if session.change.action == "create" and any(miss["path"] in FOLLOWED_PATHS for miss in misses):
            # Its creator may still be setting them; this apply did not create it and does not guess.
            paths += "; nothing was sent to a cluster this apply did not create: run apply again to set what is missing"
        return outcome("failed", f"{reason}; not live after it: {paths}", mismatches=misses)
    if put_backs:
        names = " and ".join(FOLLOW_UP_NAMES[request_kind(session.change, request)] for request in put_backs)
        reason += f"; put back what it wiped: {names}"
    return outcome("done_elsewhere", reason, verified=True)


def _put_backs_in_diff(change: Change) -> list[Request]:
    """A reset entry's put-backs whose setting its diff shows changing: what the reviewed plan sets, whoever reset."""
    if change.action != "reset":
        return []
    named = {entry.path.split(".")[0] for entry in change.diff}
    return [request for request in change.requests[1:] if request.path.rsplit("/", 1)[-1] in named]


def _unmet_after_settling(session: ClusterSession, cluster: dict, expected: list[FieldChange]) -> list[dict]:
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


def _execute(session: ClusterSession) -> dict | None:
    """Send the requests, waiting READY after each; the cluster as last read at READY (None with --no-wait)."""
    change = session.change
    kinds = [request_kind(change, request) for request in change.requests]
    if not kinds_fit(change.action, kinds):
        # A hand-edited plan: a reset or create the reviewed summary did not count, or one sent twice.
        raise ClusterFailed(
            f"the plan's requests ({', '.join(kinds)}) do not match its action ({change.action}); nothing was sent"
        )
    if change.status not in (None, "READY") and kinds[:1] != ["create"]:
        session.say(f"{change.status} when planned: waiting for READY before changing it")
        session.wait_ready(after_change=False)
    if kinds[0] not in ("create", "reset"):
        # A direct GET right before the write: the plan's listing may be minutes old (a prompt, a saved plan).
        live = session.read()
        if not session.matches_plan(live):
            raise ClusterFailed("the cluster changed since the plan was made; nothing was sent: run plan again")
        edited = not_as_read(change, live)
        if edited:
            raise ClusterFailed(edited)
    if kinds[:1] in (["create"], ["reset"]):
        check_before_post(session, kinds[0], change.requests[0])
    cluster = None
    # What follows a create or a reset is waited for even under --no-wait: a create's IP restrictions and OIDC need
    # the new cluster READY, and what a reset puts back must go after it, or the reset wipes it. The plan the
    # reviewer saw is applied whole, not left half-done with the API server open or its settings lost.
    puts_back = kinds[0] == "reset" and len(kinds) > 1
    follows = kinds[0] in ("create", "reset") and len(kinds) > 1
    if follows and not session.options.wait:
        session.say(f"--no-wait: waiting all the same for the {kinds[0]}, then for each request after it")
    for index, (kind, request) in enumerate(zip(kinds, change.requests, strict=True)):
        if session.stop.is_set():
            raise Interrupted()
        if index and kinds[0] == "create":
            request = Request(request.method, request.path.replace(NEW_CLUSTER_ID, session.known_id), request.body)
        session.say(sending(kind, request, index, len(kinds)))
        try:
            _send(session, kind, request, index, cluster)
            if session.options.wait or follows:
                cluster = session.wait_ready(after_change=True)
                if kind == "reset":
                    cluster = _after_the_reset(session, request, cluster)
        except ClusterFailed as exc:
            if session.created and len(kinds) > 1:
                raise ClusterFailed(created_but(session, exc.reason, first=max(index, 1)), exc.mismatches) from None
            if puts_back and index:
                raise ClusterFailed(not_put_back(change, index, exc.reason), _lost(change, index)) from None
            raise
    return cluster


def _send(session: ClusterSession, kind: str, request: Request, index: int, cluster: dict | None) -> None:
    if kind == "create":
        post_create(session, request)
    elif kind == "reset":
        post_reset(session, request)
    elif kind == "customization":
        put_customization(session, request, first=index == 0)
    else:
        send_setting(session, request, kind, first=index == 0, before=cluster)


def _follow_up_names(change: Change, first: int = 1) -> str:
    """`IP restrictions and OIDC`: what the create's requests from `first` on set."""
    names = [FOLLOW_UP_NAMES[request_kind(change, request)] for request in change.requests[first:]]
    return " and ".join(names)


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
    names = " and ".join(FOLLOW_UP_NAMES[request_kind(change, request)] for request in change.requests[first:])
    return (
        f"the reset went through, but its {names} may not be put back: {reason}; the reset wiped them (the values "
        f"are below): {PUT_BACK_BY_THE_FILES}"
    )


def reset_interrupted(change: Change) -> str:
    """Stopped between a reset and the end of its put-backs: what the reset wiped, said with the values."""
    names = " and ".join(FOLLOW_UP_NAMES[request_kind(change, request)] for request in change.requests[1:])
    return (
        f"stopped after the reset, before the {names} it wiped were put back and verified (the values are below): "
        f"{PUT_BACK_BY_THE_FILES}"
    )


def _put_back_notes(session: ClusterSession) -> list[str]:
    """Each setting a reset wiped, with its value: sent (answered, not verified), or still to put back."""
    answered = {(record.method, record.path) for record in session.records if record.error is None}
    notes = []
    for request, (part, value) in zip(session.change.requests[1:], put_back_values(session.change), strict=True):
        state = "put back, not verified" if (request.method, request.path) in answered else "still to put back"
        notes.append(f"{state}: {part} {json.dumps(value)}")
    return notes


def _lost(change: Change, first: int) -> list[dict]:
    """The values of the put-back requests from `first` on, as mismatches whose live value is not known."""
    return [{"path": part, "expected": value, "live": None} for part, value in put_back_values(change, first)]


def _id_note(session: ClusterSession) -> str:
    return f" (id {session.cluster_id})" if session.cluster_id else ""


def _after_the_reset(session: ClusterSession, request: Request, cluster: dict) -> dict:
    """READY right after a reset may still be the cluster before it, on an API that shows the reset late: what is
    put back after it (IP restrictions, OIDC) would then be wiped by it. The reset always changes the mode, so the
    new mode says it is over. Usually it shows at once, and this costs no request."""
    mode = (request.body or {}).get("kubeProxyMode")
    deadline = time.monotonic() + session.options.timeout
    intervals = poll_intervals()  # growing, as every wait: a late reset must not cost a read a second
    while mode and cluster.get("kubeProxyMode") != mode:
        if time.monotonic() > deadline:
            raise ClusterFailed(f"READY but not yet in {mode} mode after the reset: nothing was put back")
        pause(session.stop, next(intervals))
        cluster = session.wait_ready(after_change=False)
    return cluster


SENDING = {
    "create": "creating the cluster (POST)",
    "reset": "resetting the cluster (POST reset: all Kubernetes data is erased)",
    "customization": "updating the customization (PUT)",
    "policy": "setting the update policy (PUT updatePolicy)",
    "ipRestrictions": "setting the API server's IP restrictions (PUT ipRestrictions)",
    "oidc": "setting OIDC ({method} openIdConnect)",
    "upgrade": "upgrading (POST update {strategy}: nodes are drained and replaced one by one)",
}
SETTING_KINDS = frozenset({"customization", "policy", "ipRestrictions", "oidc"})
# What a create sends once the new cluster is READY, with the id in place of NEW_CLUSTER_ID.
AFTER_CREATE = {("PUT", "/ipRestrictions"): "ipRestrictions", ("POST", "/openIdConnect"): "oidc"}
FOLLOW_UP_NAMES = {"ipRestrictions": "IP restrictions", "oidc": "OIDC"}  # the kinds a create or reset has after it
FOLLOWED_PATHS = RESTORED_AFTER_RESET  # their diff paths: what a reset wipes is what a create may set after it
# (method, path suffix) -> kind; create and reset are told apart by their whole path.
KINDS = {
    ("PUT", "/customization"): "customization",
    ("PUT", "/updatePolicy"): "policy",
    ("PUT", "/ipRestrictions"): "ipRestrictions",
    ("POST", "/openIdConnect"): "oidc",
    ("PUT", "/openIdConnect"): "oidc",
    ("DELETE", "/openIdConnect"): "oidc",
    ("POST", "/update"): "upgrade",
    ("POST", "/reset"): "reset",
}


def sending(kind: str, request: Request, index: int, count: int) -> str:
    text = SENDING[kind].format(method=request.method, strategy=(request.body or {}).get("strategy", ""))
    return f"step {index + 1}/{count}: {text}" if count > 1 else text


def kinds_fit(action: str, kinds: list[str]) -> bool:
    """The requests an action may hold: a create or a reset first, then only the IP restrictions and OIDC (that it
    sets, or puts back); settings for an update; settings and at least one upgrade for an upgrade."""
    if not kinds:
        return False
    if action in ("create", "reset"):
        return kinds[0] == action and set(kinds[1:]) <= FOLLOW_UP_NAMES.keys()
    if action == "update":
        return set(kinds) <= SETTING_KINDS
    if action == "upgrade":
        return "upgrade" in kinds and set(kinds) <= SETTING_KINDS | {"upgrade"}
    return False


def request_kind(change: Change, request: Request) -> str:
    """What a request does; a request that is none of this cluster's fails it (a hand-edited plan)."""
    ref = change.cluster
    if request.method == "POST" and request.path == kube_path(ref.project) and not ref.id:
        return "create"
    if not ref.id:
        for (method, suffix), kind in AFTER_CREATE.items():
            if request.method == method and request.path == kube_path(ref.project, NEW_CLUSTER_ID, suffix):
                return kind
    if ref.id:
        for (method, suffix), kind in KINDS.items():
            if request.method == method and request.path == kube_path(ref.project, ref.id, suffix):
                return kind
    raise ClusterFailed(f"the plan holds a request that is not one of this cluster's: {request.method} {request.path}")
