"""A plan as a reviewer reads a fleet: what is disruptive first, each on its own; identical changes as one group,
its clusters named once; set-valued settings as what is added and what is removed; an opening to the world said.
"""

import ipaddress
import json
from dataclasses import dataclass

from reconciler.plan.data import Action, Change
from reconciler.plan.diff import FieldChange
from reconciler.steps import StepKind

DISRUPTIVE = (Action.DELETE, Action.RESET, Action.UPGRADE)  # delete, erase or drain: first, expanded, never grouped
# Lists whose order means nothing: shown as the members added and removed, not as two whole lists.
SET_VALUED = frozenset(
    {
        "ipRestrictions",
        "customization.apiServer.admissionPlugins.enabled",
        "customization.apiServer.admissionPlugins.disabled",
    }
)
WORLD = "ipRestrictions"  # the setting whose members say who may reach the API server


@dataclass(frozen=True)
class Group:
    """Changes that do the same thing to several clusters (one change when nothing else does the same)."""

    changes: tuple[Change, ...]

    @property
    def first(self) -> Change:
        return self.changes[0]

    @property
    def action(self) -> Action:
        return self.first.action


def reading_order(changes: list[Change]) -> list[Group]:
    """Deletes, resets, upgrades, then pool deletes and replacements first, one by one; then the errors and the creates,
    one by one; then the updates, those with the same diff and warnings as one group (in the order first met); then
    the unchanged clusters that have a warning or a note. Nothing else is left out or repeated."""
    alone = [Group((c,)) for action in DISRUPTIVE for c in changes if c.action is action]
    alone += [Group((c,)) for c in changes if c.action is Action.UPDATE and removes_nodes(c)]
    alone += [Group((c,)) for action in (Action.ERROR, Action.CREATE) for c in changes if c.action is action]
    updates: dict[tuple, list[Change]] = {}
    for change in changes:
        if change.action is Action.UPDATE and not removes_nodes(change):
            updates.setdefault(_same_change(change), []).append(change)
    quiet = [Group((c,)) for c in changes if c.action is Action.NOOP and (c.warnings or c.ahead)]
    return alone + [Group(tuple(grouped)) for grouped in updates.values()] + quiet


def removes_nodes(change: Change) -> bool:
    """A pool deleted, or replaced (its old pool deleted once the new one is READY): disruptive like a reset."""
    return any(step.kind is StepKind.POOL_DELETE for step in change.steps)


def redeploys_nodes(change: Change) -> bool:
    """A private network configuration changed in place: every node is redeployed, as by an upgrade."""
    return any(step.kind is StepKind.NETWORK_CONFIGURATION for step in change.steps)


def is_disruptive(change: Change) -> bool:
    """Deletes, erases, drains or redeploys nodes: held by maintenance windows and a rollout's waves."""
    return change.action in DISRUPTIVE or removes_nodes(change) or redeploys_nodes(change)


def _same_change(change: Change) -> tuple:
    """Two updates with this key send the same thing for the same reason: each field's before and after, and where
    its value is written (a ClusterDefaults' line is the same for every cluster it selects; a cluster's own file is
    not, and still does the same thing), the warnings and the values past the file."""
    fields = tuple(
        (c.path, _canonical(c.before), _canonical(c.after), c.defaults, c.source if c.defaults else None)
        for c in change.diff
    )
    ahead = tuple((c.path, _canonical(c.before)) for c in change.ahead)
    return fields, tuple(change.warnings), ahead, len(change.steps)


def _canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True)


@dataclass(frozen=True)
class SetChange:
    added: list
    removed: list


def set_change(field_change: FieldChange) -> SetChange | None:
    """The members a set-valued setting gains and loses; None for any other field (or a value that is no list)."""
    before, after = field_change.before or [], field_change.after or []
    if field_change.path not in SET_VALUED or not isinstance(before, list) or not isinstance(after, list):
        return None
    had, has = {_member(field_change.path, x): x for x in before}, {_member(field_change.path, x): x for x in after}
    return SetChange([x for key, x in has.items() if key not in had], [x for key, x in had.items() if key not in has])


def _member(path: str, item: object) -> str:
    if path != WORLD:
        return str(item)
    try:
        return ipaddress.ip_network(str(item), strict=False).with_prefixlen
    except ValueError:
        return str(item)


def opens_to_the_world(field_change: FieldChange) -> str | None:
    """Why the change lets anyone reach the API server, or None: a range of every address added (0.0.0.0/0, ::/0),
    or the list emptied (no restriction is no restriction)."""
    if field_change.path != WORLD or not isinstance(field_change.after, list):
        return None
    change = set_change(field_change)
    everyone = [x for x in (change.added if change else field_change.after) if _prefix(x) == 0]
    if everyone:
        ranges = ", ".join(str(x) for x in everyone)
        return f"ipRestrictions: {ranges} OPENS THE API SERVER TO THE WHOLE INTERNET"
    if not field_change.after and field_change.before:
        return "ipRestrictions: an empty list removes every restriction: ANYONE MAY REACH THE API SERVER"
    return None


def _prefix(item: object) -> int | None:
    try:
        return ipaddress.ip_network(str(item), strict=False).prefixlen
    except ValueError:
        return None
