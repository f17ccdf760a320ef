"""Whether a plan may be applied: the one place that decides it; `apply` only asks.

A saved plan (`plan --out FILE`) is reviewed as a whole, then travels (a CI artifact, a file on a runner) before it
is applied, so it is checked as untrusted input (`read_saved_plan`): made by this very ovhkube (format and tool
version), every field of the right type (with the line it is on), for this endpoint, every entry that changes
something fingerprinted (or the stale check would skip it), each cluster once, ids of the right shape, every step
the one the planner makes from that entry's own diff and the live values its steps carry (through the planner's own
step builders), every body within the rules `validate` applies to a file, and no error unless --skip-errors. One
failure refuses the whole plan, naming the reasons; nothing is sent.

Once connected, a plan (saved, or approved at a prompt) is applied only if no cluster it changes moved in what its
entry rests on (plan/staleness.py; `stale_clusters`, `refuse_if_stale`), and right before an entry's first write,
the live values its steps carry must be the cluster's (`not_as_read`).
"""

import bisect
import json
import json.scanner
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from reconciler import __version__
from reconciler.errors import UserError
from reconciler.escape import one_line, quoted
from reconciler.live.api import ApiClient
from reconciler.live.control_plane import read_parts
from reconciler.live.node_pools import add_node_pools
from reconciler.live.read import LiveCluster, read_live
from reconciler.model import (
    CUSTOMIZATION_BLOCKS,
    IP_RESTRICTIONS,
    KEPT_ON_RESET,
    MAX_ROLLOUT_WAIT,
    MAX_ROLLOUT_WAIT_SECONDS,
    NETWORK_CONFIGURATION,
    NETWORK_ROUTING,
    OPENID_CONNECT,
)
from reconciler.plan.compare import differing_clusters
from reconciler.plan.control_plane import (
    control_plane_spec,
    create_body,
    create_steps,
    delete_step,
    oidc_step,
    rename_step,
    reset_steps,
    update_steps,
    upgrade_strategies,
)
from reconciler.plan.data import (
    ACTIONS,
    CHANGING,
    FORMAT_VERSION,
    SHORT,
    Action,
    Change,
    Connection,
    ErrorReason,
    Plan,
    PlanFileError,
    plan_from_dict,
)
from reconciler.plan.diff import FieldChange, changed_blocks
from reconciler.plan.network import (
    NETWORK,
    RESET_FIELD_PATHS,
    body_fields,
    configuration_not_read,
    is_network_path,
    network_steps,
    spec_fields,
)
from reconciler.plan.node_pools import CREATE_ONLY, PoolChange, PoolChangeKind, pool_steps
from reconciler.plan.normalize import cidr_set, normalize, oidc_comparable, shown
from reconciler.plan.staleness import entry_fingerprint, rests_on
from reconciler.policy.check import RULES
from reconciler.steps import PART_OF_KIND, POOL_KINDS, ClusterTarget, PoolTarget, Step, StepKind, parted_paths
from reconciler.versions import major_minor

MAX_PLAN_BYTES = 64 * 1024 * 1024  # a plan of thousands of clusters is a few MB
MAX_NUMBER_CHARS = 100
SHOWN_REASONS = 5
FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}\Z")
CREATED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
PROJECT_ID = re.compile(r"[0-9a-f]{32}\Z")
CLUSTER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

STRING, OPTIONAL_STRING, LIST, OPTIONAL_DICT, ANY = "a string", "a string or null", "a list", "an object or null", ""
PLAN_FIELDS = {"format_version": STRING, "tool_version": STRING, "created_at": STRING, "endpoint": STRING}
CHANGE_FIELDS = {
    "action": STRING,
    "source": STRING,
    "status": OPTIONAL_STRING,
    "diff": LIST,
    "requests": LIST,
    "live_fingerprint": OPTIONAL_STRING,
    "warnings": LIST,
    "error": OPTIONAL_STRING,
    "reason": OPTIONAL_STRING,
    "defaults": LIST,
    "ahead": LIST,
    "wave": OPTIONAL_STRING,
    "labels": OPTIONAL_DICT,
    "maintenance_window": OPTIONAL_DICT,
    "deferred_until": OPTIONAL_STRING,
    "ip_restrictions": ANY,
}
CLUSTER_FIELDS = {
    "project": STRING,
    "name": STRING,
    "id": OPTIONAL_STRING,
    "region": OPTIONAL_STRING,
    "renamed_from": OPTIONAL_STRING,  # only on an entry that renames
}
REQUEST_FIELDS = {"kind": STRING, "method": STRING, "path": STRING, "body": OPTIONAL_DICT, "pool": OPTIONAL_STRING}
DIFF_FIELDS = {"path": STRING, "before": ANY, "after": ANY}
DEFAULTS_FIELDS = {"name": STRING, "source": STRING}  # both required: each ClusterDefaults that selects the cluster
CONNECTION_FIELDS = {"account": OPTIONAL_STRING, "endpoint": STRING, "projects": LIST}  # all required
REQUIRED = {
    "format_version", "endpoint", "created_at", "action", "cluster", "project", "name", "kind", "method", "path"
}  # fmt: skip


def read_saved_plan(path: str) -> Plan:
    """A saved plan that may be applied here, as far as can be told before connecting but for its errors
    (`refuse_errors`) and its connections (`refuse_other_connections`); UserError otherwise."""
    try:
        return read_plan_file(path)
    except PlanFileError as exc:
        raise UserError(f"{exc}; nothing was changed") from None


