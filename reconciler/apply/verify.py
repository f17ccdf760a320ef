"""After an apply, check from the plan alone that every change it promised is now live, by meaning.

Each diff entry says a path and the value it should have (`after`); the live value at that path must now mean the
same (reconciler.plan.normalize: durations as seconds, P0D = PT0S, a zero IPVS timeout = unset, plugin lists as sets).
An entry may name a leaf (`customization.kubeProxy.iptables.syncPeriod`) or a whole block (`customization.kubeProxy`,
as a create does); both are compared on every leaf under the path.
"""

from typing import Any

from reconciler.escape import without_userinfo_in
from reconciler.live.read import LiveCluster
from reconciler.model import IP_RESTRICTIONS
from reconciler.plan.data import Action, Change
from reconciler.plan.diff import FieldChange
from reconciler.plan.network import is_network_path, same
from reconciler.plan.network import live_value as network_live_value
from reconciler.plan.node_pools import pool_diff_met
from reconciler.plan.normalize import cidr_set, normalize, oidc_comparable
from reconciler.steps import PART_OF_KIND
from reconciler.versions import major_minor

# A reset is planned only where the files manage what it wipes (or nothing is there to wipe), so the next plan shows
# what is missing, from any machine.
PUT_BACK_BY_THE_FILES = (
    "the files hold them (spec.ipRestrictions, spec.openIdConnect), so the next plan shows them missing and apply "
    "puts them back; or set them by hand"
)
PLUGIN_STATE_PATHS = ("apiServer.admissionPlugins.enabled", "apiServer.admissionPlugins.disabled")


def unmet(diff: list[FieldChange], live: LiveCluster) -> list[dict]:
    """The diff entries the live cluster does not satisfy, each as {path, expected, live}."""
    cluster, customization = live.cluster, live.customization or {}
    misses = []
    for change in diff:
        if change.path.startswith("customization."):
            met = _customization_met(change.path.removeprefix("customization."), change.after, customization)
            live_value = _at(customization, change.path.removeprefix("customization."))
        elif change.path == "ipRestrictions":
            live_value = live.ip_restrictions
            met = cidr_set(change.after) == cidr_set(live_value)
        elif change.path.startswith("openIdConnect"):
            live_value, met = _oidc_met(change, live.openid_connect or {})
        elif is_network_path(change.path):
            live_value = network_live_value(dict(cluster), change.path)
            met = same(change.path, change.after, live_value)
        elif change.path.startswith("nodePools."):
            live_value, met = pool_diff_met(change.path, change.before, change.after, live.node_pools or [])
        else:
            live_value = cluster.get(change.path)
            met = _field_met(change.path, change.after, live_value)
        if not met:  # reported in apply's account: a live URL's user:password@ is left out (the files refuse one)
            misses.append({"path": change.path, "expected": change.after, "live": without_userinfo_in(live_value)})
    return misses


def put_back(change: Change) -> list[FieldChange]:
    """What a reset's entry puts back after it (the file's IP restrictions and OIDC) and its
    diff does not name: unchanged by the plan, it must still be live afterwards. As diff entries, so `unmet` checks
    them alike (each costs its own GET: the cluster object carries neither)."""
    if change.action is not Action.RESET:
        return []
    named = {entry.path.split(".")[0] for entry in change.diff}
    return [FieldChange(part, None, value) for part, value in put_back_values(change) if part not in named]


def put_back_values(change: Change, first: int = 1) -> list[tuple[str, object]]:
    """(ipRestrictions or openIdConnect, the value sent) of each step a reset's entry puts back, from `first` on."""
    values = []
    for step in change.steps[first:]:
        part = PART_OF_KIND.get(step.kind)
        if part is not None:
            body = step.body or {}
            values.append((part, body.get("ips") if part == IP_RESTRICTIONS else body))
    return values


def failure_reason(change: Change, misses: list[dict]) -> str:
    """Why the cluster fails its verification, and what to do about what a reset lost."""
    lost = {entry.path for entry in put_back(change)}
    reasons = []
    planned = [miss["path"] for miss in misses if miss["path"] not in lost]
    if planned:
        reasons.append(f"verification failed: not live after the apply: {', '.join(planned)}")
    not_back = [miss["path"] for miss in misses if miss["path"] in lost]
    if not_back:
        reasons.append(
            f"the {' and '.join(not_back)} did not take when put back after the reset (expected and live values "
            f"below): the reset wiped them, so they must be set again: {PUT_BACK_BY_THE_FILES}"
        )
    return "; ".join(reasons)


def blocks_match(body: dict, customization: dict | None) -> bool:
    """True when every block of a PUT body is live already, by meaning (the PUT went through)."""
    customization = customization or {}
    return all(normalize(block, value) == normalize(block, customization.get(block)) for block, value in body.items())


def _oidc_met(change: FieldChange, oidc: dict) -> tuple:
    """(live value, met) for `openIdConnect` (the whole settings, None = none) or `openIdConnect.FIELD`."""
    if change.path == "openIdConnect":
        return oidc or None, oidc_comparable(change.after) == oidc_comparable(oidc)
    name = change.path.removeprefix("openIdConnect.")
    wanted = oidc_comparable(oidc | {name: change.after}).get(name)
    actual = oidc_comparable(oidc).get(name)
    return oidc.get(name), wanted == actual


def _field_met(path: str, expected: Any, live: Any) -> bool:
    if path == "version" and expected is not None and live is not None:
        return major_minor(str(live)) == major_minor(str(expected))  # the API answers with the patch level
    return live == expected


def _customization_met(path: str, expected: Any, customization: dict) -> bool:
    block, _, rest = path.partition(".")
    if path in PLUGIN_STATE_PATHS:  # the diff holds each plugin's effective state: a whole list, compared as a set
        return normalize(block, customization.get(block)).get(path) == tuple(sorted(set(expected or ()), key=str))
    wanted = _under(normalize(block, _nest(rest, expected)), path)
    actual = _under(normalize(block, customization.get(block)), path)
    return wanted == actual


def _nest(dotted: str, value: Any) -> Any:
    """`iptables.syncPeriod`, v -> {"iptables": {"syncPeriod": v}}; an empty path is the value itself."""
    for key in reversed(dotted.split(".") if dotted else []):
        value = {key: value}
    return value


def _under(leaves: dict, path: str) -> dict:
    return {key: value for key, value in leaves.items() if key == path or key.startswith(path + ".")}


def _at(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
