"""Saved plans (`plan --out FILE`): read one, and check it whole before `apply --plan` sends anything.

A saved plan is reviewed as a whole, then travels (a CI artifact, a file on a runner) before it is applied, so it
is checked as untrusted input: made by this very ovhkube (format and tool version), every field of the right type
(with the line it is on), every entry that changes something fingerprinted (or the stale check would skip it), each
cluster once, ids of the right shape, every request rebuilt from its entry (the method and path from the cluster
and the action, the body from the entry's own diff) and equal to the stored one, and every body within the rules
`validate` applies to a file. One failure refuses the whole plan, naming the reasons; nothing is sent.
"""

import bisect
import json
import json.scanner
import re
from typing import Any

from reconciler.model import KEPT_ON_RESET, MANAGED_BLOCKS
from reconciler.plan.control_plane import (
    control_plane_spec,
    rebuilt_after_create,
    rebuilt_restoration,
    rebuilt_settings,
    stored_body,
)
from reconciler.plan.data import (
    ACTIONS,
    CHANGING,
    NEW_CLUSTER_ID,
    ErrorReason,
    Plan,
    PlanFileError,
    check_made_here,
    plan_from_dict,
    short_json,
)
from reconciler.plan.diff import changed_blocks
from reconciler.plan.normalize import shown

MAX_PLAN_BYTES = 64 * 1024 * 1024  # a plan of thousands of clusters is a few MB
MAX_NUMBER_CHARS = 100
SHOWN_REASONS = 5
FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}\Z")
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
}
CLUSTER_FIELDS = {"project": STRING, "name": STRING, "id": OPTIONAL_STRING, "region": OPTIONAL_STRING}
REQUEST_FIELDS = {"method": STRING, "path": STRING, "body": OPTIONAL_DICT}
DIFF_FIELDS = {"path": STRING, "before": ANY, "after": ANY}
DEFAULTS_FIELDS = {"name": STRING, "source": STRING}  # both required: each ClusterDefaults that selects the cluster
REQUIRED = {"format_version", "endpoint", "created_at", "action", "cluster", "project", "name", "method", "path"}


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
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key
        self.start: int | None = None


class _Decoder(json.JSONDecoder):
    """json, remembering where each object and list starts (for FILE:LINE), refusing NaN and Infinity."""

    def __init__(self, text: str):
        super().__init__(parse_constant=self._constant, parse_int=self._int, object_pairs_hook=self._unique)
        self.starts: dict[int, int] = {}
        self.text = text
        parse_object, parse_array = self.parse_object, self.parse_array  # type: ignore[has-type]

        def on_object(s_and_end, *args):
            try:
                value, end = parse_object(s_and_end, *args)
            except _DuplicateKey as exc:
                exc.start = exc.start if exc.start is not None else s_and_end[1] - 1  # the innermost object
                raise
            self.starts[id(value)] = s_and_end[1] - 1
            return value, end

        def on_array(s_and_end, scan_once):
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
    def _constant(name: str):
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
        twice = f"the object here holds the key {short_json(exc.key)} twice"
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
    def __init__(self, path: str, lines: dict[int, int]):
        self.path, self.lines = path, lines

    def __call__(self, container, field: str) -> str:
        line = self.lines.get(id(container))
        return f"{self.path}:{line}: {field}" if line else f"{self.path}: {field}"


def _check_shape(data, where: _Locator) -> None:
    """Every field the apply reads, of the type it expects; the first misfit is named with its line."""
    try:
        check_made_here(data)  # first: another version's plan has other fields
    except PlanFileError as exc:
        raise PlanFileError(f"{where.path}: {exc}") from None
    _fields(data, PLAN_FIELDS, "", where)
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
            field = short_json(unknown[0])
            raise PlanFileError(f"{where(change['cluster'], name + '.cluster')}: unknown field {field}")
        for key, known in (("action", ACTIONS), ("reason", (None, *ErrorReason))):
            if key in change and change[key] not in known:
                raise PlanFileError(f"{where(change, f'{name}.{key}')}: unknown {key} {short_json(change[key])}")
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
        warnings = change.get("warnings") or []
        if not all(isinstance(warning, str) for warning in warnings):
            raise PlanFileError(f"{where(warnings, name + '.warnings')}: must be a list of strings")


