"""Choose one action per cluster and the exact steps that carry it out (reconciler.steps: kind, target, body).

noop: nothing differs. update: PUT the managed blocks that differ, each whole, and every other block as read (the
API replaces a block it is sent; whether it keeps one left out is not settled, so none is left out). reset:
kubeProxyMode differs and lifecycle.allowReset is true; the reset body carries everything the cluster must keep,
because the API resets whatever it is not given. create: absent; the POST, then the IP restrictions and OIDC it
cannot carry, on the new cluster (apply puts in its id).
error: could not be read, or not allowed; the reason says which setting would allow it.

Standard-plan clusters (`plan: standard`) run Cilium in place of kube-proxy (OVHcloud's customizing-cilium guide):
their kubeProxyMode and kube-proxy settings have no effect, so a mode change there is an error whatever
allowReset says (a reset would erase all Kubernetes data for nothing), and a managed kubeProxy block gets a warning
(it is still enforced: harmless, and the file says so).
"""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler import clock
from reconciler.escape import quoted
from reconciler.live.read import ClusterObject, LiveCluster, LiveResult, LiveView
from reconciler.model import (
    IP_RESTRICTIONS,
    KEPT_ON_RESET,
    OPENID_CONNECT,
    PASSING_STATUSES,
    ClusterRef,
    DesiredCluster,
    ErrorReason,
)
from reconciler.plan.control_plane import (
    as_spec_fields,
    create_body,
    create_steps,
    delete_step,
    parts_needed,
    plan_settings,
    rename_step,
    reset_steps,
    update_steps,
    version_ahead,
    wiped_unmanaged,
)
from reconciler.plan.data import Action, Change, Plan
from reconciler.plan.diff import FieldChange, changed_blocks, diff_customization
from reconciler.plan.fingerprint import fingerprint
from reconciler.plan.groups import is_disruptive
from reconciler.plan.network import (
    RESET_PATHS,
    creation_problem,
    live_value,
    network_steps,
    plan_network,
    reset_fields,
    same,
    written_fields,
)
from reconciler.plan.node_pools import creation_body, plan_pools, pool_notices, pool_steps, pools_across_reset
from reconciler.plan.normalize import KUBE_PROXY_DEFAULTS
from reconciler.plan.staleness import entry_fingerprint, rests_on
from reconciler.steps import POOL_KINDS, ClusterTarget, Step
from reconciler.versions import minor_of
from reconciler.windows import utc_text

IPVS_DEPRECATED_FROM = (1, 35)
STANDARD_PLAN = "standard"  # the cluster object's `plan`: free | standard (Standard runs Cilium, no kube-proxy)
UPGRADE_PATHS = ("version", "isUpToDate")  # a reset installs spec.version itself: no upgrade follows it


def make_plan(
    desired: list[DesiredCluster], live: LiveView, endpoint: str, planned: dict[tuple[str, str], Change] | None = None
) -> Plan:
    """One change per cluster; `planned`: those plan_cluster already made from these very results."""
    planned = planned or {}
    changes = [planned.get(c.key) or plan_cluster(c, live.results[c.key]) for c in desired]
    rollout = next((c.rollout for c in desired if c.rollout), None)  # the one Rollout of the files, if any
    return Plan(changes=changes, endpoint=endpoint, rollout=rollout)


def parts_to_read(desired: DesiredCluster, result: LiveResult) -> tuple[str, ...]:
    """The separate GETs (IP restrictions, OIDC) this cluster's plan needs, given its cluster object."""
    if result.found is None:
        return ()
    return parts_needed(desired, resetting=_resets(desired, result.found.cluster))


def _resets(desired: DesiredCluster, cluster: ClusterObject) -> bool:
    mode = desired.kube_proxy_mode
    mode_changes = mode is not None and mode != cluster.get("kubeProxyMode")
    return (mode_changes or _network_resets(desired, cluster)) and desired.lifecycle.allow_reset


