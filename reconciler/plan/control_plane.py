"""The control-plane settings beside customization: updatePolicy, IP restrictions, OIDC, version upgrades.

Each setting that differs is its own request, in an order that cannot fail half-way for a reason known in advance:
an updatePolicy that leaves NEVER_UPDATE goes first (the API refuses upgrades under it), one that enters it goes
last (after the upgrades); upgrades come after every other change, one NEXT_MINOR request per minor (apply waits
READY between them). A reset loses IP restrictions and OIDC (no reset field carries them): the requests that put
them back follow the reset in the same change.
"""

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from reconciler.escape import without_userinfo_in
from reconciler.live.control_plane import IP_RESTRICTIONS, OPENID_CONNECT
from reconciler.live.read import LiveCluster, kube_path
from reconciler.model import KUBERNETES_VERSIONS, DesiredCluster
from reconciler.plan.data import ErrorReason, Request
from reconciler.plan.diff import FieldChange
from reconciler.plan.normalize import cidr_set, oidc_comparable

NEVER_UPDATE = "NEVER_UPDATE"
UPGRADE_SUFFIX = "/update"
POLICY_SUFFIX = "/updatePolicy"


@dataclass
class ControlPlane:
    """What the control-plane settings add to a cluster's change."""

    diff: list[FieldChange] = field(default_factory=list)
    first: list[Request] = field(default_factory=list)  # before the customization
    middle: list[Request] = field(default_factory=list)  # after it: IP restrictions, OIDC
    upgrades: list[Request] = field(default_factory=list)
    last: list[Request] = field(default_factory=list)  # after the upgrades
    error: tuple[ErrorReason, str] | None = None  # why the cluster cannot be planned, for programs and people
    warnings: list[str] = field(default_factory=list)

    @property
    def requests_after_customization(self) -> list[Request]:
        return self.middle + self.upgrades + self.last


# A minor as the file format writes it (schemas/cluster.schema.json), the API's patch level allowed after it. Bounded,
# so that no version read from a saved plan or an answer makes a count of upgrade steps out of reach.
_MINOR = re.compile(r"([1-9])\.(0|[1-9][0-9]?)(?:\.[0-9A-Za-z.+-]*)?")


def minor_tuple(version: str | None) -> tuple[int, int] | None:
    return _minor_of(str(version))  # as text: whatever a saved plan holds can be a key of the cache


@lru_cache(maxsize=256)  # a fleet holds a handful of versions, parsed several times per cluster
def _minor_of(version: str) -> tuple[int, int] | None:
    found = _MINOR.fullmatch(version)
    return (int(found[1]), int(found[2])) if found else None


def parts_needed(desired: DesiredCluster, resetting: bool) -> tuple[str, ...]:
    """The separate GETs the plan of this cluster needs: what the file manages, or everything a reset wipes."""
    parts = []
    if resetting or desired.ip_restrictions is not None:
        parts.append(IP_RESTRICTIONS)
    if resetting or desired.openid_connect is not None:
        parts.append(OPENID_CONNECT)
    return tuple(parts)


def wiped_unmanaged(desired: DesiredCluster, live: LiveCluster) -> dict[str, list | dict]:
    """What a reset would wipe that the file does not manage: {part: live value}, for the parts that hold one."""
    lost: dict[str, list | dict] = {}
    if desired.ip_restrictions is None and live.ip_restrictions:
        lost[IP_RESTRICTIONS] = list(live.ip_restrictions)
    if desired.openid_connect is None and live.openid_connect:
        lost[OPENID_CONNECT] = dict(live.openid_connect)
    return lost


CA_SHOWN_CHARS = 40  # a CA certificate is kilobytes of base64: the message shows its start, export writes it whole


def as_spec_fields(values: dict[str, list | dict]) -> str:
    """`spec.ipRestrictions: [...]; spec.openIdConnect: {...}`: each value as JSON, which YAML reads as written.
    Shown in plans, saved in plan files and reported by drift: a URL's user:password@ (live values only: the files
    refuse one) is left out, and said to be."""
    shown = []
    for part, value in without_userinfo_in(values).items():
        if isinstance(value, dict) and len(str(value.get("caContent") or "")) > CA_SHOWN_CHARS:
            value = value | {"caContent": str(value["caContent"])[:CA_SHOWN_CHARS] + "..."}
        shown.append(f"spec.{part}: {json.dumps(value)}")
    if without_userinfo_in(values) != values:
        shown.append("a URL's user:password@ is left out here (the files refuse one)")
    return "; ".join(shown)