def refuse_other_connections(plan: Plan, endpoint: str, accounts: list[Connection]) -> None:
    """UserError unless each project of the plan would go now through the connection it was planned through: the
    same account (name and endpoint), or the default connection (`endpoint`, --endpoint's) where it was planned
    through that. `accounts`: the Account documents given now, each with every project it serves. Checked before
    connecting: an endpoint the plan was not made for is refused at once, not after reaching or waiting on it."""
    if not plan.accounts and not accounts:
        if plan.endpoint != endpoint:
            raise UserError(f"the plan was made for endpoint {plan.endpoint}, not {endpoint}: nothing was changed")
        return
    planned = {project: (c.account, c.endpoint) for c in plan.accounts for project in c.projects}
    now = {project: (c.account, c.endpoint) for c in accounts for project in c.projects}
    differing = []
    for project in sorted({change.cluster.project for change in plan.changes}):
        was = planned.get(project, (None, plan.endpoint))
        is_now = now.get(project, (None, endpoint))
        if was != is_now:
            differing.append(f"project {project} was planned through {_through(*was)}, now {_through(*is_now)}")
    if differing:
        more = f" (and {len(differing) - SHOWN_REASONS} more)" if len(differing) > SHOWN_REASONS else ""
        hint = (
            "give the Account documents the plan was made with (--accounts PATH)"
            if plan.accounts
            else "the plan was made without Account documents: apply it without them"
        )
        raise UserError(
            f"the plan does not match the accounts given now: {'; '.join(differing[:SHOWN_REASONS])}{more}. "
            f"{hint[0].upper()}{hint[1:]}; nothing was changed"
        )


def _through(account: str | None, endpoint: str) -> str:
    where = quoted(endpoint, 100)
    return f"the default connection ({where})" if account is None else f"account {quoted(account, SHORT)} ({where})"


def refuse_errors(plan: Plan, skip_errors: bool) -> list[str]:
    """The clusters in error, which --skip-errors leaves untouched; without it, an errored plan is not applied, as
    Terraform refuses one (UserError)."""
    errors = [change.cluster.name for change in plan.changes if change.action is Action.ERROR]
    if errors and not skip_errors:
        raise UserError(
            f"the plan holds {len(errors)} error(s) ({', '.join(errors)}): nothing was applied. "
            "Fix them, or apply the other clusters with --skip-errors."
        )
    return errors


def refuse_denied(plan: Plan) -> None:
    """A plan a policy denies is not applied, as Terraform's policy checks stop a run (UserError)."""
    check = plan.policy
    if check is not None and check.denials:
        clusters = sorted({one_line(finding.cluster) if finding.cluster else "the plan" for finding in check.denials})
        raise UserError(
            f"{len(check.denials)} policy denial(s) ({', '.join(clusters)}): nothing was applied. Fix the files or "
            "the policies, and plan again."
        )


def refuse_unchecked_policies(plan: Plan) -> None:
    """A plan checked by policies is applied only once they pass again: UserError when none are given now."""
    recorded = plan.policy
    if recorded is not None:
        raise UserError(
            f"the plan was checked by the policies of {one_line(recorded.folder)} ({recorded.digest[:15]}…): give "
            "them with --policy DIR, so that apply checks it again. Nothing was changed."
        )


def refuse_unless_same(reviewed: Plan, fresh: Plan, paths: list[str]) -> None:
    """A reviewed plan is applied to files that may have moved on since (a squash merge, another merge) only if
    `fresh`, their plan now, does exactly what was reviewed (UserError otherwise)."""
    differing = differing_clusters(reviewed, fresh)
    if differing:
        raise UserError(
            f"the files in {' '.join(paths)} plan other changes than the saved plan for {len(differing)} cluster(s): "
            f"{', '.join(differing)}. Nothing was changed: review a plan of these files (a pull request) first."
        )


def check_made_here(data: Any) -> None:
    """PlanFileError unless the saved plan was made by this very ovhkube, in this plan format."""
    if not isinstance(data, dict):
        raise PlanFileError("not a plan: the file holds no JSON object")
    if "format_version" not in data:
        raise PlanFileError("not a plan: the JSON object has no format_version")
    version, made_by = data["format_version"], data.get("tool_version", "unknown")
    if version != FORMAT_VERSION or made_by != __version__:
        # Another version may plan other requests or fingerprint other fields, so neither the plan nor its
        # staleness check can be trusted here; as Terraform, refuse it and have it made again.
        made_by, version = (
            value[:40] if isinstance(value, str) else quoted(value, SHORT) for value in (made_by, version)
        )
        raise PlanFileError(
            f"the plan was made by ovhkube {made_by} (plan format {version}); this is ovhkube "
            f"{__version__} (plan format {FORMAT_VERSION}): make the plan again with this version"
        )


def read_plan_file(path: str) -> Plan:
    """The saved plan, checked whole; PlanFileError with every reason (FILE:LINE where it has one) otherwise."""
    text = _read(path)
    data, lines = _parse(text, path)
    where = _Locator(path, lines)
    _check_shape(data, where)
    plan = plan_from_dict(data)
    reasons = integrity_problems(plan, data, where)
    if reasons:
        shown = "; ".join(reasons[:SHOWN_REASONS])
        more = f" (and {len(reasons) - SHOWN_REASONS} more)" if len(reasons) > SHOWN_REASONS else ""
        raise PlanFileError(f"{path}: refused, the plan is not as ovhkube wrote it: {shown}{more}")
    return plan


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror}") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanFileError(f"{path} is not a plan file: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanFileError(f"{path} is not a plan file: not UTF-8 (byte {exc.start})") from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.start: int | None = None


class _Decoder(json.JSONDecoder):
    """json, remembering where each object and list starts (for FILE:LINE), refusing NaN and Infinity."""

    def __init__(self, text: str) -> None:
        super().__init__(parse_constant=self._constant, parse_int=self._int, object_pairs_hook=self._unique)
        self.starts: dict[int, int] = {}
        self.text = text
        parse_object, parse_array = self.parse_object, self.parse_array  # type: ignore[has-type]

        def on_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            try:
                value, end = parse_object(s_and_end, *args)
            except _DuplicateKey as exc:
                exc.start = exc.start if exc.start is not None else s_and_end[1] - 1  # the innermost object
                raise
            self.starts[id(value)] = s_and_end[1] - 1
            return value, end

        def on_array(s_and_end: tuple[str, int], scan_once: Callable[..., Any]) -> tuple[Any, int]:
            value, end = parse_array(s_and_end, scan_once)
            self.starts[id(value)] = s_and_end[1] - 1
            return value, end

        self.parse_object, self.parse_array = on_object, on_array
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]  # not in typeshed; the C scanner would not call the hooks

    @staticmethod
    def _unique(pairs: list) -> dict:
        """Each key once: JSON readers differ on which of two values they keep (Python the last, a reviewer's eye
        often the first), so a plan holding one key twice could be read one way and applied another."""
        found: dict = {}
        for key, value in pairs:
            if key in found:
                raise _DuplicateKey(key)
            found[key] = value
        return found

    @staticmethod
    def _constant(name: str) -> NoReturn:
        raise ValueError(f"{name} is not a JSON number")

    @staticmethod
    def _int(text: str) -> int:
        if len(text) > MAX_NUMBER_CHARS:  # a plan holds none; Python would refuse past 4,300 digits, in its words
            raise ValueError(f"a number of more than {MAX_NUMBER_CHARS} digits")
        return int(text)