def _network_resets(desired: DesiredCluster, cluster: ClusterObject) -> bool:
    """A network setting only a reset changes differs (privateNetwork.id, nodesSubnetId, ipAllocationPolicy)."""
    return any(
        path.startswith(RESET_PATHS) and not same(path, wanted, live_value(dict(cluster), path))
        for path, wanted in written_fields(desired)
    )


def desired_ref(cluster: DesiredCluster) -> ClusterRef:
    return ClusterRef(cluster.project, cluster.name, cluster.id, cluster.region, cluster.renamed_from)


def plan_cluster(desired: DesiredCluster, result: LiveResult, now: datetime | None = None) -> Change:
    """The change, each changed field with the file and line that wrote its desired value; a disruptive one with
    the cluster's maintenance window, deferred when planned outside it (`now`: the clock's, unless told)."""
    change = _plan_cluster(desired, result)
    diff = [_with_source(field_change, desired) for field_change in change.diff]
    ahead = version_ahead(desired, result.found) if result.found and not result.error else []
    ahead = [_with_source(field_change, desired) for field_change in ahead]
    change = change.with_fields(
        diff=diff,
        defaults=list(desired.defaults),
        ahead=ahead,
        wave=desired.wave,
        labels=dict(desired.labels),
        ip_restrictions=desired.ip_restrictions,
    )
    window = desired.lifecycle.maintenance_window
    if window is None or not is_disruptive(change):
        return change
    at = now or clock.now()
    deferred = None if window.is_open(at) else utc_text(window.next_opening(at))
    return change.with_fields(maintenance_window=window, deferred_until=deferred)


# Diff paths written elsewhere than under spec: a rename by metadata.name, a delete by spec.delete.
_WRITTEN_BY = {"name": "metadata.name", "cluster": "delete"}


def _with_source(field_change: FieldChange, desired: DesiredCluster) -> FieldChange:
    written = desired.source_of(_WRITTEN_BY.get(field_change.path, field_change.path))
    # Built, not dataclasses.replace: this runs for every changed field of a fleet, and replace is several times slower.
    return FieldChange(field_change.path, field_change.before, field_change.after, written.source, written.defaults)


# The read errors that a line of the file causes, and the field to edit: a spec.id that names no cluster, or
# another one; a name that several clusters bear (pin spec.id beside it).
_WRITTEN_AT = {
    ErrorReason.ID_NOT_FOUND: "id",
    ErrorReason.ID_NAME_MISMATCH: "id",
    ErrorReason.NAME_TAKEN_TWICE: "metadata.name",
}


def _at(desired: DesiredCluster, path: str, message: str) -> str:
    """The message after FILE:LINE of the field it is about (a ClusterDefaults' line where the value came from one),
    as a file problem reads: the place to edit, in every format."""
    return f"{desired.source_of(path).source}: {message}"


def _plan_cluster(desired: DesiredCluster, result: LiveResult) -> Change:
    if desired.delete and (result.reason is ErrorReason.ID_NOT_FOUND or (result.found is None and not result.error)):
        return _nothing_to_delete(desired)
    if result.error:
        reason = result.reason or ErrorReason.READ_FAILED
        written = _WRITTEN_AT.get(reason)
        message = _at(desired, written, result.error) if written else result.error
        return _error(desired, desired_ref(desired), reason, message, None)
    if result.found is None:
        return _plan_create(desired, result.region_flavors)
    if desired.delete:
        return _plan_delete(desired, result.found)
    return _plan_existing(desired, result.found)


DELETE_WARNING = "THE CLUSTER WILL BE DELETED"


