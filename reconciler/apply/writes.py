"""Send a plan's writes so that nothing happens twice and nothing happens that was not planned.

PUT customization is idempotent: the Api already retries it on 429/5xx. A 409 ServiceNotReady (or
ServiceOnlyOneModification, ServiceLocked) means the cluster is busy: wait for READY and send again, unless the
change is live already (our own earlier attempt went through) or the cluster changed since the plan (then the plan
no longer means what it said).

POST reset and POST create are never retried blindly. After an ambiguous failure (no answer, or a 5xx: the request
may have been executed) the cluster is read back: a reset that started (REDEPLOYING as the reset guide shows, or
RESETTING, or already in the new mode) is followed, not repeated; a cluster that now exists under the name is
adopted, not created again. Only when the read proves nothing happened is the request sent once more, and at most
once. Anything in between (unreadable, changed by someone else) fails the cluster without sending anything more.
Hence: at most one reset per cluster per apply, and never a duplicate cluster.

DELETE of a cluster is never sent twice either (`delete_cluster`): after no clear answer, DELETING or gone means it
went through, and anything else fails the cluster with nothing more sent.
"""

from reconciler.apply.session import ClusterFailed, ClusterSession, DoneElsewhere
from reconciler.apply.verify import blocks_match
from reconciler.apply.waiting import DELETE_STARTED, created_visible_seconds, look_again, pause, settle_seconds
from reconciler.errors import ApiError, Conflict, NotFound
from reconciler.live.read import ClusterObject, read_live, read_object
from reconciler.model import IP_RESTRICTIONS, OPENID_CONNECT
from reconciler.plan.network import network_step_live, reset_shows
from reconciler.plan.normalize import cidr_set, oidc_comparable
from reconciler.plan.planfile import not_as_read
from reconciler.steps import OIDC_KINDS, PART_OF_KIND, Step, StepKind
from reconciler.versions import major_minor

MAX_BUSY_RETRIES = 3  # 409 "busy" answers per request before that cluster fails
BUSY_PAUSE_SECONDS = 0.5  # after the first busy answer; doubled after each next one
# 409 classes that mean "busy with another change, ask again once READY", not "refused" (seen on OVH APIs).
BUSY_CONFLICTS = ("ServiceNotReady", "ServiceOnlyOneModification", "ServiceLocked")
# A reset shows REDEPLOYING in OVHcloud's reset guide; RESETTING is in the status enum too: either means it started.
RESET_STARTED = ("REDEPLOYING", "RESETTING")


def check_before_post(session: ClusterSession, kind: StepKind, step: Step) -> None:
    """A fresh read right before a reset or create, against the plan: another apply (another CD run, the same saved
    plan applied twice) may have done it since the plan was made, and doing it again would erase the cluster twice
    or make a duplicate. Raises DoneElsewhere (not sent) or ClusterFailed (changed otherwise: not sent)."""
    if kind is StepKind.CREATE:
        found = _created_id(session, None)
        if found:
            session.cluster_id = found
            raise DoneElsewhere(f"created by someone else since the plan (id {found}): not created again")
        return
    live = session.read(before_writing=True)
    if live.status in RESET_STARTED and live.status != session.change.status:
        # Busy since the plan, maybe with someone else's reset, whose new settings may show only once it is over
        # (the API does not document when): wait for it, so the check below sees what it did.
        session.say(f"{live.status} since the plan: waiting for READY before checking it again")
        session.wait_ready(after_change=False)
        live = session.read()
    if session.matches_plan(live):
        edited = not_as_read(session.change, live)
        if edited:
            raise ClusterFailed(edited)
        return  # as planned (READY, or busy: the POST's 409 is waited for as usual)
    if live.status in RESET_STARTED or reset_shows(session.change.diff, live.cluster):
        raise DoneElsewhere(f"reset by someone else since the plan (now {live.status}): not reset again")
    raise ClusterFailed("the cluster changed since the plan was made; nothing was sent: run plan again")


