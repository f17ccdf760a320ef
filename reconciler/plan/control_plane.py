"""The step builders, and the control-plane settings beside customization: updatePolicy, IP restrictions, OIDC,
version upgrades.

Every step the planner makes is made here, and the saved-plan check (reconciler.plan.planfile) makes an entry's
steps with the same builders. Each setting that differs is its own step, in an order that cannot fail half-way for
a reason known in advance: an updatePolicy that leaves NEVER_UPDATE goes first (the API refuses upgrades under it),
one that enters it goes last (after the upgrades); upgrades come after every other change, one NEXT_MINOR step per
minor (apply waits READY between them). A reset loses IP restrictions and OIDC (no reset field carries them): the
steps that put them back follow the reset in the same change.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.escape import quoted, without_userinfo_in
from reconciler.live.read import LiveCluster
from reconciler.model import IP_RESTRICTIONS, KUBERNETES_VERSIONS, OPENID_CONNECT, DesiredCluster, ErrorReason
from reconciler.plan.data import Action
from reconciler.plan.diff import FieldChange
from reconciler.plan.network import body_fields, network_spec
from reconciler.plan.normalize import cidr_set, oidc_comparable
from reconciler.steps import PART_OF_KIND, ClusterTarget, Step, StepKind
from reconciler.versions import minor_of

NEVER_UPDATE = "NEVER_UPDATE"
NEXT_MINOR, LATEST_PATCH = "NEXT_MINOR", "LATEST_PATCH"


@dataclass
class ControlPlane:
    """What the control-plane settings add to a cluster's change: the diff, and what its steps are made of."""

    diff: list[FieldChange] = field(default_factory=list)
    policy: str | None = None  # the updatePolicy to set; None: unchanged
    ip_restrictions: list[str] | None = None  # the list to set; None: unchanged
    oidc: Step | None = None
    upgrades: list[str] = field(default_factory=list)  # the strategy of each upgrade step, in order
    error: tuple[ErrorReason, str] | None = None  # why the cluster cannot be planned, for programs and people
    warnings: list[str] = field(default_factory=list)


# --- the step builders: the planner makes every step through these, and so does the saved-plan check ---


def rename_step(target: ClusterTarget, name: str, policy: str | None) -> Step:
    """PUT of the cluster itself (cloud.ProjectKubeUpdate: name, updatePolicy, neither required). It carries the
    update policy the cluster has: whether the API resets a policy left out, as a reset does, is not documented, and
    a policy silently back to ALWAYS_UPDATE would start upgrades nobody planned."""
    body = {"name": name}
    if policy is not None:
        body["updatePolicy"] = policy
    return Step(StepKind.RENAME, target, body)


def delete_step(target: ClusterTarget) -> Step:
    return Step(StepKind.DELETE, target)


def policy_step(target: ClusterTarget, policy: str) -> Step:
    return Step(StepKind.UPDATE_POLICY, target, {"updatePolicy": policy})


def customization_step(target: ClusterTarget, blocks: dict) -> Step:
    """The blocks that differ, each whole: the API replaces a block it is sent and keeps one left out."""
    return Step(StepKind.PUT_CUSTOMIZATION, target, blocks)


def ip_restrictions_step(target: ClusterTarget, ranges: Iterable[str]) -> Step:
    """PUT replaces the whole list (POST would append): the list ends as the file says, whatever was there."""
    return Step(StepKind.IP_RESTRICTIONS, target, {"ips": list(ranges)})


def oidc_step(target: ClusterTarget, wanted: dict, exists: bool) -> Step:
    """{}: remove OIDC; else create it, or replace it whole where it exists."""
    if not wanted:
        return Step(StepKind.OIDC_DELETE, target)
    return Step(StepKind.OIDC_UPDATE if exists else StepKind.OIDC_CREATE, target, dict(wanted))


def upgrade_step(target: ClusterTarget, strategy: str) -> Step:
    return Step(StepKind.UPGRADE, target, {"strategy": strategy})


def update_steps(
    target: ClusterTarget,
    *,
    rename: Step | None = None,
    policy: str | None = None,
    customization: dict | None = None,
    ip_restrictions: list[str] | None = None,
    oidc: Step | None = None,
    upgrades: list[str] | tuple[str, ...] = (),
    network: list[Step] | tuple[Step, ...] = (),
) -> list[Step]:
    """An update's steps, in an order that cannot fail half-way for a reason known in advance: an updatePolicy that
    leaves NEVER_UPDATE first (the API refuses upgrades under it), one that enters it last; the network's in-place
    changes (reconciler.plan.network) next; the upgrades after every other change. A rename goes first: its body
    carries the update policy as read, which is still the cluster's then."""
    steps = [rename] if rename is not None else []
    if policy is not None and policy != NEVER_UPDATE:
        steps.append(policy_step(target, policy))
    steps += network
    if customization:
        steps.append(customization_step(target, customization))
    if ip_restrictions is not None:
        steps.append(ip_restrictions_step(target, ip_restrictions))
    if oidc is not None:
        steps.append(oidc)
    steps += [upgrade_step(target, strategy) for strategy in upgrades]
    if policy == NEVER_UPDATE:
        steps.append(policy_step(target, policy))
    return steps