def _plan_delete(desired: DesiredCluster, live: LiveCluster) -> Change:
    """spec.delete: true, and the cluster exists: DELETE it, where lifecycle.allowDelete says so. Only a document
    that says so deletes a cluster: one whose file disappeared is simply no longer planned."""
    cluster = live.cluster
    ref = ClusterRef(
        desired.project, str(cluster.get("name") or desired.name), cluster.get("id"), cluster.get("region")
    )
    shown = {key: cluster.get(key) for key in ("id", "name", "region", "version", "status")}
    diff = [FieldChange("cluster", shown, None)]
    warnings = []
    if live.status == "DELETING":
        warnings.append("the cluster is DELETING already: apply sends nothing and waits until it is gone")
    if not desired.lifecycle.allow_delete:
        message = _at(
            desired,
            "delete",
            "spec.delete: true deletes the cluster, its nodes and ALL KUBERNETES DATA, for good; set "
            "spec.lifecycle.allowDelete: true to allow it",
        )
        return _error(desired, ref, ErrorReason.DELETE_NOT_ALLOWED, message, live, diff, warnings)
    steps = [delete_step(ClusterTarget.of(ref))]
    rests = rests_on(Action.DELETE, steps)
    return Change(
        cluster=ref,
        action=Action.DELETE,
        source=desired.source,
        diff=diff,
        steps=steps,
        live_fingerprint=entry_fingerprint(desired.project, ref.name, only_parts(live, ()), rests),
        warnings=warnings,
        status=live.status,
    )


def _nothing_to_delete(desired: DesiredCluster) -> Change:
    """spec.delete: true, and no such cluster (any more): the file's wish holds; nothing is sent."""
    return Change(
        cluster=desired_ref(desired),
        action=Action.NOOP,
        source=desired.source,
        live_fingerprint=fingerprint(desired.project, desired.name, None),
        warnings=[
            f"{desired.source_of('delete').source}: spec.delete: true and the cluster does not exist: the "
            f"document can be removed"
        ],
    )


def _error(
    desired: DesiredCluster,
    ref: ClusterRef,
    reason: ErrorReason,
    message: str,
    live: LiveCluster | None,
    diff: Iterable[FieldChange] = (),
    warnings: Iterable[str] = (),
) -> Change:
    return Change(
        cluster=ref,
        action=Action.ERROR,
        reason=reason,
        source=desired.source,
        diff=list(diff),
        warnings=list(warnings),
        error=message,
        status=live.status if live else None,
        # An error entry sends nothing: its fingerprint only tells, after an apply, whether the cluster moved since.
        live_fingerprint=fingerprint(desired.project, desired.name, only_parts(live, ())) if live else None,
    )


