"""The node pools of one cluster, desired x live -> what must change, compared by meaning.

A pure function of the file's pools, the cluster's live pools (as the listing answers them), its lifecycle and the
flavors it offers. Only the pools the file declares are looked at; a live pool it does not declare is never touched.

- A pool absent live is created (its file must give flavorName; the flavor must be one the cluster offers).
- A pool present live gets one update, carrying only the fields that differ by meaning. A template is sent whole
  (the API requires every part of it): the live template with the managed parts replaced.
- With autoscale on (written, or live where the file does not manage it), desiredNodes belongs to the autoscaler:
  not compared unless pinned (then a warning).
- A field fixed at creation (flavorName, antiAffinity, availabilityZones, monthlyBilled) that differs replaces the
  pool: a new pool (named after the old one, `NAME-rN`), then the old one deleted; only with
  lifecycle.allowPoolReplace, else an error for the cluster.
- `delete: true` deletes the live pool, only with lifecycle.allowPoolDelete, else an error.
A pool `NAME` stands for its generations live: the pool named NAME and the replacements `NAME-rN` ovhkube made of
it, the newest being the pool. An older one still live is what a replacement stopped before its end left: its delete
is planned (with lifecycle.allowPoolReplace), never a third pool.
"""

import copy
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.live.read import PoolObject
from reconciler.model import POOL_AUTOSCALING_FIELDS, DesiredPool, Lifecycle
from reconciler.steps import ClusterTarget, PoolTarget, Step, StepKind

EMPTY_TEMPLATE: dict[str, Any] = {
    "metadata": {"annotations": {}, "finalizers": [], "labels": {}},
    "spec": {"taints": [], "unschedulable": False},
}
_TEMPLATE_PARTS = (("metadata", "labels"), ("metadata", "annotations"), ("metadata", "finalizers"))
_SPEC_PARTS = (("spec", "taints"), ("spec", "unschedulable"))


POOL_NOTICE = "NODE POOL"  # how a replacement's or deletion's notice starts: shown as loud as a reset


class PoolChangeKind(StrEnum):
    CREATE = "pool_create"
    UPDATE = "pool_update"
    DELETE = "pool_delete"
    REPLACE = "pool_replace"  # create the new pool, wait for its nodes, then delete the old one
    FINISH = "pool_finish_replace"  # an earlier replacement's old pool, still live: deleted once the new one is READY


@dataclass(frozen=True)
class PoolChange:
    kind: PoolChangeKind
    name: str  # the pool's name in the file
    pool_id: str | None = None  # the live pool changed or deleted (replace: the old one)
    body: dict | None = None  # create (and replace): the creation body; update: the PUT body
    diff: tuple[tuple[str, Any, Any], ...] = ()  # (path below nodePools, before, after)
    replacement: str | None = None  # FINISH: the live pool that replaced the one deleted


@dataclass(frozen=True)
class PoolPlan:
    changes: tuple[PoolChange, ...] = ()
    errors: tuple[str, ...] = ()  # what can never be applied as written (an unknown flavor, a pool without one)
    warnings: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # a replacement or deletion its lifecycle permission does not allow