def follow_up_steps(target: ClusterTarget, ranges: Iterable[str] | None, oidc: dict | None) -> list[Step]:
    """What a create or a reset sends once it is over: the IP restrictions and OIDC neither body can carry."""
    steps = []
    if ranges:
        steps.append(ip_restrictions_step(target, ranges))
    if oidc:
        steps.append(oidc_step(target, oidc, exists=False))
    return steps


def create_steps(target: ClusterTarget, body: dict, ranges: Iterable[str] | None, oidc: dict | None) -> list[Step]:
    """The create, then what it cannot carry, sent once the new cluster is READY (as Terraform's separate
    ovh_cloud_project_kube_iprestrictions / _oidc resources are); the new cluster's id is put in by apply."""
    return [Step(StepKind.CREATE, target, body), *follow_up_steps(target, ranges, oidc)]


def reset_steps(target: ClusterTarget, body: dict, ranges: Iterable[str] | None, oidc: dict | None) -> list[Step]:
    """The reset, then what it wipes and no reset field carries, put back."""
    return [Step(StepKind.RESET, target, body), *follow_up_steps(target, ranges, oidc)]


def create_body(
    name: str,
    region: str | None,
    version: str | None,
    mode: str | None,
    policy: str | None,
    customization: dict,
    network: Iterable[tuple[str, Any]] = (),
    pools: Iterable[dict] = (),
) -> dict:
    """The create's body. `network`: (diff path, value) of each network setting written; `pools`: the creation body
    of each node pool made with the cluster."""
    body: dict = {"name": name, "region": region}
    if version:
        body["version"] = version
    if mode:
        body["kubeProxyMode"] = mode
    if policy:
        body["updatePolicy"] = policy  # a field of the creation body too
    if customization:
        body["customization"] = customization
    body.update(body_fields(dict(network)))
    pools = list(pools)
    if pools:
        body["nodepools"] = pools
    return body


def upgrade_strategies(live_version: str | None, wanted_version: str | None, latest_patch_due: bool) -> list[str]:
    """One NEXT_MINOR step per minor within the major version (apply waits READY between them); else the latest
    patch where it is due; [] across major versions or without a version to go to."""
    have, want = minor_of(live_version), minor_of(wanted_version)
    if have is not None and want is not None and want[0] == have[0] and want[1] > have[1]:
        return [NEXT_MINOR] * (want[1] - have[1])
    return [LATEST_PATCH] if latest_patch_due else []


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
        shown.append(f"spec.{part}: {quoted(value, ascii=True)}")
    if without_userinfo_in(values) != values:
        shown.append("a URL's user:password@ is left out here (the files refuse one)")
    return "; ".join(shown)


def parts_depended_on(action: Action, steps: list[Step]) -> tuple[str, ...]:
    """The separate GETs a plan entry's steps depend on: they join its live fingerprint. A reset puts back what was
    read; the OIDC step (create, update or delete) depends on whether OIDC exists."""
    written = {PART_OF_KIND.get(step.kind) for step in steps}
    return tuple(part for part in (IP_RESTRICTIONS, OPENID_CONNECT) if action is Action.RESET or part in written)


def plan_settings(desired: DesiredCluster, live: LiveCluster) -> ControlPlane:
    """updatePolicy, IP restrictions, OIDC and upgrades of a cluster that is not reset."""
    plan = ControlPlane()
    live_policy = live.cluster.get("updatePolicy")
    policy = desired.update_policy
    if policy is not None and policy != live_policy:
        plan.diff.append(FieldChange("updatePolicy", live_policy, policy))
        plan.policy = policy
    wanted = desired.ip_restrictions
    if wanted is not None and cidr_set(wanted) != cidr_set(live.ip_restrictions or []):
        plan.diff.append(FieldChange(IP_RESTRICTIONS, live.ip_restrictions or None, list(wanted)))
        plan.ip_restrictions = list(wanted)
    plan.oidc = _openid_connect(desired, live, plan.diff)
    _upgrades(desired, live, plan)
    return plan