def _plan_create(desired: DesiredCluster, flavors: frozenset[str] | None = None) -> Change:
    ref = desired_ref(desired)
    if desired.id:
        message = _at(desired, "id", f"spec.id {desired.id} names no cluster of project {desired.project}")
        return _error(desired, ref, ErrorReason.ID_NOT_FOUND, message, None)
    if not desired.region:
        message = "the cluster does not exist and spec.region is required to create it"
        return _error(desired, ref, ErrorReason.REGION_REQUIRED, message, None)
    problem = creation_problem(desired)
    if problem:
        path, message = problem
        return _error(desired, ref, ErrorReason.NETWORK_INVALID, _at(desired, path, message), None)
    pools = [pool for pool in desired.node_pools if not pool.delete]
    nameless = [pool.name for pool in pools if "flavorName" not in pool.fields]
    if nameless:
        message = _at(
            desired,
            f"nodePools.{nameless[0]}",
            f"node pool {quoted(nameless[0])} has no flavorName: a new cluster's pools are created with it",
        )
        return _error(desired, ref, ErrorReason.POOL_INVALID, message, None)
    # Checked against the flavors of the cluster's region (read where a new cluster has pools): a typo is an error
    # here, not a create refused halfway through an apply.
    unknown = [pool for pool in pools if flavors is not None and pool.fields["flavorName"] not in flavors]
    if unknown:
        flavor = unknown[0].fields["flavorName"]
        more = f" (and {len(unknown) - 1} more pool problem(s))" if len(unknown) > 1 else ""
        message = _at(
            desired,
            f"nodePools.{unknown[0].name}.flavorName",
            f"nodePools.{unknown[0].name}.flavorName: {quoted(flavor)} is not a flavor offered in region "
            f"{desired.region}{more}",
        )
        return _error(desired, ref, ErrorReason.POOL_INVALID, message, None)
    customization = {block: prune(value) for block, value in desired.customization.items()}
    network = written_fields(desired)
    body = create_body(
        desired.name,
        desired.region,
        desired.version,
        desired.kube_proxy_mode,
        desired.update_policy,
        customization,
        network,
        [creation_body(pool.name, pool.fields) for pool in pools],  # created with the cluster, in its body
    )
    diff = [FieldChange(path, None, value) for path, value in _create_fields(body)]
    diff += [FieldChange(path, None, value) for path, value in network]
    warnings = _mode_warnings(desired.kube_proxy_mode, desired.version, desired.customization)
    if desired.ip_restrictions:
        diff.append(FieldChange(IP_RESTRICTIONS, None, list(desired.ip_restrictions)))
    if desired.openid_connect:
        diff.append(FieldChange(OPENID_CONNECT, None, desired.openid_connect))
    diff += [FieldChange(f"nodePools.{pool['name']}", None, pool) for pool in body.get("nodepools", [])]
    if desired.renamed_from:
        warnings.append(
            f"no cluster of the project is named {quoted(desired.name)} or {quoted(desired.renamed_from)} "
            f"(metadata.renamedFrom): a new cluster is created"
        )
    if desired.plan == STANDARD_PLAN:  # Cilium replaces kube-proxy: its mode and settings have no effect there
        warnings += _standard_plan_warnings(desired)
    elif not desired.kube_proxy_mode:
        warnings.insert(
            0,
            "kubeProxyMode is not set: the API picks the mode (iptables per the guide, but clusters "
            "have been reported created as ipvs); set spec.kubeProxyMode to be sure",
        )
    return Change(
        cluster=ref,
        action=Action.CREATE,
        source=desired.source,
        diff=diff,
        steps=create_steps(ClusterTarget.of(ref), body, desired.ip_restrictions, desired.openid_connect),
        live_fingerprint=fingerprint(desired.project, desired.name, None),
        warnings=warnings,
    )


def _create_fields(body: dict) -> Iterator[tuple[str, Any]]:
    for key in ("region", "version", "kubeProxyMode", "updatePolicy"):
        if key in body:
            yield key, body[key]
    for block, value in body.get("customization", {}).items():
        yield f"customization.{block}", value