def parts_depended_on(action: str, requests: list[Request]) -> tuple[str, ...]:
    """The separate GETs a plan entry's requests depend on: they join its live fingerprint. A reset puts back
    what was read; the OIDC request (POST, PUT or DELETE) depends on whether OIDC exists."""
    resetting = action == "reset"
    parts = []
    if resetting or any(request.path.endswith("/" + IP_RESTRICTIONS) for request in requests):
        parts.append(IP_RESTRICTIONS)
    if resetting or any(request.path.endswith("/" + OPENID_CONNECT) for request in requests):
        parts.append(OPENID_CONNECT)
    return tuple(parts)


def plan_settings(desired: DesiredCluster, live: LiveCluster) -> ControlPlane:
    """updatePolicy, IP restrictions, OIDC and upgrades of a cluster that is not reset."""
    plan = ControlPlane()
    cluster = live.cluster
    project, cluster_id = desired.project, cluster.get("id")
    live_policy = cluster.get("updatePolicy")
    policy = desired.update_policy
    if policy is not None and policy != live_policy:
        plan.diff.append(FieldChange("updatePolicy", live_policy, policy))
        request = Request("PUT", kube_path(project, cluster_id, POLICY_SUFFIX), {"updatePolicy": policy})
        (plan.last if policy == NEVER_UPDATE else plan.first).append(request)
    plan.middle += _ip_restrictions(desired, live, plan.diff)
    plan.middle += _openid_connect(desired, live, plan.diff)
    _upgrades(desired, live, plan)
    return plan


def _ip_restrictions(desired: DesiredCluster, live: LiveCluster, diff: list[FieldChange]) -> list[Request]:
    wanted = desired.ip_restrictions
    if wanted is None or cidr_set(wanted) == cidr_set(live.ip_restrictions or []):
        return []
    diff.append(FieldChange("ipRestrictions", live.ip_restrictions or None, list(wanted)))
    return [ip_restrictions_request(desired.project, live.cluster.get("id"), wanted)]


def ip_restrictions_request(project: str, cluster_id: str | None, ranges) -> Request:
    """PUT replaces the whole list (POST would append): the list ends as the file says, whatever was there."""
    return Request("PUT", kube_path(project, cluster_id, "/" + IP_RESTRICTIONS), {"ips": list(ranges)})


def _openid_connect(desired: DesiredCluster, live: LiveCluster, diff: list[FieldChange]) -> list[Request]:
    wanted, actual = desired.openid_connect, live.openid_connect or {}
    if wanted is None or oidc_comparable(wanted) == oidc_comparable(actual):
        return []
    path = kube_path(desired.project, live.cluster.get("id"), "/" + OPENID_CONNECT)
    # The live side of the diff is shown in plans, saved in plan files and reported by drift: a password in a
    # URL read from the API is left out of it (the files refuse one).
    shown = without_userinfo_in(actual)
    if not wanted:
        diff.append(FieldChange("openIdConnect", shown, None))
        return [Request("DELETE", path)]
    if not actual:
        diff.append(FieldChange("openIdConnect", None, wanted))
        return [Request("POST", path, dict(wanted))]
    before, after = oidc_comparable(actual), oidc_comparable(wanted)
    for name in sorted(before.keys() | after.keys()):
        if before.get(name) != after.get(name):
            diff.append(FieldChange(f"openIdConnect.{name}", shown.get(name), wanted.get(name)))
    return [Request("PUT", path, dict(wanted))]


def oidc_create_request(project: str, cluster_id: str | None, settings: dict) -> Request:
    return Request("POST", kube_path(project, cluster_id, "/" + OPENID_CONNECT), dict(settings))


def version_ahead(desired: DesiredCluster, live: LiveCluster) -> list[FieldChange]:
    """spec.version is a floor: a live minor above it (OVHcloud upgrades an end-of-life minor on its own) is kept,
    never an error nor a downgrade; it is noted, so that the file can be brought up to date."""
    have, want = minor_tuple(str(live.cluster.get("version") or "")), minor_tuple(desired.version)
    if have is None or want is None or want >= have:
        return []
    return [FieldChange("version", live.cluster.get("version"), desired.version)]