def _busy(exc: ApiError) -> bool:
    return isinstance(exc, Conflict) and any(name in (exc.error_class or "ServiceNotReady") for name in BUSY_CONFLICTS)


def _busy_name(exc: ApiError) -> str:
    return (exc.error_class or "ServiceNotReady").rsplit("::", 1)[-1]


def _wait_out_busy(session: ClusterSession, busy: int) -> None:
    """Wait for READY, and a growing pause besides: a cluster may be READY and still locked by another change."""
    session.wait_ready(after_change=False)
    pause(session.stop, BUSY_PAUSE_SECONDS * 2 ** (busy - 1))


STARTED, NOT_STARTED, UNKNOWN = "started", "not started", "unknown"


def post_reset(session: ClusterSession, step: Step) -> None:
    busy, resent = 0, False
    while True:
        try:
            session.call(step)
            return
        except ApiError as exc:
            if _busy(exc):  # refused, so not executed: wait, then check the cluster is still as planned
                busy += 1
                if busy > MAX_BUSY_RETRIES:
                    raise ClusterFailed(f"still busy after {MAX_BUSY_RETRIES} waits for READY: {exc}") from None
                session.say(f"busy (409 {_busy_name(exc)}): waiting for READY before sending the reset")
                _wait_out_busy(session, busy)
            elif exc.ambiguous:
                session.say(f"the reset got no clear answer ({exc}): reading the cluster to learn whether it started")
            else:
                raise ClusterFailed(f"the API refused the reset: {exc}") from None
            state = _reset_state(session)
            if state == NOT_STARTED and exc.ambiguous:  # before sending it again, be sure: the API may show it late
                # As long as a create may take to show: a reset sent twice erases the cluster twice.
                window = max(settle_seconds(), created_visible_seconds())
                state = look_again(session.stop, lambda: _reset_state(session), NOT_STARTED, window=window)
            if state == STARTED:
                session.say("the reset started: following it, not sending it again")
                return
            if state == UNKNOWN:
                raise ClusterFailed(
                    f"cannot tell whether the reset started ({exc}), or the cluster changed since the plan: "
                    f"not sending it again; look at the cluster, then run plan again"
                ) from None
            if exc.ambiguous:
                if resent:
                    reason = f"the reset failed twice and did not start ({exc}); nothing more was sent"
                    raise ClusterFailed(reason) from None
                resent = True
                session.say("the reset did not start: sending it once more")


def _reset_state(session: ClusterSession) -> str:
    try:
        live = session.read()
    except ClusterFailed:
        return UNKNOWN
    if live.status in RESET_STARTED or reset_shows(session.change.diff, live.cluster):
        return STARTED
    if live.status == "READY" and session.matches_plan(live):
        return NOT_STARTED
    return UNKNOWN


def post_create(session: ClusterSession, step: Step) -> None:
    resent = False
    while True:
        try:
            answer = session.call(step)
        except ApiError as exc:
            if not exc.ambiguous:
                raise ClusterFailed(f"the API refused the creation: {exc}") from None
            session.say(f"the creation got no clear answer ({exc}): listing the project to learn whether it exists")
            # Listed late by the API, a created cluster would be created twice: look again before sending again.
            look = lambda failure=exc: _created_id(session, failure)  # noqa: E731 (a look, called again)
            # A new cluster may stay unlisted a while: look as long as that, not only the settle window.
            window = max(settle_seconds(), created_visible_seconds())
            found = look() or look_again(session.stop, look, None, window=window)
            if found:
                session.cluster_id, session.created = found, True
                session.say(f"it was created (id {found}): adopting it, not creating it again")
                return
            if resent:
                raise ClusterFailed(f"the creation failed twice and no cluster was created ({exc})") from None
            resent = True
            session.say("no cluster was created: sending the creation once more")
            continue
        session.cluster_id = (answer or {}).get("id") or _created_id(session, None)
        session.created = True
        if not session.cluster_id:
            raise ClusterFailed("the API accepted the creation but the cluster cannot be found by its name")
        return