def _plan_existing(desired: DesiredCluster, live: LiveCluster) -> Change:
    cluster = live.cluster
    renames = cluster.get("name") != desired.name  # found by metadata.renamedFrom (live/read.py)
    former = cluster.get("name") if renames else None
    ref = ClusterRef(desired.project, desired.name, cluster.get("id"), cluster.get("region"), former)
    live_mode = cluster.get("kubeProxyMode")
    diff = diff_customization(desired.customization, live.customization, desired.customization.keys())
    if renames:
        diff.insert(0, FieldChange("name", former, desired.name))
    mode_changes = desired.kube_proxy_mode is not None and desired.kube_proxy_mode != live_mode
    if mode_changes:
        diff.insert(0, FieldChange("kubeProxyMode", live_mode, desired.kube_proxy_mode))
    mode = desired.kube_proxy_mode or live_mode
    version = desired.version if mode_changes and desired.version else cluster.get("version", "")
    standard = cluster.get("plan") == STANDARD_PLAN
    warnings = _status_warnings(live)
    if desired.renamed_from and not renames:
        warnings.append(
            f"the cluster is named {quoted(desired.name)} already: metadata.renamedFrom "
            f"({quoted(desired.renamed_from)}) can be removed"
        )
    if standard:
        warnings += _standard_plan_warnings(desired)
    else:
        warnings += _mode_warnings(mode, version, desired.customization) + _removed_field_warnings(diff, mode)

    if desired.region and desired.region != cluster.get("region"):
        live_region = cluster.get("region")
        where = f"the cluster is in {quoted(live_region)}" if live_region else "the API gives no region for the cluster"
        message = _at(desired, "region", f"spec.region is {desired.region} but {where}: a region never changes")
        return _error(desired, ref, ErrorReason.REGION_MISMATCH, message, live, diff, warnings)
    network = plan_network(desired, live)
    diff += network.diff
    warnings += network.warnings
    if network.error:
        reason, path, message = network.error
        return _error(desired, ref, reason, _at(desired, path, message), live, diff, warnings)
    if mode_changes and standard:
        message = _at(
            desired,
            "kubeProxyMode",
            f"kubeProxyMode {live_mode} -> {desired.kube_proxy_mode} on a Standard-plan cluster: Cilium replaces "
            f"kube-proxy there, so the mode has no effect, and the reset it needs would ERASE ALL KUBERNETES DATA for "
            f"nothing; remove spec.kubeProxyMode (allowReset does not change this)",
        )
        return _error(desired, ref, ErrorReason.MODE_WITHOUT_EFFECT, message, live, diff, warnings)
    if mode_changes or network.resets:
        why = _reset_cause(diff, live_mode, desired.kube_proxy_mode)
        if not desired.lifecycle.allow_reset:
            message = (
                f"{why} needs a reset, which ERASES ALL KUBERNETES DATA; set spec.lifecycle.allowReset: true to "
                f"allow it"
            )
            return _error(desired, ref, ErrorReason.RESET_NOT_ALLOWED, message, live, diff, warnings)
        if live.ip_restrictions is None or live.openid_connect is None:  # read_fleet reads them for a reset
            message = "the IP restrictions and OIDC to keep across the reset were not read; nothing is planned"
            return _error(desired, ref, ErrorReason.READ_FAILED, message, live, diff, warnings)
        lost = wiped_unmanaged(desired, live)
        if lost:
            message = _loses(desired, why, lost)
            return _error(desired, ref, ErrorReason.RESET_WOULD_LOSE, message, live, diff, warnings)
        # The reset body carries the policy; the IP restrictions and OIDC are put back after it.
        diff += [c for c in plan_settings(desired, live).diff if c.path not in UPGRADE_PATHS]
        steps = reset_steps(ClusterTarget.of(ref), reset_body(desired, live), *restored_after_reset(desired))
        action = Action.RESET
        warnings = [w for w in warnings if w not in network.warnings]  # the reset makes them, nodes and all
        if desired.node_pools:
            warnings.append(pools_across_reset(desired.lifecycle.worker_nodes_policy, live.node_pools))
    else:
        settings = plan_settings(desired, live)
        diff += settings.diff
        warnings += settings.warnings
        if settings.error:
            reason, message = settings.error
            return _error(desired, ref, reason, message, live, diff, warnings)
        target = ClusterTarget.of(ref)
        blocks = changed_blocks(diff)
        steps = update_steps(
            target,
            rename=rename_step(target, desired.name, cluster.get("updatePolicy")) if renames else None,
            policy=settings.policy,
            customization=customization_body(desired, live, blocks) if blocks else None,
            ip_restrictions=settings.ip_restrictions,
            oidc=settings.oidc,
            upgrades=settings.upgrades,
            network=network_steps(target, network.subnet, network.configuration),
        )
        if desired.node_pools:
            pools = _plan_node_pools(desired, live)
            diff += pools.diff
            warnings += pools.warnings
            if pools.error:
                reason, message = pools.error
                return _error(desired, ref, reason, message, live, diff, warnings)
            steps += pool_steps(target, pools.changes)
        action = (Action.UPGRADE if settings.upgrades else Action.UPDATE) if steps else Action.NOOP
    if action is not Action.NOOP and live.status not in PASSING_STATUSES | {"READY"}:
        message = f"the cluster is {live.status}: it will not become READY by itself, so nothing can be applied to it"
        return _error(desired, ref, ErrorReason.NOT_READY, message, live, diff, warnings)
    rests = rests_on(action, steps)
    return Change(
        cluster=ref,
        action=action,
        source=desired.source,
        diff=diff,
        steps=steps,
        live_fingerprint=entry_fingerprint(desired.project, desired.name, only_parts(live, rests.parts, steps), rests),
        warnings=warnings,
        status=live.status,
    )