@dataclass
class _Found:
    changes: list[PoolChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def generations(
    name: str, live: list[PoolObject], declared: frozenset[str] = frozenset()
) -> list[tuple[int, PoolObject]]:
    """The live pools that stand for the file's pool `name`, oldest first: its namesake (0), then each replacement
    `NAME-rN` ovhkube made of it (N). A pool the files declare under its own name is its own, never a replacement."""
    # At most 18 digits: a live name of thousands (int() refuses 4,300) is some other pool, not a generation.
    pattern = re.compile(re.escape(name) + r"-r([0-9]{1,18})")
    found = []
    for pool in live:
        pool_name = str(pool.get("name"))
        if pool_name == name:
            found.append((0, pool))
        elif (m := pattern.fullmatch(pool_name)) and pool_name not in declared:
            found.append((int(m.group(1)), pool))
    return sorted(found, key=lambda item: item[0])


def matching_pool(name: str, live: list[PoolObject], declared: frozenset[str] = frozenset()) -> PoolObject | None:
    """The live pool a file's pool `name` stands for: its newest generation. A replacement stopped before the old
    pool was deleted leaves both live: the new one is the pool, the old one what is left to delete."""
    found = generations(name, live, declared)
    return found[-1][1] if found else None


def replacement_name(name: str, live: list[PoolObject], declared: frozenset[str] = frozenset()) -> str:
    """`NAME-rN`, N one above the newest generation of NAME live (names are unique in a cluster)."""
    found = generations(name, live, declared)
    return f"{name}-r{(found[-1][0] if found else 0) + 1}"


# --- comparison by meaning --------------------------------------------------------------------------------


def _taints(value: object) -> frozenset:
    return frozenset(
        (taint.get("key"), taint.get("value") or "", taint.get("effect"))
        for taint in (value if isinstance(value, list) else [])
        if isinstance(taint, dict)
    )


def _template_part(template: object, part: tuple[str, str]) -> object:
    section = (template if isinstance(template, dict) else {}).get(part[0])
    return (section if isinstance(section, dict) else {}).get(part[1])


def _meaning(part: tuple[str, str], value: object) -> object:
    """A template part as what it means: lists as sets, taint values "" where left out, null as empty."""
    if part == ("spec", "taints"):
        return _taints(value)
    if part == ("metadata", "finalizers"):
        return frozenset(value if isinstance(value, list) else [])
    if part == ("spec", "unschedulable"):
        return bool(value)
    return dict(value) if isinstance(value, dict) else {}


def _sent_part(part: tuple[str, str], value: object) -> object:
    if part == ("spec", "taints") and isinstance(value, list):
        return [{"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]} for t in value]
    return copy.deepcopy(value)


def whole_template(live: object, desired: dict) -> dict:
    """The template to send: the live one (or the empty one), the parts the file writes replaced."""
    template = copy.deepcopy(EMPTY_TEMPLATE)
    for part in _TEMPLATE_PARTS + _SPEC_PARTS:
        value = _template_part(live, part)
        if value is not None:
            template[part[0]][part[1]] = _sent_part(part, value)
        written = _template_part(desired, part)
        if written is not None:
            template[part[0]][part[1]] = _sent_part(part, written)
    return template


def _live_scalar(pool: PoolObject, name: str) -> object:
    if name == "flavorName":
        return pool.get("flavor")
    if name in ("antiAffinity", "monthlyBilled", "autoscale"):
        return bool(pool.get(name))
    if name == "availabilityZones":
        return list(pool.get("availabilityZones") or [])
    if name == "attachFloatingIps":
        return {"enabled": bool((pool.get("attachFloatingIps") or {}).get("enabled"))}
    return pool.get(name)


def _written_scalar(desired: dict, name: str) -> object:
    value = desired[name]
    if name == "availabilityZones":
        return list(value)
    if name == "attachFloatingIps":
        return {"enabled": bool(value.get("enabled"))}
    return value


# --- the plan ---------------------------------------------------------------------------------------------

CREATE_ONLY = ("flavorName", "antiAffinity", "availabilityZones", "monthlyBilled")
IN_PLACE_SCALARS = ("minNodes", "maxNodes", "autoscale", "attachFloatingIps")


def creation_body(name: str, desired: dict) -> dict:
    body: dict[str, Any] = {"name": name}
    for key, value in desired.items():
        body[key] = whole_template(None, value) if key == "template" else copy.deepcopy(value)
    return body


def plan_pools(
    desired: tuple[DesiredPool, ...], live: list[PoolObject], lifecycle: Lifecycle, flavors: frozenset[str] | None
) -> PoolPlan:
    """What the file's pools change in this cluster; `flavors`: the cluster's (None: not read)."""
    found = _Found()
    declared = frozenset(pool.name for pool in desired)
    for pool in desired:
        family = [member for _, member in generations(pool.name, live, declared)]
        if pool.delete:
            for member in reversed(family):  # the newest first: an older one never waits for a newer one going
                _plan_delete(pool, member, lifecycle, found)
        elif not family:
            _plan_create(pool, flavors, found)
        else:
            current = family[-1]
            _plan_existing(pool, current, live, lifecycle, flavors, found, declared)
            older = [member for member in family[:-1] if member.get("status") != "DELETING"]
            _plan_finish(pool, current, older, lifecycle, found)
    return PoolPlan(tuple(found.changes), tuple(found.errors), tuple(found.warnings), tuple(found.refused))


def _flavor_error(pool: DesiredPool, flavors: frozenset[str] | None) -> str | None:
    flavor = pool.fields.get("flavorName")
    if flavors is None or flavor is None or flavor in flavors:
        return None
    return f'nodePools.{pool.name}.flavorName: "{flavor}" is not a flavor this cluster offers'


def _plan_delete(pool: DesiredPool, current: PoolObject, lifecycle: Lifecycle, found: _Found) -> None:
    if current.get("status") == "DELETING":  # sent already (an apply stopped while waiting for it)
        return
    if not lifecycle.allow_pool_delete:
        if found.refused and found.refused[-1].startswith(f"nodePools.{pool.name}: delete"):
            return  # said once for all of its generations
        found.refused.append(
            f"nodePools.{pool.name}: delete: true deletes the pool and its nodes; "
            "it needs lifecycle.allowPoolDelete: true"
        )
        return
    diff = (("nodePools." + pool.name, current.get("name"), None),)
    found.changes.append(PoolChange(PoolChangeKind.DELETE, pool.name, current.get("id"), None, diff))


def _plan_create(pool: DesiredPool, flavors: frozenset[str] | None, found: _Found) -> None:
    if "flavorName" not in pool.fields:
        found.errors.append(f"nodePools.{pool.name}: no such pool live, and the file gives no flavorName to create it")
        return
    error = _flavor_error(pool, flavors)
    if error:
        found.errors.append(error)
        return
    body = creation_body(pool.name, pool.fields)
    found.changes.append(
        PoolChange(PoolChangeKind.CREATE, pool.name, None, body, (("nodePools." + pool.name, None, body),))
    )


def _plan_existing(
    pool: DesiredPool,
    current: PoolObject,
    live: list[PoolObject],
    lifecycle: Lifecycle,
    flavors: frozenset[str] | None,
    found: _Found,
    declared: frozenset[str],
) -> None:
    written = pool.fields
    prefix = f"nodePools.{pool.name}."
    fixed = [
        (prefix + name, _live_scalar(current, name), _written_scalar(written, name))
        for name in CREATE_ONLY
        if name in written and _live_scalar(current, name) != _written_scalar(written, name)
    ]
    body, diff = _in_place(pool, current, found)
    if fixed:
        _plan_replace(pool, current, live, lifecycle, flavors, tuple(fixed + diff), found, declared)
    elif body:
        found.changes.append(PoolChange(PoolChangeKind.UPDATE, pool.name, current.get("id"), body, tuple(diff)))


def _in_place(
    pool: DesiredPool, current: PoolObject, found: _Found
) -> tuple[dict[str, Any], list[tuple[str, Any, Any]]]:
    """What of the file's fields the API can change in place differs from live: the PUT body, and its diff."""
    written = pool.fields
    prefix = f"nodePools.{pool.name}."
    body: dict[str, Any] = {}
    diff: list[tuple[str, Any, Any]] = []
    autoscale = written.get("autoscale", bool(current.get("autoscale")))
    owns_desired = not autoscale or pool.pin_desired_nodes
    for name in ("desiredNodes", *IN_PLACE_SCALARS):
        if name not in written or (name == "desiredNodes" and not owns_desired):
            continue
        before, after = _live_scalar(current, name), _written_scalar(written, name)
        if before != after:
            body[name] = after
            diff.append((prefix + name, before, after))
    if autoscale and pool.pin_desired_nodes and "desiredNodes" in body:
        found.warnings.append(f"{prefix}desiredNodes is pinned while autoscale is on: this fights the autoscaler")
    tuning = written.get("autoscaling") or {}
    live_tuning = current.get("autoscaling") or {}
    moved = {
        key: tuning[key] for key in POOL_AUTOSCALING_FIELDS if key in tuning and tuning[key] != live_tuning.get(key)
    }
    if moved:
        body["autoscaling"] = {
            key: live_tuning.get(key) for key in POOL_AUTOSCALING_FIELDS if key in live_tuning
        } | moved
        diff.extend((f"{prefix}autoscaling.{key}", live_tuning.get(key), value) for key, value in moved.items())
    template = written.get("template")
    if template is not None:
        template_diff = [
            (f"{prefix}template.{part[0]}.{part[1]}", _template_part(current.get("template"), part), value)
            for part in _TEMPLATE_PARTS + _SPEC_PARTS
            if (value := _template_part(template, part)) is not None
            and _meaning(part, value) != _meaning(part, _template_part(current.get("template"), part))
        ]
        if template_diff:
            body["template"] = whole_template(current.get("template"), template)
            diff.extend(template_diff)
    return body, diff


def _plan_replace(
    pool: DesiredPool,
    current: PoolObject,
    live: list[PoolObject],
    lifecycle: Lifecycle,
    flavors: frozenset[str] | None,
    diff: tuple[tuple[str, Any, Any], ...],
    found: _Found,
    declared: frozenset[str],
) -> None:
    """A new pool (the next generation) with every live setting the file leaves out, the live one's size, then the
    old one deleted. `diff`: the create-only fields that differ first, then what else the file changes."""
    fixed = [entry for entry in diff if entry[0].rsplit(".", 1)[1] in CREATE_ONLY]
    named = ", ".join(f"{path.rsplit('.', 1)[1]} {before} -> {after}" for path, before, after in fixed)
    if not lifecycle.allow_pool_replace:
        found.refused.append(
            f"nodePools.{pool.name}: {named} cannot change in place; replacing the pool (a new one, then the old one "
            "deleted) needs lifecycle.allowPoolReplace: true"
        )
        return
    error = _flavor_error(pool, flavors)
    if error:
        found.errors.append(error)
        return
    name = replacement_name(pool.name, live, declared)
    body = creation_body(name, replacement_fields(pool, current))
    found.changes.append(PoolChange(PoolChangeKind.REPLACE, pool.name, current.get("id"), body, diff))


def replacement_fields(pool: DesiredPool, current: PoolObject) -> dict[str, Any]:
    """The new pool of a replacement: the live pool's settings, the file's over them. Its size is the live pool's
    (what the pods use now) where the file does not manage it: with autoscale on and desiredNodes not pinned, the
    autoscaler's count, not the size the file gives a new pool; within minNodes..maxNodes."""
    fields: dict[str, Any] = {"flavorName": current.get("flavor")}
    fields |= {name: _live_scalar(current, name) for name in ("antiAffinity", "monthlyBilled", "availabilityZones")}
    fields |= {key: current[key] for key in ("minNodes", "maxNodes", "autoscale") if current.get(key) is not None}
    if current.get("attachFloatingIps") is not None:
        fields["attachFloatingIps"] = _live_scalar(current, "attachFloatingIps")
    live_tuning = current.get("autoscaling") or {}
    tuning = {key: live_tuning[key] for key in POOL_AUTOSCALING_FIELDS if live_tuning.get(key) is not None}
    fields |= pool.fields
    tuning |= pool.fields.get("autoscaling") or {}
    if tuning:
        fields["autoscaling"] = tuning
    fields["template"] = whole_template(current.get("template"), pool.fields.get("template") or {})
    autoscaler_owns = fields.get("autoscale") and not pool.pin_desired_nodes
    if ("desiredNodes" not in pool.fields or autoscaler_owns) and current.get("desiredNodes") is not None:
        fields["desiredNodes"] = current["desiredNodes"]
    low, high, size = fields.get("minNodes"), fields.get("maxNodes"), fields.get("desiredNodes")
    if isinstance(size, int):
        size = max(size, low) if isinstance(low, int) else size
        fields["desiredNodes"] = min(size, high) if isinstance(high, int) else size
    return {key: value for key, value in fields.items() if value is not None}


def _plan_finish(
    pool: DesiredPool, current: PoolObject, older: list[PoolObject], lifecycle: Lifecycle, found: _Found
) -> None:
    """An earlier replacement stopped before its end (Ctrl-C, a killed runner) left the old pool live beside the new:
    what is left of it is the old pool's delete, once the new one is READY; never a third pool."""
    for old in older:
        if not lifecycle.allow_pool_replace:
            found.refused.append(
                f"nodePools.{pool.name}: the old pool {old.get('name')} is still live beside its replacement "
                f"{current.get('name')} (a replacement stopped before its end); deleting it needs "
                "lifecycle.allowPoolReplace: true"
            )
            continue
        diff = ((f"nodePools.{pool.name}", old.get("name"), None),)
        found.changes.append(
            PoolChange(PoolChangeKind.FINISH, pool.name, old.get("id"), None, diff, replacement=current.get("name"))
        )


def needs_flavors(desired: tuple[DesiredPool, ...], live: list[PoolObject]) -> bool:
    """Whether the plan would create a pool of a flavor (a new pool, or a replacement): the cluster's flavors are read
    then, to refuse a typo before any request."""
    for pool in desired:
        flavor = pool.fields.get("flavorName")
        current = matching_pool(pool.name, live, frozenset(p.name for p in desired))
        if not pool.delete and flavor is not None and (current is None or current.get("flavor") != flavor):
            return True
    return False


def pool_steps(target: ClusterTarget, changes: tuple[PoolChange, ...]) -> list[Step]:
    """The steps of the pool changes, in order; a replacement is the new pool's create, then the old one's delete."""
    steps = []
    for change in changes:
        here = PoolTarget(target.project, target.cluster_id, change.pool_id)
        new = PoolTarget(target.project, target.cluster_id)
        if change.kind is PoolChangeKind.CREATE:
            steps.append(Step(StepKind.POOL_CREATE, new, change.body))
        elif change.kind is PoolChangeKind.UPDATE:
            steps.append(Step(StepKind.POOL_UPDATE, here, change.body))
        elif change.kind in (PoolChangeKind.DELETE, PoolChangeKind.FINISH):
            steps.append(Step(StepKind.POOL_DELETE, here))
        else:
            steps += [Step(StepKind.POOL_CREATE, new, change.body), Step(StepKind.POOL_DELETE, here)]
    return steps


def pool_notices(changes: tuple[PoolChange, ...], live: list[PoolObject]) -> list[str]:
    """What a reviewer must not miss, shouted as a reset is: a replacement (and the nodes both pools hold while the
    new one comes up), a deletion."""
    by_id = {pool.get("id"): pool for pool in live}
    notices = []
    for change in changes:
        old = by_id.get(change.pool_id) or {}
        nodes = old.get("currentNodes", old.get("desiredNodes"))
        if change.kind is PoolChangeKind.REPLACE:
            body = change.body or {}
            size = body.get("desiredNodes")
            scaled = ", then as its autoscaler decides" if body.get("autoscale") else ""
            notices.append(
                f"{POOL_NOTICE} {change.name} WILL BE REPLACED: a new pool {body.get('name')} "
                f"({body.get('flavorName')}, {size} node(s){scaled}) is created; once its nodes are READY, the old "
                f"pool {old.get('name')} ({old.get('flavor')}, {nodes} node(s)) is DELETED and its pods evicted; until "
                f"then both run: {_overlap(size, nodes)} node(s) of this pool at once, against {nodes} now"
            )
        elif change.kind is PoolChangeKind.FINISH:
            notices.append(
                f"{POOL_NOTICE} {change.name}: the replacement {change.replacement} is live; the old pool "
                f"{old.get('name')} ({old.get('flavor')}, {nodes} node(s)) WILL BE DELETED once the nodes of "
                f"{change.replacement} are READY, and its pods evicted (an earlier replacement stopped before its end)"
            )
        elif change.kind is PoolChangeKind.DELETE:
            notices.append(
                f"{POOL_NOTICE} {change.name} WILL BE DELETED with its {nodes} node(s) ({old.get('flavor')}): their "
                "pods are evicted"
            )
    return notices


def pools_across_reset(policy: str | None, live: list[PoolObject] | None) -> str:
    """What a reset does to the pools of a cluster whose file declares pools (OVHcloud's reset guide: "Delete nodes",
    the API's default, deletes the nodes and reinitializes the cluster to an empty state; "Keep and reinstall nodes"
    keeps them). The file's pools are planned against what the reset left, once it is over: the next plan."""
    pools = ", ".join(f"{p.get('name')} ({p.get('flavor')}, {p.get('desiredNodes')} node(s))" for p in live or [])
    if policy == "reinstall":
        return (
            f"the node pools are kept across the reset (workerNodesPolicy reinstall){': ' + pools if pools else ''}, "
            "their nodes reinstalled; the file's pools are planned once the reset is over: plan and apply again "
            "after it"
        )
    return (
        f"{POOL_NOTICE}S {pools + ' ' if pools else ''}WILL BE GONE with the reset: workerNodesPolicy delete (the "
        "API's default) deletes every node and the cluster comes back empty, without node pools, those no file "
        "declares included; the pools the files declare are created by the next plan and apply, once the reset is "
        "over (lifecycle.workerNodesPolicy: reinstall keeps the pools and reinstalls their nodes)"
    )


def _overlap(new: object, old: object) -> str:
    if isinstance(new, int) and isinstance(old, int):
        return str(new + old)
    return f"{new} + {old}"


def pool_diff_met(path: str, before: object, after: object, live: list[PoolObject]) -> tuple[object, bool]:
    """(the live value, whether it means `after`) for a pool diff entry `nodePools.NAME[.FIELD...]`: a created pool
    exists, a deleted one is gone, a field means the same on the pool NAME stands for."""
    name, _, rest = path.removeprefix("nodePools.").partition(".")
    if not rest:
        if after is None:  # deleted: the live pool it named is gone
            gone = not any(pool.get("name") == before for pool in live)
            return (None if gone else before), gone
        wanted = after if isinstance(after, dict) else {}
        pool = next((p for p in live if p.get("name") == wanted.get("name")), None)
        return (pool and pool.get("name")), pool is not None and pool.get("flavor") == wanted.get("flavorName")
    pool = matching_pool(name, live)
    if pool is None:
        return None, False
    head, _, leaf = rest.partition(".")
    if head == "autoscaling":
        value = (pool.get("autoscaling") or {}).get(leaf)
        return value, value == after
    if head == "template":
        part = tuple(leaf.split(".", 1))
        value = _template_part(pool.get("template"), (part[0], part[1]))
        return value, _meaning((part[0], part[1]), value) == _meaning((part[0], part[1]), after)
    value = _live_scalar(pool, head)
    return value, value == (_written_scalar({head: after}, head) if after is not None else after)
