"""The plan: a plain, serialisable value. `apply` executes exactly what it says and re-derives nothing."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler import __version__
from reconciler.escape import quoted
from reconciler.indented_json import indented
from reconciler.model import ClusterRef, DefaultsRef, ErrorReason, RolloutSpec, WaveSpec
from reconciler.plan.diff import FieldChange
from reconciler.steps import POOL_KINDS, ClusterTarget, PoolTarget, Step, StepKind, Target
from reconciler.windows import MaintenanceWindow, parse_utc, window_problem

if TYPE_CHECKING:  # the policy modules load only for a plan checked by policies, or read back holding a check
    from reconciler.policy.check import PolicyCheck

# Changes whenever a reader of the plan JSON must change; schemas/plan.schema.json describes exactly this format.
FORMAT_VERSION = "11"
SHORT = 40  # characters of a saved plan's value quoted in a message


class Action(StrEnum):
    """What apply does to one cluster; the JSON strings are the values."""

    CREATE = "create"
    UPDATE = "update"
    UPGRADE = "upgrade"  # an update that holds version upgrades: shown and counted apart, like a reset
    RESET = "reset"
    DELETE = "delete"  # spec.delete: true and allowDelete: the cluster is deleted; shown and counted like a reset
    NOOP = "noop"
    ERROR = "error"


ACTIONS = tuple(Action)
CHANGING = frozenset({Action.CREATE, Action.UPDATE, Action.UPGRADE, Action.RESET, Action.DELETE})


KnownValue = TypeVar("KnownValue", bound=StrEnum)


class PlanFileError(ValueError):
    """A saved plan that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Change:
    cluster: ClusterRef
    action: Action
    source: str
    diff: list[FieldChange] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)  # in the order apply sends them
    live_fingerprint: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    status: str | None = None  # the live status when planned (READY, UPDATING, ...); None when absent
    defaults: list[DefaultsRef] = field(default_factory=list)  # the ClusterDefaults documents that select it
    reason: ErrorReason | None = None  # set exactly when action is error
    # Live values past what the file asks for, kept as they are (spec.version is a floor): before = live, after = file.
    ahead: list[FieldChange] = field(default_factory=list)
    wave: str | None = None  # its wave in the plan's rollout (None: not ordered by one)
    labels: dict[str, str] = field(default_factory=dict)  # the cluster document's metadata.labels, for policies
    # A disruptive change of a cluster with a maintenance window carries the window: apply starts it only inside.
    maintenance_window: MaintenanceWindow | None = None
    deferred_until: str | None = None  # planned outside the window: when it next opens (UTC, as created_at)
    # The API server's allow-list as the file writes it, what apply makes live (None: not managed), for policies.
    ip_restrictions: tuple[str, ...] | None = None

    def with_fields(self, **fields: Any) -> "Change":
        """dataclasses.replace(self, **fields), for the planner, which finishes every change it makes this way:
        the fields copied as they are, with no walk over the class's fields and no __init__ (a frozen class sets
        each field through object.__setattr__), several times faster."""
        unknown = fields.keys() - self.__dataclass_fields__.keys()
        if unknown:
            raise TypeError(f"Change has no field {sorted(unknown)[0]}")
        copy = object.__new__(Change)
        vars(copy).update(vars(self), **fields)
        return copy

    @property
    def changed_by(self) -> set[str]:
        """Names of the ClusterDefaults whose values this change carries (none unless it changes something)."""
        if self.action not in CHANGING:
            return set()
        return {field_change.defaults for field_change in self.diff if field_change.defaults}

    def to_dict(self) -> dict:
        return {
            "cluster": self.cluster.to_dict(),
            "action": str(self.action),
            "reason": None if self.reason is None else str(self.reason),
            "source": self.source,
            "status": self.status,
            "diff": [change.to_dict() for change in self.diff],
            "requests": [step.to_dict() for step in self.steps],  # each as the reviewer reads it: method, path, body
            "live_fingerprint": self.live_fingerprint,
            "warnings": list(self.warnings),
            "error": self.error,
            "defaults": [ref.to_dict() for ref in self.defaults],
            "ahead": [entry.to_dict() for entry in self.ahead],
            "wave": self.wave,
            "labels": dict(self.labels),
            "maintenance_window": None if self.maintenance_window is None else self.maintenance_window.to_dict(),
            "deferred_until": self.deferred_until,
            "ip_restrictions": None if self.ip_restrictions is None else list(self.ip_restrictions),
        }