def _openid_connect(desired: DesiredCluster, live: LiveCluster, diff: list[FieldChange]) -> Step | None:
    wanted, actual = desired.openid_connect, live.openid_connect or {}
    if wanted is None or oidc_comparable(wanted) == oidc_comparable(actual):
        return None
    target = ClusterTarget(desired.project, live.cluster.get("id"))
    # The live side of the diff is shown in plans, saved in plan files and reported by drift: a password in a
    # URL read from the API is left out of it (the files refuse one).
    shown = without_userinfo_in(actual)
    if not wanted:
        diff.append(FieldChange(OPENID_CONNECT, shown, None))
    elif not actual:
        diff.append(FieldChange(OPENID_CONNECT, None, wanted))
    else:
        before, after = oidc_comparable(actual), oidc_comparable(wanted)
        for name in sorted(before.keys() | after.keys()):
            if before.get(name) != after.get(name):
                diff.append(FieldChange(f"{OPENID_CONNECT}.{name}", shown.get(name), wanted.get(name)))
    return oidc_step(target, wanted, exists=bool(actual))


def version_ahead(desired: DesiredCluster, live: LiveCluster) -> list[FieldChange]:
    """spec.version is a floor: a live minor above it (OVHcloud upgrades an end-of-life minor on its own) is kept,
    never an error nor a downgrade; it is noted, so that the file can be brought up to date."""
    have, want = minor_of(str(live.cluster.get("version") or "")), minor_of(desired.version)
    if have is None or want is None or want >= have:
        return []
    return [FieldChange("version", live.cluster.get("version"), desired.version)]


def _upgrades(desired: DesiredCluster, live: LiveCluster, plan: ControlPlane) -> None:
    cluster = live.cluster
    live_version = str(cluster.get("version") or "")
    have, want = minor_of(live_version), minor_of(desired.version)
    if version_ahead(desired, live):
        want = None  # the floor is met; a patch upgrade may still be asked for
    if have is None or (want is None and not desired.lifecycle.latest_patch):
        return
    where = f"{desired.source_of('version').source}: spec.version"
    if want is not None and want[0] != have[0]:
        message = f"{where} {desired.version}: ovhkube upgrades one minor at a time within a major version"
        plan.error = (ErrorReason.UPGRADE_NOT_ALLOWED, message)
        return
    latest_patch_due = desired.lifecycle.latest_patch and cluster.get("isUpToDate") is False
    plan.upgrades = upgrade_strategies(live_version, desired.version, latest_patch_due)
    if not plan.upgrades:
        return
    steps = len(plan.upgrades) if plan.upgrades[0] == NEXT_MINOR else 0
    refusal = upgrade_refusal(have, want, cluster.get("nextUpgradeVersions")) if steps and want else None
    if refusal:  # before any step is made: an upgrade that cannot end where the file says is not started
        plan.upgrades = []
        plan.error = (ErrorReason.VERSION_NOT_OFFERED, f"{where} {desired.version}: {refusal}")
        return
    if steps:
        plan.diff.append(FieldChange("version", live_version, desired.version))
    else:
        plan.diff.append(FieldChange("isUpToDate", False, True))
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
    offered_minors = {minor_of(version) for version in offered or ()}
    known = {minor_of(version) for version in KUBERNETES_VERSIONS}
    first = (have[0], have[1] + 1)
    listed = f"{', '.join(offered)} next" if offered else "no upgrade now"
    described = f"the versions OVHcloud's API describes are {KUBERNETES_VERSIONS[0]} to {KUBERNETES_VERSIONS[-1]}"
    if offered is not None and first not in offered_minors:
        return f"the cluster does not offer {first[0]}.{first[1]}: it offers {listed} (nextUpgradeVersions)"
    if want not in offered_minors and want not in known:
        return f"not a version OVHcloud offers: the cluster offers {listed}, and {described}"
    return None


def upgrade_notice(steps: list[Step]) -> str | None:
    """The loud line of a plan that upgrades; None when it does not."""
    upgrades = [step for step in steps if step.kind is StepKind.UPGRADE]
    if not upgrades:
        return None
    strategy = "minor" if (upgrades[0].body or {}).get("strategy") == NEXT_MINOR else "patch"
    many = len(upgrades) > 1
    count = f"{len(upgrades)} {strategy} upgrade(s), one after the other" if many else f"one {strategy} upgrade"
    return f"UPGRADE: {count}; every node is drained and replaced, one at a time; this cannot be undone"


def control_plane_spec(step: Step) -> dict | None:
    """A control-plane step's body as the spec fields `validate` checks; None for a step of another kind."""
    body = step.body or {}
    if step.kind is StepKind.UPDATE_POLICY:
        return {"updatePolicy": body.get("updatePolicy")}
    if step.kind is StepKind.RENAME:
        return {"updatePolicy": body["updatePolicy"]} if "updatePolicy" in body else {}
    if step.kind is StepKind.IP_RESTRICTIONS:
        return {"ipRestrictions": body.get("ips")}
    if step.kind in (StepKind.OIDC_CREATE, StepKind.OIDC_UPDATE):
        return {"openIdConnect": body}
    network = network_spec(step)
    if network is not None:
        return network
    if step.kind in (StepKind.OIDC_DELETE, StepKind.UPGRADE, StepKind.DELETE):
        return {}  # made whole from the diff: nothing of the stored body is taken
    return None