def _parse(text: str, path: str) -> tuple[Any, dict[int, int]]:  # JSON: any value
    decoder = _Decoder(text)
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}:{exc.lineno}:{exc.colno}: not a plan file: invalid JSON ({exc.msg})") from None
    except _DuplicateKey as exc:
        line = text.count("\n", 0, exc.start or 0) + 1
        twice = f"the object here holds the key {quoted(exc.key, SHORT)} twice"
        raise PlanFileError(f"{path}:{line}: not a plan file: {twice}") from None
    except (ValueError, RecursionError) as exc:  # a number of hundreds of digits, NaN, nesting too deep
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise PlanFileError(f"{path}: not a plan file: {reason}") from None
    # Line of each offset by bisection over the newlines: counting them from the top for each object was
    # quadratic (3 s for a plan of 3,000 clusters).
    newlines = [index for index, char in enumerate(text) if char == "\n"]
    lines = {key: bisect.bisect_left(newlines, start) + 1 for key, start in decoder.starts.items()}
    return data, lines


class _Locator:
    def __init__(self, path: str, lines: dict[int, int]) -> None:
        self.path, self.lines = path, lines

    def __call__(self, container: object, field: str) -> str:
        line = self.lines.get(id(container))
        return f"{self.path}:{line}: {field}" if line else f"{self.path}: {field}"


def _check_shape(data: Any, where: _Locator) -> None:
    """Every field the apply reads, of the type it expects; the first misfit is named with its line."""
    try:
        check_made_here(data)  # first: another version's plan has other fields
    except PlanFileError as exc:
        raise PlanFileError(f"{where.path}: {exc}") from None
    _fields(data, PLAN_FIELDS, "", where)
    # Both are printed as they are (`show`'s first line, the markdown footer): a time and an endpoint, nothing else.
    if not CREATED_AT.fullmatch(data["created_at"]):
        raise PlanFileError(f"{where(data, 'created_at')}: must be a UTC time such as 2026-12-07T20:22:49Z")
    if not data["endpoint"].isprintable() or any(char in data["endpoint"] for char in "<>`|"):
        raise PlanFileError(f"{where(data, 'endpoint')}: must be an endpoint's name or URL")
    _check_connections(data, where)
    changes = data.get("changes")
    if not isinstance(changes, list):
        raise PlanFileError(f"{where(data, 'changes')}: must be a list")
    for index, change in enumerate(changes):
        name = f"changes[{index}]"
        if not isinstance(change, dict):
            raise PlanFileError(f"{where(changes, name)}: must be an object")
        _fields(change, CHANGE_FIELDS, name + ".", where)
        if not isinstance(change.get("cluster"), dict):
            raise PlanFileError(f"{where(change, name + '.cluster')}: must be an object")
        _fields(change["cluster"], CLUSTER_FIELDS, name + ".cluster.", where)
        unknown = sorted(set(change["cluster"]) - set(CLUSTER_FIELDS))
        if unknown:
            field = quoted(unknown[0], SHORT)
            raise PlanFileError(f"{where(change['cluster'], name + '.cluster')}: unknown field {field}")
        for key, known in (("action", ACTIONS), ("reason", (None, *ErrorReason))):
            if key in change and change[key] not in known:
                raise PlanFileError(f"{where(change, f'{name}.{key}')}: unknown {key} {quoted(change[key], SHORT)}")
        checked = (
            ("requests", REQUEST_FIELDS),
            ("diff", DIFF_FIELDS),
            ("ahead", DIFF_FIELDS),
            ("defaults", DEFAULTS_FIELDS),
        )
        for key, fields in checked:
            for number, item in enumerate(change.get(key) or []):
                label = f"{name}.{key}[{number}]"
                if not isinstance(item, dict):
                    raise PlanFileError(f"{where(change[key], label)}: must be an object")
                _fields(item, fields, label + ".", where, set(fields) if key == "defaults" else REQUIRED)
                if key == "requests" and item["kind"] not in tuple(StepKind):
                    raise PlanFileError(
                        f"{where(item, label + '.kind')}: unknown step kind {quoted(item['kind'], SHORT)}"
                    )
        labels = change.get("labels") or {}
        if not all(isinstance(value, str) for value in labels.values()):
            raise PlanFileError(f"{where(change, name + '.labels')}: must map names to strings")
        restrictions = change.get("ip_restrictions")
        if restrictions is not None and not (
            isinstance(restrictions, list) and all(isinstance(entry, str) for entry in restrictions)
        ):
            raise PlanFileError(f"{where(change, name + '.ip_restrictions')}: must be a list of strings or null")
        warnings = change.get("warnings") or []
        if not all(isinstance(warning, str) for warning in warnings):
            raise PlanFileError(f"{where(warnings, name + '.warnings')}: must be a list of strings")
    _check_rollout(data, where)
    _check_policy(data, where)


POLICY_FIELDS = {"folder": STRING, "digest": STRING, "files": LIST, "findings": LIST}
FINDING_FIELDS = {
    "rule": STRING,
    "package": STRING,
    "msg": STRING,
    "cluster": OPTIONAL_STRING,
    "project": OPTIONAL_STRING,
}


