"""The plan: a plain, serialisable value. `apply` executes exactly what it says and re-derives nothing."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reconciler import __version__
from reconciler.model import DefaultsRef
from reconciler.plan.diff import FieldChange

FORMAT_VERSION = "1"
ACTIONS = ("create", "update", "reset", "noop", "error")
CHANGING = ("create", "update", "reset")


class PlanFileError(ValueError):
    """A saved plan that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict | None = None

    def to_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclass(frozen=True)
class ClusterRef:
    project: str
    name: str
    id: str | None = None
    region: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.project[:8]}…/{self.id or 'new'})"

    def to_dict(self) -> dict:
        return {"project": self.project, "name": self.name, "id": self.id, "region": self.region}


@dataclass(frozen=True)
class Change:
    cluster: ClusterRef
    action: str
    source: str
    diff: list[FieldChange] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    live_fingerprint: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    status: str | None = None  # the live status when planned (READY, UPDATING, ...); None when absent
    defaults: list[DefaultsRef] = field(default_factory=list)  # the ClusterDefaults documents that select it

    @property
    def changed_by(self) -> set[str]:
        """Names of the ClusterDefaults whose values this change carries (none unless it changes something)."""
        if self.action not in CHANGING:
            return set()
        return {field_change.defaults for field_change in self.diff if field_change.defaults}

    def to_dict(self) -> dict:
        return {
            "cluster": self.cluster.to_dict(),
            "action": self.action,
            "source": self.source,
            "status": self.status,
            "diff": [change.to_dict() for change in self.diff],
            "requests": [request.to_dict() for request in self.requests],
            "live_fingerprint": self.live_fingerprint,
            "warnings": list(self.warnings),
            "error": self.error,
            "defaults": [ref.to_dict() for ref in self.defaults],
        }


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    endpoint: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    tool_version: str = __version__

    @property
    def summary(self) -> dict:
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(change.action in CHANGING for change in self.changes)

    @property
    def defaults_impact(self) -> list[dict]:
        """The blast radius of each ClusterDefaults document: how many planned clusters it selects and how many
        of them change because of a value it writes, in the order first met."""
        impact: dict[str, dict] = {}
        for change in self.changes:
            for ref in change.defaults:
                entry = impact.setdefault(ref.name, {**ref.to_dict(), "selected": 0, "changed": 0})
                entry["selected"] += 1
                entry["changed"] += ref.name in change.changed_by
        return list(impact.values())

    @property
    def has_errors(self) -> bool:
        return any(change.action == "error" for change in self.changes)

    def to_dict(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "endpoint": self.endpoint,
            "summary": self.summary,
            "defaults": self.defaults_impact,
            "changes": [change.to_dict() for change in self.changes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def plan_from_dict(data: dict) -> Plan:
    """Rebuild a saved plan; raises PlanFileError naming what is wrong."""
    if not isinstance(data, dict):
        raise PlanFileError("not a plan: the file holds no JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(f"unsupported plan format_version {version!r} (this ovhkube reads {FORMAT_VERSION!r})")
    try:
        changes = [
            Change(
                cluster=ClusterRef(**item["cluster"]),
                action=_known_action(item["action"]),
                source=item.get("source", ""),
                diff=[FieldChange.from_dict(entry) for entry in item.get("diff", [])],
                requests=[Request(r["method"], r["path"], r.get("body")) for r in item.get("requests", [])],
                live_fingerprint=item.get("live_fingerprint"),
                warnings=list(item.get("warnings", [])),
                error=item.get("error"),
                status=item.get("status"),
                defaults=[DefaultsRef(ref["name"], ref["source"]) for ref in item.get("defaults", [])],
            )
            for item in data["changes"]
        ]
        return Plan(changes, data["endpoint"], data["created_at"], data.get("tool_version", "unknown"))
    except (KeyError, TypeError) as exc:
        raise PlanFileError(f"malformed plan: missing or wrong field {exc}") from None


def _known_action(action: str) -> str:
    if action not in ACTIONS:
        raise PlanFileError(f"malformed plan: unknown action {action!r}")
    return action


def read_plan_file(path: str) -> Plan:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"{path} is not a plan file: invalid JSON ({exc})") from None
    return plan_from_dict(data)