@dataclass(frozen=True)
class Connection:
    """Which connection a plan read some of its projects through: an Account document's name (None: the default
    connection, --endpoint and python-ovh's own credentials) and its endpoint as plans name it. Never a credential,
    nor the name of the variable holding one (a name may be a pasted secret)."""

    account: str | None
    endpoint: str
    projects: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"account": self.account, "endpoint": self.endpoint, "projects": list(self.projects)}


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    endpoint: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    tool_version: str = __version__
    # Made with Account documents: each account's connection and the plan's projects it serves (apply --plan sends
    # each project's requests through the same account, or refuses the plan). Empty: one connection, `endpoint`.
    accounts: tuple[Connection, ...] = ()
    rollout: RolloutSpec | None = None  # the order of the disruptive changes (reconciler/plan/waves.py)
    # What `plan --policy DIR` found: its input is this very plan with `policy` null (reconciler/policy/check.py).
    policy: "PolicyCheck | None" = None

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
        return any(change.action is Action.ERROR for change in self.changes)

    def to_dict(self) -> dict:
        return self._head() | {"changes": [change.to_dict() for change in self.changes]}

    def _head(self) -> dict:
        """Every key of to_dict but the changes, in its order."""
        accounts = {"accounts": [connection.to_dict() for connection in self.accounts]} if self.accounts else {}
        rollout = None if self.rollout is None else rollout_to_dict(self.rollout)
        return (
            {
                "format_version": FORMAT_VERSION,
                "tool_version": self.tool_version,
                "created_at": self.created_at,
                "endpoint": self.endpoint,
            }
            | accounts
            | {"summary": self.summary, "defaults": self.defaults_impact, "rollout": rollout}
            | {"policy": None if self.policy is None else self.policy.to_dict()}
        )

    def to_json(self) -> str:
        """to_dict() as indented JSON: json_parts() joined."""
        return "".join(self.json_parts())

    def json_parts(self) -> Iterator[str]:
        """to_json() a change at a time, made as it is written out: the whole plan never exists as one tree of dicts
        beside the plan, nor, written to a stream, as one text (at 10,000 clusters either is most of the plan's
        memory)."""
        head = self._head() | {"changes": []}  # the last key: its items go in place of the []
        text = indented(head)
        if not self.changes:
            yield text + "\n"
            return
        yield text.removesuffix("[]\n}") + "["
        last = len(self.changes) - 1
        for index, change in enumerate(self.changes):
            yield "\n    " + indented(change.to_dict(), 2) + ("," if index < last else "\n  ]\n}\n")