def _check_policy(data: dict, where: _Locator) -> None:
    """The policy check as `plan --policy DIR --out` writes it: what apply refuses the plan by."""
    policy = data.get("policy")
    if policy is None:
        return
    if not isinstance(policy, dict):
        raise PlanFileError(f"{where(data, 'policy')}: must be an object or null, not {quoted(policy, SHORT)}")
    _fields(policy, POLICY_FIELDS, "policy.", where, set(POLICY_FIELDS))
    for number, finding in enumerate(policy["findings"]):
        label = f"policy.findings[{number}]"
        if not isinstance(finding, dict):
            raise PlanFileError(f"{where(policy['findings'], label)}: must be an object")
        _fields(finding, FINDING_FIELDS, label + ".", where, {"rule", "package", "msg"})
        if finding["rule"] not in RULES:
            raise PlanFileError(f"{where(finding, label + '.rule')}: must be deny or warn")


MAX_IN_FLIGHT = re.compile(r"[1-9][0-9]*\Z|([1-9][0-9]?|100)%\Z")


def _check_rollout(data: dict, where: _Locator) -> None:
    """The rollout as `plan --out` writes it: its waves' caps and pauses of their types, each change's wave one
    of them (a wave edited away would leave a change out of the order)."""
    rollout = data.get("rollout")
    if rollout is None:
        if any(change.get("wave") is not None for change in data["changes"]):
            raise PlanFileError(f"{where(data, 'rollout')}: missing, but changes name a wave")
        return
    if not isinstance(rollout, dict):
        raise PlanFileError(f"{where(data, 'rollout')}: must be an object or null, not {quoted(rollout, SHORT)}")
    _fields(rollout, {"name": STRING, "source": STRING, "changes": STRING, "waves": LIST}, "rollout.", where,
            {"name", "source", "changes", "waves", "gate"})  # fmt: skip
    if rollout["changes"] not in ("disruptive", "all"):
        raise PlanFileError(f"{where(rollout, 'rollout.changes')}: must be disruptive or all")
    gate = rollout.get("gate")
    number = (int, float)
    if not (
        isinstance(gate, dict)
        and isinstance(gate.get("timeout_seconds"), number)
        and not isinstance(gate.get("timeout_seconds"), bool)
        and isinstance(gate.get("api_server"), bool)
    ):
        raise PlanFileError(f"{where(rollout, 'rollout.gate')}: must hold timeout_seconds and api_server")
    if not 0 <= gate["timeout_seconds"] <= MAX_ROLLOUT_WAIT_SECONDS:
        raise PlanFileError(f"{where(gate, 'rollout.gate.timeout_seconds')}: {WAIT_RANGE}")
    names = set()
    for index, wave in enumerate(rollout["waves"]):
        label = f"rollout.waves[{index}]"
        if not isinstance(wave, dict):
            raise PlanFileError(f"{where(rollout['waves'], label)}: must be an object")
        _fields(wave, {"name": STRING, "source": STRING, "max_in_flight": STRING}, label + ".", where,
                {"name", "source", "max_in_flight"})  # fmt: skip
        pause = wave.get("pause_after_seconds")
        if not isinstance(pause, number) or isinstance(pause, bool) or not 0 <= pause <= MAX_ROLLOUT_WAIT_SECONDS:
            raise PlanFileError(f"{where(wave, label + '.pause_after_seconds')}: {WAIT_RANGE}")
        if not MAX_IN_FLIGHT.match(wave["max_in_flight"]):
            shown_cap = quoted(wave["max_in_flight"], SHORT)
            raise PlanFileError(f"{where(wave, label + '.max_in_flight')}: not a count or a percentage: {shown_cap}")
        names.add(wave["name"])
    for index, change in enumerate(data["changes"]):
        if change.get("wave") is not None and change["wave"] not in names:
            shown_wave = quoted(change["wave"], SHORT)
            raise PlanFileError(f"{where(change, f'changes[{index}].wave')}: no wave of the rollout is {shown_wave}")


WAIT_RANGE = f"must be a number of seconds from 0 to {MAX_ROLLOUT_WAIT_SECONDS} ({MAX_ROLLOUT_WAIT})"


def _check_connections(data: dict, where: _Locator) -> None:
    """`accounts` (a plan made with Account documents): a list of {account, endpoint, projects}, nothing else."""
    if "accounts" not in data:
        return
    connections = data["accounts"]
    if not isinstance(connections, list) or not connections:
        raise PlanFileError(f"{where(data, 'accounts')}: must be a list of connections")
    for index, connection in enumerate(connections):
        label = f"accounts[{index}]"
        if not isinstance(connection, dict):
            raise PlanFileError(f"{where(connections, label)}: must be an object")
        _fields(connection, CONNECTION_FIELDS, label + ".", where, set(CONNECTION_FIELDS))
        unknown = sorted(set(connection) - set(CONNECTION_FIELDS))
        if unknown:
            raise PlanFileError(f"{where(connection, label)}: unknown field {quoted(unknown[0], SHORT)}")
        if not all(isinstance(project, str) for project in connection["projects"]):
            raise PlanFileError(f"{where(connection['projects'], label + '.projects')}: must be a list of strings")


def _fields(item: dict, fields: dict[str, str], prefix: str, where: _Locator, required: set[str] = REQUIRED) -> None:
    for key, kind in fields.items():
        if key not in item:
            if key in required:
                raise PlanFileError(f"{where(item, prefix + key)}: missing")
            continue
        value = item[key]
        fits = {
            STRING: isinstance(value, str),
            OPTIONAL_STRING: value is None or isinstance(value, str),
            LIST: isinstance(value, list),
            OPTIONAL_DICT: value is None or isinstance(value, dict),
            ANY: True,
        }[kind]
        if not fits:
            raise PlanFileError(f"{where(item, prefix + key)}: must be {kind}, not {quoted(value, SHORT)}")


def integrity_problems(plan: Plan, data: dict, where: _Locator) -> list[str]:
    """What makes the plan other than what `plan --out` writes: every reason, each naming its entry."""
    reasons = []
    stored = data.get("summary")
    if stored is not None and stored != plan.summary:
        reasons.append(f"its summary {quoted(stored, SHORT)} does not count its entries {quoted(plan.summary, SHORT)}")
    reasons.extend(_connection_problems(plan))
    seen: dict[tuple, int] = {}
    for index, (change, item) in enumerate(zip(plan.changes, data["changes"], strict=True)):
        ref = change.cluster
        label = where(item, f"changes[{index}] ({quoted(ref.name, SHORT)})")
        for key in ((ref.project, ref.name), ("id", ref.project, ref.id) if ref.id else None):
            if key is not None and key in seen:
                reasons.append(f"{label}: the same cluster as changes[{seen[key]}]: a cluster is planned once")
            elif key is not None:
                seen[key] = index
        reasons.extend(f"{label}: {reason}" for reason in _entry_problems(change, item.get("requests") or []))
    return reasons