def _upgrades(desired: DesiredCluster, live: LiveCluster, plan: ControlPlane) -> None:
    cluster = live.cluster
    live_version = str(cluster.get("version") or "")
    have, want = minor_tuple(live_version), minor_tuple(desired.version)
    if version_ahead(desired, live):
        want = None  # the floor is met; a patch upgrade may still be asked for
    if have is None or (want is None and not desired.lifecycle.latest_patch):
        return
    where = f"{desired.source_of('version').source}: spec.version"
    steps = want[1] - have[1] if want is not None and want[0] == have[0] else 0
    if want is not None and want[0] != have[0]:
        message = f"{where} {desired.version}: ovhkube upgrades one minor at a time within a major version"
        plan.error = (ErrorReason.UPGRADE_NOT_ALLOWED, message)
        return
    refusal = upgrade_refusal(have, want, cluster.get("nextUpgradeVersions")) if steps and want else None
    if refusal:  # before any request is built: an upgrade that cannot end where the file says is not started
        plan.error = (ErrorReason.VERSION_NOT_OFFERED, f"{where} {desired.version}: {refusal}")
        return
    path = kube_path(desired.project, cluster.get("id"), UPGRADE_SUFFIX)
    if steps:
        plan.diff.append(FieldChange("version", live_version, desired.version))
        plan.upgrades += [Request("POST", path, {"strategy": "NEXT_MINOR"}) for _ in range(steps)]
    elif desired.lifecycle.latest_patch and cluster.get("isUpToDate") is False:
        plan.diff.append(FieldChange("isUpToDate", False, True))
        plan.upgrades.append(Request("POST", path, {"strategy": "LATEST_PATCH"}))
    if not plan.upgrades:
        return
    what = f"{live_version} -> {desired.version}" if steps else f"{live_version} -> the latest patch"
    if not desired.lifecycle.allow_upgrade:
        plan.error = (
            ErrorReason.UPGRADE_NOT_ALLOWED,
            f"upgrading {what} drains and replaces every node and cannot be undone; "
            f"set spec.lifecycle.allowUpgrade: true to allow it",
        )
    elif cluster.get("updatePolicy") == NEVER_UPDATE and desired.update_policy in (None, NEVER_UPDATE):
        plan.error = (
            ErrorReason.UPGRADE_REFUSED_BY_POLICY,
            f"upgrading {what} is refused by the API under updatePolicy NEVER_UPDATE; set spec.updatePolicy to "
            f"MINIMAL_DOWNTIME or ALWAYS_UPDATE (ovhkube then changes the policy before upgrading)",
        )


def upgrade_refusal(have: tuple[int, int], want: tuple[int, int], next_versions: object) -> str | None:
    """Why the cluster cannot go from minor `have` up to `want` one minor at a time, or None when it can: the first
    step must be one of the cluster's own nextUpgradeVersions (where the API lists them), and the last one of those
    or a minor the API describes (KUBERNETES_VERSIONS)."""
    offered = [str(v) for v in next_versions if isinstance(v, str)] if isinstance(next_versions, list) else None
    offered_minors = {minor_tuple(version) for version in offered or ()}
    known = {minor_tuple(version) for version in KUBERNETES_VERSIONS}
    first = (have[0], have[1] + 1)
    listed = f"{', '.join(offered)} next" if offered else "no upgrade now"
    described = f"the versions OVHcloud's API describes are {KUBERNETES_VERSIONS[0]} to {KUBERNETES_VERSIONS[-1]}"
    if offered is not None and first not in offered_minors:
        return f"the cluster does not offer {first[0]}.{first[1]}: it offers {listed} (nextUpgradeVersions)"
    if want not in offered_minors and want not in known:
        return f"not a version OVHcloud offers: the cluster offers {listed}, and {described}"
    return None


def upgrade_notice(requests: list[Request]) -> str | None:
    """The loud line of a plan that upgrades; None when it does not."""
    steps = [request for request in requests if request.path.endswith(UPGRADE_SUFFIX)]
    if not steps:
        return None
    strategy = "minor" if (steps[0].body or {}).get("strategy") == "NEXT_MINOR" else "patch"
    count = f"{len(steps)} {strategy} upgrade(s), one after the other" if len(steps) > 1 else f"one {strategy} upgrade"
    return f"UPGRADE: {count}; every node is drained and replaced, one at a time; this cannot be undone"


# --- saved plans: the control-plane requests an entry makes, rebuilt from its diff (reconciler.plan.planfile) ---


def stored_body(change, path: str, method: str) -> dict:
    """The body of the entry's stored request to `path` by `method` ({} when there is none)."""
    for request in change.requests:
        if request.path == path and request.method == method and isinstance(request.body, dict):
            return request.body
    return {}