def _fields(item: dict, fields: dict[str, str], prefix: str, where: _Locator, required=REQUIRED) -> None:
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
            raise PlanFileError(f"{where(item, prefix + key)}: must be {kind}, not {short_json(value)}")


def integrity_problems(plan: Plan, data: dict, where: _Locator) -> list[str]:
    """What makes the plan other than what `plan --out` writes: every reason, each naming its entry."""
    reasons = []
    stored = data.get("summary")
    if stored is not None and stored != plan.summary:
        reasons.append(f"its summary {short_json(stored)} does not count its entries {short_json(plan.summary)}")
    seen: dict[tuple, int] = {}
    for index, (change, item) in enumerate(zip(plan.changes, data["changes"], strict=True)):
        ref = change.cluster
        label = where(item, f"changes[{index}] ({short_json(ref.name)})")
        for key in ((ref.project, ref.name), ("id", ref.project, ref.id) if ref.id else None):
            if key is not None and key in seen:
                reasons.append(f"{label}: the same cluster as changes[{seen[key]}]: a cluster is planned once")
            elif key is not None:
                seen[key] = index
        reasons.extend(f"{label}: {reason}" for reason in _entry_problems(change))
    return reasons


def _entry_problems(change) -> list[str]:
    ref, action = change.cluster, change.action
    if action not in ACTIONS:
        return [f"unknown action {short_json(action)}"]
    reasons = []
    if not PROJECT_ID.match(ref.project):
        reasons.append(f"cluster.project {short_json(ref.project)} is not a project id (32 hexadecimal characters)")
    if ref.id is not None and not CLUSTER_ID.match(ref.id):
        reasons.append(f"cluster.id {short_json(ref.id)} is not a cluster id (a UUID)")
    if action in CHANGING and not FINGERPRINT.match(change.live_fingerprint or ""):
        reasons.append(f"a {action} without a live_fingerprint (sha256:...) cannot be checked against the live state")
    if action == "create" and ref.id is not None:
        reasons.append("a create names an existing cluster id")
    if action in ("update", "upgrade", "reset") and ref.id is None:
        reasons.append(f"an {action} without the cluster's id")
    if reasons:
        return reasons
    stored = [request.to_dict() for request in change.requests]
    rebuilt = rebuilt_requests(change)
    if stored != rebuilt:
        return [f"its requests are not the ones its {action} entry makes ({_request_difference(stored, rebuilt)})"]
    return [
        f"{request['method']} {request['path']}: {problem}"
        for request in stored
        for problem in _body_rules(change, request)
    ]


def rebuilt_requests(change) -> list[dict]:
    """The requests an entry makes: method and path from its cluster and action; the body from the stored one, but
    only where the entry's own diff says so (a value the diff does not show makes the two differ)."""
    ref, action = change.cluster, change.action
    base = f"/cloud/project/{ref.project}/kube"
    diff = {entry.path: entry.after for entry in change.diff}
    if action in ("update", "upgrade"):
        first, after = rebuilt_settings(change, f"{base}/{ref.id}")
        return first + _rebuilt_customization(change, f"{base}/{ref.id}", diff) + after
    stored = change.requests[0].body if change.requests and isinstance(change.requests[0].body, dict) else {}
    if action == "create":
        body = {"name": ref.name, "region": ref.region}
        body |= {key: diff[key] for key in ("version", "kubeProxyMode", "updatePolicy") if diff.get(key) is not None}
        customization = {path.split(".")[1]: after for path, after in diff.items() if path.count(".") == 1}
        if customization:
            body["customization"] = {block: customization[block] for block in sorted(customization)}
        return [{"method": "POST", "path": base, "body": body}] + rebuilt_after_create(diff, f"{base}/{NEW_CLUSTER_ID}")
    if action == "reset":
        body = dict(stored)
        body["name"] = ref.name
        if "kubeProxyMode" in diff:
            body["kubeProxyMode"] = diff["kubeProxyMode"]
        sent = body.get("customization")
        if not isinstance(sent, dict) or not _shows_diff(sent, diff):
            body["customization"] = "the entry's diff"
        reset = {"method": "POST", "path": f"{base}/{ref.id}/reset", "body": body}
        return [reset] + rebuilt_restoration(change, f"{base}/{ref.id}")
    return []  # noop and error entries send nothing