def _connection_problems(plan: Plan) -> list[str]:
    """A plan made with accounts names the connection of each of its projects once, each account once."""
    if not plan.accounts:
        return []
    reasons, owner = [], {}
    names = [connection.account for connection in plan.accounts]
    for name in sorted({name for name in names if names.count(name) > 1}, key=str):
        listed = "the default connection" if name is None else f"account {quoted(name, SHORT)}"
        reasons.append(f"accounts: {listed} is listed twice")
    for connection in plan.accounts:
        for project in connection.projects:
            if not PROJECT_ID.match(project):
                reasons.append(f"accounts: {quoted(project, SHORT)} is not a project id (32 hexadecimal characters)")
            elif project in owner:
                reasons.append(f"accounts: project {project} is listed under two connections")
            owner[project] = connection
    unlisted = sorted({change.cluster.project for change in plan.changes} - set(owner))
    reasons.extend(f"accounts: no connection is named for project {quoted(p, SHORT)}" for p in unlisted[:SHOWN_REASONS])
    return reasons


def _entry_problems(change: Change, stored: list[dict]) -> list[str]:
    ref, action = change.cluster, change.action
    reasons = []
    if not PROJECT_ID.match(ref.project):
        reasons.append(f"cluster.project {quoted(ref.project, SHORT)} is not a project id (32 hexadecimal characters)")
    if ref.id is not None and not CLUSTER_ID.match(ref.id):
        reasons.append(f"cluster.id {quoted(ref.id, SHORT)} is not a cluster id (a UUID)")
    if action in CHANGING and not FINGERPRINT.match(change.live_fingerprint or ""):
        reasons.append(f"a {action} without a live_fingerprint (sha256:...) cannot be checked against the live state")
    if action is Action.CREATE and ref.id is not None:
        reasons.append("a create names an existing cluster id")
    if action in (Action.UPDATE, Action.UPGRADE, Action.RESET, Action.DELETE) and ref.id is None:
        reasons.append(f"an {action} without the cluster's id")
    renamed = next((entry for entry in change.diff if entry.path == "name"), None)
    if renamed is not None and (renamed.before != ref.renamed_from or renamed.after != ref.name):
        reasons.append("its name change is not from cluster.renamed_from to cluster.name")
    if renamed is None and ref.renamed_from is not None:
        reasons.append("cluster.renamed_from on an entry that does not rename")
    if reasons:
        return reasons
    made = [step.to_dict() for step in steps_of_entry(change)]
    if stored != made:
        return [f"its requests are not the ones its {action} entry makes ({_request_difference(stored, made)})"]
    return [f"{step.method} {step.path}: {problem}" for step in change.steps for problem in _body_rules(change, step)]


def steps_of_entry(change: Change) -> list[Step]:
    """The steps the planner makes for this entry, through its own step builders, from the entry's diff and the live
    values its stored steps carry (the settings a reset keeps, whole customization blocks, the OIDC a PUT replaces,
    what a reset puts back): a value its diff does not show makes them differ from the stored ones."""
    target, action = ClusterTarget.of(change.cluster), change.action
    diff = {entry.path: entry.after for entry in change.diff}
    if action in (Action.UPDATE, Action.UPGRADE):
        before = {entry.path: entry.before for entry in change.diff}
        renaming = "name" in diff  # to the entry's name; the policy its PUT carries is a live value (not_as_read)
        return update_steps(
            target,
            rename=rename_step(target, change.cluster.name, _stored(change, StepKind.RENAME).get("updatePolicy"))
            if renaming
            else None,
            policy=diff.get("updatePolicy"),
            customization=_carried_customization(change, diff),
            ip_restrictions=diff.get(IP_RESTRICTIONS),
            oidc=_carried_oidc(change, diff),
            upgrades=upgrade_strategies(before.get("version"), diff.get("version"), "isUpToDate" in diff)
            if "version" in diff or "isUpToDate" in diff
            else [],
            network=_carried_network(change, diff),
        ) + _carried_pool_steps(change)
    if action is Action.CREATE:
        customization = {
            path.split(".")[1]: after
            for path, after in diff.items()
            if path.count(".") == 1 and path.startswith("customization.")
        }
        ref = change.cluster
        version, mode, policy = (diff.get(key) for key in ("version", "kubeProxyMode", "updatePolicy"))
        network = [(path, after) for path, after in diff.items() if is_network_path(path)]
        pools = [after for path, after in diff.items() if path.startswith("nodePools.")]
        body = create_body(ref.name, ref.region, version, mode, policy, customization, network, pools)
        return create_steps(target, body, diff.get(IP_RESTRICTIONS), diff.get(OPENID_CONNECT))
    if action is Action.RESET:
        return reset_steps(target, _carried_reset_body(change, diff), *_carried_restoration(change, diff))
    if action is Action.DELETE:
        return [delete_step(target)]
    return []  # noop and error entries send nothing


# The steps the planner's pool_steps makes of each kind of pool change, in order.
_POOL_CHANGE_STEPS = {
    PoolChangeKind.CREATE: (StepKind.POOL_CREATE,),
    PoolChangeKind.UPDATE: (StepKind.POOL_UPDATE,),
    PoolChangeKind.DELETE: (StepKind.POOL_DELETE,),
    PoolChangeKind.REPLACE: (StepKind.POOL_CREATE, StepKind.POOL_DELETE),
}