def _created_id(session: ClusterSession, failure: ApiError | None) -> str | None:
    """The id of the cluster now bearing the name; ClusterFailed when the project cannot be read well enough."""
    ref = session.change.cluster
    result = read_live(session.api, [ref], parallelism=4).results[(ref.project, ref.name)]
    if result.error:
        cause = f" after {failure}" if failure else ""
        raise ClusterFailed(f"cannot tell whether the cluster was created{cause}: {result.error}; not sending again")
    return result.found.cluster.get("id") if result.found else None


GONE = "gone"


def delete_cluster(session: ClusterSession, step: Step) -> None:
    """DELETE the cluster, once. A fresh read first: gone already, or DELETING (someone else's delete), nothing is
    sent (DoneElsewhere, or it is followed); a cluster that changed since the plan in what its entry rests on (its
    identity) fails with nothing sent. A 409 busy: wait READY and send again (refused, so not executed). No clear
    answer (a 5xx, none at all): read back, over the settle window; DELETING or gone means it went through; anything
    else fails the cluster, and the DELETE is not sent again on a guess."""
    state = _delete_state(session)
    if state == GONE:
        raise DoneElsewhere("gone since the plan (deleted by someone else): nothing was sent")
    if state == STARTED:
        session.say("DELETING already (a delete by someone else): not sent again, waiting until it is gone")
        return
    if state == UNKNOWN or not session.matches_plan(session.read()):
        raise ClusterFailed("the cluster changed since the plan was made, or cannot be read; nothing was sent")
    busy = 0
    while True:
        try:
            session.call(step)
            return
        except NotFound:
            session.say("already gone (404): nothing more to do")
            return
        except ApiError as exc:
            if _busy(exc):
                busy += 1
                if busy > MAX_BUSY_RETRIES:
                    raise ClusterFailed(f"still busy after {MAX_BUSY_RETRIES} waits for READY: {exc}") from None
                session.say(f"busy (409 {_busy_name(exc)}): waiting for READY before sending the delete again")
                _wait_out_busy(session, busy)
                continue
            if not exc.ambiguous:
                raise ClusterFailed(f"the API refused the delete: {exc}") from None
            session.say(f"the delete got no clear answer ({exc}): reading the cluster to learn whether it started")
            look = lambda: _delete_state(session)  # noqa: E731 (a look, called again)
            state = look()
            if state == NOT_STARTED:
                state = look_again(session.stop, look, NOT_STARTED)
            if state in (STARTED, GONE):
                session.say("the delete went through: following it, not sending it again")
                return
            raise ClusterFailed(
                f"the delete got no clear answer ({exc}) and the cluster is not DELETING after {settle_seconds():g} s: "
                f"it was not sent again (a delete is never sent on a guess); look at the cluster, then run plan again"
            ) from None


def _delete_state(session: ClusterSession) -> str:
    try:
        status = read_object(session.api, session.project, session.known_id).get("status")
    except NotFound:
        return GONE
    except ApiError:
        return UNKNOWN
    return STARTED if status in DELETE_STARTED else NOT_STARTED


# What a setting step is called in messages ("the API refused the oidc").
SETTING_NAMES = {
    StepKind.RENAME: "rename",
    StepKind.PUT_CUSTOMIZATION: "customization",
    StepKind.UPDATE_POLICY: "policy",
    StepKind.IP_RESTRICTIONS: "ipRestrictions",
    StepKind.OIDC_CREATE: "oidc",
    StepKind.OIDC_UPDATE: "oidc",
    StepKind.OIDC_DELETE: "oidc",
    StepKind.UPGRADE: "upgrade",
    StepKind.LOAD_BALANCERS_SUBNET: "load balancers' subnet",
    StepKind.NETWORK_CONFIGURATION: "private network configuration",
}