def _rebuilt_customization(change, path: str, diff: dict) -> list[dict]:
    blocks = changed_blocks(change.diff)
    if not blocks:
        return []
    # The blocks of the diff must show it; the others are carried as read, checked by apply (apply/carried.py).
    body = dict(stored_body(change, f"{path}/customization", "PUT"))
    if any(block not in body for block in blocks) or not _shows_diff({block: body[block] for block in blocks}, diff):
        body = {"customization blocks": blocks}  # cannot be the stored body: the difference is named
    return [{"method": "PUT", "path": f"{path}/customization", "body": body}]


def _shows_diff(customization: dict, diff: dict) -> bool:
    """True when every customization change of the diff is what the body sets at that path."""
    flat: dict = {}
    for block, value in customization.items():
        if isinstance(value, dict):
            # As the diff shows them: the admission plugins as each plugin's effective state.
            flat |= {f"customization.{path}": after for path, after in shown(block, value).items()}
    wanted = {path: after for path, after in diff.items() if path.startswith("customization.") and path.count(".") > 1}
    return all(flat.get(path) == after for path, after in wanted.items())


def _request_difference(stored: list[dict], rebuilt: list[dict]) -> str:
    if len(stored) != len(rebuilt):
        return f"{len(stored)} request(s) where it makes {len(rebuilt)}"
    for got, wanted in zip(stored, rebuilt, strict=True):
        if got["method"] != wanted["method"]:
            return f"method {short_json(got['method'])} where it makes {short_json(wanted['method'])}"
        if got["path"] != wanted["path"]:
            ours, theirs = _from_difference(got["path"], wanted["path"])
            return f"path {ours} where it makes {theirs}"
        got_body, wanted_body = got["body"] or {}, wanted["body"] or {}
        for key in sorted(set(got_body) | set(wanted_body)):
            if got_body.get(key) != wanted_body.get(key):
                got_value, wanted_value = short_json(got_body.get(key)), short_json(wanted_body.get(key))
                return f"body.{key} is {got_value} where the entry makes {wanted_value}"
    return "they differ"


def _from_difference(got: str, wanted: str) -> tuple[str, str]:
    """Two paths from the segment where they part (the project id, the placeholder or the suffix), each quoted and
    short enough to read: cut at 40 characters, the place that differs would not show."""
    common = 0
    for ours, theirs in zip(got.split("/"), wanted.split("/"), strict=False):
        if ours != theirs:
            break
        common += len(ours) + 1
    lead = ".../" if common > 1 else ""

    start = common if lead else 0
    return short_json(lead + got[start:], limit=100), short_json(lead + wanted[start:], limit=100)


def _body_rules(change, request: dict) -> list[str]:
    """The body, as a desired-state document, through the rules of `validate` (schema, then meaning)."""
    from reconciler.files.load import Document
    from reconciler.files.validate import meaning_problems_of, schema_problems_of

    body, ref = request["body"] or {}, change.cluster
    spec: dict = {"project": ref.project}
    setting = control_plane_spec(request)
    if setting is not None:
        spec |= setting
    elif change.action in ("update", "upgrade"):
        spec["customization"] = _written_blocks(body)
    else:
        fields = ("region", "version", "kubeProxyMode", "updatePolicy", "customization")
        spec |= {key: body[key] for key in fields if key in body}
        if isinstance(spec.get("customization"), dict):
            spec["customization"] = _written_blocks(spec["customization"])
        if "workerNodesPolicy" in body:
            spec["lifecycle"] = {"allowReset": True, "workerNodesPolicy": body["workerNodesPolicy"]}
        unknown = set(body) - {"name", "workerNodesPolicy", *fields}
        unknown -= set(KEPT_ON_RESET) if change.action == "reset" else set()
        if unknown:
            return [f"body fields ovhkube never sends: {', '.join(sorted(unknown))}"]
    data = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": ref.name}, "spec": spec}
    document = Document("plan", 0, 0, data)
    problems = [*schema_problems_of(document), *meaning_problems_of(document)]
    return [f"{problem.path}: {problem.message}" for problem in problems if problem.is_error]


def _written_blocks(customization: dict) -> dict:
    """The blocks a file can write, for its rules; another block (cilium) is a live value carried as read, which
    apply checks against the cluster (apply/carried.py)."""
    return {block: value for block, value in customization.items() if block in MANAGED_BLOCKS}