def _carried_pool_steps(change: Change) -> list[Step]:
    """The entry's pool steps, made by the planner's own builder (`pool_steps`) from the pool changes its diff shows,
    in their order. What they carry comes from the stored steps of the same kind at the same place: the pool ids
    and what a replacement copies (live values: apply compares them with the cluster before sending), and bodies
    where the diff shows what each sends (a created pool's body is its diff entry's value; an update's and a
    replacement's fields each a diff entry's value, a template's parts whole)."""
    shown = {entry.path: entry.after for entry in change.diff if entry.path.startswith("nodePools.")}
    stored = [step for step in change.steps if step.kind in POOL_KINDS]
    changes, place = [], 0
    for kind, name, created in _pool_changes_shown(change.diff):
        kinds = _POOL_CHANGE_STEPS[kind]
        carried = [
            stored[at] if at < len(stored) and stored[at].kind is wanted else None
            for at, wanted in enumerate(kinds, start=place)
        ]
        place += len(kinds)
        held = carried[-1]  # the step naming the live pool: an update's, a delete's, a replacement's delete
        pool_id = held.target.pool_id if held is not None and isinstance(held.target, PoolTarget) else None
        body = None
        if kind is PoolChangeKind.CREATE:
            body = created
        elif kind is PoolChangeKind.REPLACE:
            body = carried[0].body if carried[0] is not None else None
            if not _creation_shown(body or {}, shown):
                body = {"node pool": "the entry's diff"}  # cannot be the stored body: the difference is named
        elif kind is PoolChangeKind.UPDATE:
            body = held.body if held is not None else None
            if not _update_shown(body or {}, shown):
                body = {"node pool fields": "the entry's diff"}
        changes.append(PoolChange(kind, name, pool_id, body))
    return pool_steps(ClusterTarget.of(change.cluster), tuple(changes))


def _pool_changes_shown(diff: list[FieldChange]) -> list[tuple[PoolChangeKind, str, dict | None]]:
    """(kind, pool name, a create's body) of each pool change the diff shows, in its order: `nodePools.NAME` added
    (a create, its body the value) or gone (a delete: of a pool marked delete, or a replacement's old pool left
    live); the fields of one pool (`nodePools.NAME.FIELD`, together): an update, or a replacement where a field only
    a new pool can have differs."""
    found: list[tuple[PoolChangeKind, str, dict | None]] = []
    fields_of = None  # the pool whose fields the last entries were
    for entry in diff:
        if not entry.path.startswith("nodePools."):
            continue
        name, dot, field = entry.path.removeprefix("nodePools.").partition(".")
        if not dot:
            created = entry.after if entry.before is None and isinstance(entry.after, dict) else None
            found.append((PoolChangeKind.CREATE if created is not None else PoolChangeKind.DELETE, name, created))
            fields_of = None
            continue
        replaces = field.partition(".")[0] in CREATE_ONLY
        if fields_of == name:
            if replaces:
                found[-1] = (PoolChangeKind.REPLACE, name, None)
            continue
        found.append((PoolChangeKind.REPLACE if replaces else PoolChangeKind.UPDATE, name, None))
        fields_of = name
    return found


def _creation_shown(body: dict, shown: dict) -> bool:
    """A new pool: its diff entry is its body; a replacement: the diff names the fields it changes, with this body's
    values."""
    name = str(body.get("name"))
    if shown.get(f"nodePools.{name}") == body:
        return True
    base = name.rsplit("-r", 1)[0]
    fields = {path.removeprefix(f"nodePools.{base}."): after for path, after in shown.items() if "." in path[10:]}
    return bool(fields) and all(body.get(key) == after for key, after in fields.items() if "." not in key)


def _update_shown(body: dict, shown: dict) -> bool:
    """Every field an update sends is a diff entry of one pool, with its value (a template: its parts that the diff
    names; the others are the live ones)."""
    for key, value in body.items():
        paths = [path for path in shown if path.split(".")[2:3] == [key]]
        if not paths:
            return False
        if key in ("template", "autoscaling"):
            for path in paths:
                parts = path.split(".")[3:]
                held = value
                for part in parts:
                    held = held.get(part) if isinstance(held, dict) else None
                if parts and held != shown[path] and not (key == "template" and _same_taints(held, shown[path])):
                    return False
        elif any(shown[path] != value for path in paths):
            return False
    return True


def _same_taints(sent: object, shown: object) -> bool:
    def each(taints: object) -> list:
        listed = taints if isinstance(taints, list) else []
        return sorted(json.dumps(t | {"value": t.get("value") or ""}, sort_keys=True) for t in listed)

    return each(sent) == each(shown)


def _stored(change: Change, *kinds: StepKind) -> dict:
    """The body of the entry's stored step of one of these kinds ({} when there is none): the live values it carries."""
    return next((step.body for step in change.steps if step.kind in kinds and isinstance(step.body, dict)), {})


def _carried_customization(change: Change, diff: dict) -> dict:
    blocks = changed_blocks(change.diff)
    if not blocks:
        return {}
    # The blocks of the diff must show it; the others are carried as read, checked by apply (not_as_read).
    body = dict(_stored(change, StepKind.PUT_CUSTOMIZATION))
    if any(block not in body for block in blocks) or not _shows_diff({block: body[block] for block in blocks}, diff):
        body = {"customization blocks": blocks}  # cannot be the stored body: the difference is named
    return body


def _carried_oidc(change: Change, diff: dict) -> Step | None:
    target = ClusterTarget.of(change.cluster)
    if OPENID_CONNECT in diff:
        return oidc_step(target, diff[OPENID_CONNECT] or {}, exists=False)
    prefix = OPENID_CONNECT + "."
    fields = {key.removeprefix(prefix): after for key, after in diff.items() if key.startswith(prefix)}
    if not fields:
        return None
    body = _stored(change, StepKind.OIDC_UPDATE)
    if any(body.get(key) != value for key, value in fields.items()):
        body = {"openIdConnect fields": sorted(fields)}  # cannot be the stored body: the difference is named
    return oidc_step(target, body, exists=True)


def _carried_network(change: Change, diff: dict) -> list[Step]:
    """The network's in-place steps: the load balancers' subnet from the diff; the configuration as stored (what the
    file does not manage is carried as read), where it sets what the diff shows."""
    target = ClusterTarget.of(change.cluster)
    subnet = diff.get(f"{NETWORK}.loadBalancersSubnetId")
    shown = {name: diff[f"{NETWORK}.{name}"] for name in NETWORK_ROUTING if f"{NETWORK}.{name}" in diff}
    configuration = None
    if shown:
        configuration = dict(_stored(change, StepKind.NETWORK_CONFIGURATION))
        if any(configuration.get(NETWORK_ROUTING[name]) != value for name, value in shown.items()):
            configuration = {"privateNetwork fields": sorted(shown)}  # cannot be the stored body: the difference
    return network_steps(target, subnet, configuration)


