"""What an apply did, cluster by cluster: plain values the command renders as a table or as JSON."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.apply.lock import HeldLock
from reconciler.plan.data import Action, Change


class Result(StrEnum):
    """What apply did to one cluster; the JSON strings (the report's `result`, its summary's keys) are the values."""

    DONE = "done"  # sent, READY and verified (or sent, with --no-wait)
    FAILED = "failed"  # see the reason
    SKIPPED = "skipped"  # nothing was sent (Ctrl-C came first)
    INTERRUPTED = "interrupted"  # something was sent but Ctrl-C stopped the wait, so it is not verified
    UNCHANGED = "unchanged"  # noop
    # the fresh read before a reset or create found it done by someone else: nothing sent, verified
    DONE_ELSEWHERE = "done_elsewhere"
    NOT_STARTED = "not_started"  # a rollout stopped (a cluster of its wave or an earlier one failed) before its wave
    DEFERRED = "deferred"  # disruptive, and its maintenance window is closed when its turn comes: nothing sent


SUCCEEDED = frozenset({Result.DONE, Result.UNCHANGED, Result.DONE_ELSEWHERE, Result.DEFERRED})


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 10  # requests on the wire at once (the request budget holds them to it)
    # Clusters under way at once, their waits for READY included: each holds a thread, cheap while it waits (starting
    # one costs more with thousands alive). 1 changes the clusters one after the other.
    clusters_at_once: int = 1000
    timeout: float = 1800.0  # seconds each wait for READY may take before that cluster fails
    wait: bool = True  # False (--no-wait): send the requests, neither wait for READY nor verify
    lock: HeldLock | None = None  # the apply lock, checked before every write (None: no lock, as in unit tests)


@dataclass
class RequestRecord:
    """One request of the plan as sent, and what came back (the answer, or the error)."""

    method: str
    path: str
    body: Any = None
    answer: Any = None
    error: dict | None = None  # {"status", "class", "message"}

    def to_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "body": self.body, "answer": self.answer, "error": self.error}


@dataclass
class ClusterOutcome:
    change: Change
    result: Result
    reason: str | None = None
    duration: float = 0.0
    cluster_id: str | None = None  # the id after the apply (a created cluster's new id)
    requests: list[RequestRecord] = field(default_factory=list)
    verified: bool = False
    mismatches: list[dict] = field(default_factory=list)  # diff entries not live after the apply
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        cluster = self.change.cluster.to_dict() | {"id": self.cluster_id or self.change.cluster.id}
        return {
            "cluster": cluster,
            "action": self.change.action,
            "result": self.result,
            "reason": self.reason,
            "duration_seconds": round(self.duration, 3),
            "verified": self.verified,
            "mismatches": self.mismatches,
            "notes": self.notes,
            "requests": [record.to_dict() for record in self.requests],
        }


@dataclass
class ApplyReport:
    outcomes: list[ClusterOutcome]
    endpoint: str
    interrupted: bool = False
    terminated: bool = False  # interrupted by SIGTERM (exit 143), not Ctrl-C (130)
    waited: bool = True
    lock_lost: str | None = None  # the lock was lost mid-apply: what went out before, and that nothing went after
    rollout: str | None = None  # the name of the rollout whose waves this apply went through
    rollout_stopped: str | None = None  # why that rollout stopped (None: it went through, or none)
    rollout_waits: str | None = None  # why its later waves wait (changes deferred to their maintenance window)

    def count(self, result: Result, action: Action | None = None) -> int:
        return sum(1 for o in self.outcomes if o.result is result and action in (None, o.change.action))

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.result in SUCCEEDED for o in self.outcomes)

    @property
    def summary(self) -> dict:
        return {
            "created": self.count(Result.DONE, Action.CREATE),
            "updated": self.count(Result.DONE, Action.UPDATE),
            "upgraded": self.count(Result.DONE, Action.UPGRADE),
            "reset": self.count(Result.DONE, Action.RESET),
            "deleted": self.count(Result.DONE, Action.DELETE),
            "unchanged": self.count(Result.UNCHANGED),
            "failed": self.count(Result.FAILED),
            "not_planned": self.count(Result.FAILED, Action.ERROR),  # error entries, applied around with --skip-errors
            "skipped": self.count(Result.SKIPPED),
            "interrupted": self.count(Result.INTERRUPTED),
            "done_elsewhere": self.count(Result.DONE_ELSEWHERE),
            "not_started": self.count(Result.NOT_STARTED),
            "deferred": self.count(Result.DEFERRED),
        }

    def to_dict(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "interrupted": self.interrupted,
            "terminated": self.terminated,
            "waited_and_verified": self.waited,
            "lock_lost": self.lock_lost,
            "summary": self.summary,
            "rollout": None
            if self.rollout is None
            else {
                "name": self.rollout,
                "stopped": self.rollout_stopped is not None,
                "reason": self.rollout_stopped,
                "waits": self.rollout_waits,
            },
            "clusters": [outcome.to_dict() for outcome in self.outcomes],
        }