def send_setting(session: ClusterSession, step: Step, first: bool, before: ClusterObject | None) -> None:
    """Customization, updatePolicy, IP restrictions, OIDC or an upgrade step. A 409 ServiceNotReady: wait READY
    and send again, unless it is live already. No clear answer (the Api retries PUT itself, never POST or DELETE):
    read back, looking again over the settle window (an API may show late what it accepted), and go on only if
    the change is live (or, for an upgrade, started); else say it may or may not have been applied. Never send a
    POST twice on a guess.
    `first`: the plan's first step, so the cluster can still be compared with the plan's fingerprint.
    `before`: the cluster as last read at READY (an upgrade tells "started" by its version moving)."""
    kind, upgrade = SETTING_NAMES[step.kind], step.kind is StepKind.UPGRADE
    if upgrade and before is None:
        before = session.read_object()
    start_minor = major_minor(str((before or {}).get("version") or ""))
    busy = 0
    while True:
        try:
            session.call(step)
            return
        except ApiError as exc:
            if exc.ambiguous:
                # An API may show what it accepted late: look again over the settle window before saying anything.
                look = lambda seen=before: _setting_live(session, step, seen)  # noqa: E731 (called again)
                if look() or look_again(session.stop, look, False):
                    session.say("it went through (read back after no clear answer)")
                    return
                raise ClusterFailed(
                    f"the {kind} got no clear answer ({exc}) and does not show after {settle_seconds():g} s: it may "
                    f"or may not have been applied, and was not sent again; run plan again to see what is left"
                ) from None
            if not _busy(exc):
                # After a reset that kept them after all (not documented either way), putting back the IP
                # restrictions or OIDC may be refused as existing: what counts is that they are as planned.
                if step.kind in PART_OF_KIND and _setting_live(session, step, before):
                    session.say(f"the {kind} is as planned already")
                    return
                raise ClusterFailed(f"the API refused the {kind}: {exc}") from None
            busy += 1
            if busy > MAX_BUSY_RETRIES:
                raise ClusterFailed(f"still busy after {MAX_BUSY_RETRIES} waits for READY: {exc}") from None
            session.say(f"busy (409 {_busy_name(exc)}): waiting for READY before sending again")
        _wait_out_busy(session, busy)
        before = session.read_object()
        if upgrade and major_minor(str(before.get("version") or "")) != start_minor:
            # Another apply's upgrade went first: sending this step again would go one minor past the plan.
            session.say("the version moved while busy (an upgrade by someone else): not sending this step again")
            return
        if not upgrade and _setting_live(session, step, before):
            session.say(f"the {kind} is live already (an earlier attempt went through)")
            return
        if first and not session.matches_plan(session.read()):
            raise ClusterFailed("the cluster changed since the plan was made; nothing more was sent: run plan again")


def _setting_live(session: ClusterSession, step: Step, before: ClusterObject | None) -> bool:
    body, kind = step.body or {}, step.kind
    if kind is StepKind.PUT_CUSTOMIZATION:
        return blocks_match(body, session.read().customization)
    if kind is StepKind.UPDATE_POLICY:
        return session.read_object().get("updatePolicy") == body.get("updatePolicy")
    if kind is StepKind.RENAME:
        now = session.read_object()
        policy = body.get("updatePolicy", now.get("updatePolicy"))
        return now.get("name") == body.get("name") and now.get("updatePolicy") == policy
    if kind in (StepKind.LOAD_BALANCERS_SUBNET, StepKind.NETWORK_CONFIGURATION):
        return network_step_live(step, dict(session.read_object()))
    if kind is StepKind.IP_RESTRICTIONS:
        return cidr_set(session.read_part(IP_RESTRICTIONS)) == cidr_set(body.get("ips"))
    if kind in OIDC_KINDS:
        wanted = {} if kind is StepKind.OIDC_DELETE else body
        return oidc_comparable(session.read_part(OPENID_CONNECT)) == oidc_comparable(wanted)
    now = session.read_object()  # an upgrade: started once the cluster is UPDATING or its version moved
    return now.get("status") == "UPDATING" or now.get("version") != (before or {}).get("version")
