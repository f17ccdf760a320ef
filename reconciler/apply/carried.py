"""What a plan entry sends that its diff does not show, compared with the cluster as read right before it.

A request body carries more than the diff: a reset keeps settings, customization and the IP restrictions and OIDC
it puts back afterwards; a customization PUT sends every block, those it does not change as read; an OIDC PUT the
whole configuration; upgrade steps are counted from the diff's `before`. Those values are live values, so a saved
plan's whole check (plan/planfile.py) cannot tell a hand-edited one offline. Apply can: the cluster's fingerprint
has just matched, so it holds now what was read when planning, and each such value must equal it."""

from reconciler.live.control_plane import IP_RESTRICTIONS, OPENID_CONNECT
from reconciler.model import KEPT_ON_RESET
from reconciler.plan.normalize import cidr_set, normalize, oidc_comparable
from reconciler.plan.planner import major_minor

EDITED = "a hand-edited plan? nothing was sent"


def not_as_read(change, live) -> str | None:
    """Why the entry's requests carry what the cluster does not hold (None when they carry only the diff and it)."""
    start = next((entry.before for entry in change.diff if entry.path == "version"), None)
    have = major_minor(live.cluster.get("version", ""))
    if change.action == "upgrade" and start is not None and major_minor(start) != have:
        return (
            f"the plan upgrades from version {start}, but the cluster runs {have}: a hand-edited plan? nothing was sent"
        )
    wrong = _values_not_read(change, live)
    if wrong:
        return f"the plan would send values the cluster does not have ({', '.join(wrong)}): {EDITED}"
    return None


def _values_not_read(change, live) -> list[str]:
    have = major_minor(live.cluster.get("version", ""))
    diffed = [entry.path for entry in change.diff]

    def in_diff(path: str) -> bool:
        return any(path == d or path.startswith(d + ".") or d.startswith(path + ".") for d in diffed)

    resetting = change.action == "reset"
    wrong: list[str] = []
    sent: dict[str, dict | None] = {IP_RESTRICTIONS: None, OPENID_CONNECT: None}
    for request in change.requests:
        body = request.body or {}
        if request.path.endswith("/reset"):
            wrong += [key for key in KEPT_ON_RESET if not in_diff(key) and body.get(key) != live.cluster.get(key)]
            if not in_diff("version") and body.get("version") not in (None, have):
                wrong.append("version")
            wrong += _blocks_not_read(body.get("customization") or {}, live.customization or {}, in_diff)
        elif request.path.endswith("/customization"):
            wrong += _blocks_not_read(body, live.customization or {}, in_diff)
        for part in (IP_RESTRICTIONS, OPENID_CONNECT):
            if request.path.endswith("/" + part) and request.method != "DELETE":
                sent[part] = body
    ranges = (sent[IP_RESTRICTIONS] or {}).get("ips")
    if (sent[IP_RESTRICTIONS] is not None or resetting) and not in_diff(IP_RESTRICTIONS):
        wrong += [IP_RESTRICTIONS] if cidr_set(ranges) != cidr_set(live.ip_restrictions) else []
    if sent[OPENID_CONNECT] is not None or resetting:
        ours, theirs = oidc_comparable(sent[OPENID_CONNECT]), oidc_comparable(live.openid_connect)
        wrong += [
            f"{OPENID_CONNECT}.{key}"
            for key in sorted(set(ours) | set(theirs))
            if ours.get(key) != theirs.get(key) and not in_diff(f"{OPENID_CONNECT}.{key}")
        ]
    return wrong


def _blocks_not_read(sent: dict, held: dict, in_diff) -> list[str]:
    """Leaves of every block, sent or held (a block left out may be lost: a reset resets it, and a PUT may replace
    the whole customization), that are neither in the diff nor, by meaning, the live value."""
    wrong = []
    for block in sorted(set(sent) | set(held)):
        ours, theirs = normalize(block, sent.get(block)), normalize(block, held.get(block))
        wrong += [
            f"customization.{path}"
            for path in sorted(set(ours) | set(theirs))
            if ours.get(path) != theirs.get(path) and not in_diff(f"customization.{path}")
        ]
    return wrong