def _carried_reset_body(change: Change, diff: dict) -> dict:
    body = dict(_stored(change, StepKind.RESET))
    body["name"] = change.cluster.name
    if "kubeProxyMode" in diff:
        body["kubeProxyMode"] = diff["kubeProxyMode"]
    for key, value in body_fields({path: after for path, after in diff.items() if is_network_path(path)}).items():
        stored = body.get(key)
        body[key] = stored | value if isinstance(stored, dict) and isinstance(value, dict) else value
    sent = body.get("customization")
    if not isinstance(sent, dict) or not _shows_diff(sent, diff):
        body["customization"] = "the entry's diff"
    return body


def _carried_restoration(change: Change, diff: dict) -> tuple[list | None, dict | None]:
    """What a reset entry puts back: the IP restrictions and OIDC read before it (kept as stored: they are live
    values, not in the diff) or, where the diff sets them, the diff's."""
    ranges = diff.get(IP_RESTRICTIONS, _stored(change, StepKind.IP_RESTRICTIONS).get("ips"))
    oidc = diff[OPENID_CONNECT] if OPENID_CONNECT in diff else _stored(change, StepKind.OIDC_CREATE)
    prefix = OPENID_CONNECT + "."
    fields = {key.removeprefix(prefix): after for key, after in diff.items() if key.startswith(prefix)}
    if fields:
        oidc = _stored(change, StepKind.OIDC_CREATE)
        if any(oidc.get(key) != after for key, after in fields.items()):
            oidc = {"openIdConnect fields": "the entry's diff"}
    return ranges, oidc


def _shows_diff(customization: dict, diff: dict) -> bool:
    """True when every customization change of the diff is what the body sets at that path."""
    flat: dict = {}
    for block, value in customization.items():
        if isinstance(value, dict):
            # As the diff shows them: the admission plugins as each plugin's effective state.
            flat |= {f"customization.{path}": after for path, after in shown(block, value).items()}
    wanted = {path: after for path, after in diff.items() if path.startswith("customization.") and path.count(".") > 1}
    return all(flat.get(path) == after for path, after in wanted.items())


def _request_difference(stored: list[dict], made: list[dict]) -> str:
    if len(stored) != len(made):
        return f"{len(stored)} request(s) where it makes {len(made)}"
    for got, wanted in zip(stored, made, strict=True):
        for key in ("kind", "method"):
            if got[key] != wanted[key]:
                return f"{key} {quoted(got[key], SHORT)} where it makes {quoted(wanted[key], SHORT)}"
        if got["path"] != wanted["path"]:
            ours, theirs = parted_paths(got["path"], wanted["path"])
            return f"path {quoted(ours, 100)} where it makes {quoted(theirs, 100)}"
        got_body, wanted_body = got["body"] or {}, wanted["body"] or {}
        for key in sorted(set(got_body) | set(wanted_body)):
            if got_body.get(key) != wanted_body.get(key):
                got_value, wanted_value = quoted(got_body.get(key), SHORT), quoted(wanted_body.get(key), SHORT)
                return f"body.{key} is {got_value} where the entry makes {wanted_value}"
    return "they differ"


def _body_rules(change: Change, step: Step) -> list[str]:
    """The body, as a desired-state document, through the rules of `validate` (schema, then meaning)."""
    from reconciler.files.load import Document
    from reconciler.files.validate import meaning_problems_of, schema_problems_of

    body, ref = step.body or {}, change.cluster
    spec: dict = {"project": ref.project}
    setting = control_plane_spec(step)
    if setting is not None:
        spec |= setting
    elif step.kind in POOL_KINDS:
        pool = {key: value for key, value in body.items() if key != "name"}
        spec["nodePools"] = {"pool": pool} if step.kind is not StepKind.POOL_DELETE else {}
    elif step.kind is StepKind.PUT_CUSTOMIZATION:
        spec["customization"] = _written_blocks(body)
    else:
        fields = ("region", "version", "kubeProxyMode", "updatePolicy", "customization")
        spec |= {key: body[key] for key in fields if key in body}
        spec |= spec_fields(body)
        if isinstance(spec.get("customization"), dict):
            spec["customization"] = _written_blocks(spec["customization"])
        pools = body.get("nodepools")
        if step.kind is StepKind.CREATE and isinstance(pools, list):
            spec["nodePools"] = {
                f"pool{index}": {k: v for k, v in pool.items() if k != "name"} if isinstance(pool, dict) else pool
                for index, pool in enumerate(pools)
            }
        if "workerNodesPolicy" in body:
            spec["lifecycle"] = {"allowReset": True, "workerNodesPolicy": body["workerNodesPolicy"]}
        unknown = (
            set(body)
            - {"name", "workerNodesPolicy", *fields}
            - ({"nodepools"} if step.kind is StepKind.CREATE else set())
        )
        unknown -= set(KEPT_ON_RESET) if step.kind is StepKind.RESET else set()
        unknown -= {"plan", *KEPT_ON_RESET} if step.kind is StepKind.CREATE else set()
        if unknown:
            return [f"body fields ovhkube never sends: {', '.join(sorted(unknown))}"]
    data = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": ref.name}, "spec": spec}
    document = Document("plan", 0, 0, data)
    problems = [*schema_problems_of(document), *meaning_problems_of(document)]
    return [f"{problem.path}: {problem.message}" for problem in problems if problem.is_error]


def _written_blocks(customization: dict) -> dict:
    """The blocks a file can write, for its rules; another block (cilium) is a live value carried as read, which
    apply checks against the cluster (not_as_read)."""
    return {block: value for block, value in customization.items() if block in CUSTOMIZATION_BLOCKS}


# --- once connected: the plan against the live clusters ---