def rebuilt_settings(change, path: str) -> tuple[list[dict], list[dict]]:
    """The requests an update or upgrade entry makes beside its customization PUT: (before it, after it), from the
    diff alone, in the planner's order; a stored body the diff does not show is named instead of taken."""
    diff = {entry.path: entry for entry in change.diff}
    first: list[dict] = []
    middle: list[dict] = []
    upgrades: list[dict] = []
    last: list[dict] = []
    if "updatePolicy" in diff:
        policy = diff["updatePolicy"].after
        request = {"method": "PUT", "path": path + POLICY_SUFFIX, "body": {"updatePolicy": policy}}
        (last if policy == NEVER_UPDATE else first).append(request)
    if "ipRestrictions" in diff:
        ranges = diff["ipRestrictions"].after
        middle.append({"method": "PUT", "path": f"{path}/{IP_RESTRICTIONS}", "body": {"ips": ranges}})
    middle += _rebuilt_oidc(change, f"{path}/{OPENID_CONNECT}", diff)
    if "version" in diff:
        have, want = minor_tuple(diff["version"].before), minor_tuple(diff["version"].after)
        steps = want[1] - have[1] if have and want and want[0] == have[0] else 0
        upgrades += [_upgrade(path, "NEXT_MINOR") for _ in range(max(0, steps))]
    if "isUpToDate" in diff:
        upgrades.append(_upgrade(path, "LATEST_PATCH"))
    return first, middle + upgrades + last


def _upgrade(path: str, strategy: str) -> dict:
    return {"method": "POST", "path": path + UPGRADE_SUFFIX, "body": {"strategy": strategy}}


def _rebuilt_oidc(change, path: str, diff: dict) -> list[dict]:
    if "openIdConnect" in diff:
        after = diff["openIdConnect"].after
        if after is None:
            return [{"method": "DELETE", "path": path, "body": None}]
        return [{"method": "POST", "path": path, "body": after}]
    prefix = "openIdConnect."
    fields = {key[len(prefix) :]: entry.after for key, entry in diff.items() if key.startswith(prefix)}
    if not fields:
        return []
    body = stored_body(change, path, "PUT")
    if any(body.get(key) != value for key, value in fields.items()):
        body = {"openIdConnect fields": sorted(fields)}  # cannot be the stored body: the difference is named
    return [{"method": "PUT", "path": path, "body": body}]


def rebuilt_restoration(change, path: str) -> list[dict]:
    """What a reset entry sends after the reset: the IP restrictions and OIDC read before it (kept as stored: they
    are live values, not in the diff) or, where the diff sets them, the diff's; nothing else."""
    diff = {entry.path: entry.after for entry in change.diff}
    requests = []
    ranges = (
        diff["ipRestrictions"]
        if "ipRestrictions" in diff
        else stored_body(change, f"{path}/{IP_RESTRICTIONS}", "PUT").get("ips")
    )
    if ranges:
        requests.append({"method": "PUT", "path": f"{path}/{IP_RESTRICTIONS}", "body": {"ips": ranges}})
    oidc = diff["openIdConnect"] if "openIdConnect" in diff else stored_body(change, f"{path}/{OPENID_CONNECT}", "POST")
    if any(key.startswith("openIdConnect.") for key in diff):
        oidc = stored_body(change, f"{path}/{OPENID_CONNECT}", "POST")
        if any(
            oidc.get(key.removeprefix("openIdConnect.")) != after
            for key, after in diff.items()
            if key.startswith("openIdConnect.")
        ):
            oidc = {"openIdConnect fields": "the entry's diff"}
    if oidc:
        requests.append({"method": "POST", "path": f"{path}/{OPENID_CONNECT}", "body": oidc})
    return requests


def rebuilt_after_create(diff: dict, path: str) -> list[dict]:
    """What a create entry sends once the new cluster is READY (`path`: its placeholder path): the IP restrictions
    and OIDC of its diff, nothing else."""
    requests = []
    if diff.get("ipRestrictions"):
        requests.append({"method": "PUT", "path": f"{path}/{IP_RESTRICTIONS}", "body": {"ips": diff["ipRestrictions"]}})
    if diff.get("openIdConnect"):
        requests.append({"method": "POST", "path": f"{path}/{OPENID_CONNECT}", "body": diff["openIdConnect"]})
    return requests


def control_plane_spec(request: dict) -> dict | None:
    """A control-plane request's body as the spec fields `validate` checks; None for a request of another kind."""
    body, path = request.get("body") or {}, request["path"]
    if path.endswith(POLICY_SUFFIX):
        return {"updatePolicy": body.get("updatePolicy")}
    if path.endswith("/" + IP_RESTRICTIONS):
        return {"ipRestrictions": body.get("ips")}
    if path.endswith("/" + OPENID_CONNECT):
        return {"openIdConnect": body} if request["method"] != "DELETE" else {}
    if path.endswith(UPGRADE_SUFFIX):
        return {}  # rebuilt whole from the diff: nothing of the stored body is taken
    return None