def plan_from_dict(data: dict) -> Plan:
    """Rebuild a plan from its JSON; raises PlanFileError naming what is wrong. Whether a saved plan may be applied
    (its version and format first) is reconciler.plan.planfile's to say."""
    made_by = data.get("tool_version", "unknown")
    try:
        changes = [
            Change(
                cluster=ClusterRef(**item["cluster"]),
                action=_known(Action, item["action"], "action"),
                reason=None if item.get("reason") is None else _known(ErrorReason, item["reason"], "reason"),
                source=item.get("source", ""),
                diff=[FieldChange.from_dict(entry) for entry in item.get("diff", [])],
                steps=[_step(r, item) for r in item.get("requests", [])],
                live_fingerprint=item.get("live_fingerprint"),
                warnings=list(item.get("warnings", [])),
                error=item.get("error"),
                status=item.get("status"),
                defaults=[DefaultsRef(ref["name"], ref["source"]) for ref in item.get("defaults", [])],
                ahead=[FieldChange.from_dict(entry) for entry in item.get("ahead", [])],
                wave=item.get("wave"),
                labels=dict(item.get("labels") or {}),
                maintenance_window=_window(item.get("maintenance_window")),
                deferred_until=_instant(item.get("deferred_until")),
                ip_restrictions=None if item.get("ip_restrictions") is None else tuple(item["ip_restrictions"]),
            )
            for item in data["changes"]
        ]
        accounts = tuple(
            Connection(entry["account"], entry["endpoint"], tuple(entry["projects"]))
            for entry in data.get("accounts") or []
        )
        rollout = None if data.get("rollout") is None else rollout_from_dict(data["rollout"])
        policy = None if data.get("policy") is None else _policy_check(data["policy"])
        return Plan(changes, data["endpoint"], data["created_at"], made_by, accounts, rollout, policy)
    except KeyError as exc:  # read_plan_file checks every field first: this is for other callers
        raise PlanFileError(f"malformed plan: missing field {quoted(exc.args[0], SHORT)}") from None
    except TypeError:
        raise PlanFileError("malformed plan: a field of the wrong type, or unknown") from None


def rollout_to_dict(rollout: RolloutSpec) -> dict:
    return {
        "name": rollout.name,
        "source": rollout.source,
        "changes": "all" if rollout.all_changes else "disruptive",
        "gate": {"timeout_seconds": rollout.gate_timeout, "api_server": rollout.gate_api_server},
        "waves": [
            {
                "name": wave.name,
                "source": wave.source,
                "max_in_flight": wave.max_in_flight,
                "pause_after_seconds": wave.pause_after,
            }
            for wave in rollout.waves
        ],
    }


def rollout_from_dict(data: dict) -> RolloutSpec:
    waves = tuple(
        WaveSpec(wave["name"], wave["max_in_flight"], float(wave["pause_after_seconds"]), wave["source"])
        for wave in data["waves"]
    )
    gate = data["gate"]
    return RolloutSpec(
        data["name"],
        data["source"],
        waves,
        all_changes=data["changes"] == "all",
        gate_timeout=float(gate["timeout_seconds"]),
        gate_api_server=bool(gate["api_server"]),
    )


def _instant(text: Any) -> str | None:
    if text is None:
        return None
    try:
        parse_utc(text)
    except (TypeError, ValueError, AttributeError):
        raise PlanFileError(f"malformed plan: deferred_until {quoted(text, SHORT)} is no UTC time") from None
    return text


def _policy_check(data: dict) -> "PolicyCheck":
    from reconciler.policy.check import PolicyCheck

    return PolicyCheck.from_dict(data)


def _window(data: Any) -> MaintenanceWindow | None:
    if data is None:
        return None
    window = MaintenanceWindow.from_dict(data)
    problem = window_problem(window)
    if problem:
        raise PlanFileError(f"malformed plan: maintenance_window: {problem}")
    return window


def _step(request: dict, item: dict) -> Step:
    """A step of a saved plan: its kind and body as stored, its target the entry's cluster. Whether its method and
    path are the stored ones is the saved-plan check's to say (reconciler.plan.planfile)."""
    cluster = item["cluster"]
    cluster_id = None if item["action"] == Action.CREATE else cluster.get("id")
    kind = _known(StepKind, request["kind"], "step kind")
    target: Target = ClusterTarget(cluster["project"], cluster_id)
    if kind in POOL_KINDS:
        target = PoolTarget(cluster["project"], cluster_id, request.get("pool"))
    return Step(kind, target, request.get("body"))


def _known(kind: type[KnownValue], value: Any, what: str) -> KnownValue:
    try:
        return kind(value)
    except ValueError:
        raise PlanFileError(f"malformed plan: unknown {what} {quoted(value, SHORT)}") from None