@dataclass(frozen=True)
class Staleness:
    changed: list[str]  # clusters the plan changes whose values it rests on moved since: the plan is stale
    unreadable: list[str]  # "name: reason" for clusters the plan changes that could not be read again
    moved: list[str]  # clusters the plan leaves alone that moved since: said after the apply, never a refusal


# The plan's id (read live, whether or not the file pins spec.id) now names no cluster, or one of another name: the
# cluster was deleted or renamed since the plan.
GONE = (ErrorReason.ID_NOT_FOUND, ErrorReason.ID_NAME_MISMATCH)


def stale_clusters(api: ApiClient, plan: Plan, parallelism: int) -> Staleness:
    """Re-read every cluster the plan fingerprinted. The plan is valid unless a cluster it changes moved in what its
    entry rests on (plan/staleness.py); a cluster it leaves alone that moved is only named."""
    checked = [change for change in plan.changes if change.live_fingerprint]
    view = read_live(api, [change.cluster for change in checked], parallelism)
    rests = {(c.cluster.project, c.cluster.name): rests_on(c.action, c.steps) for c in checked}
    # The fingerprint holds the separately read parts (IP restrictions, OIDC) the steps depend on: read the same.
    read_parts(api, view, {key: rest.parts for key, rest in rests.items()}, parallelism)
    # And the node pools, where the entry has pool steps (its fingerprint holds them then).
    pooled = [(c.cluster.project, c.cluster.name) for c in checked if any(s.kind in POOL_KINDS for s in c.steps)]
    add_node_pools(api, view, pooled, parallelism)
    changed: list[str] = []
    unreadable: list[str] = []
    moved: list[str] = []
    for change in checked:
        ref = change.cluster
        result = view.results[(ref.project, ref.name)]
        stale = changed if change.action in CHANGING else moved
        if change.action is Action.DELETE and (
            result.reason is ErrorReason.ID_NOT_FOUND or (result.found is None and not result.error)
        ):
            continue  # gone since the plan: what the entry asks for holds (apply says it was done elsewhere)
        if result.reason in GONE:  # the id the plan read is no longer a cluster of that name: a change, not a doubt
            stale.append(ref.name)
        elif result.error:
            if change.action in CHANGING:
                unreadable.append(f"{ref.name}: {result.error}")
        elif entry_fingerprint(ref.project, ref.name, result.found, rests[(ref.project, ref.name)]) != (
            change.live_fingerprint
        ):
            stale.append(ref.name)
    return Staleness(changed, unreadable, moved)


def refuse_if_stale(api: ApiClient, plan: Plan, parallelism: int) -> list[str]:
    """UserError unless every cluster the plan changes is still as its entry rests on; the names of the clusters it
    leaves alone that moved, to be said after the apply."""
    staleness = stale_clusters(api, plan, parallelism)
    if staleness.changed:
        names = ", ".join(staleness.changed)
        raise UserError(
            f"stale plan: {len(staleness.changed)} cluster(s) changed since the plan was made: {names}; "
            f"run plan again. Nothing was changed."
        )
    if staleness.unreadable:
        raise UserError(
            "cannot check that the plan is still valid: " + "; ".join(staleness.unreadable) + ". Nothing was changed."
        )
    return staleness.moved


# What an entry's steps carry that its diff does not show (a reset keeps settings, customization and puts back the
# IP restrictions and OIDC; a customization PUT sends every block, those it does not change as read; an OIDC PUT the
# whole configuration; upgrade steps are counted from the diff's `before`) are live values, which the offline check
# cannot vouch for. Apply can, right before the first write: the cluster's fingerprint has just matched, so it holds
# now what was read when planning, and each such value must equal it.
EDITED = "a hand-edited plan? nothing was sent"


def not_as_read(change: Change, live: LiveCluster) -> str | None:
    """Why the entry's steps carry what the cluster does not hold (None when they carry only the diff and it)."""
    start = next((entry.before for entry in change.diff if entry.path == "version"), None)
    have = major_minor(live.cluster.get("version", ""))
    if change.action is Action.UPGRADE and start is not None and major_minor(start) != have:
        return f"the plan upgrades from version {start}, but the cluster runs {have}: {EDITED}"
    wrong = _values_not_read(change, live)
    if wrong:
        return f"the plan would send values the cluster does not have ({', '.join(wrong)}): {EDITED}"
    return None


def _values_not_read(change: Change, live: LiveCluster) -> list[str]:
    have = major_minor(live.cluster.get("version", ""))
    diffed = [entry.path for entry in change.diff]

    def in_diff(path: str) -> bool:
        return any(path == d or path.startswith(d + ".") or d.startswith(path + ".") for d in diffed)

    resetting = change.action is Action.RESET
    routing = live.cluster.get("privateNetworkConfiguration") or {}  # NETWORK_CONFIGURATION, the TypedDict's key
    wrong: list[str] = []
    sent: dict[str, dict | None] = {IP_RESTRICTIONS: None, OPENID_CONNECT: None}
    for step in change.steps:
        body = step.body or {}
        if step.kind is StepKind.RESET:
            for key in KEPT_ON_RESET:
                if key == NETWORK_CONFIGURATION:
                    wrong += configuration_not_read(body.get(key) or {}, routing, in_diff)
                elif not in_diff(RESET_FIELD_PATHS.get(key, key)) and body.get(key) != live.cluster.get(key):
                    wrong.append(key)
            if not in_diff("version") and body.get("version") not in (None, have):
                wrong.append("version")
            wrong += _blocks_not_read(body.get("customization") or {}, live.customization or {}, in_diff)
        elif step.kind is StepKind.PUT_CUSTOMIZATION:
            wrong += _blocks_not_read(body, live.customization or {}, in_diff)
        elif step.kind is StepKind.RENAME and body.get("updatePolicy") != live.cluster.get("updatePolicy"):
            wrong.append("updatePolicy")
        elif step.kind is StepKind.NETWORK_CONFIGURATION:
            wrong += configuration_not_read(body, routing, in_diff)
        elif step.kind in PART_OF_KIND and step.kind is not StepKind.OIDC_DELETE:
            sent[PART_OF_KIND[step.kind]] = body
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


def _blocks_not_read(sent: dict, held: dict, in_diff: Callable[[str], bool]) -> list[str]:
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