def only_parts(live: LiveCluster, parts: Iterable[str], steps: Iterable[Step] = ()) -> LiveCluster:
    """`live` keeping only the separately read parts in `parts`, and its node pools where `steps` change one: the
    fingerprint holds what the steps depend on."""
    return LiveCluster(
        live.cluster,
        live.customization,
        live.ip_restrictions if IP_RESTRICTIONS in parts else None,
        live.openid_connect if OPENID_CONNECT in parts else None,
        live.node_pools if any(step.kind in POOL_KINDS for step in steps) else None,
    )


@dataclass
class _PlannedPools:
    changes: tuple = ()
    diff: list[FieldChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: tuple[ErrorReason, str] | None = None


def _plan_node_pools(desired: DesiredCluster, live: LiveCluster) -> _PlannedPools:
    """The file's pools against the live ones (never the others): changes, warnings, or the first error."""
    if live.node_pools is None:  # read_fleet reads them for every cluster that declares pools
        return _PlannedPools(error=(ErrorReason.READ_FAILED, "the node pools were not read; nothing is planned"))
    planned = plan_pools(desired.node_pools, live.node_pools, desired.lifecycle, live.flavors)
    diff = [FieldChange(path, before, after) for change in planned.changes for path, before, after in change.diff]
    warnings = pool_notices(planned.changes, live.node_pools) + list(planned.warnings)
    problems = [(ErrorReason.POOL_INVALID, m) for m in planned.errors]
    problems += [(ErrorReason.POOL_NOT_ALLOWED, m) for m in planned.refused]
    error = None
    if problems:
        reason, message = problems[0]
        where = message.split(":", 1)[0]  # nodePools.NAME(.field): the line of the file to edit
        more = f" (and {len(problems) - 1} more pool problem(s))" if len(problems) > 1 else ""
        error = (reason, _at(desired, where, message + more))
    return _PlannedPools(planned.changes, diff, warnings, error)


def _reset_cause(diff: list[FieldChange], live_mode: str | None, mode: str | None) -> str:
    """What needs the reset, as the plan says it: the mode change, and the network settings only a reset changes."""
    causes = [f"kubeProxyMode {live_mode} -> {mode}"] if mode is not None and mode != live_mode else []
    causes += [f"{c.path} {c.before} -> {c.after}" for c in diff if c.path.startswith(RESET_PATHS)]
    return ", ".join(causes)


def _loses(desired: DesiredCluster, why: str, lost: dict[str, list | dict]) -> str:
    """A reset is planned only where the files hold what it wipes: whatever stops the apply between the reset and
    the put-back (a cancelled CI job, a killed runner), the next plan, on any machine, then sees them missing and
    puts them back from the files. Nothing else would remember them."""
    export = f"ovhkube export --project {desired.project} --cluster {quoted(desired.name)}"
    return (
        f"{why} needs a reset, which wipes the API server's "
        f"{' and '.join(lost)}; the file does not manage them, so an apply stopped between the reset and their "
        f"put-back (a cancelled job, a killed runner) would lose them for good: write them in the file first, then "
        f"plan again ({export} writes them): {as_spec_fields(lost)}"
    )


def restored_after_reset(desired: DesiredCluster) -> tuple[tuple[str, ...] | None, dict | None]:
    """What the reset wipes and no reset field carries: the IP restrictions and OIDC the file asks for, put back once
    the reset is over (a reset is planned only where the file manages those the cluster has: `_loses`)."""
    return desired.ip_restrictions, desired.openid_connect


def reset_body(desired: DesiredCluster, live: LiveCluster) -> dict:
    """Everything the cluster keeps across the reset: the reset puts back to default what it is not given."""
    cluster = live.cluster
    customization = customization_body(desired, live, desired.customization)
    body: dict[str, Any] = {
        "name": desired.name,  # the file's: a rename due (metadata.renamedFrom) is carried by the reset itself
        # Left out, a reset gives ipvs: a reset for the network keeps the mode.
        "kubeProxyMode": desired.kube_proxy_mode or cluster.get("kubeProxyMode"),
        "customization": customization,
    }
    # Left out, the reset keeps the current version (API description), even a minor its enum no longer lists; and
    # spec.version is a floor: a reset never installs a minor below the live one.
    if desired.version and not version_ahead(desired, live):
        body["version"] = desired.version
    body.update({key: cluster.get(key) for key in KEPT_ON_RESET if cluster.get(key) is not None})
    body.update(reset_fields(desired, dict(cluster)))
    if desired.update_policy:
        body["updatePolicy"] = desired.update_policy
    if desired.lifecycle.worker_nodes_policy:
        body["workerNodesPolicy"] = desired.lifecycle.worker_nodes_policy
    return body


def customization_body(desired: DesiredCluster, live: LiveCluster, blocks: Collection[str]) -> dict[str, Any]:
    """Every top-level customization block: those in `blocks` as the file writes them, the others as read. A reset
    resets what it is not given; whether a PUT keeps a block it is not given rests on one guide alone, so a PUT
    carries them all too: nothing is ever wiped, whichever way the API reads it."""
    written = set(blocks)
    # In the live order, each block pruned once: the file's where it writes it (a block only the file has comes last).
    body = {
        block: prune(desired.customization[block] if block in written else value)
        for block, value in (live.customization or {}).items()
        if value
    }
    body.update({block: prune(desired.customization[block]) for block in blocks if block not in body})
    return body


def prune(value: Any) -> Any:
    """A block as the API takes it: nulls left out (null means not set)."""
    if isinstance(value, dict):
        return {key: prune(child) for key, child in value.items() if child is not None}
    return value


def _status_warnings(live: LiveCluster) -> list[str]:
    if live.status == "READY" or live.status not in PASSING_STATUSES:
        return []
    return [f"the cluster is {live.status}, not READY: apply will wait for READY before changing it"]


def _mode_warnings(mode: str | None, version: str | None, customization: dict) -> list[str]:
    warnings = []
    if mode == "ipvs" and (minor_of(version) or (0, 0)) >= IPVS_DEPRECATED_FROM:
        warnings.append(
            f"IPVS mode is deprecated upstream from Kubernetes 1.35 (KEP-5495) and this cluster runs {version}"
        )
    inactive = {"iptables": "ipvs", "ipvs": "iptables"}.get(mode or "")
    if inactive and prune((customization.get("kubeProxy") or {}).get(inactive)):
        warnings.append(f"kubeProxy.{inactive} settings are kept but unused: kube-proxy runs in {mode} mode")
    return warnings


def _standard_plan_warnings(desired: DesiredCluster) -> list[str]:
    if "kubeProxy" not in desired.customization:
        return []
    return [
        "customization.kubeProxy has no effect on a Standard-plan cluster (Cilium replaces kube-proxy): "
        "it is kept in the API, but nothing runs it; remove the block"
    ]


def _removed_field_warnings(diff: list[FieldChange], mode: str | None) -> list[str]:
    """A field removed from the block of the mode kube-proxy runs in: say which default takes its place."""
    warnings = []
    for change in diff:
        field = change.path.removeprefix("customization.")
        if change.after is None and field in KUBE_PROXY_DEFAULTS and field.startswith(f"kubeProxy.{mode}."):
            default = KUBE_PROXY_DEFAULTS[field]
            warnings.append(f"{change.path} is removed: kube-proxy falls back to its default ({default})")
    return warnings
